package conversations

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Queue is the durable per-chat queue of incoming updates, in Redis. Each
// chat has a sorted set of the updates it sent (score: the update id;
// member: the update as the Bot API sent it) and a lease naming the process
// that handles the chat, both under the chat's hash tag, so the scripts
// below work on Redis Cluster. One index (a sorted set outside any chat's
// slot) lists the chats that may have queued updates, so that a process
// that starts resumes what another left.
//
// The index is kept without a cross-slot script: a push adds the chat after
// queueing the update, and the owner that finds the queue empty removes the
// chat from the index before releasing its lease only if the queue is still
// empty; so a chat with queued updates is never missing from the index.
//
// A Queue is safe for concurrent use.
type Queue struct {
	rdb     redis.UniversalClient
	prefix  string
	now     func() time.Time
	push    script
	take    script
	release script
}

// QueueConfig configures a Queue. Zero fields take the defaults in brackets.
type QueueConfig struct {
	Prefix string           // ["mh"] as StoreConfig.Prefix
	Now    func() time.Time // [time.Now]
}

// NewQueue returns a Queue over rdb.
func NewQueue(rdb redis.UniversalClient, cfg QueueConfig) *Queue {
	q := &Queue{rdb: rdb, prefix: cfg.Prefix, now: cfg.Now,
		push: script{Script: pushScript}, take: script{Script: takeScript}, release: script{Script: releaseScript}}
	if q.prefix == "" {
		q.prefix = "mh"
	}
	if q.now == nil {
		q.now = time.Now
	}
	return q
}

// Chat names one chat's queue.
type Chat struct {
	Platform string
	ChatID   int64
}

// pushScript queues an update unless its id is queued already.
//
//	KEYS: queue
//	ARGV: update id, the update
var pushScript = redis.NewScript(`
if redis.call('ZCOUNT', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
end
return 1
`)

// Push queues update id of the chat, unless it is queued already, and lists
// the chat in the index. Returns EINVALID for a malformed platform and
// EINTERNAL when Redis fails.
func (q *Queue) Push(ctx context.Context, platform string, chatID int64, id int, raw []byte) error {
	if err := validPlatform(platform); err != nil {
		return fmt.Errorf("conversations: queue push: %w", err)
	}
	if _, err := q.push.run(ctx, q.rdb, []string{queueKey(q.tag(platform, chatID))}, id, raw); err != nil {
		return fmt.Errorf("conversations: queue push: %w", err)
	}
	if err := q.rdb.ZAdd(ctx, q.indexKey(), redis.Z{Score: float64(q.now().UnixMilli()), Member: indexMember(platform, chatID)}).Err(); err != nil {
		return fmt.Errorf("conversations: queue push: index: %w", err)
	}
	return nil
}

// pendingMax bounds one Pending answer.
const pendingMax = 10000

// Pending lists the chats that may have queued updates (at most 10,000, the
// longest listed first). Returns EINTERNAL when Redis fails.
func (q *Queue) Pending(ctx context.Context) ([]Chat, error) {
	members, err := q.rdb.ZRange(ctx, q.indexKey(), 0, pendingMax-1).Result()
	if err != nil {
		return nil, fmt.Errorf("conversations: queue pending: %w", err)
	}
	out := make([]Chat, 0, len(members))
	for _, m := range members {
		p, id, ok := strings.Cut(m, ":")
		n, err := strconv.ParseInt(id, 10, 64)
		if !ok || err != nil || validPlatform(p) != nil {
			continue
		}
		out = append(out, Chat{Platform: p, ChatID: n})
	}
	return out, nil
}

// leaseLua reads a chat's lease: "<owner>|<until, unix ms>". The expiry is
// kept in the value, on the server's clock, as well as in the key's TTL, so
// that a lease runs out on servers that do not expire keys by themselves
// (the in-process Redis of tests).
const leaseLua = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function leaseOwner(key)
  local cur = redis.call('GET', KEYS[2])
  if not cur then return nil end
  local i = string.find(cur, '|', 1, true)
  if not i then return nil end
  if tonumber(string.sub(cur, i + 1)) <= nowMs() then return nil end
  return string.sub(cur, 1, i - 1)
end
`

// takeScript claims the chat for an owner and returns its oldest update.
//
//	KEYS: queue, lease
//	ARGV: owner, lease in ms
//	returns {-1} when another owner holds the chat, {0} when the queue is
//	empty (the caller holds the lease), {1, id, update} otherwise
var takeScript = redis.NewScript(leaseLua + `
local cur = leaseOwner(KEYS[2])
if cur and cur ~= ARGV[1] then return {-1} end
redis.call('SET', KEYS[2], ARGV[1] .. '|' .. (nowMs() + tonumber(ARGV[2])), 'PX', ARGV[2])
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #head == 0 then return {0} end
return {1, head[2], head[1]}
`)

// releaseScript drops the owner's lease if the queue is still empty.
//
//	KEYS: queue, lease
//	ARGV: owner
//	returns 1 when released, 0 when the queue is not empty
var releaseScript = redis.NewScript(leaseLua + `
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
if leaseOwner(KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
`)

// TakeStatus is what Queue.Take found.
type TakeStatus int

// The outcomes of Queue.Take.
const (
	TakeEmpty TakeStatus = iota // nothing queued; the claim is released and the chat left the index
	TakeBusy                    // another owner holds the chat
	TakeTaken                   // the oldest update is returned and the chat is claimed
)

// Take claims the chat for owner for lease (renewing owner's own claim) and
// returns its oldest queued update. Returns EINVALID for a malformed
// platform and EINTERNAL when Redis fails.
func (q *Queue) Take(ctx context.Context, platform string, chatID int64, owner string, lease time.Duration) (int, []byte, TakeStatus, error) {
	if err := validPlatform(platform); err != nil {
		return 0, nil, TakeEmpty, fmt.Errorf("conversations: queue take: %w", err)
	}
	tag := q.tag(platform, chatID)
	keys := []string{queueKey(tag), leaseKey(tag)}
	for {
		res, err := runSlice(ctx, &q.take, q.rdb, keys, owner, lease.Milliseconds())
		if err != nil {
			return 0, nil, TakeEmpty, fmt.Errorf("conversations: queue take: %w", err)
		}
		code, _ := res[0].(int64)
		switch code {
		case -1:
			return 0, nil, TakeBusy, nil
		case 1:
			if len(res) != 3 {
				return 0, nil, TakeEmpty, fmt.Errorf("conversations: queue take: malformed answer %v", res)
			}
			ids, _ := res[1].(string)
			id, err := strconv.Atoi(ids)
			raw, _ := res[2].(string)
			if err != nil {
				return 0, nil, TakeEmpty, fmt.Errorf("conversations: queue take: bad id %q", ids)
			}
			return id, []byte(raw), TakeTaken, nil
		}
		// Empty: leave the index first, then release unless an update came
		// meanwhile (then come back to the index and take it).
		member := indexMember(platform, chatID)
		if err := q.rdb.ZRem(ctx, q.indexKey(), member).Err(); err != nil {
			return 0, nil, TakeEmpty, fmt.Errorf("conversations: queue take: index: %w", err)
		}
		released, err := q.release.run(ctx, q.rdb, keys, owner)
		if err != nil {
			return 0, nil, TakeEmpty, fmt.Errorf("conversations: queue release: %w", err)
		}
		if released == 1 {
			return 0, nil, TakeEmpty, nil
		}
		if err := q.rdb.ZAdd(ctx, q.indexKey(), redis.Z{Score: float64(q.now().UnixMilli()), Member: member}).Err(); err != nil {
			return 0, nil, TakeEmpty, fmt.Errorf("conversations: queue take: index: %w", err)
		}
	}
}

// Done removes update id from the chat's queue. Returns EINVALID for a
// malformed platform and EINTERNAL when Redis fails.
func (q *Queue) Done(ctx context.Context, platform string, chatID int64, _ string, id int) error {
	if err := validPlatform(platform); err != nil {
		return fmt.Errorf("conversations: queue done: %w", err)
	}
	n := strconv.Itoa(id)
	if err := q.rdb.ZRemRangeByScore(ctx, queueKey(q.tag(platform, chatID)), n, n).Err(); err != nil {
		return fmt.Errorf("conversations: queue done: %w", err)
	}
	return nil
}

// Len counts the chat's queued updates, for tests and tools. Returns
// EINTERNAL when Redis fails.
func (q *Queue) Len(ctx context.Context, platform string, chatID int64) (int64, error) {
	n, err := q.rdb.ZCard(ctx, queueKey(q.tag(platform, chatID))).Result()
	if err != nil {
		return 0, fmt.Errorf("conversations: queue len: %w", err)
	}
	return n, nil
}

func (q *Queue) tag(platform string, chatID int64) string {
	return q.prefix + ":{" + platform + ":" + strconv.FormatInt(chatID, 10) + "}"
}

func (q *Queue) indexKey() string { return q.prefix + ":queued" }

func queueKey(tag string) string { return tag + ":q" }
func leaseKey(tag string) string { return tag + ":l" }

func indexMember(platform string, chatID int64) string {
	return platform + ":" + strconv.FormatInt(chatID, 10)
}

// runSlice runs sc and returns its array result, as script.run does for
// integer results.
func runSlice(ctx context.Context, sc *script, rdb redis.UniversalClient, keys []string, args ...any) ([]any, error) {
	var cmd *redis.Cmd
	if sc.evaled.Load() {
		cmd = sc.Run(ctx, rdb, keys, args...)
	} else {
		cmd = sc.Eval(ctx, rdb, keys, args...)
	}
	res, err := cmd.Slice()
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, errors.New("empty script answer")
	}
	sc.evaled.Store(true)
	return res, nil
}
