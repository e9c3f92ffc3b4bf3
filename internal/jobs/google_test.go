package jobs_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/jobs"
)

func emailPlan() plan {
	return plan{"email", "send_document", jobs.EmailParams{To: "jordan@example.com", DocumentType: "refund_confirmation", Amount: 2500, Currency: "USD"}}
}

// Gmail answered 500 (nothing sent): the rerun sends. It used to look for the first
// attempt with users.messages.list, which the gmail.send scope does not allow (403,
// permanent), so every retried email needed a person.
func TestGmailRetryAfterAnsweredErrorSendsWithSendScopeOnly(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	e.sb.Gmail.FailNext(1, http.StatusInternalServerError, 0)
	caseID, ids := e.newCase("refund", emailPlan())
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 10*time.Second)
	if n := len(e.sb.Gmail.Sent()); n != 1 {
		t.Fatalf("emails sent = %d, want 1", n)
	}
}

// Access tokens expire: the next email mints a new token instead of needing a person.
func TestGoogleTokenExpiryIsNotPermanent(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	e.start()
	caseID, ids := e.newCase("refund", emailPlan(), plan{"sheets", "append_row", jobs.RowParams{Sheet: "collections", Values: []any{"a"}}})
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[1], "done", 10*time.Second)
	e.sb.GoogleAuth.ExpireAll()
	ch := e.sb.Stripe.AddCharge(stripefakeCharge(2500))
	caseID, ids = e.newCase("refund", emailPlan(), plan{"drive", "upload", jobs.UploadParams{DocumentType: "receipt", DocumentRef: "RCPT-1", Charge: ch}})
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 10*time.Second)
	e.waitStatus(ids[1], "done", 10*time.Second)
	if n := len(e.sb.Gmail.Sent()); n != 2 {
		t.Fatalf("emails sent = %d, want 2", n)
	}
}
