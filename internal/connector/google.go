package connector

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// FromGoogle classifies a Google API error body (Gmail, Drive, Sheets)
// {"error":{"code":403,"message":...,"status":...,"errors":[{"reason":...}]}}.
// A 403 whose reason is a rate limit is temporary, unlike other 403s.
func FromGoogle(connectorName, op string, status int, header http.Header, data []byte) *Error {
	var body struct {
		Error struct {
			Message string `json:"message"`
			Status  string `json:"status"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"error"`
	}
	_ = json.Unmarshal(data, &body)
	code := body.Error.Status
	if len(body.Error.Errors) > 0 && body.Error.Errors[0].Reason != "" {
		code = body.Error.Errors[0].Reason
	}
	e := FromHTTP(connectorName, op, status, header, code, body.Error.Message)
	if status == http.StatusForbidden && (code == "rateLimitExceeded" || code == "userRateLimitExceeded") {
		e.Permanent = false
	}
	return e
}

// DoJSON sends req, reads at most limit bytes of the answer and decodes a 2xx body into
// out. Transport failures and undecodable bodies are temporary; a non-2xx answer is
// classified by classify.
func DoJSON(hc *http.Client, connectorName, op string, req *http.Request, limit int64, out any,
	classify func(connectorName, op string, status int, header http.Header, body []byte) *Error) error {
	resp, err := hc.Do(req)
	if err != nil {
		return FromTransport(connectorName, op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return FromTransport(connectorName, op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return classify(connectorName, op, resp.StatusCode, resp.Header, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return FromTransport(connectorName, op, fmt.Errorf("decode response: %w", err))
	}
	return nil
}
