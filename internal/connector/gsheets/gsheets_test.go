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
	"github.com/countersign/countersign/internal/connector/gauth"
	"github.com/countersign/countersign/internal/connector/gauth/gauthfake"
	"github.com/countersign/countersign/internal/connector/gsheets"
	"github.com/countersign/countersign/internal/connector/gsheets/sheetsfake"
)

const (
	mailbox = "billing@acme.test"
	sheetID = "1SheetExceptionQueue"
)

func setup(t *testing.T, subject string, timeout time.Duration) (*sheetsfake.Fake, *gsheets.Client, string, *http.Client) {
	t.Helper()
	auth, tokenURL := gauthfake.Start(t, []string{gauth.ScopeSheets}, mailbox)
	hc, err := gauth.Client(gauth.Config{Connector: "gsheets", Credentials: auth.CredentialsJSON(tokenURL), Subject: subject,
		Scopes: []string{gauth.ScopeSheets}, HTTPClient: connector.NewHTTPClient(timeout)})
	if err != nil {
		t.Fatal(err)
	}
	fake := sheetsfake.New(auth)
	fake.AddSpreadsheet(sheetID, "Queue", "Review queue")
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	c, err := gsheets.New(gsheets.Config{BaseURL: srv.URL, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	return fake, c, srv.URL, hc
}

func TestAppendRowOnce(t *testing.T) {
	t.Parallel()
	for _, rng := range []string{"Queue!A:D", "Queue", "'Review queue'!A:D", "Review queue"} {
		t.Run(rng, func(t *testing.T) {
			t.Parallel()
			fake, c, _, _ := setup(t, mailbox, time.Second)
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
	fake, c, _, _ := setup(t, mailbox, time.Second)
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
	fake, _, base, hc := setup(t, mailbox, time.Second)
	req, _ := http.NewRequest(http.MethodPost, base+"/v4/spreadsheets/"+sheetID+"/values/Queue!A:C:append?valueInputOption=USER_ENTERED",
		strings.NewReader(`{"values":[["a","=1+1"]]}`))
	resp, err := hc.Do(req)
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
		subject    string
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
		{name: "grant refused", subject: "nobody@acme.test", permanent: true, code: "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			subject := mailbox
			if tt.subject != "" {
				subject = tt.subject
			}
			fake, c, _, _ := setup(t, subject, 200*time.Millisecond)
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
			if strings.Contains(err.Error(), "ya29.") {
				t.Fatalf("error leaks the token: %q", err)
			}
			if fake.Appends() != 0 {
				t.Fatal("failed append took effect")
			}
		})
	}
}
