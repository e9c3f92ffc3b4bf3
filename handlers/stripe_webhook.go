package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/reqlog"
)

// StripeWebhook receives a Stripe event. The Stripe-Signature header (HMAC over the
// raw body, timestamp within 5 minutes) is checked before anything is parsed; events
// are deduplicated by event id.
func (a *App) StripeWebhook(w http.ResponseWriter, r *http.Request) {
	log := reqlog.Logger(r.Context())
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, WebhookBodyLimit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			WebhookDeliveries.WithLabelValues("stripe", "too_large").Inc()
			webhookReply(w, http.StatusRequestEntityTooLarge, "body larger than 1 MiB")
			return
		}
		webhookReply(w, http.StatusBadRequest, "could not read body")
		return
	}
	ev, err := stripe.VerifyWebhook(body, r.Header.Get("Stripe-Signature"), a.StripeWebhookSecrets, 0, time.Now())
	if err != nil {
		outcome := "unauthorized"
		if errors.Is(err, stripe.ErrBadPayload) {
			outcome = "rejected"
		}
		WebhookDeliveries.WithLabelValues("stripe", outcome).Inc()
		log.Warn("security: webhook signature refused", "source", "stripe", "reason", err.Error(), "bytes", len(body))
		webhookReply(w, http.StatusBadRequest, "invalid or missing signature")
		return
	}
	if a.Jobs == nil {
		webhookReply(w, http.StatusServiceUnavailable, "not ready, please retry")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 8*time.Second)
	defer cancel()
	dup, err := a.Jobs.HandleStripeEvent(ctx, ev, body)
	switch {
	case err != nil:
		WebhookDeliveries.WithLabelValues("stripe", "unavailable").Inc()
		log.Error("stripe event not stored", "event_id", ev.ID, "err", err)
		webhookReply(w, http.StatusServiceUnavailable, "not stored, please retry")
	case dup:
		WebhookDeliveries.WithLabelValues("stripe", "duplicate").Inc()
		webhookReply(w, http.StatusOK, "duplicate")
	default:
		WebhookDeliveries.WithLabelValues("stripe", "stored").Inc()
		webhookReply(w, http.StatusOK, "stored")
	}
}
