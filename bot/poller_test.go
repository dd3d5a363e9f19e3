package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/mahalle/mahalle/bot/bottest"
)

// ptTimeout bounds every wait of these tests; nothing normally comes near it.
const ptTimeout = 20 * time.Second

// ptLog is a concurrency-safe buffer for a JSON slog handler.
type ptLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *ptLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// records returns the log records decoded.
func (l *ptLog) records(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(l.buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// find returns the first record whose msg contains msg.
func (l *ptLog) find(t *testing.T, msg string) (map[string]any, bool) {
	t.Helper()
	for _, r := range l.records(t) {
		if s, _ := r["msg"].(string); strings.Contains(s, msg) {
			return r, true
		}
	}
	return nil, false
}

func (l *ptLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// ptWaits is an injected PollerConfig.Wait: it records every wait, returns
// at once, and signals each on a channel.
type ptWaits struct {
	mu     sync.Mutex
	waits  []time.Duration
	signal chan time.Duration
}

func newPtWaits() *ptWaits { return &ptWaits{signal: make(chan time.Duration, 1024)} }

func (w *ptWaits) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.waits = append(w.waits, d)
	w.mu.Unlock()
	select {
	case w.signal <- d:
	default:
	}
	return ctx.Err()
}

func (w *ptWaits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.waits)
}

// next returns the next recorded wait.
func (w *ptWaits) next(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-w.signal:
		return d
	case <-time.After(ptTimeout):
		t.Fatal("no wait recorded")
		return 0
	}
}

// ptEnv is a poller under test against a fake Bot API server.
type ptEnv struct {
	srv     *bottest.Server
	log     *ptLog
	waits   *ptWaits
	metrics *Metrics
	poller  *Poller
	queue   *MemQueue
	cancel  context.CancelFunc
	errc    chan error
}

// newPtEnv builds a poller for srv; edit adjusts its config first.
func newPtEnv(t *testing.T, srv *bottest.Server, edit func(*PollerConfig)) *ptEnv {
	t.Helper()
	e := &ptEnv{srv: srv, log: &ptLog{}, waits: newPtWaits(), metrics: NewMetrics(prometheus.NewRegistry()), queue: NewMemQueue()}
	cfg := PollerConfig{
		Dispatch:    DispatchConfig{Queue: e.queue},
		Platform:    Telegram,
		Token:       srv.Token(),
		Endpoint:    srv.Endpoint(),
		PollTimeout: 5 * time.Second,
		Logger:      slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics:     e.metrics,
		Wait:        e.waits.wait,
	}
	if edit != nil {
		edit(&cfg)
	}
	p, err := NewPoller(cfg)
	if err != nil {
		t.Fatalf("NewPoller: %v", err)
	}
	e.poller = p
	return e
}

// start runs the poller with h until stop or the end of the test.
func (e *ptEnv) start(t *testing.T, h Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.errc = make(chan error, 1)
	go func() { e.errc <- e.poller.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-e.errc:
		case <-time.After(ptTimeout):
			t.Error("Run did not return after the test")
		}
	})
}

// stop cancels Run's context and returns Run's result.
func (e *ptEnv) stop(t *testing.T) error {
	t.Helper()
	e.cancel()
	select {
	case err := <-e.errc:
		e.errc <- err // for the cleanup
		return err
	case <-time.After(ptTimeout):
		t.Fatal("Run did not return after cancel")
		return nil
	}
}

// waitConfirmed waits until the server saw update id confirmed and every
// queued update is handled.
func (e *ptEnv) waitConfirmed(t *testing.T, id int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ptTimeout)
	defer cancel()
	if err := e.srv.WaitConfirmed(ctx, id); err != nil {
		t.Fatalf("WaitConfirmed(%d): %v\nlog:\n%s", id, err, e.log)
	}
	for e.queue.Total() > 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("%d updates still queued\nlog:\n%s", e.queue.Total(), e.log)
		case <-time.After(time.Millisecond):
		}
	}
}

// ptSeen records what a handler saw, per chat, in order.
type ptSeen struct {
	mu      sync.Mutex
	byChat  map[int64][]int
	updates map[int]Update
	calls   map[int]int
	handled chan int
}

func newPtSeen() *ptSeen {
	return &ptSeen{byChat: map[int64][]int{}, updates: map[int]Update{}, calls: map[int]int{}, handled: make(chan int, 1024)}
}

func (s *ptSeen) add(u Update) {
	s.mu.Lock()
	s.byChat[u.ChatID] = append(s.byChat[u.ChatID], u.ID)
	s.updates[u.ID] = u
	s.calls[u.ID]++
	s.mu.Unlock()
}

// recorder is a handler that records and succeeds.
func (s *ptSeen) recorder() Handler {
	return HandlerFunc(func(_ context.Context, u Update) error {
		s.add(u)
		s.handled <- u.ID
		return nil
	})
}

// waitHandled waits until the handler has finished update id.
func (s *ptSeen) waitHandled(t *testing.T, id int) {
	t.Helper()
	deadline := time.After(ptTimeout)
	for {
		select {
		case got := <-s.handled:
			if got == id {
				return
			}
		case <-deadline:
			t.Fatalf("update %d not handled", id)
		}
	}
}

func (s *ptSeen) chat(id int64) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.byChat[id])
}

func (s *ptSeen) callsOf(id int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

// ptCount reads one counter of vec.
func ptCount(t *testing.T, vec *prometheus.CounterVec, labels ...string) float64 {
	t.Helper()
	var m dto.Metric
	if err := vec.WithLabelValues(labels...).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestPollerSendsAllowedUpdates(t *testing.T) {
	srv := bottest.New(t)
	e := newPtEnv(t, srv, nil)
	seen := newPtSeen()
	chat, user := bottest.Private(7)
	id := srv.SendText(chat, user, "/start")
	e.start(t, seen.recorder())
	e.waitConfirmed(t, id)

	got := srv.AllowedUpdates()
	want := []string{"message", "edited_message", "callback_query", "my_chat_member"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("allowed_updates = %q, want %q", got, want)
	}
	if got, want := srv.LastPoll().Get("timeout"), "5"; got != want {
		t.Errorf("timeout = %q, want %q", got, want)
	}
	seen.mu.Lock()
	u := seen.updates[id]
	seen.mu.Unlock()
	if u.Command != "start" || u.Platform != Telegram || u.ChatID != 7 {
		t.Errorf("handler saw %+v", u)
	}
}

// TestPollerManyChats sends 200 updates from 50 chats and checks that every
// one is handled exactly once, each chat in order, with at most Workers
// chats handled at once; the handler answers through the Bot API.
func TestPollerManyChats(t *testing.T) {
	const (
		chats   = 50
		perChat = 4
		workers = 8
	)
	srv := bottest.New(t)
	e := newPtEnv(t, srv, func(c *PollerConfig) { c.Dispatch.Workers = workers })
	api := &tgbotapi.BotAPI{Token: srv.Token(), Client: &http.Client{Timeout: ptTimeout}, Buffer: 100}
	api.SetAPIEndpoint(srv.Endpoint())

	want := map[int64][]int{}
	last := 0
	for round := range perChat {
		for c := range chats {
			chat, user := bottest.Private(int64(1000 + c))
			last = srv.SendText(chat, user, fmt.Sprintf("پیام %d", round))
			want[chat.ID] = append(want[chat.ID], last)
		}
	}

	seen := newPtSeen()
	var inFlight, maxInFlight atomic.Int64
	h := HandlerFunc(func(ctx context.Context, u Update) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		seen.add(u)
		_, err := api.Send(tgbotapi.NewMessage(u.ChatID, "دریافت شد: "+u.Text))
		return err
	})
	e.start(t, h)
	e.waitConfirmed(t, last)

	for chat, ids := range want {
		if got := seen.chat(chat); !reflect.DeepEqual(got, ids) {
			t.Errorf("chat %d handled %v, want %v", chat, got, ids)
		}
		if got := len(srv.SentTo(chat)); got != perChat {
			t.Errorf("chat %d got %d replies, want %d", chat, got, perChat)
		}
	}
	if got := maxInFlight.Load(); got > workers || got < 2 {
		t.Errorf("max concurrent handlers = %d, want 2..%d", got, workers)
	}
	if got := ptCount(t, e.metrics.UpdatesHandled, "tg", "message"); got != chats*perChat {
		t.Errorf("UpdatesHandled = %v, want %d", got, chats*perChat)
	}
	var hist dto.Metric
	if err := e.metrics.HandleSeconds.WithLabelValues("tg").(prometheus.Metric).Write(&hist); err != nil {
		t.Fatal(err)
	}
	if got := hist.GetHistogram().GetSampleCount(); got != chats*perChat {
		t.Errorf("HandleSeconds samples = %d, want %d", got, chats*perChat)
	}
}

func TestPollerSkipsUndecodableUpdate(t *testing.T) {
	srv := bottest.New(t)
	e := newPtEnv(t, srv, nil)
	chat, user := bottest.Private(8)
	first := srv.SendText(chat, user, "یک")
	bad := srv.SendRaw(json.RawMessage(`{"message":42}`))
	last := srv.SendText(chat, user, "دو")
	seen := newPtSeen()
	e.start(t, seen.recorder())
	e.waitConfirmed(t, last)

	if got, want := seen.chat(8), []int{first, last}; !reflect.DeepEqual(got, want) {
		t.Errorf("handled %v, want %v", got, want)
	}
	if got := srv.Confirmed(); got < last {
		t.Errorf("Confirmed = %d, want >= %d", got, last)
	}
	r, ok := e.log.find(t, "undecodable")
	if !ok || r["level"] != "ERROR" || r["update_id"] != float64(bad) {
		t.Errorf("log record %v, want ERROR with update_id %d", r, bad)
	}
	if got := ptCount(t, e.metrics.UpdatesFailed, "tg", "message", "undecodable"); got != 1 {
		t.Errorf("UpdatesFailed undecodable = %v, want 1", got)
	}
}

func TestPollerRecoversPanic(t *testing.T) {
	srv := bottest.New(t)
	e := newPtEnv(t, srv, nil)
	chat, user := bottest.Private(9)
	boom := srv.SendText(chat, user, "boom")
	next := srv.SendText(chat, user, "next")
	seen := newPtSeen()
	h := HandlerFunc(func(_ context.Context, u Update) error {
		seen.add(u)
		if u.Text == "boom" {
			panic("handler bug")
		}
		return nil
	})
	e.start(t, h)
	e.waitConfirmed(t, next)

	if got, want := seen.chat(9), []int{boom, next}; !reflect.DeepEqual(got, want) {
		t.Errorf("handled %v, want %v (the panic must not be retried)", got, want)
	}
	r, ok := e.log.find(t, "panicked")
	if !ok {
		t.Fatalf("no panic logged:\n%s", e.log)
	}
	if r["level"] != "ERROR" || r["update_id"] != float64(boom) || r["chat_id"] != float64(9) ||
		r["platform"] != "tg" || !strings.Contains(fmt.Sprint(r["stack"]), "dispatch.go") {
		t.Errorf("panic log record = %v", r)
	}
	if got := ptCount(t, e.metrics.UpdatesFailed, "tg", "message", "panic"); got != 1 {
		t.Errorf("UpdatesFailed panic = %v, want 1", got)
	}
}

func TestPollerRetriesHandlerErrors(t *testing.T) {
	tests := []struct {
		name       string
		failures   int           // the handler fails this many times, then succeeds
		giveUp     time.Duration // DispatchConfig.GiveUpAfter
		wantCalls  int
		wantFailed float64
	}{
		{"succeeds on the third attempt", 2, time.Hour, 3, 0},
		{"succeeds after many attempts: never given up after a few seconds", 20, time.Hour, 21, 0},
		{"fails for good after GiveUpAfter", 10, time.Nanosecond, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := bottest.New(t)
			e := newPtEnv(t, srv, func(c *PollerConfig) { c.Dispatch.GiveUpAfter = tt.giveUp })
			chat, user := bottest.Private(10)
			flaky := srv.SendText(chat, user, "flaky")
			next := srv.SendText(chat, user, "next")
			seen := newPtSeen()
			h := HandlerFunc(func(_ context.Context, u Update) error {
				seen.add(u)
				if u.ID == flaky && seen.callsOf(u.ID) <= tt.failures {
					return errors.New("store unavailable")
				}
				return nil
			})
			e.start(t, h)
			e.waitConfirmed(t, next)

			if got := seen.callsOf(flaky); got != tt.wantCalls {
				t.Errorf("handler calls = %d, want %d", got, tt.wantCalls)
			}
			if got := seen.callsOf(next); got != 1 {
				t.Errorf("next update handled %d times, want 1", got)
			}
			if got := len(e.waits.all()); got != tt.wantCalls-1 {
				t.Errorf("backoff waits = %d, want %d", got, tt.wantCalls-1)
			}
			if got := ptCount(t, e.metrics.UpdatesFailed, "tg", "message", "error"); got != tt.wantFailed {
				t.Errorf("UpdatesFailed error = %v, want %v", got, tt.wantFailed)
			}
		})
	}
}

// TestPollerNeverWaitsForHandling blocks one chat's handler and checks the
// offset moves past it (it is queued), and another chat's later update is
// handled meanwhile.
func TestPollerNeverWaitsForHandling(t *testing.T) {
	srv := bottest.New(t)
	e := newPtEnv(t, srv, nil)
	slowChat, slowUser := bottest.Private(11)
	fastChat, fastUser := bottest.Private(12)
	slow := srv.SendText(slowChat, slowUser, "slow")
	fast := srv.SendText(fastChat, fastUser, "fast")

	started, release := make(chan struct{}), make(chan struct{})
	seen := newPtSeen()
	h := HandlerFunc(func(_ context.Context, u Update) error {
		if u.ID == slow {
			close(started)
			<-release
		}
		seen.add(u)
		seen.handled <- u.ID
		return nil
	})
	e.start(t, h)
	<-started
	seen.waitHandled(t, fast)
	ctx, cancel := context.WithTimeout(context.Background(), ptTimeout)
	defer cancel()
	if err := srv.WaitConfirmed(ctx, fast); err != nil {
		t.Fatalf("update %d not confirmed while %d is being handled: %v", fast, slow, err)
	}
	if got := e.queue.Len(ChatKey{Telegram, slowChat.ID}); got != 1 {
		t.Errorf("slow chat's queue holds %d updates while its handler runs, want 1", got)
	}
	close(release)
	e.waitConfirmed(t, fast)
	if got := seen.chat(slowChat.ID); !reflect.DeepEqual(got, []int{slow}) {
		t.Errorf("slow chat handled %v, want [%d]", got, slow)
	}
}

func TestPollerConflict(t *testing.T) {
	srv := bottest.New(t)
	e := newPtEnv(t, srv, nil)
	chat, user := bottest.Private(13)
	id := srv.SendText(chat, user, "pending")
	srv.SimulateConflict(true)
	seen := newPtSeen()
	e.start(t, seen.recorder())

	e.waits.next(t)
	r, ok := e.log.find(t, "conflict")
	if !ok || r["level"] != "ERROR" || !strings.Contains(r["msg"].(string), "webhook") ||
		!strings.Contains(r["msg"].(string), "another process") {
		t.Errorf("conflict log record = %v", r)
	}
	srv.SimulateConflict(false)
	e.waitConfirmed(t, id)
	if got := seen.callsOf(id); got != 1 {
		t.Errorf("pending update handled %d times, want 1", got)
	}
	if got := ptCount(t, e.metrics.PollErrors, "tg", "conflict"); got < 1 {
		t.Errorf("PollErrors conflict = %v, want >= 1", got)
	}
}

func TestPollerRetriesFailedPolls(t *testing.T) {
	tests := []struct {
		name     string
		fault    bottest.Fault
		reason   string
		wantWait time.Duration // exact wait; 0: any backoff
	}{
		{"502", bottest.Fault{Code: 502}, "server", 0},
		{"500 with an HTML body", bottest.Fault{Code: 500, RawBody: "<html>oops</html>"}, "server", 0},
		{"200 with a broken body", bottest.Fault{RawBody: `{"ok":tru`}, "server", 0},
		{"dropped connection", bottest.Fault{DropConnection: true}, "network", 0},
		{"429 retry_after", bottest.Fault{Code: 429, RetryAfter: 3}, "too_many_requests", 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := bottest.New(t)
			e := newPtEnv(t, srv, func(c *PollerConfig) { c.Backoff = Backoff{Min: time.Second, Max: 4 * time.Second} })
			chat, user := bottest.Private(14)
			id := srv.SendText(chat, user, "hello")
			srv.FailNext("getUpdates", 1, tt.fault)
			seen := newPtSeen()
			e.start(t, seen.recorder())
			e.waitConfirmed(t, id)

			waits := e.waits.all()
			if len(waits) != 1 {
				t.Fatalf("waits = %v, want one", waits)
			}
			if tt.wantWait != 0 && waits[0] != tt.wantWait {
				t.Errorf("wait = %v, want %v", waits[0], tt.wantWait)
			}
			if tt.wantWait == 0 && (waits[0] < 0 || waits[0] > time.Second) {
				t.Errorf("wait = %v, want within the first backoff step [0, 1s]", waits[0])
			}
			if got := ptCount(t, e.metrics.PollErrors, "tg", tt.reason); got != 1 {
				t.Errorf("PollErrors %s = %v, want 1", tt.reason, got)
			}
			if got := seen.callsOf(id); got != 1 {
				t.Errorf("update handled %d times, want 1", got)
			}
		})
	}
}

func TestPollerUnauthorized(t *testing.T) {
	srv := bottest.New(t)
	const token = "999:WRONG-token_secret"
	e := newPtEnv(t, srv, func(c *PollerConfig) { c.Token = token })
	ctx, cancel := context.WithTimeout(context.Background(), ptTimeout)
	defer cancel()
	err := e.poller.Run(ctx, newPtSeen().recorder())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Run = %v, want ErrUnauthorized", err)
	}
	if strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "token was refused") {
		t.Errorf("error %q: want it to say the token was refused, without the token", err)
	}
	if strings.Contains(e.log.String(), token) {
		t.Errorf("the token is in the log:\n%s", e.log)
	}
}

// TestPollerTokenNeverLogged polls an address where nothing listens: the
// net/http error quotes the URL, which holds the token.
func TestPollerTokenNeverLogged(t *testing.T) {
	srv := bottest.New(t)
	const token = "4242:SECRET_token-value"
	e := newPtEnv(t, srv, func(c *PollerConfig) {
		c.Token = token
		c.Endpoint = "http://127.0.0.1:1/bot%s/%s"
	})
	e.start(t, newPtSeen().recorder())
	e.waits.next(t)
	if err := e.stop(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
	log := e.log.String()
	if strings.Contains(log, token) || !strings.Contains(log, "bot<token>/getUpdates") {
		t.Errorf("want the token masked in the log:\n%s", log)
	}
	if got := ptCount(t, e.metrics.PollErrors, "tg", "network"); got < 1 {
		t.Errorf("PollErrors network = %v, want >= 1", got)
	}
}

// TestPollerShutdownWaitsForHandler cancels Run while a handler runs: Run
// waits for it (its context stays alive), starts nothing new, confirms the
// finished update with a last getUpdates(limit=1, timeout=0) and returns nil.
func TestPollerShutdownWaitsForHandler(t *testing.T) {
	srv := bottest.New(t)
	e := newPtEnv(t, srv, nil)
	chat, user := bottest.Private(15)
	first := srv.SendText(chat, user, "first")
	second := srv.SendText(chat, user, "second")

	started, release := make(chan struct{}), make(chan struct{})
	var ctxErrAfterRelease error
	seen := newPtSeen()
	h := HandlerFunc(func(ctx context.Context, u Update) error {
		seen.add(u)
		if u.ID == first {
			close(started)
			<-release
			ctxErrAfterRelease = ctx.Err()
		}
		return nil
	})
	e.start(t, h)
	<-started
	e.cancel()
	select {
	case err := <-e.errc:
		t.Fatalf("Run returned %v while a handler was running", err)
	default:
	}
	close(release)
	if err := e.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if ctxErrAfterRelease != nil {
		t.Errorf("handler context ended by shutdown: %v", ctxErrAfterRelease)
	}
	if got, want := seen.chat(15), []int{first}; !reflect.DeepEqual(got, want) {
		t.Errorf("handled %v, want %v: nothing new starts after shutdown", got, want)
	}
	if got := e.queue.Len(ChatKey{Telegram, chat.ID}); got != 1 {
		t.Errorf("queued = %d, want 1 (update %d must stay queued)", got, second)
	}
	poll := srv.LastPoll()
	if poll.Get("offset") != fmt.Sprint(second+1) || poll.Get("limit") != "1" || poll.Get("timeout") != "" {
		t.Errorf("last getUpdates = %v, want offset=%d limit=1 and no timeout", poll, second+1)
	}
}

// TestPollerGraceExpires checks a handler still running when Grace ends gets
// its context cancelled, and its update stays queued.
func TestPollerGraceExpires(t *testing.T) {
	srv := bottest.New(t)
	e := newPtEnv(t, srv, func(c *PollerConfig) { c.Grace = 50 * time.Millisecond })
	chat, user := bottest.Private(16)
	id := srv.SendText(chat, user, "stuck")
	started := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, u Update) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	e.start(t, h)
	<-started
	if err := e.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if got := e.queue.Len(ChatKey{Telegram, chat.ID}); got != 1 {
		t.Errorf("queued = %d, want 1: update %d was not handled", got, id)
	}
	if _, ok := e.log.find(t, "grace period over"); !ok {
		t.Errorf("no grace log:\n%s", e.log)
	}
}

// TestPollerResumesAfterRestart runs a second poller on the same server, as
// after a crash: an update confirmed by the first is not seen again.
func TestPollerResumesAfterRestart(t *testing.T) {
	srv := bottest.New(t)
	chat, user := bottest.Private(17)
	first := srv.SendText(chat, user, "one")

	e1 := newPtEnv(t, srv, nil)
	seen1 := newPtSeen()
	e1.start(t, seen1.recorder())
	seen1.waitHandled(t, first)
	if err := e1.stop(t); err != nil {
		t.Fatal(err)
	}

	second := srv.SendText(chat, user, "two")
	e2 := newPtEnv(t, srv, nil)
	seen2 := newPtSeen()
	e2.start(t, seen2.recorder())
	e2.waitConfirmed(t, second)
	if got, want := seen2.chat(17), []int{second}; !reflect.DeepEqual(got, want) {
		t.Errorf("second poller handled %v, want %v", got, want)
	}
}

func TestNewPollerHTTPClientTimeout(t *testing.T) {
	tests := []struct {
		name        string
		pollTimeout time.Duration
		client      *http.Client
		wantTimeout time.Duration // 0: NewPoller must fail
	}{
		{"default", 0, nil, 40 * time.Second},
		{"built from the poll timeout, rounded up to seconds", 1500 * time.Millisecond, nil, 12 * time.Second},
		{"longer than the poll", 30 * time.Second, &http.Client{Timeout: 31 * time.Second}, 31 * time.Second},
		{"equal to the poll", 30 * time.Second, &http.Client{Timeout: 30 * time.Second}, 0},
		{"no timeout", 30 * time.Second, &http.Client{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPoller(PollerConfig{Platform: Bale, Token: "1:x", PollTimeout: tt.pollTimeout, HTTPClient: tt.client})
			if tt.wantTimeout == 0 {
				if err == nil {
					t.Fatal("NewPoller succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("NewPoller: %v", err)
			}
			if got := p.cfg.HTTPClient.Timeout; got != tt.wantTimeout {
				t.Errorf("client timeout = %v, want %v", got, tt.wantTimeout)
			}
			if p.cfg.HTTPClient.Timeout <= p.cfg.PollTimeout {
				t.Errorf("client timeout %v does not exceed poll timeout %v", p.cfg.HTTPClient.Timeout, p.cfg.PollTimeout)
			}
		})
	}
}

func TestNewPollerRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  PollerConfig
	}{
		{"no platform", PollerConfig{Token: "1:x"}},
		{"no token", PollerConfig{Platform: Telegram}},
		{"endpoint without verbs", PollerConfig{Platform: Telegram, Token: "1:x", Endpoint: "https://tapi.bale.ai/bot"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewPoller(tt.cfg); err == nil {
				t.Error("NewPoller succeeded, want an error")
			}
		})
	}
}

func TestRedactToken(t *testing.T) {
	const token = "123:ABC-def_ghi"
	inner := context.Canceled
	err := redactToken(&url.Error{Op: "Post", URL: "https://api.telegram.org/bot" + token + "/getUpdates", Err: inner}, token)
	if strings.Contains(err.Error(), token) {
		t.Errorf("error %q holds the token", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %q lost its cause", err)
	}
	plain := fmt.Errorf("wrapped: %s", token)
	if got := redactToken(plain, token); strings.Contains(got.Error(), token) {
		t.Errorf("error %q holds the token", got)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	tests := []struct {
		attempt int
		ceil    time.Duration
	}{{0, 100 * time.Millisecond}, {1, 200 * time.Millisecond}, {3, 800 * time.Millisecond}, {4, time.Second}, {60, time.Second}}
	for _, tt := range tests {
		var maxSeen time.Duration
		for range 2000 {
			d := b.delay(tt.attempt)
			if d < 0 || d > tt.ceil {
				t.Fatalf("delay(%d) = %v, want within [0, %v]", tt.attempt, d, tt.ceil)
			}
			maxSeen = max(maxSeen, d)
		}
		if maxSeen < tt.ceil/2 {
			t.Errorf("delay(%d) never above %v in 2000 draws: not jittered over [0, %v]", tt.attempt, maxSeen, tt.ceil)
		}
	}
}

func TestChatKeyOf(t *testing.T) {
	tests := []struct {
		u    Update
		want ChatKey
	}{
		{Update{Platform: Telegram, ChatID: 5}, ChatKey{Telegram, 5}},
		{Update{Platform: Bale, ChatID: -7}, ChatKey{Bale, -7}},
		// No chat (a button on an inline-mode message): its sender's private chat.
		{Update{Platform: Telegram, From: User{ID: 5}}, ChatKey{Telegram, 5}},
	}
	for _, tt := range tests {
		if got := chatKeyOf(tt.u); got != tt.want {
			t.Errorf("chatKeyOf(%+v) = %v, want %v", tt.u, got, tt.want)
		}
	}
}

func TestMemQueueOrderAndClaims(t *testing.T) {
	ctx := context.Background()
	q := NewMemQueue()
	k := ChatKey{Telegram, 5}
	for _, id := range []int{12, 10, 11, 10} {
		if err := q.Push(ctx, k, id, []byte(fmt.Sprint(id))); err != nil {
			t.Fatal(err)
		}
	}
	if got := q.Len(k); got != 3 {
		t.Fatalf("Len = %d, want 3 (a pushed id is not queued twice)", got)
	}
	got, claim, _ := q.Take(ctx, k, "a", time.Minute)
	if claim != Taken || got.ID != 10 {
		t.Fatalf("Take = %v, %v; want update 10", got, claim)
	}
	if _, claim, _ := q.Take(ctx, k, "b", time.Minute); claim != Busy {
		t.Fatalf("another owner's Take of a claimed chat = %v, want Busy", claim)
	}
	for i, id := range []int{10, 11, 12} {
		next, claim, err := q.Done(ctx, k, "a", id, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 && (claim != Taken || next.ID != id+1) {
			t.Fatalf("Done(%d) = %v, %v; want the next update taken", id, next, claim)
		}
		if i == 2 && claim != Empty {
			t.Fatalf("Done of the last update = %v, want Empty", claim)
		}
	}
	if _, claim, _ := q.Take(ctx, k, "a", time.Minute); claim != Empty {
		t.Fatalf("Take on an empty queue = %v, want Empty", claim)
	}
	if _, claim, _ := q.Take(ctx, k, "b", time.Minute); claim != Empty {
		t.Fatalf("Take on an empty, released queue = %v, want Empty", claim)
	}
	if err := q.Push(ctx, k, 13, nil); err != nil {
		t.Fatal(err)
	}
	if got, claim, _ := q.Take(ctx, k, "b", time.Minute); claim != Taken || got.ID != 13 {
		t.Fatalf("after the claim was released, Take = %v, %v; want update 13 for another owner", got, claim)
	}
}

// TestPollerShutdownInterruptsLongPoll cancels Run during a long poll far
// longer than the test's patience: Run must return at once.
func TestPollerShutdownInterruptsLongPoll(t *testing.T) {
	srv := bottest.New(t)
	e := newPtEnv(t, srv, func(c *PollerConfig) { c.PollTimeout = 10 * ptTimeout })
	e.start(t, newPtSeen().recorder())
	ctx, cancel := context.WithTimeout(context.Background(), ptTimeout)
	defer cancel()
	if err := srv.WaitPolling(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
}

// TestPollerSkipsOtherKinds checks an update of a kind Mahalle does not
// handle reaches no handler but is confirmed.
func TestPollerSkipsOtherKinds(t *testing.T) {
	srv := bottest.New(t)
	e := newPtEnv(t, srv, nil)
	other := srv.SendRaw(json.RawMessage(`{"future_kind":{"id":"b","date":1}}`))
	chat, user := bottest.Private(18)
	last := srv.SendText(chat, user, "after")
	seen := newPtSeen()
	e.start(t, seen.recorder())
	e.waitConfirmed(t, last)
	if got := seen.callsOf(other); got != 0 {
		t.Errorf("update %d of another kind handled %d times", other, got)
	}
	if got := ptCount(t, e.metrics.UpdatesReceived, "tg", "other"); got != 1 {
		t.Errorf("UpdatesReceived other = %v, want 1", got)
	}
}
