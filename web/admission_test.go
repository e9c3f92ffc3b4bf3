package web_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/testdb"
)

// TestWebhookAdmissionAndSlowBody: with room for one delivery in flight, a sender
// that trickles its body holds the slot; a second delivery is answered 503 with
// Retry-After at once, before its body is read, and nothing of it is stored. The slow
// body is cut off by the per-request read deadline (408), which frees the slot.
func TestWebhookAdmissionAndSlowBody(t *testing.T) {
	db := testdb.New(t)
	ts := webhookServerWith(t, db, map[string]string{"COUNTERSIGN_WEBHOOK_MAX_INFLIGHT": "1"})
	body := readSample(t, "refund-request.json")
	sig := dialnexa.Sign(body, sampleSecret)

	slow, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "POST /webhooks/dialnexa HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"X-DialNexa-Signature: %s\r\nContent-Length: %d\r\n\r\n%s", sig, len(body), body[:10])

	// The slow request holds the only slot once the server has its headers (up to
	// 10 s on a loaded machine: the first refusal ends the wait).
	var resp *http.Response
	for range 1000 {
		resp = post(t, ts, body, map[string]string{"X-DialNexa-Signature": sig})
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second delivery: %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if n := rows(t, db, "webhook_deliveries"); n != 0 {
		t.Errorf("deliveries = %d after a refusal, want 0", n)
	}

	_ = slow.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := http.ReadResponse(bufio.NewReader(slow), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.StatusCode != http.StatusRequestTimeout {
		t.Errorf("slow body: %d, want 408", got.StatusCode)
	}
	if resp := post(t, ts, body, map[string]string{"X-DialNexa-Signature": sig}); resp.StatusCode != 200 {
		t.Errorf("after the slow body: %d, want 200 (its slot is free again)", resp.StatusCode)
	}
}
