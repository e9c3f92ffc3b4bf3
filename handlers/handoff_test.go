package handlers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
)

func TestDecisionPanelShowsTheHandoff(t *testing.T) {
	c := newDecConsole(t)
	fin := c.login(time.Time{}, auth.FinanceApprover)
	id := c.newCase(24900)
	rec := c.do("GET", "/cases/"+id+"/decision", fin, nil)
	body := rec.Body.String()
	if rec.Code != 200 || !decHasTestID(body, "handoff") {
		t.Fatalf("decision page %d without a handoff panel", rec.Code)
	}
	for _, want := range []string{"a refund of 249.00 USD on charge ch_3PxAbCdEf", "charge ch_3PxAbCdEf", "[ssn removed]",
		"https://dashboard.stripe.com/payments/ch_3PxAbCdEf"} {
		if !strings.Contains(body, want) {
			t.Errorf("handoff panel lacks %q", want)
		}
	}
}
