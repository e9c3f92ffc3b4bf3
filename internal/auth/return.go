package auth

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SafeReturn returns s when it is a same-origin relative path ("/queues?kind=refund")
// and "/" otherwise. Refused: absolute URLs, scheme-relative "//host", anything with
// a backslash (browsers read "/\host" as "//host"), control characters, and very long
// values. Use it on every post-login or step-up return target.
func SafeReturn(s string) string {
	if s == "" || len(s) > 2048 || s[0] != '/' || strings.HasPrefix(s, "//") || strings.ContainsRune(s, '\\') {
		return "/"
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return s
}

// StepUpURL is where to send a user whose sign-in is older than within before a
// sensitive action: the login route forces a fresh authentication at the identity
// provider (prompt=login, max_age) and returns to returnTo (made safe with
// SafeReturn) on a new session whose AuthTime is now.
func StepUpURL(returnTo string, within time.Duration) string {
	secs := int(within / time.Second)
	if secs < 0 {
		secs = 0
	}
	return "/login?max_age=" + strconv.Itoa(secs) + "&return=" + url.QueryEscape(SafeReturn(returnTo))
}
