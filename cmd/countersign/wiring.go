package main

import (
	"log/slog"
	"net/http"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/sandbox"
	"github.com/countersign/countersign/internal/wire"
	"github.com/countersign/countersign/web"
)

// server is one assembled console: the object graph (internal/wire) and the HTTP
// server that serves it.
type server struct {
	web   *web.Server
	graph *wire.Graph
}

// serverOptions are what serve, dev and the bench commands build a console from.
type serverOptions struct {
	cfg *config.Config
	db  *database.DB
	log *slog.Logger
	// sb is the connector fakes dev started; nil lets the graph start its own.
	sb      *sandbox.Sandbox
	extra   map[string]http.Handler
	opsOnly bool
}

// newServer builds the object graph and hands it to web. Close the graph when done.
func newServer(o serverOptions) (*server, error) {
	g, err := wire.Build(wire.Options{Config: o.cfg, DB: o.db, Log: o.log, Version: version, Sandbox: o.sb})
	if err != nil {
		return nil, err
	}
	srv, err := web.New(web.Deps{Config: o.cfg, DB: o.db, Log: o.log, Services: g, Extra: o.extra, OpsOnly: o.opsOnly})
	if err != nil {
		g.Close()
		return nil, err
	}
	return &server{web: srv, graph: g}, nil
}
