package conversations

import (
	"testing"
	"time"
)

// TestStateCacheKeepsTheChatsInUse: a conversation with an update in the
// last idle period stays cached; one silent for two periods is forgotten,
// so memory follows the chats in use; the size bound holds whatever the
// clock says; the applied update id never goes back.
func TestStateCacheKeepsTheChatsInUse(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	c := newStateCache(100, time.Minute, func() time.Time { return now })
	active, silent := Key{Platform: "tg", ChatID: 1, UserID: 1}, Key{Platform: "tg", ChatID: 2, UserID: 2}
	c.put(active, State{Flow: "a"}, 1)
	c.put(silent, State{Flow: "s"}, 1)
	for i := range 3 {
		now = now.Add(time.Minute)
		c.put(active, State{Flow: "a"}, 2+i)
	}
	if _, applied, ok := c.get(active); !ok || applied != 4 {
		t.Errorf("the active chat: cached %v, applied %d; want cached, 4", ok, applied)
	}
	if _, _, ok := c.get(silent); ok {
		t.Error("a chat silent for three idle periods is still cached")
	}
	c.put(active, State{}, 2) // a re-delivery's id does not lower the mark
	if _, applied, _ := c.get(active); applied != 4 {
		t.Errorf("applied = %d after an older id, want 4", applied)
	}
	for i := range 1000 {
		c.put(Key{Platform: "tg", ChatID: int64(100 + i), UserID: 1}, State{}, 1)
	}
	if n := c.len(); n > 100 {
		t.Errorf("%d conversations cached, bound 100", n)
	}
}
