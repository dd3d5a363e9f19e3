package bot

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
)

// flakyQueue is a MemQueue whose first pushes fail, as a Redis that hangs.
type flakyQueue struct {
	*MemQueue
	failPushes atomic.Int32
}

func (f *flakyQueue) Push(ctx context.Context, k ChatKey, id int, raw []byte) error {
	if f.failPushes.Add(-1) >= 0 {
		return errors.New("redis: i/o timeout")
	}
	return f.MemQueue.Push(ctx, k, id, raw)
}

type apologies struct {
	mu  sync.Mutex
	ids []int
}

func (a *apologies) Unavailable(_ context.Context, u Update) {
	a.mu.Lock()
	a.ids = append(a.ids, u.ID)
	a.mu.Unlock()
}

// TestPollerApologisesWhenTheQueueIsDown: an update that cannot be queued
// is not confirmed, its sender is told once, polling waits, and once the
// queue takes it the update is handled.
func TestPollerApologisesWhenTheQueueIsDown(t *testing.T) {
	srv := bottest.New(t)
	q := &flakyQueue{MemQueue: NewMemQueue()}
	q.failPushes.Store(3)
	sorry := &apologies{}
	e := newPtEnv(t, srv, func(c *PollerConfig) {
		c.Dispatch.Queue = q
		c.Apologizer = sorry
	})
	e.queue = q.MemQueue
	chat, user := bottest.Private(21)
	id := srv.SendText(chat, user, "سلام")
	seen := newPtSeen()
	e.start(t, seen.recorder())
	seen.waitHandled(t, id)
	e.waitConfirmed(t, id)
	sorry.mu.Lock()
	defer sorry.mu.Unlock()
	if len(sorry.ids) != 1 || sorry.ids[0] != id {
		t.Errorf("apologies for %v, want one for update %d", sorry.ids, id)
	}
	if got := ptCount(t, e.metrics.PollErrors, "tg", "queue"); got != 3 {
		t.Errorf("queue failures counted %v, want 3", got)
	}
}

// TestPollHealth: three failed getUpdates in a row make the poller
// unhealthy; a success makes it healthy again.
func TestPollHealth(t *testing.T) {
	srv := bottest.New(t)
	e := newPtEnv(t, srv, nil)
	if err := e.poller.PollHealth(); err != nil {
		t.Fatalf("before polling: %v", err)
	}
	srv.FailNext("getUpdates", 3, bottest.Fault{Code: 502})
	block := make(chan struct{})
	e.waits = newPtWaits()
	e.poller.cfg.Wait = func(ctx context.Context, d time.Duration) error {
		if e.poller.failures.Load() >= 3 {
			<-block // hold the poller after the third failure
		}
		return ctx.Err()
	}
	e.start(t, newPtSeen().recorder())
	deadline := time.Now().Add(ptTimeout)
	for e.poller.PollHealth() == nil {
		if time.Now().After(deadline) {
			t.Fatal("three failed polls never made the poller unhealthy")
		}
		<-time.After(time.Millisecond)
	}
	close(block)
	chat, user := bottest.Private(22)
	id := srv.SendText(chat, user, "x")
	e.waitConfirmed(t, id)
	if err := e.poller.PollHealth(); err != nil {
		t.Errorf("after a successful poll: %v", err)
	}
}
