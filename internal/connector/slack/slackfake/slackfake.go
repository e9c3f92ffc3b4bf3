// Package slackfake is a stateful stand-in for the Slack Web API methods
// Countersign uses: chat.postMessage, conversations.history and
// conversations.list (cursor-paginated). Like Slack, conversations.history takes a
// channel id only (a name is channel_not_found), and both it and chat.postMessage
// answer not_in_channel where the bot is not a member. It answers
// like Slack does (HTTP 200 with "ok":false for API errors, 429 with
// Retry-After for rate limits) and counts posts per action id.
package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/countersign/countersign/internal/connector/connectorfake"
)

// Message is one posted message as the fake stored it.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string // the root message's ts for a reply in a thread
	Text     string
	Metadata *Metadata
}

// Metadata is Slack message metadata.
type Metadata struct {
	EventType    string         `json:"event_type"`
	EventPayload map[string]any `json:"event_payload"`
}

// Fake is the fake Slack workspace. Mount Handler() and use the server URL
// plus "/api" as the client's base URL.
type Fake struct {
	token string
	connectorfake.Faults

	mu       sync.Mutex
	channels map[string]string // id -> name
	outside  map[string]bool   // channels the bot is not a member of
	messages []Message
	lastTS   time.Time
	lists    int
}

// New returns a fake accepting token, with one channel: C0FINANCE (#finance).
func New(token string) *Fake {
	return &Fake{token: token, channels: map[string]string{"C0FINANCE": "finance"}, outside: map[string]bool{}}
}

// AddChannel adds a channel the bot is a member of.
func (f *Fake) AddChannel(id, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.channels[id] = name
	delete(f.outside, id)
}

// AddChannelWithoutBot adds a channel the bot has not been invited to.
func (f *Fake) AddChannelWithoutBot(id, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.channels[id] = name
	f.outside[id] = true
}

// Channels returns every channel, id -> name.
func (f *Fake) Channels() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]string, len(f.channels))
	for id, name := range f.channels {
		out[id] = name
	}
	return out
}

// ListCalls counts conversations.list requests (pages).
func (f *Fake) ListCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists
}

// Handler serves /api/chat.postMessage and /api/conversations.history.
func (f *Fake) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/chat.postMessage", f.postMessage)
	mux.HandleFunc("/api/conversations.history", f.history)
	mux.HandleFunc("/api/conversations.list", f.list)
	return mux
}

// Messages returns every posted message, oldest first.
func (f *Fake) Messages() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.messages...)
}

// CountByActionID counts posted messages whose metadata carries actionID.
func (f *Fake) CountByActionID(actionID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, m := range f.messages {
		if m.Metadata != nil && fmt.Sprint(m.Metadata.EventPayload["action_id"]) == actionID {
			n++
		}
	}
	return n
}

func (f *Fake) postMessage(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.authorized(w, r) {
		return
	}
	id, ok := f.channelID(r.PostFormValue("channel"))
	if !ok {
		apiError(w, "channel_not_found")
		return
	}
	if f.isOutside(id) {
		apiError(w, "not_in_channel")
		return
	}
	text := r.PostFormValue("text")
	if text == "" && r.PostFormValue("blocks") == "" && r.PostFormValue("attachments") == "" {
		apiError(w, "no_text")
		return
	}
	msg := Message{Channel: id, Text: text, ThreadTS: r.PostFormValue("thread_ts")}
	if msg.ThreadTS != "" && !f.isRoot(id, msg.ThreadTS) {
		apiError(w, "invalid_thread_ts") // Slack: not a root message of this channel
		return
	}
	if raw := r.PostFormValue("metadata"); raw != "" {
		msg.Metadata = &Metadata{}
		if err := json.Unmarshal([]byte(raw), msg.Metadata); err != nil || msg.Metadata.EventType == "" {
			apiError(w, "invalid_metadata_format")
			return
		}
	}
	f.mu.Lock()
	msg.TS = f.nextTS()
	f.messages = append(f.messages, msg)
	f.mu.Unlock()
	if f.DropReply(w) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": id, "ts": msg.TS,
		"message": map[string]any{"type": "message", "text": msg.Text, "ts": msg.TS}})
}

func (f *Fake) history(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.authorized(w, r) {
		return
	}
	channel := r.FormValue("channel")
	f.mu.Lock()
	_, known := f.channels[channel]
	f.mu.Unlock()
	if !known {
		apiError(w, "channel_not_found") // names are not accepted here
		return
	}
	if f.isOutside(channel) {
		apiError(w, "not_in_channel")
		return
	}
	limit, _ := strconv.Atoi(r.FormValue("limit"))
	if limit <= 0 || limit > 999 {
		limit = 100
	}
	offset, _ := strconv.Atoi(r.FormValue("cursor"))
	withMeta := r.FormValue("include_all_metadata") == "1" || r.FormValue("include_all_metadata") == "true"
	all := f.inChannel(channel, r.FormValue("oldest"), r.FormValue("latest"))
	if offset > len(all) {
		offset = len(all)
	}
	page := all[offset:min(offset+limit, len(all))]
	msgs := make([]map[string]any, 0, len(page))
	for _, m := range page {
		out := map[string]any{"type": "message", "text": m.Text, "ts": m.TS}
		if withMeta && m.Metadata != nil {
			out["metadata"] = m.Metadata
		}
		msgs = append(msgs, out)
	}
	next := ""
	if offset+len(page) < len(all) {
		next = strconv.Itoa(offset + len(page))
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "messages": msgs, "has_more": next != "",
		"response_metadata": map[string]string{"next_cursor": next}})
}

// isRoot reports whether ts is a message of channel that is not itself a reply.
func (f *Fake) isRoot(channel, ts string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.messages {
		if m.Channel == channel && m.TS == ts {
			return m.ThreadTS == ""
		}
	}
	return false
}

func (f *Fake) isOutside(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.outside[id]
}

// list answers conversations.list: public channels by id, limit (default 100, at
// most 1000) per page, the offset as the cursor.
func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.authorized(w, r) {
		return
	}
	limit := 100
	if v := r.FormValue("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			apiError(w, "invalid_limit")
			return
		}
		limit = n
	}
	offset := 0
	if c := r.FormValue("cursor"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			apiError(w, "invalid_cursor")
			return
		}
		offset = n
	}
	f.mu.Lock()
	f.lists++
	ids := make([]string, 0, len(f.channels))
	for id := range f.channels {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	offset = min(offset, len(ids))
	page := ids[offset:min(offset+limit, len(ids))]
	out := make([]map[string]any, 0, len(page))
	for _, id := range page {
		out = append(out, map[string]any{"id": id, "name": f.channels[id], "is_channel": true,
			"is_archived": false, "is_member": !f.outside[id]})
	}
	f.mu.Unlock()
	next := ""
	if offset+len(page) < len(ids) {
		next = strconv.Itoa(offset + len(page))
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channels": out,
		"response_metadata": map[string]string{"next_cursor": next}})
}

// inChannel returns channel's messages within [oldest, latest], newest first.
func (f *Fake) inChannel(channel, oldest, latest string) []Message {
	lo, hi := tsMicros(oldest), tsMicros(latest)
	if latest == "" {
		hi = 1<<63 - 1
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Message
	for _, m := range f.messages {
		ts := tsMicros(m.TS)
		// conversations.history lists a channel's root messages, not thread replies.
		if m.Channel == channel && m.ThreadTS == "" && ts >= lo && ts <= hi {
			out = append(out, m)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TS > out[j].TS })
	return out
}

// authorized checks the token (Authorization: Bearer or the token form
// field), answering like Slack when it is missing or wrong.
func (f *Fake) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok == "" {
		tok = r.FormValue("token")
	}
	switch {
	case tok == "":
		apiError(w, "not_authed")
		return false
	case tok != f.token:
		apiError(w, "invalid_auth")
		return false
	}
	return true
}

func (f *Fake) channelID(ch string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.channels[ch]; ok {
		return ch, true
	}
	name := strings.TrimPrefix(ch, "#")
	for id, n := range f.channels {
		if n == name {
			return id, true
		}
	}
	return "", false
}

// nextTS returns a unique, increasing Slack timestamp; f.mu must be held.
func (f *Fake) nextTS() string {
	now := time.Now().Truncate(time.Microsecond)
	if !now.After(f.lastTS) {
		now = f.lastTS.Add(time.Microsecond)
	}
	f.lastTS = now
	return fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
}

// tsMicros turns a Slack timestamp ("1700000000.000100") into microseconds;
// malformed or empty input yields 0.
func tsMicros(ts string) int64 {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0
	}
	frac = (frac + "000000")[:6]
	us, _ := strconv.ParseInt(frac, 10, 64)
	return s*1_000_000 + us
}

func fail(w http.ResponseWriter, status int) {
	if status == http.StatusTooManyRequests {
		writeJSON(w, status, map[string]any{"ok": false, "error": "ratelimited"})
		return
	}
	// Slack answers 5xx with an HTML page, which clients must not parse.
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<html><body>%d %s</body></html>", status, http.StatusText(status))
}

func apiError(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
