package config

import (
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/triage"
)

// loadWorkflow reads the variables that tune the billing workflows (urgency,
// claim checks, alerts, routing).
func (l *loader) loadWorkflow(c *Config) {
	if v := l.str("COUNTERSIGN_CRITICAL_AMOUNTS", ""); v != "" {
		lines, err := triage.ParseAmountLines(v)
		if err != nil {
			l.fail("COUNTERSIGN_CRITICAL_AMOUNTS", "%v", err)
		}
		c.CriticalAmounts = lines
	}
	if v := strings.TrimSpace(l.str("COUNTERSIGN_CLAIM_TOLERANCE_BPS", "")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 5000 {
			l.fail("COUNTERSIGN_CLAIM_TOLERANCE_BPS", "%q is not a whole number of basis points from 0 to 5000 (100 = 1%%)", v)
		}
		c.ClaimToleranceBPS = n
	}
	if v := l.str("COUNTERSIGN_ALERT_APPROVAL_AMOUNTS", ""); v != "" {
		lines, err := triage.ParseAmountLines(v)
		if err != nil {
			l.fail("COUNTERSIGN_ALERT_APPROVAL_AMOUNTS", "%v", err)
		}
		c.AlertApprovalAmounts = lines
	}
	c.OwnerRoutes = l.str("COUNTERSIGN_OWNER_ROUTES", "")
	c.AlertApprovalWithin = l.duration("COUNTERSIGN_ALERT_APPROVAL_WITHIN", 0, time.Minute)
}
