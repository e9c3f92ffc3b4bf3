package main

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/countersign/countersign/internal/config"
)

// startPprof serves Go's profiler on COUNTERSIGN_PPROF_ADDR when set — loopback only,
// never on the console's own listener — for diagnosing a slow or busy process.
func startPprof(log *slog.Logger) {
	addr := os.Getenv("COUNTERSIGN_PPROF_ADDR")
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !config.IsLoopback(host) {
		log.Warn("COUNTERSIGN_PPROF_ADDR ignored: it must be a loopback host:port", "value", addr)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil {
			log.Warn("pprof listener stopped", "err", err)
		}
	}()
	log.Info("profiler listening", "addr", addr)
}
