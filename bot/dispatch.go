package bot

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Handler handles one update. It is declared here because the poller
// consumes it. A returned error makes the poller retry the update (up to
// PollerConfig.MaxAttempts); a panic is recovered and never retried. Handle
// is called concurrently for different chats, never for two updates of one
// chat at the same time.
type Handler interface {
	Handle(ctx context.Context, u Update) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, u Update) error

// Handle calls f(ctx, u).
func (f HandlerFunc) Handle(ctx context.Context, u Update) error { return f(ctx, u) }

// batch is one getUpdates result on its way through the handlers. Entries
// keep the order the Bot API sent them in (increasing update ids).
type batch struct {
	entries  []batchEntry
	received time.Time // when getUpdates returned, for HandleSeconds

	mu   sync.Mutex
	done []bool // guarded by mu; entries[i] needs no further handling
}

// batchEntry is one update of a batch. id is 0 when the update was so broken
// that even its update_id could not be read.
type batchEntry struct {
	id int
	u  Update
}

// newBatch returns a batch whose entries for which skip(i) reports true are
// already done (undecodable updates and kinds Mahalle does not handle).
func newBatch(entries []batchEntry, received time.Time, skip func(i int) bool) *batch {
	b := &batch{entries: entries, received: received, done: make([]bool, len(entries))}
	for i := range entries {
		b.done[i] = skip(i)
	}
	return b
}

// markDone records that entry i needs no further handling.
func (b *batch) markDone(i int) {
	b.mu.Lock()
	b.done[i] = true
	b.mu.Unlock()
}

// next returns the offset that confirms the batch as far as it is done: the
// lowest update id not yet done, or the highest id + 1 when all are done.
// It returns 0 when the batch holds no readable update id.
func (b *batch) next() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	lowestOpen, highest := 0, 0
	for i, e := range b.entries {
		if e.id == 0 {
			continue
		}
		highest = max(highest, e.id)
		if !b.done[i] && (lowestOpen == 0 || e.id < lowestOpen) {
			lowestOpen = e.id
		}
	}
	if lowestOpen != 0 {
		return lowestOpen
	}
	if highest == 0 {
		return 0
	}
	return highest + 1
}

// open counts the entries not yet done.
func (b *batch) open() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, d := range b.done {
		if !d {
			n++
		}
	}
	return n
}

// chats groups the indexes of the entries still to handle by chat, keeping
// each chat's order; chats come in the order of their first update. An update
// without a chat (my_chat_member in a channel, a button on an inline-mode
// message) is ordered with its sender's other updates.
func (b *batch) chats() [][]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	byKey := make(map[int64]int)
	var groups [][]int
	for i, e := range b.entries {
		if b.done[i] {
			continue
		}
		key := e.u.ChatID
		if key == 0 {
			key = e.u.From.ID
		}
		g, ok := byKey[key]
		if !ok {
			g = len(groups)
			byKey[key] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// dispatcher runs a batch's updates through a Handler: each chat's updates in
// order, different chats in parallel, at most workers chats at once.
type dispatcher struct {
	platform    Platform
	workers     int
	maxAttempts int
	backoff     Backoff
	wait        func(ctx context.Context, d time.Duration) error
	log         *slog.Logger
	metrics     *Metrics
}

// run handles every open entry of b and returns when all are done, or, once
// stop is done (shutdown), when the updates already started have finished.
// ctx is the handlers' context.
func (d *dispatcher) run(stop, ctx context.Context, h Handler, b *batch) {
	groups := b.chats()
	queue := make(chan []int)
	var wg sync.WaitGroup
	for range min(d.workers, len(groups)) {
		wg.Go(func() {
			for g := range queue {
				d.runChat(stop, ctx, h, b, g)
			}
		})
	}
	for _, g := range groups {
		queue <- g
	}
	close(queue)
	wg.Wait()
}

// runChat handles one chat's updates in order. It starts none once stop is
// done, and stops at an update that could not be finished (the grace period
// ran out), so that a later update of the chat is never handled before an
// earlier one.
func (d *dispatcher) runChat(stop, ctx context.Context, h Handler, b *batch, indexes []int) {
	for _, i := range indexes {
		if stop.Err() != nil {
			return
		}
		if !d.handle(ctx, h, b.entries[i].u, b.received) {
			return
		}
		b.markDone(i)
	}
}

// handle runs one update, retrying a handler error with backoff. It reports
// whether the update is done with: handled, or failed for good (a panic, or an
// error on every attempt). It reports false only when ctx ended first; the
// update is then left unconfirmed and the Bot API will deliver it again.
func (d *dispatcher) handle(ctx context.Context, h Handler, u Update, received time.Time) bool {
	log := d.log.With(slog.Int("update_id", u.ID), slog.Int64("chat_id", u.ChatID))
	kind := string(u.Kind)
	for attempt := 1; ; attempt++ {
		panicked, err := d.call(ctx, h, u, log)
		switch {
		case panicked:
			pollInc(d.metrics, func(m *Metrics) *prometheus.CounterVec { return m.UpdatesFailed }, string(d.platform), kind, "panic")
			d.observe(received)
			return true
		case err == nil:
			pollInc(d.metrics, func(m *Metrics) *prometheus.CounterVec { return m.UpdatesHandled }, string(d.platform), kind)
			d.observe(received)
			return true
		case ctx.Err() != nil:
			log.Warn("bot: handling interrupted by shutdown; the update will be delivered again",
				slog.Int("attempt", attempt), slog.Any("err", err))
			return false
		case attempt >= d.maxAttempts:
			log.Error("bot: handler failed; update skipped",
				slog.Int("attempts", attempt), slog.String("kind", kind), slog.Any("err", err))
			pollInc(d.metrics, func(m *Metrics) *prometheus.CounterVec { return m.UpdatesFailed }, string(d.platform), kind, "error")
			d.observe(received)
			return true
		}
		log.Warn("bot: handler failed; retrying", slog.Int("attempt", attempt), slog.Any("err", err))
		if d.wait(ctx, d.backoff.delay(attempt-1)) != nil {
			return false
		}
	}
}

// call runs the handler once. A panic is recovered, logged with its stack and
// reported as panicked.
func (d *dispatcher) call(ctx context.Context, h Handler, u Update, log *slog.Logger) (panicked bool, err error) {
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

// observe records the time from the batch's arrival to now.
func (d *dispatcher) observe(received time.Time) {
	if d.metrics == nil || d.metrics.HandleSeconds == nil {
		return
	}
	d.metrics.HandleSeconds.WithLabelValues(string(d.platform)).Observe(time.Since(received).Seconds())
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
