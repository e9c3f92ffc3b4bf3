// Package tokenmetrics reads token ids and reference prices from the Token
// Metrics API. Countersign uses them only to check crypto-denominated claims
// made on a call before routing; they are never amounts we move, so a price
// travels as its decimal text plus a float64 for comparison, and money rules
// (integer minor units) do not apply.
package tokenmetrics

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/countersign/countersign/internal/connector"
)

const name = "tokenmetrics"

// DefaultBaseURL is the v2 API; /v3 exists and only needs a different BaseURL.
const DefaultBaseURL = "https://api.tokenmetrics.com/v2"

// DefaultCacheTTL bounds how stale a cached answer may be.
const DefaultCacheTTL = 60 * time.Second

// Config holds what the connector needs. APIKey is sent as x-api-key and is
// never logged or put into errors.
type Config struct {
	BaseURL    string
	APIKey     string
	HTTPClient *http.Client  // default connector.NewHTTPClient(0)
	CacheTTL   time.Duration // 0: DefaultCacheTTL; negative: no cache
}

// Client calls Token Metrics. Safe for concurrent use.
type Client struct {
	base string
	key  string
	hc   *http.Client
	ttl  time.Duration
	now  func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	rows []row
	at   time.Time
}

// row is one element of the envelope's data, keyed as sent (UPPER_SNAKE).
type row map[string]json.RawMessage

// New builds a client. It does not contact Token Metrics.
func New(cfg Config) *Client {
	c := &Client{base: strings.TrimRight(cfg.BaseURL, "/"), key: cfg.APIKey, hc: cfg.HTTPClient,
		ttl: cfg.CacheTTL, now: time.Now, cache: map[string]cached{}}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.hc == nil {
		c.hc = connector.NewHTTPClient(0)
	}
	if c.ttl == 0 {
		c.ttl = DefaultCacheTTL
	}
	return c
}

// Token identifies a token in Token Metrics.
type Token struct {
	ID     int64
	Symbol string
	Name   string
}

// Price is a reference price in USD, not money Countersign moves.
type Price struct {
	TokenID int64
	Symbol  string
	Name    string
	Decimal string  // the price exactly as Token Metrics sent it, e.g. "67012.45"
	Float   float64 // the same, for tolerance comparisons only
}

// Tokens lists tokens matching symbol and/or name (either may be empty, not
// both). No match is an empty slice, not an error.
func (c *Client) Tokens(ctx context.Context, symbol, tokenName string) ([]Token, error) {
	const op = "tokens"
	if symbol == "" && tokenName == "" {
		return nil, &connector.Error{Connector: name, Op: op, Code: "invalid_params",
			Message: "symbol or name is required", Permanent: true}
	}
	q := url.Values{}
	if symbol != "" {
		q.Set("symbol", symbol)
	}
	if tokenName != "" {
		q.Set("token_name", tokenName)
	}
	rows, err := c.get(ctx, op, "/tokens", q)
	if err != nil {
		return nil, err
	}
	out := make([]Token, 0, len(rows))
	for _, r := range rows {
		id, ok := r.int("TOKEN_ID")
		if !ok {
			continue
		}
		out = append(out, Token{ID: id, Symbol: r.str("TOKEN_SYMBOL"), Name: r.str("TOKEN_NAME")})
	}
	return out, nil
}

// Price returns the current reference price of one token.
func (c *Client) Price(ctx context.Context, tokenID int64) (Price, error) {
	const op = "price"
	rows, err := c.get(ctx, op, "/price", url.Values{"token_id": {strconv.FormatInt(tokenID, 10)}})
	if err != nil {
		return Price{}, err
	}
	for _, r := range rows {
		if id, ok := r.int("TOKEN_ID"); ok && id != tokenID {
			continue
		}
		dec, f, ok := r.decimal("CURRENT_PRICE")
		if !ok {
			continue
		}
		return Price{TokenID: tokenID, Symbol: r.str("TOKEN_SYMBOL"), Name: r.str("TOKEN_NAME"), Decimal: dec, Float: f}, nil
	}
	return Price{}, &connector.Error{Connector: name, Op: op, Status: http.StatusOK, Code: "not_found",
		Message: "no price for token " + strconv.FormatInt(tokenID, 10), Permanent: true}
}

// envelope is Token Metrics' answer: {success, message, length, data:[...]}.
type envelope struct {
	Success json.RawMessage `json:"success"`
	Message json.RawMessage `json:"message"`
	Data    []row           `json:"data"`
}

func (c *Client) get(ctx context.Context, op, path string, q url.Values) ([]row, error) {
	u := c.base + path + "?" + q.Encode()
	if rows, ok := c.cached(u); ok {
		return rows, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &connector.Error{Connector: name, Op: op, Code: "invalid_params", Message: "bad request URL", Permanent: true}
	}
	req.Header.Set("x-api-key", c.key)
	req.Header.Set("Accept", "application/json")
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, connector.FromTransport(name, op, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return nil, connector.FromTransport(name, op, err)
	}
	var env envelope
	decodeErr := json.Unmarshal(body, &env)
	switch {
	case res.StatusCode >= 300:
		return nil, connector.FromHTTP(name, op, res.StatusCode, res.Header, "", text(env.Message, res.Status))
	case decodeErr != nil:
		return nil, &connector.Error{Connector: name, Op: op, Status: res.StatusCode, Code: "bad_response",
			Message: "answer is not a Token Metrics envelope", Err: decodeErr}
	case !truthy(env.Success):
		return nil, connector.FromHTTP(name, op, res.StatusCode, res.Header, "unsuccessful", text(env.Message, "success is false"))
	}
	c.store(u, env.Data)
	return env.Data, nil
}

func (c *Client) cached(u string) ([]row, bool) {
	if c.ttl < 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cache[u]
	if !ok || c.now().Sub(e.at) >= c.ttl {
		return nil, false
	}
	return e.rows, true
}

func (c *Client) store(u string, rows []row) {
	if c.ttl < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for k, e := range c.cache { // keep the map small: drop what has expired
		if now.Sub(e.at) >= c.ttl {
			delete(c.cache, k)
		}
	}
	c.cache[u] = cached{rows: rows, at: now}
}

// field finds a key as sent (UPPER_SNAKE) or in lower case.
func (r row) field(key string) (json.RawMessage, bool) {
	if v, ok := r[key]; ok {
		return v, true
	}
	v, ok := r[strings.ToLower(key)]
	return v, ok
}

func (r row) str(key string) string {
	v, _ := r.field(key)
	return text(v, "")
}

// int accepts 3375 and "3375".
func (r row) int(key string) (int64, bool) {
	v, ok := r.field(key)
	if !ok {
		return 0, false
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		i, err := n.Int64()
		return i, err == nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return i, err == nil
	}
	return 0, false
}

// decimal accepts 67012.45 and "67012.45" and keeps the text as sent.
func (r row) decimal(key string) (string, float64, bool) {
	v, ok := r.field(key)
	if !ok {
		return "", 0, false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		var n json.Number
		if err := json.Unmarshal(v, &n); err != nil {
			return "", 0, false
		}
		s = n.String()
	}
	s = strings.TrimSpace(s)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return "", 0, false
	}
	return s, f, true
}

// text renders a JSON string, number or array of strings; fallback otherwise.
func text(v json.RawMessage, fallback string) string {
	var s string
	if err := json.Unmarshal(v, &s); err == nil && s != "" {
		return s
	}
	var list []string
	if err := json.Unmarshal(v, &list); err == nil && len(list) > 0 {
		return strings.Join(list, "; ")
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		return n.String()
	}
	return fallback
}

func truthy(v json.RawMessage) bool {
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return b
	}
	var s string
	return json.Unmarshal(v, &s) == nil && strings.EqualFold(s, "true")
}
