package vault

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/redact"
)

// InsertStatement returns one statement that keeps the restricted findings of
// call callID (cards and other kinds are skipped), ignoring values the call
// already has, for the caller to run in the transaction that stores the call.
// It returns an empty statement when there is nothing to keep.
func (k *Keyring) InsertStatement(callID int64, found []redact.Finding) (string, []any, error) {
	var b strings.Builder
	var args []any
	for _, f := range found {
		if !f.Kind.Restricted() || f.Value == "" {
			continue
		}
		keyID, nonce, sealed, err := k.seal(callID, string(f.Kind), f.Value)
		if err != nil {
			return "", nil, err
		}
		if b.Len() == 0 {
			b.WriteString("INSERT INTO vault_entries (call_id, kind, key_id, nonce, sealed, fingerprint) VALUES ")
		} else {
			b.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6)
		args = append(args, callID, string(f.Kind), keyID, nonce, sealed, k.fingerprint(string(f.Kind), f.Value))
	}
	if b.Len() == 0 {
		return "", nil, nil
	}
	b.WriteString(" ON CONFLICT (call_id, fingerprint) DO NOTHING")
	return b.String(), args, nil
}

// Entry is one kept value of a call. Value is empty unless revealed.
type Entry struct {
	Ref   string // "vat-12": stable, the kind and the entry id
	Kind  string
	Value string
}

type row struct {
	ID     int64  `gorm:"column:id"`
	Kind   string `gorm:"column:kind"`
	KeyID  string `gorm:"column:key_id"`
	Nonce  []byte `gorm:"column:nonce"`
	Sealed []byte `gorm:"column:sealed"`
}

func load(ctx context.Context, db *gorm.DB, callID int64) ([]row, error) {
	var rows []row
	err := db.WithContext(ctx).Raw(`SELECT id, kind, key_id, nonce, sealed FROM vault_entries WHERE call_id = ? ORDER BY id`, callID).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("vault: entries of call %d: %w", callID, err)
	}
	return rows, nil
}

// Refs lists a call's kept values by ref and kind, without values: what a page
// may show before a reveal.
func Refs(ctx context.Context, db *gorm.DB, callID int64) ([]Entry, error) {
	rows, err := load(ctx, db, callID)
	out := make([]Entry, 0, len(rows))
	for _, r := range rows {
		out = append(out, Entry{Ref: r.Kind + "-" + strconv.FormatInt(r.ID, 10), Kind: r.Kind})
	}
	return out, err
}

// Open returns a call's kept values with their originals. Only a reveal that
// has been authorised and is being audited in the same transaction calls it.
func (k *Keyring) Open(ctx context.Context, db *gorm.DB, callID int64) ([]Entry, error) {
	rows, err := load(ctx, db, callID)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(rows))
	for _, r := range rows {
		v, err := k.open(callID, r.Kind, r.KeyID, r.Nonce, r.Sealed)
		if err != nil {
			return nil, fmt.Errorf("vault: entry %d of call %d: %w", r.ID, callID, err)
		}
		out = append(out, Entry{Ref: r.Kind + "-" + strconv.FormatInt(r.ID, 10), Kind: r.Kind, Value: v})
	}
	return out, nil
}

// DeleteForPartitionSQL deletes the entries of every call in the calls
// partition named by the quoted identifier; retention runs it before it
// drops the partition, in the same transaction.
func DeleteForPartitionSQL(quotedPartition string) string {
	return "DELETE FROM vault_entries v USING " + quotedPartition + " c WHERE v.call_id = c.id"
}
