package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/console"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/internal/vault"
	"github.com/countersign/countersign/web"
	"github.com/countersign/countersign/web/webtest"
)

// corpusValue is one sensitive value of the redactor's labelled corpus and
// the sentence it was said in.
type corpusValue struct{ kind, value, text string }

func readCorpusValues(t *testing.T) []corpusValue {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "internal", "redact", "testdata", "corpus.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	unesc := strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\t`, "\t")
	var out []corpusValue
	for _, l := range strings.Split(string(raw), "\n") {
		f := strings.SplitN(l, "\t", 3)
		if len(f) != 3 || strings.HasPrefix(l, "#") || f[0] == "none" {
			continue
		}
		out = append(out, corpusValue{f[0], unesc.Replace(f[1]), unesc.Replace(f[2])})
	}
	return out
}

// deliveryFor puts the i-th corpus value into one field of a DialNexa
// delivery, cycling through every field the issue found stored in clear.
// Values that are sensitive only by their wording (a routing or account
// number, a bare SSN) go into structured fields with their sentence: alone,
// "021000021" is no more a routing number than a ticket number.
func deliveryFor(i int, v corpusValue) map[string]any {
	if redact.Detect(v.value) == nil {
		v.value = v.text
	}
	call := map[string]any{
		"id": fmt.Sprintf("call_t13_%04d", i), "direction": "inbound", "status": "completed",
		"from_number": "14155550142", "to_number": "18005550199", "agent_id": "agent_billing7x2k",
		"initiated_at": "2026-11-24T15:02:11.482Z", "duration": 214,
		"transcript":         "Agent: Thanks for calling Acme billing.\nUser: I want a refund.",
		"summary":            "Caller asked for a refund.",
		"post_call_analysis": map[string]any{"call_intent": "refund_request", "amount": 249.0, "currency": "USD"},
	}
	analysis := call["post_call_analysis"].(map[string]any)
	turns := func(text string) []any {
		var ts []any
		for k, line := range strings.Split(text, "\n") {
			ts = append(ts, map[string]any{"role": "user", "text": line, "time": fmt.Sprintf("00:%02d", k)})
			ts = append(ts, map[string]any{"role": "agent", "text": "uh-huh", "time": fmt.Sprintf("00:%02d", k)})
		}
		return ts[:len(ts)-1]
	}
	switch i % 15 {
	case 0:
		call["transcript"] = v.text
	case 1:
		call["transcript"] = turns(v.text)
	case 2:
		call["summary"] = v.text
	case 3:
		call["from_number"] = v.value
	case 4:
		call["to_number"] = v.value
	case 5:
		call["recording_url"] = "https://recordings.dialnexa.com/x.mp3?note=" + v.value
	case 6:
		call["agent_id"] = v.value
	case 7:
		call["category"] = v.value
	case 8:
		call["hangup_reason"] = v.value
	case 9:
		call["id"] = fmt.Sprintf("call-%d: %s", i, v.value)
	case 10:
		call["call_transfer"] = map[string]any{"destination": v.value, "status": v.value, "destination_id": v.value}
	case 11:
		call["transcript"] = []any{map[string]any{"role": v.value, "text": "hello", "time": v.value}}
	case 12:
		analysis[v.value] = "yes"
	case 13:
		if json.Valid([]byte(v.value)) && !strings.ContainsAny(v.value, " -.\"") {
			analysis["card_number"] = json.RawMessage(v.value)
		} else {
			analysis["refund_reason"] = v.text
		}
	case 14:
		return map[string]any{"event_type": v.value, "payload": map[string]any{"note": v.text}}
	}
	return map[string]any{"event_type": "call_ended", "payload": map[string]any{"call": call}}
}

// TestWebhookStoresNoCorpusValue sends every positive of the redactor's corpus
// through the real webhook route, each in a different field of a delivery
// (transcript, turns, summary, numbers, URL, ids, transfer, turn role and time,
// an extracted field's key, a numeric field, an ignored event's type), indexes
// the cases for search, and then requires that neither a data-only pg_dump of
// the database nor the server log holds any of the values.
func TestWebhookStoresNoCorpusValue(t *testing.T) {
	if testing.Short() {
		t.Skip("sends every corpus value through the webhook")
	}
	u := testdb.NewURL(t)
	ctx := context.Background()
	db, err := database.Open(ctx, u, database.Options{MaxConns: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	var logBuf bytes.Buffer
	ts := suppressServer(t, db, &logBuf)
	values := readCorpusValues(t)
	for i, v := range values {
		body, err := json.Marshal(deliveryFor(i, v))
		if err != nil {
			t.Fatal(err)
		}
		resp := post(t, ts, body, map[string]string{"X-DialNexa-Signature": dialnexa.Sign(body, sampleSecret)})
		if resp.StatusCode != 200 {
			t.Fatalf("delivery %d (%s in field %d): status %d", i, v.kind, i%15, resp.StatusCode)
		}
	}
	if _, err := console.IndexPending(ctx, db.Gorm, 100000); err != nil {
		t.Fatal(err)
	}
	if n := rows(t, db, "calls"); n < int64(len(values))*13/15 {
		t.Fatalf("calls = %d after %d deliveries", n, len(values))
	}
	if n := rows(t, db, "vault_entries"); n == 0 {
		t.Error("no restricted value was kept in the vault")
	}
	out, err := exec.Command("pg_dump", "--data-only", "--dbname", u).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	dump := string(out)
	for _, where := range []struct{ name, text string }{{"pg_dump", dump}, {"server log", logBuf.String()}} {
		leaks := 0
		for _, v := range values {
			for _, form := range leakForms(v.value) {
				if strings.Contains(where.text, form) {
					leaks++
					t.Errorf("%s holds %s %q (as %q)", where.name, v.kind, v.value, form)
				}
			}
		}
		t.Logf("%s: %d bytes, %d corpus values checked, %d leaks", where.name, len(where.text), len(values), leaks)
	}
}

// leakForms are the strings whose presence would leak v: v itself and, when
// it holds nine or more ASCII digits, those digits run together (as jsonb,
// a search vector or a normaliser might store them). Values too short to be
// told apart from other text (a CVV) are checked through their sentence only.
func leakForms(v string) []string {
	var forms []string
	if len(v) >= 8 {
		forms = append(forms, v)
		if b, err := json.Marshal(v); err == nil && string(b[1:len(b)-1]) != v {
			forms = append(forms, string(b[1:len(b)-1]))
		}
	}
	var d strings.Builder
	for _, r := range v {
		if r >= '0' && r <= '9' {
			d.WriteRune(r)
		}
	}
	if d.Len() >= 9 && d.String() != v {
		forms = append(forms, d.String())
	}
	return forms
}

func suppressServer(t *testing.T, db *database.DB, logTo *bytes.Buffer) *httptest.Server {
	t.Helper()
	env := map[string]string{
		"COUNTERSIGN_DIALNEXA_SECRETS": sampleSecret,
		"COUNTERSIGN_SESSION_KEYS":     "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"COUNTERSIGN_VAULT_KEY":        vault.NewKey(),
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, config.Dev)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := webtest.New(t, web.Deps{Config: cfg, DB: db, Log: log})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}
