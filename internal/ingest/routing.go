package ingest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/countersign/countersign/internal/triage"
)

// Route gives the cases it matches an owner: a person or a team. Empty
// conditions match anything; the first matching route wins, and a case no route
// matches keeps its queue's owner (Service.Owners, DefaultOwners).
type Route struct {
	Kind      triage.Kind
	MinAmount int64  // whole units of Currency (any currency when Currency is "")
	Currency  string // upper case
	Region    string // the captured tax region, compared case-insensitively by prefix ("EU" matches "EU-DE")
	VIP       *bool
	Owner     string
}

// ParseRoutes reads COUNTERSIGN_OWNER_ROUTES: rules separated by ";", each
// "conditions=owner" (the last "=" starts the owner) where conditions are "kind:refund", "amount>=1000",
// "currency:USD", "region:EU", "vip" or "!vip", joined by "&"; for example
// "kind:payment_blocker&vip=VIP desk (Dana);kind:refund&amount>=1000&currency:USD=Fiona Finance;region:EU=EU finance".
func ParseRoutes(s string) ([]Route, error) {
	var out []Route
	for _, rule := range strings.Split(s, ";") {
		rule = strings.TrimSpace(rule)
		if rule == "" {
			continue
		}
		i := strings.LastIndex(rule, "=")
		if i < 0 || strings.TrimSpace(rule[i+1:]) == "" || strings.HasSuffix(rule[:i], ">") {
			return nil, fmt.Errorf("route %q has no \"=owner\"", rule)
		}
		conds, owner := rule[:i], rule[i+1:]
		r := Route{Owner: strings.TrimSpace(owner)}
		for _, c := range strings.Split(conds, "&") {
			if err := r.set(strings.TrimSpace(c)); err != nil {
				return nil, fmt.Errorf("route %q: %w", rule, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func (r *Route) set(c string) error {
	yes, no := true, false
	switch {
	case c == "vip":
		r.VIP = &yes
	case c == "!vip":
		r.VIP = &no
	case strings.HasPrefix(c, "kind:"):
		r.Kind = triage.Kind(strings.TrimPrefix(c, "kind:"))
		if !r.Kind.Valid() {
			return fmt.Errorf("%q is not a case kind", string(r.Kind))
		}
	case strings.HasPrefix(c, "amount>="):
		n, err := strconv.ParseInt(strings.TrimPrefix(c, "amount>="), 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a whole amount", c)
		}
		r.MinAmount = n
	case strings.HasPrefix(c, "currency:"):
		r.Currency = strings.ToUpper(strings.TrimPrefix(c, "currency:"))
	case strings.HasPrefix(c, "region:"):
		r.Region = strings.ToUpper(strings.TrimPrefix(c, "region:"))
	default:
		return fmt.Errorf("%q is not kind:, amount>=, currency:, region:, vip or !vip", c)
	}
	return nil
}

// routeCase is what a route is matched against.
type routeCase struct {
	kind     triage.Kind
	amount   *int64 // minor units
	currency string
	region   string
	vip      bool
}

func (r Route) matches(c routeCase, majorOf func(minor int64, currency string) int64) bool {
	switch {
	case r.Kind != "" && r.Kind != c.kind,
		r.VIP != nil && *r.VIP != c.vip,
		r.Currency != "" && r.Currency != c.currency,
		r.Region != "" && !strings.HasPrefix(strings.ToUpper(c.region), r.Region):
		return false
	case r.MinAmount > 0:
		return c.amount != nil && majorOf(*c.amount, c.currency) >= r.MinAmount
	}
	return true
}
