package stripe_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector/stripe"
)

var (
	whNow     = time.Unix(1_760_000_000, 0)
	whPayload = []byte(`{"id":"evt_1","type":"charge.dispute.created","livemode":false,"data":{"object":{"id":"dp_1","object":"dispute"}}}`)
)

func TestVerifyWebhook(t *testing.T) {
	good := stripe.SignWebhook(whPayload, "whsec_new", whNow)
	other := stripe.SignWebhook(whPayload, "whsec_other", whNow)
	tests := []struct {
		name    string
		payload []byte
		header  string
		secrets []string
		want    error
	}{
		{"valid", whPayload, good, []string{"whsec_new"}, nil},
		{"second secret (rotation)", whPayload, good, []string{"whsec_old", "whsec_new"}, nil},
		{"second v1 matches", whPayload, other + ",v1=" + good[len("t=1760000000,v1="):], []string{"whsec_new"}, nil},
		{"v0 ignored", whPayload, good + ",v0=deadbeef", []string{"whsec_new"}, nil},
		{"wrong secret", whPayload, good, []string{"whsec_old"}, stripe.ErrSignatureMismatch},
		{"tampered payload", append([]byte(nil), append(whPayload[:len(whPayload)-1], ' ', '}')...), good, []string{"whsec_new"}, stripe.ErrSignatureMismatch},
		{"too old", whPayload, stripe.SignWebhook(whPayload, "whsec_new", whNow.Add(-301*time.Second)), []string{"whsec_new"}, stripe.ErrTimestampOutside},
		{"too far ahead", whPayload, stripe.SignWebhook(whPayload, "whsec_new", whNow.Add(301*time.Second)), []string{"whsec_new"}, stripe.ErrTimestampOutside},
		{"no v1", whPayload, "t=1760000000", []string{"whsec_new"}, stripe.ErrBadSignatureHeader},
		{"no t", whPayload, "v1=" + good[len("t=1760000000,v1="):], []string{"whsec_new"}, stripe.ErrBadSignatureHeader},
		{"empty", whPayload, "", []string{"whsec_new"}, stripe.ErrBadSignatureHeader},
		{"no secrets", whPayload, good, nil, stripe.ErrSignatureMismatch},
		{"signed non-event", []byte(`[1]`), stripe.SignWebhook([]byte(`[1]`), "s", whNow), []string{"s"}, stripe.ErrBadPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := stripe.VerifyWebhook(tt.payload, tt.header, tt.secrets, 0, whNow)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (ev.ID != "evt_1" || ev.Type != "charge.dispute.created" || string(ev.Object) != `{"id":"dp_1","object":"dispute"}`) {
				t.Errorf("event = %+v", ev)
			}
		})
	}
}

// FuzzVerifyWebhook checks the header parser never panics and accepts only a
// header carrying the real signature for one of its own timestamps.
func FuzzVerifyWebhook(f *testing.F) {
	f.Add(whPayload, stripe.SignWebhook(whPayload, "whsec_x", whNow))
	f.Add(whPayload, stripe.SignWebhook(whPayload, "whsec_fuzz", whNow)+",v1=00")
	f.Add([]byte("{}"), "t=1,v1=00,v1=zz,,=,t=")
	f.Add([]byte(""), "t=1760000000,v1="+strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, payload []byte, header string) {
		ev, err := stripe.VerifyWebhook(payload, header, []string{"whsec_fuzz"}, 0, whNow)
		if err != nil {
			return
		}
		if ev.ID == "" || ev.Type == "" {
			t.Fatal("accepted an event without id or type")
		}
		for part := range strings.SplitSeq(header, ",") {
			ts, ok := strings.CutPrefix(strings.TrimSpace(part), "t=")
			sec, perr := strconv.ParseInt(ts, 10, 64)
			if !ok || perr != nil {
				continue
			}
			sig := stripe.SignWebhook(payload, "whsec_fuzz", time.Unix(sec, 0))
			if strings.Contains(strings.ToLower(header), sig[strings.Index(sig, "v1="):]) { // hex case does not matter
				return
			}
		}
		t.Fatalf("accepted %q without a valid signature", header)
	})
}
