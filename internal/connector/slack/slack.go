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
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/countersign/countersign/internal/connector"
)

// DefaultBaseURL is Slack's Web API root.
const DefaultBaseURL = "https://slack.com/api"

// EventType is the message metadata event type that marks Countersign alerts.
const EventType = "countersign_action"

const name = "slack"

// Config configures a Client. Token is a bot token (xoxb-...) with chat:write,
// channels:read and groups:read (ChannelID), channels:history and groups:history
// (FindByActionID).
type Config struct {
	BaseURL    string       // DefaultBaseURL when empty
	Token      string       // required
	HTTPClient *http.Client // connector.NewHTTPClient(0) when nil
}

// Client posts alerts. Safe for concurrent use.
type Client struct {
	api *slackapi.Client

	mu  sync.Mutex
	ids map[string]string // channel name -> id, from conversations.list
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
	return &Client{api: api, ids: map[string]string{}}, nil
}

// listPageSize is the page size for conversations.list (Slack allows up to 1000
// and recommends no more than 200).
const listPageSize = 200

// ChannelID returns the id of channel "#name" (or "name"); an id (C..., G...)
// is returned as given. Names are resolved with conversations.list, every page,
// once: later calls are answered from the cache, and only an unknown name lists
// again (a channel created since). Plans store the id: conversations.history
// accepts ids only.
func (c *Client) ChannelID(ctx context.Context, channel string) (string, error) {
	const op = "resolve channel"
	if IsChannelID(channel) {
		return channel, nil
	}
	want := strings.TrimPrefix(channel, "#")
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.ids[want]; ok {
		return id, nil
	}
	params := &slackapi.GetConversationsParameters{Types: []string{"public_channel", "private_channel"},
		ExcludeArchived: true, Limit: listPageSize}
	for {
		chans, next, err := c.api.GetConversationsContext(ctx, params)
		if err != nil {
			return "", classify(op, err)
		}
		for _, ch := range chans {
			c.ids[ch.Name] = ch.ID
		}
		if next == "" {
			break
		}
		params.Cursor = next
	}
	if id, ok := c.ids[want]; ok {
		return id, nil
	}
	return "", &connector.Error{Connector: name, Op: op, Code: "channel_not_found", Permanent: true,
		Message: "no channel #" + want + " is visible to the bot: " + Fixes["channel_not_found"]}
}

// IsChannelID reports whether s looks like a Slack conversation id (C0123ABCD).
func IsChannelID(s string) bool {
	if len(s) < 9 || (s[0] != 'C' && s[0] != 'G') {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
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
