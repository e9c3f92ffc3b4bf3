package dialnexa

import (
	"reflect"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"14155550100", "+14155550100"},
		{"+14155550100", "+14155550100"},
		{"4155550100", "+14155550100"},
		{"(415) 555-0100", "+14155550100"},
		{"+1 415.555.0100", "+14155550100"},
		{" 442079460958 ", "+442079460958"},
		{"+442079460958", "+442079460958"},
		{"+4930123456", "+4930123456"},
		{"861012345678901", "+861012345678901"},  // 15 digits
		{"8610123456789012", "8610123456789012"}, // 16 digits: not E.164
		{"0155550100", "0155550100"},             // 10 digits, not a NANP area code
		{"1555010000", "1555010000"},
		{"07700900123", "07700900123"}, // national UK format: country unknown
		{"0044207946095", "0044207946095"},
		{"5550100", "5550100"},
		{"+1234567", "+1234567"}, // too short for E.164
		{"sip:billing@pbx.example.com", "sip:billing@pbx.example.com"},
		{"anonymous", "anonymous"},
		{"+", "+"},
		{"", ""},
		{"++14155550100", "++14155550100"},
		{"1-800-FLOWERS", "1-800-FLOWERS"},
	}
	for _, tt := range tests {
		if got := NormalizePhone(tt.in); got != tt.want {
			t.Errorf("NormalizePhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseTranscript(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   any
		want []Turn
	}{
		{"nil", nil, nil},
		{"empty string", "", nil},
		{"labels", "Agent: Hi\nUser: Hello\nCustomer: Also me\nAssistant: Ok\nCaller: Fine\nBot: Bye", []Turn{
			{Speaker: "agent", Text: "Hi"}, {Speaker: "caller", Text: "Hello"}, {Speaker: "caller", Text: "Also me"},
			{Speaker: "agent", Text: "Ok"}, {Speaker: "caller", Text: "Fine"}, {Speaker: "agent", Text: "Bye"},
		}},
		{"other speaker lower-cased", "Supervisor: joining\nAGENT: hello", []Turn{
			{Speaker: "supervisor", Text: "joining"}, {Speaker: "agent", Text: "hello"},
		}},
		{"unlabelled first line", "hello there\nAgent: Hi", []Turn{
			{Text: "hello there"}, {Speaker: "agent", Text: "Hi"},
		}},
		{"colon in text and not a label", "Agent: Note that: it is 10:30\nsee https://x.example/a: ok\nNote that: more", []Turn{
			{Speaker: "agent", Text: "Note that: it is 10:30\nsee https://x.example/a: ok\nNote that: more"},
		}},
		{"url line", "Agent: link\nhttps://example.com/pay", []Turn{
			{Speaker: "agent", Text: "link\nhttps://example.com/pay"},
		}},
		{"crlf and blank lines", "Agent: a\r\n\r\nUser: b\r\n", []Turn{
			{Speaker: "agent", Text: "a"}, {Speaker: "caller", Text: "b"},
		}},
		{"empty turn dropped", "Agent:\nUser: b", []Turn{{Speaker: "caller", Text: "b"}}},
		{"array mixed", []any{
			map[string]any{"speaker": "Agent", "message": " hi ", "timestamp": "2026-11-24T10:00:00Z"},
			"User: a string element",
			map[string]any{"role": "user", "text": ""},
			map[string]any{"role": "user"},
			42,
		}, []Turn{
			{Speaker: "agent", Text: "hi", At: "2026-11-24T10:00:00Z"},
			{Speaker: "caller", Text: "a string element"},
		}},
		{"number", 42, nil},
	}
	for _, tt := range tests {
		if got := parseTranscript(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: parseTranscript = %#v, want %#v", tt.name, got, tt.want)
		}
	}
}

func TestTranscriptText(t *testing.T) {
	t.Parallel()
	turns := []Turn{
		{Speaker: "agent", Text: "Hi"},
		{Speaker: "caller", Text: "Hello"},
		{Speaker: "system", Text: "note"},
		{Text: "unlabelled"},
		{Speaker: "écoute", Text: "x"},
	}
	want := "Agent: Hi\nCaller: Hello\nSystem: note\nunlabelled\nÉcoute: x"
	if got := TranscriptText(turns); got != want {
		t.Errorf("TranscriptText = %q, want %q", got, want)
	}
	if got := TranscriptText(nil); got != "" {
		t.Errorf("TranscriptText(nil) = %q", got)
	}
}

func TestNormalStatusAndClass(t *testing.T) {
	for _, c := range []struct{ in, normal, class string }{
		{"completed", "completed", "ended"},
		{" Completed ", "completed", "ended"},
		{"COMPLETE", "completed", "ended"},
		{"hangup", "hangup", "ended"},
		{"Hung-Up", "hangup", "ended"},
		{"ended", "ended", "ended"},
		{"no answer", "no_answer", "ended"},
		{"failed", "failed", "ended"},
		{"Initiated", "initiated", "initiated"},
		{"in-progress", "in_progress", "in_progress"},
		{"  ", "", ""},
		{"Transferred", "transferred", "transferred"},
	} {
		if got := NormalStatus(c.in); got != c.normal {
			t.Errorf("NormalStatus(%q) = %q, want %q", c.in, got, c.normal)
		}
		if got := StatusClass(c.in); got != c.class {
			t.Errorf("StatusClass(%q) = %q, want %q", c.in, got, c.class)
		}
	}
}
