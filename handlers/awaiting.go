package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/views"
)

// awaitingCap bounds the approver's home list.
const awaitingCap = 200

// Awaiting is a finance approver's home: GET /approvals.
func (a *App) Awaiting(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	rows, err := approval.AwaitingFor(r.Context(), a.DB.Gorm, p.UserID, awaitingCap)
	if err != nil {
		Fail(w, r, err)
		return
	}
	now := time.Now()
	v := views.AwaitingView{Page: a.Page(r, "Awaiting my approval"), Cap: awaitingCap}
	for _, row := range rows {
		v.Rows = append(v.Rows, awaitingRow(row, now))
	}
	noStore(w)
	Render(w, r, http.StatusOK, views.Awaiting(v))
}

func awaitingRow(c approval.Awaiting, now time.Time) views.AwaitingRow {
	row := views.AwaitingRow{ID: c.CaseID, Href: "/cases/" + strconv.FormatInt(c.CaseID, 10), Kind: c.Kind,
		Customer: c.Customer, VIP: c.VIP, Amount: amountText(c.AmountMinor, c.Currency), Requester: c.Requester,
		Progress: progress(c.Approvals, c.Required)}
	if c.RequestedAt != nil {
		row.RequestedAt = timeView(*c.RequestedAt)
		row.Waiting = span(now.Sub(*c.RequestedAt))
	}
	if c.Deadline != nil {
		row.Deadline = timeView(*c.Deadline)
		row.DeadlineLeft, row.Overdue = timeLeft(*c.Deadline, now)
	}
	return row
}

// progress says "0 of 1 approval", "1 of 2 approvals".
func progress(given, required int) string {
	s := strconv.Itoa(given) + " of " + strconv.Itoa(required) + " approval"
	if required != 1 {
		s += "s"
	}
	return s
}
