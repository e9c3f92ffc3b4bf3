// Package sandbox runs the stateful connector fakes on loopback listeners, for the
// connectors COUNTERSIGN_SANDBOX names (dev: every one without credentials), and rewrites the connector configuration to
// point at them. Requests sent to a sandbox are recorded (credentials redacted) for
// the admin page; the fakes answer with realistic receipts.
//
// The fakes listen on 127.0.0.1 only and are never mounted on the console's own
// server, so a production server cannot expose them.
package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/email/gmailfake"
	"github.com/countersign/countersign/internal/connector/gauth"
	"github.com/countersign/countersign/internal/connector/gauth/gauthfake"
	"github.com/countersign/countersign/internal/connector/gdrive/drivefake"
	"github.com/countersign/countersign/internal/connector/gsheets/sheetsfake"
	"github.com/countersign/countersign/internal/connector/slack/slackfake"
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
	"github.com/countersign/countersign/internal/connector/tokenmetrics/tmfake"
	"github.com/countersign/countersign/internal/connector/zendesk/zdfake"
)

// Names of the sandboxable connectors (as in internal/jobs).
const (
	Stripe       = "stripe"
	Slack        = "slack"
	Zendesk      = "zendesk"
	Email        = "email"
	Drive        = "drive"
	Sheets       = "sheets"
	TokenMetrics = "tokenmetrics"
)

// Sandbox values the fakes are set up with.
const (
	AlertChannelID = "C0APPROVALS"
	SheetID        = "sandbox-exceptions"
	SheetTitle     = "Queue"
	DriveFolder    = "sandbox-folder"
)

// Options tune Start.
type Options struct {
	// Demo seeds the Stripe fake with an account built from the claims of the first
	// DemoCalls demo calls of DemoSeed (internal/demo), mismatches included, and
	// Token Metrics with a few tokens (dev only).
	Demo      bool
	DemoSeed  uint64
	DemoCalls int
	// All sandboxes every connector, credentials or not (tests).
	All bool
	// Names comes from COUNTERSIGN_SANDBOX: the connectors to sandbox ("all":
	// every connector without credentials). A connector neither named nor
	// configured stays off: nothing is sandboxed silently.
	Names []string
}

// wants reports whether connector name runs against a fake.
func (o Options) wants(name, cred string) bool {
	if o.All {
		return true
	}
	for _, n := range o.Names {
		if n == name || (n == "all" && cred == "") {
			return true
		}
	}
	return false
}

// Sandbox is the running fakes.
type Sandbox struct {
	// Connectors is the configuration with sandboxed connectors pointing at the fakes.
	Connectors config.Connectors
	// Sandboxed names the connectors that run against a fake.
	Sandboxed map[string]bool
	// Recorder holds the requests sent to the fakes.
	Recorder *connector.Recorder
	// StripeWebhookSecret is generated when Stripe is sandboxed, so the sandbox can
	// sign events Countersign accepts.
	StripeWebhookSecret string

	Stripe       *stripefake.Fake
	Slack        *slackfake.Fake
	Zendesk      *zdfake.Fake
	GoogleAuth   *gauthfake.Server
	Gmail        *gmailfake.Fake
	Drive        *drivefake.Fake
	Sheets       *sheetsfake.Fake
	TokenMetrics *tmfake.Fake

	mu      sync.Mutex
	urls    map[string]string
	servers []*http.Server
	charges map[string]string // invoice id -> charge id (Stripe's invoice.charge)
	save    func() error      // Persist's hook; nil when state lives in memory only
}

// Start starts a fake on 127.0.0.1:0 for each connector opt names.
func Start(k config.Connectors, opt Options) (*Sandbox, error) {
	s := &Sandbox{Connectors: k, Sandboxed: map[string]bool{}, Recorder: connector.NewRecorder(500),
		urls: map[string]string{}, charges: map[string]string{}}
	c := &s.Connectors
	var errs []error
	if opt.wants(Stripe, c.StripeKey) {
		s.Stripe = stripefake.NewUnstarted()
		c.StripeKey = "sk_test_sandbox_" + token(12)
		s.Stripe.SetKey(c.StripeKey)
		c.StripeURL, errs = s.serve(Stripe, s.persisting(s.Stripe.Handler()), errs)
		// Uploads go to their own host, as files.stripe.com is apart from api.stripe.com.
		c.StripeFilesURL, errs = s.serveAs(Stripe+" files", s.Stripe.FilesHandler(), errs)
		s.StripeWebhookSecret = "whsec_sandbox_" + token(16)
	}
	if opt.wants(Slack, c.SlackToken) {
		c.SlackToken = "xoxb-sandbox-" + token(12)
		s.Slack = slackfake.New(c.SlackToken)
		s.Slack.AddChannel(AlertChannelID, "finance-approvals")
		c.SlackChannels = s.slackChannels(c.SlackChannels)
		var base string
		base, errs = s.serve(Slack, s.Slack.Handler(), errs)
		c.SlackURL = base + "/api"
	}
	if opt.wants(Zendesk, c.ZendeskToken) {
		c.ZendeskEmail, c.ZendeskToken = "agent@sandbox.zendesk.local", "zd-sandbox-"+token(12)
		s.Zendesk = zdfake.New(c.ZendeskEmail, c.ZendeskToken)
		c.ZendeskURL, errs = s.serve(Zendesk, s.Zendesk.Handler(), errs)
	}
	errs = s.startGoogle(opt, errs)
	if opt.wants(TokenMetrics, c.TokenMetricsKey) {
		s.TokenMetrics = tmfake.NewUnstarted()
		c.TokenMetricsKey = tmfake.TestKey
		c.TokenMetricsURL, errs = s.serve(TokenMetrics, s.TokenMetrics.Handler(), errs)
	}
	if err := errors.Join(errs...); err != nil {
		s.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if opt.Demo {
		s.SeedDemo()
		if s.Stripe != nil && opt.DemoCalls > 0 {
			s.SeedAccount(opt.DemoSeed, opt.DemoCalls, time.Now().UTC())
		}
	}
	return s, nil
}

// startGoogle runs one fake token endpoint and a service account key for it (as
// Google's: delegated scopes, the subject as the one Workspace user, tokens that
// expire), then the fakes of the Google connectors opt names: Gmail (unless SMTP
// is configured and email is not named), Drive and Sheets. The three share one
// key, so config refuses a COUNTERSIGN_SANDBOX that names only some of them while
// a real key is set, and jobs.NewConnectors leaves a Google connector that is not
// sandboxed off when the key is the sandbox's.
func (s *Sandbox) startGoogle(opt Options, errs []error) []error {
	c := &s.Connectors
	mail := opt.wants(Email, c.GoogleCredentials+c.SMTPAddr)
	drive := opt.wants(Drive, c.GoogleCredentials)
	sheets := opt.wants(Sheets, c.GoogleCredentials)
	if !mail && !drive && !sheets {
		return errs
	}
	if c.GoogleSubject == "" {
		c.GoogleSubject = "billing@countersign.local"
	}
	s.GoogleAuth = gauthfake.New([]string{gauth.ScopeGmailSend, gauth.ScopeDriveFile, gauth.ScopeSheets}, c.GoogleSubject)
	base, err := s.listen(s.GoogleAuth.Handler())
	if err != nil {
		return append(errs, fmt.Errorf("google token endpoint: %w", err))
	}
	c.GoogleCredentials, c.GoogleTokenURL = string(s.GoogleAuth.CredentialsJSON(base+"/token")), ""
	if mail {
		c.SMTPAddr = ""
		s.Gmail = gmailfake.New(s.GoogleAuth)
		c.GmailURL, errs = s.serve(Email, s.Gmail.Handler(), errs)
	}
	if drive {
		c.DriveFolder = DriveFolder
		s.Drive = drivefake.New(s.GoogleAuth, DriveFolder)
		c.DriveURL, errs = s.serve(Drive, s.Drive.Handler(), errs)
	}
	if sheets {
		c.SheetsID = SheetID
		s.Sheets = sheetsfake.New(s.GoogleAuth)
		s.Sheets.AddSpreadsheet(SheetID, SheetTitle, "collections", "Exceptions")
		c.SheetsURL, errs = s.serve(Sheets, s.Sheets.Handler(), errs)
	}
	return errs
}

// slackChannels creates a channel the bot is a member of for every configured one
// (so alerts of every kind complete in dev) and returns the configuration, with
// "default=#finance-approvals" when it names no default. A name gets the same id on
// every start, as plans store ids; Persist keeps the channels in Postgres too.
func (s *Sandbox) slackChannels(configured map[string]string) map[string]string {
	out := map[string]string{"default": "#finance-approvals"}
	for kind, ch := range configured {
		out[kind] = ch
	}
	for _, ch := range out {
		name, isName := strings.CutPrefix(ch, "#")
		switch {
		case !isName:
			s.Slack.AddChannel(ch, "channel-"+strings.ToLower(ch))
		case name != "finance-approvals":
			s.Slack.AddChannel(channelID(name), name)
		}
	}
	return out
}

// serve starts h on a loopback listener and marks name sandboxed.
func (s *Sandbox) serve(name string, h http.Handler, errs []error) (string, []error) {
	url, errs := s.serveAs(name, h, errs)
	s.Sandboxed[name] = true
	return url, errs
}

// serveAs starts h on a loopback listener and records its URL under name.
func (s *Sandbox) serveAs(name string, h http.Handler, errs []error) (string, []error) {
	url, err := s.listen(h)
	if err != nil {
		return "", append(errs, fmt.Errorf("%s: listen: %w", name, err))
	}
	s.mu.Lock()
	s.urls[name] = url
	s.mu.Unlock()
	return url, errs
}

// listen serves h on 127.0.0.1 until Close.
func (s *Sandbox) listen(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	s.mu.Lock()
	s.servers = append(s.servers, srv)
	s.mu.Unlock()
	return "http://" + ln.Addr().String(), nil
}

// URLs lists each sandboxed connector's base URL, by name.
func (s *Sandbox) URLs() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.urls))
	for k, v := range s.urls {
		out[k] = v
	}
	return out
}

// Names lists the sandboxed connectors, sorted.
func (s *Sandbox) Names() []string {
	var out []string
	for k := range s.Sandboxed {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Close stops every fake.
func (s *Sandbox) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, srv := range s.servers {
		_ = srv.Close()
	}
	s.servers = nil
}

// channelID is the sandbox's id for a channel name, the same on every start.
func channelID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "C0SB" + strings.ToUpper(hex.EncodeToString(sum[:4]))
}

func token(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
