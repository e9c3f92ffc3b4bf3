package main

import (
	"context"
	"errors"
	"os"
	"os/user"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/retention"
)

func init() {
	extraCommands = append(extraCommands,
		command{"retention", "plan | apply [--calls-months N] [--audit-months N] [--export-dir DIR] [--yes]",
			"List or drop old monthly partitions of calls and audit_log (audit months exported first, the chain kept verifiable). Needs DATABASE_URL.", runRetention},
	)
}

// runRetention hands over to internal/retention's CLI and exits with its status
// (0 ok, 1 refused or failed, 2 usage).
func runRetention(ctx context.Context, args []string) error {
	var db *database.DB
	open := func(ctx context.Context) (*gorm.DB, error) {
		var err error
		db, err = auditOpenDB(ctx)
		var ue usageError
		if errors.As(err, &ue) {
			return nil, retention.UsageError(ue.msg)
		}
		if err != nil {
			return nil, err
		}
		return db.Gorm, nil
	}
	actor := "cli"
	if u, err := user.Current(); err == nil {
		actor = "cli:" + u.Username
	}
	st, err := os.Stdin.Stat()
	terminal := err == nil && st.Mode()&os.ModeCharDevice != 0
	code := retention.CLI(ctx, open, args, actor, retention.IO{Stdin: os.Stdin, StdinTerminal: terminal, Stdout: os.Stdout, Stderr: os.Stderr})
	if db != nil {
		db.Close()
	}
	if code != retention.ExitOK {
		os.Exit(code)
	}
	return nil
}
