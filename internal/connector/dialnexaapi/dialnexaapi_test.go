package dialnexaapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/dialnexaapi"
	"github.com/countersign/countersign/internal/connector/dialnexaapi/dialnexafake"
)

const callBody = `{"id":"call_abc","status":"completed","transcript":[{"role":"agent","text":"Hello"}]}`

func setup(t *testing.T, cfg dialnexaapi.Config) (*dialnexafake.Fake, *dialnexaapi.Client) {
	t.Helper()
	fake := dialnexafake.New()
	t.Cleanup(fake.Close)
	fake.AddCall("call_abc", []byte(callBody))
	cfg.BaseURL = fake.URL
	if cfg.KeyID == "" {
		cfg.KeyID, cfg.Secret = dialnexafake.TestKeyID, dialnexafake.TestSecret
	}
	return fake, dialnexaapi.New(cfg)
}

func connErr(t *testing.T, err error) *connector.Error {
	t.Helper()
	var ce *connector.Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *connector.Error, got %T %v", err, err)
	}
	return ce
}

func TestGetCall(t *testing.T) {
	_, c := setup(t, dialnexaapi.Config{})
	got, err := c.GetCall(context.Background(), "call_abc")
	if err != nil || string(got) != callBody {
		t.Fatalf("got %s, %v", got, err)
	}
}

func TestGetCallErrors(t *testing.T) {
	tests := []struct {
		name       string
		id         string
		status     int
		retryAfter time.Duration
		wantStatus int
		permanent  bool
	}{
		{"missing", "call_nope", 0, 0, 404, true},
		{"rate limited", "call_abc", 429, 12 * time.Second, 429, false},
		{"server error", "call_abc", 500, 0, 500, false},
		{"unavailable", "call_abc", 503, 0, 503, false},
		{"forbidden", "call_abc", 403, 0, 403, true},
		{"path injection stays one segment", "../v1/calls/call_abc", 0, 0, 404, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := setup(t, dialnexaapi.Config{})
			if tt.status != 0 {
				fake.FailNext(1, tt.status, tt.retryAfter)
			}
			_, err := c.GetCall(context.Background(), tt.id)
			ce := connErr(t, err)
			if ce.Permanent != tt.permanent || ce.Status != tt.wantStatus || ce.Message == "" {
				t.Fatalf("got %+v", ce)
			}
			if d, ok := connector.RetryAfter(err); ok != (tt.retryAfter > 0) || d != tt.retryAfter {
				t.Errorf("RetryAfter = %v %v", d, ok)
			}
		})
	}
}

func TestWrongSecretIsPermanentAndNotLeaked(t *testing.T) {
	_, c := setup(t, dialnexaapi.Config{KeyID: "key_live_1", Secret: "VerySecretValue42"})
	_, err := c.GetCall(context.Background(), "call_abc")
	ce := connErr(t, err)
	if !ce.Permanent || ce.Status != 401 {
		t.Fatalf("got %+v", ce)
	}
	if strings.Contains(err.Error(), "VerySecretValue42") {
		t.Errorf("error leaks the secret: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	fake, c := setup(t, dialnexaapi.Config{HTTPClient: connector.NewHTTPClient(50 * time.Millisecond)})
	fake.Delay(time.Second)
	_, err := c.GetCall(context.Background(), "call_abc")
	if ce := connErr(t, err); ce.Permanent || ce.Code != "timeout" {
		t.Errorf("got %+v", ce)
	}
}
