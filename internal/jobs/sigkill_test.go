package jobs_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/internal/testdb"
)

// TestExactlyOnceAfterSIGKILL is TestExactlyOnceAfterCrash with a real crash: a
// `countersign serve --workers-only` process is killed with SIGKILL after Stripe
// (a loopback stripefake) has made the refund and before the worker could record
// it. A second worker process must rescue the job that the dead one left running,
// repeat the call with the same Idempotency-Key (Stripe replays its answer) and
// finish the action: one refund, the receipt stored, one "action.executed" entry.
//
// River presumes a running job dead only after COUNTERSIGN_JOB_RESCUE_AFTER
// (10 min in production); the processes here run with 6 s.
func TestExactlyOnceAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	dbURL := testdb.NewURL(t)
	ctx := context.Background()
	db, err := database.Open(ctx, dbURL, database.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)

	fake := stripefake.New()
	t.Cleanup(fake.Close)
	ch := fake.AddCharge(stripefakeCharge(24900))
	// Every answer is held after the effect: the refund exists at "Stripe" while
	// the worker still waits for the answer. The hold ends when the caller hangs up.
	fake.Delay(time.Minute)

	// The test's own service only inserts jobs (OnApproved); it never starts workers.
	svc, err := jobs.New(db, nil, jobs.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), NoPeriodic: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, svc: svc, ctx: ctx}
	caseID, ids := e.newCase("refund", refundPlan(ch, 24900))
	actionID := ids[0]
	err = db.Gorm.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE actions SET status = 'queued' WHERE case_id = ? AND status = 'planned'`, caseID).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE cases SET status = 'approved' WHERE id = ?`, caseID).Error; err != nil {
			return err
		}
		fp, err := approval.CurrentFingerprint(ctx, tx, caseID) // what serve's workers compare with
		if err != nil {
			return err
		}
		return svc.OnApproved(ctx, tx, caseID, fp)
	})
	if err != nil {
		t.Fatal(err)
	}

	workerEnv := []string{
		"DATABASE_URL=" + dbURL,
		"COUNTERSIGN_OIDC_ISSUER=http://127.0.0.1:1/none", // never contacted by workers
		"COUNTERSIGN_OIDC_CLIENT_ID=x",
		"COUNTERSIGN_SESSION_KEYS=" + newSessionKey(),
		"COUNTERSIGN_DIALNEXA_SECRETS=whsec_test_dialnexa_fixture",
		"COUNTERSIGN_STRIPE_URL=" + fake.URL,
		"COUNTERSIGN_STRIPE_KEY=" + stripefake.TestKey,
		"COUNTERSIGN_JOB_RESCUE_AFTER=6s",
		"COUNTERSIGN_LOG_FORMAT=text",
		"COUNTERSIGN_LOG_LEVEL=info",
	}

	first := startWorker(t, bin, workerEnv)
	refundPosts := func() int {
		n := 0
		for _, r := range fake.Requests() {
			if r.Method == http.MethodPost && r.Path == "/v1/refunds" {
				n++
			}
		}
		return n
	}
	e.waitFor("the refund request at the fake", 60*time.Second, func() bool {
		select {
		case <-first.exited:
			t.Fatalf("first worker exited: %v\n%s", first.err, first.Logs())
		default:
		}
		return refundPosts() >= 1
	})
	// The effect happened; the worker is waiting for the held answer.
	if err := syscall.Kill(first.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.exited
	if n := fake.RefundCount(); n != 1 {
		t.Fatalf("refunds at the fake before the crash = %d, want 1", n)
	}
	if st := e.text(`SELECT status FROM actions WHERE id = ?`, actionID); st != "running" {
		t.Fatalf("action status after SIGKILL = %q, want running (the worker died before recording the refund)", st)
	}
	if st := e.text(`SELECT state FROM river_job WHERE kind = 'connector_action' AND (args->>'action_id')::bigint = ?`, actionID); st != "running" {
		t.Fatalf("job state after SIGKILL = %q, want running", st)
	}
	if n := e.scalar(`SELECT count(*) FROM audit_log WHERE action = 'action.executed'`); n != 0 {
		t.Fatalf("action.executed entries before the rerun = %d, want 0", n)
	}
	fake.Delay(0)

	killedAt := time.Now()
	second := startWorker(t, bin, workerEnv)
	e.waitFor("the action done by the second worker", 90*time.Second, func() bool {
		select {
		case <-second.exited:
			t.Fatalf("second worker exited: %v\n%s", second.err, second.Logs())
		default:
		}
		return e.text(`SELECT status FROM actions WHERE id = ?`, actionID) == "done"
	})
	t.Logf("second worker finished the action %s after the SIGKILL", time.Since(killedAt).Round(100*time.Millisecond))

	if n := fake.RefundCount(); n != 1 {
		t.Errorf("refunds at the fake = %d, want exactly 1", n)
	}
	if n := refundPosts(); n != 2 {
		t.Errorf("refund requests = %d, want 2 (the killed attempt and the rescued one)", n)
	}
	keys := map[string]bool{}
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPost && r.Path == "/v1/refunds" {
			keys[r.IdempotencyKey] = true
		}
	}
	if len(keys) != 1 {
		t.Errorf("idempotency keys = %v, want the same key on both attempts", keys)
	}
	refund := fake.Refunds()[0].ID
	if got := e.text(`SELECT receipt_id FROM actions WHERE id = ?`, actionID); got != refund {
		t.Errorf("receipt id = %q, want the refund %s", got, refund)
	}
	var receipt struct {
		Summary string
		Raw     map[string]any
	}
	if err := json.Unmarshal([]byte(e.text(`SELECT receipt::text FROM actions WHERE id = ?`, actionID)), &receipt); err != nil {
		t.Fatalf("receipt: %v", err)
	}
	if receipt.Summary != "refund "+refund+" 249.00 USD succeeded" || receipt.Raw["id"] != refund {
		t.Errorf("receipt = %+v", receipt)
	}
	if n := e.scalar(`SELECT attempts FROM actions WHERE id = ?`, actionID); n != 2 {
		t.Errorf("attempts = %d, want 2", n)
	}
	if n := e.scalar(`SELECT count(*) FROM audit_log WHERE action = 'action.executed' AND object_id = ?`, fmt.Sprint(actionID)); n != 1 {
		t.Errorf("action.executed entries = %d, want exactly 1", n)
	}
	if st := e.text(`SELECT status FROM cases WHERE id = ?`, caseID); st != "done" {
		t.Errorf("case status %q, want done", st)
	}
	// River records the job's completion shortly after the action's own transaction.
	e.waitFor("the job completed", 10*time.Second, func() bool {
		return e.text(`SELECT state FROM river_job WHERE kind = 'connector_action' AND (args->>'action_id')::bigint = ?`, actionID) == "completed"
	})
	if n := e.scalar(`SELECT count(*) FROM river_job WHERE kind = 'connector_action' AND (args->>'action_id')::bigint = ?`, actionID); n != 1 {
		t.Errorf("jobs for the action = %d, want 1 (rescued, not duplicated)", n)
	}
	if !strings.Contains(e.text(`SELECT errors::text FROM river_job WHERE kind = 'connector_action' AND (args->>'action_id')::bigint = ?`, actionID), "Stuck job rescued") {
		t.Errorf("the job was not rerun through River's rescuer")
	}
}

// worker is one `countersign serve --workers-only` child process.
type worker struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // Wait's result, valid after exited is closed
	mu     sync.Mutex
	logs   strings.Builder
}

func (w *worker) Logs() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.logs.String()
}

// startWorker runs `countersign serve --workers-only` with env on a free loopback
// port and waits for /readyz.
func startWorker(t *testing.T, bin string, env []string) *worker {
	t.Helper()
	port := freeLoopbackPort(t)
	w := &worker{exited: make(chan struct{})}
	cmd := exec.Command(bin, "serve", "--workers-only")
	cmd.Env = append(append(os.Environ(), env...), fmt.Sprintf("COUNTERSIGN_ADDR=127.0.0.1:%d", port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.cmd = cmd
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			w.mu.Lock()
			w.logs.WriteString(sc.Text() + "\n")
			w.mu.Unlock()
		}
		w.err = cmd.Wait()
		close(w.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-w.exited:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-w.exited:
			case <-time.After(35 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-w.exited
			}
		}
		if t.Failed() {
			l := w.Logs()
			t.Logf("worker pid %d log (last 4 KB):\n%s", cmd.Process.Pid, l[max(0, len(l)-4096):])
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-w.exited:
			t.Fatalf("worker exited during start-up: %v\n%s", w.err, w.Logs())
		default:
		}
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return w
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker not ready within 60 s\n%s", w.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// buildBinary builds cmd/countersign into the test's temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(t.TempDir(), "countersign")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/countersign")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newSessionKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
