// Package views holds the console's templ components and their view models. It never
// imports models, gorm or internal packages: a value that was never put into a view
// model (an unredacted transcript, a secret) cannot reach a page.
package views

import (
	"strconv"
	"strings"
)

func itoa(n int) string { return strconv.Itoa(n) }

func i64(n int64) string { return strconv.FormatInt(n, 10) }

// TimeView is an instant for a page: ISO is the datetime attribute app.js localises,
// UTC is the text shown without JS. The zero TimeView renders as "—".
type TimeView struct {
	ISO string
	UTC string
}

// OptionView is one choice of a select or checkbox group.
type OptionView struct {
	Value    string
	Label    string
	Selected bool
}

// LinkView is an external or internal link; an empty Href renders Label as text.
type LinkView struct {
	Label string
	Href  string
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// urgencyClass maps urgency 0..3 to a badge class; the label is always shown too.
func urgencyClass(u int) string {
	switch u {
	case 3:
		return "badge badge-crit"
	case 2:
		return "badge badge-high"
	case 0:
		return "badge badge-low"
	}
	return "badge"
}

// UrgencyLabel names an urgency level.
func UrgencyLabel(u int) string {
	switch u {
	case 0:
		return "Low"
	case 2:
		return "High"
	case 3:
		return "Critical"
	}
	return "Normal"
}

// Humanize turns a snake_case value into words: "document_resend" → "Document resend".
func Humanize(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
