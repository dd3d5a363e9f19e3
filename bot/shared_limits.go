package bot

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// SharedLimits keeps the proactive limits and the 429 state of one bot in a
// store that all its replicas share (Redis: see package bot/sharedlimits), so
// that N replicas behind a load balancer do not send N times as much: the
// per-chat limiter of new messages, the notice budget, a chat's hold after a
// 429 and the inference of a flood of the whole bot are counted once. It is
// declared here, where it is consumed.
//
// A reservation costs one round trip to the store, so only new messages and
// notices pay one; edits and callback answers read the holds kept in
// process, which Watch keeps up to date with what other replicas learned.
// When the store fails, the client falls back to its in-process limits for
// that call: a replica without the store sends as a single one would.
type SharedLimits interface {
	// ReserveChat takes n new-message tokens of chatID's bucket (base rate r
	// a second and burst b, the rate cut by recent 429s as the store
	// remembers) as of now, and returns how long the caller must wait before
	// sending: the bucket's delay, or the hold of a 429 on the chat if longer.
	ReserveChat(ctx context.Context, chatID int64, n int, r rate.Limit, b int, now time.Time) (time.Duration, error)
	// ReserveNotice takes one token of the bot's notice budget (base rate r
	// a second and burst b, cut after a flood) and returns how long the caller
	// must wait: the budget's delay, or the hold of a flood if longer.
	ReserveNotice(ctx context.Context, r rate.Limit, b int, now time.Time) (time.Duration, error)
	// TooMany records a 429 with retryAfter for chatID (0 for a call not
	// addressed to a chat), tells the other replicas, and reports whether it
	// completes a flood of the whole bot: 429s from at least chats distinct
	// chats within SharedFloodWindow, whichever replicas got them.
	TooMany(ctx context.Context, chatID int64, retryAfter time.Duration, now time.Time, chats int) (flood bool, err error)
	// Watch calls fn for every hold another replica learned from a 429.
	// The functions are called one after another, in the order they were
	// added.
	Watch(fn func(SharedHold))
}

// SharedHold is a hold another replica learned from a 429: on one chat, or
// on the whole bot when Flood is set (ChatID is then 0).
type SharedHold struct {
	ChatID int64
	Until  time.Time
	Flood  bool
}

// Parameters of the shared state the store applies; they are those of the
// in-process limits, so that one replica behaves the same either way.
const (
	// SharedChatRecoverPerSec is the share of a chat's base rate given back
	// each second after a 429 cut it.
	SharedChatRecoverPerSec = chatRateRecoverPerSec
	// SharedFloodRecoverShare is the share of the notice budget given back
	// each second after a flood cut it.
	SharedFloodRecoverShare = floodRecoverShare
	// SharedFloodWindow is the window in which 429s from many chats make a
	// flood.
	SharedFloodWindow = floodWindow
)

// SharedChatFloor is the least share of its base rate a chat's rate is cut
// to, for base rate r.
func SharedChatFloor(r rate.Limit) float64 {
	if r <= 0 {
		return 1
	}
	return min(1, float64(chatRateFloor/r))
}

// SharedNoticeFloor is the least share of the notice budget a flood cuts
// it to, for base rate r.
func SharedNoticeFloor(r rate.Limit) float64 {
	if r <= 0 {
		return 1
	}
	return min(1, float64(noticeFloor/r))
}

// sharedCallTimeout bounds one call to the shared store, so that a hung
// store delays a send by at most this before the in-process limits take over.
const sharedCallTimeout = time.Second

// sharedCtx is ctx bounded by sharedCallTimeout.
func sharedCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, sharedCallTimeout)
}
