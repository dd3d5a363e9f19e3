package bot

import (
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/mahalle/mahalle/bot/bottest"
)

// fakeClock is a Config.Now and Config.Wait: time moves only by Advance, and
// every wait is recorded with the tag of its context (see tagged). A wait of
// a tag in gated blocks until the test opens the gate or ctx ends.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits map[string][]time.Duration
	gates map[string]chan struct{}
}

type tagKey struct{}

func tagged(tag string) context.Context {
	return context.WithValue(context.Background(), tagKey{}, tag)
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: t0, waits: map[string][]time.Duration{}, gates: map[string]chan struct{}{}}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Wait(ctx context.Context, d time.Duration) error {
	tag, _ := ctx.Value(tagKey{}).(string)
	c.mu.Lock()
	c.waits[tag] = append(c.waits[tag], d)
	gate := c.gates[tag]
	c.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
		}
	}
	return ctx.Err()
}

func (c *fakeClock) gate(tag string) func() {
	ch := make(chan struct{})
	c.mu.Lock()
	c.gates[tag] = ch
	c.mu.Unlock()
	return func() { close(ch) }
}

func (c *fakeClock) waitsOf(tag string) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits[tag])
}

func (c *fakeClock) countWaits(tag string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waits[tag])
}

// newLaneFixture is a fixture on the default limits and a fake clock.
func newLaneFixture(t *testing.T, opts ...bottest.Option) (*fixture, *fakeClock) {
	t.Helper()
	return laneFixture(t, Limits{}, opts...)
}

// pacedLaneFixture paces replies from the first message, for the tests of
// the per-chat limiter itself (by default a 429 starts it).
func pacedLaneFixture(t *testing.T) (*fixture, *fakeClock) {
	t.Helper()
	return laneFixture(t, Limits{PaceReplies: true})
}

func laneFixture(t *testing.T, l Limits, opts ...bottest.Option) (*fixture, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	srv := bottest.New(t, opts...)
	f := newFixture(t, func(c *Config) {
		c.Endpoint = srv.Endpoint()
		c.Limits = l
		c.Now = clock.Now
		c.Wait = clock.Wait
	})
	f.srv = srv
	return f, clock
}

// pollUntil polls cond until it holds or the deadline passes.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling, not synchronisation
	}
}

func TestRepliesAreNotDelayedByQueuedNotices(t *testing.T) {
	f, clock := newLaneFixture(t)
	open := clock.gate("notice") // notices wait on their budget until the test lets them go

	const notices = 1000
	var wg sync.WaitGroup
	noticeErrs := make(chan error, notices)
	for i := range notices {
		wg.Go(func() {
			_, err := f.client.Notify(tagged("notice"), Message{ChatID: int64(10_000 + i), Text: "اطلاعیه محله"})
			noticeErrs <- err
		})
	}
	// Every notice beyond the burst is queued on the budget.
	burst := Limits{}.withDefaults().NoticeBurst
	pollUntil(t, "notices queued", func() bool { return clock.countWaits("notice") == notices-burst })

	// Replies go out at once: no wait of any kind, while 995 notices are queued.
	start := time.Now()
	for i := range 50 {
		chat := int64(1 + i)
		if _, err := f.client.Send(tagged("reply"), Message{ChatID: chat, Text: "پاسخ شما"}); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if got := f.srv.SentCount(chat); got != 1 {
			t.Fatalf("chat %d got %d replies, want 1", chat, got)
		}
	}
	if w := clock.waitsOf("reply"); len(w) != 0 {
		t.Errorf("replies waited %v, want no wait", w)
	}
	t.Logf("50 replies in %v with %d notices queued", time.Since(start), notices-burst)

	// The notices' schedule keeps the budget: the k-th notice goes out no
	// sooner than (k-burst)/25 s, so at most 25+burst in any first second.
	open()
	wg.Wait()
	close(noticeErrs)
	for err := range noticeErrs {
		if err != nil {
			t.Fatalf("Notify: %v", err)
		}
	}
	waits := clock.waitsOf("notice")
	slices.Sort(waits)
	perSec := float64(Limits{}.withDefaults().Notice)
	for k, d := range waits {
		want := time.Duration(float64(k+1) / perSec * float64(time.Second))
		if d < want-time.Millisecond {
			t.Fatalf("notice %d scheduled after %v, want at least %v: over budget", k+burst, d, want)
		}
	}
	if last := waits[len(waits)-1]; last < 39*time.Second {
		t.Errorf("last notice after %v, want about 40s (1000 at 25/s)", last)
	}
	inFirstSecond := burst
	for _, d := range waits {
		if d < time.Second {
			inFirstSecond++
		}
	}
	if inFirstSecond > int(perSec)+burst {
		t.Errorf("%d notices in the first second, budget %v/s + burst %d", inFirstSecond, perSec, burst)
	}
	for i := range notices {
		if got := f.srv.SentCount(int64(10_000 + i)); got != 1 {
			t.Fatalf("notice chat %d got %d messages, want 1", 10_000+i, got)
		}
	}
	if got := counter(t, f.metrics.Notices, "tg", "ok"); got != notices {
		t.Errorf("notices metric = %v, want %d", got, notices)
	}
}

func TestTooManyForOneChatHoldsOnlyThatChat(t *testing.T) {
	f, clock := newLaneFixture(t)
	f.srv.FailChat(7, 1, bottest.Fault{Code: 429, RetryAfter: 5})

	if _, err := f.client.Send(tagged("chat7"), Message{ChatID: 7, Text: "یک"}); err != nil {
		t.Fatalf("Send to 7: %v", err)
	}
	if got := clock.waitsOf("chat7"); !equalDurations(got, []time.Duration{5 * time.Second}) {
		t.Fatalf("chat 7 waits = %v, want [5s] (retry_after)", got)
	}
	if got := f.srv.SentCount(7); got != 1 {
		t.Fatalf("chat 7 got %d messages, want 1", got)
	}

	// Another chat is not held: messages, edits, callback answers go at once.
	id, err := f.client.Send(tagged("chat8"), Message{ChatID: 8, Text: "دو"})
	if err != nil {
		t.Fatalf("Send to 8: %v", err)
	}
	if _, err := f.client.Send(tagged("chat8"), Message{ChatID: 8, Text: "ویرایش", EditMessageID: id}); err != nil {
		t.Fatalf("edit in 8: %v", err)
	}
	if got := clock.waitsOf("chat8"); len(got) != 0 {
		t.Errorf("chat 8 waited %v, want no wait", got)
	}

	// Within retry_after chat 7 stays held, for edits too.
	clock.Advance(2 * time.Second)
	last, _ := f.srv.LastMessage(7)
	if _, err := f.client.Send(tagged("chat7-edit"), Message{ChatID: 7, Text: "ویرایش", EditMessageID: last.MessageID}); err != nil {
		t.Fatalf("edit in 7: %v", err)
	}
	if got := clock.waitsOf("chat7-edit"); !equalDurations(got, []time.Duration{3 * time.Second}) {
		t.Errorf("edit in chat 7 waits = %v, want [3s]: the rest of its hold", got)
	}

	// After the hold, chat 7 is served without waiting.
	clock.Advance(4 * time.Second)
	if _, err := f.client.Send(tagged("chat7-later"), Message{ChatID: 7, Text: "سه"}); err != nil {
		t.Fatal(err)
	}
	if got := clock.waitsOf("chat7-later"); len(got) != 0 {
		t.Errorf("chat 7 after its hold waited %v", got)
	}
	if got := counter(t, f.metrics.Floods, "tg"); got != 0 {
		t.Errorf("floods = %v, want 0: one chat's 429 is not a flood", got)
	}
}

func TestTooManyFromManyChatsSlowsEverythingAndRecovers(t *testing.T) {
	f, clock := newLaneFixture(t)
	for chat := int64(1); chat <= floodChats; chat++ {
		f.srv.FailChat(chat, 1, bottest.Fault{Code: 429, RetryAfter: 2})
	}
	for chat := int64(1); chat <= floodChats; chat++ {
		if _, err := f.client.Send(tagged("flooded"), Message{ChatID: chat, Text: "پیام"}); err != nil {
			t.Fatalf("Send to %d: %v", chat, err)
		}
	}
	if got := counter(t, f.metrics.Floods, "tg"); got != 1 {
		t.Fatalf("floods = %v, want 1 after 429s from %d chats within a second", got, floodChats)
	}
	replyCap, noticeRate := f.client.flood.rates(clock.Now())
	if replyCap == rate.Inf || noticeRate >= 25 {
		t.Fatalf("after a flood: reply cap %v, notice rate %v; want both lowered", replyCap, noticeRate)
	}

	// A chat that never got a 429 is held too, for the rest of retry_after.
	clock.Advance(500 * time.Millisecond)
	if _, err := f.client.Send(tagged("other"), Message{ChatID: 50, Text: "پیام"}); err != nil {
		t.Fatal(err)
	}
	if got := clock.waitsOf("other"); !equalDurations(got, []time.Duration{1500 * time.Millisecond}) {
		t.Errorf("an unrelated chat waited %v, want [1.5s]: the whole bot is held", got)
	}

	// After the hold, replies are capped: a burst to distinct chats waits.
	clock.Advance(2 * time.Second)
	for i := range 40 {
		if _, err := f.client.Send(tagged("capped"), Message{ChatID: int64(100 + i), Text: "پاسخ"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := clock.countWaits("capped"); got == 0 {
		t.Error("40 replies right after a flood did not wait: the reply lane is not slowed")
	}

	// Without 429s the rates come back slowly, then fully.
	clock.Advance(3 * time.Second)
	r, n := f.client.flood.rates(clock.Now())
	if r == rate.Inf || n >= 25 {
		t.Errorf("3s after the flood: reply cap %v, notice rate %v; want still recovering", r, n)
	}
	clock.Advance(30 * time.Second)
	if r, n := f.client.flood.rates(clock.Now()); r != rate.Inf || n != 25 {
		t.Errorf("33s after the flood: reply cap %v, notice rate %v; want no cap and 25", r, n)
	}
	for i := range 40 {
		if _, err := f.client.Send(tagged("recovered"), Message{ChatID: int64(200 + i), Text: "پاسخ"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := clock.waitsOf("recovered"); len(got) != 0 {
		t.Errorf("replies after recovery waited %v, want none", got)
	}
}

func TestEditsAndCallbacksAreNotPreThrottled(t *testing.T) {
	f, clock := pacedLaneFixture(t)
	chat, user := bottest.Private(31)
	id, err := f.client.Send(tagged("x"), Message{ChatID: 31, Text: "سؤال", Inline: [][]Button{{{Text: "بله", Data: "y"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		upd := f.srv.PressButton(chat, user, id, "y")
		if err := f.client.AnswerCallback(tagged("x"), bottest.CallbackQueryID(upd), ""); err != nil {
			t.Fatal(err)
		}
		text := "گام " + string(rune('۰'+i))
		if _, err := f.client.Send(tagged("x"), Message{ChatID: 31, EditMessageID: id, Text: text,
			Inline: [][]Button{{{Text: "بله", Data: "y"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := clock.waitsOf("x"); len(got) != 0 {
		t.Errorf("10 edits and callback answers in one chat waited %v, want none", got)
	}
	// New messages still keep the chat's limit (1/s, burst 3).
	for range 3 {
		if _, err := f.client.Send(tagged("new"), Message{ChatID: 31, Text: "پیام تازه"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := clock.waitsOf("new"); len(got) != 1 {
		t.Errorf("3 more new messages after 1 waited %v, want one wait", got)
	}
}

func TestGroupsKeepTheirLimit(t *testing.T) {
	f, clock := newLaneFixture(t)
	for range 5 {
		if _, err := f.client.Send(tagged("group"), Message{ChatID: -1001, Text: "گروه"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := clock.waitsOf("group"); !equalDurations(got, []time.Duration{3 * time.Second, 6 * time.Second}) {
		t.Errorf("group waits = %v, want [3s 6s] (20 a minute, burst 3)", got)
	}
}

func TestUnknownOutcome(t *testing.T) {
	drop := bottest.Fault{DropConnection: true}
	t.Run("a new message is sent again once", func(t *testing.T) {
		f := newFixture(t, nil)
		f.srv.FailNext("sendMessage", 1, drop)
		if _, err := f.client.Send(context.Background(), Message{ChatID: 5, Text: "پاسخ"}); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got := f.srv.SentCount(5); got != 1 {
			t.Errorf("delivered %d, want 1", got)
		}
		if got := counter(t, f.metrics.SendUnknown, "tg", "sendMessage", "resent"); got != 1 {
			t.Errorf("unknown resent = %v, want 1", got)
		}
		if got := len(f.waits.got()); got != 1 {
			t.Errorf("waits = %v, want one pause before the resend", f.waits.got())
		}
	})
	t.Run("not a third time", func(t *testing.T) {
		f := newFixture(t, nil)
		f.srv.FailNext("sendMessage", 5, drop)
		if _, err := f.client.Send(context.Background(), Message{ChatID: 5, Text: "پاسخ"}); err == nil {
			t.Fatal("Send succeeded, want an error after two unknown outcomes")
		}
		if got := f.srv.Calls("sendMessage"); got != 2 {
			t.Errorf("calls = %d, want 2", got)
		}
		if got := counter(t, f.metrics.SendUnknown, "tg", "sendMessage", "gave_up"); got != 1 {
			t.Errorf("unknown gave_up = %v, want 1", got)
		}
	})
	t.Run("an edit is retried like any idempotent call", func(t *testing.T) {
		f := newFixture(t, nil)
		id, err := f.client.Send(context.Background(), Message{ChatID: 6, Text: "سؤال"})
		if err != nil {
			t.Fatal(err)
		}
		f.srv.FailNext("editMessageText", 2, drop)
		if _, err := f.client.Send(context.Background(), Message{ChatID: 6, EditMessageID: id, Text: "گام بعد"}); err != nil {
			t.Fatalf("edit: %v", err)
		}
		if got := f.srv.Calls("editMessageText"); got != 3 {
			t.Errorf("calls = %d, want 3", got)
		}
		if got := counter(t, f.metrics.SendUnknown, "tg", "editMessageText", "retried"); got != 2 {
			t.Errorf("unknown retried = %v, want 2", got)
		}
		if last, _ := f.srv.LastMessage(6); last.Text != "گام بعد" {
			t.Errorf("message text = %q, want the edit", last.Text)
		}
	})
	t.Run("a refused connection is not unknown", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		f := newFixture(t, func(c *Config) { c.Endpoint = "http://" + addr + "/bot%s/%s"; c.MaxAttempts = 2 })
		_, err = f.client.Send(context.Background(), Message{ChatID: 5, Text: "x"})
		if err == nil {
			t.Fatal("Send to a closed port succeeded")
		}
		for _, action := range []string{"resent", "gave_up"} {
			if got := counter(t, f.metrics.SendUnknown, "tg", "sendMessage", action); got != 0 {
				t.Errorf("unknown %s = %v, want 0: nothing was written", action, got)
			}
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			t.Errorf("err = %v, want a network error", err)
		}
	})
}

func TestNoticesYieldToRepliesInFlight(t *testing.T) {
	f, _ := newLaneFixture(t)
	id, err := f.client.Send(tagged("r"), Message{ChatID: 41, Text: "سؤال"})
	if err != nil {
		t.Fatal(err)
	}
	// A reply (an edit) is in flight, held by the platform for 100 ms.
	f.srv.SetLatency("editMessageText", 100*time.Millisecond)
	edited := make(chan error, 1)
	go func() {
		_, err := f.client.Send(tagged("r"), Message{ChatID: 41, EditMessageID: id, Text: "پاسخ"})
		edited <- err
	}()
	pollUntil(t, "the edit to reach the platform", func() bool { return f.srv.Calls("editMessageText") == 1 })

	if _, err := f.client.Notify(tagged("n"), Message{ChatID: 42, Text: "اطلاعیه"}); err != nil {
		t.Fatal(err)
	}
	if err := <-edited; err != nil {
		t.Fatal(err)
	}
	edit, notice := f.srv.SentTo(41), f.srv.SentTo(42)
	if len(edit) != 2 || len(notice) != 1 {
		t.Fatalf("chat 41 got %v, chat 42 got %v", edit, notice)
	}
	if notice[0].Seq < edit[1].Seq {
		t.Errorf("the notice (seq %d) went out before the reply in flight (seq %d) was done", notice[0].Seq, edit[1].Seq)
	}
}

func TestAlbumCountsItsMessages(t *testing.T) {
	f, clock := pacedLaneFixture(t)
	chat, user := bottest.Private(51)
	a := f.srv.FileID(f.srv.SendPhoto(chat, user, "", ""))
	b := f.srv.FileID(f.srv.SendPhoto(chat, user, "", ""))
	if _, err := f.client.SendAlbum(tagged("album"), 51, []string{a, b, a}, "عکس‌ها"); err != nil {
		t.Fatal(err)
	}
	if got := clock.waitsOf("album"); len(got) != 0 {
		t.Fatalf("an album of 3 waited %v, want none (burst 3)", got)
	}
	// The album took the whole burst: the next new message waits a second.
	if _, err := f.client.Send(tagged("after"), Message{ChatID: 51, Text: "پیام"}); err != nil {
		t.Fatal(err)
	}
	if got := clock.waitsOf("after"); !equalDurations(got, []time.Duration{time.Second}) {
		t.Errorf("a message after an album of 3 waited %v, want [1s]", got)
	}
}

func TestCallbackAnswer429IsHonoured(t *testing.T) {
	f, clock := newLaneFixture(t)
	chat, user := bottest.Private(61)
	id, err := f.client.Send(tagged("x"), Message{ChatID: 61, Text: "سؤال"})
	if err != nil {
		t.Fatal(err)
	}
	upd := f.srv.PressButton(chat, user, id, "y")
	f.srv.FailNext("answerCallbackQuery", 1, bottest.Fault{Code: 429, RetryAfter: 2})
	if err := f.client.AnswerCallback(tagged("cb"), bottest.CallbackQueryID(upd), ""); err != nil {
		t.Fatalf("AnswerCallback: %v", err)
	}
	if got := clock.waitsOf("cb"); !equalDurations(got, []time.Duration{2 * time.Second}) {
		t.Errorf("callback answer waits = %v, want [2s] (retry_after)", got)
	}
	if !f.srv.CallbackAnswer(upd).Answered {
		t.Error("the callback was not answered after the 429")
	}
}

// TestPerChat429sOfABusyBotAreNotAFlood: a bot answering hundreds of people
// a second sees some chats exceed their own limit every second; 429s from a
// few of them hold those chats only. 429s from a fifth of the calls are a
// flood.
func TestPerChat429sOfABusyBotAreNotAFlood(t *testing.T) {
	f, clock := newLaneFixture(t)
	// 200 replies a second to distinct chats.
	for i := range 200 {
		if _, err := f.client.Send(tagged("busy"), Message{ChatID: int64(1000 + i), Text: "پاسخ"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(5 * time.Millisecond)
	}
	for chat := int64(1); chat <= 5; chat++ {
		f.srv.FailChat(chat, 1, bottest.Fault{Code: 429, RetryAfter: 1})
		if _, err := f.client.Send(tagged("few"), Message{ChatID: chat, Text: "پیام"}); err != nil {
			t.Fatalf("Send to %d: %v", chat, err)
		}
	}
	if got := counter(t, f.metrics.Floods, "tg"); got != 0 {
		t.Fatalf("floods = %v after 429s from 5 chats of a bot sending 200 a second, want 0", got)
	}
	if r, _ := f.client.flood.rates(clock.Now()); r != rate.Inf {
		t.Errorf("reply cap %v after a few chats' 429s, want none", r)
	}
	for chat := int64(10); chat < 60; chat++ {
		f.srv.FailChat(chat, 1, bottest.Fault{Code: 429, RetryAfter: 1})
		if _, err := f.client.Send(tagged("many"), Message{ChatID: chat, Text: "پیام"}); err != nil {
			t.Fatalf("Send to %d: %v", chat, err)
		}
	}
	if got := counter(t, f.metrics.Floods, "tg"); got < 1 {
		t.Errorf("floods = %v after 429s from 50 chats within a second, want a flood", got)
	}
}

// TestRepliesPacedOnlyAfter429: by default a person who writes fast gets
// every reply at once (no pre-throttle); once a 429 comes from their chat,
// its retry_after is honoured and their replies are paced by the chat's
// limiter until it recovers. Other chats are never slowed.
func TestRepliesPacedOnlyAfter429(t *testing.T) {
	f, clock := newLaneFixture(t)
	for range 10 {
		if _, err := f.client.Send(tagged("fast"), Message{ChatID: 71, Text: "پاسخ"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := clock.waitsOf("fast"); len(got) != 0 {
		t.Fatalf("10 replies to one person waited %v, want none", got)
	}
	f.srv.FailChat(71, 1, bottest.Fault{Code: 429, RetryAfter: 3})
	if _, err := f.client.Send(tagged("429"), Message{ChatID: 71, Text: "پاسخ"}); err != nil {
		t.Fatal(err)
	}
	if got := clock.waitsOf("429"); len(got) == 0 || got[0] != 3*time.Second {
		t.Fatalf("after a 429 the reply waited %v, want retry_after 3s first", got)
	}
	for range 5 {
		if _, err := f.client.Send(tagged("paced"), Message{ChatID: 71, Text: "پاسخ"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := clock.waitsOf("paced"); len(got) == 0 {
		t.Errorf("replies right after a 429 were not paced")
	}
	for range 5 {
		if _, err := f.client.Send(tagged("other"), Message{ChatID: 72, Text: "پاسخ"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := clock.waitsOf("other"); len(got) != 0 {
		t.Errorf("another person's replies waited %v, want none", got)
	}
	// Recovered (the rate climbs back by a tenth a second): unpaced again.
	clock.Advance(time.Minute)
	for range 5 {
		if _, err := f.client.Send(tagged("later"), Message{ChatID: 71, Text: "پاسخ"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := clock.waitsOf("later"); len(got) != 0 {
		t.Errorf("a minute after the 429, replies waited %v, want none", got)
	}
}
