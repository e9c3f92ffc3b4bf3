package console

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/money"
)

// ExportHeader is the first CSV line.
var ExportHeader = []string{"id", "kind", "status", "urgency", "vip", "confidence", "amount", "currency",
	"customer", "destination_ref", "assignee", "follow_up_deadline", "received_at", "tags", "reviewed", "next_step"}

// Export writes every case of queue sc matching f as CSV to w, streaming rows as they
// are read; flush (may be nil) is called every 200 rows. The export is audited before
// the first row is written (one entry, object "queue"), so an interrupted download is
// still on record.
func Export(ctx context.Context, db *gorm.DB, p *auth.Principal, sc Scope, f Filter, w io.Writer, flush func()) (int, error) {
	query := f.Values().Encode()
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		e := Entry(ctx, p, "queue.exported", 0, map[string]any{"queue": sc.Queue, "filter": query})
		e.ObjectType, e.ObjectID = "queue", sc.Queue
		_, err := audit.Append(ctx, tx, e)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("console: audit export: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(ExportHeader); err != nil {
		return 0, err
	}
	n := 0
	err = EachRow(ctx, db, sc, f, func(r Row) error {
		n++
		if err := cw.Write(csvRecord(r)); err != nil {
			return err
		}
		if n%200 == 0 {
			cw.Flush()
			if flush != nil {
				flush()
			}
		}
		return cw.Error()
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return n, err
}

func csvRecord(r Row) []string {
	amount := ""
	if r.AmountMinor != nil {
		amount = money.Amount{Minor: *r.AmountMinor, Currency: r.Currency}.Major()
	}
	deadline := ""
	if r.Deadline != nil {
		deadline = r.Deadline.UTC().Format(time.RFC3339)
	}
	rec := []string{strconv.FormatInt(r.ID, 10), r.Kind, r.Status, strconv.Itoa(r.Urgency),
		strconv.FormatBool(r.VIP), strconv.FormatFloat(r.Confidence, 'f', 2, 64), amount, r.Currency,
		r.CustomerLabel, r.DestinationRef, r.AssigneeName, deadline, r.CreatedAt.UTC().Format(time.RFC3339),
		strings.Join(r.Tags(), " "), strconv.FormatBool(r.Reviewed), r.NextStep}
	for i := range rec {
		rec[i] = CSVSafe(rec[i])
	}
	return rec
}

// CSVSafe defuses spreadsheet formula injection: a cell starting with = + - @ (or a
// tab or carriage return, which some spreadsheets skip before one) gets a leading
// apostrophe so it is shown as text, never evaluated.
func CSVSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
