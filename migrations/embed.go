// Package migrations holds the numbered SQL files that own the whole schema, River's
// tables included. They are embedded in the binary and applied in order by goose.
package migrations

import "embed"

// FS holds every NNNNN_name.sql file of this folder.
//
//go:embed *.sql
var FS embed.FS
