package faults

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/auth/authtest"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/testdb"
)

// emptyDatabase creates an unmigrated database on the test server, so that both
// instances race to migrate it.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	admin := testdb.AdminURL(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "cs_faults_" + hex.EncodeToString(b)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	q := pgx.Identifier{name}.Sanitize()
	// From template0, which takes no connections: CREATE DATABASE from template1 fails
	// while anything else is connected to template1.
	if _, err := c.Exec(ctx, "CREATE DATABASE "+q+" TEMPLATE template0"); err != nil {
		t.Fatalf("create an empty database for both instances: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+q+" WITH (FORCE)")
			_ = c.Close(context.Background())
		}
	})
	// Not pgx's ConnConfig.ConnString: it returns the string it was parsed from, so
	// setting Database on it changed nothing and both servers migrated the admin
	// database.
	u, err := url.Parse(admin)
	if err != nil || u.Scheme == "" {
		t.Fatalf("admin URL %q is not a URL: %v", admin, err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestTwoInstancesOneDatabase runs two serve processes on one (initially empty)
// database: both migrate it under the advisory lock, deliveries spread over both are
// stored once each (also when the same one reaches both at once), a session made for
// one works on the other, and the audit chain stays one chain.
func TestTwoInstancesOneDatabase(t *testing.T) {
	dbURL := emptyDatabase(t)
	cfg := authtest.Config(t) // its session key is given to both servers
	key := base64.StdEncoding.EncodeToString(cfg.SessionKeys[0])
	a, b := spawnServe(t, dbURL, key), spawnServe(t, dbURL, key)
	a.waitReady(t)
	b.waitReady(t)

	// Distinct deliveries, alternating between the instances.
	ds := deliveries(0x2a2b, 300)
	rec := &recorder{}
	load(rec, func(i int) string { return []string{a.URL, b.URL}[i%2] }, ds, 200, nil)
	var ids []string
	for _, o := range rec.out {
		if !is2xx(o.Status) {
			t.Errorf("%s: status %d %s", o.CallID, o.Status, o.Err)
		}
		ids = append(ids, o.CallID)
	}
	// The same delivery posted to both at the same moment.
	twice := deliveries(0x2a2c, 100)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, d := range twice {
		for _, base := range []string{a.URL, b.URL} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o := postDelivery(base, d)
				if !is2xx(o.Status) {
					mu.Lock()
					t.Errorf("%s to %s: status %d %s", d.CallID, base, o.Status, o.Err)
					mu.Unlock()
				}
			}()
		}
		ids = append(ids, d.CallID)
	}
	wg.Wait()
	conn := connect(t, dbURL)
	if bad := storedOnce(t, conn, ids); len(bad) > 0 {
		t.Errorf("%d deliveries not stored exactly once, e.g. %v", len(bad), bad[:min(5, len(bad))])
	}
	if n := scalar(t, conn, integrityQuery); n != 0 {
		t.Errorf("%d half-written deliveries", n)
	}

	// A session created once works on both instances.
	db, err := database.Open(context.Background(), dbURL, database.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cookie := authtest.Login(t, db, cfg, auth.SupportLead)
	for _, s := range []*server{a, b, a} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/queues/open", nil)
		req.AddCookie(cookie)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s/queues/open with the shared session: %d, want 200", s.URL, resp.StatusCode)
		}
	}

	// Both sealers ran; stop them and check the chain is one chain holding everything.
	for _, s := range []*server{a, b} {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not stop", s.URL)
		}
	}
	ctx := context.Background()
	if _, err := audit.Seal(ctx, db.Gorm); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, db.Gorm, nil)
	if err != nil {
		t.Fatal(err)
	}
	total := scalar(t, conn, "SELECT count(*) FROM audit_log")
	if !rep.OK() || rep.Entries != total || rep.Unsealed != 0 {
		t.Errorf("audit chain: %d sealed of %d entries, %d unsealed, problems %v", rep.Entries, total, rep.Unsealed, rep.Problems)
	}
	migrations := scalar(t, conn, "SELECT count(*) FROM goose_db_version WHERE version_id > 0")
	t.Logf("two instances: %d deliveries stored once each (%d posted to both at once); session shared; audit chain of %d entries verified; %d migrations applied once",
		len(ids), len(twice), rep.Entries, migrations)
}
