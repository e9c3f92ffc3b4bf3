package stripe_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
	"github.com/countersign/countersign/internal/money"
)

// An MGA partial refund moves exactly the approved amount: the amount parsed from
// the call ("12000" ariary) is the integer Stripe receives (MGA is zero-decimal at
// Stripe, two-decimal in ISO 4217).
func TestRefundMGAPartialMovesTheApprovedAmount(t *testing.T) {
	fake, c, _ := setup(t, 0)
	ch := fake.AddCharge(stripefake.Charge{Amount: 50000, Currency: "mga"})
	approved, err := money.ParseMajor("12000", "MGA")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := c.Refund(context.Background(), stripe.RefundParams{Charge: ch, AmountMinor: approved.Minor,
		Currency: "MGA", IdempotencyKey: "mga-1"})
	if err != nil {
		t.Fatal(err)
	}
	if refunds := fake.Refunds(); len(refunds) != 1 || refunds[0].Amount != 12000 {
		t.Fatalf("refunds = %+v, want one of 12000 MGA", refunds)
	}
	if !strings.Contains(rc.Summary, "12000 MGA") {
		t.Errorf("summary %q, want 12000 MGA", rc.Summary)
	}
}

// Three-decimal amounts must end in 0 and ISK amounts must be whole krónur: the
// client refuses them before calling, and the fake refuses them as Stripe does.
func TestRefundCurrencyStepsRefused(t *testing.T) {
	fake, c, _ := setup(t, 0)
	kwd := fake.AddCharge(stripefake.Charge{Amount: 50000, Currency: "kwd"})
	isk := fake.AddCharge(stripefake.Charge{Amount: 500000, Currency: "isk"})
	for _, tt := range []struct {
		ch, cur string
		amount  int64
	}{{kwd, "KWD", 1235}, {isk, "ISK", 4010}} {
		_, err := c.Refund(context.Background(), stripe.RefundParams{Charge: tt.ch, AmountMinor: tt.amount,
			Currency: tt.cur, IdempotencyKey: "step-" + tt.cur})
		if ce := asConnErr(t, err); !ce.Permanent || ce.Code != "invalid_params" {
			t.Errorf("%s %d: %+v, want refused before Stripe", tt.cur, tt.amount, ce)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("requests sent = %d, want 0", n)
	}
	for _, tt := range []struct {
		ch, amount, code string
	}{{kwd, "1235", ""}, {isk, "4010", "invalid_charge_amount_no_decimal_compatible"}} {
		res := postForm(t, fake.URL+"/v1/refunds", url.Values{"charge": {tt.ch}, "amount": {tt.amount}})
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("fake accepted %s on %s: %d", tt.amount, tt.ch, res.StatusCode)
		}
	}
	if n := fake.RefundCount(); n != 0 {
		t.Errorf("refunds = %d, want 0", n)
	}
}

func postForm(t *testing.T, u string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+stripefake.TestKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// Stripe-Should-Retry overrides the status: false makes a 503 permanent, true
// makes a 400 temporary.
func TestStripeShouldRetryHonoured(t *testing.T) {
	for _, tt := range []struct {
		status    int
		advice    string
		permanent bool
	}{{503, "false", true}, {400, "true", false}, {503, "", false}} {
		fake, c, ch := setup(t, 0)
		fake.FailNextAdvising(1, tt.status, "", tt.advice)
		_, err := c.Refund(context.Background(), refundParams(ch, "advice"))
		if ce := asConnErr(t, err); ce.Permanent != tt.permanent {
			t.Errorf("%d with Stripe-Should-Retry %q: permanent %v, want %v", tt.status, tt.advice, ce.Permanent, tt.permanent)
		}
	}
}

// A 5xx from an endpoint that started is stored for the key and replayed, as on
// Stripe: the replay is permanent (the same key cannot succeed), and reusing the
// key with other parameters is refused with idempotency_error.
func TestStored5xxReplayedForTheSameKey(t *testing.T) {
	fake, c, ch := setup(t, 0)
	fake.FailStartedNext(1, http.StatusInternalServerError)
	ctx := context.Background()
	_, err := c.Refund(ctx, refundParams(ch, "stored-5xx"))
	if ce := asConnErr(t, err); ce.Permanent || ce.Status != 500 {
		t.Fatalf("first answer %+v, want a temporary 500", ce)
	}
	_, err = c.Refund(ctx, refundParams(ch, "stored-5xx"))
	if ce := asConnErr(t, err); !ce.Permanent || ce.Status != 500 {
		t.Fatalf("retry with the same key %+v, want the stored 500, permanent", ce)
	}
	other := refundParams(ch, "stored-5xx")
	other.AmountMinor = 100
	_, err = c.Refund(ctx, other)
	if ce := asConnErr(t, err); !ce.Permanent || ce.Status != 400 || ce.Code != "idempotency_error" {
		t.Fatalf("same key, other amount: %+v, want 400 idempotency_error", ce)
	}
	if n := fake.RefundCount(); n != 0 {
		t.Errorf("refunds = %d, want 0", n)
	}
}

// Uploads go to the files host; the API host does not take them, and dispute
// evidence must be a PDF, JPEG or PNG.
func TestEvidenceUploadGoesToFilesHost(t *testing.T) {
	fake, _, _ := setup(t, 0)
	ctx := context.Background()
	pdf := []byte("%PDF-1.4\n%test\n")
	good := stripe.New(stripe.Config{BaseURL: fake.URL, FilesURL: fake.FilesURL, Key: stripefake.TestKey})
	id, err := good.UploadEvidenceFile(ctx, stripe.Upload{Name: "transcript.pdf", Data: pdf}, "upload-1")
	if err != nil || !strings.HasPrefix(id, "file_") {
		t.Fatalf("upload to the files host: %q %v", id, err)
	}
	if files := fake.Files(); len(files) != 1 || files[0].Purpose != "dispute_evidence" || files[0].Type != "pdf" {
		t.Fatalf("files = %+v", files)
	}
	apiHost := stripe.New(stripe.Config{BaseURL: fake.URL, FilesURL: fake.URL, Key: stripefake.TestKey})
	_, err = apiHost.UploadEvidenceFile(ctx, stripe.Upload{Name: "transcript.pdf", Data: pdf}, "upload-2")
	if ce := asConnErr(t, err); ce.Status != http.StatusNotFound || !ce.Permanent {
		t.Errorf("upload to the API host: %+v, want 404", ce)
	}
	_, err = good.UploadEvidenceFile(ctx, stripe.Upload{Name: "transcript.txt", Data: []byte("hello")}, "upload-3")
	if ce := asConnErr(t, err); ce.Status != http.StatusBadRequest {
		t.Errorf("text evidence: %+v, want 400", ce)
	}
	if n := len(fake.Files()); n != 1 {
		t.Errorf("files = %d, want 1", n)
	}
}

// A pending refund is not done: Refund says so with the receipt, and GetRefund
// reports success only once Stripe settles it.
func TestPendingRefundIsNotDone(t *testing.T) {
	fake, c, ch := setup(t, 0)
	fake.SetRefundStatus("pending")
	ctx := context.Background()
	rc, err := c.Refund(ctx, refundParams(ch, "pending-1"))
	if !stripe.IsPending(err) || connector.IsPermanent(err) || !strings.HasPrefix(rc.ExternalID, "re_") {
		t.Fatalf("pending refund: %q %v", rc.ExternalID, err)
	}
	if _, err := c.GetRefund(ctx, rc.ExternalID); !stripe.IsPending(err) {
		t.Fatalf("still pending: %v", err)
	}
	fake.SettleRefund(rc.ExternalID, "succeeded")
	if _, err := c.GetRefund(ctx, rc.ExternalID); err != nil {
		t.Fatalf("settled: %v", err)
	}
}
