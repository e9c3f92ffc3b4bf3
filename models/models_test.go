package models_test

import (
	"context"
	"sort"
	"sync"
	"testing"

	"gorm.io/gorm/schema"

	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/models"
)

// TestRowsMatchSchema parses every model with gorm and compares its columns with
// the migrated schema: a column a struct names must exist, and every column of the
// table must be in its struct, so a migration that adds one fails here until the
// row type has it.
func TestRowsMatchSchema(t *testing.T) {
	db := testdb.New(t)
	for _, m := range []any{&models.Delivery{}, &models.Call{}, &models.Case{}, &models.Action{},
		&models.ActionEffect{}, &models.BillingFact{}, &models.User{}} {
		s, err := schema.Parse(m, &sync.Map{}, schema.NamingStrategy{})
		if err != nil {
			t.Fatalf("parse %T: %v", m, err)
		}
		var cols []string
		err = db.Gorm.WithContext(context.Background()).Raw(`SELECT column_name FROM information_schema.columns
			WHERE table_schema = 'public' AND table_name = ? ORDER BY column_name`, s.Table).Scan(&cols).Error
		if err != nil || len(cols) == 0 {
			t.Fatalf("columns of %s: %v (%d found)", s.Table, err, len(cols))
		}
		inTable := map[string]bool{}
		for _, c := range cols {
			inTable[c] = true
		}
		var inStruct []string
		for _, f := range s.Fields {
			if f.DBName == "" {
				continue
			}
			inStruct = append(inStruct, f.DBName)
			if !inTable[f.DBName] {
				t.Errorf("%T names column %s, which %s does not have", m, f.DBName, s.Table)
			}
		}
		for _, c := range cols {
			if s.LookUpField(c) == nil {
				t.Errorf("%s.%s has no field in %T", s.Table, c, m)
			}
		}
		sort.Strings(inStruct)
		t.Logf("%s: %v", s.Table, inStruct)
	}
}

// TestTextArrayRoundTrip writes and reads cases.tags-like values with quotes,
// commas, backslashes and braces through Postgres.
func TestTextArrayRoundTrip(t *testing.T) {
	db := testdb.New(t)
	in := models.TextArray{"vip", `say "hi"`, "a,b", `back\slash`, "{brace}", ""}
	var out models.TextArray
	if err := db.Gorm.Raw(`SELECT ?::text[]`, in).Row().Scan(&out); err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("round trip: got %q, want %q", out, in)
	}
	for i := range in {
		if out[i] != in[i] {
			t.Errorf("element %d: got %q, want %q", i, out[i], in[i])
		}
	}
	var empty models.TextArray
	if err := db.Gorm.Raw(`SELECT '{}'::text[]`).Row().Scan(&empty); err != nil || len(empty) != 0 {
		t.Errorf("empty array: %q, %v", empty, err)
	}
}

// TestEnumsValid: every listed value is valid, and a near miss is not.
func TestEnumsValid(t *testing.T) {
	for _, s := range models.Statuses {
		if !s.Valid() {
			t.Errorf("case status %q not valid", s)
		}
	}
	for _, s := range models.ActionStatuses {
		if !s.Valid() {
			t.Errorf("action status %q not valid", s)
		}
	}
	for _, o := range models.DeliveryOutcomes {
		if !o.Valid() {
			t.Errorf("delivery outcome %q not valid", o)
		}
	}
	if models.CaseStatus("Approved").Valid() || models.ActionStatus("queue").Valid() || models.DeliveryOutcome("duplicate").Valid() {
		t.Error("an unknown value reported valid")
	}
}
