package handlers

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/internal/reqlog"
	"github.com/countersign/countersign/views"
)

// Policy shows the approval policy and its history: GET /admin/policy.
func (a *App) Policy(w http.ResponseWriter, r *http.Request) {
	v, err := a.policyView(r, "")
	if err != nil {
		Fail(w, r, err)
		return
	}
	pg := a.Page(r, "Approval policy")
	if r.URL.Query().Get("saved") != "" {
		pg.Flash, pg.FlashKind = decisionNotices["policy_save"], "ok"
	}
	Render(w, r, http.StatusOK, views.PolicyPage(pg, v))
}

// SavePolicy stores the posted rules as a new version: POST /admin/policy.
func (a *App) SavePolicy(w http.ResponseWriter, r *http.Request) {
	text := r.PostFormValue("rules")
	rules, err := approval.ParseRules([]byte(text))
	if err == nil {
		_, err = approval.SavePolicy(r.Context(), a.DB.Gorm, rules, principalEntry(r))
	}
	if err == nil {
		http.Redirect(w, r, "/admin/policy?saved=1", http.StatusSeeOther)
		return
	}
	v, verr := a.policyView(r, text)
	if StatusOf(err) >= 500 || verr != nil {
		Fail(w, r, err)
		return
	}
	pg := a.Page(r, "Approval policy")
	pg.Flash, pg.FlashKind = err.Error(), "error"
	Render(w, r, StatusOf(err), views.PolicyPage(pg, v))
}

// principalEntry is an audit entry's actor and request facts for r.
func principalEntry(r *http.Request) audit.Entry {
	p := auth.FromContext(r.Context())
	info := reqlog.From(r.Context())
	e := audit.Entry{Actor: p.Label(), RequestID: info.RequestID, IP: info.IP, UserAgent: info.UserAgent}
	if p != nil {
		uid := p.UserID
		e.ActorID = &uid
	}
	return e
}

func (a *App) policyView(r *http.Request, posted string) (views.PolicyView, error) {
	cur, err := approval.CurrentPolicy(r.Context(), a.DB.Gorm)
	if err != nil {
		return views.PolicyView{}, err
	}
	hist, err := approval.PolicyHistory(r.Context(), a.DB.Gorm, 20)
	if err != nil {
		return views.PolicyView{}, err
	}
	if posted == "" {
		b, _ := json.MarshalIndent(cur.Rules, "", "  ")
		posted = string(b)
	}
	v := views.PolicyView{Version: strconv.FormatInt(cur.ID, 10), CreatedAt: decisionStamp(cur.CreatedAt), CreatedBy: cur.CreatedBy,
		Human: cur.Rules.AlwaysHumanKinds, NoAmount: strconv.Itoa(cur.Rules.NoAmountApprovals),
		StepUpMin: strconv.Itoa(cur.Rules.StepUpMinutes), RulesJSON: posted}
	v.Tiers = tierRows("all kinds", cur.Rules.Currencies)
	kinds := make([]string, 0, len(cur.Rules.Kinds))
	for k := range cur.Rules.Kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		v.Tiers = append(v.Tiers, tierRows(k, cur.Rules.Kinds[k])...)
	}
	for _, h := range hist {
		v.History = append(v.History, views.PolicyVersionView{ID: strconv.FormatInt(h.ID, 10), CreatedAt: decisionStamp(h.CreatedAt), CreatedBy: h.CreatedBy})
	}
	return v, nil
}

func tierRows(kind string, tiers map[string]approval.Tier) []views.PolicyTierView {
	curs := make([]string, 0, len(tiers))
	for c := range tiers {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	out := make([]views.PolicyTierView, 0, len(curs))
	for _, c := range curs {
		t := tiers[c]
		f := func(m int64) string { return money.Amount{Minor: m, Currency: c}.Major() }
		out = append(out, views.PolicyTierView{Kind: kind, Currency: c, Automatic: f(t.AutomaticBelow), One: f(t.OneApproverBelow), StepUp: f(t.StepUpAbove)})
	}
	return out
}
