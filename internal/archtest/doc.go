// Package archtest holds the tests that keep the architecture as STYLE.md draws it:
// internal/approval is the only writer of cases.status and actions.status (ingest
// inserting a new case is the documented exception, and it is an INSERT), and no
// package imports across the layering
//
//	cmd → web → handlers → views (leaf), internal/* → models (leaf)
//
// The checks read the source with go/parser; they have no code of their own.
package archtest
