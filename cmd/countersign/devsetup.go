package main

import (
	"context"
)

// setupDev mounts the pieces only dev runs (the built-in identity provider, sandbox
// connectors) on c.
func setupDev(ctx context.Context, c *console, secrets devSecrets) error {
	return nil
}

// seedDemo ingests demo calls through the webhook when the database has none.
func seedDemo(ctx context.Context, c console, secrets devSecrets) {}
