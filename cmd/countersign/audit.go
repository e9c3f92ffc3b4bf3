package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"strings"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/database"
)

func init() {
	extraCommands = append(extraCommands,
		command{"audit", "verify [--head FILE | --from-head FILE] [--export FILE...] [--bundle FILE] | head | export [flags]",
			"Check the audit hash chain (across months dropped by retention), retention exports, or an evidence bundle (offline); print the head; export entries. Needs DATABASE_URL except for verify --bundle.", runAudit},
		command{"policy", "load FILE.json | show",
			"Store an approval policy file as a new policy version (audited), or print the current one. Needs DATABASE_URL.", runPolicy},
	)
}

// runAudit hands over to internal/audit's CLI and exits with its status (0 ok,
// 1 tamper found, 2 usage, 3 could not check).
func runAudit(ctx context.Context, args []string) error {
	var db *database.DB
	if auditNeedsDB(args) {
		var err error
		if db, err = auditOpenDB(ctx); err != nil {
			return err
		}
	}
	var code int
	if db != nil {
		code = audit.CLI(ctx, db.Gorm, args, os.Stdout, os.Stderr)
		db.Close()
	} else {
		code = audit.CLI(ctx, nil, args, os.Stdout, os.Stderr)
	}
	if code != audit.ExitOK {
		os.Exit(code)
	}
	return nil
}

// auditNeedsDB is false for `verify --bundle FILE` (offline) and for help.
func auditNeedsDB(args []string) bool {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		return false
	}
	for _, a := range args[1:] {
		if a == "-h" || a == "--help" || a == "-bundle" || a == "--bundle" ||
			strings.HasPrefix(a, "-bundle=") || strings.HasPrefix(a, "--bundle=") {
			return false
		}
	}
	return true
}

func auditOpenDB(ctx context.Context) (*database.DB, error) {
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		return nil, usageError{"DATABASE_URL is not set: say which database to read"}
	}
	return database.Open(ctx, u, database.Options{MaxConns: 2})
}

func runPolicy(ctx context.Context, args []string) error {
	fs := newFlags("policy", "load FILE.json | show", "Store an approval policy file as a new version, or print the current version as JSON.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() == 2 && fs.Arg(0) == "load":
	case fs.NArg() == 1 && fs.Arg(0) == "show":
	default:
		return usageError{"say `policy load FILE.json` or `policy show`"}
	}
	db, err := auditOpenDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if fs.Arg(0) == "show" {
		v, err := approval.CurrentPolicy(ctx, db.Gorm)
		if err != nil {
			return err
		}
		return policyPrintJSON(map[string]any{"version": v.ID, "created_at": v.CreatedAt, "created_by": v.CreatedBy, "rules": v.Rules})
	}
	b, err := os.ReadFile(fs.Arg(1))
	if err != nil {
		return usageError{err.Error()}
	}
	rules, err := approval.ParseRules(b)
	if err != nil {
		return usageError{err.Error()}
	}
	actor := "cli"
	if u, err := user.Current(); err == nil {
		actor = "cli:" + u.Username
	}
	v, err := approval.SavePolicy(ctx, db.Gorm, rules, audit.Entry{Actor: actor})
	if err != nil {
		return err
	}
	fmt.Printf("policy version %d stored\n", v.ID)
	return nil
}

func policyPrintJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
