// Package ingest stores a verified DialNexa delivery and everything that follows from
// it in one transaction: the redacted delivery, the normalised call, its cases, the
// outbox rows for the jobs that enrich them (internal/jobs turns each into exactly
// one River job), and the audit entries. Concurrent deliveries share transactions
// (group commit, batch.go); a delivery's outcome is the one it would have alone.
//
// Invariants:
//   - Nothing unredacted is written, logged or queued: the whole delivery (every key,
//     string and number) passes redact.JSON before it is decoded, and everything
//     after that reads only the redacted document. A body that is not JSON is kept
//     only as redacted, truncated text.
//   - Deduplication is permanent and enforced by a unique index on
//     (source, dedup_key), where the key is the call id, the normalised event kind and
//     the status class (case, spacing and synonyms folded; every terminal status is
//     one). A repeat changes nothing and is answered as a duplicate.
//   - A call's status never regresses: a late "initiated" never undoes "completed".
//   - A decided call is not rewritten: once one of its cases left 'new', a delivery
//     that would change what the case rests on (amount, currency, invoice, payment id,
//     customer, email) is kept in call_versions, the decided cases are flagged
//     (cases.call_changed_at) and audited, and the call keeps its values.
//   - An error from Ingest means nothing was stored (batch.go withdraws or waits).
//   - During a burst (InboxRate deliveries a second) a call event's 200 means it is
//     durable, redacted, in webhook_inbox; the processor (inbox.go) files it into
//     all of the above in the transaction that deletes its inbox row, within
//     about half a minute. Below that rate a 200 means its call and cases exist.
//   - A call gets at most one case per kind (unique (call_id, kind)).
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/load"
	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/textsafe"
	"github.com/countersign/countersign/internal/triage"
	"github.com/countersign/countersign/internal/vault"
)

// Outcome says what a delivery did.
type Outcome string

// Outcomes of Ingest.
const (
	Stored       Outcome = "stored"       // a new call event was stored
	Duplicate    Outcome = "duplicate"    // seen before: nothing changed
	Ignored      Outcome = "ignored"      // validly signed, not a call event
	Verification Outcome = "verification" // DialNexa's URL check
	Rejected     Outcome = "rejected"     // malformed: stored for diagnosis, answered 400
	// Versioned: the call has a decided case and this delivery would change what the
	// case rests on; it is kept as a version of the call (call_versions), the decided
	// cases are flagged, and the call itself is not changed.
	Versioned Outcome = "versioned"
)

// ErrMalformed wraps decoding failures of a validly signed body.
var ErrMalformed = errors.New("malformed delivery")

// Result describes what Ingest did.
type Result struct {
	Outcome    Outcome
	DeliveryID int64
	CallID     int64
	CaseIDs    []int64
	Suppressed redact.Counts
	Queued     int // job_outbox rows written: a claim check per case, a backfill for a bare call
}

// Service ingests deliveries.
type Service struct {
	Pool    *pgxpool.Pool
	Mapping triage.Mapping
	// Owners names the finance owner of each case kind.
	Owners map[triage.Kind]string
	// Routes pick a person or team by kind, amount, region and VIP before Owners
	// (COUNTERSIGN_OWNER_ROUTES); the first match wins.
	Routes  []Route
	BaseURL string // for case record URLs
	// CriticalAmounts is the amount line, per currency, from which a case is
	// critical (COUNTERSIGN_CRITICAL_AMOUNTS); nil keeps triage's defaults.
	CriticalAmounts map[string]int64
	// Queued, when set, is called after a delivery committed rows to job_outbox
	// (internal/jobs wakes its dispatcher). It must not block.
	Queued func()
	// Load, when set, counts every delivery Ingest is given, so that background
	// maintenance can slow down during a burst (internal/load).
	Load *load.Gauge
	// Vault, when set, keeps the originals of restricted values (tax ids, bank
	// details) encrypted with the call; without it they are only masked.
	Vault *vault.Keyring
	Now   func() time.Time

	batchOnce sync.Once
	batch     *batcher
	inbox     inboxState
}

// DefaultOwners is who owns each queue when configuration says nothing.
var DefaultOwners = map[triage.Kind]string{
	triage.Dispute:           "Finance · disputes",
	triage.Refund:            "Finance · refunds",
	triage.Collections:       "Collections",
	triage.DocumentResend:    "Billing operations",
	triage.BillingCorrection: "Billing operations",
	triage.PaymentBlocker:    "Finance · VIP desk",
	triage.Review:            "Support leads",
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Ingest stores one delivery whose signature has already been verified. It returns an
// error wrapping ErrMalformed for bodies that cannot be decoded (the delivery is still
// stored, redacted, as rejected), and any other error when nothing could be stored.
//
// ctx bounds only the wait for a call event's turn in a batch (see batch.go): an
// error means nothing was stored. The single-statement paths (rejected, ignored,
// verification) run to completion once started, so a caller that gives up cannot
// leave an insert in doubt.
func (s *Service) Ingest(ctx context.Context, raw []byte) (Result, error) {
	s.Load.Add(1)
	digest := sha256.Sum256(raw)
	callerCtx := ctx
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), batchTimeout)
	defer cancel()
	// A \u0000 escape becomes U+FFFD rather than losing the call (textsafe); what is
	// still not storable (a lone surrogate escape, a NUL byte, invalid UTF-8) never
	// will be, so it is kept as rejected and answered 4xx, never 5xx.
	raw = textsafe.ReplaceNULEscapes(raw)
	if err := textsafe.StorableJSON(raw); err != nil {
		// Postgres cannot store it as sent; DialNexa must not retry it for ever.
		id, serr := s.storeRejected(ctx, raw, digest[:], err)
		if serr != nil {
			return Result{}, serr
		}
		return Result{Outcome: Rejected, DeliveryID: id}, malformed(err)
	}
	// Suppression is a property of the whole document: every key, string and
	// number is redacted here, once, and nothing after this line sees raw.
	doc, rerr := redact.JSONDocument(raw)
	if rerr != nil {
		id, err := s.storeRejected(ctx, raw, digest[:], rerr)
		if err != nil {
			return Result{}, err
		}
		return Result{Outcome: Rejected, DeliveryID: id}, malformed(rerr)
	}
	body := doc.Body
	// The suppression flag lists what was masked and the private documents named.
	counts := redact.Counts(nil).Add(doc.Counts).Add(doc.Mentions)
	// The walk's tree is the redacted document itself (doc.Value): decoding it
	// instead of parsing doc.Body again saves a JSON parse per delivery.
	ev, decErr := dialnexa.DecodeValue(doc.Value)
	if decErr != nil {
		id, err := s.storeRejected(ctx, body, digest[:], decErr)
		if err != nil {
			return Result{}, err
		}
		return Result{Outcome: Rejected, DeliveryID: id}, malformed(decErr)
	}
	switch ev.Kind {
	case dialnexa.KindVerification, dialnexa.KindIgnored:
		outcome := Ignored
		if ev.Kind == dialnexa.KindVerification {
			outcome = Verification
		}
		id, err := s.storePlain(ctx, body, counts, digest[:], ev.EventType, outcome)
		return Result{Outcome: outcome, DeliveryID: id, Suppressed: counts}, err
	}
	e := callEvent{body: body, counts: counts, found: doc.Restricted,
		restricted: len(doc.Mentions) > 0, digest: digest[:], ev: ev}
	if s.inboxing() {
		// A burst: durable in the inbox is the answer; the processor files it (inbox.go).
		return s.toInbox(ctx, e)
	}
	res, err := s.store(callerCtx, e)
	if err != nil {
		return Result{}, fmt.Errorf("ingest: %w", err)
	}
	if res.Queued > 0 && s.Queued != nil {
		s.Queued()
	}
	return res, nil
}

// malformed wraps a decoding failure in ErrMalformed with its message redacted:
// the webhook handler logs it and answers it to the sender.
func malformed(err error) error {
	msg, _ := redact.String(err.Error())
	return fmt.Errorf("%w: %s", ErrMalformed, msg)
}

// DedupKey is the permanent replay key of a call event: the call id, the normalised
// event kind and the status class, so that a redelivery spelling the status
// differently ("Completed", " completed") or naming another terminal status
// ("hangup" after "completed") is the duplicate it is. Every ended event is one
// class: a call ends once.
func DedupKey(ev dialnexa.Event) string {
	class := dialnexa.StatusClass(ev.Call.Status)
	if ev.Kind == dialnexa.KindEnded {
		class = "ended"
	}
	return ev.Call.ID + ":" + string(ev.Kind) + ":" + class
}

func redactedBody(raw []byte) (body json.RawMessage, text string, counts redact.Counts) {
	if textsafe.StorableJSON(raw) == nil {
		if b, c, err := redact.JSON(raw); err == nil {
			return b, "", c
		}
	}
	t, c := redact.String(textsafe.Clean(truncateUTF8(string(raw), 64<<10)))
	return nil, t, c
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func countsJSON(c redact.Counts) json.RawMessage {
	if len(c) == 0 {
		return json.RawMessage("{}")
	}
	b, _ := json.Marshal(c)
	return b
}

func (s *Service) storeRejected(ctx context.Context, raw, digest []byte, decErr error) (int64, error) {
	body, text, counts := redactedBody(raw)
	msg, _ := redact.String(decErr.Error())
	var id int64
	err := s.Pool.QueryRow(ctx, `INSERT INTO webhook_deliveries
		(source, raw_sha256, outcome, error, body, body_text, suppressed)
		VALUES ('dialnexa', $1, 'rejected', $2, $3::jsonb, $4, $5::jsonb) RETURNING id`,
		digest, msg, nullJSON(body), text, string(countsJSON(counts))).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("ingest: store rejected delivery: %w", err)
	}
	return id, nil
}

// storePlain records a delivery that is no call event; body is already redacted.
func (s *Service) storePlain(ctx context.Context, body json.RawMessage, counts redact.Counts, digest []byte, eventType string, outcome Outcome) (int64, error) {
	var id int64
	err := s.Pool.QueryRow(ctx, `INSERT INTO webhook_deliveries
		(source, raw_sha256, event_type, outcome, body, body_text, suppressed)
		VALUES ('dialnexa', $1, $2, $3, $4::jsonb, '', $5::jsonb) RETURNING id`,
		digest, truncateUTF8(eventType, 200), string(outcome), nullJSON(body), string(countsJSON(counts))).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("ingest: store %s delivery: %w", outcome, err)
	}
	return id, nil
}

// nullJSON lets a nil body be stored as SQL NULL rather than invalid jsonb.
func nullJSON(b json.RawMessage) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}
