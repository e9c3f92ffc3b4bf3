package dashboard

import (
	"context"
	"sync"
	"time"

	"gorm.io/gorm"
)

// TTL is how long a computed snapshot counts as fresh.
const TTL = 30 * time.Second

// maxStale is how old a snapshot may be and still be served while a newer one is
// computed in the background; older than that, the caller waits for fresh figures.
const maxStale = 5 * time.Minute

// refreshTimeout bounds one background refresh.
const refreshTimeout = time.Minute

// Service serves dashboard snapshots from memory. A fresh snapshot (younger than TTL)
// is served as is; a stale one is served while one background refresh replaces it, so
// only the first request after start (or after a long idle) waits for the queries.
type Service struct {
	db  *gorm.DB
	ttl time.Duration
	now func() time.Time

	mu         sync.Mutex
	stats      *Stats
	at         time.Time
	refreshing bool
	done       chan struct{} // closed when the running background refresh ends (tests)

	loadMu sync.Mutex // one foreground load at a time
}

// NewService returns a Service over db with the default TTL.
func NewService(db *gorm.DB) *Service {
	return &Service{db: db, ttl: TTL, now: time.Now}
}

// Stats returns a snapshot: fresh, or stale by at most maxStale while a refresh runs.
func (s *Service) Stats(ctx context.Context) (*Stats, error) {
	s.mu.Lock()
	now := s.now()
	st, age := s.stats, now.Sub(s.at)
	switch {
	case st != nil && age < s.ttl:
		s.mu.Unlock()
		return st, nil
	case st != nil && age < maxStale:
		if !s.refreshing {
			s.refreshing = true
			s.done = make(chan struct{})
			go s.refresh(s.done)
		}
		s.mu.Unlock()
		return st, nil
	}
	s.mu.Unlock()
	return s.load(ctx)
}

// load computes a snapshot in the foreground; concurrent callers share one load.
func (s *Service) load(ctx context.Context) (*Stats, error) {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	s.mu.Lock()
	if s.stats != nil && s.now().Sub(s.at) < s.ttl {
		st := s.stats
		s.mu.Unlock()
		return st, nil
	}
	s.mu.Unlock()
	now := s.now()
	st, err := Load(ctx, s.db, now)
	if err != nil {
		return nil, err
	}
	s.store(st, now)
	return st, nil
}

func (s *Service) refresh(done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
	defer cancel()
	now := s.now()
	st, err := Load(ctx, s.db, now)
	s.mu.Lock()
	s.refreshing = false
	s.mu.Unlock()
	if err == nil { // on error the stale snapshot stays; the next request retries
		s.store(st, now)
	}
}

func (s *Service) store(st *Stats, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at.After(s.at) || s.stats == nil {
		s.stats, s.at = st, at
	}
}
