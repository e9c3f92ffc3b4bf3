package email

import (
	"context"
	"errors"
	"net/textproto"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/countersign/countersign/internal/connector"
)

const smtpName = "smtp"

// TLSMode says how SMTPSender protects the connection.
type TLSMode string

const (
	TLSMandatory     TLSMode = "mandatory"     // STARTTLS required (the default)
	TLSOpportunistic TLSMode = "opportunistic" // STARTTLS when offered
	TLSNone          TLSMode = "none"          // plain text: loopback tests only
)

// SMTPConfig configures an SMTPSender.
type SMTPConfig struct {
	Host     string
	Port     int    // 587 when 0
	Username string // no AUTH when empty
	Password string
	TLS      TLSMode       // TLSMandatory when empty
	Timeout  time.Duration // per connection step; connector.DefaultTimeout when 0
	HELO     string        // local host name by default
}

// SMTPSender sends through an SMTP relay. Safe for concurrent use: each Send
// opens its own connection.
type SMTPSender struct {
	opts []mail.Option
	host string
}

var _ Sender = (*SMTPSender)(nil)

// NewSMTP validates cfg and returns an SMTPSender.
func NewSMTP(cfg SMTPConfig) (*SMTPSender, error) {
	if cfg.Host == "" {
		return nil, errors.New("email: SMTP host is required")
	}
	port := cfg.Port
	if port == 0 {
		port = 587
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = connector.DefaultTimeout
	}
	var policy mail.TLSPolicy
	switch cfg.TLS {
	case "", TLSMandatory:
		policy = mail.TLSMandatory
	case TLSOpportunistic:
		policy = mail.TLSOpportunistic
	case TLSNone:
		policy = mail.NoTLS
	default:
		return nil, errors.New("email: SMTP TLS mode must be mandatory, opportunistic or none")
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTLSPolicy(policy), mail.WithTimeout(timeout)}
	if cfg.HELO != "" {
		opts = append(opts, mail.WithHELO(cfg.HELO))
	}
	if cfg.Username != "" {
		// Auto-discovery picks the strongest offered mechanism and never sends
		// a clear-text password over an unencrypted connection. Without TLS
		// (loopback only) PLAIN is used, which go-mail allows only to localhost.
		auth := mail.SMTPAuthAutoDiscover
		if policy == mail.NoTLS {
			auth = mail.SMTPAuthPlain
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	if _, err := mail.NewClient(cfg.Host, opts...); err != nil {
		return nil, errors.New("email: invalid SMTP settings: " + err.Error())
	}
	return &SMTPSender{opts: opts, host: cfg.Host}, nil
}

// Send delivers m to the relay. Once the relay has accepted the message, a
// failure to close the connection is ignored: the message is on its way, and
// reporting an error would make the worker send it again.
func (s *SMTPSender) Send(ctx context.Context, m Message) (connector.Receipt, error) {
	const op = "send"
	msg, id, err := newMsg(m)
	if err != nil {
		return connector.Receipt{}, invalid(smtpName, op, err)
	}
	client, err := mail.NewClient(s.host, s.opts...)
	if err != nil {
		return connector.Receipt{}, &connector.Error{Connector: smtpName, Op: op, Permanent: true, Err: err}
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return connector.Receipt{}, classifySMTP(op, err)
	}
	defer func() { _ = client.CloseWithSMTPClient(conn) }()
	if err := client.SendWithSMTPClient(conn, msg); err != nil {
		return connector.Receipt{}, classifySMTP(op, err)
	}
	return connector.Receipt{ExternalID: "<" + id + ">", Summary: "email <" + id + "> accepted by relay"}, nil
}

// classifySMTP maps SMTP replies to temporary (4xx) or permanent (5xx), and
// configuration mistakes (no usable auth mechanism, auth refused over plain
// text) to permanent. Network failures and timeouts are temporary.
func classifySMTP(op string, err error) *connector.Error {
	var se *mail.SendError
	if errors.As(err, &se) {
		return &connector.Error{Connector: smtpName, Op: op, Status: se.ErrorCode(), Code: se.EnhancedStatusCode(),
			Permanent: !se.IsTemp(), Err: err}
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return &connector.Error{Connector: smtpName, Op: op, Status: te.Code, Permanent: te.Code >= 500, Err: err}
	}
	if errors.Is(err, mail.ErrNoSupportedAuthDiscovered) || errors.Is(err, smtp.ErrUnencrypted) {
		return &connector.Error{Connector: smtpName, Op: op, Code: "auth_config", Permanent: true, Err: err}
	}
	return connector.FromTransport(smtpName, op, err)
}
