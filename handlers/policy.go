package handlers

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

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

// SavePolicy stores the posted policy as a new version, or previews what a sample
// case would need under it without storing: POST /admin/policy. The form is in
// major units; mode=json takes the rules as JSON in minor units.
func (a *App) SavePolicy(w http.ResponseWriter, r *http.Request) {
	var rules approval.Rules
	var err error
	text := r.PostFormValue("rules")
	if r.PostFormValue("mode") == "json" {
		rules, err = approval.ParseRules([]byte(text))
	} else {
		rules, err = approval.BuildRules(policyInput(r))
		text = ""
	}
	preview := r.PostFormValue("op") == "preview"
	if err == nil && !preview {
		_, err = approval.SavePolicy(r.Context(), a.DB.Gorm, rules, principalEntry(r))
		if err == nil {
			http.Redirect(w, r, "/admin/policy?saved=1", http.StatusSeeOther)
			return
		}
	}
	v, verr := a.policyView(r, text)
	if verr != nil {
		Fail(w, r, verr)
		return
	}
	if r.PostFormValue("mode") != "json" {
		v.Form = postedPolicyForm(r)
	}
	pg := a.Page(r, "Approval policy")
	status := http.StatusOK
	if err != nil {
		if status = StatusOf(err); status >= 500 {
			Fail(w, r, err)
			return
		}
		pg.Flash, pg.FlashKind = err.Error(), "error"
	} else {
		v.Preview = policyPreview(rules, v.Form.Sample)
	}
	Render(w, r, status, views.PolicyPage(pg, v))
}

// maxPolicyRows bounds the tier rows read from the form.
const maxPolicyRows = 60

// policyInput reads the policy form.
func policyInput(r *http.Request) approval.RulesInput {
	n, _ := strconv.Atoi(r.PostFormValue("tiers"))
	in := approval.RulesInput{AlwaysHuman: r.PostForm["human"], CommentWhenUnverified: r.PostFormValue("comment_unverified") == "1"}
	in.NoAmountApprovals, _ = strconv.Atoi(r.PostFormValue("no_amount"))
	in.StepUpMinutes, _ = strconv.Atoi(strings.TrimSpace(r.PostFormValue("step_up_minutes")))
	for i := 0; i < min(n, maxPolicyRows); i++ {
		f := func(k string) string { return strings.TrimSpace(r.PostFormValue("t" + strconv.Itoa(i) + "_" + k)) }
		in.Tiers = append(in.Tiers, approval.TierInput{Kind: f("kind"), Currency: f("cur"), Automatic: f("auto"),
			OneApprover: f("one"), StepUp: f("step"), Comment: f("comment"), Remove: f("remove") == "1"})
	}
	return in
}

// postedPolicyForm shows the form as posted (after a refusal or a preview), with
// two empty rows to add to.
func postedPolicyForm(r *http.Request) views.PolicyFormView {
	in := policyInput(r)
	var rows []views.PolicyTierView
	for _, t := range in.Tiers {
		if t.Remove || (t.Currency == "" && t.Automatic == "" && t.OneApprover == "" && t.StepUp == "") {
			continue
		}
		rows = append(rows, views.PolicyTierView{Kind: t.Kind, Currency: t.Currency, Automatic: t.Automatic, One: t.OneApprover, StepUp: t.StepUp, Comment: t.Comment})
	}
	f := policyFormFrame(rows, in.AlwaysHuman, in.NoAmountApprovals, strconv.Itoa(in.StepUpMinutes), in.CommentWhenUnverified)
	f.Sample = views.PolicySampleView{Kinds: optionsOf(kindValues(), queueTitle, r.PostFormValue("s_kind")), Amount: r.PostFormValue("s_amount"),
		Currency: strings.ToUpper(strings.TrimSpace(r.PostFormValue("s_cur"))), ClaimVerified: r.PostFormValue("s_verified") == "1", VIP: r.PostFormValue("s_vip") == "1"}
	return f
}

func policyFormFrame(rows []views.PolicyTierView, human []string, noAmount int, stepUp string, commentUnverified bool) views.PolicyFormView {
	rows = append(rows, views.PolicyTierView{}, views.PolicyTierView{})
	tierKinds := append([]views.OptionView{{Value: "", Label: "All kinds"}}, optionsOf(kindValues(), queueTitle)...)
	return views.PolicyFormView{Rows: rows, Kinds: optionsOf(kindValues(), queueTitle, human...), TierKinds: tierKinds,
		NoAmount: optionsOf([]string{"1", "2"}, func(s string) string { return s }, strconv.Itoa(noAmount)), StepUpMin: stepUp,
		CommentWhenUnverified: commentUnverified}
}

// policyPreview is what the sample case would need under rules; nil without a sample.
func policyPreview(rules approval.Rules, s views.PolicySampleView) *views.PolicyPreviewView {
	f := approval.Facts{Kind: firstSelected(s.Kinds), Currency: s.Currency, ClaimVerified: s.ClaimVerified, VIP: s.VIP}
	if strings.TrimSpace(s.Amount) != "" {
		a, err := money.ParseMajor(s.Amount, s.Currency)
		if err != nil {
			return &views.PolicyPreviewView{Summary: "The sample amount is not an amount in " + s.Currency + "."}
		}
		f.AmountMinor = &a.Minor
	}
	req := rules.Require(f)
	parts := []string{requirementText(req.Approvals)}
	if req.StepUp {
		parts = append(parts, "a sign-in within "+strconv.Itoa(req.StepUpMinutes)+" minutes")
	}
	if req.Comment {
		parts = append(parts, "a comment from each approver")
	}
	return &views.PolicyPreviewView{Summary: strings.Join(parts, ", "), Reasons: req.Reasons}
}

func firstSelected(opts []views.OptionView) string {
	for _, o := range opts {
		if o.Selected {
			return o.Value
		}
	}
	return ""
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
	v := views.PolicyView{Version: strconv.FormatInt(cur.ID, 10), CreatedAt: timeView(cur.CreatedAt), CreatedBy: cur.CreatedBy,
		Human: cur.Rules.AlwaysHumanKinds, NoAmount: strconv.Itoa(cur.Rules.NoAmountApprovals),
		StepUpMin: strconv.Itoa(cur.Rules.StepUpMinutes), RulesJSON: posted}
	v.Tiers = tierRows("", cur.Rules.Currencies)
	kinds := make([]string, 0, len(cur.Rules.Kinds))
	for k := range cur.Rules.Kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		v.Tiers = append(v.Tiers, tierRows(k, cur.Rules.Kinds[k])...)
	}
	v.Form = policyFormFrame(append([]views.PolicyTierView(nil), v.Tiers...), cur.Rules.AlwaysHumanKinds, cur.Rules.NoAmountApprovals,
		v.StepUpMin, cur.Rules.CommentWhenUnverified)
	v.Form.Sample = views.PolicySampleView{Kinds: optionsOf(kindValues(), queueTitle, "refund"), Amount: "1500.00", Currency: "USD"}
	for _, h := range hist {
		v.History = append(v.History, views.PolicyVersionView{ID: strconv.FormatInt(h.ID, 10), CreatedAt: timeView(h.CreatedAt), CreatedBy: h.CreatedBy})
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
		row := views.PolicyTierView{Kind: kind, Currency: c, Automatic: f(t.AutomaticBelow), One: f(t.OneApproverBelow), StepUp: f(t.StepUpAbove)}
		if t.CommentAbove > 0 {
			row.Comment = f(t.CommentAbove)
		}
		out = append(out, row)
	}
	return out
}
