package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// benchDB is a database made for one run on a real PostgreSQL.
type benchDB struct {
	admin   string // the URL the database was created through
	name    string
	URL     string // the bot's DATABASE_URL
	Version string
}

// createDB creates mahalle_bench_<random> through the admin URL (any
// database the user may connect to; CREATE DATABASE needs the right to).
func createDB(ctx context.Context, admin string) (*benchDB, error) {
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("-database-url %q is not a postgres:// URL", redact(admin))
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", redact(admin), err)
	}
	defer conn.Close(context.Background())
	db := &benchDB{admin: admin, name: "mahalle_bench_" + randomHex(5)}
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&db.Version); err != nil {
		return nil, fmt.Errorf("postgres version: %w", err)
	}
	db.Version = "PostgreSQL " + db.Version
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db.name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create database %s: %w", db.name, err)
	}
	u.Path = "/" + db.name
	db.URL = u.String()
	return db, nil
}

// drop removes the database, closing whatever still holds it.
func (db *benchDB) drop(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, db.admin)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", db.name, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db.name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", db.name, err)
	}
	return nil
}

// sessions is the number of connections opened to the run's database so
// far (pg_stat_database.sessions, PostgreSQL 14 and later).
func (db *benchDB) sessions(ctx context.Context) (int64, error) {
	conn, err := pgx.Connect(ctx, db.admin)
	if err != nil {
		return 0, fmt.Errorf("postgres sessions: %w", err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(ctx, "SELECT sessions FROM pg_stat_database WHERE datname = $1", db.name).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres sessions: %w", err)
	}
	return n, nil
}

// benchRedis is a real Redis shared with others: the run's keys all start
// with Prefix, and only those are read, measured and deleted.
type benchRedis struct {
	rdb     *redis.Client
	Prefix  string
	Version string
}

func openRedis(ctx context.Context, rawURL string) (*benchRedis, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("-redis-url %q: %w", redact(rawURL), err)
	}
	rdb := redis.NewClient(opts)
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redis %s: %w", redact(rawURL), err)
	}
	return &benchRedis{rdb: rdb, Prefix: "bench" + randomHex(5), Version: "Redis " + infoField(info, "redis_version")}, nil
}

// usedMemory is INFO memory's used_memory, in bytes.
func (r *benchRedis) usedMemory(ctx context.Context) (int64, error) {
	info, err := r.rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, fmt.Errorf("redis info memory: %w", err)
	}
	return strconv.ParseInt(infoField(info, "used_memory"), 10, 64)
}

// keyUsage is what MEMORY USAGE reports for the run's keys of some chats,
// by kind of key: "s" conversation state, "u" dedup marks, other.
type keyUsage struct {
	keys  map[string]int
	bytes map[string]int64
}

// usage sums MEMORY USAGE over the run's keys whose chat id satisfies
// chat (keys look like <prefix>:{tg:<chat>}:<kind>:...).
func (r *benchRedis) usage(ctx context.Context, chat func(int64) bool) (keyUsage, error) {
	u := keyUsage{keys: map[string]int{}, bytes: map[string]int64{}}
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		pipe := r.rdb.Pipeline()
		cmds := make([]*redis.IntCmd, len(batch))
		for i, k := range batch {
			cmds[i] = pipe.MemoryUsage(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
			return fmt.Errorf("redis memory usage: %w", err)
		}
		for i, k := range batch {
			n, err := cmds[i].Result()
			if err != nil {
				continue // expired in between
			}
			kind := keyKind(k)
			u.keys[kind]++
			u.bytes[kind] += n
		}
		batch = batch[:0]
		return nil
	}
	iter := r.rdb.Scan(ctx, 0, r.Prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		if id, ok := keyChat(k); ok && chat(id) {
			batch = append(batch, k)
			if len(batch) == 500 {
				if err := flush(); err != nil {
					return u, err
				}
			}
		}
	}
	if err := iter.Err(); err != nil {
		return u, fmt.Errorf("redis scan: %w", err)
	}
	return u, flush()
}

// keyChat reads the chat id out of "<prefix>:{tg:<chat>}:...".
func keyChat(k string) (int64, bool) {
	_, rest, ok := strings.Cut(k, "{")
	if !ok {
		return 0, false
	}
	tag, _, ok := strings.Cut(rest, "}")
	if !ok {
		return 0, false
	}
	_, id, ok := strings.Cut(tag, ":")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil
}

func keyKind(k string) string {
	_, rest, ok := strings.Cut(k, "}:")
	if !ok {
		return "other"
	}
	kind, _, _ := strings.Cut(rest, ":")
	switch kind {
	case "s", "u":
		return kind
	}
	return "other"
}

// cleanup deletes the run's keys (SCAN + UNLINK) and closes the client.
func (r *benchRedis) cleanup(ctx context.Context) (int, error) {
	defer r.rdb.Close()
	n := 0
	iter := r.rdb.Scan(ctx, 0, r.Prefix+":*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			if err := r.rdb.Unlink(ctx, batch...).Err(); err != nil {
				return n, fmt.Errorf("redis unlink: %w", err)
			}
			n += len(batch)
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return n, fmt.Errorf("redis scan: %w", err)
	}
	if len(batch) > 0 {
		if err := r.rdb.Unlink(ctx, batch...).Err(); err != nil {
			return n, fmt.Errorf("redis unlink: %w", err)
		}
		n += len(batch)
	}
	return n, nil
}

func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return "?"
}

// redact hides a password in a URL.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}
