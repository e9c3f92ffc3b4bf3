package slack_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/slack"
	"github.com/countersign/countersign/internal/connector/slack/slackfake"
)

const token = "xoxb-test-0000-secret"

func setup(t *testing.T, tok string, timeout time.Duration) (*slackfake.Fake, *slack.Client) {
	t.Helper()
	fake := slackfake.New(token)
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	c, err := slack.New(slack.Config{BaseURL: srv.URL + "/api", Token: tok, HTTPClient: connector.NewHTTPClient(timeout)})
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

func alert(actionID string) slack.Alert {
	return slack.Alert{Channel: "C0FINANCE", Text: "Duplicate charge on VIP account", ActionID: actionID}
}

func TestPostAlert(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, token, time.Second)
	r, err := c.PostAlert(context.Background(), alert("call_abc:alert:1"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || msgs[0].TS != r.ExternalID || r.ExternalID == "" {
		t.Fatalf("receipt %+v, messages %+v", r, msgs)
	}
	if m := msgs[0].Metadata; m == nil || m.EventType != slack.EventType || m.EventPayload["action_id"] != "call_abc:alert:1" {
		t.Fatalf("metadata = %+v", msgs[0].Metadata)
	}
}

func TestFindByActionID(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, token, time.Second)
	ctx := context.Background()
	since := time.Now().Add(-time.Minute)
	first, err := c.PostAlert(ctx, alert("call_abc:alert:7"))
	if err != nil {
		t.Fatal(err)
	}
	// Push the first alert past the first history page.
	for i := range 250 {
		if _, err := c.PostAlert(ctx, slack.Alert{Channel: "C0FINANCE", Text: "other", ActionID: "other:" + string(rune('a'+i%26))}); err != nil {
			t.Fatal(err)
		}
	}
	got, found, err := c.FindByActionID(ctx, "C0FINANCE", "call_abc:alert:7", since)
	if err != nil || !found || got.ExternalID != first.ExternalID {
		t.Fatalf("FindByActionID = %+v, %v, %v; want ts %s", got, found, err, first.ExternalID)
	}
	if _, found, err := c.FindByActionID(ctx, "C0FINANCE", "call_abc:alert:8", since); err != nil || found {
		t.Fatalf("unknown action: found=%v err=%v", found, err)
	}
	if _, found, err := c.FindByActionID(ctx, "C0FINANCE", "call_abc:alert:7", time.Now().Add(time.Minute)); err != nil || found {
		t.Fatalf("since after the post: found=%v err=%v", found, err)
	}
	if n := fake.CountByActionID("call_abc:alert:7"); n != 1 {
		t.Fatalf("posted %d times", n)
	}
}

// A post whose reply is lost is retried by the worker; looking first finds it.
func TestLostReplyThenFind(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, token, time.Second)
	ctx := context.Background()
	fake.LoseReply(1)
	_, err := c.PostAlert(ctx, alert("call_abc:alert:9"))
	if err == nil || connector.IsPermanent(err) {
		t.Fatalf("lost reply: err = %v, want temporary", err)
	}
	r, found, err := c.FindByActionID(ctx, "C0FINANCE", "call_abc:alert:9", time.Now().Add(-time.Minute))
	if err != nil || !found || r.ExternalID == "" {
		t.Fatalf("FindByActionID = %+v, %v, %v", r, found, err)
	}
	if n := fake.CountByActionID("call_abc:alert:9"); n != 1 {
		t.Fatalf("posted %d times", n)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		token      string
		prepare    func(*slackfake.Fake)
		channel    string
		permanent  bool
		code       string
		retryAfter time.Duration
	}{
		{name: "rate limited", token: token, prepare: func(f *slackfake.Fake) { f.FailNext(1, 429, 3*time.Second) },
			code: "ratelimited", retryAfter: 3 * time.Second},
		{name: "server error", token: token, prepare: func(f *slackfake.Fake) { f.FailNext(1, 503, 0) }},
		{name: "timeout", token: token, prepare: func(f *slackfake.Fake) { f.Delay(time.Second) }, code: "timeout"},
		{name: "channel not found", token: token, channel: "C0NOPE", permanent: true, code: "channel_not_found"},
		{name: "invalid auth", token: "xoxb-wrong-token-value", permanent: true, code: "invalid_auth"},
		{name: "missing action id", token: token, permanent: true, code: "invalid_arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake, c := setup(t, tt.token, 200*time.Millisecond)
			if tt.prepare != nil {
				tt.prepare(fake)
			}
			a := alert("call_abc:alert:1")
			if tt.channel != "" {
				a.Channel = tt.channel
			}
			if tt.name == "missing action id" {
				a.ActionID = ""
			}
			_, err := c.PostAlert(context.Background(), a)
			var ce *connector.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T), want *connector.Error", err, err)
			}
			if ce.Permanent != tt.permanent || (tt.code != "" && ce.Code != tt.code) || ce.RetryAfter != tt.retryAfter {
				t.Fatalf("err = %+v, want permanent=%v code=%q retryAfter=%v", ce, tt.permanent, tt.code, tt.retryAfter)
			}
			if s := err.Error(); strings.Contains(s, tt.token) || strings.Contains(s, "xoxb") {
				t.Fatalf("error leaks the token: %q", s)
			}
			if got := fake.CountByActionID("call_abc:alert:1"); got != 0 {
				t.Fatalf("failed post took effect %d times", got)
			}
		})
	}
}

func TestNewRequiresToken(t *testing.T) {
	if _, err := slack.New(slack.Config{}); err == nil {
		t.Fatal("New without token succeeded")
	}
}
