package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/dialnexa"
)

func init() {
	extraCommands = append(extraCommands,
		command{"bench-bare", "--addr HOST:PORT [--secret S]",
			"Benchmark baseline: a bare webhook receiver (HMAC + one durable insert), never the product.", runBenchBare},
	)
}

// runBenchBare serves the least a webhook receiver can do: verify the signature over
// the raw body and insert the body with one durable (synchronously committed)
// statement, answering 200 only after the commit. `make bench` measures it beside
// Countersign against the same Postgres with the same client, so that Countersign's
// latency is read against what the machine, Go's HTTP server and a Postgres commit
// cost by themselves. It keeps its rows in the schema bench_bare, dropped on exit.
func runBenchBare(ctx context.Context, args []string) error {
	fs := newFlags("bench-bare", "--addr HOST:PORT [--secret S]",
		"Serve POST /webhooks/dialnexa as a bare receiver (HMAC-SHA256 check, one INSERT, 200 after\n"+
			"COMMIT) on a loopback address, with DATABASE_URL's Postgres, until interrupted. A baseline for\n"+
			"make bench; not part of Countersign.")
	addr := fs.String("addr", "127.0.0.1:18091", "loopback host:port to listen on")
	secret := fs.String("secret", envOr("COUNTERSIGN_DEMO_SECRET", TestDialNexaSecret), "webhook secret to verify with")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if host, _, err := net.SplitHostPort(*addr); err != nil || !config.IsLoopback(host) {
		return usageError{fmt.Sprintf("--addr %q: use a loopback host:port", *addr)}
	}
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		return usageError{"DATABASE_URL is required"}
	}
	pcfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return fmt.Errorf("bench-bare: DATABASE_URL: %w", err)
	}
	pcfg.MaxConns = 20 // Countersign's pool size
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("bench-bare: connect: %w", err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS bench_bare;
		CREATE TABLE IF NOT EXISTS bench_bare.deliveries (id bigserial PRIMARY KEY,
			received_at timestamptz NOT NULL DEFAULT now(), body jsonb NOT NULL)`); err != nil {
		return fmt.Errorf("bench-bare: create table: %w", err)
	}
	defer func() {
		dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = pool.Exec(dropCtx, `DROP SCHEMA bench_bare CASCADE`)
	}()
	secrets := []string{*secret}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "could not read body", http.StatusBadRequest)
			return
		}
		if dialnexa.Verify(r.Header, body, secrets) != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		if _, err := pool.Exec(r.Context(), `INSERT INTO bench_bare.deliveries (body) VALUES ($1)`, body); err != nil {
			http.Error(w, "not stored", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"stored"}` + "\n"))
	})
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/dialnexa", h)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Fprintf(os.Stderr, "bench-bare listening on %s\n", *addr)
	select {
	case err := <-errc:
		return fmt.Errorf("bench-bare: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
