package devidp

import (
	"slices"
	"strings"
	"testing"
)

func TestNewRejectsIncompleteConfig(t *testing.T) {
	t.Parallel()
	good := func() Config {
		return Config{
			Issuer:   "http://127.0.0.1:8080/dev-idp",
			Clients:  []Client{{ID: "console", Secret: "s", RedirectURIs: []string{"http://127.0.0.1:8080/auth/callback"}}},
			Personas: DefaultPersonas(),
		}
	}
	if _, err := New(good()); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := []struct {
		name, wantErr string
		edit          func(*Config)
	}{
		{"no issuer", "Issuer is empty", func(c *Config) { c.Issuer = "" }},
		{"relative issuer", "scheme", func(c *Config) { c.Issuer = "/dev-idp" }},
		{"trailing slash", "slash", func(c *Config) { c.Issuer += "/" }},
		{"issuer query", "query", func(c *Config) { c.Issuer += "?x=1" }},
		{"issuer pattern chars", "plain", func(c *Config) { c.Issuer += "/{x}" }},
		{"no clients", "Clients is empty", func(c *Config) { c.Clients = nil }},
		{"no secret", "Secret is empty", func(c *Config) { c.Clients[0].Secret = "" }},
		{"no redirect", "no RedirectURIs", func(c *Config) { c.Clients[0].RedirectURIs = nil }},
		{"relative redirect", "absolute", func(c *Config) { c.Clients[0].RedirectURIs = []string{"/cb"} }},
		{"redirect fragment", "fragment", func(c *Config) { c.Clients[0].RedirectURIs = []string{"http://a.test/cb#x"} }},
		{"bad logout target", "absolute", func(c *Config) { c.Clients[0].PostLogoutRedirectURIs = []string{"javascript:alert(1)"} }},
		{"duplicate client", "twice", func(c *Config) { c.Clients = append(c.Clients, c.Clients[0]) }},
		{"no personas", "Personas is empty", func(c *Config) { c.Personas = nil }},
		{"persona without subject", "Subject is empty", func(c *Config) { c.Personas[0].Subject = "" }},
		{"duplicate persona", "used twice", func(c *Config) { c.Personas[1].Subject = c.Personas[0].Subject }},
		{"negative TTL", "negative", func(c *Config) { c.TokenTTL = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good()
			tt.edit(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

// The provider keeps its own copy of the config, so a caller mutating its
// slices afterwards cannot change who may log in or where codes go.
func TestNewCopiesConfig(t *testing.T) {
	t.Parallel()
	personas := DefaultPersonas()
	clients := []Client{{ID: "c", Secret: "s", RedirectURIs: []string{"http://a.test/cb"}}}
	p, err := New(Config{Issuer: "http://a.test", Clients: clients, Personas: personas})
	if err != nil {
		t.Fatal(err)
	}
	personas[0].Groups[0] = "admins"
	clients[0].RedirectURIs[0] = "http://evil.test/cb"
	if p.bySubject["sam"].Groups[0] != GroupSupportLeads || p.personas[0].Groups[0] != GroupSupportLeads {
		t.Error("persona groups changed through the caller's slice")
	}
	if p.clients["c"].RedirectURIs[0] != "http://a.test/cb" {
		t.Error("redirect URIs changed through the caller's slice")
	}
}

func TestDefaultPersonas(t *testing.T) {
	t.Parallel()
	want := map[string][]string{
		"sam":    {GroupSupportLeads},
		"fiona":  {GroupFinanceApprovers},
		"felix":  {GroupFinanceApprovers},
		"ada":    {GroupAdmins},
		"audrey": {GroupAuditors},
		"morgan": {GroupSupportLeads, GroupFinanceApprovers},
	}
	got := DefaultPersonas()
	if len(got) != len(want) {
		t.Fatalf("%d personas, want %d", len(got), len(want))
	}
	for _, p := range got {
		if !slices.Equal(p.Groups, want[p.Subject]) {
			t.Errorf("%s groups = %v, want %v", p.Subject, p.Groups, want[p.Subject])
		}
		if p.Email != p.Subject+"@example.com" || p.Name == "" || p.Description == "" {
			t.Errorf("%s: email %q name %q description %q", p.Subject, p.Email, p.Name, p.Description)
		}
	}
	got[0].Groups[0] = "changed"
	if DefaultPersonas()[0].Groups[0] != GroupSupportLeads {
		t.Error("DefaultPersonas shares slices between calls")
	}
}
