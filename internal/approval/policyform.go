package approval

import (
	"fmt"
	"sort"
	"strings"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/internal/triage"
)

// TierInput is one row of the policy form: limits in major units as typed
// ("1,000.00"), for one currency and optionally one kind ("" is every kind).
type TierInput struct {
	Kind, Currency                          string
	Automatic, OneApprover, StepUp, Comment string // Comment "" is no comment rule
	Remove                                  bool
}

// RulesInput is the whole policy form.
type RulesInput struct {
	Tiers                 []TierInput
	AlwaysHuman           []string
	NoAmountApprovals     int
	StepUpMinutes         int
	CommentWhenUnverified bool
}

// BuildRules turns the form into rules, converting major units to minor ones per
// currency and validating the result; the error names each row that is wrong.
func BuildRules(in RulesInput) (Rules, error) {
	r := Rules{Currencies: map[string]Tier{}, Kinds: map[string]map[string]Tier{}, AlwaysHumanKinds: in.AlwaysHuman,
		NoAmountApprovals: in.NoAmountApprovals, StepUpMinutes: in.StepUpMinutes, CommentWhenUnverified: in.CommentWhenUnverified}
	var problems []string
	for i, t := range in.Tiers {
		cur := strings.ToUpper(strings.TrimSpace(t.Currency))
		if t.Remove || (cur == "" && t.Automatic == "" && t.OneApprover == "" && t.StepUp == "") {
			continue
		}
		where := fmt.Sprintf("row %d (%s %s)", i+1, orAll(t.Kind), cur)
		if _, ok := money.Exponent(cur); !ok {
			problems = append(problems, where+": choose a known ISO currency")
			continue
		}
		if t.Kind != "" && !triage.Kind(t.Kind).Valid() {
			problems = append(problems, where+": not a case kind")
			continue
		}
		var tier Tier
		for _, f := range []struct {
			name, text string
			dst        *int64
			optional   bool
		}{{"automatic below", t.Automatic, &tier.AutomaticBelow, false}, {"one approver below", t.OneApprover, &tier.OneApproverBelow, false},
			{"step-up above", t.StepUp, &tier.StepUpAbove, false}, {"comment above", t.Comment, &tier.CommentAbove, true}} {
			if strings.TrimSpace(f.text) == "" && f.optional {
				continue
			}
			a, err := money.ParseMajor(f.text, cur)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %s is not an amount in %s", where, f.name, cur))
				continue
			}
			*f.dst = a.Minor
		}
		if t.Kind == "" {
			r.Currencies[cur] = tier
			continue
		}
		if r.Kinds[t.Kind] == nil {
			r.Kinds[t.Kind] = map[string]Tier{}
		}
		r.Kinds[t.Kind][cur] = tier
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return Rules{}, apperr.Invalidf("The policy is not valid: %s.", strings.Join(problems, "; "))
	}
	return r, r.Validate()
}

func orAll(kind string) string {
	if kind == "" {
		return "all kinds"
	}
	return kind
}
