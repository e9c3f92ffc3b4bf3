package jobs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/dialnexaapi"
	"github.com/countersign/countersign/internal/connector/email"
	"github.com/countersign/countersign/internal/connector/gauth"
	"github.com/countersign/countersign/internal/connector/gdrive"
	"github.com/countersign/countersign/internal/connector/gsheets"
	"github.com/countersign/countersign/internal/connector/slack"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/connector/tokenmetrics"
	"github.com/countersign/countersign/internal/connector/zendesk"
)

// Connector names as stored in actions.connector and shown on the health panel.
const (
	Stripe       = "stripe"
	Slack        = "slack"
	Zendesk      = "zendesk"
	Email        = "email"
	Drive        = "drive"
	Sheets       = "sheets"
	TokenMetrics = "tokenmetrics"
	DialNexa     = "dialnexa"
)

// AllConnectors in display order.
var AllConnectors = []string{Stripe, Slack, Zendesk, Email, Drive, Sheets, TokenMetrics, DialNexa}

// Mode says whether a connector talks to the real system or to a sandbox fake.
type Mode string

// Modes.
const (
	Real    Mode = "real"
	Sandbox Mode = "sandbox"
	Off     Mode = "off" // not configured and no sandbox (DialNexa backfill without a key)
)

// Connectors are the clients the workers call. A nil client means the connector is
// off; an action for it needs attention.
type Connectors struct {
	Stripe *stripe.Client
	Slack  *slack.Client
	// SlackChannels is COUNTERSIGN_SLACK_CHANNELS: alert kind -> "#name" or id.
	SlackChannels map[string]string
	Zendesk       *zendesk.Client
	// ZendeskURL and StripeDashboard make the links a case's record URL becomes
	// once its ticket or Stripe object exists.
	ZendeskURL      string
	StripeDashboard string
	Email           email.Sender
	EmailKind       string // gmail | smtp
	MailFrom        string
	Drive           *gdrive.Client
	DriveFolder     string
	Sheets          *gsheets.Client
	SheetsID        string
	TokenMetrics    *tokenmetrics.Client
	DialNexa        *dialnexaapi.Client
	// Modes holds every connector's mode; Recorder the requests sent to sandboxes.
	Modes    map[string]Mode
	Recorder *connector.Recorder
}

// Sandboxed reports whether name runs against a fake.
func (c *Connectors) Sandboxed(name string) bool { return c != nil && c.Modes[name] == Sandbox }

// NewConnectors builds the clients from k. sandboxed names the connectors whose URL
// and credentials in k point at a loopback fake (internal/sandbox); their requests go
// through rec. Every call is bounded by k.Timeout (COUNTERSIGN_CONNECTOR_TIMEOUT;
// connector.DefaultTimeout, 20 s, when 0), shorter than the job timeout.
func NewConnectors(k config.Connectors, sandboxed map[string]bool, rec *connector.Recorder) (*Connectors, error) {
	c := &Connectors{Modes: map[string]Mode{}, Recorder: rec, SlackChannels: k.SlackChannels,
		MailFrom: k.MailFrom, DriveFolder: k.DriveFolder, SheetsID: k.SheetsID}
	hc := func(name string) *http.Client {
		h := connector.NewHTTPClient(k.Timeout)
		if sandboxed[name] && rec != nil {
			h = rec.Wrap(name, h)
		}
		return h
	}
	mode := func(name string, configured bool) {
		switch {
		case sandboxed[name]:
			c.Modes[name] = Sandbox
		case configured:
			c.Modes[name] = Real
		default:
			c.Modes[name] = Off
		}
	}
	var errs []error
	c.ZendeskURL, c.StripeDashboard = strings.TrimRight(k.ZendeskURL, "/"), "https://dashboard.stripe.com"
	if sandboxed[Stripe] || strings.Contains(k.StripeKey, "_test_") {
		c.StripeDashboard += "/test"
	}
	mode(Stripe, k.StripeKey != "")
	if k.StripeKey != "" {
		c.Stripe = stripe.New(stripe.Config{BaseURL: k.StripeURL, FilesURL: k.StripeFilesURL, Key: k.StripeKey, HTTPClient: hc(Stripe),
			ReadsPerSecond: k.StripeReadRate})
	}
	mode(Slack, k.SlackToken != "")
	if k.SlackToken != "" {
		cl, err := slack.New(slack.Config{BaseURL: k.SlackURL, Token: k.SlackToken, HTTPClient: hc(Slack)})
		errs = append(errs, err)
		c.Slack = cl
	}
	mode(Zendesk, k.ZendeskToken != "")
	if k.ZendeskToken != "" {
		cl, err := zendesk.New(zendesk.Config{BaseURL: k.ZendeskURL, Email: k.ZendeskEmail, APIToken: k.ZendeskToken,
			OAuthToken: oauthIfNoEmail(k.ZendeskEmail, k.ZendeskToken), HTTPClient: hc(Zendesk)})
		errs = append(errs, err)
		c.Zendesk = cl
	}
	errs = append(errs, c.google(k, sandboxed, hc, mode))
	mode(TokenMetrics, k.TokenMetricsKey != "")
	if k.TokenMetricsKey != "" {
		c.TokenMetrics = tokenmetrics.New(tokenmetrics.Config{BaseURL: k.TokenMetricsURL, APIKey: k.TokenMetricsKey, HTTPClient: hc(TokenMetrics)})
	}
	mode(DialNexa, k.DialNexaAPIKey != "")
	if id, secret, ok := strings.Cut(k.DialNexaAPIKey, ":"); ok {
		c.DialNexa = dialnexaapi.New(dialnexaapi.Config{BaseURL: k.DialNexaAPIURL, KeyID: id, Secret: secret, HTTPClient: hc(DialNexa)})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("connectors: %w", err)
	}
	return c, nil
}

// SlackChannel returns the channel configured for an alert kind ("default" when
// the kind has none) as its id, resolved once through conversations.list, and as
// it was configured, for people to read.
func (c *Connectors) SlackChannel(ctx context.Context, kind string) (id, configured string, err error) {
	configured = c.SlackChannels[kind]
	if configured == "" {
		configured = c.SlackChannels["default"]
	}
	if configured == "" {
		return "", "", permanent("slack channel", "not_configured", "no Slack channel is configured for "+kind+" alerts (COUNTERSIGN_SLACK_CHANNELS)")
	}
	if c.Slack == nil {
		return "", configured, errNoSlack
	}
	id, err = c.Slack.ChannelID(ctx, configured)
	return id, configured, err
}

// oauthIfNoEmail: a Zendesk token without an agent email is an OAuth bearer token.
func oauthIfNoEmail(email, token string) string {
	if email == "" {
		return token
	}
	return ""
}

func newSMTP(k config.Connectors) (*email.SMTPSender, error) {
	host, portText, err := net.SplitHostPort(k.SMTPAddr)
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(portText)
	tls := email.TLSMandatory
	if host == "127.0.0.1" || host == "localhost" || host == "::1" {
		tls = email.TLSOpportunistic
	}
	return email.NewSMTP(email.SMTPConfig{Host: host, Port: port, Username: k.SMTPUser, Password: k.SMTPPassword, TLS: tls,
		Timeout: k.Timeout})
}

// google builds the Gmail (unless SMTP is configured), Drive and Sheets clients on
// one service account key, each asking for its own scope only. When the key is the
// sandbox's (one of them is sandboxed), a Google connector that is not sandboxed
// has no credentials of its own and stays off.
func (c *Connectors) google(k config.Connectors, sandboxed map[string]bool, hc func(string) *http.Client, mode func(string, bool)) error {
	fake := sandboxed[Drive] || sandboxed[Sheets] || (sandboxed[Email] && k.SMTPAddr == "")
	keyFor := func(name string) bool { return k.GoogleCredentials != "" && (!fake || sandboxed[name]) }
	delegated := func(name, connector, scope string) (*http.Client, error) {
		return gauth.Client(gauth.Config{Connector: connector, Credentials: []byte(k.GoogleCredentials),
			Subject: k.GoogleSubject, Scopes: []string{scope}, TokenURL: k.GoogleTokenURL, HTTPClient: hc(name)})
	}
	var errs []error
	mode(Email, keyFor(Email) || k.SMTPAddr != "")
	switch {
	case k.SMTPAddr != "":
		s, err := newSMTP(k)
		errs = append(errs, err)
		c.Email, c.EmailKind = s, "smtp"
	case keyFor(Email):
		h, err := delegated(Email, "gmail", gauth.ScopeGmailSend)
		if err == nil {
			c.Email, err = email.NewGmail(email.GmailConfig{BaseURL: k.GmailURL, HTTPClient: h})
		}
		c.EmailKind = "gmail"
		errs = append(errs, err)
	}
	mode(Drive, keyFor(Drive))
	if keyFor(Drive) {
		h, err := delegated(Drive, "gdrive", gauth.ScopeDriveFile)
		if err == nil {
			c.Drive, err = gdrive.New(gdrive.Config{BaseURL: k.DriveURL, HTTPClient: h})
		}
		errs = append(errs, err)
	}
	mode(Sheets, keyFor(Sheets))
	if keyFor(Sheets) {
		h, err := delegated(Sheets, "gsheets", gauth.ScopeSheets)
		if err == nil {
			c.Sheets, err = gsheets.New(gsheets.Config{BaseURL: k.SheetsURL, HTTPClient: h})
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
