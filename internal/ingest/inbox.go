package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/load"
	"github.com/countersign/countersign/internal/redact"
)

// The webhook inbox. During a burst of deliveries (InboxRate a second and more) a
// verified call event is acknowledged once its redacted body is durable in
// webhook_inbox: one insert, as a bare receiver does, instead of waiting for the
// group commit that files it into deliveries, calls, cases, job outbox and audit
// log. The processor (RunInbox) files inbox rows in large batches through the same
// storeCalls, deleting each row in the transaction that files it, so every
// acknowledged delivery is filed exactly once (a row filed twice, by two
// processes, is the duplicate its dedup key makes it). While the burst lasts the
// processor steps aside, but never lets the oldest row wait longer than
// Options.MaxDefer; below the burst rate nothing is inboxed and a delivery's 200
// means its case exists, as before.
//
// This is what a webhook receiver is asked to do by the senders themselves
// (answer 2xx quickly, before any complex logic): DialNexa redelivers after an
// outage in bursts, and the case work can follow seconds later.
const (
	// InboxRate is the delivery rate (over the last second) from which call events
	// are acknowledged from the inbox.
	InboxRate = 300
	// InboxMax is the backlog beyond which deliveries are filed synchronously again
	// (and admission control in front of Ingest refuses what cannot wait).
	InboxMax = 100_000
	// inboxBatch is how many rows the processor files in one transaction.
	inboxBatch = 256
	// inboxAttempts is how often a row that fails to file is tried before the
	// processor leaves it for an operator (logged, and counted on /metrics).
	inboxAttempts = 5
)

// Accepted is the outcome of a delivery acknowledged from the inbox: durable,
// redacted, and filed shortly (see inbox.go).
const Accepted Outcome = "accepted"

type inboxState struct {
	on          atomic.Bool // a processor runs (RunInbox): bursts may be acknowledged from the inbox
	pending     atomic.Int64
	kick        chan struct{}
	stuckLogged atomic.Bool
}

// InboxPending is how many acknowledged deliveries wait in this process's view of
// the inbox.
func (s *Service) InboxPending() int64 { return s.inbox.pending.Load() }

// InboxOn reports whether a processor runs, so that bursts may be acknowledged from
// the inbox.
func (s *Service) InboxOn() bool { return s.inbox.on.Load() }

func (s *Service) inboxing() bool {
	return s.inbox.on.Load() && s.Load.PerSecond() >= InboxRate && s.inbox.pending.Load() < InboxMax
}

// toInbox keeps a verified, redacted call event in the inbox and wakes the processor.
func (s *Service) toInbox(ctx context.Context, e callEvent) (Result, error) {
	var sealed []byte
	if s.Vault != nil && len(e.found) > 0 {
		var err error
		if sealed, err = s.Vault.SealFindings(e.digest, e.found); err != nil {
			return Result{}, fmt.Errorf("ingest: seal restricted values: %w", err)
		}
	}
	_, err := s.Pool.Exec(ctx, `INSERT INTO webhook_inbox (raw_sha256, body, suppressed, restricted, sealed_findings)
		VALUES ($1, $2::jsonb, $3::jsonb, $4, $5)`, e.digest, string(e.body), string(countsJSON(e.counts)), e.restricted, sealed)
	if err != nil {
		return Result{}, fmt.Errorf("ingest: keep delivery in the inbox: %w", err)
	}
	s.inbox.pending.Add(1)
	select {
	case s.inbox.kick <- struct{}{}:
	default:
	}
	return Result{Outcome: Accepted, Suppressed: e.counts}, nil
}

// InboxOptions tune RunInbox.
type InboxOptions struct {
	Log *slog.Logger
	// Busy reports a burst; the processor steps aside while it does, at most
	// MaxDefer (load.DefaultMaxDefer when 0) behind the oldest row.
	Busy     func() bool
	MaxDefer time.Duration
	// DrainOnStop bounds the filing of what is left once ctx ends (20 s when 0);
	// what is still left is filed by the next start.
	DrainOnStop time.Duration
}

// RunInbox files the inbox until ctx ends, then what is left within DrainOnStop.
// While it runs, Ingest acknowledges call events from the inbox during bursts.
func (s *Service) RunInbox(ctx context.Context, o InboxOptions) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.MaxDefer <= 0 {
		o.MaxDefer = load.DefaultMaxDefer
	}
	if o.DrainOnStop <= 0 {
		o.DrainOnStop = 20 * time.Second
	}
	s.inbox.kick = make(chan struct{}, 1)
	s.refreshPending(ctx, o.Log)
	s.inbox.on.Store(true)
	defer s.inbox.on.Store(false)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var oldest time.Time // the oldest unfiled row's time, read once per deferral
	for ctx.Err() == nil {
		if s.inbox.pending.Load() <= 0 {
			select {
			case <-ctx.Done():
			case <-s.inbox.kick:
			case <-tick.C:
				s.refreshPending(ctx, o.Log) // rows another process left, or a restart's
			}
			continue
		}
		if oldest.IsZero() {
			oldest = s.oldestInbox(ctx)
		}
		if o.Busy != nil && o.Busy() && time.Since(oldest) < o.MaxDefer {
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		oldest = time.Time{} // filing moves it
		if n, err := s.fileInbox(context.WithoutCancel(ctx), o.Log); err != nil {
			o.Log.Error("webhook inbox: filing failed; retrying in a second", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		} else if n == 0 {
			s.inbox.pending.Store(0)
		}
	}
	// Stopping: the listener has closed, nothing new arrives. File what is left.
	s.inbox.on.Store(false)
	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.DrainOnStop)
	defer cancel()
	for stop.Err() == nil {
		n, err := s.fileInbox(stop, o.Log)
		if err != nil || n == 0 {
			break
		}
	}
	s.refreshPending(context.WithoutCancel(ctx), o.Log)
	if left := s.inbox.pending.Load(); left > 0 {
		o.Log.Warn("webhook inbox: acknowledged deliveries left for the next start to file", "left", left)
	}
}

func (s *Service) refreshPending(ctx context.Context, log *slog.Logger) {
	var n, stuck int64
	err := s.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE attempts < $1), count(*) FILTER (WHERE attempts >= $1)
		FROM webhook_inbox`, inboxAttempts).Scan(&n, &stuck)
	if err != nil {
		return
	}
	s.inbox.pending.Store(n)
	if stuck > 0 && s.inbox.stuckLogged.CompareAndSwap(false, true) {
		log.Error("webhook inbox: deliveries that failed to file 5 times wait for an operator (webhook_inbox.last_error says why)",
			"count", stuck)
	}
}

// oldestInbox is when the oldest unfiled row was acknowledged (now when there is
// none or it cannot be read).
func (s *Service) oldestInbox(ctx context.Context) time.Time {
	var at time.Time
	if err := s.Pool.QueryRow(ctx, `SELECT received_at FROM webhook_inbox WHERE attempts < $1 ORDER BY id LIMIT 1`,
		inboxAttempts).Scan(&at); err != nil {
		return time.Now()
	}
	return at
}

// inboxLockKey is the pg_try_advisory_lock key that lets one process at a time
// file the inbox (another would read the same rows and find them duplicates).
const inboxLockKey int64 = 0x696e626f78

// fileInbox files one batch of inbox rows and returns how many it took (0 also
// when another process is filing: it files these rows too).
func (s *Service) fileInbox(ctx context.Context, log *slog.Logger) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, batchTimeout)
	defer cancel()
	lock, err := s.Pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("lock the inbox: %w", err)
	}
	defer lock.Release()
	var mine bool
	if err := lock.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, inboxLockKey).Scan(&mine); err != nil {
		lock.Conn().Close(context.Background()) // the lock's state is unknown: end the session
		return 0, fmt.Errorf("lock the inbox: %w", err)
	}
	if !mine {
		return 0, nil
	}
	defer func() {
		if _, err := lock.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, inboxLockKey); err != nil {
			lock.Conn().Close(context.Background())
		}
	}()
	return s.fileInboxLocked(ctx, log)
}

func (s *Service) fileInboxLocked(ctx context.Context, log *slog.Logger) (int, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, received_at, raw_sha256, body, suppressed, restricted, sealed_findings
		FROM webhook_inbox WHERE attempts < $1 ORDER BY id LIMIT $2`, inboxAttempts, inboxBatch)
	if err != nil {
		return 0, fmt.Errorf("read the inbox: %w", err)
	}
	var evs []callEvent
	var bad []inboxFailure
	for rows.Next() {
		var e callEvent
		var body, counts, sealed []byte
		if err := rows.Scan(&e.inboxID, &e.at, &e.digest, &body, &counts, &e.restricted, &sealed); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read the inbox: %w", err)
		}
		e.body = body
		if err := json.Unmarshal(counts, &e.counts); err != nil {
			bad = append(bad, inboxFailure{e.inboxID, err})
			continue
		}
		if ev, err := dialnexa.Decode(body); err != nil || ev.Call == nil {
			bad = append(bad, inboxFailure{e.inboxID, fmt.Errorf("decode: %v", err)})
			continue
		} else {
			e.ev = ev
		}
		if len(sealed) > 0 {
			if s.Vault == nil {
				bad = append(bad, inboxFailure{e.inboxID, fmt.Errorf("restricted values sealed, and no COUNTERSIGN_VAULT_KEY to open them")})
				continue
			}
			if e.found, err = s.Vault.OpenFindings(e.digest, sealed); err != nil {
				bad = append(bad, inboxFailure{e.inboxID, err})
				continue
			}
		}
		evs = append(evs, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read the inbox: %w", err)
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].ev.Call.ID < evs[j].ev.Call.ID })
	queued, filed := 0, 0
	if len(evs) > 0 {
		res, err := s.storeCalls(ctx, evs)
		if err != nil {
			// File one by one: one row that cannot be filed must not hold the rest.
			for _, e := range evs {
				r, err := s.storeCalls(ctx, []callEvent{e})
				if err != nil {
					bad = append(bad, inboxFailure{e.inboxID, err})
					continue
				}
				queued += r[0].Queued
				filed++
			}
		} else {
			for _, r := range res {
				queued += r.Queued
			}
			filed = len(evs)
		}
	}
	for _, f := range bad {
		msg, _ := redact.String(f.err.Error())
		log.Error("webhook inbox: a delivery failed to file", "inbox_id", f.id, "err", msg)
		if _, err := s.Pool.Exec(ctx, `UPDATE webhook_inbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1`,
			f.id, msg); err != nil {
			return 0, fmt.Errorf("record an inbox failure: %w", err)
		}
	}
	n := filed + len(bad)
	s.inbox.pending.Add(-int64(filed))
	if queued > 0 && s.Queued != nil {
		s.Queued()
	}
	return n, nil
}

type inboxFailure struct {
	id  int64
	err error
}
