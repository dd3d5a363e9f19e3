package conversations

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/redis/go-redis/v9"

	"github.com/mahalle/mahalle/models"
)

// Errors returned by Store.Commit and Store.Save. Both carry models.ECONFLICT; tell them
// apart with errors.Is.
var (
	// ErrSeen means the update was applied before: it is a re-delivery and
	// nothing was written.
	ErrSeen error = &models.Error{Code: models.ECONFLICT, Message: "conversations: update already applied"}
	// ErrConflict means the stored state changed since it was loaded (another
	// update for the same conversation won the race); nothing was written.
	ErrConflict error = &models.Error{Code: models.ECONFLICT, Message: "conversations: state changed since it was loaded"}
)

// BlockedTTL is how long a chat stays marked unreachable unless an update
// from it clears the mark first. It is bounded so that forgotten chats do
// not hold Redis memory forever.
const BlockedTTL = 30 * 24 * time.Hour

// StoreConfig configures a Store. Zero fields take the defaults in brackets.
type StoreConfig struct {
	Now      func() time.Time // [time.Now] stamps the blocked mark
	DedupTTL time.Duration    // [25h] how long a chat's dedup marks outlive its last update; values under 24h take the default
	Prefix   string           // ["mh"] first segment of every key, without braces; tests isolate by it
}

// Store keeps conversation state in Redis, one string key per conversation
// holding "<version>|<json>", beside the chat's dedup marks (one sorted set
// per chat: the latest 16 update ids and a watermark under which every id
// counts as applied, since a chat's updates are handled in order; the set
// expires after the dedup TTL without a write) and a per-chat blocked mark.
// A bounded set per chat keeps the dedup bookkeeping under 2 KB however
// many updates a chat sends. All keys of one chat share the hash tag "{<platform>:<chatID>}"
// so the commit script works on Redis Cluster.
//
// A Store is safe for concurrent use.
type Store struct {
	rdb      redis.UniversalClient
	now      func() time.Time
	dedupTTL time.Duration
	prefix   string
	commit   script
	save     script
	mark     script
}

// NewStore returns a Store over rdb (a client, a failover client or a
// cluster client).
func NewStore(rdb redis.UniversalClient, cfg StoreConfig) *Store {
	s := &Store{rdb: rdb, now: cfg.Now, dedupTTL: cfg.DedupTTL, prefix: cfg.Prefix,
		commit: script{Script: commitScript}, save: script{Script: saveScript}, mark: script{Script: markScript}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.dedupTTL < 24*time.Hour {
		s.dedupTTL = 25 * time.Hour
	}
	if s.prefix == "" {
		s.prefix = "mh"
	}
	return s
}

// Snapshot is what Load reads in one round trip.
type Snapshot struct {
	State   State // the stored state; Version 0 (and the zero State) when there is none
	Seen    bool  // the dedup mark for this update exists: it was applied before (a re-delivery)
	Blocked bool  // the chat is marked unreachable
}

// Load reads the conversation's state, whether updateID was already applied
// and whether the chat is marked blocked, in one round trip (a pipeline over
// three keys in one hash slot). A missing state is not an error: the zero State with
// Version 0 is returned. Returns EINVALID for a malformed key and EINTERNAL
// when Redis fails or the stored value cannot be decoded.
func (s *Store) Load(ctx context.Context, k Key, updateID int) (Snapshot, error) {
	if err := validKey(k); err != nil {
		return Snapshot{}, fmt.Errorf("conversations: load: %w", err)
	}
	tag := s.tag(k.Platform, k.ChatID)
	pipe := s.rdb.Pipeline()
	state := pipe.Get(ctx, stateKey(tag, k.UserID))
	seen := pipe.ZScore(ctx, dedupKey(tag), strconv.Itoa(updateID))
	watermark := pipe.ZScore(ctx, dedupKey(tag), "w")
	blocked := pipe.Exists(ctx, blockedKey(tag))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Snapshot{}, fmt.Errorf("conversations: load: %w", err)
	}
	var snap Snapshot
	if v, err := state.Result(); err == nil {
		if snap.State, err = decodeState(v); err != nil {
			return Snapshot{}, fmt.Errorf("conversations: load: %w", err)
		}
	} else if !errors.Is(err, redis.Nil) {
		return Snapshot{}, fmt.Errorf("conversations: load: %w", err)
	}
	if _, err := seen.Result(); err == nil {
		snap.Seen = true
	} else if !errors.Is(err, redis.Nil) {
		return Snapshot{}, fmt.Errorf("conversations: load: %w", err)
	}
	if w, err := watermark.Result(); err == nil && float64(updateID) <= w {
		snap.Seen = true
	} else if err != nil && !errors.Is(err, redis.Nil) {
		return Snapshot{}, fmt.Errorf("conversations: load: %w", err)
	}
	snap.Blocked = blocked.Val() > 0
	return snap, nil
}

// dedupRecent is how many of a chat's latest update ids its dedup set keeps
// beside the watermark. A chat's updates are handled in order, so an id at
// or under the watermark was applied; the recent ids cover updates that
// reach Redis out of order (webhook replicas).
const dedupRecent = 16

// dedupLua holds the functions both scripts use on a chat's dedup set: a
// sorted set of the latest update ids (member and score the id) and the
// member "w" whose score is the watermark, the highest id dropped from it.
// Its size is bounded whatever the number of updates.
var dedupLua = `
local function dedupSeen(key, id)
  if redis.call('ZSCORE', key, id) then return true end
  local w = redis.call('ZSCORE', key, 'w')
  return w and tonumber(w) >= tonumber(id)
end
local function dedupAdd(key, id, ttl)
  redis.call('ZADD', key, id, id)
  local off = 0
  if redis.call('ZSCORE', key, 'w') then off = 1 end
  while redis.call('ZCARD', key) - off > ` + strconv.Itoa(dedupRecent) + ` do
    local low = redis.call('ZRANGE', key, off, off)[1]
    redis.call('ZREM', key, low)
    redis.call('ZADD', key, low, 'w')
    off = 1
  end
  redis.call('PEXPIRE', key, ttl)
end
`

// commitScript applies a state change and records the update in one atomic
// step. Versions are compared as strings so Lua never turns them into floats.
//
//	KEYS: state, dedup set, blocked mark
//	ARGV: expected version ("0" = the key must not exist), new value ("" = delete),
//	      state TTL in ms, dedup TTL in ms, update id
//	returns 1 on success, 0 when the update was seen, -1 on a version conflict
var commitScript = redis.NewScript(dedupLua + `
if dedupSeen(KEYS[2], ARGV[5]) then return 0 end
` + casState + `
dedupAdd(KEYS[2], ARGV[5], ARGV[4])
redis.call('DEL', KEYS[3])
return 1
`)

// Commit writes next as the conversation's state if the stored version is
// still expect (0: no state may exist), in one round trip and atomically with
// marking updateID as applied and clearing the chat's blocked mark. The new
// state gets version expect+1 and expires after ttl; next == nil deletes the
// state. It returns the new version (0 after a delete).
//
// Returns ErrSeen (nothing written) when updateID was applied before,
// ErrConflict (nothing written) when the stored version is not expect,
// EINVALID for a malformed key, a negative expect or a ttl under a
// millisecond, and EINTERNAL when Redis fails.
func (s *Store) Commit(ctx context.Context, k Key, updateID int, expect int64, next *State, ttl time.Duration) (int64, error) {
	if err := validKey(k); err != nil {
		return 0, fmt.Errorf("conversations: commit: %w", err)
	}
	version, value, err := encodeState(expect, next, ttl)
	if err != nil {
		return 0, fmt.Errorf("conversations: commit: %w", err)
	}
	tag := s.tag(k.Platform, k.ChatID)
	keys := []string{stateKey(tag, k.UserID), dedupKey(tag), blockedKey(tag)}
	args := []any{strconv.FormatInt(expect, 10), value, ttl.Milliseconds(), s.dedupTTL.Milliseconds(),
		strconv.Itoa(updateID)}

	res, err := s.commit.run(ctx, s.rdb, keys, args...)
	if err != nil {
		return 0, fmt.Errorf("conversations: commit: %w", err)
	}
	switch res {
	case 1:
		return version, nil
	case 0:
		return 0, fmt.Errorf("conversations: commit update %d: %w", updateID, ErrSeen)
	case -1:
		return 0, fmt.Errorf("conversations: commit version %d: %w", expect, ErrConflict)
	default:
		return 0, fmt.Errorf("conversations: commit: unexpected script result %d", res)
	}
}

// saveScript is commitScript without the dedup and blocked marks: a plain
// compare-and-set of the state.
//
//	KEYS: state
//	ARGV: expected version ("0" = the key must not exist), new value ("" = delete), state TTL in ms
//	returns 1 on success, -1 on a version conflict
var saveScript = redis.NewScript(casState + `
return 1
`)

// casState is the compare-and-set both scripts start with: KEYS[1] holds
// "<version>|<json>"; unless its version is ARGV[1] ("0" = absent) the
// script returns -1; else it writes ARGV[2] with TTL ARGV[3] ms, or deletes
// the key when ARGV[2] is "".
const casState = casLua + `
if not casWrite(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then return -1 end
`

// casLua defines casWrite(key, expect, value, ttl): the compare-and-set of
// one state, true when it wrote.
const casLua = `
local function casWrite(key, expect, value, ttl)
  local cur = redis.call('GET', key)
  local ver = '0'
  if cur then
    local i = string.find(cur, '|', 1, true)
    if not i then return false end
    ver = string.sub(cur, 1, i - 1)
  end
  if ver ~= expect then return false end
  if value == '' then
    redis.call('DEL', key)
  else
    redis.call('SET', key, value, 'PX', ttl)
  end
  return true
end
`

// StateWrite is a compare-and-set of one conversation's state that rides on
// another round trip (Queue.DoneWith): Value ("<version>|<json>", or "" to
// delete) replaces the state if it is still at version Expect. The engine's
// writes may also be an update's transition (Engine.Handle), written with
// the update's dedup mark as Store.Commit does.
type StateWrite struct {
	Key    Key
	Expect int64
	Value  string
	TTL    time.Duration

	commit   bool          // the transition of updateID, not only a prompt id
	updateID int           // its update
	dedupTTL time.Duration // as the Store's
	version  int64         // the version Value holds (0 for a delete)
	promptID int           // the prompt id it records
	state    *State        // the state a transition leads to, at version (nil for a delete): Prompted's without a cache
}

// Save writes next as the conversation's state if the stored version is still
// expect (0: no state may exist), in one round trip, without recording an
// update: for changes that follow an update already committed (such as
// remembering the id of the prompt just sent). The new state gets version
// expect+1 and expires after ttl; next == nil deletes the state. It returns
// the new version (0 after a delete).
//
// Returns ErrConflict (nothing written) when the stored version is not
// expect, EINVALID for a malformed key, a negative expect or a ttl under a
// millisecond, and EINTERNAL when Redis fails.
func (s *Store) Save(ctx context.Context, k Key, expect int64, next *State, ttl time.Duration) (int64, error) {
	if err := validKey(k); err != nil {
		return 0, fmt.Errorf("conversations: save: %w", err)
	}
	version, value, err := encodeState(expect, next, ttl)
	if err != nil {
		return 0, fmt.Errorf("conversations: save: %w", err)
	}
	keys := []string{stateKey(s.tag(k.Platform, k.ChatID), k.UserID)}
	res, err := s.save.run(ctx, s.rdb, keys, strconv.FormatInt(expect, 10), value, ttl.Milliseconds())
	if err != nil {
		return 0, fmt.Errorf("conversations: save: %w", err)
	}
	switch res {
	case 1:
		return version, nil
	case -1:
		return 0, fmt.Errorf("conversations: save version %d: %w", expect, ErrConflict)
	default:
		return 0, fmt.Errorf("conversations: save: unexpected script result %d", res)
	}
}

// script runs a Lua script in one round trip. The first run uses EVAL, which
// also puts the script in the server's cache; later runs use EVALSHA, falling
// back to EVAL only when the server lost its cache (a restart, a failover).
type script struct {
	*redis.Script
	evaled atomic.Bool
}

// run runs the script and returns its integer result.
func (sc *script) run(ctx context.Context, rdb redis.UniversalClient, keys []string, args ...any) (int64, error) {
	var cmd *redis.Cmd
	if sc.evaled.Load() {
		cmd = sc.Run(ctx, rdb, keys, args...)
	} else {
		cmd = sc.Eval(ctx, rdb, keys, args...)
	}
	res, err := cmd.Int64()
	if err != nil {
		return 0, err
	}
	sc.evaled.Store(true)
	return res, nil
}

// markScript adds an update to the chat's dedup set.
//
//	KEYS: dedup set
//	ARGV: dedup TTL in ms, update id
var markScript = redis.NewScript(dedupLua + `
if not dedupSeen(KEYS[1], ARGV[2]) then dedupAdd(KEYS[1], ARGV[2], ARGV[1]) end
return 1
`)

// MarkSeen records updateID as applied without touching the state, for
// updates that change nothing (one round trip). It is not an error when the
// mark already exists. Returns EINVALID for a malformed key and EINTERNAL
// when Redis fails.
func (s *Store) MarkSeen(ctx context.Context, k Key, updateID int) error {
	if err := validKey(k); err != nil {
		return fmt.Errorf("conversations: mark seen: %w", err)
	}
	keys := []string{dedupKey(s.tag(k.Platform, k.ChatID))}
	if _, err := s.mark.run(ctx, s.rdb, keys, s.dedupTTL.Milliseconds(), strconv.Itoa(updateID)); err != nil {
		return fmt.Errorf("conversations: mark seen: %w", err)
	}
	return nil
}

// MarkBlocked marks the chat unreachable (the platform answered 403) for
// BlockedTTL; the next successful Commit for the chat clears the mark. The
// mark's value is the unix time it was set, for operators. Returns EINVALID
// for a malformed platform and EINTERNAL when Redis fails.
func (s *Store) MarkBlocked(ctx context.Context, platform string, chatID int64) error {
	if err := validPlatform(platform); err != nil {
		return fmt.Errorf("conversations: mark blocked: %w", err)
	}
	key := blockedKey(s.tag(platform, chatID))
	if err := s.rdb.Set(ctx, key, s.now().Unix(), BlockedTTL).Err(); err != nil {
		return fmt.Errorf("conversations: mark blocked: %w", err)
	}
	return nil
}

// ClearBlocked removes the chat's unreachable mark (the person came back).
// Returns EINVALID for a malformed platform and EINTERNAL when Redis fails.
func (s *Store) ClearBlocked(ctx context.Context, platform string, chatID int64) error {
	if err := validPlatform(platform); err != nil {
		return fmt.Errorf("conversations: clear blocked: %w", err)
	}
	if err := s.rdb.Del(ctx, blockedKey(s.tag(platform, chatID))).Err(); err != nil {
		return fmt.Errorf("conversations: clear blocked: %w", err)
	}
	return nil
}

// Get returns the conversation's stored state, for tests and tools. Returns
// ENOTFOUND when there is none, EINVALID for a malformed key and EINTERNAL
// when Redis fails or the value cannot be decoded.
func (s *Store) Get(ctx context.Context, k Key) (State, error) {
	if err := validKey(k); err != nil {
		return State{}, fmt.Errorf("conversations: get: %w", err)
	}
	v, err := s.rdb.Get(ctx, stateKey(s.tag(k.Platform, k.ChatID), k.UserID)).Result()
	if errors.Is(err, redis.Nil) {
		return State{}, fmt.Errorf("conversations: get: %w", models.Errorf(models.ENOTFOUND, "no conversation for %s:%d:%d", k.Platform, k.ChatID, k.UserID))
	} else if err != nil {
		return State{}, fmt.Errorf("conversations: get: %w", err)
	}
	st, err := decodeState(v)
	if err != nil {
		return State{}, fmt.Errorf("conversations: get: %w", err)
	}
	return st, nil
}

// tag returns "<prefix>:{<platform>:<chatID>}", the part every key of one chat
// starts with; the braces are the Redis Cluster hash tag.
func (s *Store) tag(platform string, chatID int64) string {
	return s.prefix + ":{" + platform + ":" + strconv.FormatInt(chatID, 10) + "}"
}

func stateKey(tag string, userID int64) string {
	return tag + suffixState + strconv.FormatInt(userID, 10)
}
func dedupKey(tag string) string   { return tag + suffixDedup }
func blockedKey(tag string) string { return tag + suffixBlocked }

// encodeState returns the version and the "<version>|<json>" value that
// replace a state at version expect; for next == nil, 0 and "" (a delete).
// A state is encoded on every update (and decoded on every miss of the
// cache): goccy/go-json does it several times faster than encoding/json, to
// the same text (TestStateEncoding).
func encodeState(expect int64, next *State, ttl time.Duration) (int64, string, error) {
	if expect < 0 {
		return 0, "", models.Errorf(models.EINVALID, "negative expected version %d", expect)
	}
	if next == nil {
		return 0, "", nil
	}
	if ttl < time.Millisecond {
		return 0, "", models.Errorf(models.EINVALID, "state ttl %v is under 1ms", ttl)
	}
	b, err := gojson.Marshal(next)
	if err != nil {
		return 0, "", fmt.Errorf("encode state: %w", err)
	}
	version := expect + 1
	return version, strconv.FormatInt(version, 10) + "|" + string(b), nil
}

// decodeState parses "<version>|<json>".
func decodeState(v string) (State, error) {
	ver, body, ok := strings.Cut(v, "|")
	if !ok {
		return State{}, fmt.Errorf("decode state: no version separator")
	}
	n, err := strconv.ParseInt(ver, 10, 64)
	if err != nil || n <= 0 {
		return State{}, fmt.Errorf("decode state: bad version %q", ver)
	}
	var st State
	if err := gojson.Unmarshal([]byte(body), &st); err != nil {
		return State{}, fmt.Errorf("decode state: %w", err)
	}
	st.Version = n
	return st, nil
}

// validKey rejects keys that would break the key layout.
func validKey(k Key) error {
	return validPlatform(k.Platform)
}

// validPlatform accepts 1–8 lowercase ASCII letters, so a platform can never
// break out of the hash tag or collide with another key segment.
func validPlatform(p string) error {
	if p == "" || len(p) > 8 {
		return models.Errorf(models.EINVALID, "bad platform %q", p)
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 'a' || p[i] > 'z' {
			return models.Errorf(models.EINVALID, "bad platform %q", p)
		}
	}
	return nil
}
