// Package pgembed runs a private PostgreSQL cluster for `countersign dev` and for tests
// on a machine where no database was configured.
//
// It uses the machine's PostgreSQL server binaries (on PATH or under
// /usr/lib/postgresql/*/bin), initialises the cluster on first use and reuses it after.
// The server listens on loopback TCP only (no Unix socket), with password authentication
// and a generated password kept in the data directory (mode 0600). PostgreSQL refuses to
// run as root, so when the caller is root the cluster is owned by and run as an
// unprivileged account ("postgres" when it exists, else "nobody").
//
// The server is a child process in its own process group with a parent-death signal:
// Stop shuts it down cleanly (fast shutdown, checkpoint), and if the parent dies without
// calling Stop the kernel still sends the server SIGTERM, so no Postgres is orphaned.
package pgembed

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBinaries says the PostgreSQL server is not installed; its message says how to fix it.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, postgres) not found on PATH or under /usr/lib/postgresql/*/bin; " +
	"install them with `sudo apt-get install -y postgresql` (Debian/Ubuntu), or set DATABASE_URL to an existing database")

// Cluster is a running private server.
type Cluster struct {
	Dir      string // the cluster's data directory
	Port     int
	URL      string // postgres://countersign:...@127.0.0.1:port/countersign
	cmd      *exec.Cmd
	done     chan error
	logFile  *os.File
	database string
	detached bool
}

// Options say where the cluster lives.
type Options struct {
	DataDir  string // parent folder; the cluster goes in DataDir/postgres
	Port     int    // 0: the port used last time, else 54329, else any free port
	Database string // created on first start; default "countersign"
	Log      func(msg string, args ...any)
	// Detached leaves the server running after this process exits (tests share one
	// cluster across packages); Stop still stops it. Start then reuses a running one.
	Detached bool
}

// FindBinDir returns the folder holding initdb and postgres, newest major version first.
func FindBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start initialises the cluster if needed and starts the server, waiting until it accepts
// connections. The caller must call Stop.
func Start(ctx context.Context, opt Options) (*Cluster, error) {
	if opt.Log == nil {
		opt.Log = func(string, ...any) {}
	}
	if opt.Database == "" {
		opt.Database = "countersign"
	}
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	parent, err := filepath.Abs(opt.DataDir)
	if err != nil {
		return nil, fmt.Errorf("pgembed: data dir: %w", err)
	}
	dir := filepath.Join(parent, "postgres")
	cred, err := runAs(parent)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("pgembed: create %s: %w", parent, err)
	}
	password, err := ensureInit(bin, dir, cred, opt.Log)
	if err != nil {
		return nil, err
	}
	port, err := choosePort(dir, opt.Port)
	if err != nil {
		return nil, err
	}
	if opt.Detached {
		if p, ok := runningPort(dir); ok {
			c := &Cluster{Dir: dir, Port: p, database: opt.Database}
			c.URL = fmt.Sprintf("postgres://countersign:%s@127.0.0.1:%d/%s?sslmode=disable", password, p, opt.Database)
			return c, c.ensureDatabase(ctx, password)
		}
	}
	c := &Cluster{Dir: dir, Port: port, database: opt.Database, done: make(chan error, 1), detached: opt.Detached}
	if err := c.start(ctx, bin, cred); err != nil {
		return nil, err
	}
	c.URL = fmt.Sprintf("postgres://countersign:%s@127.0.0.1:%d/%s?sslmode=disable", password, port, opt.Database)
	if err := c.ensureDatabase(ctx, password); err != nil {
		c.Stop()
		return nil, err
	}
	_ = os.WriteFile(filepath.Join(parent, "postgres.port"), []byte(strconv.Itoa(port)), 0o644)
	return c, nil
}

// runAs returns the credential to run the server under: nil when not root.
func runAs(parent string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := checkTraversable(parent, uid); err != nil {
			return nil, err
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("pgembed: running as root and no unprivileged account (postgres or nobody) exists to run PostgreSQL; create one or run as a normal user")
}

// checkTraversable fails clearly when an unprivileged server could not reach the data
// directory (e.g. a checkout under /root, which is mode 0700).
func checkTraversable(dir string, uid int) error {
	for d := filepath.Dir(dir); d != "/" && d != "."; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			continue
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if ok && int(sys.Uid) != uid && st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("pgembed: PostgreSQL runs as an unprivileged user when you are root, and it cannot enter %s (mode %v); "+
				"set COUNTERSIGN_DATA_DIR to a folder outside it (e.g. /var/lib/countersign) or run `chmod o+x %s`", d, st.Mode().Perm(), d)
		}
	}
	return nil
}

func ensureInit(bin, dir string, cred *syscall.Credential, log func(string, ...any)) (string, error) {
	pwFile := filepath.Join(dir, "countersign.password")
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		pw, err := os.ReadFile(pwFile)
		if err != nil {
			return "", fmt.Errorf("pgembed: cluster in %s has no password file: %w", dir, err)
		}
		return strings.TrimSpace(string(pw)), nil
	}
	log("initialising a private PostgreSQL cluster", "dir", dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("pgembed: %w", err)
	}
	buf := make([]byte, 24)
	_, _ = rand.Read(buf)
	password := hex.EncodeToString(buf)
	tmpPw := filepath.Join(filepath.Dir(dir), ".pwfile")
	if err := os.WriteFile(tmpPw, []byte(password+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("pgembed: %w", err)
	}
	if cred != nil {
		if err := chownTree(dir, cred); err != nil {
			return "", err
		}
		_ = os.Chown(tmpPw, int(cred.Uid), int(cred.Gid))
	}
	cmd := exec.Command(filepath.Join(bin, "initdb"), "-D", dir, "-U", "countersign", "-A", "scram-sha-256",
		"--pwfile", tmpPw, "-E", "UTF8", "--locale", "C", "--no-instructions")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("pgembed: initdb failed: %w\n%s", err, out.String())
	}
	_ = os.Remove(tmpPw)
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("pgembed: %w", err)
	}
	if cred != nil {
		_ = os.Chown(pwFile, int(cred.Uid), int(cred.Gid))
	}
	return password, nil
}

func chownTree(dir string, cred *syscall.Credential) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(cred.Uid), int(cred.Gid))
	})
}

func choosePort(dir string, want int) (int, error) {
	if want > 0 {
		return want, nil
	}
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "postgres.port")); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && portFree(p) {
			return p, nil
		}
	}
	if portFree(54329) {
		return 54329, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgembed: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func (c *Cluster) start(ctx context.Context, bin string, cred *syscall.Credential) error {
	if pid, alive := runningPID(c.Dir); alive {
		return fmt.Errorf("pgembed: a PostgreSQL server (pid %d) is already running on %s; stop the other `countersign dev` first", pid, c.Dir)
	}
	logPath := filepath.Join(filepath.Dir(c.Dir), "postgres.log")
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgembed: open log: %w", err)
	}
	c.logFile = lf
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", c.Dir,
		"-p", strconv.Itoa(c.Port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
		"-c", "max_connections=200", "-c", "shared_buffers=128MB", "-c", "fsync=on", "-c", "synchronous_commit=on")
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if c.detached {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setsid: true}
	}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("pgembed: start postgres: %w", err)
	}
	c.cmd = cmd
	go func() { c.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			c.done <- err
			return fmt.Errorf("pgembed: postgres exited during start-up (%v); see %s", err, logPath)
		case <-ctx.Done():
			c.Stop()
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.Port), time.Second); err == nil {
			conn.Close()
			if c.acceptsQueries() {
				return nil
			}
		}
	}
	c.Stop()
	return fmt.Errorf("pgembed: postgres did not accept connections within 60 s; see %s", logPath)
}

// runningPID reads postmaster.pid and reports whether that process is alive.
func runningPID(dir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, syscall.Kill(pid, 0) == nil
}

// runningPort returns the port of a live server on dir (from postmaster.pid).
func runningPort(dir string) (int, bool) {
	if _, alive := runningPID(dir); !alive {
		return 0, false
	}
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return 0, false
	}
	p, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	return p, err == nil
}

// Stop shuts the server down (fast shutdown: open transactions roll back, a checkpoint
// is written) and waits for it to exit, escalating to SIGQUIT/SIGKILL after 30 s.
func (c *Cluster) Stop() {
	if c == nil || c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	}
	c.cmd = nil
	if c.logFile != nil {
		c.logFile.Close()
	}
}

// PID of the running server, 0 when stopped.
func (c *Cluster) PID() int {
	if c == nil || c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}
