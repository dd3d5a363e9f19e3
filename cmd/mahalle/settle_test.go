package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// settle waits until update id is confirmed and every queued update is
// handled: the bot confirms an update once it is queued in Redis, and a
// chat's queue loses an update only once it is handled.
func (h *harness) settle(ctx context.Context, id int) error {
	if err := h.srv.WaitConfirmed(ctx, id); err != nil {
		return err
	}
	rdb := h.redis()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	prefix := h.env["REDIS_KEY_PREFIX"]
	for {
		// Every chat's queue is empty (Redis drops an empty sorted set):
		// each update was handled before its queue entry was removed.
		n, err := countKeys(ctx, rdb, prefix+":{*}:q")
		if err == nil && n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("update %d confirmed, but %d chats still have queued updates (%v): %w", id, n, err, ctx.Err())
		case <-tick.C:
		}
	}
}

var harnessRedis sync.Map // *harness → redis.UniversalClient

// redis returns a client of the bot's Redis, closed at the end of the test.
func (h *harness) redis() redis.UniversalClient {
	if c, ok := harnessRedis.Load(h); ok {
		return c.(redis.UniversalClient)
	}
	opts, err := redisOptions(h.env["REDIS_URL"])
	if err != nil {
		h.t.Fatal(err)
	}
	c := redis.NewUniversalClient(opts)
	if prev, loaded := harnessRedis.LoadOrStore(h, c); loaded {
		_ = c.Close()
		return prev.(redis.UniversalClient)
	}
	h.t.Cleanup(func() {
		harnessRedis.Delete(h)
		_ = c.Close()
	})
	return c
}

// queued reports whether update id waits in some chat's queue.
func (h *harness) queued(id int) bool {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	rdb := h.redis()
	prefix := h.env["REDIS_KEY_PREFIX"]
	chats, err := rdb.ZRange(ctx, prefix+":queued", 0, -1).Result()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, c := range chats {
		n, err := rdb.ZCount(ctx, prefix+":{"+c+"}:q", fmt.Sprint(id), fmt.Sprint(id)).Result()
		if err != nil {
			h.t.Fatal(err)
		}
		if n > 0 {
			return true
		}
	}
	return false
}

// countKeys counts the keys matching pattern, on every master of a cluster.
func countKeys(ctx context.Context, rdb redis.UniversalClient, pattern string) (int64, error) {
	scan := func(ctx context.Context, c *redis.Client) (int64, error) {
		var n int64
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, pattern, 1000).Result()
			if err != nil {
				return 0, err
			}
			n += int64(len(keys))
			if cursor = next; cursor == 0 {
				return n, nil
			}
		}
	}
	switch c := rdb.(type) {
	case *redis.Client:
		return scan(ctx, c)
	case *redis.ClusterClient:
		var mu sync.Mutex
		var total int64
		err := c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			n, err := scan(ctx, node)
			mu.Lock()
			total += n
			mu.Unlock()
			return err
		})
		return total, err
	}
	return 0, fmt.Errorf("unknown redis client %T", rdb)
}
