package handlers_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
)

// TestAuditReadableVerifiableAndScoped: the audit page reads as sentences, its
// verify button runs the verifier, and the case bundle holds only that case, with
// no customer email, and verifies; so do both export formats.
func TestAuditReadableVerifiableAndScoped(t *testing.T) {
	c := newDecConsole(t)
	auditor := c.login(time.Time{}, auth.Auditor)
	fin := c.login(time.Time{}, auth.FinanceApprover)
	lead := c.login(time.Time{}, auth.SupportLead)
	id := c.newCase(24900)
	other := c.newCase(25900)
	for _, cs := range []string{id, other} {
		c.do("POST", "/cases/"+cs+"/request-approval", lead, url.Values{})
		c.do("POST", "/cases/"+cs+"/approve", fin, url.Values{"fingerprint": {c.fingerprint(cs)}, "confirm": {"yes"}, "comment": {"ok for " + cs}})
	}
	body := c.do("GET", "/audit?case="+id, auditor, nil).Body.String()
	if !strings.Contains(body, "requested approval") || !strings.Contains(body, "0 of 1 approval") && !strings.Contains(body, "1 of 1 approval") {
		t.Errorf("audit page has no readable sentences:\n%.2000s", testid(body, "audit-log"))
	}
	if !decHasTestID(body, "audit-bundle") {
		t.Error("no evidence bundle link on a case-filtered audit page")
	}
	rec := c.do("POST", "/audit/verify", auditor, url.Values{"return": {"/audit?case=" + id}})
	if rec.Code != 200 || !strings.Contains(testid(rec.Body.String(), "flash"), "audit chain OK") {
		t.Fatalf("verify: %d %s", rec.Code, testid(rec.Body.String(), "flash"))
	}
	if page := c.do("GET", "/cases/"+id, auditor, nil).Body.String(); !decHasTestID(page, "case-bundle") {
		t.Error("the case page has no bundle link for an auditor")
	}
	bundle := c.do("GET", "/cases/"+id+"/evidence.jsonl", auditor, nil).Body.Bytes()
	if bytes.Contains(bundle, []byte(`"object_id":"`+other+`"`)) || bytes.Contains(bundle, []byte("ok for "+other)) {
		t.Error("the bundle carries another case's entries")
	}
	if bytes.Contains(bundle, []byte("jane@example.com")) {
		t.Error("the bundle carries the customer's email")
	}
	if rep, err := audit.VerifyBundle(bytes.NewReader(bundle)); err != nil || !rep.OK() {
		t.Fatalf("bundle: %v %+v", err, rep)
	}
	for _, f := range []string{"jsonl", "csv"} {
		out := c.do("GET", "/audit/export?format="+f+"&case="+id, auditor, nil).Body.Bytes()
		if rep, err := audit.VerifyBundle(bytes.NewReader(out)); err != nil || !rep.OK() || rep.Entries < 3 {
			t.Errorf("%s export does not verify: %v %+v\n%s", f, err, rep, out)
		}
	}
}
