// Package config loads Countersign's configuration from the environment into one typed
// struct and validates it at start-up. Every variable is listed in Vars (which also
// feeds `countersign help` and the README table); a wrong value is reported as
// "NAME: reason". Secrets may also be given as NAME_FILE, a path whose contents are used.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/vault"
)

// Config is everything the binary reads from its environment.
type Config struct {
	DatabaseURL string
	Addr        string
	BaseURL     *url.URL
	DataDir     string
	LogFormat   string // json | text
	LogLevel    string
	AutoMigrate bool

	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCScopes       []string
	OIDCRolesClaim   string
	RoleMap          map[string][]string // claim value -> our roles

	SessionKeys     [][]byte // first signs, all verify (rotation)
	SessionIdle     time.Duration
	SessionLifetime time.Duration

	// VaultKeys seals restricted values (tax ids, bank details) kept for finance;
	// nil: they are masked and not kept.
	VaultKeys *vault.Keyring

	DialNexaSecrets      []string // current first, previous ones during a rotation
	FieldMapping         string   // overrides of the post-call analysis field mapping
	StripeWebhookSecrets []string
	// Sandbox names the connectors that run against loopback fakes
	// (COUNTERSIGN_SANDBOX: "stripe,slack,..." or "all"; dev defaults to "all",
	// which sandboxes every connector without credentials). Outside it a
	// connector without credentials is off.
	Sandbox []string

	// JobRescueAfter is how long a job may stay running before it is presumed
	// dead (its process crashed) and run again; 0 keeps the job service's default.
	JobRescueAfter time.Duration
	// JobRetryDelay is a fixed wait before a failed job's next attempt; 0 keeps
	// River's backoff (attempt^4 seconds), to which the attempt caps are sized.
	JobRetryDelay time.Duration
	// JobPollInterval is how often workers look for jobs that became due (retries,
	// snoozes) besides the LISTEN/NOTIFY wake-up on new jobs; 0 keeps 1 s.
	JobPollInterval time.Duration

	// WebhookMaxInflight bounds webhook deliveries being read, stored or waiting
	// to be stored; beyond it a delivery is answered 503 with Retry-After before its
	// body is read. 0 means the default, sized from the ingest batcher.
	WebhookMaxInflight int
	// MaxConnections bounds open client connections; further ones wait in the
	// kernel's accept queue. 0 means the default (DefaultMaxConnections).
	MaxConnections int
	// CriticalAmounts is the amount line (major units per currency, "" for any
	// other) from which a case is critical; nil keeps triage's defaults.
	CriticalAmounts map[string]int64
	// ClaimToleranceBPS is how far a claimed amount may differ from the ledger's,
	// in basis points, and still match; 0 keeps internal/enrich's default (1%).
	ClaimToleranceBPS int64
	// AlertApprovalAmounts and AlertApprovalWithin tune the finance alerts of
	// cases waiting on approval; zero values keep internal/jobs' defaults.
	AlertApprovalAmounts map[string]int64
	AlertApprovalWithin  time.Duration
	// OwnerRoutes is COUNTERSIGN_OWNER_ROUTES as written (internal/ingest parses
	// and validates it at start-up).
	OwnerRoutes string

	Connectors Connectors
}

// DefaultMaxConnections is the default of COUNTERSIGN_MAX_CONNECTIONS: an open
// connection costs about 20 kB (buffers, goroutine), so 2,048 stay under 50 MB.
const DefaultMaxConnections = 2048

// Connectors holds base URLs and credentials; an empty credential means "sandbox".
type Connectors struct {
	StripeURL, StripeKey string
	StripeFilesURL       string
	SlackURL, SlackToken string
	// SlackChannels maps an alert kind (SlackAlertKinds) to a channel, "#name" or
	// an id; "default" is used for kinds not named.
	SlackChannels                          map[string]string
	ZendeskURL, ZendeskEmail, ZendeskToken string
	// GoogleCredentials is the service account's JSON key (Gmail, Drive, Sheets),
	// used with domain-wide delegation as GoogleSubject; GoogleTokenURL, when set,
	// replaces the key's token_uri (tests, the sandbox).
	GoogleCredentials, GoogleSubject, GoogleTokenURL string
	GmailURL                                         string
	SMTPAddr, SMTPUser, SMTPPassword                 string
	MailFrom                                         string
	DriveURL, DriveFolder                            string
	SheetsURL, SheetsID                              string
	TokenMetricsURL, TokenMetricsKey                 string
	DialNexaAPIURL, DialNexaAPIKey                   string
	// Timeout bounds one connector call; 0 means connector.DefaultTimeout (20 s).
	Timeout time.Duration
	// StripeReadRate paces Stripe lookups per process (requests/s; 0: no pacing).
	StripeReadRate float64
}

// DefaultJobTimeout is how long one job may run when COUNTERSIGN_JOB_RESCUE_AFTER
// keeps its default (internal/jobs.JobTimeout).
const DefaultJobTimeout = 90 * time.Second

// JobTimeout is how long one job may run for a given rescue delay (0: the default):
// DefaultJobTimeout, or half the rescue delay when that is shorter, because River
// must not presume a job dead while it may still legitimately run.
func JobTimeout(rescueAfter time.Duration) time.Duration {
	if rescueAfter > 0 {
		return min(DefaultJobTimeout, rescueAfter/2)
	}
	return DefaultJobTimeout
}

// Var documents one environment variable.
type Var struct {
	Name, Default, Help string
	Secret              bool
}

// Vars lists every variable the binary reads, in README order.
var Vars = []Var{
	{"DATABASE_URL", "(dev: a private cluster in COUNTERSIGN_DATA_DIR)", "Postgres connection URL. Required by serve.", true},
	{"COUNTERSIGN_ADDR", "127.0.0.1:8080", "Listen address host:port.", false},
	{"COUNTERSIGN_BASE_URL", "http://<COUNTERSIGN_ADDR>", "Public URL of the console, used for redirects, links and the OIDC callback.", false},
	{"COUNTERSIGN_DATA_DIR", "./.countersign", "Where dev keeps its Postgres cluster and generated secrets.", false},
	{"COUNTERSIGN_LOG_FORMAT", "text (dev), json (serve)", "Log format: json or text.", false},
	{"COUNTERSIGN_LOG_LEVEL", "info", "debug, info, warn or error.", false},
	{"COUNTERSIGN_PPROF_ADDR", "", "Loopback host:port to serve Go's profiler on (diagnosis only).", false},
	{"COUNTERSIGN_AUTO_MIGRATE", "false", "serve applies pending migrations at start (same as --migrate).", false},
	{"COUNTERSIGN_JOB_RESCUE_AFTER", "10m", "How long a job may stay running before it is presumed dead (its worker process crashed) and run again, at least 2s. Below 3m the job timeout (90s) shrinks to half of it; lower it only for tests.", false},
	{"COUNTERSIGN_JOB_RETRY_DELAY", "(River's backoff: attempt^4 s)", "Fixed wait before a failed job is tried again, at least 100ms, instead of River's backoff of attempt^4 seconds (1s, 16s, 81s, ...: Stripe's 12 attempts span about 11h, inside its 24h idempotency window). The attempt caps are sized to the default; set it only for tests.", false},
	{"COUNTERSIGN_JOB_POLL_INTERVAL", "1s", "How often job workers look for jobs that became due (a retry or a provider-requested wait ending); new jobs wake them at once. At least 100ms; each poll is one query per queue.", false},
	{"COUNTERSIGN_CONNECTOR_TIMEOUT", "20s", "How long one connector call (Stripe, Slack, Zendesk, email, Drive, Sheets, ...) may take before it is abandoned as a timeout and retried; at least 100ms and shorter than the job timeout (90s, or half of COUNTERSIGN_JOB_RESCUE_AFTER).", false},
	{"COUNTERSIGN_STRIPE_READ_RATE", "80", "Stripe read requests (claim-check lookups) per second this process may send, 0 to 10000; 0 turns pacing off. Stripe allows about 100 reads/s per account in live mode (25 in test mode): with several worker processes give each its share. A burst of calls then queues its claim checks instead of meeting 429s; writes (refunds) are never delayed.", false},
	{"COUNTERSIGN_WEBHOOK_MAX_INFLIGHT", "256 (what the ingest batcher's 4 flushes of 64 hold)", "Webhook deliveries this process holds at once (reading, storing, waiting for a batch), 1 to 100000; beyond it a delivery is answered 503 with Retry-After: 1 before its body is read, and counted (countersign_webhook_deliveries_total{outcome=\"overloaded\"}).", false},
	{"COUNTERSIGN_MAX_CONNECTIONS", "2048", "Open HTTP connections this process accepts at once, 16 to 1000000; further ones wait in the kernel's accept queue. Bounds memory under any offered load.", false},
	{"COUNTERSIGN_OIDC_ISSUER", "(dev: the built-in provider)", "OpenID Connect issuer URL. Required by serve.", false},
	{"COUNTERSIGN_OIDC_CLIENT_ID", "(dev: countersign-dev)", "OIDC client id. Required by serve.", false},
	{"COUNTERSIGN_OIDC_CLIENT_SECRET", "", "OIDC client secret (or _FILE).", true},
	{"COUNTERSIGN_OIDC_SCOPES", "openid,email,profile,groups", "Scopes requested at login.", false},
	{"COUNTERSIGN_OIDC_ROLES_CLAIM", "groups", "ID token claim carrying groups or roles.", false},
	{"COUNTERSIGN_ROLE_MAP", "support-leads=support_lead,finance-approvers=finance_approver,admins=admin,auditors=auditor", "Claim value to role mapping; a value may map to several roles with '+'.", false},
	{"COUNTERSIGN_SESSION_KEYS", "(dev: generated and kept in the data dir)", "Comma-separated base64 keys (32 or 64 bytes); the first signs new cookies, all verify. Required by serve.", true},
	{"COUNTERSIGN_SESSION_IDLE", "30m", "Idle timeout of a console session.", false},
	{"COUNTERSIGN_SESSION_LIFETIME", "12h", "Absolute lifetime of a console session.", false},
	{"COUNTERSIGN_DIALNEXA_SECRETS", "(dev: generated, plus the test secret)", "Comma-separated webhook secrets, current first. Required by serve.", true},
	{"COUNTERSIGN_VAULT_KEY", "(dev: generated and kept in the data dir)", "Keys sealing the restricted values (tax ids, bank details) finance may reveal: comma-separated id:base64 entries of 32 random bytes (`openssl rand -base64 32`), the first seals, all open (rotation). Or _FILE. Unset in serve: such values are masked and not kept.", true},
	{"COUNTERSIGN_FIELD_MAPPING", "", "Overrides of the post-call analysis field names, e.g. intent=my_intent,amount=claimed_amount.", false},
	{"COUNTERSIGN_CRITICAL_AMOUNTS", "default=10000,JPY=1500000,KRW=15000000", "Amount in whole units, per currency (default: any other), from which a case is critical by its amount alone, e.g. USD=5000,EUR=5000,default=10000 (internal/triage doc.go lists every urgency rule).", false},
	{"COUNTERSIGN_CLAIM_TOLERANCE_BPS", "100", "How far, in basis points of the billing system's amount (100 = 1%, at least one cent), a claimed amount may differ and still match; outside it the claim check sends the case to review. 0 to 5000.", false},
	{"COUNTERSIGN_ALERT_APPROVAL_AMOUNTS", "default=5000,JPY=750000,KRW=7500000", "Amount in whole units, per currency (default: any other), from which a case waiting on approval raises a Slack alert.", false},
	{"COUNTERSIGN_ALERT_APPROVAL_WITHIN", "4h", "A case still waiting on approval this close to its deadline raises a Slack alert.", false},
	{"COUNTERSIGN_OWNER_ROUTES", "", "Who owns a new case, by kind, amount, currency, tax region and VIP, first match wins, e.g. kind:payment_blocker&vip=VIP desk (Dana);kind:refund&amount>=1000&currency:USD=Fiona Finance;region:EU=EU finance. Unmatched cases keep their queue's team.", false},
	{"COUNTERSIGN_STRIPE_WEBHOOK_SECRETS", "", "Stripe webhook signing secrets (whsec_...), comma-separated.", true},
	{"COUNTERSIGN_SANDBOX", "dev: all", "Connectors run against loopback fakes: comma-separated names (stripe, slack, zendesk, email, drive, sheets, tokenmetrics) or all; in serve, a connector neither configured nor listed is off.", false},
	{"COUNTERSIGN_STRIPE_URL", "https://api.stripe.com", "Stripe API base URL.", false},
	{"COUNTERSIGN_STRIPE_FILES_URL", "https://files.stripe.com", "Stripe upload host (dispute evidence files).", false},
	{"COUNTERSIGN_STRIPE_KEY", "", "Stripe restricted key (rk_...); empty: off unless COUNTERSIGN_SANDBOX names it (dev: sandbox).", true},
	{"COUNTERSIGN_SLACK_URL", "https://slack.com/api", "Slack Web API base URL.", false},
	{"COUNTERSIGN_SLACK_TOKEN", "", "Slack bot token (xoxb-...); empty: off unless COUNTERSIGN_SANDBOX names it (dev: sandbox).", true},
	{"COUNTERSIGN_SLACK_CHANNELS", "default=#finance-approvals", "Slack channel per alert kind, kind=#channel (or a channel id), comma-separated; kinds: vip_blocker, duplicate_charge, chargeback, attention, default (used for kinds not named). Names are resolved to ids once with conversations.list.", false},
	{"COUNTERSIGN_ZENDESK_URL", "https://example.zendesk.com", "Zendesk base URL.", false},
	{"COUNTERSIGN_ZENDESK_EMAIL", "", "Zendesk agent email for API-token auth.", false},
	{"COUNTERSIGN_ZENDESK_TOKEN", "", "Zendesk API token; empty: off unless COUNTERSIGN_SANDBOX names it (dev: sandbox).", true},
	{"COUNTERSIGN_GOOGLE_CREDENTIALS", "", "Google service account JSON key (use _FILE) with domain-wide delegation, for Gmail, Drive and Sheets; empty: email needs SMTP, Drive and Sheets are off, unless COUNTERSIGN_SANDBOX names them (dev: sandbox).", true},
	{"COUNTERSIGN_GOOGLE_SUBJECT", "(the address of COUNTERSIGN_MAIL_FROM)", "Workspace user the service account acts as: the mailbox mail is sent from, the owner of uploads and the editor of the sheet.", false},
	{"COUNTERSIGN_GOOGLE_TOKEN_URL", "(the key's token_uri)", "Google OAuth token endpoint; set only to test against a fake.", false},
	{"COUNTERSIGN_GMAIL_URL", "https://gmail.googleapis.com", "Gmail API base URL.", false},
	{"COUNTERSIGN_SMTP_ADDR", "", "SMTP relay host:port (alternative to Gmail).", false},
	{"COUNTERSIGN_SMTP_USER", "", "SMTP user.", false},
	{"COUNTERSIGN_SMTP_PASSWORD", "", "SMTP password.", true},
	{"COUNTERSIGN_MAIL_FROM", "billing@countersign.local", "From address of customer emails.", false},
	{"COUNTERSIGN_DRIVE_URL", "https://www.googleapis.com", "Google Drive API base URL.", false},
	{"COUNTERSIGN_DRIVE_FOLDER", "", "Drive folder id for invoices and credit notes.", false},
	{"COUNTERSIGN_SHEETS_URL", "https://sheets.googleapis.com", "Google Sheets API base URL.", false},
	{"COUNTERSIGN_SHEETS_ID", "", "Spreadsheet id of the exception review queue.", false},
	{"COUNTERSIGN_TOKENMETRICS_URL", "https://api.tokenmetrics.com/v2", "Token Metrics API base URL.", false},
	{"COUNTERSIGN_TOKENMETRICS_KEY", "", "Token Metrics API key; empty: off unless COUNTERSIGN_SANDBOX names it (dev: sandbox).", true},
	{"COUNTERSIGN_DIALNEXA_API_URL", "https://api.dialnexa.com", "DialNexa API base URL (call backfill).", false},
	{"COUNTERSIGN_DIALNEXA_API_KEY", "", "DialNexa API key as key_id:secret; empty: no backfill.", true},
}

// Getenv reads a variable; tests pass a map-backed one.
type Getenv func(string) string

var sandboxable = map[string]bool{"all": true, "stripe": true, "slack": true, "zendesk": true, "email": true,
	"drive": true, "sheets": true, "tokenmetrics": true}

// Mode says which defaults apply.
type Mode int

const (
	// Serve is production: required variables must be set.
	Serve Mode = iota
	// Dev fills every gap with an embedded default.
	Dev
)

// Errors collects every problem found, so the user fixes them all in one go.
type Errors []error

func (e Errors) Error() string {
	s := make([]string, len(e))
	for i, err := range e {
		s[i] = err.Error()
	}
	return strings.Join(s, "\n")
}

type loader struct {
	get  Getenv
	errs Errors
}

func (l *loader) fail(name, format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

// str reads NAME, or the file named by NAME_FILE for secrets.
func (l *loader) str(name, def string) string {
	v := strings.TrimSpace(l.get(name))
	if f := strings.TrimSpace(l.get(name + "_FILE")); f != "" {
		if v != "" {
			l.fail(name, "set either %s or %s_FILE, not both", name, name)
			return v
		}
		b, err := os.ReadFile(f)
		if err != nil {
			l.fail(name+"_FILE", "cannot read %s: %v", f, errors.Unwrap(err))
			return ""
		}
		v = strings.TrimSpace(string(b))
	}
	if v == "" {
		return def
	}
	return v
}

func (l *loader) list(name, def string) []string {
	var out []string
	for _, s := range strings.Split(l.str(name, def), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (l *loader) duration(name string, def time.Duration, min time.Duration) time.Duration {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		l.fail(name, "%q is not a duration (use e.g. 30m or 12h)", v)
		return def
	}
	if d < min {
		l.fail(name, "%s is too short (at least %s)", d, min)
	}
	return d
}

func (l *loader) integer(name string, def, lo, hi int) int {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		l.fail(name, "%q is not a whole number", v)
		return def
	case n < lo || n > hi:
		l.fail(name, "%d is out of range: use %d to %d", n, lo, hi)
		return def
	}
	return n
}

func (l *loader) boolean(name string, def bool) bool {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.fail(name, "%q is not true or false", v)
	}
	return b
}

// Load reads and validates the configuration for mode.
func Load(get Getenv, mode Mode) (*Config, error) {
	l := &loader{get: get}
	c := &Config{
		DatabaseURL: l.str("DATABASE_URL", ""),
		Addr:        l.str("COUNTERSIGN_ADDR", "127.0.0.1:8080"),
		DataDir:     l.str("COUNTERSIGN_DATA_DIR", "./.countersign"),
		LogLevel:    l.str("COUNTERSIGN_LOG_LEVEL", "info"),
		AutoMigrate: l.boolean("COUNTERSIGN_AUTO_MIGRATE", false),
	}
	c.LogFormat = l.str("COUNTERSIGN_LOG_FORMAT", map[Mode]string{Serve: "json", Dev: "text"}[mode])
	l.validateBasics(c, mode)
	l.loadAuth(c, mode)
	c.DialNexaSecrets = l.list("COUNTERSIGN_DIALNEXA_SECRETS", "")
	for _, s := range c.DialNexaSecrets {
		if len(s) < 16 {
			l.fail("COUNTERSIGN_DIALNEXA_SECRETS", "a secret is only %d characters; use at least 16 (32 random bytes recommended)", len(s))
		}
	}
	if mode == Serve && len(c.DialNexaSecrets) == 0 {
		l.fail("COUNTERSIGN_DIALNEXA_SECRETS", "required: the webhook secret configured in DialNexa")
	}
	if spec := l.str("COUNTERSIGN_VAULT_KEY", ""); spec != "" {
		k, err := vault.ParseKeys(spec)
		if err != nil {
			l.fail("COUNTERSIGN_VAULT_KEY", "%v", err)
		}
		c.VaultKeys = k
	}
	c.FieldMapping = l.str("COUNTERSIGN_FIELD_MAPPING", "")
	l.loadWorkflow(c)
	c.StripeWebhookSecrets = l.list("COUNTERSIGN_STRIPE_WEBHOOK_SECRETS", "")
	c.Sandbox = l.list("COUNTERSIGN_SANDBOX", map[Mode]string{Serve: "", Dev: "all"}[mode])
	for _, n := range c.Sandbox {
		if !sandboxable[n] {
			l.fail("COUNTERSIGN_SANDBOX", "%q is not a connector that can be sandboxed (stripe, slack, zendesk, email, drive, sheets, tokenmetrics, or all)", n)
		}
	}
	c.JobRescueAfter = l.duration("COUNTERSIGN_JOB_RESCUE_AFTER", 0, 2*time.Second)
	c.JobRetryDelay = l.duration("COUNTERSIGN_JOB_RETRY_DELAY", 0, 100*time.Millisecond)
	c.JobPollInterval = l.duration("COUNTERSIGN_JOB_POLL_INTERVAL", 0, 100*time.Millisecond)
	c.WebhookMaxInflight = l.integer("COUNTERSIGN_WEBHOOK_MAX_INFLIGHT", 0, 1, 100000)
	c.MaxConnections = l.integer("COUNTERSIGN_MAX_CONNECTIONS", DefaultMaxConnections, 16, 1000000)
	l.loadConnectors(c)
	l.checkGoogleSandbox(c)
	c.Connectors.Timeout = l.duration("COUNTERSIGN_CONNECTOR_TIMEOUT", 0, 100*time.Millisecond)
	if jt := JobTimeout(c.JobRescueAfter); c.Connectors.Timeout > 0 && c.Connectors.Timeout >= jt {
		// A call must end before its job does, so that a silent peer ends the attempt
		// (a classified timeout, retried), not the job.
		l.fail("COUNTERSIGN_CONNECTOR_TIMEOUT", "%s is not shorter than the job timeout %s (90s, or half of COUNTERSIGN_JOB_RESCUE_AFTER)",
			c.Connectors.Timeout, jt)
	}
	if len(l.errs) > 0 {
		return c, l.errs
	}
	return c, nil
}

func (l *loader) validateBasics(c *Config, mode Mode) {
	if mode == Serve && c.DatabaseURL == "" {
		l.fail("DATABASE_URL", "required (e.g. postgres://countersign@db.internal:5432/countersign)")
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			l.fail("DATABASE_URL", "must be a postgres:// or postgresql:// URL")
		}
	}
	host, port, err := net.SplitHostPort(c.Addr)
	switch {
	case err != nil && strings.Contains(err.Error(), "missing port"):
		l.fail("COUNTERSIGN_ADDR", "missing port (use host:port, e.g. 127.0.0.1:8080)")
	case err != nil:
		l.fail("COUNTERSIGN_ADDR", "%q is not host:port", c.Addr)
	default:
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			l.fail("COUNTERSIGN_ADDR", "port %q is not a number between 0 and 65535", port)
		}
	}
	base := l.str("COUNTERSIGN_BASE_URL", "")
	if base == "" {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		base = "http://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.fail("COUNTERSIGN_BASE_URL", "%q must be an absolute http(s) URL such as https://countersign.example.com", base)
		u, _ = url.Parse("http://127.0.0.1:8080")
	} else if mode == Serve && u.Scheme != "https" && !IsLoopback(u.Hostname()) {
		l.fail("COUNTERSIGN_BASE_URL", "must be https:// unless the host is loopback (session cookies are Secure)")
	}
	c.BaseURL = u
	if c.LogFormat != "json" && c.LogFormat != "text" {
		l.fail("COUNTERSIGN_LOG_FORMAT", "%q is not json or text", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		l.fail("COUNTERSIGN_LOG_LEVEL", "%q is not debug, info, warn or error", c.LogLevel)
	}
}

// IsLoopback reports whether host names this machine only.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (l *loader) loadConnectors(c *Config) {
	k := &c.Connectors
	k.StripeURL = l.url("COUNTERSIGN_STRIPE_URL", "https://api.stripe.com")
	k.StripeFilesURL = l.url("COUNTERSIGN_STRIPE_FILES_URL", "https://files.stripe.com")
	k.StripeKey = l.str("COUNTERSIGN_STRIPE_KEY", "")
	k.SlackURL = l.url("COUNTERSIGN_SLACK_URL", "https://slack.com/api")
	k.SlackToken = l.str("COUNTERSIGN_SLACK_TOKEN", "")
	k.SlackChannels = l.slackChannels()
	k.ZendeskURL = l.url("COUNTERSIGN_ZENDESK_URL", "https://example.zendesk.com")
	k.ZendeskEmail = l.str("COUNTERSIGN_ZENDESK_EMAIL", "")
	k.ZendeskToken = l.str("COUNTERSIGN_ZENDESK_TOKEN", "")
	k.GmailURL = l.url("COUNTERSIGN_GMAIL_URL", "https://gmail.googleapis.com")
	k.SMTPAddr = l.str("COUNTERSIGN_SMTP_ADDR", "")
	k.SMTPUser = l.str("COUNTERSIGN_SMTP_USER", "")
	k.SMTPPassword = l.str("COUNTERSIGN_SMTP_PASSWORD", "")
	k.MailFrom = l.str("COUNTERSIGN_MAIL_FROM", "billing@countersign.local")
	k.DriveURL = l.url("COUNTERSIGN_DRIVE_URL", "https://www.googleapis.com")
	k.DriveFolder = l.str("COUNTERSIGN_DRIVE_FOLDER", "")
	k.SheetsURL = l.url("COUNTERSIGN_SHEETS_URL", "https://sheets.googleapis.com")
	l.loadGoogle(k)
	k.SheetsID = l.str("COUNTERSIGN_SHEETS_ID", "")
	k.TokenMetricsURL = l.url("COUNTERSIGN_TOKENMETRICS_URL", "https://api.tokenmetrics.com/v2")
	k.TokenMetricsKey = l.str("COUNTERSIGN_TOKENMETRICS_KEY", "")
	k.DialNexaAPIURL = l.url("COUNTERSIGN_DIALNEXA_API_URL", "https://api.dialnexa.com")
	k.DialNexaAPIKey = l.str("COUNTERSIGN_DIALNEXA_API_KEY", "")
	k.StripeReadRate = 80
	if v := l.str("COUNTERSIGN_STRIPE_READ_RATE", ""); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		switch {
		case err != nil || math.IsNaN(r):
			l.fail("COUNTERSIGN_STRIPE_READ_RATE", "%q is not a number of requests per second (e.g. 80, or 0 for no pacing)", v)
		case r < 0 || r > 10000:
			l.fail("COUNTERSIGN_STRIPE_READ_RATE", "%s is out of range: use 0 (no pacing) to 10000", v)
		default:
			k.StripeReadRate = r
		}
	}
	if k.SMTPAddr != "" {
		if _, _, err := net.SplitHostPort(k.SMTPAddr); err != nil {
			l.fail("COUNTERSIGN_SMTP_ADDR", "%q is not host:port", k.SMTPAddr)
		}
	}
	if k.DialNexaAPIKey != "" && !strings.Contains(k.DialNexaAPIKey, ":") {
		l.fail("COUNTERSIGN_DIALNEXA_API_KEY", "must be key_id:secret")
	}
}

func (l *loader) url(name, def string) string {
	v := strings.TrimRight(l.str(name, def), "/")
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.fail(name, "%q must be an absolute http(s) URL", v)
	}
	return v
}

// loadGoogle reads the service account key and checks it is one: a static access
// token (the old COUNTERSIGN_*_TOKEN variables) expires within the hour.
func (l *loader) loadGoogle(k *Connectors) {
	for _, old := range []string{"COUNTERSIGN_GMAIL_TOKEN", "COUNTERSIGN_DRIVE_TOKEN", "COUNTERSIGN_SHEETS_TOKEN"} {
		if l.get(old) != "" || l.get(old+"_FILE") != "" {
			l.fail(old, "is no longer read: Google access tokens expire within an hour; set COUNTERSIGN_GOOGLE_CREDENTIALS_FILE to a service account key with domain-wide delegation instead (README: Google)")
		}
	}
	k.GoogleCredentials = l.str("COUNTERSIGN_GOOGLE_CREDENTIALS", "")
	k.GoogleTokenURL = l.str("COUNTERSIGN_GOOGLE_TOKEN_URL", "")
	k.GoogleSubject = l.str("COUNTERSIGN_GOOGLE_SUBJECT", "")
	if k.GoogleSubject == "" {
		if a, err := mail.ParseAddress(k.MailFrom); err == nil {
			k.GoogleSubject = a.Address
		}
	}
	if k.GoogleCredentials == "" {
		return
	}
	var key struct {
		Type, ClientEmail, PrivateKey string
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(k.GoogleCredentials), &raw); err != nil {
		l.fail("COUNTERSIGN_GOOGLE_CREDENTIALS", "is not a JSON key file: %v", err)
		return
	}
	key.Type, _ = raw["type"].(string)
	key.ClientEmail, _ = raw["client_email"].(string)
	key.PrivateKey, _ = raw["private_key"].(string)
	if key.Type != "service_account" || key.ClientEmail == "" || key.PrivateKey == "" {
		l.fail("COUNTERSIGN_GOOGLE_CREDENTIALS", "must be a service account key (type service_account, with client_email and private_key), as downloaded from Google Cloud IAM")
	}
	if !strings.Contains(k.GoogleSubject, "@") {
		l.fail("COUNTERSIGN_GOOGLE_SUBJECT", "%q is not a Workspace user's address: domain-wide delegation needs the mailbox to act as", k.GoogleSubject)
	}
}

// checkGoogleSandbox refuses a COUNTERSIGN_SANDBOX that names some of the
// connectors sharing a real Google key but not all: the sandbox replaces the key
// with its own, so the others would run against Google with a fake key.
func (l *loader) checkGoogleSandbox(c *Config) {
	k := c.Connectors
	if k.GoogleCredentials == "" {
		return
	}
	shared := []string{"drive", "sheets"}
	if k.SMTPAddr == "" || slices.Contains(c.Sandbox, "email") {
		shared = append(shared, "email")
	}
	var named, missing []string
	for _, n := range shared {
		if slices.Contains(c.Sandbox, n) {
			named = append(named, n)
		} else {
			missing = append(missing, n)
		}
	}
	if len(named) > 0 && len(missing) > 0 {
		l.fail("COUNTERSIGN_SANDBOX", "names %s but not %s, which share COUNTERSIGN_GOOGLE_CREDENTIALS_FILE: sandbox all of %s or none",
			strings.Join(named, ", "), strings.Join(missing, ", "), strings.Join(shared, ", "))
	}
}

// SlackAlertKinds are the kinds of Slack alert a channel can be configured for: the
// case alerts' reasons (jobs.Alert*: a VIP payment blocker, a duplicate charge, a
// chargeback, a failed renewal, an approval deadline close, a large amount waiting
// on approval, a promise to pay due), an action that needs a person, and the
// default for any kind not named.
var SlackAlertKinds = []string{"vip_blocker", "duplicate_charge", "chargeback", "renewal_failure",
	"approval_deadline", "awaiting_approval", "promise_due", "attention", "default"}

// slackChannels parses COUNTERSIGN_SLACK_CHANNELS ("kind=#channel,...").
func (l *loader) slackChannels() map[string]string {
	const name = "COUNTERSIGN_SLACK_CHANNELS"
	if l.get("COUNTERSIGN_SLACK_CHANNEL") != "" {
		l.fail("COUNTERSIGN_SLACK_CHANNEL", "is no longer read: set %s=default=<channel> (and a channel per alert kind if you like)", name)
	}
	m := map[string]string{}
	for _, entry := range l.list(name, "default=#finance-approvals") {
		kind, ch, ok := strings.Cut(entry, "=")
		kind, ch = strings.TrimSpace(kind), strings.TrimSpace(ch)
		switch {
		case !ok || ch == "":
			l.fail(name, "entry %q is not kind=#channel", entry)
		case !slices.Contains(SlackAlertKinds, kind):
			l.fail(name, "entry %q names unknown alert kind %q (known: %s)", entry, kind, strings.Join(SlackAlertKinds, ", "))
		case !strings.HasPrefix(ch, "#") && !slackID.MatchString(ch):
			l.fail(name, "channel %q of %s is neither #name nor a channel id (C0123ABCD)", ch, kind)
		default:
			m[kind] = ch
		}
	}
	if m["default"] == "" {
		l.fail(name, "needs a default=#channel entry for the alert kinds it does not name")
	}
	return m
}

var slackID = regexp.MustCompile(`^[CG][A-Z0-9]{8,}$`)
