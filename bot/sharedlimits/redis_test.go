package sharedlimits_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mahalle/mahalle/bot"
	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/bot/sharedlimits"
	"github.com/mahalle/mahalle/conversations/redistest"
)

// Every test runs on the real Redis of TEST_REDIS_URL when it is set, else
// on an in-process miniredis (redistest).

// replica is one process of the bot: its own store (its own subscription)
// and its own client, on the shared Redis.
type replica struct {
	store  *sharedlimits.Store
	client *bot.Client
	holds  chan bot.SharedHold // every hold it learned from the other replicas
}

func newReplica(t *testing.T, rdb redis.UniversalClient, prefix string, srv *bottest.Server, limits bot.Limits) *replica {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := sharedlimits.New(ctx, rdb, sharedlimits.Config{Prefix: prefix, Platform: bot.Telegram})
	if err != nil {
		t.Fatalf("sharedlimits.New: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	r := &replica{store: st, holds: make(chan bot.SharedHold, 100)}
	limits.Shared = st
	if srv != nil {
		if r.client, err = bot.NewClient(bot.Config{Platform: bot.Telegram, Token: srv.Token(), Endpoint: srv.Endpoint(), Limits: limits}); err != nil {
			t.Fatalf("NewClient: %v", err)
		}
	}
	// Watchers are called in the order they were added: the test's comes
	// after the client's, so when the test learns of a hold the client has
	// already applied it.
	st.Watch(func(h bot.SharedHold) { r.holds <- h })
	return r
}

// TestTwoReplicasStayUnderTheNoticeBudget: two replicas sending notices at
// once stay under one NOTICE_RATE together, counted per second at the fake
// Bot API.
func TestTwoReplicasStayUnderTheNoticeBudget(t *testing.T) {
	rdb, prefix := redistest.Client(t), redistest.Prefix(t)
	srv := bottest.New(t)
	const rate, burst, each = 10, 2, 20
	limits := bot.Limits{Notice: rate, NoticeBurst: burst}
	a := newReplica(t, rdb, prefix, srv, limits)
	b := newReplica(t, rdb, prefix, srv, limits)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i, r := range []*replica{a, b} {
		for j := range each {
			chat := int64(1000*(i+1) + j) // distinct chats: only the notice budget holds them
			wg.Go(func() {
				if _, err := r.client.Notify(ctx, bot.Message{ChatID: chat, Text: "اطلاعیه"}); err != nil {
					t.Errorf("Notify to %d: %v", chat, err)
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)

	var at []time.Time
	for _, s := range srv.Sent() {
		if s.Method == "sendMessage" {
			at = append(at, s.At)
		}
	}
	if len(at) != 2*each {
		t.Fatalf("the fake Bot API got %d notices, want %d", len(at), 2*each)
	}
	// In any one second: the budget's rate plus its burst (and one for the
	// edges of the window).
	most := 0
	for i := range at {
		n := 0
		for j := range at {
			if d := at[j].Sub(at[i]); d >= 0 && d < time.Second {
				n++
			}
		}
		most = max(most, n)
	}
	if most > rate+burst+1 {
		t.Errorf("%d notices reached the Bot API within one second from two replicas, want at most %d (NOTICE_RATE %d, burst %d)",
			most, rate+burst+1, rate, burst)
	}
	// 40 notices at 10 a second after a burst of 2 take about 3.8 s; each
	// replica on its own budget would have finished in half.
	if min := time.Duration(float64(2*each-burst-1)/rate*float64(time.Second)) - 300*time.Millisecond; elapsed < min {
		t.Errorf("two replicas sent %d notices in %v, want at least %v: they did not share the budget", 2*each, elapsed, min)
	}
}

// TestA429OnOneReplicaHoldsTheChatOnTheOther: a 429 with retry_after that
// one replica got for a chat holds that chat on the other replica too, for
// an edit (never pre-throttled) and for a new message.
func TestA429OnOneReplicaHoldsTheChatOnTheOther(t *testing.T) {
	for _, kind := range []string{"edit", "message"} {
		t.Run(kind, func(t *testing.T) {
			rdb, prefix := redistest.Client(t), redistest.Prefix(t)
			srv := bottest.New(t)
			a := newReplica(t, rdb, prefix, srv, bot.Limits{})
			b := newReplica(t, rdb, prefix, srv, bot.Limits{})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			const chat = 77
			id, err := b.client.Send(ctx, bot.Message{ChatID: chat, Text: "پیام اول"})
			if err != nil {
				t.Fatal(err)
			}
			const retry = 2 * time.Second
			srv.FailChat(chat, 1, bottest.Fault{Code: 429, RetryAfter: int(retry / time.Second)})
			aDone := make(chan error, 1)
			go func() {
				_, err := a.client.Send(ctx, bot.Message{ChatID: chat, Text: "پاسخ"})
				aDone <- err
			}()
			var h bot.SharedHold
			select {
			case h = <-b.holds:
			case <-ctx.Done():
				t.Fatal("replica b never learned of replica a's 429")
			}
			seen := time.Now()
			if h.ChatID != chat || h.Flood {
				t.Fatalf("hold = %+v, want chat %d", h, chat)
			}
			m := bot.Message{ChatID: chat, Text: "پیام دوم"}
			if kind == "edit" {
				m = bot.Message{ChatID: chat, Text: "ویرایش", EditMessageID: id}
			}
			if _, err := b.client.Send(ctx, m); err != nil {
				t.Fatal(err)
			}
			waited := time.Since(seen)
			if err := <-aDone; err != nil {
				t.Fatalf("replica a after its 429: %v", err)
			}
			if got := srv.TooManyCount(); got != 1 {
				t.Errorf("the fake Bot API answered %d 429s, want 1: replica b did not honour a's", got)
			}
			if waited < retry-500*time.Millisecond {
				t.Errorf("replica b sent to the held chat %v after learning of the hold, want about %v", waited, retry)
			}
			// Another chat is not held.
			start := time.Now()
			if _, err := b.client.Send(ctx, bot.Message{ChatID: chat + 1, Text: "دیگری"}); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("another chat waited %v on replica b", d)
			}
		})
	}
}

// TestFloodIsInferredOverReplicas: 429s from several chats, got by
// different replicas, make one flood, and every other replica is told.
func TestFloodIsInferredOverReplicas(t *testing.T) {
	rdb, prefix := redistest.Client(t), redistest.Prefix(t)
	a := newReplica(t, rdb, prefix, nil, bot.Limits{})
	b := newReplica(t, rdb, prefix, nil, bot.Limits{})
	ctx := context.Background()
	now := time.Now()
	for _, chat := range []int64{1, 2} {
		flood, err := a.store.TooMany(ctx, chat, time.Second, now, 3)
		if err != nil || flood {
			t.Fatalf("a: 429 of chat %d: flood %v, err %v; want no flood yet", chat, flood, err)
		}
	}
	flood, err := b.store.TooMany(ctx, 3, 2*time.Second, now.Add(100*time.Millisecond), 3)
	if err != nil || !flood {
		t.Fatalf("b: the third chat's 429: flood %v, err %v; want a flood", flood, err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case h := <-a.holds:
			if !h.Flood {
				continue // the chats' holds b told a of
			}
			if want := now.Add(2100 * time.Millisecond); h.Until.Sub(want).Abs() > time.Millisecond {
				t.Errorf("flood hold until %v, want %v", h.Until, want)
			}
			// The notice budget is slowed for both.
			d, err := a.store.ReserveNotice(ctx, 25, 1, now.Add(2200*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			d2, err := b.store.ReserveNotice(ctx, 25, 1, now.Add(2200*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			// Halved to 12.5/s, then grown back by 5 % a second for 2.1 s:
			// about 66 ms a notice, where 25/s is 40 ms.
			if d != 0 || d2 < 55*time.Millisecond {
				t.Errorf("notice waits after a flood = %v then %v, want 0 then about 66ms (25/s halved, recovering)", d, d2)
			}
			return
		case <-deadline:
			t.Fatal("replica a was never told of the flood")
		}
	}
}

// TestChatBucket: the shared bucket of a chat allows its burst, then one
// message a second, and after a 429 holds the chat and halves its rate,
// which grows back.
func TestChatBucket(t *testing.T) {
	rdb, prefix := redistest.Client(t), redistest.Prefix(t)
	a := newReplica(t, rdb, prefix, nil, bot.Limits{})
	b := newReplica(t, rdb, prefix, nil, bot.Limits{})
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	reserve := func(r *replica, at time.Time) time.Duration {
		t.Helper()
		d, err := r.store.ReserveChat(ctx, 5, 1, 1, 3, at)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	var got []time.Duration
	for i := range 5 {
		r := a
		if i%2 == 1 {
			r = b
		}
		got = append(got, reserve(r, now))
	}
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits of 5 messages at once over two replicas = %v, want %v", got, want)
		}
	}
	// A 429 with retry_after 2s: the chat is held, and its rate halved.
	later := now.Add(time.Minute)
	if _, err := a.store.TooMany(ctx, 5, 2*time.Second, later, 3); err != nil {
		t.Fatal(err)
	}
	if d := reserve(b, later); d != 2*time.Second {
		t.Errorf("wait right after a 429 = %v, want the 2s hold", d)
	}
	// Halved, then grown back by a tenth of the base rate a second: 0.7/s
	// after the hold, so a message every 1.43 s past the burst.
	after := later.Add(2 * time.Second)
	for range 3 {
		reserve(b, after)
	}
	if d := reserve(b, after); d < 1400*time.Millisecond || d > 1450*time.Millisecond {
		t.Errorf("wait after the hold with the rate cut = %v, want about 1.43s", d)
	}
	// Back to the base rate after a while without 429s.
	recovered := after.Add(time.Minute)
	for range 3 {
		reserve(a, recovered)
	}
	if d := reserve(a, recovered); d != time.Second {
		t.Errorf("a minute later the fourth message waits %v, want 1s (the rate recovered)", d)
	}
}

// BenchmarkReserveChat is the cost a new message pays with shared limits:
// one round trip and one script. Compare BenchmarkLocalReserveChat in bot.
func BenchmarkReserveChat(b *testing.B) {
	rdb, prefix := redistest.Client(b), redistest.Prefix(b)
	st, err := sharedlimits.New(context.Background(), rdb, sharedlimits.Config{Prefix: prefix, Platform: bot.Telegram})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := st.ReserveChat(ctx, int64(i%1000), 1, 1, 3, now); err != nil {
			b.Fatal(err)
		}
	}
}
