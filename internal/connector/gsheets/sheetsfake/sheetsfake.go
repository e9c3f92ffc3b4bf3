// Package sheetsfake is a stateful stand-in for the Sheets v4 values.get and
// values.append calls Countersign makes. Unlike the real API it rejects any
// valueInputOption other than RAW, so a test cannot pass while formulas would
// be evaluated. It counts appended rows.
package sheetsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/countersign/countersign/internal/connector/connectorfake"
	"github.com/countersign/countersign/internal/connector/gauth"
	"github.com/countersign/countersign/internal/connector/gauth/gauthfake"
)

// Fake holds spreadsheets of string cells. Mount Handler() and use the server
// URL as the client's base URL.
type Fake struct {
	auth *gauthfake.Server
	connectorfake.Faults

	mu      sync.Mutex
	sheets  map[string]*spreadsheet
	appends int
}

type spreadsheet struct {
	titles []string // in order; the first is the default sheet
	rows   map[string][][]string
}

// New returns a fake accepting the access tokens auth issued (scope spreadsheets
// or drive).
func New(auth *gauthfake.Server) *Fake {
	return &Fake{auth: auth, sheets: map[string]*spreadsheet{}}
}

// AddSpreadsheet creates spreadsheet id with the given sheet titles.
func (f *Fake) AddSpreadsheet(id string, titles ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &spreadsheet{titles: titles, rows: map[string][][]string{}}
	f.sheets[id] = s
}

// Rows returns a copy of a sheet's rows.
func (f *Fake) Rows(spreadsheetID, title string) [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sheets[spreadsheetID]
	if !ok {
		return nil
	}
	out := make([][]string, len(s.rows[title]))
	for i, r := range s.rows[title] {
		out[i] = append([]string(nil), r...)
	}
	return out
}

// Appends counts rows appended.
func (f *Fake) Appends() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.appends
}

// Handler serves /v4/spreadsheets/{id}/values/{range} (GET) and
// /v4/spreadsheets/{id}/values/{range}:append (POST).
func (f *Fake) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/v4/spreadsheets/")
		idEsc, rngEsc, ok2 := strings.Cut(rest, "/values/")
		id, err1 := url.PathUnescape(idEsc)
		rng, err2 := url.PathUnescape(rngEsc)
		if !ok || !ok2 || err1 != nil || err2 != nil {
			http.NotFound(w, r)
			return
		}
		if !f.Before(w, r, fail) || !f.authorized(w, r) {
			return
		}
		switch rng, isAppend := strings.CutSuffix(rng, ":append"); {
		case isAppend && r.Method == http.MethodPost:
			f.append(w, r, id, rng)
		case !isAppend && r.Method == http.MethodGet:
			f.get(w, id, rng)
		case !isAppend && r.Method == http.MethodPut:
			f.update(w, r, id, rng)
		default:
			googleError(w, http.StatusNotFound, "Method not found.", "NOT_FOUND")
		}
	})
}

func (f *Fake) get(w http.ResponseWriter, id, rng string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, title, g, ok := f.resolve(w, id, rng)
	if !ok {
		return
	}
	rows := s.rows[title]
	var values [][]string
	last := g.r1
	for i := g.r1; i <= min(g.r2, len(rows)); i++ {
		row := rows[i-1]
		var out []string
		for c := g.c1; c <= g.c2 && c < len(row); c++ {
			out = append(out, row[c])
		}
		for len(out) > 0 && out[len(out)-1] == "" {
			out = out[:len(out)-1]
		}
		values = append(values, out)
		if len(out) > 0 {
			last = i
		}
	}
	if len(values) > last-g.r1+1 {
		values = values[:last-g.r1+1]
	}
	resp := map[string]any{"range": a1(title, g.c1, g.r1, g.c2, last), "majorDimension": "ROWS"}
	if len(values) > 0 && !(len(values) == 1 && len(values[0]) == 0) {
		resp["values"] = values
	}
	writeJSON(w, http.StatusOK, resp)
}

func (f *Fake) append(w http.ResponseWriter, r *http.Request, id, rng string) {
	q := r.URL.Query()
	if v := q.Get("valueInputOption"); v != "RAW" {
		googleError(w, http.StatusBadRequest, fmt.Sprintf("sheetsfake: valueInputOption must be RAW, got %q", v), "INVALID_ARGUMENT")
		return
	}
	if v := q.Get("insertDataOption"); v != "" && v != "INSERT_ROWS" && v != "OVERWRITE" {
		googleError(w, http.StatusBadRequest, "Invalid value at 'insert_data_option'", "INVALID_ARGUMENT")
		return
	}
	var body struct {
		Values [][]any `json:"values"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&body); err != nil {
		googleError(w, http.StatusBadRequest, "Invalid JSON payload received.", "INVALID_ARGUMENT")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, title, g, ok := f.resolve(w, id, rng)
	if !ok {
		return
	}
	start := len(s.rows[title]) + 1
	width := 0
	for _, in := range body.Values {
		row := make([]string, g.c1, g.c1+len(in))
		for _, v := range in {
			if str, isStr := v.(string); isStr {
				row = append(row, str)
			} else {
				row = append(row, fmt.Sprint(v))
			}
		}
		width = max(width, len(in))
		s.rows[title] = append(s.rows[title], row)
		f.appends++
	}
	end := len(s.rows[title])
	updated := a1(title, g.c1, start, g.c1+max(width, 1)-1, end)
	if f.DropReply(w) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"spreadsheetId": id, "tableRange": a1(title, g.c1, 1, g.c2, start-1),
		"updates": map[string]any{"spreadsheetId": id, "updatedRange": updated, "updatedRows": len(body.Values),
			"updatedColumns": width, "updatedCells": width * len(body.Values)}})
}

// update writes rows over the range (spreadsheets.values.update).
func (f *Fake) update(w http.ResponseWriter, r *http.Request, id, rng string) {
	if v := r.URL.Query().Get("valueInputOption"); v != "RAW" && v != "USER_ENTERED" {
		googleError(w, http.StatusBadRequest, "'valueInputOption' is required but not specified", "INVALID_ARGUMENT")
		return
	}
	var body struct {
		Range  string  `json:"range"`
		Values [][]any `json:"values"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&body); err != nil {
		googleError(w, http.StatusBadRequest, "Invalid JSON payload received.", "INVALID_ARGUMENT")
		return
	}
	if body.Range != "" && body.Range != rng {
		googleError(w, http.StatusBadRequest, "Requested writing within range ["+rng+"], but tried writing to ["+body.Range+"]", "INVALID_ARGUMENT")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, title, g, ok := f.resolve(w, id, rng)
	if !ok {
		return
	}
	width := 0
	for i, in := range body.Values {
		n := g.r1 + i
		for len(s.rows[title]) < n {
			s.rows[title] = append(s.rows[title], nil)
		}
		row := make([]string, g.c1, g.c1+len(in))
		for _, v := range in {
			row = append(row, fmt.Sprint(v))
		}
		s.rows[title][n-1] = row
		width = max(width, len(in))
	}
	if f.DropReply(w) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"spreadsheetId": id, "updatedRange": a1(title, g.c1, g.r1, g.c1+max(width, 1)-1, g.r1+max(len(body.Values), 1)-1),
		"updatedRows": len(body.Values), "updatedColumns": width, "updatedCells": width * len(body.Values)})
}

// grid is a parsed range: 0-based columns c1..c2, 1-based rows r1..r2.
type grid struct{ c1, c2, r1, r2 int }

// resolve finds the spreadsheet and sheet rng names, answering like Sheets
// when either is missing; f.mu must be held.
func (f *Fake) resolve(w http.ResponseWriter, id, rng string) (*spreadsheet, string, grid, bool) {
	s, ok := f.sheets[id]
	if !ok {
		googleError(w, http.StatusNotFound, "Requested entity was not found.", "NOT_FOUND")
		return nil, "", grid{}, false
	}
	title, cells := splitRange(rng)
	if title == "" {
		title = s.titles[0]
	}
	g, okCells := parseCells(cells)
	if !contains(s.titles, title) || !okCells {
		googleError(w, http.StatusBadRequest, "Unable to parse range: "+rng, "INVALID_ARGUMENT")
		return nil, "", grid{}, false
	}
	return s, title, g, true
}

// splitRange returns the unquoted sheet title ("" for none) and the cells.
func splitRange(r string) (title, cells string) {
	if strings.HasPrefix(r, "'") {
		for i := 1; i < len(r); i++ {
			if r[i] == '\'' {
				if i+1 < len(r) && r[i+1] == '\'' {
					i++
					continue
				}
				return strings.ReplaceAll(r[1:i], "''", "'"), strings.TrimPrefix(r[i+1:], "!")
			}
		}
		return "", "?"
	}
	if t, c, ok := strings.Cut(r, "!"); ok {
		return t, c
	}
	if _, ok := parseCells(r); ok && r != "" {
		return "", r
	}
	return r, ""
}

// parseCells parses "", "A:F", "A1:F9", "A2:F" or "B3".
func parseCells(cells string) (grid, bool) {
	g := grid{c1: 0, c2: 25, r1: 1, r2: 1 << 30}
	if cells == "" {
		return g, true
	}
	from, to, isSpan := strings.Cut(cells, ":")
	c1, r1, ok1 := parseCell(from)
	if !isSpan {
		if !ok1 || r1 == 0 {
			return g, false
		}
		return grid{c1: c1, c2: c1, r1: r1, r2: r1}, true
	}
	c2, r2, ok2 := parseCell(to)
	if !ok1 || !ok2 {
		return g, false
	}
	g.c1, g.c2 = c1, c2
	if r1 > 0 {
		g.r1 = r1
	}
	if r2 > 0 {
		g.r2 = r2
	}
	return g, g.c1 <= g.c2 && g.r1 <= g.r2
}

// parseCell parses "B3" into column 1, row 3 (row 0 when absent). Only
// single-letter columns are supported.
func parseCell(s string) (col, row int, ok bool) {
	if s == "" || !('A' <= s[0] && s[0] <= 'Z' || 'a' <= s[0] && s[0] <= 'z') {
		return 0, 0, false
	}
	col = int(s[0]|0x20) - 'a'
	if len(s) == 1 {
		return col, 0, true
	}
	row, err := strconv.Atoi(s[1:])
	return col, row, err == nil && row > 0
}

func a1(title string, c1, r1, c2, r2 int) string {
	if r2 < r1 {
		r2 = r1
	}
	return fmt.Sprintf("%s!%c%d:%c%d", quoteTitle(title), 'A'+c1, r1, 'A'+c2, r2)
}

func quoteTitle(t string) string {
	for _, r := range t {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return "'" + strings.ReplaceAll(t, "'", "''") + "'"
		}
	}
	return t
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (f *Fake) authorized(w http.ResponseWriter, r *http.Request) bool {
	return f.auth.Authorize(w, r, gauth.ScopeSheets, "https://www.googleapis.com/auth/drive")
}

func fail(w http.ResponseWriter, status int) {
	switch {
	case status == http.StatusTooManyRequests:
		googleError(w, status, "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user'.", "RESOURCE_EXHAUSTED")
	case status >= 500:
		googleError(w, status, "The service is currently unavailable.", "UNAVAILABLE")
	default:
		googleError(w, status, "The caller does not have permission", "PERMISSION_DENIED")
	}
}

func googleError(w http.ResponseWriter, code int, msg, status string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
