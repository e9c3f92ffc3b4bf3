package audit

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Filter selects entries for List and Export. Zero fields match everything. The seq
// conditions match sealed entries only.
type Filter struct {
	Actor      string // "user:42" matches "user:42 fiona@example.com"; the whole actor string matches too
	ActorID    *int64
	ObjectType string
	ObjectID   string
	Action     string     // exact, or a prefix ending in "*": "case.*"
	From, To   *time.Time // From inclusive, To exclusive
	AfterSeq   int64      // only seq > AfterSeq (Export resumes here)
	BeforeSeq  int64      // only seq < BeforeSeq
	BeforeID   int64      // only id < BeforeID (List's next, older, page)
	Limit      int        // Export: 0 is no limit; List: 0 is 50, at most 1000
}

// apply adds every condition except AfterSeq, which the keyset loops own.
func (f Filter) apply(q *gorm.DB) *gorm.DB {
	if f.Actor != "" {
		q = q.Where("(actor = ? OR split_part(actor, ' ', 1) = ?)", f.Actor, f.Actor)
	}
	if f.ActorID != nil {
		q = q.Where("actor_id = ?", *f.ActorID)
	}
	if f.ObjectType != "" {
		q = q.Where("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		q = q.Where("object_id = ?", f.ObjectID)
	}
	if prefix, ok := strings.CutSuffix(f.Action, "*"); ok {
		q = q.Where("starts_with(action, ?)", prefix)
	} else if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.From != nil {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("at < ?", f.To.UTC())
	}
	if f.BeforeSeq > 0 {
		q = q.Where("seq < ?", f.BeforeSeq)
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	return q
}

// row is one audit_log row as selected by rowColumns. Seq is 0 while unsealed.
type row struct {
	ID         int64         `gorm:"column:id"`
	Seq        sql.NullInt64 `gorm:"column:seq"`
	At         time.Time     `gorm:"column:at"`
	Actor      string        `gorm:"column:actor"`
	ActorID    *int64        `gorm:"column:actor_id"`
	Action     string        `gorm:"column:action"`
	ObjectType string        `gorm:"column:object_type"`
	ObjectID   string        `gorm:"column:object_id"`
	Outcome    string        `gorm:"column:outcome"`
	Summary    string        `gorm:"column:summary"`
	RequestID  string        `gorm:"column:request_id"`
	IP         string        `gorm:"column:ip"`
	UserAgent  string        `gorm:"column:user_agent"`
	PrevHash   []byte        `gorm:"column:prev_hash"`
	Hash       []byte        `gorm:"column:hash"`
}

const rowColumns = "id, seq, at, actor, actor_id, action, object_type, object_id, outcome, " +
	"summary::text AS summary, request_id, ip, user_agent, prev_hash, hash"

func (r *row) record() (Record, error) {
	summary, err := decodeSummary(r.Summary)
	if err != nil {
		return Record{}, fmt.Errorf("id %d: summary: %w", r.ID, err)
	}
	return Record{
		ID: r.ID, Seq: r.Seq.Int64, At: r.At.UTC(), PrevHash: r.PrevHash, Hash: r.Hash,
		Entry: Entry{
			Actor: r.Actor, ActorID: r.ActorID, Action: r.Action,
			ObjectType: r.ObjectType, ObjectID: r.ObjectID, Outcome: r.Outcome, Summary: summary,
			RequestID: r.RequestID, IP: r.IP, UserAgent: r.UserAgent,
		},
	}, nil
}

func selectRows(ctx context.Context, db *gorm.DB) *gorm.DB {
	return db.WithContext(ctx).Table("audit_log").Select(rowColumns)
}

// scanSeq calls fn for each sealed entry matching f in ascending seq order, reading
// batchSize rows per query (keyset on seq), so memory stays flat on any chain length.
func scanSeq(ctx context.Context, db *gorm.DB, f Filter, fn func(*Record) error) error {
	after, left := f.AfterSeq, f.Limit
	for {
		n := batchSize
		if f.Limit > 0 && left < n {
			n = left
		}
		var rows []row
		err := f.apply(selectRows(ctx, db)).Where("seq > ?", after).Order("seq").Limit(n).Find(&rows).Error
		if err != nil {
			return err
		}
		for i := range rows {
			rec, err := rows[i].record()
			if err != nil {
				return err
			}
			if err := fn(&rec); err != nil {
				return err
			}
		}
		left -= len(rows)
		if len(rows) < n || (f.Limit > 0 && left <= 0) {
			return nil
		}
		after = rows[len(rows)-1].Seq.Int64
	}
}

// List returns one page of entries for the audit page and the case timeline, sealed
// and unsealed, newest (highest id) first; an unsealed entry has Seq 0. For the next
// (older) page pass the last ID returned as BeforeID.
func List(ctx context.Context, db *gorm.DB, f Filter) ([]Record, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	q := f.apply(selectRows(ctx, db))
	if f.AfterSeq > 0 {
		q = q.Where("seq > ?", f.AfterSeq)
	}
	var rows []row
	if err := q.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	out := make([]Record, 0, len(rows))
	for i := range rows {
		rec, err := rows[i].record()
		if err != nil {
			return nil, fmt.Errorf("audit: list: %w", err)
		}
		out = append(out, rec)
	}
	return out, nil
}
