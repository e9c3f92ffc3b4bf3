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

// Fixes says what a person does about the Slack errors that configuration causes;
// the connectors page shows the same text.
var Fixes = map[string]string{
	"not_in_channel": "the Countersign bot is not a member of the channel: in Slack open the channel and run " +
		"/invite @<the bot's name>, then retry the action",
	"channel_not_found": "no channel by that id is visible to the bot: check that the name in COUNTERSIGN_SLACK_CHANNELS " +
		"exists and is not archived; a private channel must invite the bot first (and the token needs groups:read)",
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
			Permanent: !transientCodes[se.Err], Message: Fixes[se.Err]}
	}
	// Transport failures, timeouts, cancelled contexts, unreadable bodies:
	// the post may or may not have happened, so retry after FindByActionID.
	return connector.FromTransport(name, op, err)
}
