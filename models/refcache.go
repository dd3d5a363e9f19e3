package models

import (
	"sync"
	"time"
)

// refTTL is how long reference data (provinces, counties, places,
// committees, programmes) read from the database is reused. Nearly every
// step of a resident's flow lists or checks some of it, and it changes only
// when someone seeds; another process's seed shows here within refTTL.
const refTTL = time.Minute

// refCache keeps reference data read recently. The values it returns are
// shared: callers must not modify them.
type refCache struct {
	mu sync.Mutex
	m  map[string]refEntry
}

type refEntry struct {
	v       any
	expires time.Time
}

// cached returns the value stored under key, or loads and stores it. Errors
// are not cached.
func cached[T any](s *Store, key string, load func() (T, error)) (T, error) {
	now := time.Now()
	c := &s.refs
	c.mu.Lock()
	if e, ok := c.m[key]; ok && now.Before(e.expires) {
		c.mu.Unlock()
		return e.v.(T), nil
	}
	c.mu.Unlock()
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]refEntry)
	}
	c.m[key] = refEntry{v: v, expires: now.Add(refTTL)}
	c.mu.Unlock()
	return v, nil
}

// forget empties the cache (after a seed changed the reference data).
func (c *refCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}
