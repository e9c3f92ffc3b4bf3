package seed

import (
	"math"
	"math/rand/v2"
	"time"
)

// Open-status weights per kind, in openStatuses order.
var (
	openStatuses = []string{"new", "triaged", "awaiting_approval", "approved", "needs_info", "executing", "needs_attention"}
	openWeights  = map[string][]int{
		"dispute":            {15, 20, 30, 5, 15, 5, 10},
		"refund":             {15, 20, 35, 5, 10, 5, 10},
		"payment_blocker":    {20, 20, 30, 5, 5, 10, 10},
		"collections":        {20, 45, 5, 0, 20, 0, 10},
		"document_resend":    {30, 30, 20, 0, 15, 5, 0},
		"billing_correction": {25, 35, 20, 0, 20, 0, 0},
		"review":             {60, 20, 0, 0, 20, 0, 0},
	}
	// decisionHours is the median time from call to decision per kind.
	decisionHours = map[string]float64{"dispute": 20, "refund": 6, "collections": 30, "document_resend": 3,
		"billing_correction": 10, "payment_blocker": 1, "review": 8}
	owners = map[string]string{"dispute": "finance-disputes", "refund": "finance-refunds", "collections": "collections",
		"document_resend": "billing-ops", "billing_correction": "billing-ops", "payment_blocker": "finance-vip", "review": "support-leads"}
	nextSteps = map[string]string{
		"dispute":            "Verify the disputed charge and decide: refund the charge or submit dispute evidence",
		"refund":             "Finance approval required: verify the charge and approve refund",
		"collections":        "Record promise to pay and follow up",
		"document_resend":    "Send the requested document to verified recipient",
		"billing_correction": "Verify the customer, then update billing details",
		"payment_blocker":    "Alert finance in Slack and open a high-priority ticket",
		"review":             "Decide the case kind and the billing match",
	}
	decided = map[string]bool{"approved": true, "rejected": true, "executing": true, "done": true, "needs_attention": true}
)

var recordBase = map[string]string{"charge": "https://dashboard.stripe.com/payments/", "invoice": "https://dashboard.stripe.com/invoices/",
	"subscription": "https://dashboard.stripe.com/subscriptions/", "customer": "https://dashboard.stripe.com/customers/"}

// caseStatus picks a status: recent cases are mostly open, older ones mostly closed
// (about 30% open over a 90-day history), and the open ones spread over the kind's
// usual states.
func caseStatus(r *rand.Rand, kind string, age time.Duration) string {
	days := age.Hours() / 24
	pOpen := 0.25 + 0.7*math.Exp(-days/5)
	if r.Float64() < pOpen {
		if days < 0.5 && r.IntN(2) == 0 {
			return "new"
		}
		return openStatuses[weighted(r, openWeights[kind])]
	}
	if kind != "review" && r.IntN(100) < 15 {
		return "rejected"
	}
	return "done"
}

func (g *generator) caseRow(r *rand.Rand, c call, kind string, secondary bool) []any {
	created := c.received.Add(time.Duration(1+r.IntN(20)) * time.Second)
	now := g.opt.Now
	if created.After(now) {
		created = now
	}
	status := caseStatus(r, kind, now.Sub(created))
	updated := created.Add(time.Duration(r.IntN(1800)) * time.Second)
	if decided[status] {
		median := decisionHours[kind] * float64(time.Hour)
		updated = c.received.Add(time.Duration(median * math.Exp(0.9*r.NormFloat64())))
	}
	if updated.After(now) {
		updated = now.Add(-time.Duration(r.IntN(600)) * time.Second)
	}
	if updated.Before(created) {
		updated = created
	}
	urgency := map[string]int16{"payment_blocker": 2, "dispute": 2, "refund": 1, "collections": 1,
		"document_resend": 0, "billing_correction": 1, "review": 1}[kind]
	var amount any
	cur := ""
	if c.amount != nil && !secondary && kind != "billing_correction" {
		amount, cur = *c.amount, c.currency
		if kind == "refund" && *c.amount >= 50000 && c.currency != "JPY" {
			urgency = 2
		}
	}
	if c.cust.vip {
		urgency = min(urgency+1, 3)
	}
	conf := float32(0.6 + 0.39*math.Sqrt(r.Float64()))
	reasons := jsonArray("intent field: "+content[kind].intent, "caller mentioned "+kindPhrase(kind))
	suspected := ""
	if kind == "review" {
		conf = float32(0.2 + 0.39*r.Float64())
		if r.IntN(2) == 0 {
			suspected = kinds[r.IntN(len(kinds)-1)]
			reasons = jsonArray("low confidence match", "suspected "+suspected)
		} else {
			reasons = jsonArray("unclassified request")
		}
	}
	destType, destRef, record := c.refType, c.ref, ""
	if secondary || kind == "review" {
		destType, destRef = "", ""
	}
	if destRef != "" {
		record = recordBase[destType] + destRef
	}
	var assignee any
	if len(g.users) > 0 && status != "new" && r.IntN(10) < 6 {
		assignee = g.users[r.IntN(len(g.users))]
	}
	var tags []string
	if c.cust.vip {
		tags = append(tags, "vip")
	}
	deadline := g.deadline(r, kind, created, c)
	if kind == "collections" && !c.promise.IsZero() {
		tags = append(tags, "promise_to_pay")
	}
	label := c.cust.name
	if label == "" {
		label = c.cust.number
	}
	return []any{c.id, kind, status, urgency, c.cust.vip, conf, reasons, suspected, amount, cur,
		destType, destRef, label, owners[kind], assignee, nextSteps[kind], deadline, record,
		nonNil(tags), status != "new", created, updated}
}

// deadline is the follow-up deadline the kind usually carries (nil when it has none).
func (g *generator) deadline(r *rand.Rand, kind string, created time.Time, c call) any {
	var d time.Duration
	switch kind {
	case "payment_blocker":
		d = 4 * time.Hour
	case "refund":
		d = 3 * 24 * time.Hour
	case "dispute":
		d = 7 * 24 * time.Hour
	case "document_resend":
		d = 24 * time.Hour
	case "collections":
		if !c.promise.IsZero() {
			return c.promise
		}
		d = 7 * 24 * time.Hour
	case "billing_correction", "review":
		if r.IntN(2) == 0 {
			return nil
		}
		d = time.Duration(2+r.IntN(4)) * 24 * time.Hour
	}
	return created.Add(d)
}

func kindPhrase(k string) string {
	return map[string]string{"dispute": "a disputed charge", "refund": "a refund", "collections": "an overdue balance",
		"document_resend": "a document", "billing_correction": "billing details", "payment_blocker": "a failed payment",
		"review": "several topics"}[k]
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
