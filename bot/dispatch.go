package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Handler handles one update. It is declared here because the workers
// consume it. A returned error makes the worker try the update again later,
// with backoff, while the update stays in its chat's queue; a panic is
// recovered and never retried. Handle is called concurrently for different
// chats, never for two updates of one chat at the same time, and its context
// carries a deadline (DispatchConfig.HandlerTimeout) and the attempt number
// (see Attempt).
type Handler interface {
	Handle(ctx context.Context, u Update) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, u Update) error

// Handle calls f(ctx, u).
func (f HandlerFunc) Handle(ctx context.Context, u Update) error { return f(ctx, u) }

// Apologizer tells the person behind an update that it cannot be handled
// now because a backend is unavailable; the update is kept and tried again.
type Apologizer interface {
	Unavailable(ctx context.Context, u Update)
}

// Delivered remembers, across the attempts at one update, what a handler
// already got to the person, so that a retry sends only what they have not
// seen: no second callback answer, no edit that changes nothing. It is safe
// for concurrent use; the zero value is ready.
type Delivered struct {
	mu   sync.Mutex
	seen map[string]bool
}

// Seen reports whether key was marked delivered by an earlier attempt.
func (d *Delivered) Seen(key string) bool {
	if d == nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seen[key]
}

// Mark records key as delivered.
func (d *Delivered) Mark(key string) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	d.seen[key] = true
}

type deliveredKey struct{}

// DeliveredOf returns the update's record of what was delivered, or nil
// outside a handler (a nil *Delivered remembers nothing).
func DeliveredOf(ctx context.Context) *Delivered {
	d, _ := ctx.Value(deliveredKey{}).(*Delivered)
	return d
}

// WithDelivered returns ctx carrying d, for tests of handlers.
func WithDelivered(ctx context.Context, d *Delivered) context.Context {
	return context.WithValue(ctx, deliveredKey{}, d)
}

type attemptKey struct{}

// Attempt returns which attempt at its update a handler's ctx belongs to:
// 1 for the first, 0 outside a handler. A handler says something once per
// update (such as "the system is unavailable") only on the first attempt.
func Attempt(ctx context.Context) int {
	n, _ := ctx.Value(attemptKey{}).(int)
	return n
}

// WithAttempt returns ctx carrying attempt n, for tests of handlers.
func WithAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

// DispatchConfig configures the workers that take updates from the per-chat
// queues. Zero values take the defaults in brackets.
type DispatchConfig struct {
	Queue Queue // [a MemQueue: not durable]
	// Workers bounds the private chats handled at once; GroupWorkers the
	// groups, on their own workers so that they never delay private chats.
	Workers      int // [64]
	GroupWorkers int // [Workers/8, at least 1]
	// HandlerTimeout is the deadline of one attempt at an update. [10s]
	HandlerTimeout time.Duration
	// GiveUpAfter is how long an update whose handler keeps failing is
	// retried before it is logged and skipped. [1h]
	GiveUpAfter time.Duration
	// Sweep is how often the queues are scanned for chats nobody is
	// handling (left by a crashed process or another replica). [5s]
	Sweep time.Duration
	// Lease is how long a chat stays claimed by this process without a
	// renewal; a chat being handled is renewed every Lease/3, so a crashed
	// process holds its chats at most this long. [6s]
	Lease time.Duration
	// Owner names this process in the chats' claims. A restarted process
	// with the same Owner resumes its chats at once; replicas must differ.
	// [random]
	Owner string
}

// dispatcher runs the queued updates through a Handler: each chat's updates
// in order, one at a time; different chats in parallel, at most a worker
// each. A chat that waits (a slow handler, a retry) holds only its worker.
type dispatcher struct {
	cfg      DispatchConfig
	platform Platform
	owner    string
	backoff  Backoff
	wait     func(ctx context.Context, d time.Duration) error
	log      *slog.Logger
	metrics  *Metrics
	now      func() time.Time

	mu      sync.Mutex
	cond    *sync.Cond
	state   map[ChatKey]chatPhase
	ready   [2][]ChatKey // private, group
	stopped bool
	// stash holds, for a chat that a BatchQueue push claimed, its oldest
	// update, so that the worker handles it without a Take.
	stash map[ChatKey]stashed
	// handled is the last update handled here per chat, so that a stash
	// taken over by a worker that got the same update through a Take is
	// never handled twice. A stash is good for Lease/2 only, so a mark is
	// needed no longer than that.
	handled recent
	// removed is the last few updates per chat handled here and removed
	// from the queue. getUpdates returns an update until its offset is
	// confirmed, so the poller may queue again one a worker has just
	// removed (a restarted process handles the copy its predecessor
	// queued, then polls); handled again it would repeat its reply, so it
	// is removed unhandled. Exact ids, not "at most the last": an update
	// that comes late (webhook deliveries may cross) is still handled.
	removed recent
}

// recent remembers update ids per chat for a window or two: marks live in
// two generations, the older dropped every window, so memory follows the
// chats of the last few seconds, not every chat the process has seen.
type recent struct {
	cur, old map[ChatKey][]int
	since    time.Time // when cur became the current generation
}

// add records id for k as of now, keeping the latest keep ids of k.
func (r *recent) add(k ChatKey, id int, now time.Time, window time.Duration, keep int) {
	if r.cur == nil || now.Sub(r.since) >= window {
		r.old, r.cur, r.since = r.cur, map[ChatKey][]int{}, now
	}
	ids := r.cur[k]
	if ids == nil {
		ids = slices.Clone(r.old[k])
	}
	if len(ids) >= keep {
		// Shifted in place: a chat's marks are allocated once a generation,
		// not at every update.
		ids = append(ids[:0], ids[len(ids)-keep+1:]...)
	}
	r.cur[k] = append(ids, id)
}

// has reports whether id of k is remembered.
func (r *recent) has(k ChatKey, id int) bool {
	ids, ok := r.cur[k]
	if !ok {
		ids = r.old[k]
	}
	return slices.Contains(ids, id)
}

// latest returns the largest id remembered for k.
func (r *recent) latest(k ChatKey) (int, bool) {
	ids, ok := r.cur[k]
	if !ok {
		ids = r.old[k]
	}
	if len(ids) == 0 {
		return 0, false
	}
	return slices.Max(ids), true
}

// len counts the chats remembered.
func (r *recent) len() int { return len(r.cur) + len(r.old) }

// removedKeep is how many removed updates a chat's marks keep: the ones a
// poll may bring again at once.
const removedKeep = 8

// stashed is an update whose chat a push claimed for this process.
type stashed struct {
	q       Queued
	u       Update // q decoded, when decoded
	decoded bool
	at      time.Time // when the claim was made (before the push)
}

type chatPhase uint8

const (
	chatReady  chatPhase = iota + 1 // in a ready list
	chatActive                      // a worker runs it
	chatAgain                       // a worker runs it, and new work came meanwhile
)

func newDispatcher(platform Platform, cfg DispatchConfig, backoff Backoff, wait func(context.Context, time.Duration) error,
	log *slog.Logger, metrics *Metrics) *dispatcher {
	if cfg.Queue == nil {
		cfg.Queue = NewMemQueue()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.GroupWorkers <= 0 {
		cfg.GroupWorkers = max(1, cfg.Workers/8)
	}
	if cfg.HandlerTimeout <= 0 {
		cfg.HandlerTimeout = 10 * time.Second
	}
	if cfg.GiveUpAfter <= 0 {
		cfg.GiveUpAfter = time.Hour
	}
	if cfg.Sweep <= 0 {
		cfg.Sweep = 5 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 6 * time.Second
	}
	if cfg.Owner == "" {
		cfg.Owner = newOwner()
	}
	d := &dispatcher{cfg: cfg, platform: platform, owner: cfg.Owner, backoff: backoff, wait: wait,
		log: log, metrics: metrics, now: time.Now, state: map[ChatKey]chatPhase{},
		stash: map[ChatKey]stashed{}}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// newOwner names this process's claims on chats.
func newOwner() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// accept writes an update to its chat's queue, durably, and wakes a worker.
// It returns an error only when the queue could not take it.
func (d *dispatcher) accept(ctx context.Context, u Update, raw []byte) error {
	k := chatKeyOf(u)
	if err := d.cfg.Queue.Push(ctx, k, u.ID, raw); err != nil {
		return fmt.Errorf("bot: queue update %d: %w", u.ID, err)
	}
	d.notify(k)
	return nil
}

// acceptAll writes updates to their chats' queues, durably, and wakes the
// workers. With a BatchQueue it takes one round trip, and the chats it
// claims on the way are handed to the workers with their oldest update, so
// that they need no Take; with another Queue it is accept for each update.
// On an error some updates may be queued: pushing again is harmless.
func (d *dispatcher) acceptAll(ctx context.Context, us []Update, raws [][]byte) error {
	bq, ok := d.cfg.Queue.(BatchQueue)
	if !ok {
		for i, u := range us {
			if err := d.accept(ctx, u, raws[i]); err != nil {
				return err
			}
		}
		return nil
	}
	items := make([]Pushed, len(us))
	for i, u := range us {
		items[i] = Pushed{Key: chatKeyOf(u), ID: u.ID, Raw: raws[i]}
	}
	at := d.now()
	heads, err := bq.PushAll(ctx, d.owner, d.cfg.Lease, items)
	if err != nil {
		return fmt.Errorf("bot: queue %d updates: %w", len(us), err)
	}
	for i, h := range heads {
		if h.Claim != Taken {
			d.notify(items[i].Key)
			continue
		}
		st := stashed{q: h.Queued, at: at}
		if h.ID == us[i].ID {
			st.u, st.decoded = us[i], true
		}
		d.handoff(items[i].Key, st)
	}
	return nil
}

// handoff gives a worker k, whose push claimed it for this process, with
// its oldest update. A chat a worker runs already takes the update from the
// queue itself.
func (d *dispatcher) handoff(k ChatKey, st stashed) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.handledLocked(k, st.q.ID) {
		d.notifyLocked(k)
		return
	}
	switch d.state[k] {
	case chatActive, chatAgain:
		d.state[k] = chatAgain
	default:
		d.stash[k] = st
		d.notifyLocked(k)
	}
}

// takeStash returns k's stashed update if it is still good to handle
// without a Take: its claim is young, and no worker here handled it.
func (d *dispatcher) takeStash(k ChatKey) (stashed, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, ok := d.stash[k]
	if !ok {
		return stashed{}, false
	}
	delete(d.stash, k)
	if d.handledLocked(k, st.q.ID) {
		return stashed{}, false
	}
	return st, d.now().Sub(st.at) < d.cfg.Lease/2
}

// markHandled records that update id of k was handled here.
func (d *dispatcher) markHandled(k ChatKey, id int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if last, ok := d.handled.latest(k); ok {
		id = max(id, last)
	}
	d.handled.add(k, id, d.now(), d.cfg.Lease, 1)
}

// handledLocked reports whether update id of k, or a later one, was handled
// here within the last Lease or two. d.mu must be held.
func (d *dispatcher) handledLocked(k ChatKey, id int) bool {
	last, ok := d.handled.latest(k)
	return ok && last >= id
}

// markRemoved records that update id of k, handled here, left the queue.
func (d *dispatcher) markRemoved(k ChatKey, id int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.removed.add(k, id, d.now(), d.cfg.Lease, removedKeep)
}

// removedHere reports whether update id of k was handled here and removed
// from the queue within the last Lease or two.
func (d *dispatcher) removedHere(k ChatKey, id int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.removed.has(k, id)
}

// notify marks k as having work.
func (d *dispatcher) notify(k ChatKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.notifyLocked(k)
}

func (d *dispatcher) notifyLocked(k ChatKey) {
	switch d.state[k] {
	case chatReady, chatAgain:
	case chatActive:
		d.state[k] = chatAgain
	default:
		d.state[k] = chatReady
		c := 0
		if k.Group() {
			c = 1
		}
		d.ready[c] = append(d.ready[c], k)
		d.cond.Broadcast()
	}
}

// next blocks until a chat of class c is ready and returns it, marked
// active; ok is false once the dispatcher stops.
func (d *dispatcher) next(c int) (ChatKey, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for !d.stopped && len(d.ready[c]) == 0 {
		d.cond.Wait()
	}
	if d.stopped {
		return ChatKey{}, false
	}
	k := d.ready[c][0]
	d.ready[c] = d.ready[c][1:]
	d.state[k] = chatActive
	return k, true
}

// finish ends a worker's turn on k; work that came meanwhile makes it ready again.
func (d *dispatcher) finish(k ChatKey) {
	d.mu.Lock()
	again := d.state[k] == chatAgain
	delete(d.state, k)
	d.mu.Unlock()
	if again {
		d.notify(k)
	}
}

// run starts the workers and the sweeper and returns when stop is done and
// the updates being handled have finished, or grace has passed (their
// context is then cancelled and they stay queued).
func (d *dispatcher) run(stop context.Context, h Handler, grace time.Duration) {
	hctx, cancel := context.WithCancel(context.WithoutCancel(stop))
	defer cancel()
	var wg sync.WaitGroup
	for c, n := range []int{d.cfg.Workers, d.cfg.GroupWorkers} {
		for range n {
			wg.Go(func() {
				for {
					k, ok := d.next(c)
					if !ok {
						return
					}
					d.runChat(stop, hctx, h, k)
					d.finish(k)
				}
			})
		}
	}
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		d.sweep(stop)
	}()
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		d.heartbeat(hctx)
	}()
	defer func() {
		cancel()
		<-hbDone
	}()

	<-stop.Done()
	<-sweepDone
	d.mu.Lock()
	d.stopped = true
	d.cond.Broadcast()
	d.mu.Unlock()
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-finished:
	case <-t.C:
		cancel()
		d.log.Warn("bot: grace period over; unfinished updates stay queued and are handled after the restart")
		<-finished
	}
}

// sweep lists the chats with queued updates at start and then every Sweep,
// so that what a crashed process or replica left is resumed.
func (d *dispatcher) sweep(stop context.Context) {
	t := time.NewTicker(d.cfg.Sweep)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(stop, d.cfg.HandlerTimeout)
		keys, err := d.cfg.Queue.Pending(ctx)
		cancel()
		if err != nil && stop.Err() == nil {
			d.log.Error("bot: cannot list queued chats; retrying", slog.Any("err", err))
		}
		for _, k := range keys {
			if k.Platform == d.platform {
				d.notify(k)
			}
		}
		select {
		case <-stop.Done():
			return
		case <-t.C:
		}
	}
}

// runChat handles k's queued updates in order until the queue is empty,
// another owner holds the chat, or stop is done.
func (d *dispatcher) runChat(stop, ctx context.Context, h Handler, k ChatKey) {
	log := chatLog{base: d.log, chat: k.ChatID}
	var (
		q     Queued
		claim Claim
		err   error
		pre   *Update
	)
	if st, ok := d.takeStash(k); ok {
		// The push claimed the chat a moment ago: no Take needed.
		q, claim = st.q, Taken
		if st.decoded {
			pre = &st.u
		}
	} else {
		qctx, cancel := context.WithTimeout(ctx, d.cfg.HandlerTimeout)
		q, claim, err = d.cfg.Queue.Take(qctx, k, d.owner, d.cfg.Lease)
		cancel()
	}
	for {
		if err != nil {
			delay := d.backoff.delay(3)
			log.Error("bot: cannot read the chat's queue; trying again later", slog.Any("err", err), slog.Duration("backoff", delay))
			d.retryLater(k, delay)
			return
		}
		if claim != Taken {
			if claim == Busy {
				// Another process holds the chat. It handles what was
				// queued, unless it dies: look again when its claim would
				// have run out.
				d.retryLater(k, d.cfg.Lease)
			}
			return
		}
		if d.removedHere(k, q.ID) {
			// Queued again by the poller after it was handled and removed
			// here (see dispatcher.removed): remove it unhandled.
			q, claim, err = d.done(ctx, k, q.ID)
			continue
		}
		if stop.Err() != nil || !d.handleQueued(stop, ctx, h, k, q, pre, log) {
			return
		}
		pre = nil
		d.markHandled(k, q.ID)
		// Handled: remove it and take the next in one round trip. If that
		// fails the update stays queued and comes again; its dedup mark
		// turns that into at most a repeated reply. The queue may also keep
		// it (its transition lost a race): it then comes next, to be
		// handled again, and is not marked removed.
		id := q.ID
		q, claim, err = d.done(ctx, k, id)
		if err == nil && (claim != Taken || q.ID != id) {
			d.markRemoved(k, id)
		}
	}
}

// done removes update id of k from the queue and takes the next.
func (d *dispatcher) done(ctx context.Context, k ChatKey, id int) (Queued, Claim, error) {
	dctx, cancel := context.WithTimeout(ctx, d.cfg.HandlerTimeout)
	defer cancel()
	return d.cfg.Queue.Done(dctx, k, d.owner, id, d.cfg.Lease)
}

// chatLog writes a worker's log lines with the chat and the update they are
// about; the attributes are formatted only when a line is written, not for
// every update handled.
type chatLog struct {
	base   *slog.Logger
	chat   int64
	update int // 0: not known yet
}

func (l chatLog) with(args []any) []any {
	out := make([]any, 0, len(args)+2)
	out = append(out, slog.Int64("chat_id", l.chat))
	if l.update != 0 {
		out = append(out, slog.Int("update_id", l.update))
	}
	return append(out, args...)
}

// Error logs at error level.
func (l chatLog) Error(msg string, args ...any) { l.base.Error(msg, l.with(args)...) }

// Warn logs at warn level.
func (l chatLog) Warn(msg string, args ...any) { l.base.Warn(msg, l.with(args)...) }

// heartbeat renews, every Lease/3 until ctx is done, the claims on the
// chats the workers run, so that a long handler or a wait between attempts
// keeps its chat. One loop serves every worker.
func (d *dispatcher) heartbeat(ctx context.Context) {
	t := time.NewTicker(d.cfg.Lease / 3)
	defer t.Stop()
	var running []ChatKey
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		running = running[:0]
		d.mu.Lock()
		for k, ph := range d.state {
			if ph == chatActive || ph == chatAgain {
				running = append(running, k)
			}
		}
		d.mu.Unlock()
		rctx, cancel := context.WithTimeout(ctx, d.cfg.Lease/3)
		var wg sync.WaitGroup
		for _, k := range running {
			wg.Go(func() {
				_, _, err := d.cfg.Queue.Take(rctx, k, d.owner, d.cfg.Lease)
				if err != nil && ctx.Err() == nil {
					d.log.Warn("bot: cannot renew the claim on a chat", slog.Int64("chat_id", k.ChatID), slog.Any("err", err))
				}
			})
		}
		wg.Wait()
		cancel()
	}
}

// retryLater makes k ready again after delay.
func (d *dispatcher) retryLater(k ChatKey, delay time.Duration) {
	time.AfterFunc(delay, func() { d.notify(k) })
}

// handleQueued decodes and handles one queued update, retrying a handler
// error with backoff. It reports whether the update is done with: handled,
// or failed for good (undecodable, a panic, or failing for GiveUpAfter). It
// reports false when shutdown interrupted it or the chat's claim was lost;
// the update then stays queued.
func (d *dispatcher) handleQueued(stop, ctx context.Context, h Handler, k ChatKey, q Queued, pre *Update, log chatLog) bool {
	platform := string(d.platform)
	var u Update
	var err error
	if pre != nil {
		u = *pre
	} else {
		u, err = ConvertUpdate(k.Platform, q.Raw)
	}
	if err != nil || u.Kind == "" {
		log.Error("bot: undecodable queued update skipped", slog.Int("update_id", q.ID), slog.Any("err", err))
		pollInc(d.metrics, func(m *Metrics) *prometheus.CounterVec { return m.UpdatesFailed }, platform, "unknown", "undecodable")
		return true
	}
	log.update = u.ID
	kind := string(u.Kind)
	first := d.now()
	delivered := &Delivered{}
	ctx = WithDelivered(ctx, delivered)
	for attempt := 1; ; attempt++ {
		started := d.now()
		actx, cancel := context.WithTimeout(WithAttempt(ctx, attempt), d.cfg.HandlerTimeout)
		panicked, err := d.call(actx, h, u, log)
		timedOut := errors.Is(actx.Err(), context.DeadlineExceeded)
		cancel()
		switch {
		case panicked:
			pollInc(d.metrics, func(m *Metrics) *prometheus.CounterVec { return m.UpdatesFailed }, platform, kind, "panic")
			return true
		case err == nil:
			pollInc(d.metrics, func(m *Metrics) *prometheus.CounterVec { return m.UpdatesHandled }, platform, kind)
			d.observe(started)
			return true
		case ctx.Err() != nil:
			log.Warn("bot: handling interrupted by shutdown; the update stays queued",
				slog.Int("attempt", attempt), slog.Any("err", err))
			return false
		case d.now().Sub(first) >= d.cfg.GiveUpAfter:
			log.Error("bot: handler kept failing; update skipped",
				slog.Int("attempts", attempt), slog.String("kind", kind), slog.Any("err", err))
			pollInc(d.metrics, func(m *Metrics) *prometheus.CounterVec { return m.UpdatesFailed }, platform, kind, "error")
			return true
		}
		reason := "error"
		if timedOut {
			reason = "timeout"
		}
		pollInc(d.metrics, func(m *Metrics) *prometheus.CounterVec { return m.UpdatesFailed }, platform, kind, "retry_"+reason)
		delay := d.backoff.delay(attempt - 1)
		log.Warn("bot: handler failed; the update stays queued and is tried again", slog.Int("attempt", attempt),
			slog.String("reason", reason), slog.Duration("backoff", delay), slog.Any("err", err))
		if d.wait(stop, delay) != nil {
			return false
		}
		// Renew the claim; if another owner took the chat meanwhile, it
		// handles the update now.
		rctx, cancel := context.WithTimeout(ctx, d.cfg.HandlerTimeout)
		again, claim, err := d.cfg.Queue.Take(rctx, k, d.owner, d.cfg.Lease)
		cancel()
		if err != nil || claim != Taken || again.ID != q.ID {
			if err != nil {
				d.retryLater(k, delay)
			}
			return false
		}
	}
}

// call runs the handler once. A panic is recovered, logged with its stack and
// reported as panicked.
func (d *dispatcher) call(ctx context.Context, h Handler, u Update, log chatLog) (panicked bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("bot: handler panicked; update skipped",
				slog.String("kind", string(u.Kind)),
				slog.String("panic", fmt.Sprint(r)),
				slog.String("stack", string(debug.Stack())))
			panicked, err = true, nil
		}
	}()
	return false, h.Handle(ctx, u)
}

// observe records how long an update took to handle.
func (d *dispatcher) observe(started time.Time) {
	if d.metrics == nil || d.metrics.HandleSeconds == nil {
		return
	}
	d.metrics.HandleSeconds.WithLabelValues(string(d.platform)).Observe(d.now().Sub(started).Seconds())
}

// pollInc increments the counter pick selects, if m (nil-safe) has it.
func pollInc(m *Metrics, pick func(*Metrics) *prometheus.CounterVec, labels ...string) {
	if m == nil {
		return
	}
	if c := pick(m); c != nil {
		c.WithLabelValues(labels...).Inc()
	}
}
