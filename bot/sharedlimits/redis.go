// Package sharedlimits keeps the send limits of one bot in Redis, shared by
// all its replicas (bot.SharedLimits): the per-chat limiter of new messages
// and the notice budget as GCRA buckets in small Lua scripts, the hold after
// a 429 beside them, flood inference over the 429s of every replica, and a
// Pub/Sub channel that tells the other replicas of each hold.
//
// Keys: a chat's bucket is "<prefix>:{<platform>:<chat>}:r", under the chat's
// hash tag like its other keys; the notice budget and the flood record are
// "<prefix>:{<platform>:limits}:n" and ":f", one slot for the whole bot. So
// every script touches one slot, and Redis Cluster works. Keys expire once
// they hold nothing more than a fresh one would.
package sharedlimits

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/mahalle/mahalle/bot"
)

// Config of a Store. Zero values take the defaults in brackets.
type Config struct {
	Prefix   string       // key prefix, as the bot's other keys [mh]
	Platform bot.Platform // the bot whose limits these are; required
	Logger   *slog.Logger // [discard]
}

// Store is a bot.SharedLimits in Redis. Close stops its subscription.
type Store struct {
	rdb      redis.UniversalClient
	platform string
	chatTag  string // "<prefix>:{<platform>:"
	notice   string
	flood    string
	channel  string
	replica  string // tells this replica's own messages apart
	log      *slog.Logger

	mu       sync.Mutex
	watchers []func(bot.SharedHold)
	warned   time.Time // the last failure logged

	pubsub *redis.PubSub
	done   chan struct{}
}

var _ bot.SharedLimits = (*Store)(nil)

// New subscribes to the bot's channel of holds and returns the Store. It
// fails when Redis cannot be reached within ctx.
func New(ctx context.Context, rdb redis.UniversalClient, cfg Config) (*Store, error) {
	if cfg.Platform == "" {
		return nil, errors.New("sharedlimits: no platform")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "mh"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := string(cfg.Platform)
	s := &Store{
		rdb:      rdb,
		platform: p,
		chatTag:  cfg.Prefix + ":{" + p + ":",
		notice:   cfg.Prefix + ":{" + p + ":limits}:n",
		flood:    cfg.Prefix + ":{" + p + ":limits}:f",
		channel:  cfg.Prefix + ":limits:" + p,
		replica:  rand.Text()[:12],
		log:      cfg.Logger,
		done:     make(chan struct{}),
	}
	s.pubsub = rdb.Subscribe(ctx, s.channel)
	if _, err := s.pubsub.Receive(ctx); err != nil {
		_ = s.pubsub.Close()
		return nil, fmt.Errorf("sharedlimits: subscribe %s: %w", s.channel, err)
	}
	go s.listen()
	s.log.Info("send limits shared through Redis", slog.String("platform", p), slog.String("channel", s.channel))
	return s, nil
}

// failed logs err, at most once every 10 s: while Redis is down every send
// falls back to the in-process limits, and one line says so.
func (s *Store) failed(err error) error {
	s.mu.Lock()
	now := time.Now()
	logIt := now.Sub(s.warned) >= 10*time.Second
	if logIt {
		s.warned = now
	}
	s.mu.Unlock()
	if logIt {
		s.log.Warn("shared send limits unavailable, using this process's own", slog.String("platform", s.platform), slog.Any("err", err))
	}
	return err
}

// Close stops the subscription.
func (s *Store) Close() error {
	err := s.pubsub.Close()
	<-s.done
	return err
}

// Watch implements bot.SharedLimits.
func (s *Store) Watch(fn func(bot.SharedHold)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchers = append(s.watchers, fn)
}

// listen hands the holds other replicas publish to the watchers. Pub/Sub
// is at most once: a replica that misses a hold (reconnecting) gets its own
// 429 and honours it.
func (s *Store) listen() {
	defer close(s.done)
	for msg := range s.pubsub.Channel() {
		h, from, err := decodeHold(msg.Payload)
		if err != nil {
			s.log.Warn("sharedlimits: bad message", slog.String("channel", s.channel), slog.Any("err", err))
			continue
		}
		if from == s.replica {
			continue
		}
		s.mu.Lock()
		ws := slices.Clone(s.watchers)
		s.mu.Unlock()
		for _, fn := range ws {
			fn(h)
		}
	}
}

// encodeHold is "<c|f> <replica> <chat> <until ms>".
func encodeHold(kind, replica string, chatID int64, untilMs int64) string {
	return kind + " " + replica + " " + strconv.FormatInt(chatID, 10) + " " + strconv.FormatInt(untilMs, 10)
}

func decodeHold(p string) (bot.SharedHold, string, error) {
	f := strings.Fields(p)
	if len(f) != 4 || (f[0] != "c" && f[0] != "f") {
		return bot.SharedHold{}, "", fmt.Errorf("%q", p)
	}
	chat, err1 := strconv.ParseInt(f[2], 10, 64)
	until, err2 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		return bot.SharedHold{}, "", fmt.Errorf("%q", p)
	}
	return bot.SharedHold{ChatID: chat, Until: time.UnixMilli(until), Flood: f[0] == "f"}, f[1], nil
}

// reserveScript takes ARGV[4] tokens of the GCRA bucket KEYS[1] at
// ARGV[1] (ms), for a base interval ARGV[2] (ms a token) and burst ARGV[3];
// the hash's f, a share of the base rate cut by 429s, grows back by ARGV[5]
// a second. It returns the wait in ms, at least the hold ("hold" field,
// or that of KEYS[2] when given).
var reserveScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local recover = tonumber(ARGV[5])
local h = redis.call('HMGET', KEYS[1], 'tat', 'f', 'adj', 'hold')
local tat = tonumber(h[1]) or now
local f = tonumber(h[2]) or 1
local adj = tonumber(h[3]) or now
local hold = tonumber(h[4]) or 0
if f < 1 then
  local secs = (now - adj) / 1000
  if secs >= 1 then
    f = math.min(1, f + secs * recover)
    adj = now
  end
end
local iv = interval / f
if tat < now then tat = now end
local newtat = tat + n * iv
local wait = newtat - burst * iv - now
if wait < 0 then wait = 0 end
if hold - now > wait then wait = hold - now end
local ttl = math.max(newtat - now, hold - now, (1 - f) / recover * 1000) + 1000
redis.call('HSET', KEYS[1], 'tat', tostring(newtat), 'f', tostring(f), 'adj', tostring(adj))
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl))
return math.ceil(wait)
`)

// cutShareLua is the Lua both 429 scripts share: cut(key, now, upto,
// floor, recover) holds the bucket at key until upto (ms), halves its rate
// share (not under floor) after growing it back by recover a second since
// its last change, and keeps the key as long as that matters.
const cutShareLua = `
local function cut(key, now, upto, floor, recover)
  local h = redis.call('HMGET', key, 'f', 'adj', 'hold', 'last')
  local f = tonumber(h[1]) or 1
  local adj = tonumber(h[2]) or now
  local hold = tonumber(h[3]) or 0
  local last = tonumber(h[4]) or 0
  if last > adj then adj = last end
  if f < 1 then
    local secs = (now - adj) / 1000
    if secs >= 1 then f = math.min(1, f + secs * recover) end
  end
  f = math.max(floor, f / 2)
  if upto > hold then hold = upto end
  local ttl = math.max(hold - now, (1 - f) / recover * 1000) + 1000
  redis.call('HSET', key, 'f', tostring(f), 'adj', tostring(now), 'hold', tostring(hold), 'last', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(ttl))
end
`

// tooManyScript records a 429 on chat bucket KEYS[1] at ARGV[1] (ms): a hold
// until ARGV[2] (ms), its rate share cut in half (not under ARGV[3]), grown
// back by ARGV[4] a second before; then it publishes the hold on ARGV[5]
// as ARGV[6].
var tooManyScript = redis.NewScript(cutShareLua + `
cut(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
`)

// floodScript records a 429 of chat ARGV[2] at ARGV[1] (ms) in the sorted
// set KEYS[1]; when ARGV[4] distinct chats got one within ARGV[3] ms it
// clears the set, holds the whole bot until ARGV[5] (the "hold" of the
// notice bucket KEYS[2]), halves the notice share (not under ARGV[6]; grown
// back by ARGV[7] a second before), publishes ARGV[9] on ARGV[8], and
// returns 1.
var floodScript = redis.NewScript(cutShareLua + `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tostring(now - window))
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], window + 1000)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then return 0 end
redis.call('DEL', KEYS[1])
cut(KEYS[2], now, tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]))
redis.call('PUBLISH', ARGV[8], ARGV[9])
return 1
`)

func ms(t time.Time) int64 { return t.UnixMilli() }

// interval is the ms a token takes at rate r; a bucket of rate.Inf or 0
// never waits.
func interval(r rate.Limit) (float64, bool) {
	if r == rate.Inf || r <= 0 {
		return 0, false
	}
	return 1000 / float64(r), true
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// reserve runs reserveScript on key.
func (s *Store) reserve(ctx context.Context, key string, n int, r rate.Limit, b int, now time.Time, recover float64) (time.Duration, error) {
	iv, ok := interval(r)
	if !ok {
		return 0, nil
	}
	if b < 1 {
		b = 1
	}
	waitMs, err := reserveScript.Run(ctx, s.rdb, []string{key},
		ms(now), fmtFloat(iv), b, n, fmtFloat(recover)).Int64()
	if err != nil {
		return 0, err
	}
	return time.Duration(waitMs) * time.Millisecond, nil
}

func (s *Store) chatKey(chatID int64) string {
	return s.chatTag + strconv.FormatInt(chatID, 10) + "}:r"
}

// ReserveChat implements bot.SharedLimits.
func (s *Store) ReserveChat(ctx context.Context, chatID int64, n int, r rate.Limit, b int, now time.Time) (time.Duration, error) {
	d, err := s.reserve(ctx, s.chatKey(chatID), n, r, b, now, bot.SharedChatRecoverPerSec)
	if err != nil {
		return 0, s.failed(fmt.Errorf("sharedlimits: reserve chat: %w", err))
	}
	return d, nil
}

// ReserveNotice implements bot.SharedLimits.
func (s *Store) ReserveNotice(ctx context.Context, r rate.Limit, b int, now time.Time) (time.Duration, error) {
	d, err := s.reserve(ctx, s.notice, 1, r, b, now, bot.SharedFloodRecoverShare)
	if err != nil {
		return 0, s.failed(fmt.Errorf("sharedlimits: reserve notice: %w", err))
	}
	return d, nil
}

// TooMany implements bot.SharedLimits: the chat's hold and cut rate in its
// bucket, told to the other replicas, then flood inference over all of them.
// Two round trips, on 429s only.
func (s *Store) TooMany(ctx context.Context, chatID int64, retryAfter time.Duration, now time.Time, chats int) (bool, error) {
	until := ms(now.Add(retryAfter))
	if chatID != 0 {
		// The floor is relative to the base rate, which the store does not
		// know; the default chat rate's (1/s) is used, and a slower group
		// rate has its own floor no lower than 1/30 s anyway.
		floor := bot.SharedChatFloor(1)
		if err := tooManyScript.Run(ctx, s.rdb, []string{s.chatKey(chatID)},
			ms(now), until, fmtFloat(floor), fmtFloat(bot.SharedChatRecoverPerSec),
			s.channel, encodeHold("c", s.replica, chatID, until)).Err(); err != nil {
			return false, s.failed(fmt.Errorf("sharedlimits: 429: %w", err))
		}
	}
	n, err := floodScript.Run(ctx, s.rdb, []string{s.flood, s.notice},
		ms(now), chatID, bot.SharedFloodWindow.Milliseconds(), max(1, chats),
		until, fmtFloat(noticeFloorShare), fmtFloat(bot.SharedFloodRecoverShare),
		s.channel, encodeHold("f", s.replica, 0, until)).Int64()
	if err != nil {
		return false, s.failed(fmt.Errorf("sharedlimits: flood: %w", err))
	}
	return n == 1, nil
}

// noticeFloorShare is the least share of the default notice budget (25/s) a
// flood cuts it to.
var noticeFloorShare = bot.SharedNoticeFloor(25)
