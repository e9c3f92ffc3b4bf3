package handlers

import (
	"net/http"
	"sort"
	"strings"

	"github.com/countersign/countersign/views"
)

// AdminSandbox lists the requests the sandboxed connectors sent, newest first, with
// credentials redacted. Only this process's requests are kept (in memory).
func (a *App) AdminSandbox(w http.ResponseWriter, r *http.Request) {
	var names []string
	var reqs []views.SandboxRequest
	if a.Sandbox != nil {
		names = a.Sandbox.Names()
		recorded := a.Sandbox.Recorder.Requests()
		for i := len(recorded) - 1; i >= 0; i-- {
			rr := recorded[i]
			keys := make([]string, 0, len(rr.Header))
			for k := range rr.Header {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var h strings.Builder
			for _, k := range keys {
				h.WriteString(k + ": " + rr.Header[k] + "\n")
			}
			reqs = append(reqs, views.SandboxRequest{At: rr.At.UTC().Format(timeFormat), Connector: rr.Connector,
				Method: rr.Method, URL: rr.URL, Headers: h.String(), Body: rr.Body})
		}
	}
	Render(w, r, http.StatusOK, views.AdminSandbox(a.Page(r, "Sandbox"), names, reqs))
}
