package dialnexa

import "time"

// Call is one DialNexa call, normalised from whichever envelope carried it.
// Empty strings and nil pointers mean "not sent".
type Call struct {
	// ID is DialNexa's call id, the idempotency key: "id" in the current
	// envelope, "call_id" (preferred) or "session_id" in the flat scheme.
	ID string
	// Direction, Type, Status, Category and CategoryID are kept as sent
	// (trimmed). Status is "completed" or "hangup" on call_ended.
	Direction, Type, Status, Category, CategoryID string
	// From and To are E.164 when NormalizePhone can make them so, otherwise
	// as sent. The flat scheme's single phone_number is the customer's
	// number: To for outbound calls, From otherwise.
	From, To    string
	AgentID     string
	WorkspaceID string // flat scheme only
	// InitiatedAt is in UTC. For the flat scheme's call.started, which has no
	// initiated_at, it is the event timestamp.
	InitiatedAt     *time.Time
	DurationSeconds *int
	Transcript      []Turn
	Summary         string
	// RecordingURL is pre-signed and expires 7 days after the call.
	RecordingURL string
	// HangupReason is hangup_reason or its deprecated alias
	// disconnection_reason, with the older invalid_phone_number renamed to
	// unallocated_phone_number. Unknown values are kept as sent.
	HangupReason string
	Transfer     *Transfer
	// Analysis is the post-call analysis (post_call_analysis, analysis or
	// extracted_data): keys chosen by the customer, numbers as json.Number so
	// amounts reach money.ParseMajor without passing through a float.
	Analysis map[string]any
}

// Transfer is payload.call_transfer. Destination is normalised like a phone
// number (kept as sent when it is not one, e.g. a SIP URI).
type Transfer struct {
	Destination, Status, DestinationID string
}

// decodeCall reads a call object. nested is true for a "call" object, where
// the id is "id"; in the flat scheme the top-level "id" (if any) is not the
// call's, so only call_id and session_id count.
func decodeCall(src map[string]any, nested bool) *Call {
	idKeys := []string{"call_id", "session_id"}
	if nested {
		idKeys = []string{"id", "call_id", "session_id"}
	}
	c := &Call{
		ID:              firstString(src, idKeys...),
		Direction:       firstString(src, "direction"),
		Type:            firstString(src, "type"),
		Status:          firstString(src, "status"),
		Category:        firstString(src, "category"),
		CategoryID:      firstString(src, "category_id"),
		From:            NormalizePhone(firstString(src, "from_number")),
		To:              NormalizePhone(firstString(src, "to_number")),
		AgentID:         firstString(src, "agent_id"),
		WorkspaceID:     firstString(src, "workspace_id"),
		InitiatedAt:     firstTime(src, "initiated_at"),
		DurationSeconds: firstSeconds(src, "duration", "duration_seconds", "duration_in_seconds"),
		Transcript:      parseTranscript(src["transcript"]),
		Summary:         firstString(src, "summary"),
		RecordingURL:    firstString(src, "recording_url"),
		HangupReason:    hangupReason(firstString(src, "hangup_reason", "disconnection_reason")),
		Analysis:        firstObject(src, "post_call_analysis", "analysis", "extracted_data"),
	}
	if p := NormalizePhone(firstString(src, "phone_number")); p != "" {
		if c.Direction == "outbound" && c.To == "" {
			c.To = p
		} else if c.Direction != "outbound" && c.From == "" {
			c.From = p
		}
	}
	return c
}

func hangupReason(r string) string {
	if r == "invalid_phone_number" {
		return "unallocated_phone_number"
	}
	return r
}

func decodeTransfer(t map[string]any) *Transfer {
	if t == nil {
		return nil
	}
	return &Transfer{
		Destination:   NormalizePhone(firstString(t, "destination")),
		Status:        firstString(t, "status"),
		DestinationID: firstString(t, "destination_id"),
	}
}
