// Package archtest holds the tests that keep the architecture as STYLE.md draws it:
// internal/approval is the only writer of cases.status and actions.status (ingest
// inserting a new case is the documented exception, and it is an INSERT), and no
// package imports across the layering
//
//	cmd → web → handlers → views (leaf), internal/* → models (leaf)
//
// Two refinements: web must not import internal/jobs, internal/connector,
// internal/sandbox or internal/enrich (cmd assembles them with internal/wire and web
// receives the result), and internal/wire, the composition root, is the one internal
// package allowed to import handlers.
//
// The checks read the source with go/parser; they have no code of their own.
package archtest
