package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"

	"gorm.io/gorm"
)

// stripeState is what the sandbox keeps for Stripe: the fake's account and the
// invoice → charge links.
type stripeState struct {
	Account json.RawMessage   `json:"account"`
	Charges map[string]string `json:"invoice_charges"`
}

// slackState is what the sandbox keeps for Slack: its channels, id → name, so
// that the channel id a stored plan carries still exists after a restart, even
// once COUNTERSIGN_SLACK_CHANNELS no longer names it.
type slackState struct {
	Channels map[string]string `json:"channels"`
}

// Persist keeps the sandbox's state in Postgres (sandbox_state): the Stripe fake's
// account and the Slack fake's channels. It restores what was saved (a restart of
// dev), else saves the seeded state; Stripe is saved again after every change.
// Dev only.
func (s *Sandbox) Persist(ctx context.Context, db *gorm.DB) error {
	if err := s.persistSlack(ctx, db); err != nil {
		return err
	}
	if s.Stripe == nil {
		return nil
	}
	var st stripeState
	found, err := loadState(ctx, db, Stripe, &st)
	if err != nil {
		return err
	}
	if found {
		if err := s.Stripe.Restore(st.Account); err != nil {
			return fmt.Errorf("sandbox: restore stripe: %w", err)
		}
		s.mu.Lock()
		if st.Charges != nil {
			s.charges = st.Charges
		}
		links := maps.Clone(s.charges)
		s.mu.Unlock()
		for in, ch := range links { // accounts saved before the fake kept the link itself
			s.Stripe.LinkInvoiceCharge(in, ch)
		}
	}
	s.mu.Lock()
	s.save = func() error { return s.saveStripe(context.WithoutCancel(ctx), db) }
	s.mu.Unlock()
	return s.saveStripe(ctx, db)
}

// persistSlack adds the saved channels whose id and name the configuration does
// not already use, then saves every channel the fake has.
func (s *Sandbox) persistSlack(ctx context.Context, db *gorm.DB) error {
	if s.Slack == nil {
		return nil
	}
	var st slackState
	if _, err := loadState(ctx, db, Slack, &st); err != nil {
		return err
	}
	current := s.Slack.Channels()
	names := make(map[string]bool, len(current))
	for _, name := range current {
		names[name] = true
	}
	for id, name := range st.Channels {
		if _, taken := current[id]; !taken && !names[name] {
			s.Slack.AddChannel(id, name)
		}
	}
	return saveState(ctx, db, Slack, slackState{Channels: s.Slack.Channels()})
}

func (s *Sandbox) saveStripe(ctx context.Context, db *gorm.DB) error {
	account, err := s.Stripe.Snapshot()
	if err != nil {
		return err
	}
	s.mu.Lock()
	b, err := json.Marshal(stripeState{Account: account, Charges: s.charges})
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return saveState(ctx, db, Stripe, json.RawMessage(b))
}

// loadState reads connector's saved state into v; false when there is none.
func loadState(ctx context.Context, db *gorm.DB, connector string, v any) (bool, error) {
	var rows []string
	if err := db.WithContext(ctx).Raw(`SELECT state::text FROM sandbox_state WHERE connector = ?`, connector).Scan(&rows).Error; err != nil {
		return false, fmt.Errorf("sandbox: load %s state: %w", connector, err)
	}
	if len(rows) == 0 {
		return false, nil
	}
	if err := json.Unmarshal([]byte(rows[0]), v); err != nil {
		return false, fmt.Errorf("sandbox: read %s state: %w", connector, err)
	}
	return true, nil
}

// saveState replaces connector's saved state with v.
func saveState(ctx context.Context, db *gorm.DB, connector string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("sandbox: encode %s state: %w", connector, err)
	}
	err = db.WithContext(ctx).Exec(`INSERT INTO sandbox_state (connector, state) VALUES (?, ?::jsonb)
		ON CONFLICT (connector) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`, connector, string(b)).Error
	if err != nil {
		return fmt.Errorf("sandbox: save %s state: %w", connector, err)
	}
	return nil
}

// saved calls the persistence hook, if any.
func (s *Sandbox) saved() {
	s.mu.Lock()
	save := s.save
	s.mu.Unlock()
	if save != nil {
		_ = save()
	}
}

// persisting wraps the Stripe fake: every write is saved once answered.
func (s *Sandbox) persisting(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if r.Method == http.MethodPost {
			s.saved()
		}
	})
}
