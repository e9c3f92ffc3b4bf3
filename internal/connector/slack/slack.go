// Package slack posts Countersign's finance alerts to Slack.
//
// Slack has no idempotency key. Each alert carries the action id in its message
// metadata (event type "countersign_action"), so a worker rerun after a crash
// between the post and the sent-marker can call FindByActionID first and skip
// the post when the earlier message is there.
package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/countersign/countersign/internal/connector"
)

// DefaultBaseURL is Slack's Web API root.
const DefaultBaseURL = "https://slack.com/api"

// EventType is the message metadata event type that marks Countersign alerts.
const EventType = "countersign_action"

const name = "slack"

// Config configures a Client. Token is a bot token (xoxb-...) with chat:write
// and channels:history (for FindByActionID).
type Config struct {
	BaseURL    string       // DefaultBaseURL when empty
	Token      string       // required
	HTTPClient *http.Client // connector.NewHTTPClient(0) when nil
}

// Client posts alerts. Safe for concurrent use.
type Client struct {
	api *slackapi.Client
}

// Alert is one finance alert.
type Alert struct {
	// Channel is a channel id (C...). A name works for posting, but
	// FindByActionID needs the id, so store and pass the id.
	Channel  string
	Text     string
	ActionID string // put into message metadata; required
	// ThreadTS, when set, posts the alert as a reply in the thread of that
	// message (a root message's ts; Slack refuses a reply's ts).
	ThreadTS string
}

// New returns a Client. The slack-go client's own retries stay off: the job
// queue owns retries and their backoff.
func New(cfg Config) (*Client, error) {
	if cfg.Token == "" {
		return nil, errors.New("slack: token is required")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = connector.NewHTTPClient(0)
	}
	api := slackapi.New(cfg.Token, slackapi.OptionAPIURL(base+"/"), slackapi.OptionHTTPClient(hc))
	return &Client{api: api}, nil
}

// PostAlert posts a.Text to a.Channel with the action id in the message
// metadata. The receipt's ExternalID is the message ts.
func (c *Client) PostAlert(ctx context.Context, a Alert) (connector.Receipt, error) {
	const op = "post alert"
	if a.Channel == "" || a.Text == "" || a.ActionID == "" {
		return connector.Receipt{}, &connector.Error{Connector: name, Op: op, Code: "invalid_arguments",
			Message: "channel, text and action id are required", Permanent: true}
	}
	meta := slackapi.SlackMetadata{EventType: EventType, EventPayload: map[string]any{"action_id": a.ActionID}}
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(a.Text, false), slackapi.MsgOptionMetadata(meta)}
	if a.ThreadTS != "" {
		opts = append(opts, slackapi.MsgOptionTS(a.ThreadTS))
	}
	channel, ts, err := c.api.PostMessageContext(ctx, a.Channel, opts...)
	if err != nil {
		return connector.Receipt{}, classify(op, err)
	}
	return receipt(channel, ts, a.ActionID), nil
}

// historyPageSize is Slack's recommended page size for conversations.history.
const historyPageSize = 200

// FindByActionID looks for an earlier alert carrying actionID in channel (a
// channel id), posted at or after since. It pages through conversations.history
// with include_all_metadata; found is false when there is none.
func (c *Client) FindByActionID(ctx context.Context, channel, actionID string, since time.Time) (r connector.Receipt, found bool, err error) {
	const op = "find alert"
	params := &slackapi.GetConversationHistoryParameters{
		ChannelID:          channel,
		Oldest:             slackTS(since),
		Inclusive:          true,
		Limit:              historyPageSize,
		IncludeAllMetadata: true,
	}
	for {
		resp, err := c.api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return connector.Receipt{}, false, classify(op, err)
		}
		for _, m := range resp.Messages {
			if m.Metadata.EventType == EventType && fmt.Sprint(m.Metadata.EventPayload["action_id"]) == actionID {
				return receipt(channel, m.Timestamp, actionID), true, nil
			}
		}
		next := resp.ResponseMetaData.NextCursor
		if !resp.HasMore || next == "" {
			return connector.Receipt{}, false, nil
		}
		params.Cursor = next
	}
}

func receipt(channel, ts, actionID string) connector.Receipt {
	raw, _ := json.Marshal(map[string]string{"channel": channel, "ts": ts, "action_id": actionID})
	return connector.Receipt{ExternalID: ts, Summary: "slack message " + ts + " in " + channel, Raw: raw}
}

// slackTS formats t as a Slack timestamp ("seconds.micros"); zero means the
// start of the channel.
func slackTS(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.Unix(), 10) + "." + fmt.Sprintf("%06d", t.Nanosecond()/1000)
}
