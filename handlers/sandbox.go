package handlers

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/email"
	"github.com/countersign/countersign/views"
)

// AdminSandbox lists the requests the sandboxed connectors sent, newest first, with
// credentials redacted. Only this process's requests are kept (in memory).
// ?case=N keeps the requests sent for case N (recorded with the case, or naming
// one of its actions' idempotency keys or "case N", a Gmail message once
// decoded); ?action=M one action's; ?connector=X one connector's.
func (a *App) AdminSandbox(w http.ResponseWriter, r *http.Request) {
	var names []string
	var reqs []views.SandboxRequest
	q := r.URL.Query()
	f := views.SandboxFilter{Case: strings.TrimSpace(q.Get("case")), Action: strings.TrimSpace(q.Get("action")),
		Connector: strings.TrimSpace(q.Get("connector"))}
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
	caseID, err := sandboxID(f.Case, "Case is a case number.")
	if err != nil {
		return nil, err
	}
	actionID, err := sandboxID(f.Action, "Action is an action number.")
	if err != nil {
		return nil, err
	}
	var keys []string
	var caseRe *regexp.Regexp
	if caseID != 0 || actionID != 0 {
		err = a.DB.Gorm.WithContext(r.Context()).Raw(`SELECT idempotency_key FROM actions WHERE (? = 0 OR case_id = ?) AND (? = 0 OR id = ?)`,
			caseID, caseID, actionID, actionID).Scan(&keys).Error
		if err != nil {
			return nil, err
		}
	}
	if caseID != 0 && actionID == 0 {
		caseRe = regexp.MustCompile(`(?i)\bcase #?` + strconv.FormatInt(caseID, 10) + `\b`)
	}
	return func(rr connector.RecordedRequest) bool {
		if f.Connector != "" && rr.Connector != f.Connector {
			return false
		}
		switch {
		case caseID == 0 && actionID == 0:
			return true
		case rr.Origin.CaseID != 0:
			return (caseID == 0 || rr.Origin.CaseID == caseID) && (actionID == 0 || rr.Origin.ActionID == actionID)
		}
		return namesCase(rr, keys, caseRe) // sent without an origin: what it names
	}, nil
}

// namesCase reports whether a request carries one of keys (an action's
// idempotency key) or matches caseRe, in its headers, URL or (decoded) body.
func namesCase(rr connector.RecordedRequest, keys []string, caseRe *regexp.Regexp) bool {
	body, _ := readableBody(rr)
	for _, k := range keys {
		if strings.Contains(body, k) || strings.Contains(rr.URL, k) {
			return true
		}
		for _, v := range rr.Header {
			if strings.Contains(v, k) {
				return true
			}
		}
	}
	return caseRe != nil && (caseRe.MatchString(body) || caseRe.MatchString(rr.URL))
}

func sandboxID(s, msg string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.Invalidf("%s", msg)
	}
	return id, nil
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
	out := views.SandboxRequest{At: rr.At.UTC().Format(timeFormat), Connector: rr.Connector,
		Method: rr.Method, URL: rr.URL, Headers: h.String(), Body: rr.Body}
	out.Body, out.Decoded = readableBody(rr)
	if rr.Origin.CaseID != 0 {
		out.Case = strconv.FormatInt(rr.Origin.CaseID, 10)
	}
	if rr.Origin.ActionID != 0 {
		out.Action = strconv.FormatInt(rr.Origin.ActionID, 10)
	}
	return out
}

// sandboxHref is the sandbox log of one action of a case: the requests it sent.
func sandboxHref(caseID string, actionID int64) string {
	return "/admin/sandbox?case=" + caseID + "&action=" + strconv.FormatInt(actionID, 10)
}

// readableBody is a request's body as people read it, and what was decoded ("" when
// shown as sent): a Gmail message decoded from its raw field, a form (Stripe,
// Slack) one field a line, URL-decoded. Decoded text is scrubbed again: the
// recorder scrubbed the encoded bytes, where a key or card number can hide.
func readableBody(rr connector.RecordedRequest) (string, string) {
	if d, ok := email.DescribeGmailSend(rr.Body); ok {
		return connector.Scrub(d), "the Gmail message, decoded from its raw field"
	}
	ct := ""
	for k, v := range rr.Header {
		if strings.EqualFold(k, "Content-Type") {
			ct = v
		}
	}
	if strings.HasPrefix(ct, "multipart/") {
		if d, ok := describeMultipart(ct, rr.Body); ok {
			return connector.Scrub(d), "the parts, files named by type and size"
		}
		return rr.Body, ""
	}
	if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return rr.Body, ""
	}
	form, err := url.ParseQuery(rr.Body)
	if err != nil {
		return rr.Body, ""
	}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range form[k] {
			b.WriteString(k + ": " + strings.ReplaceAll(v, "\n", "\n    ") + "\n")
		}
	}
	return connector.Scrub(strings.TrimRight(b.String(), "\n")), "the form's fields, URL-decoded"
}

// describeMultipart shows a multipart body (a Drive upload: its JSON metadata,
// then the file) with text parts as sent and every other part as its type and
// size: a PDF's bytes mean nothing on this page.
func describeMultipart(contentType, body string) (string, bool) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" {
		return "", false
	}
	mr := multipart.NewReader(strings.NewReader(body), params["boundary"])
	var b strings.Builder
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", false
		}
		data, err := io.ReadAll(io.LimitReader(part, 1<<20))
		if err != nil {
			return "", false
		}
		pct := part.Header.Get("Content-Type")
		b.WriteString("--- part: " + pct + "\n")
		if t, _, _ := mime.ParseMediaType(pct); strings.HasPrefix(t, "text/") || t == "application/json" || t == "" {
			b.Write(data)
			b.WriteString("\n")
		} else {
			b.WriteString("[" + pct + ", " + strconv.Itoa(len(data)) + " bytes]\n")
		}
	}
	return strings.TrimRight(b.String(), "\n"), b.Len() > 0
}
