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
	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/vault"
)

// RestrictedValue is a tax identifier or bank detail a caller said. Pages show its
// ref, kind and where it was kept; Token (the original, or for calls stored
// before the vault the mask) and Last4 are filled only by a reveal.
type RestrictedValue struct {
	Ref   string // "vat-12": stable within the case
	Kind  string // ssn, ein, itin, vat, iban, routing, bank_account
	Where string // "vault (encrypted)", or for older calls "call summary", "transcript", "field tax_id"
	Token string
	Last4 string
}

// restrictedMask matches the masks internal/redact leaves for tax and bank data.
// Card masks are not restricted values: nothing of a card is revealed, ever.
var restrictedMask = regexp.MustCompile(`\[(iban|routing|bank account|ssn|ein|itin|vat) •••• ([0-9]{4})\]`)

// restrictedValues lists the restricted values of a call: its vault entries (opened
// when keys is set), then the masks with last four that calls stored before the
// vault carry.
func restrictedValues(ctx context.Context, db *gorm.DB, keys *vault.Keyring, callID int64) ([]RestrictedValue, error) {
	var entries []vault.Entry
	var err error
	if keys != nil {
		entries, err = keys.Open(ctx, db, callID)
	} else {
		entries, err = vault.Refs(ctx, db, callID)
	}
	if err != nil {
		return nil, fmt.Errorf("approval: %w", err)
	}
	out := make([]RestrictedValue, 0, len(entries))
	for _, e := range entries {
		out = append(out, RestrictedValue{Ref: e.Ref, Kind: e.Kind, Where: "vault (encrypted)", Token: e.Value, Last4: lastFour(e.Value)})
	}
	masks, err := maskedValues(ctx, db, callID)
	return append(out, masks...), err
}

// lastFour is the last four digits of v, or "".
func lastFour(v string) string {
	var d []byte
	for i := len(v) - 1; i >= 0 && len(d) < 4; i-- {
		if v[i] >= '0' && v[i] <= '9' {
			d = append([]byte{v[i]}, d...)
		}
	}
	if len(d) < 4 {
		return ""
	}
	return string(d)
}

// maskedValues lists the masks with last four left by the redactor before the
// vault (calls stored by earlier versions), in a stable order.
func maskedValues(ctx context.Context, db *gorm.DB, callID int64) ([]RestrictedValue, error) {
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
	vals, err := restrictedValues(ctx, db, nil, c.CallID)
	for i := range vals {
		vals[i].Token, vals[i].Last4 = "", ""
	}
	return vals, err
}

// Reveal shows p the restricted values of a case (ref "all" or one Ref) for a stated
// reason, and audits who, when, why and which values in the same transaction. A
// refused reveal (role, reason) is audited too, before the refusal is returned.
func (s *Service) Reveal(ctx context.Context, p *auth.Principal, caseID int64, ref, reason string) ([]RestrictedValue, error) {
	reason, _ = redact.String(strings.TrimSpace(reason))
	var refused error
	switch {
	case !p.HasAny(s.revealRoles()...):
		refused = apperr.Forbiddenf("Revealing restricted values needs one of the roles %s.", strings.Join(s.revealRoles(), ", "))
	case len(reason) < 10:
		refused = apperr.Invalidf("State why you need to see these values (at least 10 characters).")
	case len(reason) > 1000:
		refused = apperr.Invalidf("Keep the reason under 1000 characters.")
	}
	if refused != nil {
		err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return appendAll(ctx, tx, []audit.Entry{entry(ctx, p, "restricted.reveal_refused", caseID,
				map[string]any{"ref": truncate(ref, 40), "reason": truncate(reason, 200), "refusal": refused.Error()})})
		})
		if err != nil {
			return nil, fmt.Errorf("approval: audit refused reveal of case %d: %w", caseID, err)
		}
		return nil, refused
	}
	var out []RestrictedValue
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := loadCase(ctx, tx, caseID, false)
		if err != nil {
			return err
		}
		vals, err := restrictedValues(ctx, tx, s.Vault, c.CallID)
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

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
