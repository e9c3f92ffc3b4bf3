// Package database opens the Postgres connection pool and owns schema migrations.
//
// One tool (goose) applies the embedded files of the migrations package, River's
// tables included, under a Postgres advisory lock so that two processes migrating at
// once serialise instead of corrupting anything. Applying twice is a no-op.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/countersign/countersign/migrations"
)

// DB bundles the three views of one pgx pool: gorm for the domain, database/sql for
// goose and River's insert-only client, and the pgx pool itself for River's workers
// (LISTEN/NOTIFY).
type DB struct {
	Gorm *gorm.DB
	SQL  *sql.DB
	Pool *pgxpool.Pool
}

// Options tune the pool. Zero values pick defaults sized for a 2-core machine.
type Options struct {
	MaxConns int32
}

// Open connects to url and checks the connection. It does not migrate.
func Open(ctx context.Context, url string, opt Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database: parse DATABASE_URL: %w", err)
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	} else if cfg.MaxConns < 20 {
		cfg.MaxConns = 20
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 15 * time.Second
	// A web request never holds a transaction open for long; a stuck one is cut off.
	cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = "60000"
	cfg.ConnConfig.RuntimeParams["application_name"] = "countersign"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: open pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: connect: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	g, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         true,
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: gorm: %w", err)
	}
	return &DB{Gorm: g, SQL: sqlDB, Pool: pool}, nil
}

// Close releases the pool.
func (d *DB) Close() {
	_ = d.SQL.Close()
	d.Pool.Close()
}

// Ping checks the database answers within ctx.
func (d *DB) Ping(ctx context.Context) error { return d.Pool.Ping(ctx) }

func provider(db *sql.DB, log io.Writer) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true)}
	if log != nil {
		opts = append(opts, goose.WithVerbose(false), goose.WithLogger(goose.NopLogger()))
	}
	return goose.NewProvider(goose.DialectPostgres, db, migrations.FS, opts...)
}

// Migrate applies every pending migration and logs each one applied.
func Migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	p, err := provider(db, io.Discard)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		if r.Error == nil && log != nil {
			log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration.Round(time.Millisecond).String())
		}
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// MigrationState is one line of `countersign migrate status`.
type MigrationState struct {
	Version   int64
	File      string
	Applied   bool
	AppliedAt time.Time
}

// Status lists every known migration and whether it is applied.
func Status(ctx context.Context, db *sql.DB) ([]MigrationState, error) {
	p, err := provider(db, io.Discard)
	if err != nil {
		return nil, fmt.Errorf("migrate status: %w", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate status: %w", err)
	}
	out := make([]MigrationState, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationState{Version: s.Source.Version, File: s.Source.Path,
			Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt})
	}
	return out, nil
}

// ErrPending says the schema is older than this binary.
var ErrPending = errors.New("migrations pending")

// CheckCurrent returns ErrPending (wrapped with the versions) when migrations are due.
func CheckCurrent(ctx context.Context, db *sql.DB) error {
	p, err := provider(db, io.Discard)
	if err != nil {
		return err
	}
	cur, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if cur < target {
		return fmt.Errorf("%w: schema at version %d, this binary needs %d (run `countersign migrate up`)", ErrPending, cur, target)
	}
	return nil
}
