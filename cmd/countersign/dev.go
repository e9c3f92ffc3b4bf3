package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/pgembed"
	"github.com/countersign/countersign/internal/vault"
)

// TestDialNexaSecret is the secret the shared sample webhooks are signed with; dev
// accepts it beside its generated secret so the samples can be posted as they are.
const TestDialNexaSecret = "whsec_test_dialnexa_fixture"

// devSecrets are generated on the first `dev` start and kept in the data directory,
// so a restart keeps sessions valid and demo senders keep working.
type devSecrets struct {
	SessionKey       string `json:"session_key"`
	DialNexaSecret   string `json:"dialnexa_secret"`
	OIDCClientSecret string `json:"oidc_client_secret"`
	VaultKey         string `json:"vault_key"`
}

func loadDevSecrets(dir string) (devSecrets, error) {
	path := filepath.Join(dir, "dev-secrets.json")
	var s devSecrets
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &s); err == nil && s.SessionKey != "" && s.DialNexaSecret != "" && s.OIDCClientSecret != "" {
			if s.VaultKey != "" {
				return s, nil
			}
			// A data dir from before the vault: add its key, keep the rest.
			s.VaultKey = vault.NewKey()
			b, _ := json.MarshalIndent(s, "", "  ")
			return s, os.WriteFile(path, b, 0o600)
		}
	}
	s = devSecrets{
		SessionKey:       base64.StdEncoding.EncodeToString(randBytes(32)),
		DialNexaSecret:   "whsec_dev_" + hex.EncodeToString(randBytes(24)),
		OIDCClientSecret: hex.EncodeToString(randBytes(24)),
		VaultKey:         vault.NewKey(),
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return s, err
	}
	return s, os.WriteFile(path, b, 0o600)
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// devEnv fills the variables dev generates when the user did not set them.
func devEnv(secrets devSecrets) config.Getenv {
	return func(name string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		switch name {
		case "COUNTERSIGN_SESSION_KEYS":
			return secrets.SessionKey
		case "COUNTERSIGN_DIALNEXA_SECRETS":
			return secrets.DialNexaSecret + "," + TestDialNexaSecret
		case "COUNTERSIGN_VAULT_KEY":
			if os.Getenv("COUNTERSIGN_VAULT_KEY_FILE") == "" {
				return secrets.VaultKey
			}
		}
		return ""
	}
}

func runDev(ctx context.Context, args []string) error {
	fs := newFlags("dev", "[--no-demo]", "Run the console on embedded defaults, for trying Countersign and for development:\n"+
		"a private Postgres in COUNTERSIGN_DATA_DIR (unless DATABASE_URL is set), a built-in OpenID provider\n"+
		"with demo personas, sandbox connectors and demo calls. Setting a real variable turns that piece real.")
	noDemo := fs.Bool("no-demo", false, "do not ingest demo calls into an empty database")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	boot, err := config.Load(os.Getenv, config.Dev)
	if err != nil {
		return err
	}
	secrets, err := loadDevSecrets(boot.DataDir)
	if err != nil {
		return fmt.Errorf("dev secrets in %s: %w", boot.DataDir, err)
	}
	cfg, err := config.Load(devEnv(secrets), config.Dev)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogFormat, cfg.LogLevel)
	// The console's address is taken first: the private Postgres and the sandbox's
	// fakes listen on ports the system hands out, and one of those must never be
	// the address the user (or a test harness) chose.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another countersign running? set COUNTERSIGN_ADDR)", cfg.Addr, err)
	}
	defer ln.Close()
	if cfg.DatabaseURL == "" {
		log.Info("DATABASE_URL is not set: starting a private PostgreSQL", "data_dir", cfg.DataDir)
		cl, err := pgembed.Start(ctx, pgembed.Options{DataDir: cfg.DataDir, Log: log.Info})
		if err != nil {
			return err
		}
		defer func() {
			log.Info("stopping the private PostgreSQL")
			cl.Stop()
		}()
		cfg.DatabaseURL = cl.URL
		log.Info("private PostgreSQL ready", "port", cl.Port, "pid", cl.PID())
	}
	db, err := database.Open(ctx, cfg.DatabaseURL, database.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := database.Migrate(ctx, db.SQL, log); err != nil {
		return err
	}
	c := console{cfg: cfg, db: db, log: log, web: true, workers: true, ln: ln}
	if err := setupDev(ctx, &c, secrets); err != nil {
		return err
	}
	c.onReady = func(url string) {
		fmt.Printf("\n  Countersign is running: %s\n", url)
		fmt.Printf("  Sign in with a demo persona; Ctrl-C stops everything.\n")
		fmt.Printf("  DialNexa webhook: POST %s/webhooks/dialnexa (secret %s)\n\n", url, secrets.DialNexaSecret)
		if !*noDemo {
			go seedDemo(ctx, c, secrets)
		}
	}
	return serveConsole(ctx, c)
}
