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
		id, raw, ok, err := q.Take(ctx, "tg", 5, "a", time.Minute)
		if err != nil || !ok || id != want || string(raw) != fmt.Sprintf(`{"update_id":%d}`, want) {
			t.Fatalf("Take = %d, %q, %v, %v; want update %d", id, raw, ok, err, want)
		}
		if _, _, ok, err := q.Take(ctx, "tg", 5, "b", time.Minute); ok || err != nil {
			t.Fatalf("another owner took a claimed chat: %v, %v", ok, err)
		}
		if err := q.Done(ctx, "tg", 5, "a", id); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, ok, err := q.Take(ctx, "tg", 5, "a", time.Minute); ok || err != nil {
		t.Fatalf("Take on an empty queue = %v, %v", ok, err)
	}
	if pending, err := q.Pending(ctx); err != nil || len(pending) != 0 {
		t.Fatalf("Pending after the queue drained = %v, %v; want none", pending, err)
	}
	// The claim was released: another owner takes the next update at once.
	if err := q.Push(ctx, "tg", 5, 13, []byte(`{"update_id":13}`)); err != nil {
		t.Fatal(err)
	}
	if id, _, ok, err := q.Take(ctx, "tg", 5, "b", time.Minute); !ok || err != nil || id != 13 {
		t.Fatalf("Take by another owner after release = %d, %v, %v; want 13", id, ok, err)
	}
}
