// Package gsheets appends rows to the exception review queue in Google Sheets.
//
// Sheets has no idempotency key. Column A of every row holds the action id;
// AppendRow reads column A first and returns the existing row's receipt
// instead of appending twice. The read and the append are two requests, so
// two concurrent runs of one action could both append: the job queue runs an
// action once at a time. Values are always sent with valueInputOption=RAW so
// transcript text starting with "=" stays text and is never evaluated.
package gsheets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/countersign/countersign/internal/connector"
)

// DefaultBaseURL is the Sheets API root.
const DefaultBaseURL = "https://sheets.googleapis.com"

const name = "gsheets"

// Config configures a Client.
type Config struct {
	BaseURL string // DefaultBaseURL when empty
	// HTTPClient authenticates the requests: production passes an OAuth2
	// client with scope spreadsheets. Required. A client without a timeout
	// gets connector.DefaultTimeout.
	HTTPClient *http.Client
}

// Client appends rows. Safe for concurrent use.
type Client struct {
	base string
	hc   *http.Client
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.HTTPClient == nil {
		return nil, errors.New("gsheets: an authenticated HTTP client is required")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	hc := cfg.HTTPClient
	if hc.Timeout == 0 {
		cp := *hc
		cp.Timeout = connector.DefaultTimeout
		hc = &cp
	}
	return &Client{base: base, hc: hc}, nil
}

// AppendRow appends [actionID, cells...] to the table in sheetRange (e.g.
// "Queue!A:F", or just the sheet title "Queue") unless a row with actionID
// in column A already exists. The receipt's ExternalID is the row's A1 range.
func (c *Client) AppendRow(ctx context.Context, spreadsheetID, sheetRange, actionID string, cells []string) (connector.Receipt, error) {
	if spreadsheetID == "" || sheetRange == "" || actionID == "" {
		return connector.Receipt{}, &connector.Error{Connector: name, Op: "append row", Code: "invalid_arguments",
			Message: "spreadsheet id, range and action id are required", Permanent: true}
	}
	if r, found, err := c.FindRow(ctx, spreadsheetID, sheetRange, actionID); err != nil || found {
		return r, err
	}
	return c.append(ctx, spreadsheetID, sheetRange, actionID, cells)
}

// UpsertRow writes [key, cells...] over the row whose column A holds key, or
// appends it when there is none: the row of a case and reason changes in place
// (spreadsheets.values.update, valueInputOption RAW) as the case moves on.
func (c *Client) UpsertRow(ctx context.Context, spreadsheetID, sheetRange, key string, cells []string) (connector.Receipt, error) {
	const op = "update row"
	if spreadsheetID == "" || sheetRange == "" || key == "" {
		return connector.Receipt{}, &connector.Error{Connector: name, Op: op, Code: "invalid_arguments",
			Message: "spreadsheet id, range and key are required", Permanent: true}
	}
	r, found, err := c.FindRow(ctx, spreadsheetID, sheetRange, key)
	if err != nil {
		return connector.Receipt{}, err
	}
	if !found {
		return c.append(ctx, spreadsheetID, sheetRange, key, cells)
	}
	body, _ := json.Marshal(map[string]any{"majorDimension": "ROWS", "values": [][]string{append([]string{key}, cells...)}})
	var out struct {
		UpdatedRange string `json:"updatedRange"`
	}
	path := c.valuesPath(spreadsheetID, r.ExternalID, "") + "?valueInputOption=RAW"
	if err := c.do(ctx, op, http.MethodPut, path, body, &out); err != nil {
		return connector.Receipt{}, err
	}
	return receipt(spreadsheetID, firstOf(out.UpdatedRange, r.ExternalID), key, "updated"), nil
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// FindRow looks for actionID in column A of the sheet sheetRange names.
func (c *Client) FindRow(ctx context.Context, spreadsheetID, sheetRange, actionID string) (connector.Receipt, bool, error) {
	const op = "read column A"
	sheet, _ := splitRange(sheetRange)
	colA := "A:A"
	if sheet != "" {
		colA = sheet + "!A:A"
	}
	var out struct {
		Range  string  `json:"range"`
		Values [][]any `json:"values"`
	}
	if err := c.do(ctx, op, http.MethodGet, c.valuesPath(spreadsheetID, colA, "")+"?majorDimension=ROWS", nil, &out); err != nil {
		return connector.Receipt{}, false, err
	}
	first := firstRow(out.Range)
	for i, row := range out.Values {
		if len(row) > 0 && fmt.Sprint(row[0]) == actionID {
			a1 := fmt.Sprintf("A%d", first+i)
			if sheet != "" {
				a1 = sheet + "!" + a1
			}
			return receipt(spreadsheetID, a1, actionID, "found"), true, nil
		}
	}
	return connector.Receipt{}, false, nil
}

func (c *Client) append(ctx context.Context, spreadsheetID, sheetRange, actionID string, cells []string) (connector.Receipt, error) {
	const op = "append row"
	row := append([]string{actionID}, cells...)
	body, _ := json.Marshal(map[string]any{"majorDimension": "ROWS", "values": [][]string{row}})
	q := url.Values{"valueInputOption": {"RAW"}, "insertDataOption": {"INSERT_ROWS"}}
	var out struct {
		Updates struct {
			UpdatedRange string `json:"updatedRange"`
		} `json:"updates"`
	}
	path := c.valuesPath(spreadsheetID, normalizeRange(sheetRange), ":append") + "?" + q.Encode()
	if err := c.do(ctx, op, http.MethodPost, path, body, &out); err != nil {
		return connector.Receipt{}, err
	}
	return receipt(spreadsheetID, out.Updates.UpdatedRange, actionID, "appended"), nil
}

func receipt(spreadsheetID, a1, actionID, verb string) connector.Receipt {
	raw, _ := json.Marshal(map[string]string{"spreadsheet_id": spreadsheetID, "range": a1, "action_id": actionID})
	return connector.Receipt{ExternalID: a1, Summary: "sheet row " + a1 + " " + verb, Raw: raw}
}

func (c *Client) valuesPath(spreadsheetID, rng, suffix string) string {
	return c.base + "/v4/spreadsheets/" + url.PathEscape(spreadsheetID) + "/values/" + url.PathEscape(rng) + suffix
}

// a1Cells matches a range without a sheet: "A1", "A:F", "A2:F", "2:9".
var a1Cells = regexp.MustCompile(`^([A-Za-z]{1,3}[0-9]*|[0-9]+):([A-Za-z]{1,3}[0-9]*|[0-9]+)$|^[A-Za-z]{1,3}[0-9]+$`)

// splitRange splits "Sheet!A:F" into the sheet part as written ("Sheet" or
// "'My sheet'") and the cells ("A:F"). A bare A1 range has no sheet part; a
// bare title is quoted.
func splitRange(r string) (sheet, cells string) {
	if strings.HasPrefix(r, "'") {
		for i := 1; i < len(r); i++ {
			if r[i] != '\'' {
				continue
			}
			if i+1 < len(r) && r[i+1] == '\'' {
				i++
				continue
			}
			return r[:i+1], strings.TrimPrefix(r[i+1:], "!")
		}
	}
	if s, cells, ok := strings.Cut(r, "!"); ok {
		return s, cells
	}
	if a1Cells.MatchString(r) {
		return "", r
	}
	return "'" + strings.ReplaceAll(r, "'", "''") + "'", ""
}

// normalizeRange quotes a bare sheet title so it is never read as A1 cells.
func normalizeRange(r string) string {
	sheet, cells := splitRange(r)
	switch {
	case sheet == "":
		return cells
	case cells == "":
		return sheet
	}
	return sheet + "!" + cells
}

// firstRow returns the first row number of an A1 range such as
// "Queue!A1:A20"; 1 when it has none.
func firstRow(r string) int {
	_, cells := splitRange(r)
	start, _, _ := strings.Cut(cells, ":")
	n, err := strconv.Atoi(strings.TrimLeft(start, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func (c *Client) do(ctx context.Context, op, method, url string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return &connector.Error{Connector: name, Op: op, Permanent: true, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return connector.DoJSON(c.hc, name, op, req, 8<<20, out, connector.FromGoogle)
}
