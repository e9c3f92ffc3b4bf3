package jobs_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector/zendesk/zdfake"
	"github.com/countersign/countersign/internal/jobs"
)

func ticketPlan(email string) plan {
	return plan{"zendesk", "ticket", jobs.TicketParams{Mode: "create", Subject: "refund — Jordan", Priority: "normal",
		Status: "solved", RequesterEmail: email, Reply: "Hello,\n\nYour refund has been approved.\n\nBilling team",
		Note: "Countersign case for call call_shared.", ExternalID: "call_shared"}}
}

// Every case of a call used to key its ticket by the call id; a rerun more than an
// hour later adopted the oldest ticket with that id, another case's (or another
// integration's: Zendesk does not keep external ids unique). Now the ticket is keyed
// by the action, requested by the verified customer, with the public reply and one
// internal note however often the worker crashes.
func TestZendeskTicketIsTheActionsOwn(t *testing.T) {
	var mu sync.Mutex
	crashed := map[int64]int{}
	e := newEnv(t, jobs.Options{Now: func() time.Time { return time.Now().Add(2 * time.Hour) },
		AfterCall: func(ctx context.Context, actionID int64) error {
			mu.Lock()
			defer mu.Unlock()
			crashed[actionID]++
			if crashed[actionID] > 1 {
				return nil
			}
			return errors.New("simulated crash after Zendesk answered")
		}})
	other := e.sb.Zendesk.AddTicket("opened for another case of the call", "call_shared")
	caseID, ids := e.newCase("refund", ticketPlan("jordan@example.com"))
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 10*time.Second)
	receipt := e.text(`SELECT receipt_id FROM actions WHERE id = ?`, ids[0])
	if receipt == strconv.FormatInt(other, 10) {
		t.Fatalf("the action adopted ticket %d of another case", other)
	}
	id, _ := strconv.ParseInt(receipt, 10, 64)
	tk, ok := e.sb.Zendesk.Ticket(id)
	if !ok || e.sb.Zendesk.Creates() != 1 {
		t.Fatalf("ticket %s: found %v, creates %d", receipt, ok, e.sb.Zendesk.Creates())
	}
	user, _ := e.sb.Zendesk.UserByEmail("jordan@example.com")
	if tk.RequesterID != user.ID || user.ID == zdfake.AgentID || user.Role != "end-user" {
		t.Fatalf("requester %d, want the end user %+v", tk.RequesterID, user)
	}
	if tk.Status != "solved" || tk.ExternalID == "call_shared" {
		t.Fatalf("ticket status %q external id %q", tk.Status, tk.ExternalID)
	}
	var public, notes int
	for _, c := range tk.Comments {
		if c.Public && strings.Contains(c.Body, "Your refund has been approved") {
			public++
		}
		if !c.Public && strings.Contains(c.Body, "Countersign case") {
			notes++
		}
	}
	if public != 1 || notes != 1 || len(tk.Comments) != 2 {
		t.Fatalf("comments %+v: want one public reply and one internal note", tk.Comments)
	}
}

// Without a verified customer the ticket is internal, requested by the API agent.
func TestZendeskTicketWithoutCustomerIsInternal(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	p := ticketPlan("")
	caseID, ids := e.newCase("refund", p)
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 10*time.Second)
	id, _ := strconv.ParseInt(e.text(`SELECT receipt_id FROM actions WHERE id = ?`, ids[0]), 10, 64)
	tk, _ := e.sb.Zendesk.Ticket(id)
	// The case's move to done may already have added its follow-up note (also
	// internal): what matters is that nothing on the ticket is public.
	if tk.RequesterID != zdfake.AgentID || len(tk.Comments) == 0 {
		t.Fatalf("ticket %+v: want an internal ticket requested by the agent", tk)
	}
	for _, c := range tk.Comments {
		if c.Public {
			t.Errorf("public comment %q on a ticket with no verified customer", c.Body)
		}
	}
}
