package bot

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
)

// batchQueue is a MemQueue with PushAll, as the Redis queue has: a push
// claims a chat nobody holds and returns its oldest update. It counts the
// calls, so that a test sees which round trips the intake saved.
type batchQueue struct {
	*MemQueue
	pushAlls, takes atomic.Int32
	mu              sync.Mutex
	claimed         map[ChatKey]int // chat → how many pushes claimed it
}

func newBatchQueue() *batchQueue {
	return &batchQueue{MemQueue: NewMemQueue(), claimed: map[ChatKey]int{}}
}

func (b *batchQueue) PushAll(ctx context.Context, owner string, lease time.Duration, items []Pushed) ([]Head, error) {
	b.pushAlls.Add(1)
	heads := make([]Head, len(items))
	for i, it := range items {
		if err := b.Push(ctx, it.Key, it.ID, it.Raw); err != nil {
			return nil, err
		}
		m := b.MemQueue
		m.mu.Lock()
		now := m.now()
		if l, ok := m.owners[it.Key]; ok && now.Before(l.until) {
			m.mu.Unlock()
			continue
		}
		m.owners[it.Key] = memLease{owner: owner, until: now.Add(lease)}
		heads[i] = Head{Queued: m.items[it.Key][0], Claim: Taken}
		m.mu.Unlock()
		b.mu.Lock()
		b.claimed[it.Key]++
		b.mu.Unlock()
	}
	return heads, nil
}

func (b *batchQueue) Take(ctx context.Context, k ChatKey, owner string, lease time.Duration) (Queued, Claim, error) {
	b.takes.Add(1)
	return b.MemQueue.Take(ctx, k, owner, lease)
}

var _ BatchQueue = (*batchQueue)(nil)

// TestPollerBatchQueue: with a queue that pushes a batch at once and claims
// the free chats, every update is handled once, each chat's in order; a
// chat claimed by the push is handled without a Take.
func TestPollerBatchQueue(t *testing.T) {
	const chats, perChat = 20, 5
	srv := bottest.New(t)
	q := newBatchQueue()
	e := newPtEnv(t, srv, func(c *PollerConfig) {
		c.Dispatch.Queue = q
		c.Dispatch.Workers = 4
	})
	e.queue = q.MemQueue
	want := map[int64][]int{}
	last := 0
	for round := range perChat {
		for c := range chats {
			chat, user := bottest.Private(int64(2000 + c))
			last = srv.SendText(chat, user, fmt.Sprintf("پیام %d", round))
			want[chat.ID] = append(want[chat.ID], last)
		}
	}
	seen := newPtSeen()
	e.start(t, seen.recorder())
	e.waitConfirmed(t, last)
	for chat, ids := range want {
		if got := seen.chat(chat); !reflect.DeepEqual(got, ids) {
			t.Errorf("chat %d handled %v, want %v", chat, got, ids)
		}
		for _, id := range ids {
			if n := seen.callsOf(id); n != 1 {
				t.Errorf("update %d handled %d times, want once", id, n)
			}
		}
	}
	if q.pushAlls.Load() == 0 {
		t.Fatal("the poller never used PushAll")
	}
	if n := int(q.takes.Load()); n >= chats*perChat {
		t.Errorf("%d Takes for %d updates: the chats the push claimed should need none", n, chats*perChat)
	}

	// One by one, as people write: each update is claimed by its push and
	// handled without a Take.
	before := q.takes.Load()
	chat, user := bottest.Private(2100)
	for i := range 3 {
		id := srv.SendText(chat, user, fmt.Sprintf("تک %d", i))
		seen.waitHandled(t, id)
		e.waitConfirmed(t, id)
	}
	if got := seen.chat(chat.ID); len(got) != 3 {
		t.Errorf("chat handled %v, want 3 updates", got)
	}
	if n := q.takes.Load() - before; n > 1 { // the heartbeat may renew once
		t.Errorf("%d Takes for 3 updates pushed one by one, want none", n)
	}
}

// TestDispatcherStaleStash: an update a worker already handled through a
// Take is not handled again from the stash its push left.
func TestDispatcherStaleStash(t *testing.T) {
	d := newDispatcher(Telegram, DispatchConfig{}, Backoff{}, nil, nil, nil)
	k := ChatKey{Platform: Telegram, ChatID: 5}
	d.markHandled(k, 10)
	d.handoff(k, stashed{q: Queued{ID: 10}, at: d.now()})
	if _, ok := d.takeStash(k); ok {
		t.Fatal("a stash of a handled update was taken")
	}
	d.handoff(k, stashed{q: Queued{ID: 11}, at: d.now()})
	if st, ok := d.takeStash(k); !ok || st.q.ID != 11 {
		t.Fatalf("takeStash = %+v, %v; want update 11", st, ok)
	}
	// A stash older than half the lease is left to a Take.
	d.handoff(k, stashed{q: Queued{ID: 12}, at: d.now().Add(-d.cfg.Lease)})
	if _, ok := d.takeStash(k); ok {
		t.Fatal("an old stash was taken")
	}
}

// TestDispatcherHandledMarksForget: the marks that guard stashes outlive a
// stash's useful life (Lease/2) and no more, so a process that keeps meeting
// new chats does not keep one mark for each of them.
func TestDispatcherHandledMarksForget(t *testing.T) {
	d := newDispatcher(Telegram, DispatchConfig{}, Backoff{}, nil, nil, nil)
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	d.now = func() time.Time { return now }
	old := ChatKey{Platform: Telegram, ChatID: 1}
	d.markHandled(old, 7)
	for i := range 1000 {
		now = now.Add(d.cfg.Lease / 100)
		d.markHandled(ChatKey{Platform: Telegram, ChatID: int64(100 + i)}, 1)
		if i == 40 { // Lease·0.41 later: a stash of update 7 is still refused
			d.handoff(old, stashed{q: Queued{ID: 7}, at: now})
			if _, ok := d.takeStash(old); ok {
				t.Fatal("a stash of an update handled less than a lease ago was taken")
			}
		}
	}
	if n := d.handled.len(); n > 200 {
		t.Errorf("%d marks held after 1,000 chats over 10 leases, want those of the last two leases (≤ 200)", n)
	}
	if d.handledLocked(old, 7) {
		t.Error("the mark of a chat handled 10 leases ago is still held")
	}
}

// TestDispatcherSkipsARemovedUpdateQueuedAgain: an update handled and
// removed here, then queued again (getUpdates brings it until its offset is
// confirmed; a restarted process handles its predecessor's copy first), is
// removed unhandled: handled again it would repeat its reply. An update
// that comes late, with a lower id never handled here, is still handled.
func TestDispatcherSkipsARemovedUpdateQueuedAgain(t *testing.T) {
	srv := bottest.New(t)
	e := newPtEnv(t, srv, nil)
	seen := newPtSeen()
	e.start(t, seen.recorder())
	other, otherUser := bottest.Private(3001)
	chat, user := bottest.Private(3002)
	late := srv.SendText(other, otherUser, "پیام دیگری")
	first := srv.SendText(chat, user, "پیام اول")
	// Two chats, handled in either order.
	for got := map[int]bool{}; !got[late] || !got[first]; {
		select {
		case id := <-seen.handled:
			got[id] = true
		case <-time.After(ptTimeout):
			t.Fatalf("updates %d and %d not both handled", late, first)
		}
	}
	e.waitConfirmed(t, first)

	k := ChatKey{Platform: Telegram, ChatID: chat.ID}
	raw := func(id int, text string) []byte {
		return fmt.Appendf(nil, `{"update_id":%d,"message":{"message_id":%d,"date":1,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"ساکن"},"text":%q}}`,
			id, 900+id, chat.ID, user.ID, text)
	}
	ctx := context.Background()
	if err := e.queue.Push(ctx, k, first, raw(first, "پیام اول")); err != nil {
		t.Fatal(err)
	}
	if err := e.queue.Push(ctx, k, late, raw(late, "پیامی که دیر رسید")); err != nil {
		t.Fatal(err)
	}
	next := srv.SendText(chat, user, "پیام دوم") // wakes the chat
	seen.waitHandled(t, next)
	if got, want := seen.chat(chat.ID), []int{first, late, next}; !reflect.DeepEqual(got, want) {
		t.Errorf("chat handled %v, want %v: the copy of %d skipped, the late %d handled", got, want, first, late)
	}
	if n := e.queue.Len(k); n != 0 {
		t.Errorf("%d updates left in the chat's queue, want 0", n)
	}
}
