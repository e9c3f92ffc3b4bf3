package ingest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"time"
)

// Group commit. Concurrent call events share transactions: each event is queued,
// and up to batchWorkers goroutines take whatever is queued (up to maxBatch events)
// and store it with storeCalls, two round trips for the whole batch. Nothing
// waits for a batch to fill: an event that arrives when no flush is running is
// stored at once, alone; while one is, events queue and the next batch takes them
// all, so BEGIN, COMMIT, the WAL flush, the cases-and-audit statement and the
// round trips are shared.
//
// A second (third, fourth) flush starts only once spillAt events are waiting, not
// for every event that finds the running flushes busy: at 1,000 deliveries a second
// four concurrent flushes took one or two events each (5,418 flushes for 10,000
// events), and each flush's fixed cost in Postgres (its statement start-up, the
// commit) was paid that many more times. Under a real backlog all four still run.
//
// A failed batch is retried event by event, so one event that cannot be stored
// fails alone. Workers start on demand and end when the queue is empty.
//
// An answer is never a guess: a caller whose deadline passes while its event is
// still queued withdraws it (the event is then never stored, and the caller says
// so); once a flush has taken the event, the caller waits for that flush (at most
// batchTimeout) and reports what it did.
const (
	batchWorkers = 4
	maxBatch     = 64
	spillAt      = 16 // events waiting before another flush joins the running ones
	batchTimeout = 20 * time.Second
)

// BatchCapacity is how many call events the flushes can hold at once; admission
// control in front of Ingest is sized from it.
const BatchCapacity = batchWorkers * maxBatch

// ErrWithdrawn is returned when a delivery's deadline passed before a flush took it:
// it was not stored, and a retry is safe.
var ErrWithdrawn = errors.New("deadline passed before the delivery was stored; withdrawn, nothing stored")

// States of a batchItem: queued, then taken by a flush or withdrawn by its caller,
// whichever comes first.
const (
	itemQueued int32 = iota
	itemTaken
	itemWithdrawn
)

type batchItem struct {
	e     callEvent
	res   Result
	err   error
	state atomic.Int32
	done  chan struct{}
}

type batcher struct {
	in     chan *batchItem
	active atomic.Int32
}

// store stores one call event through the batcher and waits for its result.
func (s *Service) store(ctx context.Context, e callEvent) (Result, error) {
	s.batchOnce.Do(func() { s.batch = &batcher{in: make(chan *batchItem, 4096)} })
	it := &batchItem{e: e, done: make(chan struct{})}
	select {
	case s.batch.in <- it:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("%w (%v)", ErrWithdrawn, ctx.Err())
	}
	s.kick()
	select {
	case <-it.done:
		return it.res, it.err
	case <-ctx.Done():
	}
	if it.state.CompareAndSwap(itemQueued, itemWithdrawn) {
		return Result{}, fmt.Errorf("%w (%v)", ErrWithdrawn, ctx.Err())
	}
	// A flush has it: its outcome, whatever it is, is the answer.
	<-it.done
	return it.res, it.err
}

// kick starts a worker when none is running, or when spillAt events wait for the
// running ones, unless batchWorkers are running. A worker that finds nothing to take
// looks at the queue again after leaving (drain), so an event queued while the last
// worker leaves is not stranded.
func (s *Service) kick() {
	if s.batch.active.Load() > 0 && len(s.batch.in) < spillAt {
		return
	}
	if s.batch.active.Add(1) > batchWorkers {
		s.batch.active.Add(-1)
		return
	}
	go s.drain()
}

func (s *Service) drain() {
	for {
		items := s.take()
		if len(items) == 0 {
			s.batch.active.Add(-1)
			if len(s.batch.in) == 0 {
				return // a later event's kick starts a worker
			}
			// An event was queued while this worker was leaving, and its kick may have
			// found no free slot: take the slot back, unless others hold them all.
			if s.batch.active.Add(1) > batchWorkers {
				s.batch.active.Add(-1)
				return
			}
			continue
		}
		s.runBatch(items)
	}
}

// take returns what is queued, up to maxBatch events, without waiting; events their
// callers withdrew are dropped.
func (s *Service) take() []*batchItem {
	var items []*batchItem
	for len(items) < maxBatch {
		select {
		case it := <-s.batch.in:
			if it.state.CompareAndSwap(itemQueued, itemTaken) {
				items = append(items, it)
			}
		default:
			return items
		}
	}
	return items
}

func (s *Service) runBatch(items []*batchItem) {
	// One lock order for every batch: by call id (stable, so a call's events keep
	// their arrival order).
	sort.SliceStable(items, func(i, j int) bool { return items[i].e.ev.Call.ID < items[j].e.ev.Call.ID })
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	evs := make([]callEvent, len(items))
	for i, it := range items {
		evs[i] = it.e
	}
	res, err := s.storeCalls(ctx, evs)
	if err != nil && len(items) > 1 {
		for _, it := range items {
			r, err := s.storeCalls(ctx, []callEvent{it.e})
			if err == nil {
				it.res = r[0]
			}
			it.err = err
			close(it.done)
		}
		return
	}
	for i, it := range items {
		if err == nil {
			it.res = res[i]
		}
		it.err = err
		close(it.done)
	}
}
