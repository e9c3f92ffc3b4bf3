package dialnexa

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Turn is one utterance of a transcript.
type Turn struct {
	// Speaker is "agent", "caller", or another role lower-cased ("system");
	// empty when a line had no speaker label.
	Speaker string
	Text    string
	// At is the turn's time or timestamp exactly as sent (a JSON number's
	// text or a string), empty when absent. DialNexa does not say whether it
	// is an offset from the start of the call or a wall-clock time, so it is
	// kept verbatim rather than guessed into a time.Duration.
	At string
}

// speaker maps the labels and roles DialNexa and LLM-style transcripts use
// onto Countersign's two parties; any other role is kept lower-cased.
func speaker(label string) string {
	l := strings.ToLower(strings.TrimSpace(label))
	switch l {
	case "agent", "assistant", "bot", "ai":
		return "agent"
	case "user", "caller", "customer", "human":
		return "caller"
	}
	return l
}

// parseTranscript accepts one "Agent: ...\nUser: ..." string or an array of
// {role|speaker, text|message|content, time|timestamp} objects (or strings).
// Turns without text are dropped.
func parseTranscript(v any) []Turn {
	var turns []Turn
	switch t := v.(type) {
	case string:
		turns = parseTranscriptLines(nil, t)
	case []any:
		for _, e := range t {
			switch e := e.(type) {
			case string:
				turns = parseTranscriptLines(turns, e)
			case map[string]any:
				turns = append(turns, Turn{
					Speaker: speaker(firstString(e, "role", "speaker")),
					Text:    firstString(e, "text", "message", "content"),
					At:      firstString(e, "time", "timestamp"),
				})
			}
		}
	}
	return dropEmpty(turns)
}

// parseTranscriptLines appends the turns of a "Label: text" line transcript.
// A line without a label continues the previous turn.
func parseTranscriptLines(turns []Turn, s string) []Turn {
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		label, text, ok := strings.Cut(line, ":")
		switch {
		case ok && isLabel(label) && !strings.HasPrefix(text, "//"):
			turns = append(turns, Turn{Speaker: speaker(label), Text: strings.TrimSpace(text)})
		case len(turns) > 0:
			last := &turns[len(turns)-1]
			last.Text = strings.TrimSpace(last.Text + "\n" + line)
		default:
			turns = append(turns, Turn{Text: line})
		}
	}
	return turns
}

// isLabel reports whether s looks like a speaker label: one word of letters,
// digits, "_" or "-", starting with a letter. "Note that: ..." is not one.
func isLabel(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, c := range s {
		if !unicode.IsLetter(c) && (i == 0 || !unicode.IsDigit(c) && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

func dropEmpty(turns []Turn) []Turn {
	out := turns[:0]
	for _, t := range turns {
		if t.Text != "" {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// TranscriptText renders turns as "Agent: ...\nCaller: ..." lines, one per
// turn; other speakers are capitalised ("System: ..."), and a turn without a
// speaker is its text alone. The result is an unredacted transcript.
func TranscriptText(turns []Turn) string {
	var b strings.Builder
	for i, t := range turns {
		if i > 0 {
			b.WriteByte('\n')
		}
		if t.Speaker != "" {
			r, n := utf8.DecodeRuneInString(t.Speaker)
			b.WriteString(string(unicode.ToUpper(r)) + t.Speaker[n:] + ": ")
		}
		b.WriteString(t.Text)
	}
	return b.String()
}
