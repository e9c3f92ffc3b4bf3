// Package static holds the console's CSS, vendored JavaScript and icons, embedded in
// the binary and served under /static/ with long-lived caching.
package static

import "embed"

// FS is the static files.
//
//go:embed *.css *.js
var FS embed.FS
