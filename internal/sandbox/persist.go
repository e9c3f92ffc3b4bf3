package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"gorm.io/gorm"
)

// stripeState is what the sandbox keeps for Stripe: the fake's account and the
// invoice → charge links.
type stripeState struct {
	Account json.RawMessage   `json:"account"`
	Charges map[string]string `json:"invoice_charges"`
}

// Persist keeps the Stripe fake's account in Postgres (sandbox_state): it restores
// the saved account if there is one (a restart of dev), else saves the seeded one,
// and saves again after every change. Dev only.
func (s *Sandbox) Persist(ctx context.Context, db *gorm.DB) error {
	if s.Stripe == nil {
		return nil
	}
	var rows []string
	if err := db.WithContext(ctx).Raw(`SELECT state::text FROM sandbox_state WHERE connector = 'stripe'`).Scan(&rows).Error; err != nil {
		return fmt.Errorf("sandbox: load state: %w", err)
	}
	if len(rows) == 1 {
		var st stripeState
		if err := json.Unmarshal([]byte(rows[0]), &st); err != nil {
			return fmt.Errorf("sandbox: read state: %w", err)
		}
		if err := s.Stripe.Restore(st.Account); err != nil {
			return fmt.Errorf("sandbox: restore stripe: %w", err)
		}
		s.mu.Lock()
		if st.Charges != nil {
			s.charges = st.Charges
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.save = func() error { return s.saveStripe(context.WithoutCancel(ctx), db) }
	s.mu.Unlock()
	return s.saveStripe(ctx, db)
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
	return db.WithContext(ctx).Exec(`INSERT INTO sandbox_state (connector, state) VALUES ('stripe', ?::jsonb)
		ON CONFLICT (connector) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`, string(b)).Error
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
