package auth

import (
	"crypto/hkdf"
	"crypto/sha256"
	"time"

	"github.com/gorilla/securecookie"
)

// Session cookie names. The __Host- prefix (https only) makes browsers refuse the
// cookie unless it is Secure, has Path=/ and no Domain, so no sibling subdomain can
// plant or overwrite it. Plain-http loopback (dev) cannot use the prefix.
const (
	SessionCookieHTTPS = "__Host-countersign"
	SessionCookieHTTP  = "countersign_session"
)

// SessionCookieName is the session cookie's name for a console served over https or
// plain http.
func SessionCookieName(https bool) string {
	if https {
		return SessionCookieHTTPS
	}
	return SessionCookieHTTP
}

// Codecs derives one securecookie codec per configured key, first key first: the
// first encodes, all decode, so a key can be rotated in (put first) and out (remove)
// without signing everyone out at once. Each 32- or 64-byte key is stretched with
// HKDF-SHA-256 into an HMAC key and an AES-256 key; purpose separates the cookie
// kinds, so a login cookie can never be presented as a session cookie. maxAge is
// enforced on the signed timestamp inside the value, independent of the browser.
func Codecs(keys [][]byte, purpose string, maxAge time.Duration) []securecookie.Codec {
	pairs := make([][]byte, 0, 2*len(keys))
	for _, k := range keys {
		hashKey, err := hkdf.Key(sha256.New, k, nil, "countersign "+purpose+" hmac", 64)
		if err != nil {
			panic("auth: hkdf: " + err.Error()) // only for absurd lengths
		}
		blockKey, err := hkdf.Key(sha256.New, k, nil, "countersign "+purpose+" aes", 32)
		if err != nil {
			panic("auth: hkdf: " + err.Error())
		}
		pairs = append(pairs, hashKey, blockKey)
	}
	codecs := securecookie.CodecsFromPairs(pairs...)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(int(maxAge / time.Second))
			sc.SetSerializer(securecookie.JSONEncoder{})
		}
	}
	return codecs
}

// EncodeSessionToken is the session cookie value for token.
func EncodeSessionToken(codecs []securecookie.Codec, name string, token []byte) (string, error) {
	return securecookie.EncodeMulti(name, token, codecs...)
}

// DecodeSessionToken returns the token inside a session cookie value. Any failure
// (tampered, expired, signed by a removed key) is an error: the caller treats the
// request as anonymous.
func DecodeSessionToken(codecs []securecookie.Codec, name, value string) ([]byte, error) {
	var token []byte
	if err := securecookie.DecodeMulti(name, value, &token, codecs...); err != nil {
		return nil, err
	}
	if len(token) != tokenBytes {
		return nil, ErrNoSession
	}
	return token, nil
}
