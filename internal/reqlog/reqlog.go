// Package reqlog carries the request-scoped logger (with request id and user id
// attached) and request facts that audit entries record.
package reqlog

import (
	"context"
	"log/slog"
)

type ctxKey struct{}

// Info is what the web layer learns about a request before any handler runs.
type Info struct {
	RequestID string
	IP        string
	UserAgent string
	Logger    *slog.Logger
}

// With returns ctx carrying info.
func With(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, ctxKey{}, info)
}

// From returns the request's info; outside a request it returns a zero Info with the
// default logger.
func From(ctx context.Context) *Info {
	if i, ok := ctx.Value(ctxKey{}).(*Info); ok && i != nil {
		return i
	}
	return &Info{Logger: slog.Default()}
}

// Logger is From(ctx).Logger.
func Logger(ctx context.Context) *slog.Logger { return From(ctx).Logger }
