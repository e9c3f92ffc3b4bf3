package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/web"
	"github.com/countersign/countersign/web/webtest"
)

const sampleSecret = "whsec_test_dialnexa_fixture"

func webhookServer(t *testing.T, db *database.DB) *httptest.Server {
	t.Helper()
	return webhookServerWith(t, db, nil)
}

func webhookServerWith(t *testing.T, db *database.DB, extra map[string]string) *httptest.Server {
	t.Helper()
	env := map[string]string{
		"COUNTERSIGN_DIALNEXA_SECRETS": "whsec_current_secret_0123456789," + sampleSecret,
		"COUNTERSIGN_SESSION_KEYS":     "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, config.Dev)
	if err != nil {
		t.Fatal(err)
	}
	srv := webtest.New(t, web.Deps{Config: cfg, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "internal", "dialnexa", "testdata", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func post(t *testing.T, ts *httptest.Server, body []byte, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.URL+"/webhooks/dialnexa", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func rows(t *testing.T, db *database.DB, table string) int64 {
	var n int64
	if err := db.Gorm.Raw("SELECT count(*) FROM " + table).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWebhookAcceptsEverySignedSample(t *testing.T) {
	db := testdb.New(t)
	ts := webhookServer(t, db)
	sigs, _ := os.ReadFile(filepath.Join("..", "internal", "dialnexa", "testdata", "samples", "SIGNATURES"))
	for _, line := range strings.Split(strings.TrimSpace(string(sigs)), "\n") {
		name, sig, _ := strings.Cut(line, " ")
		header := "X-DialNexa-Signature"
		if strings.HasPrefix(name, "charge") {
			header = "x-nexa-signature" // the alternative name, in lower case
		}
		resp := post(t, ts, readSample(t, name), map[string]string{header: sig, "Sec-Fetch-Site": "cross-site"})
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d, want 200", name, resp.StatusCode)
		}
	}
	if n := rows(t, db, "calls"); n != 5 {
		t.Errorf("calls = %d, want 5", n)
	}
	// Bare hex (no sha256= prefix) is accepted too.
	body := readSample(t, "refund-request.json")
	bare := strings.TrimPrefix(dialnexa.Sign(body, sampleSecret), "sha256=")
	if resp := post(t, ts, body, map[string]string{"X-DialNexa-Signature": bare}); resp.StatusCode != 200 {
		t.Errorf("bare hex: %d", resp.StatusCode)
	}
}

func TestWebhookRefusesBadSignatures(t *testing.T) {
	db := testdb.New(t)
	ts := webhookServer(t, db)
	body := readSample(t, "refund-request.json")
	good := dialnexa.Sign(body, sampleSecret)
	flipped := append([]byte(nil), body...)
	flipped[10] ^= 1
	variants := map[string]struct {
		body []byte
		sig  string
	}{
		"flipped byte":     {flipped, good},
		"truncated hex":    {body, good[:len(good)-2]},
		"uppercase hex":    {body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256="))},
		"wrong prefix":     {body, "sha1=" + strings.TrimPrefix(good, "sha256=")},
		"non-hex":          {body, good[:len(good)-1] + "g"},
		"empty header":     {body, ""},
		"wrong secret":     {body, dialnexa.Sign(body, "whsec_someone_else_entirely")},
		"reserialised":     {bytes.ReplaceAll(body, []byte("\n"), nil), good},
		"no header at all": {body, "-"},
	}
	for name, v := range variants {
		h := map[string]string{"X-DialNexa-Signature": v.sig}
		if v.sig == "-" {
			h = nil
		}
		if resp := post(t, ts, v.body, h); resp.StatusCode != 401 {
			t.Errorf("%s: status %d, want 401", name, resp.StatusCode)
		}
	}
	for _, table := range []string{"webhook_deliveries", "calls", "cases", "river_job"} {
		if n := rows(t, db, table); n != 0 {
			t.Errorf("%s has %d rows after refused deliveries", table, n)
		}
	}
}

func TestWebhookLimitsAndMalformed(t *testing.T) {
	db := testdb.New(t)
	ts := webhookServer(t, db)
	big := []byte(`{"event_type":"call_ended","pad":"` + strings.Repeat("x", 1<<20) + `"}`)
	if resp := post(t, ts, big, map[string]string{"X-DialNexa-Signature": dialnexa.Sign(big, sampleSecret)}); resp.StatusCode != 413 {
		t.Errorf("oversized: %d, want 413", resp.StatusCode)
	}
	bad := []byte(`{"event_type":"call_ended","payload":{"call":{`)
	if resp := post(t, ts, bad, map[string]string{"X-DialNexa-Signature": dialnexa.Sign(bad, sampleSecret)}); resp.StatusCode != 400 {
		t.Errorf("malformed: %d, want 400", resp.StatusCode)
	}
	if n := rows(t, db, "webhook_deliveries"); n != 1 {
		t.Errorf("deliveries = %d, want the malformed one stored as rejected", n)
	}
}

func TestWebhookConcurrentDuplicates(t *testing.T) {
	db := testdb.New(t)
	ts := webhookServer(t, db)
	body := readSample(t, "charge-dispute.json")
	sig := dialnexa.Sign(body, sampleSecret)
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = post(t, ts, body, map[string]string{"X-DialNexa-Signature": sig}).StatusCode
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("delivery %d: %d", i, c)
		}
	}
	if n, m := rows(t, db, "calls"), rows(t, db, "cases"); n != 1 || m != 1 {
		t.Errorf("calls %d cases %d, want 1 and 1", n, m)
	}
}

// TestWebhookDatabaseDown cuts the database off mid-flight: deliveries get 503 (never
// 2xx for something not stored); once it is back, the retried delivery is stored once.
func TestWebhookDatabaseDown(t *testing.T) {
	u := testdb.NewURL(t)
	db, err := database.Open(context.Background(), u, database.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ts := webhookServer(t, db)
	name := strings.TrimPrefix(mustURL(t, u).Path, "/")
	admin := testdb.AdminURL(t)
	setConnections(t, admin, name, false)
	body := readSample(t, "receipt-resend.json")
	sig := dialnexa.Sign(body, sampleSecret)
	for i := range 3 {
		if resp := post(t, ts, body, map[string]string{"X-DialNexa-Signature": sig}); resp.StatusCode != 503 {
			t.Fatalf("attempt %d while down: %d, want 503", i, resp.StatusCode)
		}
	}
	setConnections(t, admin, name, true)
	for i := range 2 {
		if resp := post(t, ts, body, map[string]string{"X-DialNexa-Signature": sig}); resp.StatusCode != 200 {
			t.Fatalf("retry %d after recovery: %d, want 200", i, resp.StatusCode)
		}
	}
	if n := rows(t, db, "calls"); n != 1 {
		t.Errorf("calls = %d, want 1", n)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func setConnections(t *testing.T, admin, dbname string, allow bool) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %v", pgx.Identifier{dbname}.Sanitize(), allow)); err != nil {
		t.Fatal(err)
	}
	if !allow {
		if _, err := c.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", dbname); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWebhookPoisonAndNUL: a signed body Postgres could never store (a lone surrogate
// escape) is answered 400 with the reason, every time, and kept as rejected; the text
// \\u0000 (backslash, then "u0000") is ordinary text and stored as sent; a real \u0000
// escape is stored as U+FFFD.
func TestWebhookPoisonAndNUL(t *testing.T) {
	db := testdb.New(t)
	ts := webhookServer(t, db)
	base := readSample(t, "refund-request.json")
	withSummary := func(id, summary string) []byte {
		b := bytes.ReplaceAll(base, []byte("call_rf7k2m9q4xbt"), []byte(id))
		return bytes.Replace(b, []byte(`"summary": "`), []byte(`"summary": "`+summary), 1)
	}
	if !bytes.Contains(withSummary("x", "y"), []byte(`"summary": "y`)) {
		t.Fatal("the sample has no summary to put text into")
	}
	poison := withSummary("call_poison_1", `lone \ud800 here. `)
	for i := range 2 {
		req, _ := http.NewRequest("POST", ts.URL+"/webhooks/dialnexa", bytes.NewReader(poison))
		req.Header.Set("X-DialNexa-Signature", dialnexa.Sign(poison, sampleSecret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(msg), "surrogate") {
			t.Errorf("poison attempt %d: %d %s, want 400 naming the lone surrogate", i, resp.StatusCode, msg)
		}
	}
	var rejected int64
	db.Gorm.Raw(`SELECT count(*) FROM webhook_deliveries WHERE outcome = 'rejected' AND error LIKE '%surrogate%'`).Scan(&rejected)
	if rejected != 2 || rows(t, db, "calls") != 0 {
		t.Errorf("rejected deliveries %d (want 2, one per attempt), calls %d (want 0)", rejected, rows(t, db, "calls"))
	}

	literal := withSummary("call_literal_nul", `path C:\\u0000 as typed. `)
	escaped := withSummary("call_escaped_nul", `a\u0000b. `)
	for name, b := range map[string][]byte{"literal": literal, "escaped": escaped} {
		if resp := post(t, ts, b, map[string]string{"X-DialNexa-Signature": dialnexa.Sign(b, sampleSecret)}); resp.StatusCode != 200 {
			t.Errorf("%s: %d, want 200", name, resp.StatusCode)
		}
	}
	var lit, esc string
	db.Gorm.Raw(`SELECT summary FROM calls WHERE dialnexa_id = 'call_literal_nul'`).Scan(&lit)
	db.Gorm.Raw(`SELECT summary FROM calls WHERE dialnexa_id = 'call_escaped_nul'`).Scan(&esc)
	if !strings.Contains(lit, `C:\u0000 as typed`) {
		t.Errorf("literal summary = %q, want the text C:\\u0000 kept", lit)
	}
	if !strings.Contains(esc, "a\uFFFDb") {
		t.Errorf("escaped summary = %q, want U+FFFD where the NUL was", esc)
	}
}
