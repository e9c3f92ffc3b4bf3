package config

import (
	"encoding/base64"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/auth"
)

func validRole(r string) bool {
	for _, k := range auth.AllRoles {
		if k == r {
			return true
		}
	}
	return false
}

const defaultRoleMap = "support-leads=support_lead,finance-approvers=finance_approver,admins=admin,auditors=auditor"

func (l *loader) loadAuth(c *Config, mode Mode) {
	// The issuer is kept exactly as configured: discovery must return the same string,
	// and some providers' issuers end in "/" (Auth0, zitadel).
	c.OIDCIssuer = l.str("COUNTERSIGN_OIDC_ISSUER", "")
	c.OIDCClientID = l.str("COUNTERSIGN_OIDC_CLIENT_ID", "")
	c.OIDCClientSecret = l.str("COUNTERSIGN_OIDC_CLIENT_SECRET", "")
	c.OIDCScopes = l.list("COUNTERSIGN_OIDC_SCOPES", "openid,email,profile,groups")
	c.OIDCRolesClaim = l.str("COUNTERSIGN_OIDC_ROLES_CLAIM", "groups")
	if mode == Serve {
		if c.OIDCIssuer == "" {
			l.fail("COUNTERSIGN_OIDC_ISSUER", "required: your identity provider's issuer URL (see the README for Okta, Entra ID, Keycloak, Google, Dex)")
		}
		if c.OIDCClientID == "" {
			l.fail("COUNTERSIGN_OIDC_CLIENT_ID", "required: the client id registered for Countersign at your identity provider")
		}
	}
	if c.OIDCIssuer != "" && !strings.HasPrefix(c.OIDCIssuer, "https://") && !strings.HasPrefix(c.OIDCIssuer, "http://") {
		l.fail("COUNTERSIGN_OIDC_ISSUER", "%q must be an http(s) URL", c.OIDCIssuer)
	}
	if !contains(c.OIDCScopes, "openid") {
		l.fail("COUNTERSIGN_OIDC_SCOPES", "must include openid")
	}
	c.RoleMap = l.roleMap(l.str("COUNTERSIGN_ROLE_MAP", defaultRoleMap))
	c.SessionKeys = l.sessionKeys(mode)
	c.SessionIdle = l.duration("COUNTERSIGN_SESSION_IDLE", 30*time.Minute, time.Minute)
	c.SessionLifetime = l.duration("COUNTERSIGN_SESSION_LIFETIME", 12*time.Hour, 5*time.Minute)
	if c.SessionLifetime < c.SessionIdle {
		l.fail("COUNTERSIGN_SESSION_LIFETIME", "%s is shorter than COUNTERSIGN_SESSION_IDLE (%s)", c.SessionLifetime, c.SessionIdle)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// roleMap parses "claim-value=role[+role],...".
func (l *loader) roleMap(s string) map[string][]string {
	m := map[string][]string{}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		k, v, ok := strings.Cut(entry, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			l.fail("COUNTERSIGN_ROLE_MAP", "entry %q is not claim-value=role", entry)
			continue
		}
		for _, r := range strings.Split(v, "+") {
			r = strings.TrimSpace(r)
			if !validRole(r) {
				l.fail("COUNTERSIGN_ROLE_MAP", "entry %q names unknown role %q (known: %s)", entry, r, strings.Join(auth.AllRoles, ", "))
				continue
			}
			m[strings.TrimSpace(k)] = append(m[strings.TrimSpace(k)], r)
		}
	}
	return m
}

func (l *loader) sessionKeys(mode Mode) [][]byte {
	var keys [][]byte
	for i, s := range l.list("COUNTERSIGN_SESSION_KEYS", "") {
		k, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			k, err = base64.RawURLEncoding.DecodeString(s)
		}
		if err != nil {
			l.fail("COUNTERSIGN_SESSION_KEYS", "key %d is not base64 (generate one with `openssl rand -base64 32`)", i+1)
			continue
		}
		if len(k) != 32 && len(k) != 64 {
			l.fail("COUNTERSIGN_SESSION_KEYS", "key %d is %d bytes; use 32 or 64 random bytes", i+1, len(k))
			continue
		}
		keys = append(keys, k)
	}
	if mode == Serve && len(keys) == 0 {
		l.fail("COUNTERSIGN_SESSION_KEYS", "required: at least one base64 key of 32 random bytes (`openssl rand -base64 32`)")
	}
	return keys
}
