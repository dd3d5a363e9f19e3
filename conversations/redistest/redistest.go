// Package redistest gives tests a Redis client: the real server named by
// TEST_REDIS_URL when it is set, otherwise an in-process miniredis. Tests of
// several packages share the real server at once, so they isolate by key
// prefix (Prefix) and never flush it.
package redistest

import (
	"context"
	"crypto/rand"
	"os"
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
