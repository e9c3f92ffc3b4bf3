package devidp

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Client is a relying party registered with the provider. It is always a
// confidential client: Secret is required.
type Client struct {
	ID     string
	Secret string
	// RedirectURIs are compared by exact string match.
	RedirectURIs []string
	// PostLogoutRedirectURIs are the only targets /logout redirects to.
	PostLogoutRedirectURIs []string
}

// Config is everything the provider knows. Nothing has a production-like
// default: Issuer, Clients and Personas must all be given.
type Config struct {
	// Issuer is the absolute URL the provider is reachable at, e.g.
	// "http://127.0.0.1:8080/dev-idp". It may carry a path, so the provider
	// can be mounted inside another server. No trailing slash.
	Issuer   string
	Clients  []Client
	Personas []Persona
	// Now is the clock; nil means time.Now. Tests use it to expire codes.
	Now func() time.Time
	// TokenTTL is the lifetime of ID and access tokens; 0 means 10 minutes.
	TokenTTL time.Duration
}

const (
	defaultTokenTTL = 10 * time.Minute
	codeTTL         = 60 * time.Second
	maxFormBytes    = 64 << 10
)

// Provider is an in-memory OpenID Connect provider. It is safe for concurrent
// use.
type Provider struct {
	issuer     string
	issuerPath string // issuer URL path without trailing slash; "" at the root
	clients    map[string]Client
	personas   []Persona
	bySubject  map[string]Persona
	now        func() time.Time
	tokenTTL   time.Duration
	key        *signingKey
	tmpl       *template.Template

	mu     sync.Mutex
	codes  map[string]*authCode
	tokens map[string]*accessToken
}

// New validates cfg and generates a fresh in-memory signing key.
func New(cfg Config) (*Provider, error) {
	issuerPath, err := validateIssuer(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	clients, err := validateClients(cfg.Clients)
	if err != nil {
		return nil, err
	}
	bySubject, err := validatePersonas(cfg.Personas)
	if err != nil {
		return nil, err
	}
	if cfg.TokenTTL < 0 {
		return nil, fmt.Errorf("devidp: Config.TokenTTL %v is negative", cfg.TokenTTL)
	}
	tmpl, err := parseTemplates(issuerPath)
	if err != nil {
		return nil, fmt.Errorf("devidp: parse templates: %w", err)
	}
	key, err := newSigningKey()
	if err != nil {
		return nil, fmt.Errorf("devidp: generate signing key: %w", err)
	}
	p := &Provider{
		issuer:     cfg.Issuer,
		issuerPath: issuerPath,
		clients:    clients,
		personas:   clonePersonas(cfg.Personas),
		bySubject:  bySubject,
		now:        cfg.Now,
		tokenTTL:   cfg.TokenTTL,
		key:        key,
		tmpl:       tmpl,
		codes:      make(map[string]*authCode),
		tokens:     make(map[string]*accessToken),
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.tokenTTL == 0 {
		p.tokenTTL = defaultTokenTTL
	}
	return p, nil
}

// Issuer returns the issuer URL exactly as configured; relying parties must
// use this string for discovery, because go-oidc compares it byte for byte.
func (p *Provider) Issuer() string { return p.issuer }

// Handler serves the provider's endpoints at the issuer's path (see the
// package doc). Mount it at that path without stripping the prefix.
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	at := func(method, endpoint string) string { return method + " " + p.issuerPath + endpoint }
	mux.HandleFunc(at("GET", "/.well-known/openid-configuration"), p.handleDiscovery)
	mux.HandleFunc(at("GET", "/jwks"), p.handleJWKS)
	mux.HandleFunc(at("GET", "/static.css"), handleCSS)
	mux.HandleFunc(at("GET", "/authorize"), p.handleAuthorizePage)
	mux.Handle(at("POST", "/authorize"), http.NewCrossOriginProtection().Handler(http.HandlerFunc(p.handleAuthorizeDecision)))
	mux.HandleFunc(at("POST", "/token"), p.handleToken)
	mux.HandleFunc(at("GET", "/userinfo"), p.handleUserinfo)
	mux.HandleFunc(at("POST", "/userinfo"), p.handleUserinfo)
	mux.HandleFunc(at("GET", "/logout"), p.handleLogout)
	mux.HandleFunc(at("POST", "/logout"), p.handleLogout)
	return mux
}

func (p *Provider) endpoint(name string) string { return p.issuer + name }

func validateIssuer(issuer string) (string, error) {
	if issuer == "" {
		return "", errors.New("devidp: Config.Issuer is empty")
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return "", fmt.Errorf("devidp: Config.Issuer %q: %w", issuer, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("devidp: Config.Issuer %q: scheme must be http or https", issuer)
	case u.Host == "" || u.User != nil:
		return "", fmt.Errorf("devidp: Config.Issuer %q: needs a host and no user info", issuer)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(issuer, "?") || strings.HasSuffix(issuer, "#"):
		return "", fmt.Errorf("devidp: Config.Issuer %q: must have no query or fragment", issuer)
	case strings.HasSuffix(u.Path, "/"):
		return "", fmt.Errorf("devidp: Config.Issuer %q: must not end with a slash", issuer)
	case u.RawPath != "" || strings.ContainsAny(u.Path, "{} \t") || strings.Contains(u.Path, "//") || strings.Contains(u.Path, "/."):
		return "", fmt.Errorf("devidp: Config.Issuer %q: path must be a plain, clean path", issuer)
	}
	return u.Path, nil
}

func validateClients(cs []Client) (map[string]Client, error) {
	if len(cs) == 0 {
		return nil, errors.New("devidp: Config.Clients is empty")
	}
	m := make(map[string]Client, len(cs))
	for i, c := range cs {
		switch {
		case c.ID == "":
			return nil, fmt.Errorf("devidp: Config.Clients[%d]: ID is empty", i)
		case c.Secret == "":
			return nil, fmt.Errorf("devidp: client %q: Secret is empty", c.ID)
		case len(c.RedirectURIs) == 0:
			return nil, fmt.Errorf("devidp: client %q: no RedirectURIs", c.ID)
		}
		if _, dup := m[c.ID]; dup {
			return nil, fmt.Errorf("devidp: client %q registered twice", c.ID)
		}
		for _, list := range [][]string{c.RedirectURIs, c.PostLogoutRedirectURIs} {
			for _, raw := range list {
				if err := validateRedirectURI(raw); err != nil {
					return nil, fmt.Errorf("devidp: client %q: %w", c.ID, err)
				}
			}
		}
		c.RedirectURIs = append([]string(nil), c.RedirectURIs...)
		c.PostLogoutRedirectURIs = append([]string(nil), c.PostLogoutRedirectURIs...)
		m[c.ID] = c
	}
	return m, nil
}

func validateRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("redirect URI %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("redirect URI %q: must be an absolute http(s) URL without fragment", raw)
	}
	return nil
}

func validatePersonas(ps []Persona) (map[string]Persona, error) {
	if len(ps) == 0 {
		return nil, errors.New("devidp: Config.Personas is empty (DefaultPersonas() gives a standard set)")
	}
	m := make(map[string]Persona, len(ps))
	for i, p := range ps {
		if p.Subject == "" {
			return nil, fmt.Errorf("devidp: Config.Personas[%d]: Subject is empty", i)
		}
		if _, dup := m[p.Subject]; dup {
			return nil, fmt.Errorf("devidp: persona subject %q used twice", p.Subject)
		}
		m[p.Subject] = clonePersona(p)
	}
	return m, nil
}

func clonePersona(p Persona) Persona {
	p.Groups = append([]string{}, p.Groups...)
	return p
}

func clonePersonas(ps []Persona) []Persona {
	out := make([]Persona, len(ps))
	for i, p := range ps {
		out[i] = clonePersona(p)
	}
	return out
}
