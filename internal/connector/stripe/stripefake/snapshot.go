package stripefake

import "encoding/json"

// state is the fake's account as JSON, for the dev sandbox to keep in Postgres.
type state struct {
	Seq       int                       `json:"seq"`
	Charges   map[string]*Charge        `json:"charges"`
	Intents   map[string]*PaymentIntent `json:"intents"`
	Invoices  map[string]*Invoice       `json:"invoices"`
	Customers map[string]*Customer      `json:"customers"`
	Subs      map[string]*Subscription  `json:"subscriptions"`
	Disputes  map[string]*Dispute       `json:"disputes"`
	Refunds   []*Refund                 `json:"refunds"`
	Credits   []*CreditNote             `json:"credit_notes"`
}

// Snapshot returns the account's objects (not the idempotency cache) as JSON.
func (f *Fake) Snapshot() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return json.Marshal(state{Seq: f.seq, Charges: f.charges, Intents: f.intents, Invoices: f.invoices,
		Customers: f.customers, Subs: f.subs, Disputes: f.disputes, Refunds: f.refunds, Credits: f.creditNotes})
}

// Restore replaces the account's objects with a Snapshot.
func (f *Fake) Restore(b []byte) error {
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq, f.refunds, f.creditNotes = st.Seq, st.Refunds, st.Credits
	if st.Charges != nil {
		f.charges = st.Charges
	}
	if st.Intents != nil {
		f.intents = st.Intents
	}
	if st.Invoices != nil {
		f.invoices = st.Invoices
	}
	if st.Customers != nil {
		f.customers = st.Customers
	}
	if st.Subs != nil {
		f.subs = st.Subs
	}
	if st.Disputes != nil {
		f.disputes = st.Disputes
	}
	return nil
}
