// Package views holds the console's templ components and their view models. It never
// imports models, gorm or internal packages: a value that was never put into a view
// model (an unredacted transcript, a secret) cannot reach a page.
package views

import "strconv"

func itoa(n int) string { return strconv.Itoa(n) }
