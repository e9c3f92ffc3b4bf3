package email_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/connector/email"
)

func TestDescribeGmailSend(t *testing.T) {
	raw, err := email.Build(email.Message{From: "billing@countersign.local", To: "fatima.khan@example.com",
		Subject: "Your invoice INV-22069", Text: "Hello,\nyour invoice is attached.\n\nCountersign case 18",
		MessageID:   "<cs-7-abc@countersign.local>",
		Attachments: []email.Attachment{{Name: "invoice-INV-22069.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 fake")}}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"raw": base64.URLEncoding.EncodeToString(raw)})
	got, ok := email.DescribeGmailSend(string(body))
	if !ok {
		t.Fatalf("not described: %s", body)
	}
	for _, want := range []string{"To: <fatima.khan@example.com>", "Subject: Your invoice INV-22069", "Message-Id: <cs-7-abc@countersign.local>",
		"your invoice is attached.", "Countersign case 18", "[attachment: invoice-INV-22069.pdf, application/pdf, 13 bytes]"} {
		if !strings.Contains(got, want) {
			t.Errorf("description lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{`{"raw":`, `{"raw":"!!"}`, `not json`} {
		if _, ok := email.DescribeGmailSend(bad); ok {
			t.Errorf("%q described", bad)
		}
	}
}
