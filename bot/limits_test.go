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
			PerGroupBurst: 3, Global: 30, GlobalBurst: 30}},
		{"kept", Limits{PerChat: 2, PerChatBurst: 1, PerGroup: 5, PerGroupBurst: 2, Global: 10, GlobalBurst: 4},
			Limits{PerChat: 2, PerChatBurst: 1, PerGroup: 5, PerGroupBurst: 2, Global: 10, GlobalBurst: 4}},
		{"disabled kept", Limits{Disabled: true}, Limits{PerChat: 1, PerChatBurst: 3,
			PerGroup: rate.Every(3 * time.Second), PerGroupBurst: 3, Global: 30, GlobalBurst: 30, Disabled: true}},
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
		{"inf", Limits{Global: rate.Inf}, false},
		{"negative rate", Limits{PerChat: -1}, true},
		{"negative burst", Limits{GlobalBurst: -1}, true},
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
		global bool
		n      int
		want   []time.Duration
	}{
		{"private chat: the 4th of a burst waits 1s", Limits{PerChat: 1, PerChatBurst: 3}, 42, false, 5,
			[]time.Duration{0, 0, 0, time.Second, 2 * time.Second}},
		{"group: 20 a minute, the 4th waits 3s", Limits{}, -100123, false, 5,
			[]time.Duration{0, 0, 0, 3 * time.Second, 6 * time.Second}},
		{"group never looser than a private chat", Limits{PerChat: 1, PerChatBurst: 2, PerGroup: 10, PerGroupBurst: 5},
			-7, false, 3, []time.Duration{0, 0, time.Second}},
		{"global: the 31st waits 1/30s", Limits{}, 0, true, 31,
			append(make([]time.Duration, 30), time.Second/30)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newSendLimiter(tt.limits, t0)
			lim := l.global
			if !tt.global {
				lim = l.chat(tt.chatID, t0)
			}
			if got := delays(t, lim, t0, tt.n); !equalDurations(got, tt.want) {
				t.Errorf("delays = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSendLimiterChatsAreIndependent(t *testing.T) {
	l := newSendLimiter(Limits{PerChat: 1, PerChatBurst: 1}, t0)
	if got := delays(t, l.chat(1, t0), t0, 2); !equalDurations(got, []time.Duration{0, time.Second}) {
		t.Fatalf("chat 1 delays = %v", got)
	}
	if got := delays(t, l.chat(2, t0), t0, 1); !equalDurations(got, []time.Duration{0}) {
		t.Errorf("chat 2 delays = %v, want [0]: chat 1's queue must not slow chat 2", got)
	}
	if l.chat(1, t0) != l.chat(1, t0) {
		t.Error("chat(1) returned two different limiters")
	}
}

func TestSendLimiterSweep(t *testing.T) {
	l := newSendLimiter(Limits{PerChat: 1, PerChatBurst: 3}, t0)
	for id := int64(1); id <= 100; id++ {
		delays(t, l.chat(id, t0), t0, 1)
	}
	// Chat 7 has a long queue: 100 messages at one a second.
	delays(t, l.chat(7, t0), t0, 100)
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
	lim := l.chat(7, t0.Add(limiterSweepEvery+time.Second))
	if d, _, _ := limiterReserve(lim, t0.Add(limiterSweepEvery+time.Second)); d < 30*time.Second {
		t.Errorf("chat 7 delay after the sweep = %v, want its queue kept (> 30s)", d)
	}
}

func TestSendLimiterWaitOrder(t *testing.T) {
	l := newSendLimiter(Limits{PerChat: 1, PerChatBurst: 1, Global: 10, GlobalBurst: 1}, t0)
	now := func() time.Time { return t0 }
	var waits []time.Duration
	wait := func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	ctx := context.Background()

	for range 2 {
		if err := l.wait(ctx, limitChat, 5, now, wait); err != nil {
			t.Fatalf("wait: %v", err)
		}
	}
	// Second call: the chat limiter (1s), then the global one (0.1s).
	if want := []time.Duration{time.Second, 100 * time.Millisecond}; !equalDurations(waits, want) {
		t.Errorf("waits = %v, want %v", waits, want)
	}

	waits = nil
	if err := l.wait(ctx, limitGlobal, 5, now, wait); err != nil {
		t.Fatalf("wait: %v", err)
	}
	if want := []time.Duration{200 * time.Millisecond}; !equalDurations(waits, want) {
		t.Errorf("global-only waits = %v, want %v (the chat limiter is not consulted)", waits, want)
	}

	waits = nil
	if err := l.wait(ctx, limitNone, 5, now, wait); err != nil || len(waits) != 0 {
		t.Errorf("limitNone: err %v, waits %v; want none", err, waits)
	}
	var nilLimiter *sendLimiter
	if err := nilLimiter.wait(ctx, limitChat, 5, now, wait); err != nil || len(waits) != 0 {
		t.Errorf("disabled limiter: err %v, waits %v; want none", err, waits)
	}
}

func TestSendLimiterCancelGivesTokenBack(t *testing.T) {
	l := newSendLimiter(Limits{PerChat: 1, PerChatBurst: 1}, t0)
	now := func() time.Time { return t0 }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	failing := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }

	delays(t, l.chat(9, t0), t0, 1) // burst used
	if err := l.wait(ctx, limitChat, 9, now, failing); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait = %v, want context.Canceled", err)
	}
	// The cancelled reservation was given back: the next one waits 1s, not 2s.
	if got := delays(t, l.chat(9, t0), t0, 1); !equalDurations(got, []time.Duration{time.Second}) {
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
