package gdrive_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/gauth"
	"github.com/countersign/countersign/internal/connector/gauth/gauthfake"
	"github.com/countersign/countersign/internal/connector/gdrive"
	"github.com/countersign/countersign/internal/connector/gdrive/drivefake"
)

const (
	mailbox = "billing@acme.test"
	folder  = "0AFolderInvoices"
)

func setup(t *testing.T, subject string, timeout time.Duration) (*drivefake.Fake, *gdrive.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	auth, tokenURL := gauthfake.Start(t, []string{gauth.ScopeDriveFile}, mailbox)
	hc, err := gauth.Client(gauth.Config{Connector: "gdrive", Credentials: auth.CredentialsJSON(tokenURL), Subject: subject,
		Scopes: []string{gauth.ScopeDriveFile}, HTTPClient: connector.NewHTTPClient(timeout)})
	if err != nil {
		t.Fatal(err)
	}
	fake := drivefake.New(auth, folder)
	srv.Config.Handler = fake.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := gdrive.New(gdrive.Config{BaseURL: srv.URL, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

func invoice(id, actionID string) gdrive.File {
	return gdrive.File{ID: id, Name: "INV-2026-0042.pdf", MimeType: "application/pdf",
		Data: []byte("%PDF-1.7 invoice"), FolderID: folder, ActionID: actionID}
}

func TestUploadWithGeneratedID(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, mailbox, time.Second)
	ctx := context.Background()
	id, err := c.GenerateID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Upload(ctx, invoice(id, "call_abc:invoice:42"))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := fake.File(id)
	if r.ExternalID != id || !ok || got.Name != "INV-2026-0042.pdf" || got.MimeType != "application/pdf" ||
		got.AppProperties["action_id"] != "call_abc:invoice:42" || len(got.Parents) != 1 || got.Parents[0] != folder ||
		!bytes.Equal(got.Data, []byte("%PDF-1.7 invoice")) {
		t.Fatalf("receipt %+v, file %+v", r, got)
	}
	// A retry with the same id meets 409 and returns the same file.
	again, err := c.Upload(ctx, invoice(id, "call_abc:invoice:42"))
	if err != nil || again.ExternalID != id || fake.Creates() != 1 {
		t.Fatalf("retry = %+v, %v; creates %d", again, err, fake.Creates())
	}
	// The same id claimed by another action is a conflict, not a success.
	_, err = c.Upload(ctx, invoice(id, "call_other:invoice:43"))
	var ce *connector.Error
	if !errors.As(err, &ce) || !ce.Permanent || ce.Code != "id_conflict" {
		t.Fatalf("foreign id: err = %v", err)
	}
}

func TestUploadWithoutIDGeneratesOne(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, mailbox, time.Second)
	r, err := c.Upload(context.Background(), invoice("", "call_abc:invoice:44"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fake.File(r.ExternalID); !ok || fake.Creates() != 1 {
		t.Fatalf("receipt %+v, creates %d", r, fake.Creates())
	}
}

func TestUploadLostReplyThenRetry(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, mailbox, time.Second)
	ctx := context.Background()
	id, err := c.GenerateID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fake.LoseReply(1)
	if _, err := c.Upload(ctx, invoice(id, "call_abc:invoice:45")); err == nil || connector.IsPermanent(err) {
		t.Fatalf("lost reply: err = %v, want temporary", err)
	}
	r, err := c.Upload(ctx, invoice(id, "call_abc:invoice:45"))
	if err != nil || r.ExternalID != id || fake.Creates() != 1 {
		t.Fatalf("retry = %+v, %v; creates %d", r, err, fake.Creates())
	}
}

func TestUploadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		subject    string
		prepare    func(*drivefake.Fake)
		file       func(gdrive.File) gdrive.File
		permanent  bool
		status     int
		code       string
		retryAfter time.Duration
	}{
		{name: "rate limited", prepare: func(f *drivefake.Fake) { f.FailNext(1, 429, 4*time.Second) }, status: 429, code: "rateLimitExceeded", retryAfter: 4 * time.Second},
		{name: "server error", prepare: func(f *drivefake.Fake) { f.FailNext(1, 503, 0) }, status: 503},
		{name: "timeout", prepare: func(f *drivefake.Fake) { f.Delay(time.Second) }, code: "timeout"},
		{name: "unknown folder", file: func(f gdrive.File) gdrive.File { f.FolderID = "0ANope"; return f }, permanent: true, status: 404, code: "notFound"},
		{name: "id not generated", file: func(f gdrive.File) gdrive.File { f.ID = "made-up-id"; return f }, permanent: true, status: 400, code: "fileIdNotUsable"},
		{name: "grant refused", subject: "nobody@acme.test", permanent: true, code: "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			subject := mailbox
			if tt.subject != "" {
				subject = tt.subject
			}
			fake, c := setup(t, subject, 200*time.Millisecond)
			// Reserve the id at the fake directly: GenerateID would
			// consume the injected fault.
			id := fake.IssueID()
			if tt.prepare != nil {
				tt.prepare(fake)
			}
			f := invoice(id, "call_abc:invoice:1")
			if tt.file != nil {
				f = tt.file(f)
			}
			_, err := c.Upload(context.Background(), f)
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
			if fake.Creates() != 0 {
				t.Fatal("failed upload took effect")
			}
		})
	}
}
