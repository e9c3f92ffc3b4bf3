// Package zdfake is a stateful stand-in for the Zendesk Ticketing API calls
// Countersign makes: users create_or_update and me, ticket create (honouring
// Idempotency-Key), update, comments, and list by external_id. Like Zendesk,
// external_id is not unique (a list returns every ticket carrying it), a new
// ticket needs a requester that exists, and statuses are checked. It answers with
// Zendesk's statuses and error bodies and counts created tickets.
package zdfake

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/countersign/countersign/internal/connector/connectorfake"
)

// Ticket is a ticket as the fake stores it.
type Ticket struct {
	ID             int64     `json:"id"`
	URL            string    `json:"url"`
	Subject        string    `json:"subject"`
	Description    string    `json:"description"`
	Status         string    `json:"status"`
	Priority       string    `json:"priority,omitempty"`
	Tags           []string  `json:"tags"`
	ExternalID     string    `json:"external_id,omitempty"`
	RequesterID    int64     `json:"requester_id"`
	RequesterEmail string    `json:"-"`
	Comments       []Comment `json:"-"`
	CreatedAt      time.Time `json:"created_at"`
}

// Comment is one ticket comment.
type Comment struct {
	ID     int64  `json:"id"`
	Body   string `json:"body"`
	Public bool   `json:"public"`
}

// User is a Zendesk user.
type User struct {
	ID       int64  `json:"id"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Verified bool   `json:"verified"`
}

// AgentID is the user id of the agent the API token belongs to.
const AgentID = 1

type idemEntry struct {
	bodyHash [32]byte
	response []byte
}

// Fake is a fake Zendesk account. Mount Handler() and use the server URL as
// the client's base URL.
type Fake struct {
	auth []string // accepted Authorization values
	connectorfake.Faults

	mu      sync.Mutex
	nextID  int64
	tickets map[int64]*Ticket
	users   map[int64]*User
	idem    map[string]idemEntry
	creates int
}

// New returns a fake accepting Basic email/token:apiToken, or Bearer apiToken.
func New(email, apiToken string) *Fake {
	basic := base64.StdEncoding.EncodeToString([]byte(email + "/token:" + apiToken))
	return &Fake{auth: []string{"Basic " + basic, "Bearer " + apiToken}, nextID: 1000,
		tickets: map[int64]*Ticket{}, idem: map[string]idemEntry{},
		users: map[int64]*User{AgentID: {ID: AgentID, Email: email, Name: "Countersign", Role: "admin", Verified: true}}}
}

// AddTicket stores a ticket made outside Countersign (another integration may
// reuse an external_id: Zendesk does not keep them unique).
func (f *Fake) AddTicket(subject, externalID string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.tickets[f.nextID] = &Ticket{ID: f.nextID, Subject: subject, Status: "open", ExternalID: externalID,
		RequesterID: AgentID, Tags: []string{}, CreatedAt: time.Now().UTC(), Comments: []Comment{{ID: f.nextID*100 + 1, Body: subject, Public: true}}}
	return f.nextID
}

// Close closes ticket id, as Zendesk's automation does some days after a ticket
// is solved; from then on every update is refused with 422 ("Status: closed
// prevents ticket update").
func (f *Fake) Close(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.tickets[id]; ok {
		t.Status = "closed"
	}
}

// UserByEmail returns the user with email, if any.
func (f *Fake) UserByEmail(email string) (User, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.users {
		if strings.EqualFold(u.Email, email) {
			return *u, true
		}
	}
	return User{}, false
}

// Handler serves /api/v2/tickets.json and /api/v2/tickets/{id}.json.
func (f *Fake) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/tickets.json", f.create)
	mux.HandleFunc("GET /api/v2/tickets.json", f.list)
	mux.HandleFunc("PUT /api/v2/tickets/{file}", f.update)
	mux.HandleFunc("GET /api/v2/tickets/{id}/comments.json", f.comments)
	mux.HandleFunc("POST /api/v2/users/create_or_update.json", f.createOrUpdateUser)
	mux.HandleFunc("GET /api/v2/users/me.json", f.me)
	return mux
}

// Creates counts tickets actually created (idempotent replays excluded).
func (f *Fake) Creates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.creates
}

// Ticket returns a copy of ticket id.
func (f *Fake) Ticket(id int64) (Ticket, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tickets[id]
	if !ok {
		return Ticket{}, false
	}
	cp := *t
	cp.Comments = append([]Comment(nil), t.Comments...)
	return cp, true
}

type ticketIn struct {
	Subject string `json:"subject"`
	Comment *struct {
		Body   string `json:"body"`
		Public *bool  `json:"public"`
	} `json:"comment"`
	Requester *struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	} `json:"requester"`
	RequesterID int64    `json:"requester_id"`
	Status      string   `json:"status"`
	Priority    string   `json:"priority"`
	Tags        []string `json:"tags"`
	ExternalID  string   `json:"external_id"`
}

func (f *Fake) create(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.authorized(w, r) {
		return
	}
	raw, in, ok := decode(w, r)
	if !ok {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, seen := f.idem[key]; key != "" && seen {
		if e.bodyHash != sha256.Sum256(raw) {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "IdempotentRequestError",
				"description": "Request parameters do not match the original request"})
			return
		}
		w.Header().Set("X-Idempotency-Lookup", "hit")
		writeRaw(w, http.StatusCreated, e.response)
		return
	}
	if in.Comment == nil || strings.TrimSpace(in.Comment.Body) == "" {
		recordInvalid(w, "base", "Description: cannot be blank")
		return
	}
	if !validPriority(in.Priority) {
		recordInvalid(w, "priority", "Priority: is not valid")
		return
	}
	if !validStatus(in.Status) {
		recordInvalid(w, "status", "Status: is not valid")
		return
	}
	if in.RequesterID == 0 && (in.Requester == nil || in.Requester.Email == "") {
		recordInvalid(w, "requester", "Requester: cannot be blank")
		return
	}
	if _, ok := f.users[in.RequesterID]; in.RequesterID != 0 && !ok {
		recordInvalid(w, "requester", "Requester: is invalid")
		return
	}
	f.nextID++
	status := in.Status
	if status == "" {
		status = "new"
	}
	t := &Ticket{ID: f.nextID, Subject: in.Subject, Description: in.Comment.Body, Status: status,
		Priority: in.Priority, Tags: in.Tags, ExternalID: in.ExternalID, CreatedAt: time.Now().UTC(), RequesterID: in.RequesterID}
	t.URL = fmt.Sprintf("https://example.zendesk.com/api/v2/tickets/%d.json", t.ID)
	if t.Tags == nil {
		t.Tags = []string{}
	}
	if in.Requester != nil {
		t.RequesterEmail = in.Requester.Email
	}
	t.Comments = []Comment{{ID: t.ID*100 + 1, Body: in.Comment.Body, Public: in.Comment.Public == nil || *in.Comment.Public}}
	f.tickets[t.ID] = t
	f.creates++
	resp, _ := json.Marshal(map[string]any{"ticket": t})
	if key != "" {
		f.idem[key] = idemEntry{bodyHash: sha256.Sum256(raw), response: resp}
		w.Header().Set("X-Idempotency-Lookup", "miss")
	}
	if f.DropReply(w) {
		return
	}
	w.Header().Set("Location", t.URL)
	writeRaw(w, http.StatusCreated, resp)
}

func (f *Fake) update(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.authorized(w, r) {
		return
	}
	idText, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil {
		notFound(w)
		return
	}
	_, in, ok := decode(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, exists := f.tickets[id]
	if !exists {
		notFound(w)
		return
	}
	if !validPriority(in.Priority) {
		recordInvalid(w, "priority", "Priority: is not valid")
		return
	}
	if !validStatus(in.Status) || t.Status == "closed" {
		recordInvalid(w, "status", "Status: closed prevents ticket update")
		return
	}
	if in.Priority != "" {
		t.Priority = in.Priority
	}
	if in.Comment != nil && in.Comment.Body != "" {
		t.Comments = append(t.Comments, Comment{ID: t.ID*100 + int64(len(t.Comments)) + 1, Body: in.Comment.Body,
			Public: in.Comment.Public == nil || *in.Comment.Public})
	}
	switch {
	case in.Status != "":
		t.Status = in.Status
	case t.Status == "new":
		t.Status = "open"
	}
	if f.DropReply(w) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ticket": t})
}

func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.authorized(w, r) {
		return
	}
	ext := r.URL.Query().Get("external_id")
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []*Ticket{}
	for _, t := range f.tickets {
		if ext == "" || t.ExternalID == ext {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, http.StatusOK, map[string]any{"tickets": out, "next_page": nil, "previous_page": nil, "count": len(out)})
}

func (f *Fake) authorized(w http.ResponseWriter, r *http.Request) bool {
	got := r.Header.Get("Authorization")
	for _, a := range f.auth {
		if got == a {
			return true
		}
	}
	writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "Couldn't authenticate you"})
	return false
}

// decode reads {"ticket":{...}}, answering 400 when it is not JSON.
func decode(w http.ResponseWriter, r *http.Request) ([]byte, ticketIn, bool) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var body struct{ Ticket ticketIn }
	if err == nil {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "InvalidEndpoint", "description": "invalid JSON"})
		return nil, ticketIn{}, false
	}
	return raw, body.Ticket, true
}

func (f *Fake) comments(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.authorized(w, r) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tickets[id]
	if err != nil || !ok {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"comments": t.Comments, "next_page": nil, "count": len(t.Comments)})
}

// createOrUpdateUser matches users by email: 201 for a new user (an end user
// unless a role is given), 200 for an existing one.
func (f *Fake) createOrUpdateUser(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.authorized(w, r) {
		return
	}
	var body struct {
		User struct {
			Email    string `json:"email"`
			Name     string `json:"name"`
			Role     string `json:"role"`
			Verified bool   `json:"verified"`
		} `json:"user"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "InvalidEndpoint", "description": "invalid JSON"})
		return
	}
	in := body.User
	if !strings.Contains(in.Email, "@") {
		recordInvalid(w, "email", "Email: is not properly formatted")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.users {
		if strings.EqualFold(u.Email, in.Email) {
			if in.Name != "" {
				u.Name = in.Name
			}
			u.Verified = u.Verified || in.Verified
			writeJSON(w, http.StatusOK, map[string]any{"user": u})
			return
		}
	}
	if in.Name == "" {
		recordInvalid(w, "name", "Name: is too short (minimum one character)")
		return
	}
	role := in.Role
	if role == "" {
		role = "end-user"
	}
	f.nextID++
	u := &User{ID: f.nextID, Email: in.Email, Name: in.Name, Role: role, Verified: in.Verified}
	f.users[u.ID] = u
	writeJSON(w, http.StatusCreated, map[string]any{"user": u})
}

func (f *Fake) me(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.authorized(w, r) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"user": f.users[AgentID]})
}

func validStatus(s string) bool {
	switch s {
	case "", "new", "open", "pending", "hold", "solved":
		return true
	}
	return false
}

func validPriority(p string) bool {
	switch p {
	case "", "low", "normal", "high", "urgent":
		return true
	}
	return false
}

func recordInvalid(w http.ResponseWriter, field, desc string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "RecordInvalid",
		"description": "Record validation errors",
		"details":     map[string]any{field: []map[string]string{{"description": desc, "error": "InvalidValue"}}}})
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]any{"error": "RecordNotFound", "description": "Not found"})
}

func fail(w http.ResponseWriter, status int) {
	if status == http.StatusTooManyRequests {
		writeJSON(w, status, map[string]any{"error": "APIRateLimitExceeded", "description": "Number of allowed API requests per minute exceeded"})
		return
	}
	writeJSON(w, status, map[string]any{"error": http.StatusText(status)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
