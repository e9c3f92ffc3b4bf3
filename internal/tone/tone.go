// Package tone refuses notes that insult or threaten a customer. Collections notes
// are read by colleagues, auditors and, on request, by the customer and a
// regulator: they must stay factual. Check finds abusive and threatening wording
// by whole words and phrases (lower-cased), never by substrings, so
// "underlying" is not "lying" and "threshold" is not "threat".
package tone

import (
	"regexp"
	"sort"
	"strings"
)

// Category is a kind of wording a note may not use.
type Category string

// Categories.
const (
	Abusive     Category = "abusive"
	Threatening Category = "threatening"
)

// Finding is one refused word or phrase.
type Finding struct {
	Category Category
	Phrase   string
}

// phrases are the refused words and phrases, reviewed in one place. Legitimate
// collections language (overdue, past due, payment plan, escalate to collections,
// legal team) is not here; threats of arrest, jail, violence, exposure to family
// or employer, or harassment are (debt collection rules forbid them).
var phrases = map[Category][]string{
	Abusive: {
		"deadbeat", "idiot", "idiotic", "stupid", "moron", "dumb", "scum", "scumbag", "loser", "pathetic",
		"worthless", "liar", "lying", "cheat", "cheater", "crook", "thief", "leech", "parasite", "bastard",
		"bitch", "asshole", "fuck", "fucking", "shit", "crap", "jerk", "clown", "lowlife", "trash",
	},
	Threatening: {
		"threaten", "threaten him", "threaten her", "threaten them", "threatening", "intimidate", "scare him",
		"scare her", "scare them", "make him pay", "make her pay", "make them pay", "teach him a lesson",
		"teach her a lesson", "ruin him", "ruin her", "ruin them", "destroy him", "destroy her", "hurt him",
		"hurt her", "break his", "harass", "harass him", "hound him", "call his employer", "call her employer",
		"tell his family", "tell her family", "tell his boss", "tell her boss", "have him arrested",
		"have her arrested", "arrest", "jail", "prison", "you'll regret", "he'll regret", "she'll regret",
		"or else",
	},
}

var patterns = func() map[Category]*regexp.Regexp {
	out := map[Category]*regexp.Regexp{}
	for c, ps := range phrases {
		sorted := append([]string(nil), ps...)
		sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
		quoted := make([]string, len(sorted))
		for i, p := range sorted {
			quoted[i] = regexp.QuoteMeta(p)
		}
		out[c] = regexp.MustCompile(`(?i)\b(?:` + strings.Join(quoted, "|") + `)\b`)
	}
	return out
}()

// Check returns the refused wording in text, each phrase once, abusive first.
func Check(text string) []Finding {
	var out []Finding
	norm := strings.ReplaceAll(text, "’", "'")
	for _, c := range []Category{Abusive, Threatening} {
		seen := map[string]bool{}
		for _, m := range patterns[c].FindAllString(norm, -1) {
			m = strings.ToLower(m)
			if !seen[m] {
				seen[m] = true
				out = append(out, Finding{Category: c, Phrase: m})
			}
		}
	}
	return out
}

// Describe says what was found: `abusive wording ("deadbeat", "lying") and
// threatening wording ("threaten him")`.
func Describe(fs []Finding) string {
	by := map[Category][]string{}
	for _, f := range fs {
		by[f.Category] = append(by[f.Category], `"`+f.Phrase+`"`)
	}
	var parts []string
	for _, c := range []Category{Abusive, Threatening} {
		if len(by[c]) > 0 {
			parts = append(parts, string(c)+" wording ("+strings.Join(by[c], ", ")+")")
		}
	}
	return strings.Join(parts, " and ")
}
