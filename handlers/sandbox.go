package handlers

import (
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/views"
)

// AdminSandbox lists the requests the sandboxed connectors sent, newest first, with
// credentials redacted. Only this process's requests are kept (in memory).
// ?case=N keeps the requests of case N's actions (their idempotency keys, or the
// "case N" every connector's message names); ?connector=X one connector's.
func (a *App) AdminSandbox(w http.ResponseWriter, r *http.Request) {
	var names []string
	var reqs []views.SandboxRequest
	q := r.URL.Query()
	f := views.SandboxFilter{Case: strings.TrimSpace(q.Get("case")), Connector: strings.TrimSpace(q.Get("connector"))}
	match, err := a.sandboxMatcher(r, f)
	if err != nil {
		Fail(w, r, err)
		return
	}
	if a.Sandbox != nil {
		names = a.Sandbox.Names()
		recorded := a.Sandbox.Recorder.Requests()
		for i := len(recorded) - 1; i >= 0; i-- {
			if rr := recorded[i]; match(rr) {
				reqs = append(reqs, sandboxRequest(rr))
			}
		}
	}
	f.Connectors = optionsOf(names, func(s string) string { return s }, f.Connector)
	Render(w, r, http.StatusOK, views.AdminSandbox(a.Page(r, "Sandbox"), names, reqs, f))
}

// sandboxMatcher builds the filter of the sandbox log.
func (a *App) sandboxMatcher(r *http.Request, f views.SandboxFilter) (func(connector.RecordedRequest) bool, error) {
	var keys []string
	var caseRe *regexp.Regexp
	if f.Case != "" {
		id, err := strconv.ParseInt(f.Case, 10, 64)
		if err != nil || id <= 0 {
			return nil, apperr.Invalidf("Case is a case number.")
		}
		err = a.DB.Gorm.WithContext(r.Context()).Raw(`SELECT idempotency_key FROM actions WHERE case_id = ?`, id).Scan(&keys).Error
		if err != nil {
			return nil, err
		}
		caseRe = regexp.MustCompile(`(?i)\bcase #?` + strconv.FormatInt(id, 10) + `\b`)
	}
	return func(rr connector.RecordedRequest) bool {
		if f.Connector != "" && rr.Connector != f.Connector {
			return false
		}
		if caseRe == nil {
			return true
		}
		for _, v := range rr.Header {
			for _, k := range keys {
				if strings.Contains(v, k) {
					return true
				}
			}
		}
		for _, k := range keys {
			if strings.Contains(rr.Body, k) {
				return true
			}
		}
		return caseRe.MatchString(rr.Body) || caseRe.MatchString(rr.URL)
	}, nil
}

func sandboxRequest(rr connector.RecordedRequest) views.SandboxRequest {
	keys := make([]string, 0, len(rr.Header))
	for k := range rr.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var h strings.Builder
	for _, k := range keys {
		h.WriteString(k + ": " + rr.Header[k] + "\n")
	}
	return views.SandboxRequest{At: rr.At.UTC().Format(timeFormat), Connector: rr.Connector,
		Method: rr.Method, URL: rr.URL, Headers: h.String(), Body: rr.Body}
}
