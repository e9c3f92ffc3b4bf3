package main

import (
	"context"
	"io"
)

// demoSeed fixes the first start's demo calls, so a restart never posts new ones.
const demoSeed = 0xC0FFEE

// seedDemo posts demo calls through the console's own webhook (the same path DialNexa
// uses) when the database has no calls yet, so a new user's queues are not empty.
func seedDemo(ctx context.Context, c console, secrets devSecrets) {
	var n int64
	if err := c.db.Gorm.WithContext(ctx).Raw(`SELECT count(*) FROM calls`).Scan(&n).Error; err != nil || n > 0 {
		return
	}
	c.log.Info("empty database: posting demo calls through the webhook")
	sum, err := postDemoCalls(ctx, c.cfg.BaseURL.String()+"/webhooks/dialnexa", secrets.DialNexaSecret, demoSeed, 60, io.Discard)
	if err != nil {
		c.log.Warn("demo calls not all posted", "err", err)
		return
	}
	c.log.Info("demo calls ingested", "stored", sum["stored"], "duplicate", sum["duplicate"])
}
