package gsheets_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/gsheets"
	"github.com/countersign/countersign/internal/connector/gsheets/sheetsfake"
)

const (
	accessToken = "ya29.sheets-access-token-secret"
	sheetID     = "1SheetExceptionQueue"
)

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

func setup(t *testing.T, token string, timeout time.Duration) (*sheetsfake.Fake, *gsheets.Client, string) {
	t.Helper()
	fake := sheetsfake.New(accessToken)
	fake.AddSpreadsheet(sheetID, "Queue", "Review queue")
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	hc := connector.NewHTTPClient(timeout)
	hc.Transport = bearer{token: token, next: hc.Transport}
	c, err := gsheets.New(gsheets.Config{BaseURL: srv.URL, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	return fake, c, srv.URL
}

func TestAppendRowOnce(t *testing.T) {
	t.Parallel()
	for _, rng := range []string{"Queue!A:D", "Queue", "'Review queue'!A:D", "Review queue"} {
		t.Run(rng, func(t *testing.T) {
			t.Parallel()
			fake, c, _ := setup(t, accessToken, time.Second)
			ctx := context.Background()
			title := strings.Trim(strings.Split(rng, "!")[0], "'")
			cells := []string{"call_abc", "=IMPORTXML(\"http://evil\")", "+1 555 0100"}
			first, err := c.AppendRow(ctx, sheetID, rng, "call_abc:review:1", cells)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.AppendRow(ctx, sheetID, rng, "call_def:review:2", []string{"call_def"}); err != nil {
				t.Fatal(err)
			}
			again, err := c.AppendRow(ctx, sheetID, rng, "call_abc:review:1", cells)
			if err != nil {
				t.Fatal(err)
			}
			if fake.Appends() != 2 || !strings.HasSuffix(first.ExternalID, "!A1:D1") || !strings.HasSuffix(again.ExternalID, "!A1") {
				t.Fatalf("appends %d, first %q, again %q", fake.Appends(), first.ExternalID, again.ExternalID)
			}
			want := [][]string{{"call_abc:review:1", "call_abc", "=IMPORTXML(\"http://evil\")", "+1 555 0100"}, {"call_def:review:2", "call_def"}}
			if got := fake.Rows(sheetID, title); !reflect.DeepEqual(got, want) {
				t.Fatalf("rows = %q", got)
			}
		})
	}
}

func TestAppendRowLostReplyThenRetry(t *testing.T) {
	t.Parallel()
	fake, c, _ := setup(t, accessToken, time.Second)
	ctx := context.Background()
	fake.LoseReply(1)
	if _, err := c.AppendRow(ctx, sheetID, "Queue!A:C", "call_abc:review:3", []string{"x"}); err == nil || connector.IsPermanent(err) {
		t.Fatalf("lost reply: err = %v, want temporary", err)
	}
	r, err := c.AppendRow(ctx, sheetID, "Queue!A:C", "call_abc:review:3", []string{"x"})
	if err != nil || r.ExternalID != "Queue!A1" || fake.Appends() != 1 {
		t.Fatalf("retry = %+v, %v; appends %d", r, err, fake.Appends())
	}
}

// The fake must refuse USER_ENTERED, or a test could pass while formulas run.
func TestFakeRejectsUserEntered(t *testing.T) {
	t.Parallel()
	fake, _, base := setup(t, accessToken, time.Second)
	req, _ := http.NewRequest(http.MethodPost, base+"/v4/spreadsheets/"+sheetID+"/values/Queue!A:C:append?valueInputOption=USER_ENTERED",
		strings.NewReader(`{"values":[["a","=1+1"]]}`))
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || fake.Appends() != 0 {
		t.Fatalf("status %d, appends %d", resp.StatusCode, fake.Appends())
	}
}

func TestAppendRowErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		token      string
		prepare    func(*sheetsfake.Fake)
		sheetID    string
		rng        string
		permanent  bool
		status     int
		code       string
		retryAfter time.Duration
	}{
		{name: "rate limited", prepare: func(f *sheetsfake.Fake) { f.FailNext(1, 429, 5*time.Second) }, status: 429, code: "RESOURCE_EXHAUSTED", retryAfter: 5 * time.Second},
		{name: "unavailable", prepare: func(f *sheetsfake.Fake) { f.FailNext(1, 503, 0) }, status: 503, code: "UNAVAILABLE"},
		{name: "unknown spreadsheet", sheetID: "1Missing", permanent: true, status: 404, code: "NOT_FOUND"},
		{name: "timeout", prepare: func(f *sheetsfake.Fake) { f.Delay(time.Second) }, code: "timeout"},
		{name: "unknown sheet", rng: "Nope!A:C", permanent: true, status: 400, code: "INVALID_ARGUMENT"},
		{name: "permission denied", prepare: func(f *sheetsfake.Fake) { f.FailNext(1, 403, 0) }, permanent: true, status: 403, code: "PERMISSION_DENIED"},
		{name: "unauthenticated", token: "ya29.wrong-token-secret", permanent: true, status: 401, code: "UNAUTHENTICATED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token := accessToken
			if tt.token != "" {
				token = tt.token
			}
			fake, c, _ := setup(t, token, 200*time.Millisecond)
			if tt.prepare != nil {
				tt.prepare(fake)
			}
			id, rng := sheetID, "Queue!A:C"
			if tt.sheetID != "" {
				id = tt.sheetID
			}
			if tt.rng != "" {
				rng = tt.rng
			}
			_, err := c.AppendRow(context.Background(), id, rng, "call_abc:review:1", []string{"x"})
			var ce *connector.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if ce.Permanent != tt.permanent || ce.Status != tt.status || (tt.code != "" && ce.Code != tt.code) || ce.RetryAfter != tt.retryAfter {
				t.Fatalf("err = %+v", ce)
			}
			if strings.Contains(err.Error(), token) {
				t.Fatalf("error leaks the token: %q", err)
			}
			if fake.Appends() != 0 {
				t.Fatal("failed append took effect")
			}
		})
	}
}
