package approval

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
)

// RestrictedValue is what Countersign keeps of a tax identifier or bank detail a
// caller said: the mask left at ingest. Raw values are never stored, so a reveal
// shows the mask token, its kind, where it appeared and its last four digits, and
// nothing more exists to show.
type RestrictedValue struct {
	Ref   string // "ssn-1": stable within the case
	Kind  string // ssn, ein, itin, vat, iban, routing, bank_account
	Where string // "call summary", "transcript", "field tax_id"
	Token string // "[ssn •••• 6789]"
	Last4 string
}

// restrictedMask matches the masks internal/redact leaves for tax and bank data.
// Card masks are not restricted values: nothing of a card is revealed, ever.
var restrictedMask = regexp.MustCompile(`\[(iban|routing|bank account|ssn|ein|itin|vat) •••• ([0-9]{4})\]`)

// restrictedValues lists the masks in the case's call, in a stable order.
func restrictedValues(ctx context.Context, db *gorm.DB, callID int64) ([]RestrictedValue, error) {
	var row struct {
		Summary    string `gorm:"column:summary"`
		Transcript string `gorm:"column:transcript_text"`
		Fields     string `gorm:"column:fields"`
	}
	err := db.WithContext(ctx).Raw(`SELECT summary, transcript_text, fields::text AS fields FROM calls WHERE id = ?`, callID).Scan(&row).Error
	if err != nil {
		return nil, fmt.Errorf("approval: restricted values of call %d: %w", callID, err)
	}
	var out []RestrictedValue
	seen := map[string]int{}
	scan := func(where, text string) {
		for _, m := range restrictedMask.FindAllStringSubmatch(text, -1) {
			kind := strings.ReplaceAll(m[1], " ", "_")
			seen[kind]++
			out = append(out, RestrictedValue{Ref: kind + "-" + strconv.Itoa(seen[kind]), Kind: kind, Where: where, Token: m[0], Last4: m[2]})
		}
	}
	scan("call summary", row.Summary)
	scan("transcript", row.Transcript)
	var fields map[string]any
	if json.Unmarshal([]byte(row.Fields), &fields) == nil {
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if s, ok := fields[k].(string); ok {
				scan("field "+k, s)
			}
		}
	}
	return out, nil
}

// RestrictedRefs lists the case's restricted values without their digits: what a
// page may show before a reveal.
func RestrictedRefs(ctx context.Context, db *gorm.DB, caseID int64) ([]RestrictedValue, error) {
	c, err := loadCase(ctx, db, caseID, false)
	if err != nil {
		return nil, err
	}
	vals, err := restrictedValues(ctx, db, c.CallID)
	for i := range vals {
		vals[i].Token, vals[i].Last4 = "", ""
	}
	return vals, err
}

// Reveal shows p the restricted values of a case (ref "all" or one Ref) for a stated
// reason, and audits who, when, why and which values in the same transaction.
func (s *Service) Reveal(ctx context.Context, p *auth.Principal, caseID int64, ref, reason string) ([]RestrictedValue, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case !p.HasAny(s.revealRoles()...):
		return nil, apperr.Forbiddenf("Revealing restricted values needs one of the roles %s.", strings.Join(s.revealRoles(), ", "))
	case len(reason) < 10:
		return nil, apperr.Invalidf("State why you need to see these values (at least 10 characters).")
	case len(reason) > 1000:
		return nil, apperr.Invalidf("Keep the reason under 1000 characters.")
	}
	var out []RestrictedValue
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := loadCase(ctx, tx, caseID, false)
		if err != nil {
			return err
		}
		vals, err := restrictedValues(ctx, tx, c.CallID)
		if err != nil {
			return err
		}
		out = slices.DeleteFunc(vals, func(v RestrictedValue) bool { return ref != "all" && v.Ref != ref })
		if len(out) == 0 {
			return apperr.NotFoundf("Case %d has no restricted value %q.", caseID, ref)
		}
		which := make([]any, 0, len(out))
		for _, v := range out {
			which = append(which, map[string]any{"ref": v.Ref, "kind": v.Kind, "where": v.Where})
		}
		return appendAll(ctx, tx, []audit.Entry{entry(ctx, p, "restricted.revealed", caseID,
			map[string]any{"reason": reason, "values": which})})
	})
	return out, err
}
