package conversations_test

import (
	"context"
	"fmt"
	"os"
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

// TestQueuePushAllClaimsFreeChats: PushAll queues a batch in one step (an id
// once), claims each chat nobody holds for the pusher and returns its
// oldest update, and leaves a chat another owner holds alone; the claimed
// chat is then busy for others and lets its owner go on with Done.
func TestQueuePushAllClaimsFreeChats(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t)
	q := conversations.NewQueue(rdb, conversations.QueueConfig{Prefix: redistest.Prefix(t)})
	// Chat 7 already has an older update; chat 8 is held by another owner.
	if err := q.Push(ctx, "tg", 7, 3, []byte(`{"update_id":3}`)); err != nil {
		t.Fatal(err)
	}
	if err := q.Push(ctx, "tg", 8, 4, []byte(`{"update_id":4}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, st, err := q.Take(ctx, "tg", 8, "other", time.Minute); st != conversations.TakeTaken || err != nil {
		t.Fatalf("other's Take = %v, %v", st, err)
	}
	raw := func(id int) []byte { return []byte(fmt.Sprintf(`{"update_id":%d}`, id)) }
	items := []conversations.Pushed{
		{Platform: "tg", ChatID: 7, ID: 5, Raw: raw(5)},
		{Platform: "tg", ChatID: 9, ID: 6, Raw: raw(6)},
		{Platform: "tg", ChatID: 8, ID: 7, Raw: raw(7)},
		{Platform: "tg", ChatID: 9, ID: 8, Raw: raw(8)},
		{Platform: "tg", ChatID: 9, ID: 6, Raw: raw(6)},
	}
	for round := range 2 { // the second round runs the cached script (EVALSHA)
		heads, err := q.PushAll(ctx, "me", time.Minute, items)
		if err != nil {
			t.Fatal(err)
		}
		if round == 1 {
			for i, h := range heads {
				if h.Claimed {
					t.Fatalf("second push: item %d claimed again (%+v); the chats are mine already", i, h)
				}
			}
			break
		}
		want := []conversations.Head{
			{Claimed: true, ID: 3, Raw: raw(3)}, // the chat's oldest, not the pushed one
			{Claimed: true, ID: 6, Raw: raw(6)},
			{}, // held by another owner
			{}, // claimed by the same batch
			{},
		}
		for i := range want {
			if heads[i].Claimed != want[i].Claimed || heads[i].ID != want[i].ID || string(heads[i].Raw) != string(want[i].Raw) {
				t.Fatalf("heads[%d] = %+v, want %+v", i, heads[i], want[i])
			}
		}
	}
	for chat, n := range map[int64]int64{7: 2, 8: 2, 9: 2} {
		if got, err := q.Len(ctx, "tg", chat); err != nil || got != n {
			t.Errorf("chat %d holds %d updates (%v), want %d", chat, got, err, n)
		}
	}
	if _, _, st, _ := q.Take(ctx, "tg", 9, "other", time.Minute); st != conversations.TakeBusy {
		t.Fatalf("another owner's Take of a chat PushAll claimed = %v, want busy", st)
	}
	if next, _, st, err := q.Done(ctx, "tg", 9, "me", 6, time.Minute); err != nil || st != conversations.TakeTaken || next != 8 {
		t.Fatalf("owner's Done(6) = %d, %v, %v; want 8 taken", next, st, err)
	}
	pending, err := q.Pending(ctx)
	if err != nil || len(pending) != 3 {
		t.Fatalf("Pending = %v, %v; want the three chats", pending, err)
	}
	// After a script flush the batch is sent again with the script's text
	// (on the in-process Redis only: a shared server's cache is others' too).
	if os.Getenv("TEST_REDIS_URL") != "" {
		return
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	heads, err := q.PushAll(ctx, "me", time.Minute, []conversations.Pushed{{Platform: "tg", ChatID: 10, ID: 9, Raw: raw(9)}})
	if err != nil || !heads[0].Claimed || heads[0].ID != 9 {
		t.Fatalf("PushAll after SCRIPT FLUSH = %+v, %v; want chat 10 claimed with update 9", heads, err)
	}
}
