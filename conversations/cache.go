package conversations

import (
	"sync"
	"time"
)

// stateCache keeps the last state this process committed for each
// conversation, so the happy path skips the Load round trip. It is only a
// hint: every write is a compare-and-set, and a stale entry loses the race,
// is dropped and re-read.
//
// It holds the conversations active lately, not every one ever seen: entries
// live in two generations, and as states are stored, once an idle period has
// passed (or the newer generation holds half of max) the older one is
// forgotten. Under load a chat silent for one to two idle periods is read
// from Redis again — one round trip, nothing more — and memory follows the
// chats in use, not all the chats since the start; when nothing is stored,
// nothing rotates, and the two generations stay as they were.
type stateCache struct {
	mu      sync.Mutex
	max     int
	idle    time.Duration
	now     func() time.Time
	rotated time.Time
	cur     map[Key]cached
	old     map[Key]cached
}

// cached is a state and the last update this process applied to it. Update
// ids increase per bot and one chat's updates are handled in order, so an
// id at or below it is a re-delivery.
type cached struct {
	st      State
	applied int
}

// cacheIdle is how long a conversation stays cached without an update: one
// to two of these.
const cacheIdle = 5 * time.Minute

func newStateCache(max int, idle time.Duration, now func() time.Time) *stateCache {
	return &stateCache{max: max, idle: idle, now: now, rotated: now(), cur: make(map[Key]cached)}
}

func (c *stateCache) get(k Key) (State, int, bool) {
	if c.max <= 0 {
		return State{}, 0, false // disabled: other processes write the same conversations
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cur[k]
	if !ok {
		e, ok = c.old[k]
	}
	return e.st, e.applied, ok
}

func (c *stateCache) put(k Key, s State, applied int) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.rotated) >= c.idle || len(c.cur) >= c.max/2 {
		c.old, c.cur, c.rotated = c.cur, make(map[Key]cached, len(c.cur)), now
	}
	e, ok := c.cur[k]
	if !ok {
		e, ok = c.old[k]
		delete(c.old, k)
	}
	if ok && e.applied > applied {
		applied = e.applied
	}
	c.cur[k] = cached{st: s, applied: applied}
}

func (c *stateCache) drop(k Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cur, k)
	delete(c.old, k)
}

// len is how many conversations are cached.
func (c *stateCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
