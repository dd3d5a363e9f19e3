package conversations

import "sync"

// stateCache keeps the last state this process committed for each
// conversation, so the happy path skips the Load round trip. It is only a
// hint: every write is a compare-and-set, and a stale entry loses the race,
// is dropped and re-read. When full it is emptied rather than tracked
// entry by entry; a miss costs one round trip, nothing more.
type stateCache struct {
	mu  sync.Mutex
	max int
	m   map[Key]cached
}

// cached is a state and the last update this process applied to it. Update
// ids increase per bot and one chat's updates are handled in order, so an
// id at or below it is a re-delivery.
type cached struct {
	st      State
	applied int
}

func newStateCache(max int) *stateCache {
	return &stateCache{max: max, m: make(map[Key]cached)}
}

func (c *stateCache) get(k Key) (State, int, bool) {
	if c.max <= 0 {
		return State{}, 0, false // disabled: other processes write the same conversations
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	return e.st, e.applied, ok
}

func (c *stateCache) put(k Key, s State, applied int) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	if e, ok := c.m[k]; ok && e.applied > applied {
		applied = e.applied
	}
	c.m[k] = cached{st: s, applied: applied}
}

func (c *stateCache) drop(k Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}
