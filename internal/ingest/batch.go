package ingest

import (
	"context"
	"sort"
	"sync/atomic"
	"time"
)

// Group commit. Concurrent call events share transactions: each event is queued,
// and up to batchWorkers goroutines take whatever is queued (up to maxBatch events)
// and store it with storeCalls, three round trips for the whole batch. Nothing
// waits for a batch to fill: an event that arrives when a worker is free is stored
// at once, alone; under load, events queue while the workers are busy and the next
// batches grow, so BEGIN, COMMIT, the WAL flush and the round trips are shared.
//
// A failed batch is retried event by event, so one event that cannot be stored
// fails alone. Workers start on demand and end when the queue is empty.
const (
	batchWorkers = 4
	maxBatch     = 64
	batchTimeout = 20 * time.Second
)

type batchItem struct {
	e    callEvent
	res  Result
	err  error
	done chan struct{}
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
		return Result{}, ctx.Err()
	}
	s.kick()
	select {
	case <-it.done:
		return it.res, it.err
	case <-ctx.Done():
		// The event may still be stored; a retry of it is then a duplicate.
		return Result{}, ctx.Err()
	}
}

// kick starts a worker unless batchWorkers are running.
func (s *Service) kick() {
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

// take returns what is queued, up to maxBatch events, without waiting.
func (s *Service) take() []*batchItem {
	var items []*batchItem
	for len(items) < maxBatch {
		select {
		case it := <-s.batch.in:
			items = append(items, it)
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
