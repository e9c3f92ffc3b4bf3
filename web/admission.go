package web

import (
	"net"
	"net/http"
	"sync"

	"github.com/countersign/countersign/handlers"
	"github.com/countersign/countersign/internal/ingest"
)

// DefaultWebhookInflight is the default bound on webhook deliveries in flight: what
// the batcher's flushes hold at once (ingest.BatchCapacity), so that an admitted
// delivery waits at most about one round of flushes. Twice that was measured worse
// on the 2-core bench machine under 3x overload: admitted deliveries queued for
// seconds, some reached their 5 s deadline and were withdrawn after their body had
// been read, verified and redacted, and the acknowledged rate fell to half of what
// the same process took at 1x. Each held delivery costs about 45 kB (body, decoded
// event, buffers).
const DefaultWebhookInflight = ingest.BatchCapacity

// admit bounds webhook deliveries in flight. Beyond the bound a delivery is answered
// at once, before its body is read, with 503 and Retry-After, and counted: nothing
// was stored, so a retry is safe.
func admit(limit int, source string, next http.Handler) http.Handler {
	slots := make(chan struct{}, limit)
	overloaded := handlers.WebhookDeliveries.WithLabelValues(source, "overloaded")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
		default:
			overloaded.Inc()
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"overloaded: not stored, please retry"}` + "\n"))
			return
		}
		defer func() { <-slots }()
		next.ServeHTTP(w, r)
	})
}

// limitListener bounds open connections: Accept waits while limit are open, so
// further clients queue in the kernel rather than in this process's memory.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func limitConnections(ln net.Listener, limit int) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, limit), closed: make(chan struct{})}
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
