package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/pgembed"
	"github.com/countersign/countersign/internal/progress"
	"github.com/countersign/countersign/internal/seed"
)

// registered with a variable initialiser; see registerCommand.
var _ = registerCommand(command{"seed", "--calls N [--days 90] [--batch 10000] [--seed 1]",
	"Fill the database with a realistic history of calls and cases (load tests, benchmarks).", runSeed})

// registerCommand adds c to the commands main dispatches (usable as a package-level
// initialiser).
func registerCommand(c command) bool {
	extraCommands = append(extraCommands, c)
	return true
}

func runSeed(ctx context.Context, args []string) error {
	fs := newFlags("seed", "--calls N [--days 90] [--batch 10000] [--seed 1] [--workers 2]",
		"Fill the database with a realistic, deterministic history of calls and cases spread over --days,\n"+
			"written with COPY in batches. Uses DATABASE_URL, or the private cluster `dev` uses when it is unset;\n"+
			"migrates first. Existing rows are kept; cases are assigned among existing users.")
	calls := fs.Int("calls", 0, "number of calls to generate (required)")
	days := fs.Int("days", 90, "days of history, ending now")
	batch := fs.Int("batch", 10000, "calls per COPY batch (one transaction each)")
	seedN := fs.Uint64("seed", 1, "random seed: the same seed gives the same data")
	workers := fs.Int("workers", 2, "batches written concurrently")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *calls <= 0 {
		return usageError{"--calls must be a positive number"}
	}
	if *days <= 0 || *batch <= 0 || *workers <= 0 {
		return usageError{"--days, --batch and --workers must be positive"}
	}
	db, stop, err := openToolDB(ctx)
	if err != nil {
		return err
	}
	defer stop()
	bar := progress.New(os.Stderr, "calls", int64(*calls))
	var reported int
	res, err := seed.Run(ctx, db, seed.Options{Calls: *calls, Days: *days, Batch: *batch, Seed: *seedN,
		Workers: *workers, Progress: func(done, _ int) { bar.Add(int64(done - reported)); reported = done }})
	bar.Done()
	if err != nil {
		return err
	}
	fmt.Printf("seeded %d calls and %d cases in %s (%.0f calls/s), VACUUM ANALYZE done\n",
		res.Calls, res.Cases, res.Elapsed.Round(time.Millisecond), float64(res.Calls)/res.Elapsed.Seconds())
	return nil
}

// openToolDB opens the database the operator tools (seed, bench-pages) work on:
// DATABASE_URL, or, when it is unset, the private cluster `dev` runs in
// COUNTERSIGN_DATA_DIR. It migrates, like dev does. stop closes the pool and stops a
// cluster it started.
func openToolDB(ctx context.Context) (*database.DB, func(), error) {
	cfg, err := config.Load(os.Getenv, config.Dev)
	if err != nil {
		return nil, nil, err
	}
	log := newLogger("text", "warn")
	stopCluster := func() {}
	url := cfg.DatabaseURL
	if url == "" {
		fmt.Fprintf(os.Stderr, "DATABASE_URL is not set: using the private PostgreSQL in %s\n", cfg.DataDir)
		cl, err := pgembed.Start(ctx, pgembed.Options{DataDir: cfg.DataDir, Log: log.Info})
		if err != nil {
			return nil, nil, err
		}
		url, stopCluster = cl.URL, cl.Stop
	}
	db, err := database.Open(ctx, url, database.Options{})
	if err != nil {
		stopCluster()
		return nil, nil, err
	}
	if err := database.Migrate(ctx, db.SQL, log); err != nil {
		db.Close()
		stopCluster()
		return nil, nil, err
	}
	return db, func() { db.Close(); stopCluster() }, nil
}
