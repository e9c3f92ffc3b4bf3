// Package testdb gives each test its own freshly migrated Postgres database.
//
// The server is found in this order: DATABASE_URL (an admin URL: the helper creates
// databases there); the local server on 127.0.0.1:5432 (users postgres, then the
// current user); a private cluster started with pgembed under the user's cache folder,
// exactly as `countersign dev` starts its own. Under CI=true a missing server is a test
// failure, never a skip.
//
// Migrations run once per schema version into a template database (guarded by an
// advisory lock, so parallel test packages share it); each test then gets a copy made
// with CREATE DATABASE ... TEMPLATE, which takes milliseconds, and drops it afterwards.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/pgembed"
	"github.com/countersign/countersign/migrations"
)

var (
	once     sync.Once
	adminURL string
	template string
	setupErr error
)

// New returns an open, migrated database private to t, closed and dropped at cleanup.
func New(t testing.TB) *database.DB {
	t.Helper()
	u := NewURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := database.Open(ctx, u, database.Options{MaxConns: 10})
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// NewURL creates a migrated database private to t and returns its URL.
func NewURL(t testing.TB) string {
	t.Helper()
	once.Do(func() { adminURL, template, setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("testdb: no PostgreSQL for tests: %v", setupErr)
	}
	name := "cs_test_" + randHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := exec(ctx, adminURL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{template}.Sanitize()); err != nil {
		t.Fatalf("testdb: create %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = exec(ctx, adminURL, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return withDB(adminURL, name)
}

// AdminURL is the server URL the helper creates databases on (for tests that need to
// stop or inspect the server itself).
func AdminURL(t testing.TB) string {
	t.Helper()
	once.Do(func() { adminURL, template, setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("testdb: no PostgreSQL for tests: %v", setupErr)
	}
	return adminURL
}

func setup() (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin, err := findServer(ctx)
	if err != nil {
		return "", "", err
	}
	tmpl := "cs_template_" + schemaHash()[:12]
	return admin, tmpl, ensureTemplate(ctx, admin, tmpl)
}

func findServer(ctx context.Context) (string, error) {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u, ping(ctx, u)
	}
	candidates := []string{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"}
	if me, err := user.Current(); err == nil && me.Username != "postgres" {
		candidates = append(candidates, "postgres://"+url.PathEscape(me.Username)+"@127.0.0.1:5432/postgres?sslmode=disable")
	}
	for _, c := range candidates {
		if ping(ctx, c) == nil {
			return c, nil
		}
	}
	if os.Getenv("CI") == "true" {
		// Still start one rather than skip: CI must prove the database code either way.
		fmt.Fprintln(os.Stderr, "testdb: no PostgreSQL on DATABASE_URL or 127.0.0.1:5432; starting a private cluster")
	}
	dir := filepath.Join(os.TempDir(), "countersign-testpg")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	cl, err := pgembed.Start(ctx, pgembed.Options{DataDir: dir, Database: "postgres", Detached: true})
	if err != nil {
		return "", fmt.Errorf("no DATABASE_URL, nothing on 127.0.0.1:5432, and a private cluster did not start: %w", err)
	}
	// The private cluster outlives this test process on purpose (the other test
	// packages reuse it); scripts/stop-test-postgres.sh stops it after `make test`.
	return cl.URL, nil
}

func ping(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

func schemaHash() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(migrations.FS, p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}

func ensureTemplate(ctx context.Context, admin, tmpl string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(727274)")
	var ready bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", tmpl).Scan(&ready)
	if err != nil || ready {
		return err
	}
	q := pgx.Identifier{tmpl}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+q+" WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+q); err != nil {
		return err
	}
	db, err := database.Open(ctx, withDB(admin, tmpl), database.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	err = database.Migrate(ctx, db.SQL, nil)
	db.Close()
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE "+q+" WITH is_template = true")
	return err
}

func exec(ctx context.Context, admin, sql string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func withDB(admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil {
		return admin
	}
	u.Path = "/" + name
	return u.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
