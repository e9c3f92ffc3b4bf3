package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/auth"
)

// policyForm is the policy form as an admin fills it in, in major units.
func policyForm() url.Values {
	return url.Values{"tiers": {"2"},
		"t0_kind": {""}, "t0_cur": {"USD"}, "t0_auto": {"50.00"}, "t0_one": {"1000.00"}, "t0_step": {"2500"}, "t0_comment": {"750"},
		"t1_kind": {"refund"}, "t1_cur": {"EUR"}, "t1_auto": {"10"}, "t1_one": {"500"}, "t1_step": {"1000"},
		"human": {"dispute", "billing_correction"}, "no_amount": {"1"}, "step_up_minutes": {"5"}, "comment_unverified": {"1"},
		"s_kind": {"refund"}, "s_amount": {"1200.00"}, "s_cur": {"USD"}, "s_verified": {"1"}}
}

// TestPolicyForm: the policy is edited in major units per kind and currency; a
// preview says what a sample case would need and stores nothing; save stores it.
func TestPolicyForm(t *testing.T) {
	c := newDecConsole(t)
	admin := c.login(time.Time{}, auth.Admin)
	page := c.do("GET", "/admin/policy", admin, nil).Body.String()
	if !strings.Contains(page, `name="t0_one" value="1000.00"`) {
		t.Fatalf("the form does not show the limits in major units:\n%.1500s", testid(page, "policy-tiers"))
	}
	f := policyForm()
	f.Set("op", "preview")
	rec := c.do("POST", "/admin/policy", admin, f)
	if rec.Code != 200 || !strings.Contains(testid(rec.Body.String(), "preview-summary"), "Two distinct approvers, a comment from each approver") {
		t.Fatalf("preview: %d %q %q", rec.Code, testid(rec.Body.String(), "preview-summary"), testid(rec.Body.String(), "flash"))
	}
	if n := c.count(`SELECT count(*) FROM policy_versions`); n != 1 {
		t.Fatalf("a preview stored a version (%d versions)", n)
	}
	f = policyForm()
	f.Set("t1_one", "lots")
	if rec := c.do("POST", "/admin/policy", admin, f); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "row 2 (refund EUR): one approver below is not an amount in EUR") {
		t.Fatalf("bad amount: %d %s", rec.Code, testid(rec.Body.String(), "flash"))
	}
	f = policyForm()
	f.Set("op", "save")
	if rec := c.do("POST", "/admin/policy", admin, f); rec.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", rec.Code, testid(rec.Body.String(), "flash"))
	}
	v, err := approval.CurrentPolicy(context.Background(), c.db.Gorm)
	if err != nil {
		t.Fatal(err)
	}
	usd, eur := v.Rules.Currencies["USD"], v.Rules.Kinds["refund"]["EUR"]
	if usd.OneApproverBelow != 100_000 || usd.CommentAbove != 75_000 || usd.StepUpAbove != 250_000 || eur.OneApproverBelow != 50_000 ||
		v.Rules.StepUpMinutes != 5 || !v.Rules.CommentWhenUnverified || len(v.Rules.Currencies) != 1 {
		t.Fatalf("stored rules %+v", v.Rules)
	}
}
