package tone

import "testing"

func TestCheck(t *testing.T) {
	tests := []struct {
		text string
		want string // Describe of the findings, "" for a clean note
	}{
		{"this deadbeat is lying, threaten him", `abusive wording ("deadbeat", "lying") and threatening wording ("threaten him")`},
		{"Customer promised to pay 640.00 GBP by 2026-12-05; sent the payment link.", ""},
		{"Overdue 45 days; escalate to the collections team and legal if no payment plan.", ""},
		{"The underlying invoice is INV-20931; threshold not met.", ""},
		{"Tell him we'll have him arrested", `threatening wording ("have him arrested")`},
		{"He’ll regret this", `threatening wording ("he'll regret")`},
		{"What an IDIOT", `abusive wording ("idiot")`},
		{"Customer says the agent was rude; apologised.", ""},
	}
	for _, tt := range tests {
		if got := Describe(Check(tt.text)); got != tt.want {
			t.Errorf("Check(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}
