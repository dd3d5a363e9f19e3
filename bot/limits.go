package bot

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits are the outgoing rate limits of one bot, after Telegram's published
// ones: about one message a second in a chat, twenty a minute in a group,
// thirty a second in all. Zero values take the defaults in brackets.
type Limits struct {
	PerChat       rate.Limit // messages a second to one private chat [1]
	PerChatBurst  int        // [3]
	PerGroup      rate.Limit // messages a second to one group (chat id < 0) [20 a minute]
	PerGroupBurst int        // [3]
	Global        rate.Limit // calls a second of the whole bot [30]
	GlobalBurst   int        // [30]
	Disabled      bool       // no limiting at all, for benchmarks and tests
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
	if l.Global == 0 {
		l.Global = 30
	}
	if l.GlobalBurst == 0 {
		l.GlobalBurst = 30
	}
	return l
}

// validate rejects negative limits and bursts.
func (l Limits) validate() error {
	if l.PerChat < 0 || l.PerGroup < 0 || l.Global < 0 {
		return errors.New("bot: limits: negative rate")
	}
	if l.PerChatBurst < 0 || l.PerGroupBurst < 0 || l.GlobalBurst < 0 {
		return errors.New("bot: limits: negative burst")
	}
	return nil
}

// limitScope says which limiters a call waits on.
type limitScope int

const (
	limitNone   limitScope = iota // getMe: not limited
	limitGlobal                   // answerCallbackQuery, getFile: the global limiter only
	limitChat                     // messages: the chat's limiter, then the global one
)

// limiterSweepEvery is how often idle chat limiters are dropped. A limiter is
// dropped only when it is full again, so a new one behaves exactly the same
// and dropping never lets a burst through.
const limiterSweepEvery = time.Minute

// sendLimiter holds the global limiter and one limiter per recently used
// chat. Memory stays bounded by the chats written to within about a minute
// (plus those with messages still queued).
type sendLimiter struct {
	limits Limits
	global *rate.Limiter

	mu        sync.Mutex
	chats     map[int64]*rate.Limiter
	lastSweep time.Time
}

// newSendLimiter returns a limiter for l (defaults applied) as of now.
func newSendLimiter(l Limits, now time.Time) *sendLimiter {
	l = l.withDefaults()
	return &sendLimiter{
		limits:    l,
		global:    rate.NewLimiter(l.Global, l.GlobalBurst),
		chats:     make(map[int64]*rate.Limiter),
		lastSweep: now,
	}
}

// chat returns the limiter of chatID, creating it when needed. Groups
// (negative ids) get the stricter of the group and the chat limits. Every
// limiterSweepEvery it drops the limiters that are full.
func (l *sendLimiter) chat(chatID int64, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= limiterSweepEvery {
		for id, lim := range l.chats {
			if lim.TokensAt(now) >= float64(lim.Burst()) {
				delete(l.chats, id)
			}
		}
		l.lastSweep = now
	}
	lim, ok := l.chats[chatID]
	if !ok {
		r, b := l.limits.PerChat, l.limits.PerChatBurst
		if chatID < 0 {
			r, b = min(r, l.limits.PerGroup), min(b, l.limits.PerGroupBurst)
		}
		lim = rate.NewLimiter(r, b)
		l.chats[chatID] = lim
	}
	return lim
}

// size returns the number of chat limiters held.
func (l *sendLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.chats)
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
	if d <= 0 {
		return nil
	}
	if err := wait(ctx, d); err != nil {
		r.CancelAt(now())
		return err
	}
	return nil
}

// wait blocks the caller of a call in scope to chatID until the limiters
// allow it: first the chat's limiter (so a busy chat does not hold global
// tokens while it waits), then the global one.
func (l *sendLimiter) wait(ctx context.Context, scope limitScope, chatID int64, now func() time.Time,
	wait func(context.Context, time.Duration) error) error {
	if l == nil || scope == limitNone {
		return nil
	}
	if scope == limitChat {
		if err := limiterAcquire(ctx, l.chat(chatID, now()), now, wait); err != nil {
			return err
		}
	}
	return limiterAcquire(ctx, l.global, now, wait)
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
