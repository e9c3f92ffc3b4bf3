package stripe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a webhook timestamp may be from now.
const DefaultTolerance = 300 * time.Second

// Webhook verification failures. All of them mean "answer 400 and drop".
var (
	ErrBadSignatureHeader = errors.New("stripe webhook: malformed Stripe-Signature header")
	ErrTimestampOutside   = errors.New("stripe webhook: timestamp outside tolerance")
	ErrSignatureMismatch  = errors.New("stripe webhook: no matching signature")
	ErrBadPayload         = errors.New("stripe webhook: payload is not an event")
)

// Event is the verified part of a Stripe event that routing needs.
type Event struct {
	ID       string
	Type     string
	Livemode bool
	Created  int64           // Unix seconds; deliveries are not ordered, so this orders them
	Object   json.RawMessage // data.object
}

// VerifyWebhook checks a Stripe-Signature header ("t=<unix>,v1=<hex>,...")
// against the raw payload: HMAC-SHA256 of "<t>.<payload>" under any of the
// secrets (several during rotation) must equal any v1 value, compared in
// constant time, and t must be within tolerance of now (DefaultTolerance when
// tolerance <= 0). Only then is the payload decoded.
func VerifyWebhook(payload []byte, header string, secrets []string, tolerance time.Duration, now time.Time) (Event, error) {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ts, sigs, err := parseSignatureHeader(header)
	if err != nil {
		return Event{}, err
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return Event{}, ErrTimestampOutside
	}
	if !signatureMatches(payload, ts, sigs, secrets) {
		return Event{}, ErrSignatureMismatch
	}
	var raw struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Livemode bool   `json:"livemode"`
		Created  int64  `json:"created"`
		Data     struct {
			Object json.RawMessage `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil || raw.ID == "" || raw.Type == "" {
		return Event{}, ErrBadPayload
	}
	return Event{ID: raw.ID, Type: raw.Type, Livemode: raw.Livemode, Created: raw.Created, Object: raw.Data.Object}, nil
}

// parseSignatureHeader returns the timestamp and every decodable v1 signature.
// Unknown schemes (v0) are ignored, as Stripe documents.
func parseSignatureHeader(header string) (int64, [][]byte, error) {
	var (
		ts    int64
		hasTS bool
		sigs  [][]byte
	)
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || hasTS {
				return 0, nil, ErrBadSignatureHeader
			}
			ts, hasTS = n, true
		case "v1":
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	if !hasTS || len(sigs) == 0 {
		return 0, nil, ErrBadSignatureHeader
	}
	return ts, sigs, nil
}

func signatureMatches(payload []byte, ts int64, sigs [][]byte, secrets []string) bool {
	prefix := strconv.FormatInt(ts, 10) + "."
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(prefix))
		mac.Write(payload)
		want := mac.Sum(nil)
		for _, sig := range sigs {
			if hmac.Equal(want, sig) {
				return true
			}
		}
	}
	return false
}

// SignWebhook builds a Stripe-Signature header for payload; tests and the dev
// sandbox use it to send events Countersign will accept.
func SignWebhook(payload []byte, secret string, t time.Time) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(t.Unix(), 10) + "."))
	mac.Write(payload)
	return "t=" + strconv.FormatInt(t.Unix(), 10) + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}
