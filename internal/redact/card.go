package redact

const (
	minPAN = 13
	maxPAN = 19
)

// cardsInSeq appends a span for every card number in one number sequence
// (units joined per joins). Within it, a window of whole units holding
// 13–19 digits that pass Luhn is a card when it is one of:
//
//   - a maximal run of written digit groups joined by one separator byte
//     (the invariant's own definition: see tight);
//   - grouped like a card inside a longer run: one group, 4-4-4-…, 4-6-5, 4-6-4;
//   - a window containing at least one spoken digit.
//
// The longest such window at the leftmost start wins; scanning resumes after it.
func cardsInSeq(s string, seq []unit, spans []span) []span {
	total := 0
	for _, u := range seq {
		total += u.n
	}
	if total < minPAN {
		return spans
	}
	for i := 0; i < len(seq); {
		j, last4 := cardWindow(s, seq, i)
		if j == 0 {
			i++
			continue
		}
		spans = append(spans, span{start: seq[i].start, end: seq[j-1].end, kind: Card, last4: last4})
		i = j
	}
	return spans
}

// cardWindow returns the end (exclusive unit index) of the longest card window
// starting at unit i, or 0. Shape and Luhn are tracked incrementally, so a
// start costs O(units in 19 digits).
func cardWindow(s string, seq []unit, i int) (int, [4]byte) {
	var digits [maxPAN]byte
	var last4 [4]byte
	// sums[p] is the Luhn sum when the digits at positions of parity p (from
	// the left) are the doubled ones.
	var sums [2]int
	n, best := 0, 0
	hasWord, allFour := false, true // allFour: every unit before j has 4 digits
	maximalStart := i == 0 || !tight(s, seq[i-1], seq[i])
	for j := i; j < len(seq); j++ {
		u := seq[j]
		if n+u.n > maxPAN {
			break
		}
		for k := 0; k < u.n; k++ {
			c := u.digitAt(s, k)
			digits[n] = c
			v := int(c - '0')
			dv := 2 * v
			if dv > 9 {
				dv -= 9
			}
			sums[n&1] += dv
			sums[(n+1)&1] += v
			n++
		}
		hasWord = hasWord || u.word
		shaped := hasWord ||
			j == i || // one written group
			maximalStart && (j+1 == len(seq) || !tight(s, u, seq[j+1])) || // a maximal written run
			allFour && u.n <= 4 || // 4-4-4-…
			j == i+2 && seq[i].n == 4 && seq[i+1].n == 6 && (u.n == 5 || u.n == 4) // 4-6-5, 4-6-4
		allFour = allFour && u.n == 4
		// The rightmost digit, at position n-1, is never doubled.
		if n >= minPAN && shaped && sums[n&1]%10 == 0 {
			best = j + 1
			copy(last4[:], digits[n-4:n])
		}
	}
	return best, last4
}

// luhn reports whether the ASCII digits pass the Luhn (mod 10) check.
func luhn(d []byte) bool {
	sum := 0
	double := false
	for k := len(d) - 1; k >= 0; k-- {
		v := int(d[k] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// tight reports two written digit groups joined by exactly one space, dash,
// dot, slash or underscore: the separators of the invariant's runs.
func tight(s string, a, b unit) bool {
	if a.word || b.word || b.start-a.end != 1 {
		return false
	}
	switch s[a.end] {
	case ' ', '-', '.', '/', '_':
		return true
	}
	return false
}
