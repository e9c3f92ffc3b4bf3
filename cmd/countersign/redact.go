package main

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strings"

	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/rescan"
	"github.com/countersign/countersign/internal/vault"
)

func init() {
	extraCommands = append(extraCommands,
		command{"redact", "rescan [--batch N] [--restart]",
			"Re-apply the current card, bank and tax rules to stored calls, deliveries, cases (and their search vectors), notes, actions and saved views, in batches, audited; resumes where an interrupted run stopped. Needs DATABASE_URL; COUNTERSIGN_VAULT_KEY keeps the tax ids and bank details it finds.", runRedact},
	)
}

func runRedact(ctx context.Context, args []string) error {
	fs := newFlags("redact", "rescan [--batch N] [--restart]", "Re-apply the redaction rules ("+redact.RulesVersion+") to stored rows.")
	batch := fs.Int("batch", 500, "rows per transaction")
	restart := fs.Bool("restart", false, "start over instead of resuming where a run of these rules stopped")
	if len(args) == 0 || args[0] != "rescan" {
		return usageError{"say `redact rescan`"}
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{"`redact rescan` takes only --batch and --restart"}
	}
	if *batch < 1 || *batch > 10000 {
		return usageError{"--batch must be between 1 and 10000"}
	}
	keys, err := vaultKeysFromEnv()
	if err != nil {
		return err
	}
	db, err := auditOpenDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	actor := "cli"
	if u, err := user.Current(); err == nil {
		actor = "cli:" + u.Username
	}
	if keys == nil {
		fmt.Fprintln(os.Stderr, "COUNTERSIGN_VAULT_KEY is not set: tax ids and bank details found are masked and not kept")
	}
	res, err := rescan.Run(ctx, db.Gorm, rescan.Options{Batch: *batch, Vault: keys, Actor: actor, Restart: *restart, Out: os.Stderr})
	fmt.Printf("rescanned %d rows under rules %s: %d changed, %d values suppressed %v\n",
		res.Rows, redact.RulesVersion, res.Changed, res.Counts.Total(), map[redact.Kind]int(res.Counts))
	if err != nil {
		return fmt.Errorf("%w (run it again to resume after the last committed batch)", err)
	}
	return nil
}

// vaultKeysFromEnv reads COUNTERSIGN_VAULT_KEY or the file COUNTERSIGN_VAULT_KEY_FILE
// names; neither set is no keyring.
func vaultKeysFromEnv() (*vault.Keyring, error) {
	spec := os.Getenv("COUNTERSIGN_VAULT_KEY")
	if f := os.Getenv("COUNTERSIGN_VAULT_KEY_FILE"); f != "" {
		if spec != "" {
			return nil, usageError{"set either COUNTERSIGN_VAULT_KEY or COUNTERSIGN_VAULT_KEY_FILE, not both"}
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("COUNTERSIGN_VAULT_KEY_FILE: %w", err)
		}
		spec = strings.TrimSpace(string(b))
	}
	if spec == "" {
		return nil, nil
	}
	k, err := vault.ParseKeys(spec)
	if err != nil {
		return nil, fmt.Errorf("COUNTERSIGN_VAULT_KEY: %w", err)
	}
	return k, nil
}
