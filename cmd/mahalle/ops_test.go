package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var addrPattern = regexp.MustCompile(`msg="health and metrics" addr=(\S+)`)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestHealthReadyMetrics(t *testing.T) {
	h := newHarness(t)
	r := h.start()
	m := addrPattern.FindStringSubmatch(r.logs.String())
	if m == nil {
		t.Fatalf("no listen address in the logs:\n%s", r.logs.String())
	}
	base := "http://" + m[1]
	p := h.person(6001)
	p.say("/start")
	p.press("ارسال پیشنهاد")

	if code, body := get(t, base+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != 200 || !strings.Contains(body, "ready") {
		t.Errorf("/readyz = %d %q", code, body)
	}
	code, body := get(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`mahalle_updates_received_total{kind="message",platform="tg"} 1`,
		`mahalle_updates_handled_total{kind="callback_query",platform="tg"} 1`,
		`mahalle_sends_total{method="sendMessage",platform="tg",result="ok"}`,
		`mahalle_update_handle_seconds_bucket`,
		`mahalle_redis_roundtrips_total`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// A person who blocked the bot is marked unreachable when a send gets 403,
// not retried, and cleared when they start the bot again.
func TestBlockedPersonMarkedAndCleared(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(6002)
	p.say("/start")
	h.srv.Block(p.chat.ID)
	before := h.srv.Calls("sendMessage")
	p.say("/help")
	if got := h.srv.Calls("sendMessage") - before; got != 1 {
		t.Errorf("sendMessage calls to a blocked chat = %d, want 1 (no retry)", got)
	}
	store := h.openStore()
	ctx := context.Background()
	id, err := store.Identity(ctx, "tg", p.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if id.BlockedAt == nil {
		t.Fatalf("identity not marked unreachable: %+v", id)
	}
	h.srv.Unblock(p.chat.ID)
	p.wait(h.srv.BotAdded(p.chat, p.user))
	id, err = store.Identity(ctx, "tg", p.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if id.BlockedAt != nil {
		t.Errorf("still marked unreachable after restarting the bot: %+v", id)
	}
	expect(t, p.say("/start"), "خوش آمدید")
}
