package audit_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
)

// syncBuffer is a log destination the test may read while the sealer writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startSealer runs RunSealer until the returned stop func is called; stop waits for
// it to return.
func startSealer(db *gorm.DB, every time.Duration, log *slog.Logger) (stop func()) {
	c, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		audit.RunSealer(c, db, every, log)
	}()
	return func() { cancel(); <-done }
}

// eventually polls cond every 10 ms for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func headSeq(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	h, err := audit.CurrentHead(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	return h.Seq
}

func TestRunSealerSealsInTheBackground(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	stop := startSealer(db, 5*time.Millisecond, slog.New(slog.DiscardHandler))
	defer stop()
	for i := range 3 {
		appendTx(t, db, entry(i))
	}
	eventually(t, "3 entries sealed", func() bool { return headSeq(t, db) == 3 })
	if rep := mustVerify(t, db, nil); !rep.OK() || rep.Entries != 3 || rep.Unsealed != 0 {
		t.Fatalf("verify: %+v", rep)
	}
}

func TestRunSealerSealsOnShutdown(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	appendTx(t, db, entry(1))
	appendTx(t, db, entry(2))
	// An hour between rounds: only the final seal can have sealed these.
	stop := startSealer(db, time.Hour, slog.New(slog.DiscardHandler))
	stop()
	if rep := mustVerify(t, db, nil); !rep.OK() || rep.Entries != 2 || rep.Unsealed != 0 {
		t.Fatalf("after shutdown: %+v", rep)
	}
}

// While the database refuses, the sealer logs and keeps trying; once it answers
// again, the backlog is sealed.
func TestRunSealerLogsErrorsAndRecovers(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	appendTx(t, db, entry(1))
	appendTx(t, db, entry(2))
	if err := db.Exec("ALTER TABLE audit_log RENAME TO audit_log_away").Error; err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	stop := startSealer(db, 5*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
	defer stop()
	eventually(t, "a logged seal failure", func() bool { return strings.Contains(logs.String(), "audit: seal failed") })
	if err := db.Exec("ALTER TABLE audit_log_away RENAME TO audit_log").Error; err != nil {
		t.Fatal(err)
	}
	eventually(t, "the backlog sealed", func() bool { return headSeq(t, db) == 2 })
	if !strings.Contains(logs.String(), "audit_log") || !strings.Contains(logs.String(), "failures=") {
		t.Fatalf("log: %s", logs.String())
	}
}

// While the foreground is busy the sealer steps aside: nothing for BusyDefer, then one
// round of at most 1,000 entries instead of everything; nothing is lost, and shutdown
// seals the rest.
func TestRunSealerSlowsDownWhileBusy(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	const n = 1100 // more than one round (sealBatch, 1,000)
	err := db.Transaction(func(tx *gorm.DB) error {
		for i := range n {
			if _, err := audit.Append(ctx, tx, entry(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const deferFor = 2 * time.Second
	c, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	started := time.Now()
	go func() {
		defer close(done)
		audit.RunSealerWith(c, db, audit.SealerOptions{Every: 5 * time.Millisecond, Log: slog.New(slog.DiscardHandler),
			Busy: func() bool { return true }, BusyEvery: 20 * time.Millisecond, BusyDefer: deferFor})
	}()
	time.Sleep(deferFor / 4)
	if got := headSeq(t, db); got != 0 && time.Since(started) < deferFor {
		t.Fatalf("busy: %d entries sealed %s after the start, want none before %s", got, time.Since(started), deferFor)
	}
	eventually(t, "one busy round sealed", func() bool { return headSeq(t, db) > 0 })
	if took := time.Since(started); took < deferFor {
		t.Errorf("the first busy round sealed %s after the start, want at least %s", took, deferFor)
	}
	time.Sleep(200 * time.Millisecond)
	if got := headSeq(t, db); got != 1000 {
		t.Errorf("busy: %d entries sealed, want one round of 1000", got)
	}
	cancel()
	<-done
	if rep := mustVerify(t, db, nil); !rep.OK() || rep.Entries != n || rep.Unsealed != 0 {
		t.Fatalf("after shutdown: %+v", rep)
	}
}
