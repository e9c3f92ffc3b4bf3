package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/countersign/countersign/internal/devidp"
	"github.com/countersign/countersign/internal/sandbox"
)

// devClientID is the client the built-in identity provider registers for the console.
const devClientID = "countersign-dev"

// setupDev mounts the pieces only dev runs (the built-in identity provider, sandbox
// connectors) on c.
func setupDev(ctx context.Context, c *console, secrets devSecrets) error {
	if c.cfg.OIDCIssuer != "" {
		c.log.Info("using the configured identity provider", "issuer", c.cfg.OIDCIssuer)
		return nil
	}
	base := c.cfg.BaseURL.String()
	idp, err := devidp.New(devidp.Config{
		// Spelled exactly as the browser reaches it: go-oidc compares issuers byte for byte.
		Issuer: base + "/dev-idp",
		Clients: []devidp.Client{{
			ID: devClientID, Secret: secrets.OIDCClientSecret,
			RedirectURIs:           []string{base + "/auth/callback"},
			PostLogoutRedirectURIs: []string{base + "/signed-out"},
		}},
		Personas: devidp.DefaultPersonas(),
	})
	if err != nil {
		return fmt.Errorf("dev identity provider: %w", err)
	}
	if c.extra == nil {
		c.extra = map[string]http.Handler{}
	}
	c.extra["/dev-idp/"] = idp.Handler() // no StripPrefix: the provider serves its full path
	c.cfg.OIDCIssuer, c.cfg.OIDCClientID, c.cfg.OIDCClientSecret = idp.Issuer(), devClientID, secrets.OIDCClientSecret
	c.log.Warn("BUILT-IN IDENTITY PROVIDER RUNNING: anyone who can reach this console can sign in as any demo persona "+
		"without a password. It is for development only; set COUNTERSIGN_OIDC_ISSUER to use a real one.",
		"issuer", idp.Issuer())
	return setupSandbox(c)
}

// setupSandbox starts the connector fakes on loopback listeners for the connectors
// COUNTERSIGN_SANDBOX names (dev's default "all": every one without credentials), seeded with the objects the demo calls refer to, and points
// the connector configuration at them. Setting a connector's credentials makes that
// one real.
func setupSandbox(c *console) error {
	sb, err := sandbox.Start(c.cfg.Connectors, sandbox.Options{Demo: true, DemoSeed: demoSeed, DemoCalls: demoCalls, Names: c.cfg.Sandbox})
	if err != nil {
		return err
	}
	if err := sb.Persist(context.Background(), c.db.Gorm); err != nil {
		sb.Close()
		return err
	}
	c.sandbox = sb
	if len(c.cfg.StripeWebhookSecrets) == 0 && sb.StripeWebhookSecret != "" {
		c.log.Info("sandbox Stripe webhook secret generated", "header", "Stripe-Signature")
	}
	c.log.Info("sandbox connectors on loopback", "connectors", sb.Names(), "urls", sb.URLs())
	return nil
}
