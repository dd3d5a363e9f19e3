package main

import (
	"context"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
)

// stallProxy forwards TCP connections to target until stall is called;
// then it stops forwarding in both directions (a hung server: connections
// stay open, nothing answers) until resume.
type stallProxy struct {
	target string
	ln     net.Listener

	mu      sync.Mutex
	cond    *sync.Cond
	stalled bool
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{target: target, ln: ln}
	p.cond = sync.NewCond(&p.mu)
	var conns sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		p.resume()
		conns.Wait()
	})
	conns.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Go(func() { p.serve(c) })
		}
	})
	return p
}

func (p *stallProxy) addr() string { return p.ln.Addr().String() }

func (p *stallProxy) stall() {
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
}

func (p *stallProxy) resume() {
	p.mu.Lock()
	p.stalled = false
	p.cond.Broadcast()
	p.mu.Unlock()
}

// gate blocks while the proxy is stalled.
func (p *stallProxy) gate() {
	p.mu.Lock()
	for p.stalled {
		p.cond.Wait()
	}
	p.mu.Unlock()
}

func (p *stallProxy) serve(client net.Conn) {
	defer func() { _ = client.Close() }()
	p.gate() // a hung server accepts no new connection either
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer func() { _ = server.Close() }()
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				p.gate()
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		_ = dst.Close()
		_ = src.Close()
	}
	wg.Add(2)
	go pipe(server, client)
	go pipe(client, server)
	wg.Wait()
}

// opsBase is the address of the running bot's ops listener.
func opsBase(t *testing.T, r *running) string {
	t.Helper()
	m := addrPattern.FindStringSubmatch(r.logs.String())
	if m == nil {
		t.Fatalf("no listen address in the logs:\n%s", r.logs.String())
	}
	return "http://" + m[1]
}

// TestRedisHung stalls Redis behind a proxy: the person who writes meanwhile
// hears «سامانه موقتاً در دسترس نیست…» within seconds, an error is logged,
// /readyz says 503 and a metric counts it; once Redis answers again their
// message is handled, nothing lost.
func TestRedisHung(t *testing.T) {
	h := newHarness(t)
	h.redis() // the test's own client talks to Redis directly
	u, err := url.Parse(h.env["REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	proxy := newStallProxy(t, u.Host)
	u.Host = proxy.addr()
	h.env["REDIS_URL"] = u.String()
	h.env["HANDLER_TIMEOUT"] = "1s"
	r := h.start()
	base := opsBase(t, r)
	p := h.person(6101)
	expect(t, p.say("/start"), "خوش آمدید")

	proxy.stall()
	asked := time.Now()
	id := h.srv.SendText(p.chat, p.user, "/help")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	sorry, err := h.srv.WaitFor(ctx, func(s bottest.Sent) bool {
		return s.ChatID == p.chat.ID && strings.Contains(s.Text, "سامانه موقتاً در دسترس نیست")
	})
	if err != nil {
		t.Fatalf("no unavailable message: %v\nlogs:\n%s", err, r.logs.String())
	}
	if got := sorry.At.Sub(asked); got > 5*time.Second {
		t.Errorf("the unavailable message came after %v, want within 5s", got)
	}
	if code, body := get(t, base+"/readyz"); code != 503 {
		t.Errorf("/readyz while Redis hangs = %d %q, want 503", code, body)
	}
	if !strings.Contains(r.logs.String(), "level=ERROR") {
		t.Errorf("no error logged while Redis hangs:\n%s", r.logs.String())
	}
	if _, body := get(t, base+"/metrics"); !strings.Contains(body, `mahalle_poll_errors_total{platform="tg",reason="queue"}`) {
		t.Errorf("/metrics counts no queue failure")
	}

	proxy.resume()
	got := p.wait(id)
	expect(t, got, "راهنمای «محله»")
	if n := countSent(h.srv.SentTo(p.chat.ID), "سامانه موقتاً در دسترس نیست"); n != 1 {
		t.Errorf("the unavailable message was sent %d times, want once", n)
	}
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz after Redis came back = %d, want 200", code)
	}
}

// TestPostgresHung stalls PostgreSQL behind a proxy in the middle of a
// flow: the person hears the unavailable message within the handler's
// deadline, and once the database answers the step they took is applied.
// It needs TEST_DATABASE_URL (SQLite is a file, it cannot hang this way).
func TestPostgresHung(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("TEST_DATABASE_URL is not set: no PostgreSQL to hang")
	}
	h := newHarness(t)
	u, err := url.Parse(h.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	proxy := newStallProxy(t, u.Host)
	u.Host = proxy.addr()
	h.env["DATABASE_URL"] = u.String()
	h.env["HANDLER_TIMEOUT"] = "1s"
	r := h.start()
	base := opsBase(t, r)
	p := h.person(6102)
	p.say("/start")
	expect(t, p.press("ارسال پیشنهاد"), "مرحله ۱ از ۹")

	proxy.stall()
	asked := time.Now()
	id := p.pressID("مرکزی")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	sorry, err := h.srv.WaitFor(ctx, func(s bottest.Sent) bool {
		return s.ChatID == p.chat.ID && strings.Contains(s.Text, "سامانه موقتاً در دسترس نیست")
	})
	if err != nil {
		t.Fatalf("no unavailable message: %v\nlogs:\n%s", err, r.logs.String())
	}
	if got := sorry.At.Sub(asked); got > 5*time.Second {
		t.Errorf("the unavailable message came after %v, want within 5s", got)
	}
	if code, body := get(t, base+"/readyz"); code != 503 {
		t.Errorf("/readyz while PostgreSQL hangs = %d %q, want 503", code, body)
	}
	if _, body := get(t, base+"/metrics"); !strings.Contains(body, `reason="retry_timeout"`) {
		t.Errorf("/metrics counts no handler timeout")
	}
	proxy.resume()
	expect(t, p.wait(id), "کدام شهرستان")
}
