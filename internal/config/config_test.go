package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

const key32 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

func validServe() map[string]string {
	return map[string]string{
		"DATABASE_URL":                 "postgres://countersign@db:5432/countersign",
		"COUNTERSIGN_BASE_URL":         "https://countersign.example.com",
		"COUNTERSIGN_OIDC_ISSUER":      "https://idp.example.com",
		"COUNTERSIGN_OIDC_CLIENT_ID":   "countersign",
		"COUNTERSIGN_SESSION_KEYS":     key32,
		"COUNTERSIGN_DIALNEXA_SECRETS": "whsec_0123456789abcdef0123",
	}
}

func TestValidServeConfig(t *testing.T) {
	c, err := Load(env(validServe()), Serve)
	if err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	if c.Addr != "127.0.0.1:8080" || c.LogFormat != "json" || c.SessionIdle.Minutes() != 30 || c.SessionLifetime.Hours() != 12 {
		t.Errorf("defaults: %+v", c)
	}
	if got := c.RoleMap["finance-approvers"]; len(got) != 1 || got[0] != "finance_approver" {
		t.Errorf("default role map: %v", c.RoleMap)
	}
}

func TestValidationMessages(t *testing.T) {
	cases := []struct {
		name string
		set  map[string]string
		want string
	}{
		{"missing port", map[string]string{"COUNTERSIGN_ADDR": "localhost"}, "COUNTERSIGN_ADDR: missing port"},
		{"bad port", map[string]string{"COUNTERSIGN_ADDR": "127.0.0.1:99999"}, "COUNTERSIGN_ADDR: port"},
		{"no database", map[string]string{"DATABASE_URL": ""}, "DATABASE_URL: required"},
		{"not postgres", map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL: must be a postgres://"},
		{"plain http base", map[string]string{"COUNTERSIGN_BASE_URL": "http://countersign.example.com"}, "COUNTERSIGN_BASE_URL: must be https://"},
		{"log format", map[string]string{"COUNTERSIGN_LOG_FORMAT": "xml"}, `COUNTERSIGN_LOG_FORMAT: "xml" is not json or text`},
		{"session key short", map[string]string{"COUNTERSIGN_SESSION_KEYS": "c2hvcnQ="}, "COUNTERSIGN_SESSION_KEYS: key 1 is 5 bytes"},
		{"session key not base64", map[string]string{"COUNTERSIGN_SESSION_KEYS": "!!!"}, "COUNTERSIGN_SESSION_KEYS: key 1 is not base64"},
		{"role map role", map[string]string{"COUNTERSIGN_ROLE_MAP": "x=superuser"}, `COUNTERSIGN_ROLE_MAP: entry "x=superuser" names unknown role "superuser"`},
		{"role map shape", map[string]string{"COUNTERSIGN_ROLE_MAP": "justaword"}, `COUNTERSIGN_ROLE_MAP: entry "justaword" is not claim-value=role`},
		{"idle duration", map[string]string{"COUNTERSIGN_SESSION_IDLE": "soon"}, `COUNTERSIGN_SESSION_IDLE: "soon" is not a duration`},
		{"lifetime shorter than idle", map[string]string{"COUNTERSIGN_SESSION_IDLE": "2h", "COUNTERSIGN_SESSION_LIFETIME": "1h"}, "COUNTERSIGN_SESSION_LIFETIME: 1h0m0s is shorter"},
		{"weak webhook secret", map[string]string{"COUNTERSIGN_DIALNEXA_SECRETS": "short"}, "COUNTERSIGN_DIALNEXA_SECRETS: a secret is only 5 characters"},
		{"no issuer", map[string]string{"COUNTERSIGN_OIDC_ISSUER": ""}, "COUNTERSIGN_OIDC_ISSUER: required"},
		{"scopes without openid", map[string]string{"COUNTERSIGN_OIDC_SCOPES": "email"}, "COUNTERSIGN_OIDC_SCOPES: must include openid"},
		{"auto migrate", map[string]string{"COUNTERSIGN_AUTO_MIGRATE": "perhaps"}, `COUNTERSIGN_AUTO_MIGRATE: "perhaps" is not true or false`},
		{"connector url", map[string]string{"COUNTERSIGN_STRIPE_URL": "stripe.local"}, "COUNTERSIGN_STRIPE_URL"},
		{"retry delay", map[string]string{"COUNTERSIGN_JOB_RETRY_DELAY": "10ms"}, "COUNTERSIGN_JOB_RETRY_DELAY: 10ms is too short (at least 100ms)"},
		{"poll interval", map[string]string{"COUNTERSIGN_JOB_POLL_INTERVAL": "5ms"}, "COUNTERSIGN_JOB_POLL_INTERVAL: 5ms is too short (at least 100ms)"},
		{"stripe read rate not a number", map[string]string{"COUNTERSIGN_STRIPE_READ_RATE": "fast"}, `COUNTERSIGN_STRIPE_READ_RATE: "fast" is not a number of requests per second`},
		{"stripe read rate negative", map[string]string{"COUNTERSIGN_STRIPE_READ_RATE": "-1"}, "COUNTERSIGN_STRIPE_READ_RATE: -1 is out of range: use 0 (no pacing) to 10000"},
		{"webhook in-flight not a number", map[string]string{"COUNTERSIGN_WEBHOOK_MAX_INFLIGHT": "lots"}, `COUNTERSIGN_WEBHOOK_MAX_INFLIGHT: "lots" is not a whole number`},
		{"max connections too few", map[string]string{"COUNTERSIGN_MAX_CONNECTIONS": "3"}, "COUNTERSIGN_MAX_CONNECTIONS: 3 is out of range: use 16 to 1000000"},
		{"connector timeout short", map[string]string{"COUNTERSIGN_CONNECTOR_TIMEOUT": "1ms"}, "COUNTERSIGN_CONNECTOR_TIMEOUT: 1ms is too short"},
		{"connector timeout not a duration", map[string]string{"COUNTERSIGN_CONNECTOR_TIMEOUT": "20"}, `COUNTERSIGN_CONNECTOR_TIMEOUT: "20" is not a duration`},
		{"connector timeout after the job", map[string]string{"COUNTERSIGN_CONNECTOR_TIMEOUT": "2m"}, "COUNTERSIGN_CONNECTOR_TIMEOUT: 2m0s is not shorter than the job timeout 1m30s"},
		{"connector timeout after a short job", map[string]string{"COUNTERSIGN_CONNECTOR_TIMEOUT": "3s", "COUNTERSIGN_JOB_RESCUE_AFTER": "6s"}, "COUNTERSIGN_CONNECTOR_TIMEOUT: 3s is not shorter than the job timeout 3s"},
		{"dialnexa api key", map[string]string{"COUNTERSIGN_DIALNEXA_API_KEY": "nocolon"}, "COUNTERSIGN_DIALNEXA_API_KEY: must be key_id:secret"},
		{"static gmail token", map[string]string{"COUNTERSIGN_GMAIL_TOKEN": "ya29.x"}, "COUNTERSIGN_GMAIL_TOKEN: is no longer read"},
		{"google key not json", map[string]string{"COUNTERSIGN_GOOGLE_CREDENTIALS": "ya29.x"}, "COUNTERSIGN_GOOGLE_CREDENTIALS: is not a JSON key file"},
		{"google key not a service account", map[string]string{"COUNTERSIGN_GOOGLE_CREDENTIALS": `{"type":"authorized_user"}`}, "COUNTERSIGN_GOOGLE_CREDENTIALS: must be a service account key"},
		{"slack channel kind", map[string]string{"COUNTERSIGN_SLACK_CHANNELS": "vip=#x,default=#y"}, `COUNTERSIGN_SLACK_CHANNELS: entry "vip=#x" names unknown alert kind "vip"`},
		{"slack channel shape", map[string]string{"COUNTERSIGN_SLACK_CHANNELS": "default=finance"}, `COUNTERSIGN_SLACK_CHANNELS: channel "finance" of default is neither #name nor a channel id`},
		{"slack channels without default", map[string]string{"COUNTERSIGN_SLACK_CHANNELS": "chargeback=#disputes"}, "COUNTERSIGN_SLACK_CHANNELS: needs a default=#channel entry"},
		{"old slack channel", map[string]string{"COUNTERSIGN_SLACK_CHANNEL": "#x"}, "COUNTERSIGN_SLACK_CHANNEL: is no longer read"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := validServe()
			for k, v := range c.set {
				m[k] = v
			}
			_, err := Load(env(m), Serve)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestSlackChannelsAndGoogleSubject(t *testing.T) {
	m := validServe()
	m["COUNTERSIGN_SLACK_CHANNELS"] = "vip_blocker=#finance-vip, chargeback=C0DISPUTES1,default=#finance-alerts"
	m["COUNTERSIGN_MAIL_FROM"] = "Acme Billing <billing@acme.example>"
	m["COUNTERSIGN_OIDC_ISSUER"] = "https://acme.auth0.com/"
	c, err := Load(env(m), Serve)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Connectors.SlackChannels
	if len(got) != 3 || got["vip_blocker"] != "#finance-vip" || got["chargeback"] != "C0DISPUTES1" || got["default"] != "#finance-alerts" {
		t.Fatalf("slack channels %v", got)
	}
	if c.Connectors.GoogleSubject != "billing@acme.example" {
		t.Fatalf("google subject %q, want the address of COUNTERSIGN_MAIL_FROM", c.Connectors.GoogleSubject)
	}
	if c.OIDCIssuer != "https://acme.auth0.com/" {
		t.Fatalf("issuer %q lost its trailing slash", c.OIDCIssuer)
	}
}

func TestJobKnobs(t *testing.T) {
	m := validServe()
	m["COUNTERSIGN_JOB_RETRY_DELAY"] = "250ms"
	m["COUNTERSIGN_CONNECTOR_TIMEOUT"] = "2s"
	m["COUNTERSIGN_JOB_RESCUE_AFTER"] = "6s"
	m["COUNTERSIGN_JOB_POLL_INTERVAL"] = "200ms"
	c, err := Load(env(m), Serve)
	if err != nil {
		t.Fatal(err)
	}
	if c.JobRetryDelay.Milliseconds() != 250 || c.Connectors.Timeout.Seconds() != 2 || JobTimeout(c.JobRescueAfter).Seconds() != 3 ||
		c.JobPollInterval.Milliseconds() != 200 {
		t.Errorf("retry delay %s, connector timeout %s, job timeout %s", c.JobRetryDelay, c.Connectors.Timeout, JobTimeout(c.JobRescueAfter))
	}
	c, err = Load(env(validServe()), Serve)
	if err != nil || c.JobRetryDelay != 0 || c.JobPollInterval != 0 || c.Connectors.Timeout != 0 || JobTimeout(0) != DefaultJobTimeout {
		t.Errorf("defaults: retry delay %s, connector timeout %s, %v", c.JobRetryDelay, c.Connectors.Timeout, err)
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	_, err := Load(env(map[string]string{}), Serve)
	errs, ok := err.(Errors)
	if !ok || len(errs) < 5 {
		t.Fatalf("want every missing variable reported together, got %v", err)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "secret")
	if err := os.WriteFile(f, []byte("whsec_from_a_file_0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := validServe()
	delete(m, "COUNTERSIGN_DIALNEXA_SECRETS")
	m["COUNTERSIGN_DIALNEXA_SECRETS_FILE"] = f
	c, err := Load(env(m), Serve)
	if err != nil || len(c.DialNexaSecrets) != 1 || c.DialNexaSecrets[0] != "whsec_from_a_file_0123456789" {
		t.Fatalf("secret from file: %v %v", c.DialNexaSecrets, err)
	}
	m["COUNTERSIGN_DIALNEXA_SECRETS"] = "whsec_also_inline_0123456789"
	if _, err := Load(env(m), Serve); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("both set: %v", err)
	}
	m = validServe()
	m["COUNTERSIGN_SESSION_KEYS_FILE"] = filepath.Join(dir, "missing")
	delete(m, "COUNTERSIGN_SESSION_KEYS")
	if _, err := Load(env(m), Serve); err == nil || !strings.Contains(err.Error(), "COUNTERSIGN_SESSION_KEYS_FILE: cannot read") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestDevNeedsNothing(t *testing.T) {
	c, err := Load(env(map[string]string{}), Dev)
	if err != nil {
		t.Fatalf("dev with an empty environment: %v", err)
	}
	if c.BaseURL.String() != "http://127.0.0.1:8080" || c.LogFormat != "text" {
		t.Errorf("dev defaults: %s %s", c.BaseURL, c.LogFormat)
	}
}

// Gmail, Drive and Sheets share one Google key, which a sandbox replaces with its
// own: naming only some of them while a real key is set is refused, with the rest.
func TestSandboxSplittingTheGoogleKeyIsRefused(t *testing.T) {
	key := `{"type":"service_account","client_email":"cs@p.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"}`
	for _, c := range []struct {
		name, sandbox, smtp, want string
	}{
		{"drive only", "drive", "", "COUNTERSIGN_SANDBOX: names drive but not sheets, email"},
		{"email only over smtp", "email", "smtp.example.com:587", "COUNTERSIGN_SANDBOX: names email but not drive, sheets"},
		{"all three", "drive,sheets,email", "", ""},
		{"drive and sheets beside smtp", "drive,sheets", "smtp.example.com:587", ""},
		{"all: the key makes them real", "all", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := validServe()
			m["COUNTERSIGN_GOOGLE_CREDENTIALS"] = key
			m["COUNTERSIGN_MAIL_FROM"] = "billing@acme.example"
			m["COUNTERSIGN_SANDBOX"] = c.sandbox
			m["COUNTERSIGN_SMTP_ADDR"] = c.smtp
			_, err := Load(env(m), Serve)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}
