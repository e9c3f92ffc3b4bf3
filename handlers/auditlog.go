package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/reqlog"
	"github.com/countersign/countersign/internal/textsafe"
	"github.com/countersign/countersign/views"
)

// auditFilter reads the audit page's filters from the query string.
func auditFilter(q url.Values) (audit.Filter, error) {
	f := audit.Filter{Actor: textsafe.Clean(strings.TrimSpace(q.Get("actor"))), Action: textsafe.Clean(strings.TrimSpace(q.Get("action")))}
	if c := strings.TrimSpace(q.Get("case")); c != "" {
		if _, err := strconv.ParseInt(c, 10, 64); err != nil {
			return f, &apperr.Error{Msg: "Case is a case number.", Kind: apperr.ErrValidation}
		}
		f.ObjectType, f.ObjectID = "case", c
	}
	for _, d := range []struct {
		name string
		dst  **time.Time
		end  bool
	}{{"from", &f.From, false}, {"to", &f.To, true}} {
		s := strings.TrimSpace(q.Get(d.name))
		if s == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return f, &apperr.Error{Msg: fmt.Sprintf("%s is a date like 2026-11-20.", d.name), Kind: apperr.ErrValidation}
		}
		if d.end {
			t = t.AddDate(0, 0, 1) // the "to" day is included
		}
		*d.dst = &t
	}
	if b := q.Get("before"); b != "" {
		f.BeforeID, _ = strconv.ParseInt(b, 10, 64)
	}
	return f, nil
}

// AuditLog lists audit entries, newest first, 50 a page: GET /audit.
func (a *App) AuditLog(w http.ResponseWriter, r *http.Request) {
	a.renderAuditLog(w, r, a.Page(r, "Audit log"))
}

func (a *App) renderAuditLog(w http.ResponseWriter, r *http.Request, pg views.Page) {
	q := r.URL.Query()
	f, err := auditFilter(q)
	if err != nil {
		Fail(w, r, err)
		return
	}
	f.Limit = 50
	recs, err := audit.List(r.Context(), a.DB.Gorm, f)
	if err != nil {
		Fail(w, r, err)
		return
	}
	keep := url.Values{}
	for _, k := range []string{"actor", "case", "action", "from", "to"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	v := views.AuditLogView{Actor: q.Get("actor"), Case: q.Get("case"), Action: q.Get("action"), From: q.Get("from"), To: q.Get("to"),
		ExportQuery: keep.Encode(), VerifyReturn: r.URL.RequestURI()}
	if f.ObjectType == "case" {
		v.BundleHref = "/cases/" + f.ObjectID + "/evidence.jsonl"
	}
	for _, rec := range recs {
		v.Rows = append(v.Rows, auditRow(rec))
	}
	if len(recs) == f.Limit {
		next := url.Values{}
		for k, vs := range keep {
			next[k] = vs
		}
		next.Set("before", strconv.FormatInt(recs[len(recs)-1].ID, 10))
		v.NextHref = "/audit?" + next.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	Render(w, r, http.StatusOK, views.AuditLogPage(pg, v))
}

// AuditVerify runs the chain verifier `countersign audit verify` runs and shows its
// report above the audit page the button was on: POST /audit/verify.
func (a *App) AuditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := audit.Verify(r.Context(), a.DB.Gorm, nil)
	if err != nil {
		Fail(w, r, err)
		return
	}
	if err := a.auditRead(r, "audit.verified", "audit", "", map[string]any{"ok": rep.OK(), "entries": rep.Entries,
		"problems": len(rep.Problems)}); err != nil {
		Fail(w, r, err)
		return
	}
	ret := r.PostFormValue("return")
	if !strings.HasPrefix(ret, "/audit") || strings.HasPrefix(ret, "/audit/") {
		ret = "/audit"
	}
	u, _ := url.Parse(ret)
	r.URL.RawQuery = u.Query().Encode()
	pg := a.Page(r, "Audit log")
	pg.Flash, pg.FlashKind = rep.Text("audit chain"), "ok"
	if !rep.OK() {
		pg.FlashKind = "error"
	}
	a.renderAuditLog(w, r, pg)
}

func auditRow(rec audit.Record) views.AuditRowView {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(rec.Summary)
	seq := "unsealed"
	if rec.Seq > 0 {
		seq = strconv.FormatInt(rec.Seq, 10)
	}
	actor := rec.Actor
	if i := strings.IndexByte(actor, ' '); i > 0 && strings.HasPrefix(actor, "user:") {
		actor = actor[i+1:]
	}
	row := views.AuditRowView{ID: strconv.FormatInt(rec.ID, 10), Seq: seq, At: timeView(rec.At), Actor: rec.Actor, Action: rec.Action,
		Object: strings.Trim(rec.ObjectType+" "+rec.ObjectID, " "), Outcome: rec.Outcome,
		Summary: strings.TrimSpace(buf.String()), RequestID: rec.RequestID,
		Text: actor + " " + auditVerb(rec.Action), Detail: auditDetail(rec.Summary)}
	if rec.ObjectType == "case" {
		row.ObjectHref = "/cases/" + rec.ObjectID
	}
	return row
}

// AuditExport streams the matching entries as JSON lines or CSV: GET
// /audit/export?format=jsonl|csv. The export itself is audited first, so it shows
// in what it exports.
func (a *App) AuditExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "jsonl" && format != "csv" {
		Fail(w, r, &apperr.Error{Msg: "format is jsonl or csv.", Kind: apperr.ErrValidation})
		return
	}
	f, err := auditFilter(q)
	if err != nil {
		Fail(w, r, err)
		return
	}
	f.BeforeID = 0
	if err := a.auditRead(r, "audit.exported", "audit", "", map[string]any{"format": format, "filter": q.Encode()}); err != nil {
		Fail(w, r, err)
		return
	}
	ctype := map[string]string{"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}[format]
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="countersign-audit.`+format+`"`)
	w.Header().Set("Cache-Control", "no-store")
	if format == "jsonl" {
		err = audit.ExportBundle(r.Context(), a.DB.Gorm, w, f, q.Encode())
	} else {
		err = audit.Export(r.Context(), a.DB.Gorm, w, f, format)
	}
	if errors.Is(err, audit.ErrNotFound) {
		w.Header().Del("Content-Disposition")
		Fail(w, r, apperr.NotFoundf("No sealed audit entries match this filter."))
		return
	}
	if err != nil {
		// Headers are gone; the truncated body fails verification, and the log says why.
		a.Log.Error("audit export", "err", err)
	}
}

// EvidenceBundle writes the per-case evidence bundle, verifiable offline with
// `countersign audit verify --bundle FILE`: GET /cases/{id}/evidence.jsonl.
func (a *App) EvidenceBundle(w http.ResponseWriter, r *http.Request) {
	id, sid, err := decisionCaseID(r)
	if err != nil {
		Fail(w, r, err)
		return
	}
	var exists bool
	if err := a.DB.Gorm.WithContext(r.Context()).Raw("SELECT EXISTS (SELECT 1 FROM cases WHERE id = ?)", id).Scan(&exists).Error; err != nil {
		Fail(w, r, err)
		return
	}
	if !exists {
		Fail(w, r, &apperr.Error{Msg: "No such case.", Kind: apperr.ErrNotFound})
		return
	}
	if err := a.auditRead(r, "audit.bundle_exported", "case", sid, map[string]any{}); err != nil {
		Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="case-`+sid+`-evidence.jsonl"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := audit.Bundle(r.Context(), a.DB.Gorm, w, "case", sid); err != nil && !errors.Is(err, audit.ErrNotFound) {
		a.Log.Error("evidence bundle", "err", err)
	}
}

// auditRead records that the principal read the audit trail, in its own
// transaction, then seals what is committed, so that the export or bundle that
// follows (sealed entries only) includes everything up to and including this read.
func (a *App) auditRead(r *http.Request, action, objType, objID string, summary map[string]any) error {
	e := principalEntry(r)
	e.Action, e.ObjectType, e.ObjectID, e.Summary = action, objType, objID, summary
	err := a.DB.Gorm.WithContext(r.Context()).Transaction(func(tx *gorm.DB) error {
		_, err := audit.Append(r.Context(), tx, e)
		return err
	})
	if err != nil {
		return err
	}
	if _, err := audit.Seal(r.Context(), a.DB.Gorm); err != nil {
		// The background sealer catches up; the export holds what is sealed.
		reqlog.Logger(r.Context()).Warn("audit seal before export", "err", err)
	}
	return nil
}
