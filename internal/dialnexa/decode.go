package dialnexa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// EventKind is what a delivery means for Countersign, whatever DialNexa
// called it.
type EventKind string

// Event kinds. Verification and ignored events carry no call.
const (
	KindInitiated    EventKind = "initiated"
	KindEnded        EventKind = "ended"
	KindTransfer     EventKind = "transfer"
	KindUpdate       EventKind = "update" // flat scheme transcript_ready / analysis_ready
	KindVerification EventKind = "verification"
	KindIgnored      EventKind = "ignored"
)

// ErrMalformed is matched by Decode errors about the JSON itself.
var ErrMalformed = errors.New("dialnexa: malformed JSON")

// kinds maps event names (event_type, or event in the flat scheme),
// compared trimmed and lower-cased, to kinds.
var kinds = map[string]EventKind{
	"call_initiated":        KindInitiated,
	"call_ended":            KindEnded,
	"transfer_completed":    KindTransfer,
	"call.completed":        KindEnded, // dotted subscription names (inferred)
	"call.failed":           KindEnded,
	"call.no_answer":        KindEnded,
	"call.started":          KindInitiated, // older flat scheme
	"call.ended":            KindEnded,
	"call.transcript_ready": KindUpdate,
	"call.analysis_ready":   KindUpdate,
	"verification":          KindVerification,
}

// Event is one decoded delivery.
type Event struct {
	Kind EventKind
	// EventType is the event name exactly as sent (event_type, or event in the
	// flat scheme), empty when there was none. Together with the call id and
	// status it is the deduplication key.
	EventType string
	// Timestamp is the top-level "timestamp" (flat scheme, verification),
	// nil when absent or unparseable.
	Timestamp *time.Time
	// Call is nil for KindVerification and KindIgnored, and never nil, with a
	// non-empty ID, for the other kinds.
	Call *Call
}

// Decode normalises a verified body. It returns an error only for malformed
// JSON (matching ErrMalformed) or for a call event without a call id; any
// other valid JSON decodes, as KindIgnored if nothing else fits.
//
// A body with no event name and no call object is a verification (DialNexa
// documents it as carrying message and timestamp); an unknown event name, or
// a call object without an event name, is ignored.
func Decode(body []byte) (Event, error) {
	v, err := parseJSON(body)
	if err != nil {
		return Event{}, err
	}
	return DecodeValue(v)
}

// DecodeValue is Decode for a body already parsed into v (objects as
// map[string]any, numbers as json.Number, as encoding/json's UseNumber gives
// them): ingest has the redacted document in that form and need not parse its
// encoding again. v's maps may be kept by the Event (Call.Analysis).
func DecodeValue(v any) (Event, error) {
	top, ok := v.(map[string]any)
	if !ok {
		return Event{Kind: KindIgnored}, nil
	}
	ev := Event{
		EventType: firstString(top, "event_type", "event"),
		Timestamp: firstTime(top, "timestamp"),
	}
	_, named := top["event_type"]
	if _, ok := top["event"]; ok {
		named = true
	}
	src, nested := callSource(top)
	kind, known := kinds[strings.ToLower(ev.EventType)]
	switch {
	case !named && !nested:
		ev.Kind = KindVerification
		return ev, nil
	case !known:
		ev.Kind = KindIgnored
		return ev, nil
	case kind == KindVerification:
		ev.Kind = kind
		return ev, nil
	}
	ev.Kind = kind
	ev.Call = decodeCall(src, nested)
	if ev.Call.ID == "" {
		return Event{}, fmt.Errorf("dialnexa: %s event without call id", ev.EventType)
	}
	if ev.Call.InitiatedAt == nil && kind == KindInitiated && !nested && ev.Timestamp != nil {
		at := *ev.Timestamp
		ev.Call.InitiatedAt = &at
	}
	ev.Call.Transfer = decodeTransfer(transferObject(top, src))
	return ev, nil
}

// callSource finds the call: payload.call (current envelope), a top-level
// call object (inferred), or else the top level itself (flat scheme).
func callSource(top map[string]any) (src map[string]any, nested bool) {
	if c := objectAt(objectAt(top, "payload"), "call"); c != nil {
		return c, true
	}
	if c := objectAt(top, "call"); c != nil {
		return c, true
	}
	return top, false
}

func transferObject(top, call map[string]any) map[string]any {
	if t := objectAt(objectAt(top, "payload"), "call_transfer"); t != nil {
		return t
	}
	if t := objectAt(call, "call_transfer"); t != nil {
		return t
	}
	return objectAt(top, "call_transfer")
}

// parseJSON decodes exactly one JSON value, numbers as json.Number.
func parseJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("%w: empty body", ErrMalformed)
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrMalformed)
	}
	return v, nil
}
