package handlers

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/ingest"
	"github.com/countersign/countersign/internal/reqlog"
)

// WebhookBodyLimit is the largest delivery accepted; transcripts exceed 20 kB.
const WebhookBodyLimit = 1 << 20

// WebhookReadTimeout bounds reading one delivery's body: a sender that trickles its
// body holds a connection, a buffer and an in-flight slot for at most this long.
const WebhookReadTimeout = 5 * time.Second

// WebhookDeadline bounds how long a delivery waits for its turn in a batch; DialNexa's
// older pages ask for an answer within 5 s. A delivery still queued then is withdrawn
// and answered 503 (not stored); one a flush has taken is waited for.
const WebhookDeadline = 5 * time.Second

// WebhookDeliveries counts deliveries by source and outcome (stored, duplicate,
// accepted: durable in the inbox during a burst and filed shortly after,
// ignored, verification, rejected, unauthorized, too_large, slow_body, overloaded:
// refused before reading, withdrawn: not stored in time, unavailable).
var WebhookDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "countersign_webhook_deliveries_total",
	Help: "Webhook deliveries by source and outcome.",
}, []string{"source", "outcome"})

// DialNexaWebhook receives a call event. The signature over the raw body is the only
// gate; it is checked before anything is parsed. Nothing unstored is ever answered 2xx.
func (a *App) DialNexaWebhook(w http.ResponseWriter, r *http.Request) {
	log := reqlog.Logger(r.Context())
	body, ok := readWebhookBody(w, r)
	if !ok {
		return
	}
	if err := dialnexa.Verify(r.Header, body, a.DialNexaSecrets); err != nil {
		WebhookDeliveries.WithLabelValues("dialnexa", "unauthorized").Inc()
		log.Warn("security: webhook signature refused", "source", "dialnexa", "reason", err.Error(),
			"bytes", len(body), "user_agent", r.UserAgent())
		webhookReply(w, http.StatusUnauthorized, "invalid or missing signature")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), WebhookDeadline)
	defer cancel()
	res, err := a.Ingest.Ingest(ctx, body)
	switch {
	case errors.Is(err, ingest.ErrMalformed):
		WebhookDeliveries.WithLabelValues("dialnexa", "rejected").Inc()
		log.Warn("webhook rejected", "reason", err.Error(), "delivery_id", res.DeliveryID)
		webhookReply(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ingest.ErrWithdrawn):
		WebhookDeliveries.WithLabelValues("dialnexa", "withdrawn").Inc()
		w.Header().Set("Retry-After", "1")
		webhookReply(w, http.StatusServiceUnavailable, "not stored in time, please retry")
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

// readWebhookBody reads a delivery's body within WebhookReadTimeout and
// WebhookBodyLimit, answering 413 or 408 itself when it cannot.
func readWebhookBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	// Not every ResponseWriter supports deadlines (httptest's recorder does not);
	// the server's ReadTimeout still bounds those.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(WebhookReadTimeout))
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= WebhookBodyLimit {
		buf.Grow(int(n) + 1)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, WebhookBodyLimit))
	var tooLarge *http.MaxBytesError
	var netErr net.Error
	switch {
	case err == nil:
		return buf.Bytes(), true
	case errors.As(err, &tooLarge):
		WebhookDeliveries.WithLabelValues("dialnexa", "too_large").Inc()
		webhookReply(w, http.StatusRequestEntityTooLarge, "body larger than 1 MiB")
	case errors.As(err, &netErr) && netErr.Timeout():
		WebhookDeliveries.WithLabelValues("dialnexa", "slow_body").Inc()
		w.Header().Set("Connection", "close")
		webhookReply(w, http.StatusRequestTimeout, "body not received within 5 s")
	default:
		webhookReply(w, http.StatusBadRequest, "could not read body")
	}
	return nil, false
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
