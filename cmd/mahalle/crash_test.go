package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/conversations"
	residentflows "github.com/mahalle/mahalle/conversations/resident"
	"github.com/mahalle/mahalle/models"
)

// These tests hold Mahalle to its promise (DESIGN.md, "How an update
// flows"): at-least-once in, idempotent effects, so a kill -9 at any moment
// loses nothing and duplicates nothing. They kill the real bot process (see
// proc_test.go) after an update's effect and before its offset is confirmed
// (with the reply delivered, or hanging on its way), between a submission's
// insert and the commit of the conversation, and at random under load.

// hang is how long an injected Latency fault holds a reply; the bot is
// killed long before it is served.
const hang = 10 * time.Minute

// killOnSend arms the fake server to SIGKILL pr the moment it records the
// first call for which match is true, before the bot gets the answer (so
// before the handler ends and the offset can move). The returned channel
// yields that call and srv.Confirmed() right after the kill.
func (h *harness) killOnSend(pr *proc, match func(bottest.Sent) bool) <-chan killed {
	ch := make(chan killed, 1)
	var once sync.Once
	h.srv.OnSend(func(s bottest.Sent) {
		if !match(s) {
			return
		}
		once.Do(func() {
			err := pr.signalKill()
			ch <- killed{sent: s, confirmed: h.srv.Confirmed(), err: err}
		})
	})
	h.t.Cleanup(func() { h.srv.OnSend(nil) })
	return ch
}

// killed is what killOnSend saw when it killed the bot.
type killed struct {
	sent      bottest.Sent
	confirmed int
	err       error
}

// awaitKill waits for the kill killOnSend armed, disarms the hook, and
// checks that update id was not confirmed when the bot died.
func (h *harness) awaitKill(ch <-chan killed, pr *proc, id int) bottest.Sent {
	h.t.Helper()
	var k killed
	select {
	case k = <-ch:
	case <-time.After(waitTimeout):
		h.t.Fatalf("the awaited reply to update %d never came; the bot sent:\n%s", id, dump(h.srv.Sent()))
	}
	h.srv.OnSend(nil)
	if k.err != nil {
		h.t.Fatal(k.err)
	}
	if err := pr.wait(); err != nil {
		h.t.Fatal(err)
	}
	h.unconfirmed(id)
	return k.sent
}

// unconfirmed fails unless update id is still waiting to be handled: not
// confirmed (the Bot API delivers it again), or in its chat's queue in
// Redis (the next start resumes it).
func (h *harness) unconfirmed(id int) {
	h.t.Helper()
	if c := h.srv.Confirmed(); c >= id && !h.queued(id) {
		h.t.Fatalf("update %d confirmed (up to %d) and not queued, by a bot that was killed while handling it: a crash loses it", id, c)
	}
}

// waitCalls waits until the fake server has received more than n calls of
// method (Calls counts a call when it arrives, before any injected latency).
func (h *harness) waitCalls(method string, n int) {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for h.srv.Calls(method) <= n {
		if time.Now().After(deadline) {
			h.t.Fatalf("no %s call arrived (still %d)", method, n)
		}
		<-tick.C
	}
}

// convState reads p's conversation straight from Redis: the zero State when
// there is none.
func (h *harness) convState(p *person) conversations.State {
	h.t.Helper()
	opts, err := redis.ParseURL(h.env["REDIS_URL"])
	if err != nil {
		h.t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer func() { _ = rdb.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	st, err := conversations.NewStore(rdb, conversations.StoreConfig{Prefix: h.env["REDIS_KEY_PREFIX"]}).
		Get(ctx, conversations.Key{Platform: "tg", ChatID: p.chat.ID, UserID: p.user.ID})
	if models.ErrorCode(err) == models.ENOTFOUND {
		return conversations.State{}
	} else if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// pressID queues a press of the newest live button labelled label and
// returns the update id, without waiting.
func (p *person) pressID(label string) int {
	p.t.Helper()
	msgID, data := p.button(label)
	return p.srv.PressButton(p.chat, p.user, msgID, data)
}

// countSent counts the messages sent (not edits) among sent that contain s.
func countSent(sent []bottest.Sent, s string) int {
	n := 0
	for _, x := range sent {
		if (x.Method == "sendMessage" || x.Method == "editMessageText") && strings.Contains(x.Text, s) {
			n++
		}
	}
	return n
}

// noHint fails if any message among sent is a "that was not what I asked
// for" hint: the sign of a re-delivered update evaluated a second time.
func noHint(t *testing.T, sent []bottest.Sent) {
	t.Helper()
	for _, s := range sent {
		if strings.Contains(s.Text, "⚠️") {
			t.Errorf("a re-delivered update was evaluated again: %s", s)
		}
	}
}

// checkOneSuggestion fails unless the database holds exactly one
// suggestion, the one with code, from p, with one audit entry.
func (h *harness) checkOneSuggestion(store *models.Store, p *person, code, text string) models.Suggestion {
	h.t.Helper()
	ctx := context.Background()
	if n, err := store.CountSuggestions(ctx); err != nil || n != 1 {
		h.t.Fatalf("suggestions = %d, %v; want exactly 1", n, err)
	}
	sg, err := store.SuggestionByCode(ctx, code)
	if err != nil {
		h.t.Fatalf("the code %s the person was given: %v", code, err)
	}
	if sg.UserID != p.user.ID || sg.Text != text {
		h.t.Errorf("stored suggestion = %+v, want user %d and text %q", sg, p.user.ID, text)
	}
	if es, err := store.AuditEntries(ctx, models.EntitySuggestion, sg.ID); err != nil || len(es) != 1 {
		h.t.Errorf("audit entries for the suggestion = %d, %v; want 1", len(es), err)
	}
	return sg
}

// TestCrashAfterEffectBeforeConfirm kills the bot right after its reply to
// an update reached the chat, before the update is acknowledged (which
// stores the conversation's transition): the update is handled again from
// the stored state and must change nothing twice, at most repeat the reply.
func TestCrashAfterEffectBeforeConfirm(t *testing.T) {
	h := newHarness(t)
	pr := h.startProc()
	p := h.person(5001)
	p.say("/start")
	p.toTopic()

	// A button press: killed when the step-5 prompt it brings is recorded.
	armed := h.killOnSend(pr, func(s bottest.Sent) bool {
		return s.ChatID == p.chat.ID && (s.Method == "sendMessage" || s.Method == "editMessageText") && strings.Contains(s.Text, "مرحله ۵ از ۹")
	})
	id := p.pressID("محیط زیست")
	h.awaitKill(armed, pr, id)
	if st := h.convState(p); st.Step != "topic" {
		t.Fatalf("state at the kill = step %q, answers %v; want the transition not stored yet (step topic)", st.Step, st.Answers)
	}
	pr = h.startProc()
	got := p.wait(id)
	// Handled again, the press edits its message into the same prompt: the
	// chat holds it once.
	if n := countSent(h.srv.SentTo(p.chat.ID), "مرحله ۵ از ۹"); n != 1 {
		t.Fatalf("step-5 prompt sent %d times, want 1:\n%s", n, dump(got))
	}
	if !strings.Contains(lastText(got), "مرحله ۵ از ۹") {
		t.Errorf("after the replay the newest message is %q, want the step-5 prompt", lastText(got))
	}
	noHint(t, got)

	// Still at step 5: the text is taken as step 5's answer.
	const body = "جوی آب کوچه اصلی پر از زباله است"
	expect(t, p.say(body), "مرحله ۶ از ۹", "موقعیت")
	expect(t, p.say("رد کردن"), "مرحله ۷ از ۹")
	expect(t, p.press("رد کردن"), "مرحله ۸ از ۹")
	expect(t, p.press("با نام من"), "مرحله ۹ از ۹")
	expect(t, p.say("مریم رضایی"), "خلاصهٔ «ارسال پیشنهاد»", "محله نمونه ۱ اراک", "محیط زیست", body, "مریم رضایی")

	// The final confirm: killed when the closing notice with the tracking
	// code is recorded; the row exists, the update is not acknowledged.
	armed = h.killOnSend(pr, func(s bottest.Sent) bool {
		return s.ChatID == p.chat.ID && (s.Method == "sendMessage" || s.Method == "editMessageText") && codePattern.MatchString(s.Text)
	})
	id = p.pressID("تأیید و ارسال")
	notice := h.awaitKill(armed, pr, id)
	code := codePattern.FindString(notice.Text)
	if st := h.convState(p); st.Flow == "" {
		t.Fatalf("state at the kill = flow closed, notice %q; want the transition not stored yet", st.Notice)
	}
	store := h.openStore()
	h.checkOneSuggestion(store, p, code, body)

	h.startProc()
	got = p.wait(id)
	// The confirm's message, edited again into the same closing notice,
	// shows the code once; no other code was handed out.
	if n := countSent(h.srv.SentTo(p.chat.ID), code); n != 1 {
		t.Errorf("closing notice with %s sent %d times, want 1:\n%s", code, n, dump(got))
	}
	if other := codePattern.FindAllString(dump(h.srv.SentTo(p.chat.ID)), -1); len(other) != 1 {
		t.Errorf("tracking codes in the chat = %v, want %s once", other, code)
	}
	expect(t, got, "کد پیگیری", code)
	expect(t, got, "از منوی زیر")
	sg := h.checkOneSuggestion(store, p, code, body)
	if sg.SenderName != "مریم رضایی" || sg.Anonymous {
		t.Errorf("stored sender = %q (anonymous %v), want مریم رضایی", sg.SenderName, sg.Anonymous)
	}
}

// TestCrashAfterEffectBeforeReply kills the bot while the reply to an update
// hangs on the way to the Bot API: the person saw nothing, and the
// transition is not stored (that waits for the update's acknowledgement).
// After the restart the update, handled again, must bring the reply once,
// and the state must move once only.
func TestCrashAfterEffectBeforeReply(t *testing.T) {
	h := newHarness(t)
	pr := h.startProc()
	p := h.person(5002)
	p.say("/start")
	p.toTopic()

	// A press whose prompt hangs (the pressed message is edited into it).
	n := h.srv.Calls("editMessageText")
	h.srv.FailNext("editMessageText", 1, bottest.Fault{Latency: hang})
	id := p.pressID("امور فرهنگی")
	h.waitCalls("editMessageText", n)
	pr.mustKill9(t)
	h.unconfirmed(id)
	if st := h.convState(p); st.Step != "topic" {
		t.Fatalf("state at the kill = step %q; want the transition not stored yet (step topic)", st.Step)
	}
	if n := countSent(h.srv.SentTo(p.chat.ID), "مرحله ۵ از ۹"); n != 0 {
		t.Fatalf("the hung prompt reached the chat")
	}
	pr = h.startProc()
	got := p.wait(id)
	expect(t, got, "مرحله ۵ از ۹")
	if n := countSent(h.srv.SentTo(p.chat.ID), "مرحله ۵ از ۹"); n != 1 {
		t.Errorf("step-5 prompt sent %d times, want 1:\n%s", n, dump(got))
	}
	noHint(t, got)

	// A text answer whose prompt hangs: evaluated again after a stored
	// transition it would be a wrong answer to the location step.
	const body = "برای جوانان محله یک کتابخانه کوچک لازم است"
	n = h.srv.Calls("sendMessage")
	h.srv.FailNext("sendMessage", 1, bottest.Fault{Latency: hang})
	id = h.srv.SendText(p.chat, p.user, body)
	h.waitCalls("sendMessage", n)
	pr.mustKill9(t)
	h.unconfirmed(id)
	if st := h.convState(p); st.Step != "body" || st.Answers["body"].Text != "" {
		t.Fatalf("state at the kill = step %q, body %q; want the transition not stored yet (step body)", st.Step, st.Answers["body"].Text)
	}
	pr = h.startProc()
	got = p.wait(id)
	expect(t, got, "مرحله ۶ از ۹", "موقعیت")
	if n := countSent(h.srv.SentTo(p.chat.ID), "مرحله ۶ از ۹"); n != 1 {
		t.Errorf("step-6 prompt sent %d times, want 1:\n%s", n, dump(got))
	}
	noHint(t, got)
	expect(t, p.say("رد کردن"), "مرحله ۷ از ۹")
	expect(t, p.press("رد کردن"), "مرحله ۸ از ۹")
	expect(t, p.press("بی\u200cنام"), "خلاصهٔ «ارسال پیشنهاد»", "امور فرهنگی", body)

	// The confirm whose first reply (the callback answer) hangs: the row is
	// stored, the person knows nothing yet, the flow is still open.
	n = h.srv.Calls("answerCallbackQuery")
	h.srv.FailNext("answerCallbackQuery", 1, bottest.Fault{Latency: hang})
	id = p.pressID("تأیید و ارسال")
	h.waitCalls("answerCallbackQuery", n)
	pr.mustKill9(t)
	h.unconfirmed(id)
	if st := h.convState(p); st.Flow == "" {
		t.Fatalf("state at the kill = flow closed, notice %q; want the transition not stored yet", st.Notice)
	}
	if codePattern.MatchString(dump(h.srv.SentTo(p.chat.ID))) {
		t.Fatalf("a tracking code reached the chat before the kill")
	}
	store := h.openStore()
	if n, err := store.CountSuggestions(context.Background()); err != nil || n != 1 {
		t.Fatalf("suggestions at the kill = %d, %v; want the row stored", n, err)
	}

	h.startProc()
	got = p.wait(id)
	code := codePattern.FindString(lastTextWith(got, "کد پیگیری"))
	h.checkOneSuggestion(store, p, code, body)
	expect(t, got, "کد پیگیری", code)
	expect(t, got, "از منوی زیر")
	if n := countSent(h.srv.SentTo(p.chat.ID), code); n != 1 {
		t.Errorf("closing notice sent %d times, want 1:\n%s", n, dump(got))
	}
	if ans := h.srv.CallbackAnswer(id); !ans.Answered {
		t.Errorf("the confirm press was never answered")
	}
	if sg := h.checkOneSuggestion(store, p, code, body); !sg.Anonymous || sg.SenderName != "" {
		t.Errorf("stored suggestion anonymous = %v, sender %q; want anonymous", sg.Anonymous, sg.SenderName)
	}
}

// TestCrashAfterInsertBeforeCommit kills the bot after the final confirm's
// effects and reply, while the acknowledgement that would store the closed
// flow (with the update's dedup mark) is held on its way to Redis. The
// update is delivered again, is not marked seen, and so is evaluated again:
// the insert must find its own row by the idempotency key and hand out the
// same tracking code.
func TestCrashAfterInsertBeforeCommit(t *testing.T) {
	h := newHarness(t)
	gate := newRedisGate(t, h)
	pr := h.startProc()
	p := h.person(5003)
	p.say("/start")
	p.toTopic()
	const body = "چراغ‌های کوچه شمالی شب‌ها خاموش است"
	p.press("عمران")
	expect(t, p.say(body), "مرحله ۶ از ۹")
	p.say("رد کردن")
	p.press("رد کردن")
	expect(t, p.press("بی\u200cنام"), "خلاصهٔ «ارسال پیشنهاد»", body)

	gate.arm()
	id := p.pressID("تأیید و ارسال")
	gate.waitHeld()
	store := h.openStore()
	if n, err := store.CountSuggestions(context.Background()); err != nil || n != 1 {
		t.Fatalf("suggestions while the acknowledgement is held = %d, %v; want the row inserted", n, err)
	}
	if st := h.convState(p); st.Flow != residentflows.FlowSuggest || st.Step != "_summary" {
		t.Fatalf("state while the acknowledgement is held = flow %q step %q; want still the summary", st.Flow, st.Step)
	}
	pr.mustKill9(t)
	h.unconfirmed(id)
	told := codePattern.FindString(dump(h.srv.SentTo(p.chat.ID)))
	if told == "" {
		t.Fatalf("no tracking code reached the chat before the acknowledgement")
	}

	h.startProc()
	got := p.wait(id)
	code := codePattern.FindString(lastTextWith(got, "کد پیگیری"))
	if code != told {
		t.Fatalf("told %q after the restart, %q before:\n%s", code, told, dump(got))
	}
	h.checkOneSuggestion(store, p, code, body)
	if st := h.convState(p); st.Flow != "" || !strings.Contains(st.Notice, code) {
		t.Errorf("state after the second attempt = flow %q, notice %q; want the flow closed with %s", st.Flow, st.Notice, code)
	}
	if ans := h.srv.CallbackAnswer(id); !ans.Answered {
		t.Errorf("the confirm press was never answered")
	}
}

// redisGate is a TCP proxy between the bot and Redis that can hold back the
// next Lua script call (EVAL or EVALSHA: the engine's compare-and-set), so a
// test can kill the bot after a flow's Submit and before its commit. A held
// call is never forwarded: its connection is drained until the bot dies.
type redisGate struct {
	t      *testing.T
	target string
	armed  atomic.Bool
	held   chan struct{}
}

// newRedisGate starts a gate in front of h's Redis and points h's
// REDIS_URL at it.
func newRedisGate(t *testing.T, h *harness) *redisGate {
	t.Helper()
	u, err := url.Parse(h.env["REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &redisGate{t: t, target: u.Host, held: make(chan struct{}, 1)}
	var conns sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		conns.Wait()
	})
	conns.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Go(func() { g.serve(c) })
		}
	})
	u.Host = ln.Addr().String()
	h.env["REDIS_URL"] = u.String()
	return g
}

// arm makes the gate hold the next script call.
func (g *redisGate) arm() { g.armed.Store(true) }

// waitHeld waits until the gate holds a script call.
func (g *redisGate) waitHeld() {
	g.t.Helper()
	select {
	case <-g.held:
	case <-time.After(waitTimeout):
		g.t.Fatal("no script call reached Redis")
	}
}

func (g *redisGate) serve(client net.Conn) {
	defer func() { _ = client.Close() }()
	server, err := net.Dial("tcp", g.target)
	if err != nil {
		return
	}
	defer func() { _ = server.Close() }()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(client, server)
		_ = client.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			if g.armed.Load() && isScriptCall(buf[:n]) && g.armed.CompareAndSwap(true, false) {
				g.held <- struct{}{}
				_, _ = io.Copy(io.Discard, client) // until the bot is killed
				break
			}
			if _, err := server.Write(buf[:n]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	_ = server.Close()
	<-done
}

// isScriptCall reports whether a chunk of RESP from a client holds an EVAL
// or EVALSHA command on a conversation's state (go-redis writes a command
// in one piece); the update queue's scripts pass.
func isScriptCall(b []byte) bool {
	l := bytes.ToLower(b)
	return (bytes.Contains(l, []byte("\r\nevalsha\r\n")) || bytes.Contains(l, []byte("\r\neval\r\n"))) &&
		bytes.Contains(l, []byte("}:s:"))
}

// TestKill9UnderLoad has residents walk the whole suggestion flow at once
// while the bot is killed with SIGKILL and restarted every 300–1500 ms.
// Each resident sends every answer once and never repeats it: an update the
// bot lost would leave its resident waiting until its deadline, and fail.
func TestKill9UnderLoad(t *testing.T) {
	const residents = 20
	h := newHarness(t)
	// Telegram's own per-chat limit: a step's replies queue up in the
	// sender, so kills find handlers mid-way.
	h.env["SEND_RATE_PER_CHAT"] = "1"
	bin := botBinary(t)
	first := h.startProc()
	start := time.Now()

	// The killer. fifth is closed after the fifth kill: residents hold their
	// final confirm until then, so at least five kills land mid-flow however
	// fast the machine is.
	var active atomic.Int32 // residents still walking
	active.Store(residents)
	stop, fifth := make(chan struct{}), make(chan struct{})
	type tally struct {
		kills, midFlow, inFlight int
		err                      error
	}
	killerDone := make(chan tally, 1)
	go func() {
		var k tally
		defer func() { killerDone <- k }()
		cur := first
		for {
			select {
			case <-stop:
				return
			case <-time.After(300*time.Millisecond + rand.N(1200*time.Millisecond)):
			}
			mid, pending := active.Load() > 0, h.srv.Pending() > 0
			if k.err = cur.kill9(); k.err != nil {
				return
			}
			if k.kills++; k.kills == 5 {
				close(fifth)
			}
			if mid {
				k.midFlow++
			}
			if pending {
				k.inFlight++
			}
			if cur, k.err = h.spawn(bin); k.err != nil {
				return
			}
		}
	}()

	rs := make([]*resident, residents)
	errs := make([]error, residents)
	var wg sync.WaitGroup
	for i := range rs {
		chat, user := bottest.Private(int64(9100 + i))
		rs[i] = &resident{h: h, srv: h.srv, chat: chat, user: user,
			text: fmt.Sprintf("پیشنهاد شمارهٔ %d برای پاکیزگی کوچه", i+1)}
		wg.Go(func() {
			defer active.Add(-1)
			errs[i] = rs[i].walk(fifth)
		})
	}
	wg.Wait()
	close(stop)
	k := <-killerDone
	t.Logf("%d residents done in %v; the bot was killed %d times: %d mid-flow, %d with updates unconfirmed",
		residents, time.Since(start).Round(time.Millisecond), k.kills, k.midFlow, k.inFlight)
	if k.err != nil {
		t.Fatalf("killer: %v", k.err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("resident %d: %v", i, err)
		}
	}
	if t.Failed() {
		return
	}
	if k.midFlow < 5 {
		t.Errorf("the bot was killed only %d times while residents were mid-flow, want at least 5", k.midFlow)
	}

	// Nobody was left without an answer.
	for i, r := range rs {
		if len(r.updates) != 11 {
			t.Errorf("resident %d sent %d updates, want 11", i, len(r.updates))
		}
		for _, u := range r.updates {
			if !u.answered {
				t.Errorf("resident %d: update %d got no message and no callback answer", i, u.id)
			}
		}
	}

	// One suggestion per resident, none doubled.
	store := h.openStore()
	ctx := context.Background()
	if n, err := store.CountSuggestions(ctx); err != nil || n != residents {
		t.Errorf("suggestions = %d, %v; want %d", n, err, residents)
	}
	seen := map[string]int{}
	for i, r := range rs {
		if j, dup := seen[r.code]; dup {
			t.Errorf("residents %d and %d got the same code %s", j, i, r.code)
		}
		seen[r.code] = i
		sg, err := store.SuggestionByCode(ctx, r.code)
		if err != nil {
			t.Errorf("resident %d: code %s: %v", i, r.code, err)
			continue
		}
		if sg.UserID != r.user.ID || sg.Text != r.text || !sg.Anonymous {
			t.Errorf("resident %d: stored %+v, want user %d, text %q, anonymous", i, sg, r.user.ID, r.text)
		}
		if es, err := store.AuditEntries(ctx, models.EntitySuggestion, sg.ID); err != nil || len(es) != 1 {
			t.Errorf("resident %d: %d audit entries, %v; want 1", i, len(es), err)
		}
	}
}

// resident is a person of the load test. Unlike person it reports a failure
// as an error, so that it can run in a goroutine of its own.
type resident struct {
	h       *harness
	srv     *bottest.Server
	chat    bottest.Chat
	user    bottest.User
	text    string    // the suggestion
	read    int       // how many of the chat's recorded calls have been looked at
	updates []handled // every update sent, and whether it was answered
	code    string    // the tracking code received
}

// handled is one update a resident sent and whether the bot answered it.
type handled struct {
	id       int
	answered bool
}

// walk goes through the suggestion flow once, skipping photo and location,
// anonymously, pausing 50–400 ms before each answer as a person would. It
// waits for gate before the final confirm.
func (r *resident) walk(gate <-chan struct{}) error {
	steps := []struct {
		press, say string
		want       []string
	}{
		{say: "/start", want: []string{"خوش آمدید"}},
		{press: "ارسال پیشنهاد", want: []string{"مرحله ۱ از ۹"}},
		{press: "مرکزی", want: []string{"کدام شهرستان"}},
		{press: "اراک", want: []string{"محله یا روستای خود"}},
		{press: "محله نمونه ۱ اراک", want: []string{"موضوع پیشنهاد شما"}},
		{press: "محیط زیست", want: []string{"مرحله ۵ از ۹"}},
		{say: r.text, want: []string{"مرحله ۶ از ۹"}},
		{say: "رد کردن", want: []string{"مرحله ۷ از ۹"}},
		{press: "رد کردن", want: []string{"مرحله ۸ از ۹"}},
		{press: "بی\u200cنام", want: []string{"خلاصهٔ «ارسال پیشنهاد»", r.text}},
		{press: "تأیید و ارسال", want: []string{"کد پیگیری"}},
	}
	var got []bottest.Sent
	for i, s := range steps {
		if i == len(steps)-1 {
			select {
			case <-gate:
			case <-time.After(waitTimeout):
				return errors.New("the fifth kill never came")
			}
		}
		<-time.After(50*time.Millisecond + rand.N(350*time.Millisecond))
		var id int
		if s.press != "" {
			msgID, data, ok := findButton(r.srv, r.chat.ID, s.press)
			if !ok {
				return fmt.Errorf("step %d: no button %q; the bot sent:\n%s", i+1, s.press, dump(r.srv.SentTo(r.chat.ID)))
			}
			id = r.srv.PressButton(r.chat, r.user, msgID, data)
		} else {
			id = r.srv.SendText(r.chat, r.user, s.say)
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		err := r.h.settle(ctx, id)
		cancel()
		if err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
		all := r.srv.SentTo(r.chat.ID)
		got = all[r.read:]
		r.read = len(all)
		r.updates = append(r.updates, handled{id: id, answered: len(got) > 0 || r.srv.CallbackAnswer(id).Answered})
		if !hasMessage(got, s.want...) {
			return fmt.Errorf("step %d (update %d): no message contains %q; the bot sent:\n%s", i+1, id, s.want, dump(got))
		}
	}
	r.code = codePattern.FindString(lastTextWith(got, "کد پیگیری"))
	if r.code == "" {
		return fmt.Errorf("no tracking code in:\n%s", dump(got))
	}
	return nil
}

// findButton is person.button for goroutines: the newest live button in the
// chat whose label contains label.
func findButton(srv *bottest.Server, chatID int64, label string) (int, string, bool) {
	all := srv.SentTo(chatID)
	for i := len(all) - 1; i >= 0; i-- {
		m, ok := srv.Message(chatID, all[i].MessageID)
		if !ok || m.Deleted {
			continue
		}
		for _, row := range m.Inline {
			for _, b := range row {
				if strings.Contains(b.Text, label) && b.CallbackData != "" {
					return m.MessageID, b.CallbackData, true
				}
			}
		}
	}
	return 0, "", false
}

// hasMessage is expect without a test: whether some message among sent
// contains every want.
func hasMessage(sent []bottest.Sent, want ...string) bool {
	for _, s := range sent {
		if s.Method == "answerCallbackQuery" {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s.Text, w)
		}
		if ok {
			return true
		}
	}
	return false
}
