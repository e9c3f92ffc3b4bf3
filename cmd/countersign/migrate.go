package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/database"
)

func runMigrate(ctx context.Context, args []string) error {
	fs := newFlags("migrate", "up | status", "Apply pending migrations (up) or list every migration and whether it is applied (status).\nNeeds DATABASE_URL.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "up" && fs.Arg(0) != "status") {
		return usageError{"say `migrate up` or `migrate status`"}
	}
	cfg, err := config.Load(os.Getenv, config.Dev)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return usageError{"DATABASE_URL is not set: say which database to migrate"}
	}
	log := newLogger(cfg.LogFormat, cfg.LogLevel)
	db, err := database.Open(ctx, cfg.DatabaseURL, database.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	if fs.Arg(0) == "up" {
		if err := database.Migrate(ctx, db.SQL, log); err != nil {
			return err
		}
		fmt.Println("schema is current")
		return nil
	}
	st, err := database.Status(ctx, db.SQL)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tFILE\tSTATE\tAPPLIED AT")
	for _, s := range st {
		state, at := "pending", ""
		if s.Applied {
			state, at = "applied", s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(tw, "%05d\t%s\t%s\t%s\n", s.Version, s.File, state, at)
	}
	return tw.Flush()
}
