// Package redistest gives tests a Redis client: the real server named by
// TEST_REDIS_URL when it is set, otherwise an in-process miniredis. Tests of
// several packages share the real server at once, so they isolate by key
// prefix (Prefix) and never flush it.
package redistest

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Client returns a Redis client for the test, closed on t.Cleanup. With
// TEST_REDIS_URL set (redis://[user:pass@]host:port/db) it connects there and
// calls t.Fatal when the server cannot be reached: a configured backend is
// never skipped. Otherwise it starts a miniredis (which runs Lua scripts too).
func Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	var opts *redis.Options
	if url := os.Getenv("TEST_REDIS_URL"); url != "" {
		var err error
		if opts, err = redis.ParseURL(url); err != nil {
			t.Fatalf("redistest: TEST_REDIS_URL: %v", err)
		}
	} else {
		opts = &redis.Options{Addr: miniredis.RunT(t).Addr()}
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("redistest: ping %s: %v", opts.Addr, err)
	}
	return rdb
}

// Prefix returns a key prefix unique to this test ("mht" and 10 random
// characters), so tests running in parallel processes against one Redis
// never see each other's keys.
func Prefix(t testing.TB) string {
	t.Helper()
	return "mht" + rand.Text()[:10]
}

// RoundTrips is a hook that counts round trips: each command or pipeline
// sent. Add it with AddHook.
type RoundTrips struct {
	mu   sync.Mutex
	cmds []string // one entry per round trip
}

// DialHook implements redis.Hook.
func (h *RoundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (h *RoundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.add(cmd.Name())
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (h *RoundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, c := range cmds {
			names[i] = c.Name()
		}
		h.add("pipeline(" + strings.Join(names, ",") + ")")
		return next(ctx, cmds)
	}
}

func (h *RoundTrips) add(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cmds = append(h.cmds, name)
}

// Take returns the round trips since the last Take.
func (h *RoundTrips) Take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	got := h.cmds
	h.cmds = nil
	return got
}
