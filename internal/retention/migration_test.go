package retention_test

import (
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/migrations"
)

// TestAuditMigratesToMonthlyPartitions takes a database back to before audit_log was
// partitioned (00013 down), writes a chain spread over three months, migrates up, and
// checks every row is in its month's partition with the chain intact against a head
// exported before; then goes down and up again.
func TestAuditMigratesToMonthlyPartitions(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	p, err := goose.NewProvider(goose.DialectPostgres, db.SQL, migrations.FS, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 12); err != nil {
		t.Fatalf("down to 12: %v", err)
	}
	g := db.Gorm
	if scalar[bool](t, g, "SELECT relkind = 'p' FROM pg_class WHERE oid = 'audit_log'::regclass") {
		t.Fatal("audit_log still partitioned after down")
	}
	nowUTC := time.Now().UTC()
	thisMonth := time.Date(nowUTC.Year(), nowUTC.Month(), 1, 0, 0, 0, 0, time.UTC)
	auditAt(t, g, thisMonth.AddDate(0, -2, 3), thisMonth.AddDate(0, -1, 0), thisMonth.AddDate(0, -2, 9))
	appendEntry(t, g) // through Append: now
	if _, err := audit.Seal(ctx, g); err != nil {
		t.Fatal(err)
	}
	auditAt(t, g, time.Now()) // left unsealed across the migration
	head, err := audit.CurrentHead(ctx, g)
	if err != nil || head.Seq != 4 {
		t.Fatalf("head: %+v %v", head, err)
	}

	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	rep, err := audit.Verify(ctx, g, &head)
	if err != nil || !rep.OK() || rep.Entries != 4 || rep.Unsealed != 1 {
		t.Fatalf("verify after up: %+v %v", rep, err)
	}
	var parts []string
	if err := g.Raw("SELECT tableoid::regclass::text FROM audit_log ORDER BY id").Scan(&parts).Error; err != nil {
		t.Fatal(err)
	}
	want := []string{"audit_log_" + thisMonth.AddDate(0, -2, 0).Format("y2006m01"), "audit_log_" + thisMonth.AddDate(0, -1, 0).Format("y2006m01"),
		"audit_log_" + thisMonth.AddDate(0, -2, 0).Format("y2006m01"), "audit_log_" + thisMonth.Format("y2006m01"),
		"audit_log_" + thisMonth.Format("y2006m01")}
	if len(parts) != len(want) {
		t.Fatalf("partitions %v, want %v", parts, want)
	}
	for i := range want {
		if parts[i] != want[i] {
			t.Fatalf("partitions %v, want %v", parts, want)
		}
	}
	// The sequence carries on, the unsealed entry is sealed, and the chain continues.
	appendEntry(t, g)
	if n, err := audit.Seal(ctx, g); err != nil || n != 2 {
		t.Fatalf("seal after up: %d %v", n, err)
	}
	if id := scalar[int64](t, g, "SELECT max(id) FROM audit_log"); id != 6 {
		t.Fatalf("max id %d, want 6", id)
	}
	if rep, err := audit.Verify(ctx, g, &head); err != nil || !rep.OK() || rep.Entries != 6 {
		t.Fatalf("verify after sealing: %+v %v", rep, err)
	}

	// Down keeps every row too, and its unique seq again.
	if _, err := p.DownTo(ctx, 12); err != nil {
		t.Fatalf("down again: %v", err)
	}
	if rep, err := audit.Verify(ctx, g, &head); err != nil || !rep.OK() || rep.Entries != 6 {
		t.Fatalf("verify after down: %+v %v", rep, err)
	}
	if !scalar[bool](t, g, "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'audit_log'::regclass AND conname = 'audit_log_seq_key')") {
		t.Fatal("unique seq not restored by down")
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if rep, err := audit.Verify(ctx, g, &head); err != nil || !rep.OK() || rep.Entries != 6 {
		t.Fatalf("verify after up again: %+v %v", rep, err)
	}
}

func appendEntry(t *testing.T, db *gorm.DB) {
	t.Helper()
	err := db.Transaction(func(tx *gorm.DB) error {
		_, err := audit.Append(ctx, tx, audit.Entry{Actor: "system", Action: "case.created", ObjectType: "case", ObjectID: "1"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
