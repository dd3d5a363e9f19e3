package conversations

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mahalle/mahalle/models"
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
// queueing the update, and Pending (the periodic sweep) drops a chat whose
// queue is empty and then looks at the queue again, listing the chat anew
// if an update came meanwhile; so a chat with queued updates is never
// missing from the index for long.
//
// A Queue is safe for concurrent use.
type Queue struct {
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time
	push   script
	take   script
	// pushAllLoaded: PushAll's script is known to the server (EVALSHA).
	pushAllLoaded atomic.Bool
}

// QueueConfig configures a Queue. Zero fields take the defaults in brackets.
type QueueConfig struct {
	Prefix string           // ["mh"] as StoreConfig.Prefix
	Now    func() time.Time // [time.Now]
}

// NewQueue returns a Queue over rdb.
func NewQueue(rdb redis.UniversalClient, cfg QueueConfig) *Queue {
	q := &Queue{rdb: rdb, prefix: cfg.Prefix, now: cfg.Now,
		push: script{Script: pushScript}, take: script{Script: takeScript}}
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

// pushClaimScript queues an update unless its id is queued already and,
// when no owner holds the chat, claims it for ARGV[3] and returns its
// oldest update: the caller then handles that update without a Take.
//
//	KEYS: queue, lease
//	ARGV: update id, the update, owner, lease in ms
//	returns {0} when the chat is held (by anyone, the caller included),
//	{1, id, update} when it was claimed
var pushClaimScript = redis.NewScript(leaseLua + `
if redis.call('ZCOUNT', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
end
if leaseOwner(KEYS[2]) then return {0} end
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
redis.call('SET', KEYS[2], ARGV[3] .. '|' .. (nowMs() + tonumber(ARGV[4])), 'PX', ARGV[4])
return {1, head[2], head[1]}
`)

// Pushed is one update for PushAll.
type Pushed struct {
	Platform string
	ChatID   int64
	ID       int
	Raw      []byte
}

// Head is what PushAll found for one update: when Claimed, the chat was
// free and is now claimed for the owner, and ID and Raw are its oldest
// queued update.
type Head struct {
	Claimed bool
	ID      int
	Raw     []byte
}

// PushAll queues every update as Push does and lists their chats in the
// index, in one round trip (a pipeline; on Redis Cluster one per node). In
// the same step each chat that no owner holds is claimed for owner for
// lease, and its oldest update returned, so that the caller can handle it
// without a Take. heads[i] belongs to items[i]; a chat with two updates in
// items is claimed at most at the first. Returns EINVALID for a malformed
// platform and EINTERNAL when Redis fails (some updates may then be queued
// and some chats claimed: pushing again is harmless, and a claim of the
// caller's is taken again by its Take).
func (q *Queue) PushAll(ctx context.Context, owner string, lease time.Duration, items []Pushed) ([]Head, error) {
	if len(items) == 0 {
		return nil, nil
	}
	for _, it := range items {
		if err := validPlatform(it.Platform); err != nil {
			return nil, fmt.Errorf("conversations: queue push: %w", err)
		}
	}
	ms := lease.Milliseconds()
	keys := make([][]string, len(items))
	members := make([]redis.Z, 0, len(items))
	score := float64(q.now().UnixMilli())
	for i, it := range items {
		tag := q.tag(it.Platform, it.ChatID)
		keys[i] = []string{queueKey(tag), leaseKey(tag)}
		members = append(members, redis.Z{Score: score, Member: indexMember(it.Platform, it.ChatID)})
	}
	cmds := make([]*redis.Cmd, len(items))
	exec := func(eval bool, only []int) error {
		pipe := q.rdb.Pipeline()
		for _, i := range only {
			it := items[i]
			if eval {
				cmds[i] = pushClaimScript.Eval(ctx, pipe, keys[i], it.ID, it.Raw, owner, ms)
			} else {
				cmds[i] = pushClaimScript.EvalSha(ctx, pipe, keys[i], it.ID, it.Raw, owner, ms)
			}
		}
		pipe.ZAdd(ctx, q.indexKey(), members...)
		_, err := pipe.Exec(ctx)
		return err
	}
	all := make([]int, len(items))
	for i := range all {
		all[i] = i
	}
	eval := !q.pushAllLoaded.Load()
	err := exec(eval, all)
	if err != nil && !eval {
		// A Redis that restarted or flushed its scripts answers NOSCRIPT:
		// send those again with the script's text.
		var again []int
		for i, c := range cmds {
			if c.Err() != nil && redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
				again = append(again, i)
			}
		}
		if len(again) > 0 {
			err = exec(true, again)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("conversations: queue push: %w", err)
	}
	q.pushAllLoaded.Store(true)
	heads := make([]Head, len(items))
	for i, c := range cmds {
		res, err := c.Slice()
		if err != nil || len(res) == 0 {
			return nil, fmt.Errorf("conversations: queue push: malformed answer %v: %v", res, err)
		}
		if code, _ := res[0].(int64); code != 1 {
			continue
		}
		if len(res) != 3 {
			return nil, fmt.Errorf("conversations: queue push: malformed answer %v", res)
		}
		ids, _ := res[1].(string)
		n, err := strconv.Atoi(ids)
		if err != nil {
			return nil, fmt.Errorf("conversations: queue push: bad id %q", ids)
		}
		raw, _ := res[2].(string)
		heads[i] = Head{Claimed: true, ID: n}
		if n == items[i].ID {
			heads[i].Raw = items[i].Raw
		} else {
			heads[i].Raw = []byte(raw)
		}
	}
	return heads, nil
}

// pendingMax bounds one Pending answer.
const pendingMax = 10000

// Pending lists the chats that have queued updates (at most 10,000), and
// drops from the index the chats whose queues are empty. Returns EINTERNAL
// when Redis fails.
func (q *Queue) Pending(ctx context.Context) ([]Chat, error) {
	members, err := q.rdb.ZRange(ctx, q.indexKey(), 0, pendingMax-1).Result()
	if err != nil {
		return nil, fmt.Errorf("conversations: queue pending: %w", err)
	}
	chats := make([]Chat, 0, len(members))
	for _, m := range members {
		p, id, ok := strings.Cut(m, ":")
		n, err := strconv.ParseInt(id, 10, 64)
		if !ok || err != nil || validPlatform(p) != nil {
			continue
		}
		chats = append(chats, Chat{Platform: p, ChatID: n})
	}
	lens, err := q.lens(ctx, chats)
	if err != nil {
		return nil, fmt.Errorf("conversations: queue pending: %w", err)
	}
	out := chats[:0]
	var empty []Chat
	for i, c := range chats {
		if lens[i] > 0 {
			out = append(out, c)
		} else {
			empty = append(empty, c)
		}
	}
	// A push queues the update before it lists the chat, so a chat whose
	// queue is still empty after it left the index is safe to leave out.
	for _, c := range empty {
		member := indexMember(c.Platform, c.ChatID)
		if err := q.rdb.ZRem(ctx, q.indexKey(), member).Err(); err != nil {
			return nil, fmt.Errorf("conversations: queue pending: %w", err)
		}
		n, err := q.rdb.ZCard(ctx, queueKey(q.tag(c.Platform, c.ChatID))).Result()
		if err != nil {
			return nil, fmt.Errorf("conversations: queue pending: %w", err)
		}
		if n > 0 {
			if err := q.rdb.ZAdd(ctx, q.indexKey(), redis.Z{Score: float64(q.now().UnixMilli()), Member: member}).Err(); err != nil {
				return nil, fmt.Errorf("conversations: queue pending: %w", err)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// lens counts the queued updates of each chat, in one pipeline.
func (q *Queue) lens(ctx context.Context, chats []Chat) ([]int64, error) {
	out := make([]int64, len(chats))
	if len(chats) == 0 {
		return out, nil
	}
	pipe := q.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(chats))
	for i, c := range chats {
		cmds[i] = pipe.ZCard(ctx, queueKey(q.tag(c.Platform, c.ChatID)))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	for i, c := range cmds {
		out[i] = c.Val()
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
  local cur = redis.call('GET', key)
  if not cur then return nil end
  local i = string.find(cur, '|', 1, true)
  if not i then return nil end
  if tonumber(string.sub(cur, i + 1)) <= nowMs() then return nil end
  return string.sub(cur, 1, i - 1)
end
`

// takeScript claims the chat for an owner and returns its oldest update,
// after applying the compare-and-set of states in the chat's slot
// (StateWrite), each on its own, and removing the update just handled; not
// when another owner holds the chat (it may have moved the states on). A
// write that carries an update id is that update's transition: it is
// applied with the update's dedup mark (clearing the chat's blocked mark,
// as Store.Commit does), and the update is removed only when it was, or
// when its mark shows it applied before; otherwise it stays at the head of
// the queue and is handled again.
//
//	KEYS: queue, lease, dedup set, blocked mark, then a state key per write
//	ARGV: owner, lease in ms, an update id to remove ("" for none), then for
//	      each write: expected version, value, TTL in ms, update id ("" for
//	      a write without a transition), dedup TTL in ms
//	returns {code, id, update, applied...}: code -1 when another owner
//	holds the chat, 0 when the queue is empty (a lease of the caller's is
//	dropped), 1 with the update's id and text otherwise; then for each
//	write 1 (written), 0 (not) or 2 (its update was applied before)
var takeScript = redis.NewScript(leaseLua + casLua + dedupLua + `
local out = {0, 0, ''}
local cur = leaseOwner(KEYS[2])
local mine = not cur or cur == ARGV[1]
local ack = ARGV[3] ~= ''
for i = 5, #KEYS do
  local a = 4 + (i - 5) * 5
  local id = ARGV[a + 3]
  local r = 0
  if mine then
    if id ~= '' and dedupSeen(KEYS[3], id) then
      r = 2
    elseif casWrite(KEYS[i], ARGV[a], ARGV[a + 1], ARGV[a + 2]) then
      r = 1
      if id ~= '' then
        dedupAdd(KEYS[3], id, ARGV[a + 4])
        redis.call('DEL', KEYS[4])
      end
    end
  end
  if r == 0 and id ~= '' then ack = false end
  out[#out + 1] = r
end
if ack then redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[3], ARGV[3]) end
if not mine then out[1] = -1; return out end
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #head == 0 then
  if cur then redis.call('DEL', KEYS[2]) end
  return out
end
redis.call('SET', KEYS[2], ARGV[1] .. '|' .. (nowMs() + tonumber(ARGV[2])), 'PX', ARGV[2])
out[1], out[2], out[3] = 1, head[2], head[1]
return out
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
	n, raw, st, _, err := q.takeAfter(ctx, platform, chatID, owner, lease, "", nil)
	return n, raw, st, err
}

// Done removes the handled update id from the chat's queue and, in the same
// round trip, does what Take does. Returns EINVALID for a malformed
// platform and EINTERNAL when Redis fails.
func (q *Queue) Done(ctx context.Context, platform string, chatID int64, owner string, id int, lease time.Duration) (int, []byte, TakeStatus, error) {
	n, raw, st, _, err := q.takeAfter(ctx, platform, chatID, owner, lease, strconv.Itoa(id), nil)
	return n, raw, st, err
}

// DoneWith is Done that also applies writes, states of conversations in the
// chat (see Engine.TakeWrites), in the same round trip: applied[i] says
// whether writes[i] was (a version conflict leaves it out). When a write is
// the transition of update id and is left out, id is not removed: it is
// taken again, unless the dedup mark shows it applied before. Returns
// EINVALID for a malformed platform or a write of another chat and
// EINTERNAL when Redis fails; nothing is then known of the writes.
func (q *Queue) DoneWith(ctx context.Context, platform string, chatID int64, owner string, id int, lease time.Duration, writes []StateWrite) (int, []byte, TakeStatus, []bool, error) {
	return q.takeAfter(ctx, platform, chatID, owner, lease, strconv.Itoa(id), writes)
}

func (q *Queue) takeAfter(ctx context.Context, platform string, chatID int64, owner string, lease time.Duration, done string, writes []StateWrite) (int, []byte, TakeStatus, []bool, error) {
	if err := validPlatform(platform); err != nil {
		return 0, nil, TakeEmpty, nil, fmt.Errorf("conversations: queue take: %w", err)
	}
	args := make([]any, 3, 3+5*len(writes))
	args[0], args[1], args[2] = owner, lease.Milliseconds(), done
	for _, w := range writes {
		if w.Key.Platform != platform || w.Key.ChatID != chatID {
			return 0, nil, TakeEmpty, nil, fmt.Errorf("conversations: queue take: %w",
				models.Errorf(models.EINVALID, "a write of chat %s:%d with the update of %s:%d", w.Key.Platform, w.Key.ChatID, platform, chatID))
		}
		update := ""
		if w.commit {
			update = strconv.Itoa(w.updateID)
		}
		args = append(args, strconv.FormatInt(w.Expect, 10), w.Value, w.TTL.Milliseconds(), update, w.dedupTTL.Milliseconds())
	}
	keys := q.takeKeys(platform, chatID, writes)
	res, err := runSlice(ctx, &q.take, q.rdb, keys, args...)
	if err == nil && len(res) != 3+len(writes) {
		err = fmt.Errorf("malformed answer %v", res)
	}
	if err != nil {
		return 0, nil, TakeEmpty, nil, fmt.Errorf("conversations: queue take: %w", err)
	}
	var applied []bool
	if len(writes) > 0 {
		applied = make([]bool, len(writes))
		for i := range writes {
			n, _ := res[3+i].(int64)
			applied[i] = n == 1
		}
	}
	n, raw, st, err := takeAnswer(res)
	return n, raw, st, applied, err
}

// takeAnswer reads the head of takeScript's answer.
func takeAnswer(res []any) (int, []byte, TakeStatus, error) {
	code, _ := res[0].(int64)
	switch code {
	case -1:
		return 0, nil, TakeBusy, nil
	case 0:
		return 0, nil, TakeEmpty, nil
	}
	ids, _ := res[1].(string)
	n, err := strconv.Atoi(ids)
	if err != nil {
		return 0, nil, TakeEmpty, fmt.Errorf("conversations: queue take: bad id %q", ids)
	}
	raw, _ := res[2].(string)
	return n, []byte(raw), TakeTaken, nil
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

// takeKeys are the keys takeScript reads: the chat's queue, lease, dedup
// marks and blocked flag, then the state of each write (queueKey and the
// others). They are cut from one string: this runs for every update, and a
// key each was six allocations.
func (q *Queue) takeKeys(platform string, chatID int64, writes []StateWrite) []string {
	tag := q.tag(platform, chatID)
	chat := [...]string{suffixQueue, suffixLease, suffixDedup, suffixBlocked}
	var b strings.Builder
	b.Grow(len(chat)*(len(tag)+2) + len(writes)*(len(tag)+len(suffixState)+20))
	var endsBuf [8]int
	ends := endsBuf[:0]
	for _, suffix := range chat {
		b.WriteString(tag)
		b.WriteString(suffix)
		ends = append(ends, b.Len())
	}
	var num [20]byte
	for _, w := range writes {
		b.WriteString(tag)
		b.WriteString(suffixState)
		b.Write(strconv.AppendInt(num[:0], w.Key.UserID, 10))
		ends = append(ends, b.Len())
	}
	all, from := b.String(), 0
	keys := make([]string, 0, len(ends))
	for _, end := range ends {
		keys = append(keys, all[from:end])
		from = end
	}
	return keys
}

// The keys of a chat are its tag and one of these.
const (
	suffixQueue   = ":q"
	suffixLease   = ":l"
	suffixDedup   = ":u"
	suffixBlocked = ":b"
	suffixState   = ":s:" // and the user id
)

func queueKey(tag string) string { return tag + suffixQueue }
func leaseKey(tag string) string { return tag + suffixLease }

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
