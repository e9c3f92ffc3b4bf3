package dialnexa

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

var (
	// ErrNoSignature means the request carried no signature header, or an
	// empty one.
	ErrNoSignature = errors.New("dialnexa: no signature")
	// ErrBadSignature means the signature is malformed or matches none of the
	// secrets. Every ParseSignature error matches it too.
	ErrBadSignature = errors.New("dialnexa: bad signature")
	// ErrNoSecret means Verify was given no usable secret; it is a
	// configuration error, and the request must still be refused.
	ErrNoSecret = errors.New("dialnexa: no webhook secret configured")
)

// Header names DialNexa's pages use for the signature.
const (
	HeaderSignature    = "X-DialNexa-Signature"
	HeaderSignatureAlt = "X-Nexa-Signature"
)

const sigPrefix = "sha256="

// SignatureHeader returns the signature header value, preferring
// X-DialNexa-Signature over X-Nexa-Signature when both are present and
// non-empty. Header names match case-insensitively.
func SignatureHeader(h http.Header) string {
	if v := h.Get(HeaderSignature); strings.TrimSpace(v) != "" {
		return v
	}
	return h.Get(HeaderSignatureAlt)
}

// ParseSignature decodes "sha256=<64 lowercase hex>" or the bare 64 lowercase
// hex digits into the 32-byte MAC. Surrounding spaces are trimmed; anything
// else (upper-case hex, another prefix, another length) is an error matching
// ErrBadSignature. DialNexa always sends lowercase hex, so being strict here
// costs nothing and keeps one canonical form.
func ParseSignature(v string) ([]byte, error) {
	s := strings.TrimSpace(v)
	s = strings.TrimPrefix(s, sigPrefix)
	if strings.Contains(s, "=") {
		return nil, fmt.Errorf("%w: unsupported prefix, want %s", ErrBadSignature, sigPrefix)
	}
	if len(s) != 2*sha256.Size {
		return nil, fmt.Errorf("%w: want %s and %d hex digits, got %d characters", ErrBadSignature, sigPrefix, 2*sha256.Size, len(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return nil, fmt.Errorf("%w: character %d is not a lowercase hex digit", ErrBadSignature, i+1)
		}
	}
	mac, err := hex.DecodeString(s)
	if err != nil { // unreachable after the checks above
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return mac, nil
}

// Verify checks the signature header against the HMAC-SHA256 of the exact
// raw body under each secret (current and previous during a rotation), in
// constant time. It returns nil if any secret matches; ErrNoSecret if
// secrets holds no non-empty secret (empty secrets are skipped: an empty key
// would let anyone sign); ErrNoSignature if the header is missing or blank;
// and an error matching ErrBadSignature otherwise. Call it before parsing
// the body.
func Verify(h http.Header, body []byte, secrets []string) error {
	if !slices.ContainsFunc(secrets, func(s string) bool { return s != "" }) {
		return ErrNoSecret
	}
	v := SignatureHeader(h)
	if strings.TrimSpace(v) == "" {
		return ErrNoSignature
	}
	got, err := ParseSignature(v)
	if err != nil {
		return err
	}
	for _, secret := range secrets {
		if secret != "" && hmac.Equal(got, mac(body, secret)) {
			return nil
		}
	}
	return ErrBadSignature
}

// Sign returns the header value DialNexa would send for body:
// "sha256=" and the lowercase hex HMAC-SHA256 keyed with secret.
func Sign(body []byte, secret string) string {
	return sigPrefix + hex.EncodeToString(mac(body, secret))
}

func mac(body []byte, secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}
