package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/ingest"
	"github.com/countersign/countersign/internal/progress"
	"github.com/countersign/countersign/internal/triage"
)

func init() {
	extraCommands = append(extraCommands,
		command{"replay", "PATH...", "Re-ingest stored DialNexa webhook bodies (files or folders of .json) through the ingest path.", runReplay},
	)
}

func runReplay(ctx context.Context, args []string) error {
	fset := newFlags("replay", "PATH...", "Re-ingest stored DialNexa webhook bodies through the same code path as the webhook\n"+
		"(redaction, deduplication, triage, audit). Files are read as they are; folders are walked for *.json.\n"+
		"Signatures are not checked: only replay bodies you trust. Needs DATABASE_URL.")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if fset.NArg() == 0 {
		return usageError{"name at least one file or folder of webhook bodies"}
	}
	files, err := collectJSON(fset.Args())
	if err != nil {
		return usageError{err.Error()}
	}
	cfg, err := config.Load(os.Getenv, config.Dev)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return usageError{"DATABASE_URL is not set: say which database to replay into"}
	}
	mapping, err := triage.ParseMapping(cfg.FieldMapping)
	if err != nil {
		return config.Errors{fmt.Errorf("COUNTERSIGN_FIELD_MAPPING: %w", err)}
	}
	db, err := database.Open(ctx, cfg.DatabaseURL, database.Options{MaxConns: 4})
	if err != nil {
		return err
	}
	defer db.Close()
	svc := &ingest.Service{Pool: db.Pool, Mapping: mapping, BaseURL: cfg.BaseURL.String(), Owners: ingest.DefaultOwners,
		CriticalAmounts: cfg.CriticalAmounts}
	bar := progress.New(os.Stderr, "replay", int64(len(files)))
	counts := map[ingest.Outcome]int{}
	var failed []string
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err == nil {
			var res ingest.Result
			res, err = svc.Ingest(ctx, body)
			counts[res.Outcome]++
			if errors.Is(err, ingest.ErrMalformed) {
				err = nil
			}
		}
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", f, err))
		}
		bar.Add(1)
	}
	bar.Done()
	fmt.Printf("replayed %d files: %d new, %d duplicate, %d rejected, %d ignored/verification, %d failed\n",
		len(files), counts[ingest.Stored], counts[ingest.Duplicate], counts[ingest.Rejected],
		counts[ingest.Ignored]+counts[ingest.Verification], len(failed))
	for _, f := range failed {
		fmt.Fprintln(os.Stderr, "  failed:", f)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d files could not be stored; fix the cause and replay them again (duplicates are skipped)", len(failed))
	}
	return nil
}

func collectJSON(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, errors.Unwrap(err))
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && filepath.Ext(path) == ".json" {
				out = append(out, path)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, errors.New("no .json files found in the given paths")
	}
	return out, nil
}
