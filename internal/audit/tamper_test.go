package audit_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
)

// tamper runs stmts as the table owner with the append-only triggers disabled, the way
// an attacker holding the owner's credentials would.
func tamper(t *testing.T, db *gorm.DB, stmts ...func(tx *gorm.DB) error) {
	t.Helper()
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("ALTER TABLE audit_log DISABLE TRIGGER ALL").Error; err != nil {
			return err
		}
		for _, s := range stmts {
			if err := s(tx); err != nil {
				return err
			}
		}
		return tx.Exec("ALTER TABLE audit_log ENABLE TRIGGER ALL").Error
	})
	if err != nil {
		t.Fatalf("tamper: %v", err)
	}
}

func sql(q string, args ...any) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error { return tx.Exec(q, args...).Error }
}

// insert writes r as a sealed row, bypassing Append and Seal.
func insert(r audit.Record) func(tx *gorm.DB) error {
	return sql(`INSERT INTO audit_log (id, seq, at, actor, actor_id, action, object_type, object_id, outcome,
		summary, request_id, ip, user_agent, prev_hash, hash, sealed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, now())`,
		r.ID, r.Seq, r.At, r.Actor, r.ActorID, r.Action, r.ObjectType, r.ObjectID, r.Outcome,
		r.RequestID, r.IP, r.UserAgent, r.PrevHash, r.Hash)
}

// forge builds a record an attacker would insert at seq after prev, with a correctly
// recomputed hash (and an id of its own).
func forge(t *testing.T, seq int64, prev []byte, at time.Time) audit.Record {
	t.Helper()
	r := audit.Record{ID: 1000 + seq, Seq: seq, At: at, PrevHash: prev, Entry: audit.Entry{Actor: "user:7 fiona@example.com",
		Action: "approval.approved", ObjectType: "case", ObjectID: "99", Outcome: "ok", Summary: map[string]any{}}}
	var err error
	if r.Hash, err = audit.ComputeHash(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	type tc struct {
		name     string
		tamper   func(t *testing.T, db *gorm.DB, recs []audit.Record)
		withHead bool
		wantSeq  int64
		wantKind string
	}
	cases := []tc{
		{name: "modified field", wantSeq: 3, wantKind: audit.KindHashMismatch,
			tamper: func(t *testing.T, db *gorm.DB, _ []audit.Record) {
				tamper(t, db, sql("UPDATE audit_log SET actor = 'user:1 mallory@example.com' WHERE seq = 3"))
			}},
		{name: "modified summary", wantSeq: 4, wantKind: audit.KindHashMismatch,
			tamper: func(t *testing.T, db *gorm.DB, _ []audit.Record) {
				tamper(t, db, sql(`UPDATE audit_log SET summary = jsonb_set(summary, '{after,amount_minor}', '1') WHERE seq = 4`))
			}},
		{name: "ids swapped", wantSeq: 3, wantKind: audit.KindHashMismatch,
			tamper: func(t *testing.T, db *gorm.DB, recs []audit.Record) {
				tamper(t, db,
					sql("UPDATE audit_log SET id = -1 WHERE seq = 3"),
					sql("UPDATE audit_log SET id = ? WHERE seq = 4", recs[2].ID),
					sql("UPDATE audit_log SET id = ? WHERE seq = 3", recs[3].ID))
			}},
		{name: "deleted row", wantSeq: 3, wantKind: audit.KindGap,
			tamper: func(t *testing.T, db *gorm.DB, _ []audit.Record) {
				tamper(t, db, sql("DELETE FROM audit_log WHERE seq = 3"))
			}},
		{name: "deleted first row", wantSeq: 1, wantKind: audit.KindGap,
			tamper: func(t *testing.T, db *gorm.DB, _ []audit.Record) {
				tamper(t, db, sql("DELETE FROM audit_log WHERE seq = 1"))
			}},
		{name: "swapped rows", wantSeq: 3, wantKind: audit.KindPrevMismatch,
			tamper: func(t *testing.T, db *gorm.DB, _ []audit.Record) {
				tamper(t, db,
					sql("UPDATE audit_log SET seq = 1000 WHERE seq = 3"),
					sql("UPDATE audit_log SET seq = 3 WHERE seq = 4"),
					sql("UPDATE audit_log SET seq = 4 WHERE seq = 1000"))
			}},
		{name: "forged row inserted with recomputed hash", wantSeq: 4, wantKind: audit.KindPrevMismatch,
			tamper: func(t *testing.T, db *gorm.DB, recs []audit.Record) {
				f := forge(t, 3, recs[1].Hash, recs[1].At)
				tamper(t, db,
					sql("UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 3"),
					sql("UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000"),
					insert(f))
			}},
		{name: "forged row appended with a made-up hash", wantSeq: 6, wantKind: audit.KindHashMismatch,
			tamper: func(t *testing.T, db *gorm.DB, recs []audit.Record) {
				f := forge(t, 6, recs[4].Hash, recs[4].At)
				sum := sha256.Sum256([]byte("looks like a hash"))
				f.Hash = sum[:]
				tamper(t, db, insert(f))
			}},
		{name: "tail deleted, verified against exported head", withHead: true, wantSeq: 4, wantKind: audit.KindTruncated,
			tamper: func(t *testing.T, db *gorm.DB, _ []audit.Record) {
				tamper(t, db, sql("DELETE FROM audit_log WHERE seq >= 4"))
			}},
		{name: "chain rewritten after seq 2, verified against exported head", withHead: true, wantSeq: 5, wantKind: audit.KindHeadMismatch,
			tamper: func(t *testing.T, db *gorm.DB, recs []audit.Record) {
				// The strongest attacker: replace seq 3..5 with a consistent forged chain.
				stmts := []func(*gorm.DB) error{sql("DELETE FROM audit_log WHERE seq >= 3")}
				prev := recs[1].Hash
				for seq := int64(3); seq <= 5; seq++ {
					f := forge(t, seq, prev, recs[seq-1].At)
					stmts = append(stmts, insert(f))
					prev = f.Hash
				}
				tamper(t, db, stmts...)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := newDB(t)
			recs := appendN(t, db, 5)
			head, err := audit.CurrentHead(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			c.tamper(t, db, recs)
			var h *audit.Head
			if c.withHead {
				h = &head
				// Without the exported head these two attacks are invisible: that is
				// why heads are exported.
				if rep := mustVerify(t, db, nil); !rep.OK() {
					t.Fatalf("without head: %+v", rep.Problems)
				}
			}
			rep := mustVerify(t, db, h)
			if rep.OK() {
				t.Fatalf("tampering not detected: %+v", rep)
			}
			if p := rep.Problems[0]; p.Seq != c.wantSeq || p.Kind != c.wantKind {
				t.Fatalf("first problem = %+v, want %s at seq %d (all: %+v)", p, c.wantKind, c.wantSeq, rep.Problems)
			}
		})
	}
}

// Not parallel: it shrinks the batch size, so that tampering in a later batch and
// the batch boundaries themselves are exercised.
func TestVerifyAcrossBatches(t *testing.T) {
	defer audit.SetBatchSize(4)()
	db := newDB(t)
	appendN(t, db, 11)
	if rep := mustVerify(t, db, nil); !rep.OK() || rep.Entries != 11 || rep.Last != 11 {
		t.Fatalf("verify over 3 batches: %+v", rep)
	}
	tamper(t, db, sql("UPDATE audit_log SET outcome = 'denied' WHERE seq = 9"), sql("DELETE FROM audit_log WHERE seq = 5"))
	rep := mustVerify(t, db, nil)
	if len(rep.Problems) != 2 || rep.Problems[0].Seq != 5 || rep.Problems[0].Kind != audit.KindGap ||
		rep.Problems[1].Seq != 9 || rep.Problems[1].Kind != audit.KindHashMismatch {
		t.Fatalf("problems: %+v", rep.Problems)
	}
}
