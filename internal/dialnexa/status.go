package dialnexa

import "strings"

// statusSynonyms maps spellings seen across DialNexa's page generations to one name.
var statusSynonyms = map[string]string{
	"complete":   "completed",
	"hung_up":    "hangup",
	"hang_up":    "hangup",
	"noanswer":   "no_answer",
	"cancelled":  "canceled",
	"inprogress": "in_progress",
}

// nonTerminal are the statuses of a call still under way (the migrations'
// call_status_rank below 4); every other status ends the call.
var nonTerminal = map[string]bool{"": true, "initiated": true, "ringing": true, "in_progress": true,
	"ongoing": true, "transferred": true}

// NormalStatus is a call status as Countersign stores it: trimmed, lower-cased,
// spaces and hyphens as underscores, known synonyms folded ("Completed" and
// " completed" are "completed"; "hung-up" is "hangup").
func NormalStatus(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '-' || r == '_' || r == '\t' }), "_")
	if v, ok := statusSynonyms[s]; ok {
		return v
	}
	return s
}

// StatusClass is what deduplication compares: a call's every terminal status
// (completed, hangup, ended, failed, no_answer, ...) is one class, "ended", since a
// call ends once; other statuses are their normal form.
func StatusClass(s string) string {
	s = NormalStatus(s)
	if nonTerminal[s] {
		return s
	}
	return "ended"
}
