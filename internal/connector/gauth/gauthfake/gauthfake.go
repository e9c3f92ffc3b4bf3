// Package gauthfake is Google's OAuth 2.0 token endpoint for service accounts, as
// far as Countersign depends on it: the JWT bearer grant (RFC 7523) signed with the
// service account's key, domain-wide delegation that names the allowed scopes and the
// users that exist, access tokens that expire, and the check every Google API makes
// (401 UNAUTHENTICATED for an unknown or expired token, 403 insufficient scopes).
package gauthfake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// ClientEmail is the fake service account.
const ClientEmail = "countersign@sandbox-project.iam.gserviceaccount.com"

type grant struct {
	subject string
	scopes  map[string]bool
	expired bool
}

// Server is the fake token endpoint and the token check of the fake APIs.
type Server struct {
	key *rsa.PrivateKey

	mu        sync.Mutex
	delegated map[string]bool // scopes domain-wide delegation allows
	users     map[string]bool // Workspace users a token may be minted for
	tokens    map[string]*grant
	mints     int
}

// sharedKey is the fake service account's key: one per process, since generating
// an RSA key costs more than a test's whole connector call.
var sharedKey = sync.OnceValue(func() *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("gauthfake: " + err.Error())
	}
	return key
})

// New returns a server with delegation for scopes and the given users.
func New(scopes []string, users ...string) *Server {
	s := &Server{key: sharedKey(), delegated: map[string]bool{}, users: map[string]bool{}, tokens: map[string]*grant{}}
	for _, sc := range scopes {
		s.delegated[sc] = true
	}
	for _, u := range users {
		s.users[strings.ToLower(u)] = true
	}
	return s
}

// CredentialsJSON is the service account key file, with token_uri pointing here.
func (s *Server) CredentialsJSON(tokenURL string) []byte {
	der := x509.MarshalPKCS1PrivateKey(s.key)
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "sandbox-project", "private_key_id": "sandbox-key-1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})),
		"client_email": ClientEmail, "client_id": "100000000000000000001", "token_uri": tokenURL,
	})
	return b
}

// ExpireAll ends every token issued so far, as an hour passing would.
func (s *Server) ExpireAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.tokens {
		g.expired = true
	}
}

// Mints counts the tokens issued.
func (s *Server) Mints() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mints
}

// Handler serves POST /token.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.token)
	return mux
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		return
	}
	claims, ok := s.verify(r.PostForm.Get("assertion"))
	if !ok || claims.Iss != ClientEmail || claims.Aud != "http://"+r.Host+r.URL.Path {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	scopes := strings.Fields(claims.Scope)
	if len(scopes) == 0 {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if claims.Sub == "" || !s.users[strings.ToLower(claims.Sub)] {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid email or User ID")
		return
	}
	g := &grant{subject: claims.Sub, scopes: map[string]bool{}}
	for _, sc := range scopes {
		if !s.delegated[sc] {
			oauthError(w, http.StatusUnauthorized, "unauthorized_client",
				"Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.")
			return
		}
		g.scopes[sc] = true
	}
	s.mints++
	tok := fmt.Sprintf("ya29.fake-%d-%x", s.mints, randomBytes(8))
	s.tokens[tok] = g
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": 3599, "token_type": "Bearer"})
}

type assertion struct {
	Iss, Sub, Aud, Scope string
	Exp, Iat             int64
}

// verify checks the RS256 signature with the service account's public key.
func (s *Server) verify(jwt string) (assertion, bool) {
	var a assertion
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return a, false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return a, false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return a, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(payload, &a) != nil || a.Exp <= a.Iat {
		return a, false
	}
	return a, true
}

// Authorize answers the request as Google's APIs do when its bearer token is
// unknown or expired (401) or holds none of accepted (403), and reports whether the
// call may go on.
func (s *Server) Authorize(w http.ResponseWriter, r *http.Request, accepted ...string) bool {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	g := s.tokens[tok]
	s.mu.Unlock()
	if g == nil || g.expired {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		apiError(w, http.StatusUnauthorized, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
			"UNAUTHENTICATED", "authError")
		return false
	}
	for _, sc := range accepted {
		if g.scopes[sc] {
			return true
		}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="`+strings.Join(accepted, " ")+`"`)
	apiError(w, http.StatusForbidden, "Request had insufficient authentication scopes.", "PERMISSION_DENIED", "insufficientPermissions")
	return false
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func apiError(w http.ResponseWriter, status int, msg, st, reason string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": msg, "status": st,
		"errors": []map[string]string{{"message": msg, "domain": "global", "reason": reason}}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// Start serves a new Server on loopback for the test's lifetime and returns it with
// its token URL.
func Start(t testing.TB, scopes []string, users ...string) (*Server, string) {
	t.Helper()
	s := New(scopes, users...)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv.URL + "/token"
}
