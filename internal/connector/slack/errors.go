package slack

import (
	"errors"
	"net/http"

	slackapi "github.com/slack-go/slack"

	"github.com/countersign/countersign/internal/connector"
)

// transientCodes are Slack "ok":false error codes that a later attempt can
// get past. Every other code (invalid_auth, not_in_channel,
// channel_not_found, is_archived, msg_too_long, invalid_metadata_format, ...)
// is permanent: the same request will fail the same way.
var transientCodes = map[string]bool{
	"ratelimited":         true,
	"rate_limited":        true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
	"team_added_to_org":   true,
}

// classify turns a slack-go error into a *connector.Error.
func classify(op string, err error) *connector.Error {
	var rl *slackapi.RateLimitedError
	if errors.As(err, &rl) {
		return &connector.Error{Connector: name, Op: op, Status: http.StatusTooManyRequests,
			Code: "ratelimited", RetryAfter: rl.RetryAfter}
	}
	var sc slackapi.StatusCodeError
	if errors.As(err, &sc) {
		return connector.FromHTTP(name, op, sc.Code, nil, "", "")
	}
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		return &connector.Error{Connector: name, Op: op, Status: http.StatusOK, Code: se.Err,
			Permanent: !transientCodes[se.Err]}
	}
	// Transport failures, timeouts, cancelled contexts, unreadable bodies:
	// the post may or may not have happened, so retry after FindByActionID.
	return connector.FromTransport(name, op, err)
}
