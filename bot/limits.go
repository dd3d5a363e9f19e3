package bot

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits are the proactive outgoing limits of one bot. Replies (answers to
// the update being handled) have no global cap, and a reply to a person is
// paced by their chat's limiter (after Telegram's published limits: about one
// message a second in a chat) only once a 429 slowed that chat; a new message
// to a group always is (twenty a minute); edits and callback answers are not
// pre-throttled. Notices (Client.Notify) share a global
// budget. Whatever the limits, a 429 is always honoured. Zero values take the
// defaults in brackets.
type Limits struct {
	PerChat       rate.Limit // new messages a second to one private chat [1]
	PerChatBurst  int        // [3]
	PerGroup      rate.Limit // new messages a second to one group (chat id < 0) [20 a minute]
	PerGroupBurst int        // [3]
	Notice        rate.Limit // notices a second for the whole bot [25]
	NoticeBurst   int        // [5]
	Disabled      bool       // no proactive limit at all, for tests; 429s are still honoured
	// Shared, when set, keeps the per-chat limiter of new messages, the
	// notice budget, the holds after 429s and flood inference in a store the
	// bot's replicas share (see SharedLimits); nil keeps them in process.
	Shared SharedLimits
	// PaceReplies puts replies to private chats on their chat's limiter
	// from the first message. Off by default: a reply to a person who just
	// wrote is paced only once a 429 slowed their chat.
	PaceReplies bool
}

// withDefaults returns l with zero fields set to their defaults.
func (l Limits) withDefaults() Limits {
	if l.PerChat == 0 {
		l.PerChat = 1
	}
	if l.PerChatBurst == 0 {
		l.PerChatBurst = 3
	}
	if l.PerGroup == 0 {
		l.PerGroup = rate.Every(time.Minute / 20)
	}
	if l.PerGroupBurst == 0 {
		l.PerGroupBurst = 3
	}
	if l.Notice == 0 {
		l.Notice = 25
	}
	if l.NoticeBurst == 0 {
		l.NoticeBurst = 5
	}
	return l
}

// validate rejects negative limits and bursts.
func (l Limits) validate() error {
	if l.PerChat < 0 || l.PerGroup < 0 || l.Notice < 0 {
		return errors.New("bot: limits: negative rate")
	}
	if l.PerChatBurst < 0 || l.PerGroupBurst < 0 || l.NoticeBurst < 0 {
		return errors.New("bot: limits: negative burst")
	}
	return nil
}

// limitScope says which proactive limiter a call waits on before its first
// attempt. Holds after a 429 apply to every scope.
type limitScope int

const (
	limitNone limitScope = iota // edits, callback answers, getFile...: no pre-throttle
	limitChat                   // a new message: the chat's limiter
)

// limiterSweepEvery is how often idle chat states are dropped. A state is
// dropped only when its limiter is full, its rate restored (as of the sweep)
// and no hold is pending, so a new one behaves exactly the same.
const limiterSweepEvery = time.Minute

// chatRateRecoverPerSec is the share of a chat's base rate given back each
// second after a 429 halved it; chatRateFloor is the least it is cut to.
const (
	chatRateRecoverPerSec = 0.1
	chatRateFloor         = rate.Limit(1.0 / 30)
)

// chatState is what the sender keeps about one chat: its limiter of new
// messages and the hold a 429 put on it.
type chatState struct {
	lim       *rate.Limiter
	base      rate.Limit
	holdUntil time.Time // no call to the chat before this (retry_after)
	last429   time.Time
	adjusted  time.Time // when the limiter's rate was last raised toward base
}

// sendLimiter holds one state per recently used chat. Memory stays bounded
// by the chats written to within about a minute (plus those still held).
type sendLimiter struct {
	limits  Limits
	enabled bool         // the proactive per-chat limiter; holds work either way
	shared  SharedLimits // nil: in process only

	mu        sync.Mutex
	chats     map[int64]*chatState
	lastSweep time.Time
}

// newSendLimiter returns a limiter for l (defaults applied) as of now.
func newSendLimiter(l Limits, now time.Time) *sendLimiter {
	enabled := !l.Disabled
	l = l.withDefaults()
	sl := &sendLimiter{limits: l, enabled: enabled, shared: l.Shared, chats: make(map[int64]*chatState), lastSweep: now}
	if sl.shared != nil {
		sl.shared.Watch(sl.applyHold)
	}
	return sl
}

// applyHold records the hold another replica learned from a 429 on a chat.
func (l *sendLimiter) applyHold(h SharedHold) {
	if h.Flood || h.ChatID == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cs, ok := l.chats[h.ChatID]
	if !ok {
		cs = l.newChatState(h.ChatID)
		l.chats[h.ChatID] = cs
	}
	if h.Until.After(cs.holdUntil) {
		cs.holdUntil = h.Until
	}
}

// chat returns the state of chatID, creating it when needed. Groups
// (negative ids) get the stricter of the group and the chat limits. Every
// limiterSweepEvery it drops the idle states. l.mu must be held.
func (l *sendLimiter) chat(chatID int64, now time.Time) *chatState {
	if now.Sub(l.lastSweep) >= limiterSweepEvery {
		for id, cs := range l.chats {
			// A chat slowed by a 429 recovers only as it is written to;
			// bring it up to date here, or a chat never written to again
			// would be kept for ever.
			cs.recover(now)
			if cs.lim.Limit() == cs.base && cs.lim.TokensAt(now) >= float64(cs.lim.Burst()) && !now.Before(cs.holdUntil) {
				delete(l.chats, id)
			}
		}
		l.lastSweep = now
	}
	cs, ok := l.chats[chatID]
	if !ok {
		cs = l.newChatState(chatID)
		l.chats[chatID] = cs
	}
	return cs
}

// chatLimit is the base rate and burst of new messages to chatID: groups
// (negative ids) get the stricter of the group and the chat limits.
func (l *sendLimiter) chatLimit(chatID int64) (rate.Limit, int) {
	r, b := l.limits.PerChat, l.limits.PerChatBurst
	if chatID < 0 {
		r, b = min(r, l.limits.PerGroup), min(b, l.limits.PerGroupBurst)
	}
	return r, b
}

// newChatState is the state of a chat not written to recently.
func (l *sendLimiter) newChatState(chatID int64) *chatState {
	r, b := l.chatLimit(chatID)
	return &chatState{lim: rate.NewLimiter(r, b), base: r}
}

// recover raises a chat's rate, cut by a 429, by chatRateRecoverPerSec of its
// base for every second since the last 429 or raise. l.mu must be held.
func (cs *chatState) recover(now time.Time) {
	cur := cs.lim.Limit()
	if cur >= cs.base {
		return
	}
	from := cs.adjusted
	if cs.last429.After(from) {
		from = cs.last429
	}
	secs := now.Sub(from).Seconds()
	if secs < 1 {
		return
	}
	next := min(cs.base, cur+rate.Limit(secs*chatRateRecoverPerSec)*cs.base)
	cs.lim.SetLimitAt(now, next)
	cs.adjusted = now
}

// size returns the number of chat states held.
func (l *sendLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.chats)
}

// reserveChat takes n new-message tokens of chatID at now (at most the
// burst: an album of ten is one call) and returns how long to wait, and the
// reservation to cancel when the caller gives up.
func (l *sendLimiter) reserveChat(chatID int64, n int, now time.Time) (time.Duration, *rate.Reservation, error) {
	l.mu.Lock()
	cs := l.chat(chatID, now)
	cs.recover(now)
	lim := cs.lim
	l.mu.Unlock()
	r := lim.ReserveN(now, max(1, min(n, lim.Burst())))
	if !r.OK() {
		return 0, nil, errors.New("burst is zero")
	}
	return r.DelayFrom(now), r, nil
}

// slowed reports whether replies to chatID are paced: a 429 cut its rate
// and it has not yet recovered (or Limits.PaceReplies).
func (l *sendLimiter) slowed(chatID int64, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limits.PaceReplies {
		return true
	}
	cs, ok := l.chats[chatID]
	if !ok {
		return false
	}
	cs.recover(now)
	return cs.lim.Limit() < cs.base
}

// hold returns how long calls to chatID must still wait after a 429.
func (l *sendLimiter) hold(chatID int64, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	cs, ok := l.chats[chatID]
	if !ok {
		return 0
	}
	return max(0, cs.holdUntil.Sub(now))
}

// tooMany records a 429 for chatID: no call to it before now+retryAfter, and
// its rate of new messages is halved, to recover slowly.
func (l *sendLimiter) tooMany(chatID int64, now time.Time, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cs := l.chat(chatID, now)
	if until := now.Add(retryAfter); until.After(cs.holdUntil) {
		cs.holdUntil = until
	}
	cs.recover(now)
	cs.lim.SetLimitAt(now, max(chatRateFloor, cs.lim.Limit()/2))
	cs.last429 = now
}

// limiterReserve takes one event from lim at now and returns how long the caller
// must wait before acting, and the reservation to cancel if it does not act.
func limiterReserve(lim *rate.Limiter, now time.Time) (time.Duration, *rate.Reservation, error) {
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return 0, nil, errors.New("burst is zero")
	}
	return r.DelayFrom(now), r, nil
}

// limiterAcquire waits, through wait, until lim allows one more event. When wait
// fails (ctx ended) the reservation is given back and the error returned.
func limiterAcquire(ctx context.Context, lim *rate.Limiter, now func() time.Time,
	wait func(context.Context, time.Duration) error) error {
	d, r, err := limiterReserve(lim, now())
	if err != nil {
		return err
	}
	return waitReserved(ctx, d, r, now, wait)
}

// waitReserved waits d for a reservation already taken, giving it back when
// the wait fails.
func waitReserved(ctx context.Context, d time.Duration, r *rate.Reservation, now func() time.Time,
	wait func(context.Context, time.Duration) error) error {
	if d <= 0 {
		return nil
	}
	if err := wait(ctx, d); err != nil {
		r.CancelAt(now())
		return err
	}
	return nil
}

// waitChat blocks n new messages to chatID until the chat's limiter allows
// them: the shared one when there is one and it answers, else the one in
// process. It does nothing when the proactive limits are disabled.
func (l *sendLimiter) waitChat(ctx context.Context, chatID int64, n int, now func() time.Time,
	wait func(context.Context, time.Duration) error) error {
	if !l.enabled {
		return nil
	}
	t := now()
	if l.shared != nil {
		r, b := l.chatLimit(chatID)
		done, err := waitShared(ctx, wait, func(sctx context.Context) (time.Duration, error) {
			return l.shared.ReserveChat(sctx, chatID, max(1, min(n, b)), r, b, t)
		})
		if done {
			return err
		}
	}
	d, r, err := l.reserveChat(chatID, n, t)
	if err != nil {
		return err
	}
	return waitReserved(ctx, d, r, now, wait)
}

// sleep waits d or until ctx ends, whichever comes first; it returns
// ctx.Err() in the second case.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waitShared reserves through the store the replicas share and waits what
// it says. done is false when the store did not answer and the caller's
// context is still live: the limit in process then applies.
func waitShared(ctx context.Context, wait func(context.Context, time.Duration) error,
	reserve func(context.Context) (time.Duration, error)) (done bool, err error) {
	sctx, cancel := sharedCtx(ctx)
	d, err := reserve(sctx)
	cancel()
	switch {
	case err == nil && d <= 0:
		return true, nil
	case err == nil:
		return true, wait(ctx, d)
	case ctx.Err() != nil:
		return true, ctx.Err()
	}
	return false, nil
}
