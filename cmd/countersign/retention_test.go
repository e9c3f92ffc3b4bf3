package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/testdb"
)

// TestRetentionCommand runs the built binary: exit statuses and messages of
// `countersign retention`, which exits with the CLI's own status.
func TestRetentionCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "countersign")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dbURL := testdb.NewURL(t)
	run := func(env string, args ...string) (int, string, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+env)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errOut, strings.NewReader("")
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
	}
	for _, c := range []struct {
		env  string
		args []string
		code int
		want string
	}{
		{"", []string{"retention"}, 2, "usage: countersign retention plan|apply"},
		{"", []string{"retention", "plan", "--calls-months", "12"}, 2, "DATABASE_URL is not set"},
		{dbURL, []string{"retention", "plan", "--calls-months", "0"}, 2, "--calls-months 0: want 1 to 600 months"},
		{dbURL, []string{"retention", "apply", "--calls-months", "12"}, 2, "pass --yes"},
		{dbURL, []string{"retention", "apply", "--audit-months", "12", "--yes"}, 2, "--export-dir DIR is required"},
		{dbURL, []string{"retention", "plan", "--calls-months", "12", "--audit-months", "84"}, 0, "audit_log: keep 84 months"},
		{dbURL, []string{"retention", "apply", "--calls-months", "12", "--yes"}, 0, "nothing to drop"},
		{"", []string{"help"}, 0, "retention "},
	} {
		code, out, errOut := run(c.env, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%v: exit %d, want %d with %q\nstdout: %s\nstderr: %s", c.args, code, c.code, c.want, out, errOut)
		}
	}
}
