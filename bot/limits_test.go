package bot

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

var t0 = time.Date(2025, 3, 21, 9, 0, 0, 0, time.UTC)

func TestLimitsWithDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Limits
		want Limits
	}{
		{"zero", Limits{}, Limits{PerChat: 1, PerChatBurst: 3, PerGroup: rate.Every(3 * time.Second),
			PerGroupBurst: 3, Notice: 25, NoticeBurst: 5}},
		{"kept", Limits{PerChat: 2, PerChatBurst: 1, PerGroup: 5, PerGroupBurst: 2, Notice: 10, NoticeBurst: 4},
			Limits{PerChat: 2, PerChatBurst: 1, PerGroup: 5, PerGroupBurst: 2, Notice: 10, NoticeBurst: 4}},
		{"disabled kept", Limits{Disabled: true}, Limits{PerChat: 1, PerChatBurst: 3,
			PerGroup: rate.Every(3 * time.Second), PerGroupBurst: 3, Notice: 25, NoticeBurst: 5, Disabled: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.withDefaults(); got != tt.want {
				t.Errorf("withDefaults() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLimitsValidate(t *testing.T) {
	tests := []struct {
		name    string
		in      Limits
		wantErr bool
	}{
		{"zero", Limits{}, false},
		{"inf", Limits{Notice: rate.Inf}, false},
		{"negative rate", Limits{PerChat: -1}, true},
		{"negative burst", Limits{NoticeBurst: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.validate(); (got != nil) != tt.wantErr {
				t.Errorf("validate() = %v, want error %v", got, tt.wantErr)
			}
		})
	}
}

// delays reserves n events on lim at now and returns each one's delay.
func delays(t *testing.T, lim *rate.Limiter, now time.Time, n int) []time.Duration {
	t.Helper()
	var got []time.Duration
	for range n {
		d, _, err := limiterReserve(lim, now)
		if err != nil {
			t.Fatalf("limiterReserve: %v", err)
		}
		got = append(got, d)
	}
	return got
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		// rate works in float64 tokens: allow a microsecond of rounding.
		if diff := a[i] - b[i]; diff > time.Microsecond || diff < -time.Microsecond {
			return false
		}
	}
	return true
}

func TestSendLimiterBursts(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		chatID int64
		n      int
		want   []time.Duration
	}{
		{"private chat: the 4th of a burst waits 1s", Limits{PerChat: 1, PerChatBurst: 3}, 42, 5,
			[]time.Duration{0, 0, 0, time.Second, 2 * time.Second}},
		{"group: 20 a minute, the 4th waits 3s", Limits{}, -100123, 5,
			[]time.Duration{0, 0, 0, 3 * time.Second, 6 * time.Second}},
		{"group never looser than a private chat", Limits{PerChat: 1, PerChatBurst: 2, PerGroup: 10, PerGroupBurst: 5},
			-7, 3, []time.Duration{0, 0, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newSendLimiter(tt.limits, t0)
			lim := l.chat(tt.chatID, t0).lim
			if got := delays(t, lim, t0, tt.n); !equalDurations(got, tt.want) {
				t.Errorf("delays = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSendLimiterChatsAreIndependent(t *testing.T) {
	l := newSendLimiter(Limits{PerChat: 1, PerChatBurst: 1}, t0)
	if got := delays(t, l.chat(1, t0).lim, t0, 2); !equalDurations(got, []time.Duration{0, time.Second}) {
		t.Fatalf("chat 1 delays = %v", got)
	}
	if got := delays(t, l.chat(2, t0).lim, t0, 1); !equalDurations(got, []time.Duration{0}) {
		t.Errorf("chat 2 delays = %v, want [0]: chat 1's queue must not slow chat 2", got)
	}
	if l.chat(1, t0) != l.chat(1, t0) {
		t.Error("chat(1) returned two different limiters")
	}
}

func TestSendLimiterSweep(t *testing.T) {
	l := newSendLimiter(Limits{PerChat: 1, PerChatBurst: 3}, t0)
	for id := int64(1); id <= 100; id++ {
		delays(t, l.chat(id, t0).lim, t0, 1)
	}
	// Chat 7 has a long queue: 100 messages at one a second.
	delays(t, l.chat(7, t0).lim, t0, 100)
	if got, want := l.size(), 100; got != want {
		t.Fatalf("size = %d, want %d", got, want)
	}

	l.chat(500, t0.Add(30*time.Second)) // before a sweep is due
	if got, want := l.size(), 101; got != want {
		t.Fatalf("size before the sweep = %d, want %d", got, want)
	}

	l.chat(500, t0.Add(limiterSweepEvery+time.Second))
	// Left: chat 7 (still queued: dropping it would let a burst through) and 500 (touched).
	if got, want := l.size(), 2; got != want {
		t.Errorf("size after the sweep = %d, want %d", got, want)
	}
	lim := l.chat(7, t0.Add(limiterSweepEvery+time.Second)).lim
	if d, _, _ := limiterReserve(lim, t0.Add(limiterSweepEvery+time.Second)); d < 30*time.Second {
		t.Errorf("chat 7 delay after the sweep = %v, want its queue kept (> 30s)", d)
	}
}

// TestSendLimiterSweepSlowedChats: a chat slowed by 429s and never written
// to again is dropped once its rate would have recovered, not kept for ever
// (the soak's memory grew with every such chat).
func TestSendLimiterSweepSlowedChats(t *testing.T) {
	l := newSendLimiter(Limits{PerChat: 1, PerChatBurst: 3}, t0)
	for id := int64(1); id <= 100; id++ {
		l.tooMany(id, t0, 2*time.Second)
		l.tooMany(id, t0, 2*time.Second) // cut twice: a quarter of its rate
	}
	if l.slowed(1, t0.Add(5*time.Second)) == false {
		t.Fatal("a chat just cut by two 429s is not slowed")
	}
	later := t0.Add(2*limiterSweepEvery + time.Second)
	l.chat(500, later)
	if got, want := l.size(), 1; got != want {
		t.Errorf("size after the sweep = %d, want %d (only the chat just touched)", got, want)
	}
}

func TestSendLimiterDisabledOnlyHolds(t *testing.T) {
	l := newSendLimiter(Limits{PerChat: 1, PerChatBurst: 1, Disabled: true}, t0)
	now := func() time.Time { return t0 }
	var waits []time.Duration
	wait := func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	for range 3 {
		if err := l.waitChat(context.Background(), 5, 1, now, wait); err != nil {
			t.Fatalf("waitChat: %v", err)
		}
	}
	if len(waits) != 0 {
		t.Errorf("disabled limits waited %v, want no wait", waits)
	}
	l.tooMany(5, t0, 4*time.Second)
	if got := l.hold(5, t0.Add(time.Second)); got != 3*time.Second {
		t.Errorf("hold of chat 5 = %v, want 3s: a 429 is honoured whatever the limits", got)
	}
	if got := l.hold(6, t0); got != 0 {
		t.Errorf("hold of chat 6 = %v, want 0", got)
	}
}

func TestSendLimiterChatRateAdaptsAfter429(t *testing.T) {
	l := newSendLimiter(Limits{PerChat: 1, PerChatBurst: 1}, t0)
	l.tooMany(9, t0, time.Second)
	if got := l.chat(9, t0).lim.Limit(); got != 0.5 {
		t.Fatalf("rate after a 429 = %v, want 0.5 (halved)", got)
	}
	l.tooMany(9, t0, time.Second)
	if got := l.chat(9, t0).lim.Limit(); got != 0.25 {
		t.Fatalf("rate after two 429s = %v, want 0.25", got)
	}
	// It grows back by a tenth of the base rate a second, up to the base.
	_, _, _ = l.reserveChat(9, 1, t0.Add(5*time.Second))
	if got := l.chat(9, t0).lim.Limit(); got < 0.74 || got > 0.76 {
		t.Errorf("rate 5s later = %v, want 0.75", got)
	}
	_, _, _ = l.reserveChat(9, 1, t0.Add(time.Minute))
	if got := l.chat(9, t0).lim.Limit(); got != 1 {
		t.Errorf("rate a minute later = %v, want the base 1", got)
	}
}

func TestSendLimiterCancelGivesTokenBack(t *testing.T) {
	l := newSendLimiter(Limits{PerChat: 1, PerChatBurst: 1}, t0)
	now := func() time.Time { return t0 }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	failing := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }

	delays(t, l.chat(9, t0).lim, t0, 1) // burst used
	if err := l.waitChat(ctx, 9, 1, now, failing); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait = %v, want context.Canceled", err)
	}
	// The cancelled reservation was given back: the next one waits 1s, not 2s.
	if got := delays(t, l.chat(9, t0).lim, t0, 1); !equalDurations(got, []time.Duration{time.Second}) {
		t.Errorf("delay after a cancelled wait = %v, want [1s]", got)
	}
}

func TestSenderSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sleep(ctx, time.Hour) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("sleep = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sleep did not return after its context was cancelled")
	}

	if err := sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("sleep(1ms) = %v, want nil", err)
	}
}
