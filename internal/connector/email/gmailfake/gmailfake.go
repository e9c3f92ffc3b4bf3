// Package gmailfake is a stateful stand-in for the Gmail API calls Countersign
// makes: users.messages.send and users.messages.list with an rfc822msgid:
// query. It parses each raw message, keeps it, and counts sends by Message-ID.
package gmailfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"strings"
	"sync"

	"github.com/countersign/countersign/internal/connector/connectorfake"
	"github.com/countersign/countersign/internal/connector/gauth"
	"github.com/countersign/countersign/internal/connector/gauth/gauthfake"
)

// Sent is one message the fake accepted.
type Sent struct {
	ID          string
	MessageID   string // with angle brackets, as in the header
	From        string
	To          string
	Subject     string
	Text        string
	Attachments []Attachment
	Raw         []byte
}

// Attachment is an attached file as the fake decoded it.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Fake is a fake Gmail mailbox. Mount Handler() and use the server URL as the
// sender's base URL.
type Fake struct {
	auth *gauthfake.Server
	connectorfake.Faults

	mu   sync.Mutex
	sent []Sent
}

// New returns a fake that accepts the access tokens auth issued.
func New(auth *gauthfake.Server) *Fake { return &Fake{auth: auth} }

// Scopes each method accepts (Gmail API reference, "Authorization scopes").
var (
	sendScopes = []string{gauth.ScopeGmailSend, "https://www.googleapis.com/auth/gmail.compose",
		"https://www.googleapis.com/auth/gmail.modify", "https://mail.google.com/"}
	listScopes = []string{"https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/gmail.modify",
		"https://www.googleapis.com/auth/gmail.metadata", "https://mail.google.com/"}
)

// Handler serves /gmail/v1/users/{user}/messages/send and .../messages.
func (f *Fake) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /gmail/v1/users/{user}/messages/send", f.send)
	mux.HandleFunc("GET /gmail/v1/users/{user}/messages", f.list)
	return mux
}

// Sent returns every accepted message, oldest first.
func (f *Fake) Sent() []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Sent(nil), f.sent...)
}

// Count counts accepted messages with this Message-ID (brackets optional).
func (f *Fake) Count(messageID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.byMessageID(messageID))
}

func (f *Fake) send(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.auth.Authorize(w, r, sendScopes...) {
		return
	}
	var body struct{ Raw string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 36<<20)).Decode(&body); err != nil || body.Raw == "" {
		googleError(w, http.StatusBadRequest, "'raw' RFC822 payload message string or uploading message via /upload/* URL required", "INVALID_ARGUMENT", "invalidArgument")
		return
	}
	raw, err := base64.URLEncoding.DecodeString(body.Raw)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(body.Raw)
	}
	if err != nil {
		googleError(w, http.StatusBadRequest, "Invalid value for ByteString", "INVALID_ARGUMENT", "invalidArgument")
		return
	}
	s, err := parse(raw)
	if err != nil {
		googleError(w, http.StatusBadRequest, "Invalid RFC822 message", "INVALID_ARGUMENT", "invalidArgument")
		return
	}
	if s.To == "" {
		googleError(w, http.StatusBadRequest, "Recipient address required", "INVALID_ARGUMENT", "invalidArgument")
		return
	}
	f.mu.Lock()
	s.ID = fmt.Sprintf("18c%013x", len(f.sent)+1)
	f.sent = append(f.sent, s)
	f.mu.Unlock()
	if f.DropReply(w) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": s.ID, "threadId": s.ID, "labelIds": []string{"SENT"}})
}

func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.auth.Authorize(w, r, listScopes...) {
		return
	}
	q := r.URL.Query().Get("q")
	id, ok := strings.CutPrefix(q, "rfc822msgid:")
	if !ok {
		googleError(w, http.StatusBadRequest, "the fake only supports rfc822msgid: queries", "INVALID_ARGUMENT", "invalidArgument")
		return
	}
	f.mu.Lock()
	found := f.byMessageID(id)
	f.mu.Unlock()
	if len(found) == 0 {
		writeJSON(w, http.StatusOK, map[string]any{"resultSizeEstimate": 0})
		return
	}
	msgs := make([]map[string]string, 0, len(found))
	for _, s := range found {
		msgs = append(msgs, map[string]string{"id": s.ID, "threadId": s.ID})
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs, "resultSizeEstimate": len(msgs)})
}

// byMessageID returns the messages with this Message-ID; f.mu must be held.
func (f *Fake) byMessageID(id string) []Sent {
	id = strings.Trim(strings.TrimSpace(id), "<>")
	var out []Sent
	for _, s := range f.sent {
		if strings.Trim(s.MessageID, "<>") == id {
			out = append(out, s)
		}
	}
	return out
}

// parse reads the headers, the text body and the attachments of raw.
func parse(raw []byte) (Sent, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Sent{}, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		subject = m.Header.Get("Subject")
	}
	s := Sent{MessageID: m.Header.Get("Message-ID"), From: m.Header.Get("From"), To: m.Header.Get("To"),
		Subject: subject, Raw: raw}
	err = walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), "", m.Body, &s)
	return s, err
}

// walk descends into multipart bodies, keeping text/plain as the body and
// parts with a file name as attachments.
func walk(contentType, encoding, disposition string, body io.Reader, s *Sent) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"),
				p.Header.Get("Content-Disposition"), p, s); err != nil {
				return err
			}
		}
	}
	data, err := io.ReadAll(decoder(encoding, body))
	if err != nil {
		return err
	}
	_, dparams, _ := mime.ParseMediaType(disposition)
	if name := dparams["filename"]; name != "" {
		s.Attachments = append(s.Attachments, Attachment{Name: name, ContentType: mt, Data: data})
	} else if mt == "text/plain" && s.Text == "" {
		s.Text = string(data)
	}
	return nil
}

func decoder(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(encoding) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, newlineStripper{r})
	case "quoted-printable":
		return qpReader(r)
	}
	return r
}

func fail(w http.ResponseWriter, status int) {
	switch {
	case status == http.StatusTooManyRequests:
		googleError(w, status, "User-rate limit exceeded. Retry after a while.", "RESOURCE_EXHAUSTED", "rateLimitExceeded")
	case status >= 500:
		googleError(w, status, "Backend Error", "UNAVAILABLE", "backendError")
	default:
		googleError(w, status, http.StatusText(status), "FAILED_PRECONDITION", "failedPrecondition")
	}
}

func googleError(w http.ResponseWriter, code int, msg, status, reason string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status,
		"errors": []map[string]string{{"message": msg, "domain": "global", "reason": reason}}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
