package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/auth"
	ct "github.com/countersign/countersign/internal/console/consoletest"
)

// TestDisableUserConfirmsOnTheServer: a POST without confirm=yes disables nobody
// and answers a page saying what disabling will do (sessions end, no sign-in, the
// approvals and cases left behind) with a confirming form; the confirmed POST
// disables, ends the sessions and is audited.
func TestDisableUserConfirmsOnTheServer(t *testing.T) {
	h := newHarness(t)
	admin := h.user("Ada Admin", "ada@example.com", auth.Admin)
	fiona := h.user("Fiona Finance", "fiona@example.com", auth.FinanceApprover)
	awaiting := ct.Insert(t, h.db.Gorm, ct.Case{Status: "awaiting_approval", AssigneeID: &fiona.id})
	if err := h.db.Gorm.Exec(`INSERT INTO approvals (case_id, approver_id, approver_label, fingerprint, policy_version)
		VALUES (?, ?, 'user:x fiona@example.com', 'fp', 1)`, awaiting, fiona.id).Error; err != nil {
		t.Fatal(err)
	}
	fid := strconv.FormatInt(fiona.id, 10)
	if list := h.get(admin, "/admin/users").Body.String(); !strings.Contains(testid(list, "disable-"+fid), "Disable…") {
		t.Fatalf("no Disable button for Fiona: %s", testid(list, "user-"+fid))
	}

	rec := h.post(admin, "/admin/users/"+fid+"/disable", url.Values{})
	wantStatus(t, rec, http.StatusOK)
	page := rec.Body.String()
	effects := testid(page, "disable-effects")
	for _, want := range []string{"1 active sessions end now", "cannot sign in", "1 approvals on cases still awaiting approval stay valid", "1 open cases stay assigned"} {
		if !strings.Contains(effects, want) {
			t.Errorf("confirmation misses %q: %s", want, effects)
		}
	}
	form := testid(page, "disable-user-confirm")
	if !strings.Contains(form, `action="/admin/users/`+fid+`/disable"`) || !strings.Contains(form, `name="confirm" value="yes"`) {
		t.Errorf("no confirming form: %s", form)
	}
	if h.count(`SELECT count(*) FROM users WHERE id = ? AND disabled`, fiona.id) != 0 ||
		h.count(`SELECT count(*) FROM audit_log WHERE action = 'user.disabled'`) != 0 {
		t.Fatal("an unconfirmed POST disabled the user")
	}
	if rec := h.get(fiona, "/approvals"); rec.Code != http.StatusOK {
		t.Fatalf("Fiona's session ended without confirmation: %d", rec.Code)
	}

	// Confirmed: disabled, sessions ended, audited.
	rec = h.post(admin, "/admin/users/"+fid+"/disable", url.Values{"confirm": {"yes"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/admin/users?done=disabled" {
		t.Fatalf("confirmed disable: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	if h.count(`SELECT count(*) FROM users WHERE id = ? AND disabled`, fiona.id) != 1 ||
		h.count(`SELECT count(*) FROM sessions WHERE user_id = ? AND revoked_at IS NULL`, fiona.id) != 0 ||
		h.count(`SELECT count(*) FROM audit_log WHERE action = 'user.disabled' AND object_id = ?`, fid) != 1 {
		t.Error("confirmed disable did not disable, end the sessions and audit")
	}

	// Oneself: refused at the confirmation already; an unknown user is not found.
	if rec := h.post(admin, "/admin/users/"+strconv.FormatInt(admin.id, 10)+"/disable", url.Values{}); rec.Code != http.StatusConflict {
		t.Errorf("self-disable confirmation: %d", rec.Code)
	}
	if rec := h.post(admin, "/admin/users/999999/disable", url.Values{}); rec.Code != http.StatusNotFound {
		t.Errorf("unknown user: %d", rec.Code)
	}
}
