package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/ingest"
	"github.com/countersign/countersign/internal/reqlog"
)

// WebhookBodyLimit is the largest delivery accepted; transcripts exceed 20 kB.
const WebhookBodyLimit = 1 << 20

// WebhookDeliveries counts deliveries by source and outcome (stored, duplicate,
// ignored, verification, rejected, unauthorized, too_large, unavailable).
var WebhookDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "countersign_webhook_deliveries_total",
	Help: "Webhook deliveries by source and outcome.",
}, []string{"source", "outcome"})

// DialNexaWebhook receives a call event. The signature over the raw body is the only
// gate; it is checked before anything is parsed. Nothing unstored is ever answered 2xx.
func (a *App) DialNexaWebhook(w http.ResponseWriter, r *http.Request) {
	log := reqlog.Logger(r.Context())
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, WebhookBodyLimit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			WebhookDeliveries.WithLabelValues("dialnexa", "too_large").Inc()
			webhookReply(w, http.StatusRequestEntityTooLarge, "body larger than 1 MiB")
			return
		}
		webhookReply(w, http.StatusBadRequest, "could not read body")
		return
	}
	if err := dialnexa.Verify(r.Header, body, a.DialNexaSecrets); err != nil {
		WebhookDeliveries.WithLabelValues("dialnexa", "unauthorized").Inc()
		log.Warn("security: webhook signature refused", "source", "dialnexa", "reason", err.Error(),
			"bytes", len(body), "user_agent", r.UserAgent())
		webhookReply(w, http.StatusUnauthorized, "invalid or missing signature")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 8*time.Second)
	defer cancel()
	res, err := a.Ingest.Ingest(ctx, body)
	switch {
	case errors.Is(err, ingest.ErrMalformed):
		WebhookDeliveries.WithLabelValues("dialnexa", "rejected").Inc()
		log.Warn("webhook rejected", "reason", err.Error(), "delivery_id", res.DeliveryID)
		webhookReply(w, http.StatusBadRequest, err.Error())
	case err != nil:
		WebhookDeliveries.WithLabelValues("dialnexa", "unavailable").Inc()
		log.Error("webhook not stored", "err", err)
		webhookReply(w, http.StatusServiceUnavailable, "not stored, please retry")
	default:
		WebhookDeliveries.WithLabelValues("dialnexa", string(res.Outcome)).Inc()
		if res.Outcome == ingest.Duplicate {
			log.Info("webhook duplicate ignored")
		}
		webhookReply(w, http.StatusOK, string(res.Outcome))
	}
}

func webhookReply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	field := "status"
	if status >= 300 {
		field = "error"
	}
	b, _ := jsonMarshal(map[string]string{field: msg})
	_, _ = w.Write(append(b, '\n'))
}
