package bot

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// lane says whom a call serves. Replies answer the update being handled and
// are never held by a proactive global cap; notices are messages nobody asked
// for (alerts, digests, broadcasts) and share a global budget that yields to
// replies.
type lane int

const (
	laneReply lane = iota
	laneNotice
)

func (l lane) String() string {
	if l == laneNotice {
		return "notice"
	}
	return "reply"
}

// Flood inference and recovery. 429s from floodChats distinct chats within
// floodWindow, and from at least floodShare of the calls made in a second,
// are taken for a flood of the whole bot: every call waits the
// retry_after, and both lanes are slowed (replies capped at half the rate they
// were sent at, notices at half their rate). Rates then grow back by
// floodRecoverShare of their former value for every second without a 429
// (additive increase, multiplicative decrease).
const (
	floodWindow = time.Second
	floodChats  = 3
	// floodShare keeps the per-chat 429s of a busy bot from passing for a
	// flood: with 500 people answering, a few chats writing faster than
	// their own limit get 429s every second, while a flood of the whole bot
	// answers 429 to nearly every call.
	floodShare        = 0.2
	floodRecoverShare = 0.05
	replyCapFloor     = rate.Limit(10)
	noticeFloor       = rate.Limit(1)
	// noticeYieldMax bounds how long a notice waits for replies in flight
	// to finish, so a steady stream of replies cannot starve notices.
	noticeYieldMax = 250 * time.Millisecond
)

// tooManyHit is one 429 answer as flood inference remembers it.
type tooManyHit struct {
	chatID int64
	at     time.Time
}

// floodControl holds the bot-wide state of both lanes: the hold and the
// reduced rates after an inferred flood, the notice budget, the rate at which
// replies go out, and the replies in flight that notices yield to.
type floodControl struct {
	mu        sync.Mutex
	recent    []tooManyHit
	holdUntil time.Time
	last429   time.Time
	adjusted  time.Time
	floods    int

	reply       *rate.Limiter // rate.Inf unless slowed after a flood
	replyTarget rate.Limit    // the reply rate measured before the flood
	notice      *rate.Limiter
	noticeBase  rate.Limit
	noticeBurst int
	noticeOn    bool         // the notice budget applies (limits not disabled)
	shared      SharedLimits // nil: in process only

	winStart time.Time // reply rate: the current one-second window
	winCount int
	lastRate float64 // replies a second in the last full window

	active int           // replies in flight
	idle   chan struct{} // made by a notice waiting for replies; closed when active drops to 0
}

func newFloodControl(l Limits, now time.Time) *floodControl {
	on := !l.Disabled
	l = l.withDefaults()
	fc := &floodControl{
		reply:       rate.NewLimiter(rate.Inf, 1),
		notice:      rate.NewLimiter(l.Notice, l.NoticeBurst),
		noticeBase:  l.Notice,
		noticeBurst: l.NoticeBurst,
		noticeOn:    on,
		shared:      l.Shared,
		winStart:    now,
	}
	if fc.shared != nil {
		fc.shared.Watch(fc.applyHold)
	}
	return fc
}

// applyHold slows this replica as another one did when it inferred a flood
// of the whole bot. The clock is the wall clock: holds come from other
// processes.
func (fc *floodControl) applyHold(h SharedHold) {
	if !h.Flood {
		return
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	now := time.Now()
	fc.recoverLocked(now)
	fc.last429 = now
	fc.slowLocked(now, h.Until.Sub(now))
}

// recoverLocked grows the slowed rates back for every second since the last
// 429 or the last growth. fc.mu must be held.
func (fc *floodControl) recoverLocked(now time.Time) {
	if fc.floods == 0 {
		return
	}
	from := fc.adjusted
	if fc.last429.After(from) {
		from = fc.last429
	}
	secs := now.Sub(from).Seconds()
	if secs < 1 {
		return
	}
	if cur := fc.reply.Limit(); cur != rate.Inf {
		next := cur + rate.Limit(secs*floodRecoverShare)*fc.replyTarget
		if next >= fc.replyTarget {
			fc.reply.SetLimitAt(now, rate.Inf)
		} else {
			fc.reply.SetLimitAt(now, next)
		}
	}
	if cur := fc.notice.Limit(); cur < fc.noticeBase {
		fc.notice.SetLimitAt(now, min(fc.noticeBase, cur+rate.Limit(secs*floodRecoverShare)*fc.noticeBase))
	}
	fc.adjusted = now
}

// tooMany records a 429 for chatID (0 for calls not addressed to a chat) and
// reports whether it completes a flood of the whole bot. With a shared store
// the 429 is recorded there, for every replica, and the flood inferred from
// the 429s of all of them; when the store fails, from this replica's alone.
func (fc *floodControl) tooMany(chatID int64, now time.Time, retryAfter time.Duration) bool {
	if fc.shared != nil {
		fc.mu.Lock()
		chats := fc.floodThresholdLocked()
		fc.mu.Unlock()
		ctx, cancel := sharedCtx(context.Background())
		flood, err := fc.shared.TooMany(ctx, chatID, retryAfter, now, chats)
		cancel()
		if err == nil {
			fc.mu.Lock()
			defer fc.mu.Unlock()
			fc.recoverLocked(now)
			fc.last429 = now
			if flood {
				fc.slowLocked(now, retryAfter)
			}
			return flood
		}
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.recoverLocked(now)
	fc.last429 = now
	kept := fc.recent[:0]
	for _, h := range fc.recent {
		if now.Sub(h.at) < floodWindow && h.chatID != chatID {
			kept = append(kept, h)
		}
	}
	fc.recent = append(kept, tooManyHit{chatID: chatID, at: now})
	if len(fc.recent) < fc.floodThresholdLocked() {
		return false
	}
	fc.recent = fc.recent[:0]
	fc.slowLocked(now, retryAfter)
	return true
}

// slowLocked holds every call for retryAfter and halves both lanes' rates,
// after a flood. fc.mu must be held.
func (fc *floodControl) slowLocked(now time.Time, retryAfter time.Duration) {
	fc.floods++
	if until := now.Add(retryAfter); until.After(fc.holdUntil) {
		fc.holdUntil = until
	}
	cur := fc.reply.Limit()
	if cur == rate.Inf {
		fc.replyTarget = max(2*replyCapFloor, rate.Limit(fc.lastRate))
		cur = fc.replyTarget
	}
	next := max(replyCapFloor, cur/2)
	fc.reply.SetLimitAt(now, next)
	fc.reply.SetBurstAt(now, max(1, int(next/10)))
	fc.notice.SetLimitAt(now, max(noticeFloor, fc.notice.Limit()/2))
}

// floodThresholdLocked is the number of distinct chats whose 429s within
// floodWindow make a flood: floodChats, or floodShare of the replies sent in
// a second if more. fc.mu must be held.
func (fc *floodControl) floodThresholdLocked() int {
	calls := max(fc.lastRate, float64(fc.winCount))
	return max(floodChats, int(math.Ceil(floodShare*calls)))
}

// hold returns how long every call must still wait after an inferred flood.
func (fc *floodControl) hold(now time.Time) time.Duration {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return max(0, fc.holdUntil.Sub(now))
}

// rates returns the current reply cap (rate.Inf when none) and notice rate.
func (fc *floodControl) rates(now time.Time) (reply, notice rate.Limit) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.recoverLocked(now)
	return fc.reply.Limit(), fc.notice.Limit()
}

// waitReply blocks a reply only while the bot is slowed after a flood.
func (fc *floodControl) waitReply(ctx context.Context, now func() time.Time,
	wait func(context.Context, time.Duration) error) error {
	t := now()
	fc.mu.Lock()
	fc.recoverLocked(t)
	capped := fc.reply.Limit() != rate.Inf
	fc.mu.Unlock()
	if !capped {
		return nil
	}
	return limiterAcquire(ctx, fc.reply, func() time.Time { return t }, wait)
}

// waitNotice blocks a notice until the notice budget allows it, then until
// no reply is in flight (at most noticeYieldMax).
func (fc *floodControl) waitNotice(ctx context.Context, now func() time.Time,
	wait func(context.Context, time.Duration) error) error {
	if !fc.noticeOn {
		return nil
	}
	t := now()
	fc.mu.Lock()
	fc.recoverLocked(t)
	fc.mu.Unlock()
	if err := fc.waitNoticeBudget(ctx, t, now, wait); err != nil {
		return err
	}
	return fc.yieldToReplies(ctx)
}

// waitNoticeBudget waits on the notice budget: the shared one when there is
// one and it answers, else the one in process.
func (fc *floodControl) waitNoticeBudget(ctx context.Context, t time.Time, now func() time.Time,
	wait func(context.Context, time.Duration) error) error {
	if fc.shared != nil {
		done, err := waitShared(ctx, wait, func(sctx context.Context) (time.Duration, error) {
			return fc.shared.ReserveNotice(sctx, fc.noticeBase, fc.noticeBurst, t)
		})
		if done {
			return err
		}
	}
	return limiterAcquire(ctx, fc.notice, now, wait)
}

// yieldToReplies waits until no reply is in flight, at most noticeYieldMax.
func (fc *floodControl) yieldToReplies(ctx context.Context) error {
	fc.mu.Lock()
	if fc.active == 0 {
		fc.mu.Unlock()
		return nil
	}
	if fc.idle == nil {
		fc.idle = make(chan struct{})
	}
	ch := fc.idle
	fc.mu.Unlock()
	t := time.NewTimer(noticeYieldMax)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// replyStart marks a reply attempt in flight and counts it toward the
// measured reply rate; replyDone ends it.
func (fc *floodControl) replyStart(now time.Time) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.winCount++
	if el := now.Sub(fc.winStart); el >= time.Second {
		fc.lastRate = float64(fc.winCount) / el.Seconds()
		fc.winCount, fc.winStart = 0, now
	}
	fc.active++
}

func (fc *floodControl) replyDone() {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.active--
	if fc.active == 0 && fc.idle != nil {
		close(fc.idle)
		fc.idle = nil
	}
}
