package conversations

import (
	"slices"
	"testing"
)

// takeKeys cuts every key of a take from one string: they must be the keys
// the rest of the queue and the store spell, whatever the chat and however
// many states are written.
func TestTakeKeysSpellTheKeys(t *testing.T) {
	q := &Queue{prefix: "mh"}
	for _, c := range []struct {
		platform string
		chat     int64
		users    []int64
	}{
		{"tg", 42, nil},
		{"bale", -1001234567890, []int64{7}},
		{"tg", 9, []int64{9, 123456789012, -5}},
	} {
		var writes []StateWrite
		tag := q.tag(c.platform, c.chat)
		want := []string{queueKey(tag), leaseKey(tag), dedupKey(tag), blockedKey(tag)}
		for _, u := range c.users {
			writes = append(writes, StateWrite{Key: Key{Platform: c.platform, ChatID: c.chat, UserID: u}})
			want = append(want, stateKey(tag, u))
		}
		if got := q.takeKeys(c.platform, c.chat, writes); !slices.Equal(got, want) {
			t.Errorf("takeKeys(%s, %d, %v) = %q, want %q", c.platform, c.chat, c.users, got, want)
		}
	}
}
