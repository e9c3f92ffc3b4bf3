package approval

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRedactActionMasksWhatIsSent(t *testing.T) {
	a := Action{
		Connector: "slack", Operation: "post_message",
		Description: "Post to #finance-alerts: caller gave card 4111 1111 1111 1111",
		Params:      map[string]any{"channel": "#finance-alerts", "text": "IBAN DE89 3704 0044 0532 0130 00", "amount": int64(24900)},
	}
	if err := redactAction(&a); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(a)
	for _, leak := range []string{"4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("action still holds %q: %s", leak, b)
		}
	}
	if !strings.Contains(a.Description, "[card •••• 1111]") || a.Params["text"] != "IBAN [iban]" {
		t.Errorf("masks missing: %+v", a)
	}
	clean := Action{Params: map[string]any{"amount": int64(24900)}}
	if err := redactAction(&clean); err != nil || clean.Params["amount"] != int64(24900) {
		t.Errorf("clean params changed type: %#v %v", clean.Params["amount"], err)
	}
}
