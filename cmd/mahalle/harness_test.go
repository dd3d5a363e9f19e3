package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/models/modelstest"
)

// waitTimeout bounds every wait of the end-to-end tests; a healthy run
// never comes near it.
const waitTimeout = 30 * time.Second

// backendEnv returns the environment that points the bot at this test's own
// backends: the real PostgreSQL and Redis of TEST_DATABASE_URL and
// TEST_REDIS_URL (a fresh schema, a fresh key prefix), or else an SQLite
// file and a Redis server in the test process. Either way they outlive a
// restart of the bot, as real ones do.
func backendEnv(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{"REDIS_KEY_PREFIX": "e2e" + randomHex(t, 5)}
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		env["REDIS_URL"] = u
	} else {
		env["REDIS_URL"] = "redis://" + miniredis.RunT(t).Addr()
	}
	dsn, dir := modelstest.Fresh(t)
	env["DATABASE_URL"], env["DATA_DIR"] = dsn, dir
	return env
}

// seedDemo runs `mahalle seed --demo` against env: the walks choose demo
// places («محله نمونه ۱ اراک»), which a real install never has.
func seedDemo(t *testing.T, env map[string]string) {
	t.Helper()
	var out syncBuffer
	if code := run(t.Context(), []string{"seed", "--demo"}, system{Getenv: mapEnv(env), Stdout: &out, Stderr: &out, Now: time.Now}); code != exitOK {
		t.Fatalf("mahalle seed --demo = %d\n%s", code, out.String())
	}
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// harness is the bot wired as in production, against the fake Bot API.
type harness struct {
	t     *testing.T
	srv   *bottest.Server
	env   map[string]string
	clock *clock
	run   *running // the last start
}

// clock is the bot's time in a test: real time plus a skew the test moves
// forward, so expiry is tested without waiting.
type clock struct {
	mu   sync.Mutex
	skew time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skew)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skew += d
}

func newHarness(t *testing.T, opts ...bottest.Option) *harness {
	t.Helper()
	opts = append([]bottest.Option{bottest.WithToken(goodToken), bottest.WithBotUser(7000, "mahalle_test_bot")}, opts...)
	srv := bottest.New(t, opts...)
	env := backendEnv(t)
	env["TELEGRAM_TOKEN"] = goodToken
	env["TELEGRAM_API_ENDPOINT"] = srv.Endpoint()
	env["HTTP_ADDR"] = "127.0.0.1:0"
	env["LOG_LEVEL"] = "debug"
	env["SEND_RATE"] = "10000"
	env["SEND_RATE_PER_CHAT"] = "1000" // the sender's limits have their own tests; here they would only slow the walk
	seedDemo(t, env)
	return &harness{t: t, srv: srv, env: env, clock: &clock{}}
}

// running is one in-process run of the bot.
type running struct {
	cancel context.CancelFunc
	done   chan int
	logs   *syncBuffer
}

// start runs the bot (mahalle with no arguments) and waits until it polls.
func (h *harness) start() *running {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan int, 1), logs: &syncBuffer{}}
	go func() {
		r.done <- run(ctx, nil, system{Getenv: mapEnv(h.env), Stdout: r.logs, Stderr: r.logs, Now: h.clock.Now})
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), waitTimeout)
	defer wcancel()
	if err := h.srv.WaitPolling(wctx); err != nil {
		cancel()
		h.t.Fatalf("the bot never polled: %v\nlogs:\n%s", err, r.logs.String())
	}
	h.t.Cleanup(func() { r.stop(h.t) })
	h.run = r
	return r
}

// stop shuts the bot down as SIGTERM would and returns its exit code.
func (r *running) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case code, ok := <-r.done:
		if !ok {
			return -1
		}
		close(r.done)
		return code
	case <-time.After(waitTimeout):
		t.Fatalf("the bot did not stop\nlogs:\n%s", r.logs.String())
		return -1
	}
}

// syncBuffer is a bytes.Buffer safe for the bot's goroutines to log into.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed and replaced at every write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written != nil {
		close(s.written)
		s.written = nil
	}
	return s.b.Write(p)
}

// waitFor blocks until the log holds text, or ctx ends.
func (s *syncBuffer) waitFor(ctx context.Context, text string) error {
	for {
		s.mu.Lock()
		if strings.Contains(s.b.String(), text) {
			s.mu.Unlock()
			return nil
		}
		if s.written == nil {
			s.written = make(chan struct{})
		}
		written := s.written
		s.mu.Unlock()
		select {
		case <-written:
		case <-ctx.Done():
			return fmt.Errorf("no %q in the log: %w", text, ctx.Err())
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// person plays one resident in a private chat.
type person struct {
	h    *harness
	t    *testing.T
	srv  *bottest.Server
	chat bottest.Chat
	user bottest.User
	read int // how many of the chat's recorded calls have been looked at
}

func (h *harness) person(id int64) *person {
	chat, user := bottest.Private(id)
	user.FirstName = "مریم"
	return &person{h: h, t: h.t, srv: h.srv, chat: chat, user: user}
}

// wait waits until update id is handled (confirmed, and its chat's queue
// drained) and returns
// what the bot did in this chat since the last look.
func (p *person) wait(id int) []bottest.Sent {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if p.h.env["REDIS_URL"] == "" {
		// The in-process Redis lives inside the bot, where the test cannot
		// see the queue: wait instead for the bot's answer to this update.
		if err := p.srv.WaitConfirmed(ctx, id); err != nil {
			p.t.Fatalf("update %d never confirmed: %v", id, err)
		}
		if err := waitFor(ctx, func() bool { return len(p.srv.SentTo(p.chat.ID)) > p.read }); err != nil {
			p.t.Fatalf("update %d never answered: %v", id, err)
		}
	} else if err := p.h.settle(ctx, id); err != nil {
		p.t.Fatalf("update %d never handled: %v", id, err)
	}
	all := p.srv.SentTo(p.chat.ID)
	got := all[p.read:]
	p.read = len(all)
	return got
}

func (p *person) say(text string) []bottest.Sent {
	p.t.Helper()
	return p.wait(p.srv.SendText(p.chat, p.user, text))
}

// press presses the newest button whose label contains label.
func (p *person) press(label string) []bottest.Sent {
	p.t.Helper()
	msgID, data := p.button(label)
	return p.wait(p.srv.PressButton(p.chat, p.user, msgID, data))
}

// button finds the newest live button whose label contains label.
func (p *person) button(label string) (int, string) {
	p.t.Helper()
	all := p.srv.SentTo(p.chat.ID)
	for i := len(all) - 1; i >= 0; i-- {
		m, ok := p.srv.Message(p.chat.ID, all[i].MessageID)
		if !ok || m.Deleted {
			continue
		}
		for _, row := range m.Inline {
			for _, b := range row {
				if strings.Contains(b.Text, label) && b.CallbackData != "" {
					return m.MessageID, b.CallbackData
				}
			}
		}
	}
	p.t.Fatalf("no button %q in chat; the bot sent:\n%s", label, dump(all))
	return 0, ""
}

// lastText is the text of the newest message the bot sent or edited.
func lastText(sent []bottest.Sent) string {
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].Text != "" && sent[i].Method != "answerCallbackQuery" {
			return sent[i].Text
		}
	}
	return ""
}

func dump(sent []bottest.Sent) string {
	var b strings.Builder
	for _, s := range sent {
		fmt.Fprintln(&b, s.String())
	}
	return b.String()
}

// expect fails unless some message among sent contains every want.
func expect(t *testing.T, sent []bottest.Sent, want ...string) {
	t.Helper()
	for _, s := range sent {
		ok := true
		for _, w := range want {
			if !strings.Contains(s.Text, w) {
				ok = false
				break
			}
		}
		if ok && s.Method != "answerCallbackQuery" {
			return
		}
	}
	t.Fatalf("no message contains %q; the bot sent:\n%s", want, dump(sent))
}

// noEnglish fails if a message meant for a person holds Latin words other
// than commands and codes.
func noEnglish(t *testing.T, sent []bottest.Sent) {
	t.Helper()
	for _, s := range sent {
		for _, w := range strings.Fields(s.Text) {
			w = strings.Trim(w, ".,:;()«»!؟?")
			if w == "" || strings.HasPrefix(w, "/") || strings.HasPrefix(w, "S-") || strings.HasPrefix(w, "A-") {
				continue
			}
			latin := 0
			for _, r := range w {
				if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
					latin++
				}
			}
			if latin >= 3 {
				t.Errorf("English text %q in a message to a person: %q", w, s.Text)
			}
		}
	}
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
