// Package devidp is a small OpenID Connect provider for development and tests
// only. It lets `countersign dev` and the test suites drive the console's real
// OIDC client code path (go-oidc + oauth2, authorization code flow with PKCE
// S256, state and nonce) without an external identity provider.
//
// It is NOT an identity provider for production, and must never be wired into
// one: anyone who can reach its authorize page can sign in as any configured
// persona without a password. To make accidental use hard it has no defaults
// that reach outside the process: [New] takes an explicit [Config] with the
// issuer, every client and every persona, and fails if any is missing. The
// signing key is generated in memory by [New] and never persisted, so tokens
// from one process are worthless to the next.
//
// Invariants:
//   - An authorization code is 32 random bytes, lives 60 seconds, is bound to
//     the client, redirect URI, PKCE challenge, nonce, persona and auth time,
//     and is redeemable exactly once. Presenting it a second time fails with
//     invalid_grant and revokes the access token issued from it.
//   - PKCE with S256 is mandatory; "plain" is refused.
//   - Redirect URIs and post-logout redirect URIs are compared by exact string
//     match against the client's registration. An unregistered redirect URI is
//     never redirected to; the user sees a 400 page instead.
//   - The picker is always shown: there is no provider-side session, so every
//     login (prompt=login, max_age or neither) sets auth_time to the moment a
//     persona is picked. prompt=none therefore always answers login_required.
//   - Pages carry no script and no inline style; a strict Content-Security-Policy
//     is sent with them, and the persona POST is refused cross-origin.
//
// Mounting: [Provider.Handler] serves the full request path, including the
// issuer's path. For the issuer "http://127.0.0.1:8080/dev-idp" mount it with
//
//	mux.Handle("/dev-idp/", p.Handler())
//
// without http.StripPrefix. Endpoints, relative to the issuer:
//
//	GET  /.well-known/openid-configuration
//	GET  /jwks
//	GET  /authorize   persona picker
//	POST /authorize   persona picked (or denied): redirect with code or error
//	POST /token       authorization_code grant
//	GET  /userinfo    Bearer access token (POST also accepted)
//	GET  /logout      RP-initiated logout (POST also accepted)
//	GET  /static.css  the picker's stylesheet
package devidp
