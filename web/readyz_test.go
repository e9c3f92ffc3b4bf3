package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/testdb"
)

// TestReadinessFollowsTheDatabase: /readyz is 200 with a reachable, current database,
// 503 with the reason while the database refuses connections, and 200 again after.
func TestReadinessFollowsTheDatabase(t *testing.T) {
	u := testdb.NewURL(t)
	db, err := database.Open(context.Background(), u, database.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ts := webhookServer(t, db)
	get := func() (int, string) {
		resp, err := http.Get(ts.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(); code != 200 || !strings.Contains(body, "ready") {
		t.Fatalf("ready database: %d %q", code, body)
	}
	name := strings.TrimPrefix(mustURL(t, u).Path, "/")
	setConnections(t, testdb.AdminURL(t), name, false)
	if code, body := get(); code != 503 || !strings.Contains(body, "database unreachable") {
		t.Fatalf("database gone: %d %q, want 503 with the reason", code, body)
	}
	if resp, err := http.Get(ts.URL + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz must stay 200 while the process lives: %v", resp)
	}
	setConnections(t, testdb.AdminURL(t), name, true)
	if code, _ := get(); code != 200 {
		t.Fatalf("database back: %d, want 200", code)
	}
	// A schema behind the binary is not ready either.
	if _, err := db.SQL.Exec(`DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	if code, body := get(); code != 503 || !strings.Contains(body, "migrations pending") {
		t.Fatalf("pending migration: %d %q", code, body)
	}
}
