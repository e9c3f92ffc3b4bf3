package faults

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
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

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/demo"
	"github.com/countersign/countersign/internal/dialnexa"
)

// testSecret is the DialNexa secret the serve processes accept.
const testSecret = "whsec_test_dialnexa_fixture"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/countersign once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "countersign-faults-bin")
		if err != nil {
			buildErr = err
			return
		}
		_, file, _, _ := runtime.Caller(0)
		binPath = filepath.Join(dir, "countersign")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/countersign")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// sessionKey returns a fresh base64 session key, as COUNTERSIGN_SESSION_KEYS wants it.
func sessionKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// server is one `countersign serve` child process.
type server struct {
	URL    string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // Wait's result, valid after exited is closed
	mu     sync.Mutex
	logs   strings.Builder
}

// startServe runs `countersign serve --migrate` on dbURL and waits for /readyz.
func startServe(t *testing.T, dbURL, key string) *server {
	t.Helper()
	s := spawnServe(t, dbURL, key)
	s.waitReady(t)
	return s
}

// startServeWith is startServe with extra flags and environment.
func startServeWith(t *testing.T, dbURL, key string, o serveOpts) *server {
	t.Helper()
	s := spawnServeWith(t, dbURL, key, o)
	s.waitReady(t)
	return s
}

// spawnServe starts `countersign serve --migrate` on dbURL without waiting.
func spawnServe(t *testing.T, dbURL, key string) *server {
	t.Helper()
	return spawnServeWith(t, dbURL, key, serveOpts{})
}

// serveOpts are what one serve child process adds to the defaults.
type serveOpts struct {
	Args []string // after `serve --migrate`, e.g. --workers-only
	Env  []string // NAME=value, added after (so overriding) the defaults
}

// spawnServeWith is spawnServe with extra flags and environment.
func spawnServeWith(t *testing.T, dbURL, key string, o serveOpts) *server {
	t.Helper()
	port := freePort(t)
	s := &server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), exited: make(chan struct{})}
	cmd := exec.Command(binary(t), append([]string{"serve", "--migrate"}, o.Args...)...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL,
		"COUNTERSIGN_OIDC_ISSUER=http://127.0.0.1:1/none", // never contacted here
		"COUNTERSIGN_OIDC_CLIENT_ID=x", "COUNTERSIGN_SESSION_KEYS="+key,
		"COUNTERSIGN_DIALNEXA_SECRETS="+testSecret, fmt.Sprintf("COUNTERSIGN_ADDR=127.0.0.1:%d", port),
		"COUNTERSIGN_LOG_FORMAT=text", "COUNTERSIGN_LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, o.Env...) // exec keeps the last value of a repeated name
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.logs.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
		s.err = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.exited:
			case <-time.After(35 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-s.exited
			}
		}
		if t.Failed() {
			l := s.Logs()
			t.Logf("serve %s log (warn and above, last 4 KB):\n%s", s.URL, l[max(0, len(l)-4096):])
		}
	})
	return s
}

// waitReady waits until /readyz answers 200.
func (s *server) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			t.Fatalf("serve exited during start-up: %v\n%s", s.err, s.Logs())
		default:
		}
		if resp, err := http.Get(s.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("serve not ready within 60 s\n%s", s.Logs())
}

// Logs returns what the server printed so far.
func (s *server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// delivery is one signed DialNexa call event.
type delivery struct {
	CallID string
	Body   []byte
	Sig    string
}

// deliveries returns n distinct signed call events for seed.
func deliveries(seed uint64, n int) []delivery {
	now := time.Now().UTC()
	out := make([]delivery, n)
	for i := range out {
		body, id := demo.Call(seed, i, now)
		out[i] = delivery{CallID: id, Body: body, Sig: dialnexa.Sign(body, testSecret)}
	}
	return out
}

// outcome is what one post got: a status, or a transport error (Status 0).
type outcome struct {
	CallID     string
	Status     int
	Err        string
	Sent, Done time.Time
}

var client = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

func postDelivery(base string, d delivery) outcome {
	o := outcome{CallID: d.CallID, Sent: time.Now()}
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/dialnexa", bytes.NewReader(d.Body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-DialNexa-Signature", d.Sig)
	resp, err := client.Do(req)
	o.Done = time.Now()
	if err != nil {
		o.Err = err.Error()
		return o
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	o.Status = resp.StatusCode
	return o
}

// recorder collects outcomes while a load runs.
type recorder struct {
	mu  sync.Mutex
	out []outcome
}

func (r *recorder) add(o outcome) {
	r.mu.Lock()
	r.out = append(r.out, o)
	r.mu.Unlock()
}

// load posts ds at rate per second (open model: each post in its own goroutine, sent
// at its scheduled time whatever became of the earlier ones) until they run out or
// stop is closed, and returns once every post has finished. Delivery i is due at
// start + i/rate; a sender that falls behind (a busy machine delays it) sends what
// is due at once rather than skipping ahead, as a ticker would: a ticker drops the
// ticks it cannot deliver, and "12,000/s" then quietly became 2,000/s.
func load(rec *recorder, base func(i int) string, ds []delivery, rate int, stop <-chan struct{}) {
	var wg sync.WaitGroup
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
loop:
	for i := range ds {
		due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-stop:
				break loop
			case <-timer.C:
			}
		} else {
			select {
			case <-stop:
				break loop
			default:
			}
		}
		wg.Add(1)
		go func(d delivery, target string) {
			defer wg.Done()
			rec.add(postDelivery(target, d))
		}(ds[i], base(i))
	}
	wg.Wait()
}

func is2xx(status int) bool { return status >= 200 && status < 300 }

// connect opens a plain connection for the test's own checks.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func scalar(t *testing.T, c *pgx.Conn, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// integrityQuery counts half-written ingests in one statement: calls without their
// delivery row, stored deliveries without their call, and calls without their
// webhook.stored audit entry. All three are written in one transaction, so any of
// them above zero means a delivery was half-written.
const integrityQuery = `SELECT
  (SELECT count(*) FROM calls c WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries d
     WHERE d.source = 'dialnexa' AND d.call_ref = c.dialnexa_id AND d.outcome = 'stored'))
+ (SELECT count(*) FROM webhook_deliveries d WHERE d.source = 'dialnexa' AND d.outcome = 'stored'
     AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.dialnexa_id = d.call_ref))
+ (SELECT count(*) FROM calls c WHERE NOT EXISTS (SELECT 1 FROM audit_log a
     WHERE a.action = 'webhook.stored' AND a.object_type = 'call' AND a.object_id = c.id::text))`

// storedOnce reports call ids not stored exactly once (one call row, one delivery row).
func storedOnce(t *testing.T, c *pgx.Conn, ids []string) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), `SELECT v.ref FROM unnest($1::text[]) AS v(ref)
		WHERE (SELECT count(*) FROM calls c WHERE c.dialnexa_id = v.ref) <> 1
		   OR (SELECT count(*) FROM webhook_deliveries d WHERE d.source = 'dialnexa' AND d.call_ref = v.ref) <> 1`, ids)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return bad
}

// openDB opens a small pool on url for the test's own setup and checks, closed when
// the test ends.
func openDB(t *testing.T, url string) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), url, database.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}
