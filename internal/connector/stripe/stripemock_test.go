package stripe_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe"
)

// peerURL returns the address of a local peer (contracts/connectors.md, "Local
// peers for tests") from name. Without it the test skips locally, but fails under
// CI=true: there scripts/peers.sh always starts the peers, and a skip would hide
// that the check did not run.
func peerURL(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set under CI=true: run the tests through scripts/test.sh, which starts the peers (scripts/peers.sh)", name)
	}
	t.Skipf("%s not set; start the peers with eval \"$(scripts/peers.sh)\"", name)
	return ""
}

// sent is one request the client made, as the peer answered it.
type sent struct {
	Method, Path, IdempotencyKey string
	Form                         url.Values
	Status                       int
}

// recordingTransport records every request the connector makes.
type recordingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []sent
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	s := sent{Method: r.Method, Path: r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key")}
	if r.Method == http.MethodGet {
		s.Form = r.URL.Query()
	} else if r.GetBody != nil {
		if b, err := r.GetBody(); err == nil {
			body, _ := io.ReadAll(b)
			b.Close()
			s.Form, _ = url.ParseQuery(string(body))
		}
	}
	res, err := rt.next.RoundTrip(r)
	if res != nil {
		s.Status = res.StatusCode
	}
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, s)
	rt.mu.Unlock()
	return res, err
}

func (rt *recordingTransport) last(t *testing.T) sent {
	t.Helper()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if len(rt.reqs) == 0 {
		t.Fatal("no request was made")
	}
	return rt.reqs[len(rt.reqs)-1]
}

// TestAgainstStripeMock runs every call the connector makes against stripe-mock,
// which validates each request against Stripe's OpenAPI spec (unknown or
// ill-typed parameters are 400) and answers with spec-shaped fixtures. It keeps
// no state, so only shapes and the ids it reflects are checked; idempotency and
// error paths are stripefake's (stripe_test.go).
func TestAgainstStripeMock(t *testing.T) {
	base := peerURL(t, "STRIPE_MOCK_URL") // e.g. http://127.0.0.1:12111
	rt := &recordingTransport{next: &http.Transport{Proxy: nil}}
	hc := connector.NewHTTPClient(10 * time.Second)
	hc.Transport = rt
	c := stripe.New(stripe.Config{BaseURL: base, Key: "sk_test_123", HTTPClient: hc})
	ctx := context.Background()

	// The peer really validates: an unknown parameter is refused.
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/refunds", strings.NewReader("charge=ch_123&amount=100&not_a_param=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("sk_test_123", "")
	if res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req); err != nil {
		t.Fatalf("stripe-mock at %s: %v", base, err)
	} else {
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("stripe-mock accepted an unknown parameter (status %d): is %s really stripe-mock?", res.StatusCode, base)
		}
	}

	t.Run("refund", func(t *testing.T) {
		rc, err := c.Refund(ctx, refundParams("ch_123", "mock-refund-1"))
		if err != nil {
			t.Fatalf("refund: %v", err)
		}
		r := rt.last(t)
		if r.Method != http.MethodPost || r.Path != "/v1/refunds" || r.Status != http.StatusOK {
			t.Errorf("request %s %s answered %d", r.Method, r.Path, r.Status)
		}
		if r.IdempotencyKey != "mock-refund-1" {
			t.Errorf("Idempotency-Key = %q", r.IdempotencyKey)
		}
		if r.Form.Get("metadata[countersign_key]") != "mock-refund-1" || r.Form.Get("amount") != "24900" || r.Form.Get("charge") != "ch_123" {
			t.Errorf("form = %v", r.Form)
		}
		if !strings.HasPrefix(rc.ExternalID, "re_") || !strings.HasPrefix(rc.Summary, "refund "+rc.ExternalID+" ") {
			t.Errorf("receipt = %q / %q", rc.ExternalID, rc.Summary)
		}
		var raw map[string]any
		if err := json.Unmarshal(rc.Raw, &raw); err != nil {
			t.Fatalf("raw: %v", err)
		}
		// stripe-mock reflects the request's amount and charge into its fixture.
		if raw["object"] != "refund" || raw["charge"] != "ch_123" || raw["amount"] != float64(24900) {
			t.Errorf("raw = %v", raw)
		}
		// By payment intent, with a reason.
		p := refundParams("", "mock-refund-2")
		p.PaymentIntent, p.AmountMinor, p.Reason = "pi_123", 500, "requested_by_customer"
		if _, err := c.Refund(ctx, p); err != nil {
			t.Errorf("refund by payment intent: %v", err)
		}
		if f := rt.last(t).Form; f.Get("payment_intent") != "pi_123" || f.Get("charge") != "" {
			t.Errorf("form = %v", f)
		}
	})

	t.Run("lookups", func(t *testing.T) {
		for _, tc := range []struct {
			object, id string
			get        func(context.Context, string) (stripe.Fact, error)
		}{
			{"charge", "ch_mock1", c.GetCharge},
			{"payment_intent", "pi_mock1", c.GetPaymentIntent},
			{"invoice", "in_mock1", c.GetInvoice},
			{"customer", "cus_mock1", c.GetCustomer},
			{"subscription", "sub_mock1", c.GetSubscription},
			{"dispute", "dp_mock1", c.GetDispute},
		} {
			f, err := tc.get(ctx, tc.id)
			if err != nil {
				t.Errorf("get %s: %v", tc.object, err)
				continue
			}
			if f.Object != tc.object || f.ID != tc.id {
				t.Errorf("get %s %s: fact %s %s", tc.object, tc.id, f.Object, f.ID)
			}
			if f.Currency != "" && f.Currency != strings.ToUpper(f.Currency) {
				t.Errorf("%s currency %q not upper case", tc.object, f.Currency)
			}
			if f.Livemode {
				t.Errorf("%s: livemode on a test key", tc.object)
			}
			if r := rt.last(t); r.Method != http.MethodGet || r.Status != http.StatusOK {
				t.Errorf("%s: %s %s answered %d", tc.object, r.Method, r.Path, r.Status)
			}
		}
	})

	t.Run("invoice search", func(t *testing.T) {
		f, err := c.FindInvoiceByNumber(ctx, "INV-0042")
		if err != nil {
			t.Fatalf("invoice search: %v", err)
		}
		r := rt.last(t)
		if r.Path != "/v1/invoices/search" || r.Form.Get("query") != "number:'INV-0042'" || r.Form.Get("limit") != "1" {
			t.Errorf("request %s %v", r.Path, r.Form)
		}
		if f == nil || f.Object != "invoice" || !strings.HasPrefix(f.ID, "in_") {
			t.Errorf("found %+v", f)
		}
	})

	t.Run("invoice charge", func(t *testing.T) {
		// The spec accepts the list filtered by invoice; stripe-mock's fixture
		// payment is not paid ("status": "status"), so the client reads the
		// invoice to say why there is no charge.
		rt.mu.Lock()
		before := len(rt.reqs)
		rt.mu.Unlock()
		_, err := c.InvoiceCharge(ctx, "in_mock1")
		var ce *connector.Error
		if !errors.As(err, &ce) || ce.Code != "invoice_not_paid" {
			t.Errorf("invoice charge: %v", err)
		}
		rt.mu.Lock()
		reqs := append([]sent(nil), rt.reqs[before:]...)
		rt.mu.Unlock()
		if len(reqs) != 2 || reqs[0].Path != "/v1/invoice_payments" || reqs[0].Status != http.StatusOK ||
			reqs[0].Form.Encode() != "invoice=in_mock1&limit=100" || reqs[1].Path != "/v1/invoices/in_mock1" || reqs[1].Status != http.StatusOK {
			t.Errorf("requests %+v", reqs)
		}
	})

	t.Run("customer by email", func(t *testing.T) {
		f, err := c.FindCustomerByEmail(ctx, "ana@example.com")
		if err != nil {
			t.Fatalf("customer list: %v", err)
		}
		if r := rt.last(t); r.Path != "/v1/customers" || r.Form.Get("email") != "ana@example.com" {
			t.Errorf("request %s %v", r.Path, r.Form)
		}
		if f == nil || f.Object != "customer" || !strings.HasPrefix(f.ID, "cus_") {
			t.Errorf("found %+v", f)
		}
	})

	t.Run("refund by metadata", func(t *testing.T) {
		if _, err := c.FindRefundByMetadata(ctx, "ch_123", stripe.MetadataKey, "mock-refund-1"); err != nil {
			t.Fatalf("refund list: %v", err)
		}
		if r := rt.last(t); r.Path != "/v1/refunds" || r.Form.Get("charge") != "ch_123" {
			t.Errorf("request %s %v", r.Path, r.Form)
		}
	})

	t.Run("dispute evidence", func(t *testing.T) {
		rc, err := c.StageDisputeEvidence(ctx, "dp_mock2", map[string]string{
			"uncategorized_text":     "Customer confirmed the duplicate charge on the call.",
			"customer_email_address": "ana@example.com",
		}, "mock-evidence-1")
		if err != nil {
			t.Fatalf("dispute: %v", err)
		}
		r := rt.last(t)
		if r.Method != http.MethodPost || r.Path != "/v1/disputes/dp_mock2" || r.IdempotencyKey != "mock-evidence-1" {
			t.Errorf("request %s %s key %q", r.Method, r.Path, r.IdempotencyKey)
		}
		if r.Form.Get("submit") != "false" || r.Form.Get("evidence[customer_email_address]") != "ana@example.com" {
			t.Errorf("form = %v (submit must be false)", r.Form)
		}
		if rc.ExternalID != "dp_mock2" || !strings.Contains(rc.Summary, "2 fields, not submitted") {
			t.Errorf("receipt = %q / %q", rc.ExternalID, rc.Summary)
		}
	})

	t.Run("get refund", func(t *testing.T) {
		rc, err := c.GetRefund(ctx, "re_mock1")
		if err != nil && !stripe.IsPending(err) {
			t.Fatalf("get refund: %v", err)
		}
		if r := rt.last(t); r.Method != http.MethodGet || r.Path != "/v1/refunds/re_mock1" || r.Status != http.StatusOK {
			t.Errorf("request %s %s answered %d", r.Method, r.Path, r.Status)
		}
		if rc.ExternalID != "re_mock1" {
			t.Errorf("receipt %q", rc.ExternalID)
		}
	})

	t.Run("submit evidence", func(t *testing.T) {
		rc, err := c.SubmitDisputeEvidence(ctx, "dp_mock3", "mock-submit-1")
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		r := rt.last(t)
		if r.Method != http.MethodPost || r.Path != "/v1/disputes/dp_mock3" || r.Form.Get("submit") != "true" || len(r.Form) != 1 {
			t.Errorf("request %s %s form %v, want submit=true only", r.Method, r.Path, r.Form)
		}
		if rc.ExternalID != "dp_mock3" {
			t.Errorf("receipt %q", rc.ExternalID)
		}
	})

	t.Run("evidence file upload", func(t *testing.T) {
		// stripe-mock serves the files endpoint on its one host; in production
		// FilesURL is files.stripe.com.
		up := stripe.New(stripe.Config{BaseURL: base, FilesURL: base, Key: "sk_test_123", HTTPClient: hc})
		id, err := up.UploadEvidenceFile(ctx, stripe.Upload{Name: "call-transcript.pdf", Data: []byte("%PDF-1.4\n%mock\n")}, "mock-file-1")
		if err != nil {
			t.Fatalf("upload: %v", err)
		}
		if r := rt.last(t); r.Method != http.MethodPost || r.Path != "/v1/files" || r.Status != http.StatusOK {
			t.Errorf("request %s %s answered %d", r.Method, r.Path, r.Status)
		}
		if !strings.HasPrefix(id, "file_") {
			t.Errorf("file id %q", id)
		}
	})
	t.Run("billing correction", func(t *testing.T) {
		rt.mu.Lock()
		from := len(rt.reqs)
		rt.mu.Unlock()
		p := stripe.CorrectionParams{Customer: "cus_123", IdempotencyKey: "mock-correct-1", TaxType: "eu_vat", TaxValue: "FR12345678901",
			Address: stripe.Address{Line1: "1 rue de Rivoli", City: "Paris", PostalCode: "75001", Country: "FR"}}
		rc, err := c.CorrectCustomer(ctx, p)
		if err != nil {
			t.Fatalf("correct customer: %v", err)
		}
		if rc.Customer != "cus_123" || !strings.HasPrefix(rc.TaxID, "txi_") {
			t.Errorf("receipt = %+v", rc)
		}
		rt.mu.Lock()
		reqs := append([]sent(nil), rt.reqs[from:]...)
		rt.mu.Unlock()
		var address, created bool
		for _, r := range reqs {
			if r.Status != http.StatusOK {
				t.Errorf("%s %s answered %d", r.Method, r.Path, r.Status)
			}
			switch {
			case r.Method == http.MethodPost && r.Path == "/v1/customers/cus_123":
				address = r.Form.Get("address[line1]") == "1 rue de Rivoli" && r.Form.Get("address[postal_code]") == "75001" &&
					r.Form.Get("address[country]") == "FR" && r.IdempotencyKey == "mock-correct-1-address"
			case r.Method == http.MethodPost && r.Path == "/v1/customers/cus_123/tax_ids":
				created = r.Form.Get("type") == "eu_vat" && r.Form.Get("value") == "FR12345678901" && r.IdempotencyKey == "mock-correct-1-tax-id"
			}
		}
		if !address || !created {
			t.Errorf("address update %v, tax id create %v in %+v", address, created, reqs)
		}
		// stripe-mock refuses a type outside Stripe's enumeration, as the fake does.
		p.TaxType, p.IdempotencyKey = "xx_vat", "mock-correct-2"
		if _, err := c.CorrectCustomer(ctx, p); err == nil {
			t.Error("stripe-mock accepted tax id type xx_vat")
		}
	})

	t.Run("credit note and documents", func(t *testing.T) {
		d, err := c.CreateCreditNote(ctx, stripe.CreditNoteParams{Invoice: "in_123", AmountMinor: 4900, Currency: "usd", Refund: "re_123",
			Reason: "duplicate", Memo: "Duplicate charge refunded.", IdempotencyKey: "mock-cn-1", Metadata: map[string]string{"countersign_case": "7"}})
		if err != nil {
			t.Fatalf("credit note: %v", err)
		}
		r := rt.last(t)
		if r.Path != "/v1/credit_notes" || r.Status != http.StatusOK || r.IdempotencyKey != "mock-cn-1" ||
			r.Form.Get("refunds[0][refund]") != "re_123" || r.Form.Get("refunds[0][amount_refunded]") != "4900" ||
			r.Form.Get("email_type") != "none" || r.Form.Get("metadata[countersign_key]") != "mock-cn-1" {
			t.Errorf("request %s %d %v", r.Path, r.Status, r.Form)
		}
		if !strings.HasPrefix(d.ID, "cn_") {
			t.Errorf("document %+v", d)
		}
		if _, err := c.GetCreditNote(ctx, "cn_123"); err != nil {
			t.Errorf("get credit note: %v", err)
		}
		if _, err := c.FindCreditNoteByMetadata(ctx, "in_123", stripe.MetadataKey, "mock-cn-1"); err != nil {
			t.Errorf("list credit notes: %v", err)
		}
		if r := rt.last(t); r.Path != "/v1/credit_notes" || r.Form.Get("invoice") != "in_123" || r.Status != http.StatusOK {
			t.Errorf("list %s %d %v", r.Path, r.Status, r.Form)
		}
		if inv, err := c.InvoiceDocument(ctx, "in_123"); err != nil || inv.Object != "invoice" {
			t.Errorf("invoice document %+v %v", inv, err)
		}
		if ch, err := c.ChargeDocument(ctx, "ch_123"); err != nil || ch.Object != "charge" {
			t.Errorf("charge document %+v %v", ch, err)
		}
	})
}
