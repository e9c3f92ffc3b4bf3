package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/connector"
)

// Meter counts connector calls for Prometheus and keeps a week of them in
// connector_calls for the health panel (shared by every worker process).
type Meter struct {
	db           *gorm.DB
	calls        *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	startLatency prometheus.Histogram
}

// NewMeter returns a meter writing call history to db (nil: metrics only).
func NewMeter(db *gorm.DB) *Meter {
	return &Meter{db: db,
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "countersign_connector_calls_total",
			Help: "Connector calls by connector, operation and outcome (ok, temporary, permanent).",
		}, []string{"connector", "op", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "countersign_connector_call_duration_seconds",
			Help:    "Connector call latency.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20},
		}, []string{"connector"}),
		startLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "countersign_action_start_delay_seconds",
			Help:    "Time from an action's job insert (the approval) to its first attempt.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
	}
}

// Describe implements prometheus.Collector.
func (m *Meter) Describe(ch chan<- *prometheus.Desc) {
	m.calls.Describe(ch)
	m.latency.Describe(ch)
	m.startLatency.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Meter) Collect(ch chan<- prometheus.Metric) {
	m.calls.Collect(ch)
	m.latency.Collect(ch)
	m.startLatency.Collect(ch)
}

// Observe records one call that started at start and ended with err.
func (m *Meter) Observe(ctx context.Context, name, op string, sandbox bool, start time.Time, err error) {
	d := time.Since(start)
	outcome := "ok"
	switch {
	case err == nil:
	case connector.IsPermanent(err):
		outcome = "permanent"
	default:
		outcome = "temporary"
	}
	m.calls.WithLabelValues(name, op, outcome).Inc()
	m.latency.WithLabelValues(name).Observe(d.Seconds())
	if m.db == nil {
		return
	}
	msg := ""
	if err != nil {
		msg = truncate(plainError(err), 500)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = m.db.WithContext(ctx).Exec(`INSERT INTO connector_calls (connector, op, ok, sandbox, latency_ms, error)
		VALUES (?, ?, ?, ?, ?, ?)`, name, op, err == nil, sandbox, d.Milliseconds(), msg).Error
}

// Health is one connector's line on the health panel.
type Health struct {
	Connector     string
	Mode          Mode
	LastSuccess   *time.Time
	LastFailure   *time.Time
	LastError     string
	CallsLastHour int64
	FailsLastHour int64
}

// ErrorRate is the share of failed calls in the last hour (0 when there were none).
func (h Health) ErrorRate() float64 {
	if h.CallsLastHour == 0 {
		return 0
	}
	return float64(h.FailsLastHour) / float64(h.CallsLastHour)
}

// HealthReport reads the health panel from connector_calls.
func HealthReport(ctx context.Context, db *gorm.DB, modes map[string]Mode) ([]Health, error) {
	var rows []struct {
		Connector   string     `gorm:"column:connector"`
		LastSuccess *time.Time `gorm:"column:last_success"`
		LastFailure *time.Time `gorm:"column:last_failure"`
		LastError   string     `gorm:"column:last_error"`
		Calls       int64      `gorm:"column:calls"`
		Fails       int64      `gorm:"column:fails"`
	}
	err := db.WithContext(ctx).Raw(`SELECT connector,
			max(at) FILTER (WHERE ok) AS last_success,
			max(at) FILTER (WHERE NOT ok) AS last_failure,
			coalesce((SELECT error FROM connector_calls e WHERE e.connector = c.connector AND NOT ok
				ORDER BY at DESC LIMIT 1), '') AS last_error,
			count(*) FILTER (WHERE at > now() - interval '1 hour') AS calls,
			count(*) FILTER (WHERE at > now() - interval '1 hour' AND NOT ok) AS fails
		FROM connector_calls c GROUP BY connector`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("jobs: connector health: %w", err)
	}
	by := map[string]Health{}
	for _, r := range rows {
		by[r.Connector] = Health{Connector: r.Connector, LastSuccess: r.LastSuccess, LastFailure: r.LastFailure,
			LastError: r.LastError, CallsLastHour: r.Calls, FailsLastHour: r.Fails}
	}
	out := make([]Health, 0, len(AllConnectors))
	for _, name := range AllConnectors {
		h := by[name]
		h.Connector, h.Mode = name, modes[name]
		if h.Mode == "" {
			h.Mode = Off
		}
		out = append(out, h)
	}
	return out, nil
}

var errNoSlack = errors.New("slack connector is not configured")
