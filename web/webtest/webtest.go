// Package webtest starts a console for tests outside package web: the object graph
// from internal/wire, served by web.New, torn down when the test ends.
package webtest

import (
	"testing"

	"github.com/countersign/countersign/internal/wire"
	"github.com/countersign/countersign/web"
)

// New builds the graph from d's Config, DB and Log, hands it to web.New as
// d.Services, and closes the graph (its sandbox fakes) when t ends.
func New(t testing.TB, d web.Deps) *web.Server {
	t.Helper()
	g, err := wire.Build(wire.Options{Config: d.Config, DB: d.DB, Log: d.Log, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	d.Services = g
	srv, err := web.New(d)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}
