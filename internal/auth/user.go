package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// Identity is who the identity provider says signed in. Users are keyed by
// (Issuer, Subject), never by email: an email address can be reassigned.
type Identity struct {
	Issuer  string
	Subject string
	Email   string
	Name    string
	// Roles are the console roles mapped from the roles claim at this login.
	Roles []string
}

// ClaimValues reads the roles claim at path from an ID token's claims. The claim may
// be a string or a list of strings; a dotted path reaches into nested objects
// (Keycloak's "realm_access.roles"). A key that itself contains dots (namespaced
// claims such as "https://example.com/roles") is tried first.
func ClaimValues(claims map[string]any, path string) []string {
	if v, ok := claims[path]; ok {
		return stringsOf(v)
	}
	var cur any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[part]; !ok {
			return nil
		}
	}
	return stringsOf(cur)
}

// ClaimOverage reports whether claims announce the claim at path as held elsewhere
// (OIDC Core 5.6.2 distributed claims): Entra ID does this for "groups" when a user
// is in more groups than a token may carry, naming it in _claim_names and leaving it
// out of the token.
func ClaimOverage(claims map[string]any, path string) bool {
	names, ok := claims["_claim_names"].(map[string]any)
	if !ok {
		return false
	}
	top, _, _ := strings.Cut(path, ".")
	if _, ok := names[top]; !ok {
		return false
	}
	_, ok = claims["_claim_sources"].(map[string]any)
	return ok
}

func stringsOf(v any) []string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	}
	return nil
}

// MapRoles turns claim values into console roles through roleMap (claim value ->
// roles). Unmapped values are ignored; the result is in AllRoles order, without
// duplicates.
func MapRoles(values []string, roleMap map[string][]string) []string {
	have := map[string]bool{}
	for _, v := range values {
		for _, r := range roleMap[v] {
			have[r] = true
		}
	}
	out := []string{}
	for _, r := range AllRoles {
		if have[r] {
			out = append(out, r)
		}
	}
	return out
}

// MappedValues lists the claim values that grant a role, sorted: what a user without
// a role is told to ask for.
func MappedValues(roleMap map[string][]string) []string {
	out := make([]string, 0, len(roleMap))
	for k := range roleMap {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// user is a users row as login sees it.
type user struct {
	ID       int64
	Roles    []string
	Disabled bool
	Existed  bool
}

// upsertUserTx creates or refreshes the user of id inside tx: email, name and roles
// are the provider's word at each login. It returns the row with its roles before
// this login.
func upsertUserTx(ctx context.Context, tx *gorm.DB, id Identity) (user, []string, error) {
	db := tx.WithContext(ctx)
	var (
		prev     user
		rawRoles []byte
	)
	err := db.Raw(`SELECT id, to_json(roles), disabled FROM users WHERE issuer = ? AND subject = ? FOR UPDATE`,
		id.Issuer, id.Subject).Row().Scan(&prev.ID, &rawRoles, &prev.Disabled)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return user{}, nil, fmt.Errorf("auth: load user: %w", err)
	default:
		prev.Existed = true
		if err := json.Unmarshal(rawRoles, &prev.Roles); err != nil {
			return user{}, nil, fmt.Errorf("auth: load user roles: %w", err)
		}
	}
	roles, _ := json.Marshal(nonNil(id.Roles))
	var out user
	err = db.Raw(`INSERT INTO users (issuer, subject, email, name, roles)
		VALUES (?, ?, ?, ?, ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb))))
		ON CONFLICT (issuer, subject) DO UPDATE
		SET email = EXCLUDED.email, name = EXCLUDED.name, roles = EXCLUDED.roles
		RETURNING id, disabled`,
		id.Issuer, id.Subject, truncate(id.Email, 320), truncate(id.Name, 200), string(roles)).Row().Scan(&out.ID, &out.Disabled)
	if err != nil {
		return user{}, nil, fmt.Errorf("auth: save user: %w", err)
	}
	out.Roles, out.Existed = nonNil(id.Roles), prev.Existed
	return out, nonNil(prev.Roles), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func sameRoles(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
