package redact

// Numbers as speech-to-text writes them: "four two", "oh", "double five",
// "forty-two", "twelve", "four hundred twenty", "forty-two hundred", with
// fillers ("uh", "um") and full stops between groups.

// spokenAt recognises the letter run s[i:j], and the words that complete it,
// as a spoken number of one to four digits. Words glued to digits or '_' are
// not spoken numbers.
func spokenAt(s string, i, j int) (unit, bool) {
	if (i > 0 && isWordByte(s[i-1])) || (j < len(s) && (isDigit(s[j]) || s[j] == '_')) {
		return unit{}, false
	}
	w := s[i:j]
	u := unit{start: i, end: j, word: true}
	if d, ok := digitWord(w); ok {
		u.push(d)
		if k, e, ok := nextWord(s, j); ok && equalFold(s[k:e], "hundred") && !equalFold(w, "oh") && d != '0' {
			return hundred(s, u, e), true
		}
		return u, true
	}
	if rep := repeatWord(w); rep > 0 {
		k, e, ok := nextWord(s, j)
		if !ok {
			return unit{}, false
		}
		d, ok := digitWord(s[k:e])
		if !ok {
			return unit{}, false
		}
		for range rep {
			u.push(d)
		}
		u.end = e
		return u, true
	}
	if v, ok := teenWord(w); ok {
		u.push('1')
		u.push(v)
	} else if t, ok := tensWord(w); ok {
		u.push(t)
		if k, e, ok := nextWord(s, j); ok {
			if d, ok := digitWord(s[k:e]); ok && d != '0' {
				u.push(d)
				u.end = e
			}
		}
		if u.n == 1 {
			u.push('0')
		}
	} else {
		return unit{}, false
	}
	if k, e, ok := nextWord(s, u.end); ok && equalFold(s[k:e], "hundred") {
		u.push('0')
		u.push('0')
		u.end = e
	}
	return u, true
}

func (u *unit) push(d byte) {
	u.dd[u.n] = d
	u.n++
}

// hundred completes "<digit> hundred [and] [tens|teens|digit]" (u holds the
// digit, e is the end of "hundred") as three digits.
func hundred(s string, u unit, e int) unit {
	u.end = e
	k, we, ok := nextWord(s, e)
	if ok && equalFold(s[k:we], "and") {
		if k2, e2, ok2 := nextWord(s, we); ok2 {
			k, we = k2, e2
		} else {
			ok = false
		}
	}
	if ok {
		w := s[k:we]
		if v, isTeen := teenWord(w); isTeen {
			u.push('1')
			u.push(v)
			u.end = we
			return u
		}
		if t, isTens := tensWord(w); isTens {
			u.push(t)
			u.end = we
			if k2, e2, ok2 := nextWord(s, we); ok2 {
				if d, isDigit := digitWord(s[k2:e2]); isDigit && d != '0' {
					u.push(d)
					u.end = e2
					return u
				}
			}
			u.push('0')
			return u
		}
		if d, isDigit := digitWord(w); isDigit && d != '0' {
			u.push('0')
			u.push(d)
			u.end = we
			return u
		}
	}
	u.push('0')
	u.push('0')
	return u
}

// nextWord returns the letter run after one or two spaces or dashes at j,
// when it ends at a word boundary.
func nextWord(s string, j int) (int, int, bool) {
	k := j
	for k < len(s) && k-j < 2 && (s[k] == ' ' || s[k] == '-') {
		k++
	}
	if k == j || k >= len(s) || !isAlpha(s[k]) {
		return 0, 0, false
	}
	e := k
	for e < len(s) && isAlpha(s[e]) {
		e++
	}
	if e < len(s) && (isDigit(s[e]) || s[e] == '_') {
		return 0, 0, false
	}
	return k, e, true
}

func repeatWord(w string) int {
	switch {
	case equalFold(w, "double"):
		return 2
	case equalFold(w, "triple"):
		return 3
	}
	return 0
}

var teens = [...]string{"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}

func teenWord(w string) (byte, bool) {
	if len(w) < 3 || len(w) > 9 {
		return 0, false
	}
	for k, t := range teens {
		if equalFold(w, t) {
			return byte('0' + k), true
		}
	}
	return 0, false
}

var tens = [...]string{"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}

func tensWord(w string) (byte, bool) {
	if len(w) < 5 || len(w) > 7 {
		return 0, false
	}
	for k, t := range tens {
		if equalFold(w, t) {
			return byte('2' + k), true
		}
	}
	if equalFold(w, "fourty") {
		return '4', true
	}
	return 0, false
}

// fillers are words speech-to-text leaves between digit groups.
var fillers = [...]string{"uh", "um", "uhm", "umm", "er", "erm", "ah", "eh", "hmm", "mm", "mhm", "uhh", "huh"}

// sepWords are separators read aloud.
var sepWords = [...]string{"dash", "hyphen", "slash", "dot", "space"}

func fillerWord(w string) bool {
	if len(w) > 6 {
		return false
	}
	for _, f := range fillers {
		if equalFold(w, f) {
			return true
		}
	}
	for _, f := range sepWords {
		if equalFold(w, f) {
			return true
		}
	}
	return false
}

// joins reports whether b continues the number that a belongs to.
//
// For cards (card true) groups join across a short gap of separators — space,
// tab, line break, dash, dot, slash, underscore, comma — and up to two filler
// or separator words ("uh", "dash"): a card read in groups, split across
// lines or turns, or broken by hesitation stays one number.
//
// For context values the rule is tighter, so that "cvv 123. Expiry 1228" and
// "12345678, 021000021" stay two numbers: written groups join across exactly
// one space, dash, dot or slash (or " - ", or a spoken "dash"); spoken digits
// also across commas, full stops and fillers.
func joins(s string, a, b unit, card bool) bool {
	gap := s[a.end:b.start]
	if len(gap) == 0 || len(gap) > 24 {
		return false
	}
	spoken := a.word || b.word
	if !card && !spoken {
		switch gap {
		case " ", "-", ".", "/", " - ":
			return true
		}
	}
	seps, words, lines := 0, 0, 0
	for i := 0; i < len(gap); {
		c := gap[i]
		switch {
		case isAlpha(c):
			e := i
			for e < len(gap) && (isAlpha(gap[e]) || gap[e] == '-' && e+1 < len(gap) && isAlpha(gap[e+1])) {
				e++
			}
			w := gap[i:e]
			if card && lines > 0 && e < len(gap) && gap[e] == ':' && speakerWord(w) {
				i = e + 1 // "…4242\nUser: 4242…": a transcript's next turn
				continue
			}
			if !fillerWord(w) && !equalFold(w, "uh-huh") {
				return false
			}
			if !card && !spoken && !sepWordOnly(w) {
				return false
			}
			words++
			i = e
			continue
		case c == '\n' || c == '\r':
			lines++
			if !card {
				return false
			}
		case c == ' ' || c == '\t' || c == '-':
		case c == '.' || c == ',' || c == '/' || c == '_':
			if !card && !spoken && c != '.' {
				return false
			}
			seps++
		default:
			return false
		}
		i++
	}
	return words <= 2 && seps <= 2 && lines <= 2
}

func sepWordOnly(w string) bool {
	return equalFold(w, "dash") || equalFold(w, "hyphen")
}

// speakerWords label the turns of a flat transcript ("Agent: …\nUser: …").
var speakerWords = [...]string{"user", "agent", "caller", "customer", "assistant", "bot", "ai", "human", "speaker", "client", "rep"}

func speakerWord(w string) bool {
	for _, x := range speakerWords {
		if equalFold(w, x) {
			return true
		}
	}
	return false
}
