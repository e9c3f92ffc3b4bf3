// Package e2e drives the real binary (`countersign dev` against a test database) with
// headless Chromium: the journeys a support lead, a finance approver and an auditor
// take through the console. Screenshots land in artifacts/screenshots.
package e2e

import (
	"bufio"
	"context"
	"fmt"
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

	"github.com/chromedp/chromedp"

	"github.com/countersign/countersign/internal/testdb"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// binary builds cmd/countersign once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "countersign-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "countersign")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/countersign")
		cmd.Dir = repoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// instance is one running `countersign dev` on its own test database.
type instance struct {
	URL    string
	DBURL  string
	cmd    *exec.Cmd
	logs   *strings.Builder
	logsMu sync.Mutex
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs the console with its embedded defaults (demo calls included) on a fresh
// database and waits until it is ready and the demo calls are in.
func start(t *testing.T, extraEnv ...string) *instance {
	t.Helper()
	dbURL := testdb.NewURL(t)
	port := freePort(t)
	inst := &instance{URL: fmt.Sprintf("http://127.0.0.1:%d", port), DBURL: dbURL, logs: &strings.Builder{}}
	cmd := exec.Command(binary(t), "dev")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, fmt.Sprintf("COUNTERSIGN_ADDR=127.0.0.1:%d", port),
		"COUNTERSIGN_DATA_DIR="+t.TempDir(), "COUNTERSIGN_LOG_LEVEL=info")
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inst.cmd = cmd
	demoDone := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var once sync.Once
		for sc.Scan() {
			line := sc.Text()
			inst.logsMu.Lock()
			inst.logs.WriteString(line + "\n")
			inst.logsMu.Unlock()
			if strings.Contains(line, "demo ready") || strings.Contains(line, "demo calls not all posted") {
				once.Do(func() { close(demoDone) })
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", inst.Logs())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(inst.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case <-demoDone:
	case <-time.After(120 * time.Second):
		t.Fatalf("the demo (calls and story) was not ready within 120 s\n%s", inst.Logs())
	}
	return inst
}

// Logs returns what the server printed so far.
func (i *instance) Logs() string {
	i.logsMu.Lock()
	defer i.logsMu.Unlock()
	return i.logs.String()
}

// browser starts headless Chromium with the flags this machine needs (no network
// beyond loopback, no background services).
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is required for the browser journeys: apt-get install -y chromium (make test installs it)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshot saves the whole page as a test artifact.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := filepath.Join(repoRoot(), "artifacts", "screenshots")
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
}

// login signs in through the built-in identity provider as persona (e.g. "sam").
func login(t *testing.T, ctx context.Context, base, persona string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(tid("persona-"+persona)),
		chromedp.Click(tid("persona-"+persona)),
		chromedp.WaitVisible(tid("whoami")),
	)
	if err != nil {
		t.Fatalf("login as %s: %v", persona, err)
	}
}

// tid selects the element carrying data-testid=name.
func tid(name string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + name + `"]`) }

// text reads the visible text of the element carrying data-testid=name.
func text(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(tid(name)))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return s
}
