package console

import (
	"context"
	"sync"
	"time"

	"gorm.io/gorm"
)

// CountCache serves KindCounts to every page of a process. Counting up to 10,000 open
// cases per queue costs tens of milliseconds at a million calls, far more than the
// page itself, and the sidebar needs no more than a few seconds' freshness. Counts
// younger than Fresh are served as they are; older ones (up to Stale) are served while
// one request refreshes them in the background; older still are recounted in line.
type CountCache struct {
	Fresh, Stale time.Duration

	mu         sync.Mutex
	val        Counts
	at         time.Time
	refreshing bool
}

// NewCountCache caches for 10 s fresh, 2 min stale.
func NewCountCache() *CountCache { return &CountCache{Fresh: 10 * time.Second, Stale: 2 * time.Minute} }

// Get returns the kind counts.
func (c *CountCache) Get(ctx context.Context, db *gorm.DB) (Counts, error) {
	c.mu.Lock()
	age := time.Since(c.at)
	switch {
	case !c.at.IsZero() && age < c.Fresh:
		v := c.val
		c.mu.Unlock()
		return v, nil
	case !c.at.IsZero() && age < c.Stale:
		v := c.val
		if !c.refreshing {
			c.refreshing = true
			go c.refresh(context.WithoutCancel(ctx), db)
		}
		c.mu.Unlock()
		return v, nil
	}
	c.mu.Unlock()
	v, err := KindCounts(ctx, db)
	if err == nil {
		c.store(v)
	}
	return v, err
}

// Invalidate drops the cached counts, so the next page recounts (after a change made
// by this process, the user who made it sees it at once).
func (c *CountCache) Invalidate() {
	c.mu.Lock()
	c.at = time.Time{}
	c.mu.Unlock()
}

func (c *CountCache) refresh(ctx context.Context, db *gorm.DB) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := KindCounts(ctx, db)
	c.mu.Lock()
	c.refreshing = false
	c.mu.Unlock()
	if err == nil {
		c.store(v)
	}
}

func (c *CountCache) store(v Counts) {
	c.mu.Lock()
	c.val, c.at = v, time.Now()
	c.mu.Unlock()
}
