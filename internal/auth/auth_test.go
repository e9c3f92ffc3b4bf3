package auth

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestSafeReturn(t *testing.T) {
	for in, want := range map[string]string{
		"/":                    "/",
		"/queues?kind=refund":  "/queues?kind=refund",
		"/cases/7#actions":     "/cases/7#actions",
		"":                     "/",
		"//evil.example":       "/",
		"///evil.example":      "/",
		"https://evil.example": "/",
		"javascript:alert(1)":  "/",
		`/\evil.example`:       "/",
		`\\evil.example`:       "/",
		"/a\\b":                "/",
		"/\tevil":              "/",
		"/x\r\nSet-Cookie: a":  "/",
		"evil.example/x":       "/",
	} {
		if got := SafeReturn(in); got != want {
			t.Errorf("SafeReturn(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClaimValues(t *testing.T) {
	var claims map[string]any
	_ = json.Unmarshal([]byte(`{
		"groups": ["admins", "finance-approvers", 7],
		"role": "auditors",
		"realm_access": {"roles": ["support-leads"]},
		"https://example.com/roles": ["admins"],
		"empty": ""}`), &claims)
	for path, want := range map[string][]string{
		"groups":                    {"admins", "finance-approvers"},
		"role":                      {"auditors"},
		"realm_access.roles":        {"support-leads"},
		"https://example.com/roles": {"admins"},
		"realm_access.missing":      nil,
		"missing":                   nil,
		"empty":                     nil,
	} {
		if got := ClaimValues(claims, path); !slices.Equal(got, want) {
			t.Errorf("ClaimValues(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestMapRoles(t *testing.T) {
	m := map[string][]string{"admins": {Admin}, "leads-and-finance": {SupportLead, FinanceApprover}, "finance-approvers": {FinanceApprover}}
	got := MapRoles([]string{"finance-approvers", "unknown", "leads-and-finance", "admins"}, m)
	if want := []string{SupportLead, FinanceApprover, Admin}; !slices.Equal(got, want) {
		t.Errorf("MapRoles = %v, want %v", got, want)
	}
	if got := MapRoles([]string{"nobody"}, m); len(got) != 0 || got == nil {
		t.Errorf("unmapped values: %#v, want an empty non-nil list", got)
	}
}

func TestCodecsRotation(t *testing.T) {
	k1, k2 := make([]byte, 32), make([]byte, 64)
	k1[0], k2[0] = 1, 2
	token, _ := NewSessionToken()
	v, err := EncodeSessionToken(Codecs([][]byte{k1}, "session", time.Hour), "c", token)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecodeSessionToken(Codecs([][]byte{k2, k1}, "session", time.Hour), "c", v); err != nil || string(got) != string(token) {
		t.Fatalf("previous key second in the list: %v", err)
	}
	if _, err := DecodeSessionToken(Codecs([][]byte{k2}, "session", time.Hour), "c", v); err == nil {
		t.Fatal("removed key still decodes")
	}
	if _, err := DecodeSessionToken(Codecs([][]byte{k1}, "login", time.Hour), "c", v); err == nil {
		t.Fatal("a session cookie decodes as another purpose")
	}
}

func TestRecentLoginAndStepUpURL(t *testing.T) {
	p := &Principal{AuthTime: time.Now().Add(-3 * time.Minute)}
	if !RecentLogin(p, 5*time.Minute) || RecentLogin(p, time.Minute) || RecentLogin(nil, time.Hour) {
		t.Error("RecentLogin")
	}
	if got := StepUpURL("/cases/1?x=y", 10*time.Minute); got != "/login?max_age=600&return=%2Fcases%2F1%3Fx%3Dy" {
		t.Errorf("StepUpURL = %q", got)
	}
	if got := StepUpURL("//evil", time.Minute); got != "/login?max_age=60&return=%2F" {
		t.Errorf("StepUpURL unsafe = %q", got)
	}
}
