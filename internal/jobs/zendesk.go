package jobs

import (
	"context"
	"strconv"
	"strings"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/zendesk"
)

// ticket opens the case's ticket: requested by the verified customer (an end user
// found or created by email) with the public reply the plan rendered from a reviewed
// template, then an internal note for agents; without a verified customer, an
// internal ticket requested by the API agent. The ticket's external_id is the
// action's own key: Zendesk does not keep external ids unique, and a call id is
// shared by every case of the call. A rerun finds the ticket by that key and adds
// the note only if it is not there yet.
func (s *Service) ticket(ctx context.Context, a *action) (connector.Receipt, error) {
	var p TicketParams
	if err := decodeParams(a.Params, &p); err != nil {
		return connector.Receipt{}, err
	}
	c := s.conns.Zendesk
	if c == nil {
		return connector.Receipt{}, missing("Zendesk")
	}
	if a.prior() {
		rc, found, err := c.FindByExternalID(ctx, a.IdempotencyKey)
		if err != nil {
			return connector.Receipt{}, err
		}
		if found {
			return s.ticketNote(ctx, a, p, rc)
		}
	}
	requester, public, err := s.ticketRequester(ctx, p)
	if err != nil {
		return connector.Receipt{}, err
	}
	first, isPublic := p.noteText(), false
	if public && p.Reply != "" {
		first, isPublic = p.Reply, true
	}
	rc, err := c.CreateTicket(ctx, zendesk.Ticket{Subject: p.Subject, Comment: first, Public: isPublic,
		RequesterID: requester, Priority: p.Priority, Status: p.Status, Tags: append([]string{"countersign"}, p.Tags...),
		ExternalID: a.IdempotencyKey}, a.IdempotencyKey)
	if err != nil || !isPublic {
		return rc, err
	}
	return s.ticketNote(ctx, a, p, rc)
}

// ticketRequester is the verified customer when the plan names one (public
// replies allowed), else the API agent (an internal ticket).
func (s *Service) ticketRequester(ctx context.Context, p TicketParams) (id int64, public bool, err error) {
	if p.RequesterEmail != "" {
		id, err = s.conns.Zendesk.EnsureEndUser(ctx, p.RequesterEmail, "", true)
		return id, err == nil, err
	}
	id, err = s.conns.Zendesk.AgentID(ctx)
	return id, false, err
}

// ticketNote adds the internal note after a public reply, once: the note carries
// the action's marker, and a rerun that finds it adds nothing.
func (s *Service) ticketNote(ctx context.Context, a *action, p TicketParams, rc connector.Receipt) (connector.Receipt, error) {
	if p.Reply == "" || p.RequesterEmail == "" || p.noteText() == "" {
		return rc, nil
	}
	id, err := strconv.ParseInt(rc.ExternalID, 10, 64)
	if err != nil {
		return rc, permanent("ticket note", "bad_receipt", "Zendesk answered with ticket id "+rc.ExternalID)
	}
	marker := "[countersign " + actionRef(a) + "]"
	comments, err := s.conns.Zendesk.Comments(ctx, id)
	if err != nil {
		return connector.Receipt{}, err
	}
	for _, cm := range comments {
		if !cm.Public && strings.Contains(cm.Body, marker) {
			return rc, nil
		}
	}
	if _, err := s.conns.Zendesk.UpdateTicket(ctx, id, zendesk.TicketUpdate{Comment: p.noteText() + "\n\n" + marker}); err != nil {
		return connector.Receipt{}, err
	}
	rc.Summary += " with a public reply and an internal note"
	return rc, nil
}
