package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestDevStartStopKeepsData runs `countersign dev` on an empty data directory with no
// DATABASE_URL, exactly as `make run` does: its private Postgres comes up, /readyz says
// ready, demo calls arrive; SIGINT stops everything with no Postgres left behind; a
// second start finds the same data.
func TestDevStartStopKeepsData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	bin := filepath.Join(t.TempDir(), "countersign")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data, err := os.MkdirTemp("", "countersign-devtest")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(data, 0o755) // the server runs as the postgres user when we are root
	t.Cleanup(func() { os.RemoveAll(data) })

	first := runDevOnce(t, bin, data)
	if first == 0 {
		t.Fatal("no demo calls after the first start")
	}
	second := runDevOnce(t, bin, data)
	if second != first {
		t.Fatalf("calls after restart = %d, want the same %d (no data lost, no demo posted twice)", second, first)
	}
}

// runDevOnce starts dev, waits for readiness and the demo calls, counts calls, stops it
// with SIGINT and checks its Postgres is gone.
func runDevOnce(t *testing.T, bin, data string) int64 {
	t.Helper()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "dev")
	cmd.Env = append(filterEnv(os.Environ(), "DATABASE_URL"), "COUNTERSIGN_DATA_DIR="+data,
		fmt.Sprintf("COUNTERSIGN_ADDR=127.0.0.1:%d", port), "COUNTERSIGN_LOG_LEVEL=info")
	stderr, _ := cmd.StderrPipe()
	restart := isRestart(data) // a restart posts no demo calls: listening is enough
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	settled := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		closed := false
		for sc.Scan() {
			line := sc.Text()
			if !closed && (strings.Contains(line, "demo calls ingested") || (restart && strings.Contains(line, "countersign listening"))) {
				close(settled)
				closed = true
			}
		}
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("dev not ready within 90 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	select {
	case <-settled:
	case <-time.After(60 * time.Second):
	}
	time.Sleep(300 * time.Millisecond)
	n := countCalls(t, data)
	pid := postmasterPID(data)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev exited with %v after SIGINT", err)
		}
	case <-time.After(45 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("dev did not stop within 45 s of SIGINT")
	}
	if pid > 0 && syscall.Kill(pid, 0) == nil {
		t.Fatalf("postgres (pid %d) still running after dev stopped", pid)
	}
	if _, err := os.Stat(filepath.Join(data, "postgres", "postmaster.pid")); err == nil {
		t.Fatal("postmaster.pid left behind: Postgres did not shut down cleanly")
	}
	return n
}

func isRestart(data string) bool {
	_, err := os.Stat(filepath.Join(data, "postgres", "PG_VERSION"))
	return err == nil
}

func filterEnv(env []string, drop string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, drop+"=") {
			out = append(out, e)
		}
	}
	return out
}

func postmasterPID(data string) int {
	b, err := os.ReadFile(filepath.Join(data, "postgres", "postmaster.pid"))
	if err != nil {
		return 0
	}
	var pid int
	fmt.Sscan(strings.SplitN(string(b), "\n", 2)[0], &pid)
	return pid
}

func countCalls(t *testing.T, data string) int64 {
	t.Helper()
	pw, err := os.ReadFile(filepath.Join(data, "postgres", "countersign.password"))
	if err != nil {
		t.Fatal(err)
	}
	port, _ := os.ReadFile(filepath.Join(data, "postgres.port"))
	ctx := context.Background()
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://countersign:%s@127.0.0.1:%s/countersign", strings.TrimSpace(string(pw)), strings.TrimSpace(string(port))))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int64
	if err := c.QueryRow(ctx, "SELECT count(*) FROM calls").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
