package seed

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/countersign/countersign/internal/money"
)

type generator struct {
	opt       Options
	firstID   int64
	users     []int64
	customers int
	start     time.Time
	span      time.Duration
}

func newGenerator(opt Options, firstID int64, users []int64) *generator {
	return &generator{opt: opt, firstID: firstID, users: users,
		customers: max(20, opt.Calls/3),
		start:     opt.Now.Add(-time.Duration(opt.Days) * 24 * time.Hour),
		span:      time.Duration(opt.Days) * 24 * time.Hour}
}

// weighted picks an index with the given weights.
func weighted(r *rand.Rand, w []int) int {
	t := 0
	for _, x := range w {
		t += x
	}
	n := r.IntN(t)
	for i, x := range w {
		if n < x {
			return i
		}
		n -= x
	}
	return len(w) - 1
}

var (
	kinds       = []string{"dispute", "refund", "collections", "document_resend", "billing_correction", "payment_blocker", "review"}
	kindWeights = []int{14, 22, 12, 20, 8, 6, 12}
	// hourWeights shapes calls over the UTC day: busy in European and American office hours.
	hourWeights = []int{2, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 11, 12, 13, 13, 12, 10, 8, 6, 5, 4, 3}
	moneyKinds  = map[string]bool{"dispute": true, "refund": true, "collections": true, "payment_blocker": true}
)

type call struct {
	id                  int64
	kind                string
	status              string
	cust                customer
	received            time.Time
	amount              *int64
	currency, amountTxt string
	ref, refType        string
	promise             time.Time
}

// batch generates batch b: its calls and their cases, as COPY rows.
func (g *generator) batch(b int) (calls, cases [][]any) {
	r := rng(g.opt.Seed, 1, uint64(b))
	lo := b * g.opt.Batch
	hi := min(lo+g.opt.Batch, g.opt.Calls)
	calls = make([][]any, 0, hi-lo)
	cases = make([][]any, 0, hi-lo)
	for i := lo; i < hi; i++ {
		c, row := g.call(r, i)
		calls = append(calls, row)
		if c.status != "completed" || r.IntN(100) >= 85 {
			continue
		}
		cases = append(cases, g.caseRow(r, c, c.kind, false))
		if r.IntN(100) < 8 { // the caller also wanted a document or a correction
			second := "document_resend"
			if c.kind == second || r.IntN(3) == 0 {
				second = "billing_correction"
			}
			if second != c.kind {
				cases = append(cases, g.caseRow(r, c, second, true))
			}
		}
	}
	return calls, cases
}

// callTime places call i on the timeline: volume grows mildly over the period, and
// calls cluster in office hours.
func (g *generator) callTime(r *rand.Rand, i int) time.Time {
	u := (float64(i) + r.Float64()) / float64(g.opt.Calls)
	t := g.start.Add(time.Duration(math.Pow(u, 0.8) * float64(g.span)))
	day := t.Truncate(24 * time.Hour)
	if r.IntN(10) < 8 {
		t = day.Add(time.Duration(weighted(r, hourWeights))*time.Hour + time.Duration(r.IntN(3600))*time.Second)
	}
	if t.After(g.opt.Now) {
		t = g.opt.Now.Add(-time.Duration(1+r.IntN(3600)) * time.Second)
	}
	return t
}

func (g *generator) call(r *rand.Rand, i int) (call, []any) {
	id := g.firstID + int64(i)
	ci := int(float64(g.customers) * math.Pow(r.Float64(), 2.2)) // low indexes call often
	cust := g.customerAt(ci)
	c := call{id: id, cust: cust, currency: cust.currency}
	outbound := r.IntN(100) < 15
	c.kind = kinds[weighted(r, kindWeights)]
	if outbound && r.IntN(10) < 8 {
		c.kind = "collections"
	}
	if cust.vip && r.IntN(3) == 0 {
		c.kind = "payment_blocker"
	}
	switch n := r.IntN(100); {
	case n < 80:
		c.status = "completed"
	case n < 95:
		c.status = "hangup"
	case n < 98:
		c.status = "no_answer"
	default:
		c.status = "failed"
	}
	ended := g.callTime(r, i)
	dur := int(math.Exp(5.1 + 0.6*r.NormFloat64())) // median about 160 s
	hangupReason := "agent_ended_call"
	switch c.status {
	case "hangup":
		dur, hangupReason = 4+r.IntN(40), "caller_hangup"
	case "no_answer":
		dur, hangupReason = 0, "no_answer"
	case "failed":
		dur, hangupReason = 0, "telephony_error"
	}
	initiated := ended.Add(-time.Duration(dur) * time.Second)
	c.received = ended.Add(time.Duration(2+r.IntN(30)) * time.Second)
	if c.received.After(g.opt.Now) {
		c.received = g.opt.Now
	}
	g.money(r, &c)
	if c.kind == "collections" && r.IntN(10) < 6 {
		c.promise = c.received.Truncate(24*time.Hour).AddDate(0, 0, 3+r.IntN(18)).Add(17 * time.Hour)
	}
	dnx := "dnx_seed_" + strconv.FormatInt(id, 36) + token(r, 4)
	line := pick(r, "+18005550142", "+18005550177", "+442045770100", "+4930255500", "+81345780000")
	from, to := cust.number, line
	direction := "inbound"
	if outbound {
		from, to, direction = line, cust.number, "outbound"
	}
	kc := content[c.kind]
	summary, tjson, ttext, fields := "", "[]", "", "{}"
	switch c.status {
	case "completed":
		summary = fill(pick(r, kc.summaries...), c.amountTxt, c.ref, cust.name)
		tjson, ttext = transcript(r, kc, c.amountTxt, c.ref, cust.name, false)
		fields = g.fields(r, c)
	case "hangup":
		summary = "Caller hung up before the request was complete."
		tjson, ttext = transcript(r, kc, c.amountTxt, c.ref, cust.name, true)
	}
	var amount any
	cur := ""
	if c.amount != nil && c.status == "completed" {
		amount, cur = *c.amount, c.currency
	}
	var durAny, initAny, endAny, recAny any
	rec := ""
	if dur > 0 {
		durAny, initAny, endAny = dur, initiated, ended
		rec = "https://recordings.dialnexa.example/" + dnx + ".mp3"
		recAny = c.received.Add(30 * 24 * time.Hour)
	}
	row := []any{id, dnx, direction, "phone", c.status, "billing", from, to, cust.number,
		"agent_billing_" + strconv.Itoa(1+r.IntN(4)), initAny, endAny, durAny, hangupReason,
		summary, tjson, ttext, rec, recAny, fields, amount, cur,
		cust.name, cust.email, cust.ref, cust.vip, c.received, c.received}
	return c, row
}

// money picks the amount the caller talks about, in the customer's currency with that
// currency's minor units (JPY has none), and the billing object it refers to.
func (g *generator) money(r *rand.Rand, c *call) {
	if r.IntN(10) == 0 {
		c.currency = "USD" // international customers billed in dollars
	}
	switch c.kind {
	case "dispute", "refund":
		c.refType, c.ref = "charge", "ch_"+token(r, 24)
	case "payment_blocker":
		c.refType, c.ref = "subscription", "sub_"+token(r, 14)
	case "billing_correction":
		c.refType, c.ref = "customer", c.cust.ref
	default:
		c.refType, c.ref = "invoice", "INV-"+strconv.Itoa(10000+r.IntN(90000))
	}
	if !moneyKinds[c.kind] && !(c.kind == "document_resend" && r.IntN(2) == 0) {
		return
	}
	major := math.Exp(4.6 + 0.9*r.NormFloat64()) // median about 100 in major units
	if c.kind == "payment_blocker" {
		major *= 6 // annual plans
	}
	var minor int64
	if c.currency == "JPY" {
		minor = int64(major*150/10) * 10
	} else if r.IntN(3) == 0 {
		minor = int64(major) * 100 // whole amounts are common
	} else {
		minor = int64(major * 100)
	}
	minor = max(minor, 100)
	c.amount = &minor
	c.amountTxt = money.Amount{Minor: minor, Currency: c.currency}.String()
}

// fields is the extracted post-call analysis, as the ingest would store it.
func (g *generator) fields(r *rand.Rand, c call) string {
	kv := []string{"intent", jsonString(content[c.kind].intent), "customer_name", jsonString(c.cust.name)}
	switch c.refType {
	case "charge":
		kv = append(kv, "payment_id", jsonString(c.ref))
	case "invoice":
		kv = append(kv, "invoice_number", jsonString(c.ref))
	case "subscription":
		kv = append(kv, "subscription_id", jsonString(c.ref))
	}
	if c.amount != nil {
		kv = append(kv, "amount", jsonString(money.Amount{Minor: *c.amount, Currency: c.currency}.Major()),
			"currency", jsonString(c.currency))
	}
	switch c.kind {
	case "refund":
		kv = append(kv, "refund_reason", jsonString(pick(r, "not delivered", "cancelled in trial", "returned", "duplicate order")),
			"approval_required", "true")
	case "dispute":
		kv = append(kv, "dispute_reason", jsonString(pick(r, "duplicate charge", "unrecognised charge", "charged after cancellation")))
	case "collections":
		if !c.promise.IsZero() {
			kv = append(kv, "promise_to_pay", "true", "promise_to_pay_date", jsonString(c.promise.Format("2006-01-02")))
		}
	case "document_resend":
		kv = append(kv, "customer_email_verified", strconv.FormatBool(r.IntN(10) < 7))
	}
	if c.cust.vip {
		kv = append(kv, "vip", "true")
	}
	return jsonObject(kv...)
}
