package approval

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/auth/authtest"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/testdb"
)

type fixture struct {
	t     *testing.T
	db    *database.DB
	svc   *Service
	hooks atomic.Int64
	n     int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, db: testdb.New(t)}
	f.svc = &Service{DB: f.db.Gorm, OnApproved: func(ctx context.Context, tx *gorm.DB, caseID int64, fp string) error {
		f.hooks.Add(1)
		// A marker row in the same transaction: rolled back with the decision.
		return tx.Exec(`INSERT INTO case_decisions (case_id, decision, actor_label, fingerprint) VALUES (?, 'hook', 'test', ?)`, caseID, fp).Error
	}}
	return f
}

// user makes a principal holding roles, signed in at authTime (zero: now).
func (f *fixture) user(authTime time.Time, roles ...string) *auth.Principal {
	f.t.Helper()
	f.n++
	email := fmt.Sprintf("u%d@example.com", f.n)
	id := authtest.CreateUser(f.t, f.db, authtest.User{Subject: fmt.Sprintf("u%d", f.n), Email: email, Roles: roles})
	if authTime.IsZero() {
		authTime = time.Now()
	}
	return &auth.Principal{UserID: id, Email: email, Roles: roles, AuthTime: authTime}
}

type caseSpec struct {
	kind      string
	amount    *int64
	currency  string
	dest      string
	callEmail string // what the caller asked for
	onFile    string // billing email on file ("" = no billing facts)
	verified  bool   // claim_checks.verified
	vip       bool
	fields    string
}

func ptr(n int64) *int64 { return &n }

// newCase inserts a call and a case (status new) with its billing facts.
func (f *fixture) newCase(s caseSpec) int64 {
	f.t.Helper()
	f.n++
	g := f.db.Gorm
	if s.fields == "" {
		s.fields = "{}"
	}
	var callID, caseID int64
	must(f.t, g.Raw(`INSERT INTO calls (dialnexa_id, customer_email, customer_number, customer_ref, fields, vip)
		VALUES (?, ?, '+14155550142', 'cus_T1', CAST(? AS jsonb), ?) RETURNING id`,
		fmt.Sprintf("call_%d", f.n), s.callEmail, s.fields, s.vip).Scan(&callID).Error)
	destType := ""
	if s.dest != "" {
		destType = destType0(s.dest)
	}
	must(f.t, g.Raw(`INSERT INTO cases (call_id, kind, status, amount_minor, currency, destination_type, destination_ref, customer_label, vip)
		VALUES (?, ?, 'new', ?, ?, ?, ?, 'Jane Doe', ?) RETURNING id`, callID, s.kind, s.amount, s.currency, destType, s.dest, s.vip).Scan(&caseID).Error)
	if s.onFile != "" {
		must(f.t, g.Exec(`INSERT INTO billing_facts (case_id, source, object, external_id, amount_minor, currency, customer_email)
			VALUES (?, 'stripe', 'charge', ?, 10000000, ?, ?)`, caseID, s.dest, s.currency, s.onFile).Error)
	}
	must(f.t, g.Exec(`INSERT INTO claim_checks (case_id, confidence, verified) VALUES (?, 0.95, ?)`, caseID, s.verified).Error)
	return caseID
}

func destType0(ref string) string { return destType(ref, "") }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) status(caseID int64) string {
	f.t.Helper()
	var s string
	must(f.t, f.db.Gorm.Raw(`SELECT status FROM cases WHERE id = ?`, caseID).Scan(&s).Error)
	return s
}

func (f *fixture) count(q string, args ...any) int64 {
	f.t.Helper()
	var n int64
	must(f.t, f.db.Gorm.Raw(q, args...).Scan(&n).Error)
	return n
}

func (f *fixture) fp(caseID int64) string {
	f.t.Helper()
	fp, err := CurrentFingerprint(context.Background(), f.db.Gorm, caseID)
	must(f.t, err)
	return fp
}

// refund is a one-approver USD refund to the billing email on file, requested by lead.
func (f *fixture) requested(s caseSpec, lead *auth.Principal) int64 {
	f.t.Helper()
	id := f.newCase(s)
	if _, err := f.svc.RequestApproval(context.Background(), lead, id, ""); err != nil {
		f.t.Fatalf("request approval: %v", err)
	}
	return id
}

func refundSpec(amount int64) caseSpec {
	return caseSpec{kind: "refund", amount: ptr(amount), currency: "USD", dest: "ch_3PxAbCdEf", callEmail: "jane@example.com", onFile: "jane@example.com"}
}

type gormDB = gorm.DB
