package conversations_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/conversations/redistest"
)

// TestQueueOrderClaimsAndIndex walks the life of one chat's queue: pushes
// out of order and twice, one owner at a time, the index listing the chat
// until its queue is drained.
func TestQueueOrderClaimsAndIndex(t *testing.T) {
	ctx := context.Background()
	q := conversations.NewQueue(redistest.Client(t), conversations.QueueConfig{Prefix: redistest.Prefix(t)})
	for _, id := range []int{12, 10, 11, 10} {
		if err := q.Push(ctx, "tg", 5, id, []byte(fmt.Sprintf(`{"update_id":%d}`, id))); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := q.Len(ctx, "tg", 5); err != nil || n != 3 {
		t.Fatalf("Len = %d, %v; want 3 (an id is queued once)", n, err)
	}
	pending, err := q.Pending(ctx)
	if err != nil || len(pending) != 1 || pending[0] != (conversations.Chat{Platform: "tg", ChatID: 5}) {
		t.Fatalf("Pending = %v, %v; want the chat", pending, err)
	}
	for _, want := range []int{10, 11, 12} {
		id, raw, st, err := q.Take(ctx, "tg", 5, "a", time.Minute)
		if err != nil || st != conversations.TakeTaken || id != want || string(raw) != fmt.Sprintf(`{"update_id":%d}`, want) {
			t.Fatalf("Take = %d, %q, %v, %v; want update %d", id, raw, st, err, want)
		}
		if _, _, st, err := q.Take(ctx, "tg", 5, "b", time.Minute); st != conversations.TakeBusy || err != nil {
			t.Fatalf("another owner's Take of a claimed chat = %v, %v; want busy", st, err)
		}
		next, _, st, err := q.Done(ctx, "tg", 5, "a", id, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if want < 12 && (st != conversations.TakeTaken || next != want+1) {
			t.Fatalf("Done(%d) = %d, %v; want the next update taken", id, next, st)
		}
		if want == 12 && st != conversations.TakeEmpty {
			t.Fatalf("Done of the last update = %v, want empty", st)
		}
	}
	if _, _, st, err := q.Take(ctx, "tg", 5, "a", time.Minute); st != conversations.TakeEmpty || err != nil {
		t.Fatalf("Take on an empty queue = %v, %v", st, err)
	}
	if pending, err := q.Pending(ctx); err != nil || len(pending) != 0 {
		t.Fatalf("Pending after the queue drained = %v, %v; want none", pending, err)
	}
	// The claim was released: another owner takes the next update at once.
	if err := q.Push(ctx, "tg", 5, 13, []byte(`{"update_id":13}`)); err != nil {
		t.Fatal(err)
	}
	if id, _, st, err := q.Take(ctx, "tg", 5, "b", time.Minute); st != conversations.TakeTaken || err != nil || id != 13 {
		t.Fatalf("Take by another owner after release = %d, %v, %v; want 13", id, st, err)
	}
}

// TestQueueLeaseRunsOut: a chat claimed by an owner that stops renewing
// (a crashed replica) is taken by another once the lease has run out.
func TestQueueLeaseRunsOut(t *testing.T) {
	ctx := context.Background()
	q := conversations.NewQueue(redistest.Client(t), conversations.QueueConfig{Prefix: redistest.Prefix(t)})
	if err := q.Push(ctx, "tg", 6, 1, []byte(`{"update_id":1}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, st, err := q.Take(ctx, "tg", 6, "dead", 50*time.Millisecond); st != conversations.TakeTaken || err != nil {
		t.Fatalf("first Take = %v, %v", st, err)
	}
	if _, _, st, _ := q.Take(ctx, "tg", 6, "alive", time.Minute); st != conversations.TakeBusy {
		t.Fatalf("Take while the lease runs = %v, want busy", st)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		id, _, st, err := q.Take(ctx, "tg", 6, "alive", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if st == conversations.TakeTaken && id == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dead owner's lease never ran out: %v", st)
		}
		<-time.After(10 * time.Millisecond)
	}
}
