package database_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/testdb"
)

func TestMigrateTwiceIsNoop(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	before, err := database.Status(ctx, db.SQL)
	if err != nil {
		t.Fatal(err)
	}
	if err := database.Migrate(ctx, db.SQL, nil); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	after, err := database.Status(ctx, db.SQL)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) == 0 || len(before) != len(after) {
		t.Fatalf("status changed: %d -> %d", len(before), len(after))
	}
	for i := range after {
		if !after[i].Applied || !after[i].AppliedAt.Equal(before[i].AppliedAt) {
			t.Errorf("migration %d re-applied or pending: %+v", after[i].Version, after[i])
		}
	}
	if err := database.CheckCurrent(ctx, db.SQL); err != nil {
		t.Fatalf("CheckCurrent on a migrated db: %v", err)
	}
}

func TestConcurrentMigrateOnEmptyDatabase(t *testing.T) {
	u := testdb.NewURL(t)
	ctx := context.Background()
	db := testdb.New(t)
	// Empty a fresh database entirely, then let four processes' worth of pools migrate at once.
	if _, err := db.SQL.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	emptyURL := u
	dbs := make([]*database.DB, 4)
	for i := range dbs {
		d, err := database.Open(ctx, emptyURL, database.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		dbs[i] = d
	}
	if _, err := dbs[0].SQL.ExecContext(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"); err != nil {
		t.Fatal(err)
	}
	if err := database.CheckCurrent(ctx, dbs[0].SQL); !errors.Is(err, database.ErrPending) {
		t.Fatalf("empty schema: want ErrPending, got %v", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(dbs))
	for i, d := range dbs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = database.Migrate(ctx, d.SQL, nil) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	if err := database.CheckCurrent(ctx, dbs[0].SQL); err != nil {
		t.Fatalf("after concurrent migrate: %v", err)
	}
	var n int
	if err := dbs[0].SQL.QueryRowContext(ctx, "SELECT count(*) FROM river_migration").Scan(&n); err != nil || n != 8 {
		t.Fatalf("river_migration rows = %d, %v; want 8", n, err)
	}
}
