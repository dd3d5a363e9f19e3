package main

import (
	"context"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/bot/bottest"
)

func TestStartHelpUnknown(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(101)

	got := p.say("/start")
	expect(t, got, "به «محله» خوش آمدید")
	last := got[len(got)-1]
	var labels []string
	for _, row := range last.Inline {
		for _, b := range row {
			labels = append(labels, b.Text)
		}
	}
	if want := "کارهای شورای محله|اعضای شورا|ارسال پیشنهاد|پیشنهادهای من|پیگیری پیشنهاد|محلهٔ من|عضو شورا هستم|راهنما"; strings.Join(labels, "|") != want {
		t.Errorf("main menu = %q, want %q", strings.Join(labels, "|"), want)
	}

	expect(t, p.say("/help"), "راهنمای «محله»", "/cancel")
	expect(t, p.say("/frobnicate"), "این دستور را نمی‌شناسم", "/start")
	expect(t, p.say("سلام"), "یکی از گزینه‌های منو")
	expect(t, p.press("راهنما"), "راهنمای «محله»")
	noEnglish(t, h.srv.SentTo(p.chat.ID))
}

func TestGroupGetsOnePointerAndSilence(t *testing.T) {
	h := newHarness(t)
	h.start()
	group := bottest.Group(-100500, "گروه محله")
	_, member := bottest.Private(202)

	id := h.srv.BotAdded(group, member)
	id2 := h.srv.SendText(group, member, "سلام به همه")
	id3 := h.srv.SendText(group, member, "/start@mahalle_test_bot")
	id4 := h.srv.SendText(group, member, "/start@some_other_bot")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for _, u := range []int{id, id2, id3, id4} {
		if err := h.settle(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	got := h.srv.SentTo(group.ID)
	if len(got) != 1 {
		t.Fatalf("the bot sent %d messages to the group, want 1 (none for the other bot's command):\n%s", len(got), dump(got))
	}
	if !strings.Contains(got[0].Text, "گفتگوی خصوصی") {
		t.Errorf("group answer = %q, want a pointer to the private chat", got[0].Text)
	}
	if len(got[0].Inline) != 1 || !strings.Contains(got[0].Inline[0][0].URL, "mahalle_test_bot") {
		t.Errorf("group answer has no link to the bot: %s", got[0])
	}
}

// 200 updates from 50 chats arrive at once: every chat gets every reply, in
// the order it wrote.
func TestManyChatsInOrder(t *testing.T) {
	h := newHarness(t)
	h.start()
	const chats, each = 50, 4
	script := []struct{ say, reply string }{
		{"/start", "خوش آمدید"},
		{"/help", "راهنمای «محله»"},
		{"/nonsense", "این دستور را نمی‌شناسم"},
		{"/menu", "از منوی زیر"},
	}
	last := 0
	for i := 0; i < each; i++ {
		for c := 0; c < chats; c++ {
			chat, user := bottest.Private(int64(1000 + c))
			last = h.srv.SendText(chat, user, script[i].say)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := h.settle(ctx, last); err != nil {
		t.Fatal(err)
	}
	for c := 0; c < chats; c++ {
		got := h.srv.SentTo(int64(1000 + c))
		if len(got) != each {
			t.Fatalf("chat %d got %d replies, want %d:\n%s", c, len(got), each, dump(got))
		}
		for i, s := range got {
			if !strings.Contains(s.Text, script[i].reply) {
				t.Errorf("chat %d reply %d = %q, want it to contain %q", c, i, s.Text, script[i].reply)
			}
		}
	}
}

func TestUnauthorizedTokenExits(t *testing.T) {
	h := newHarness(t, bottest.WithToken("999999:SomeOtherTokenXYZ"))
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	var out syncBuffer
	code := run(ctx, nil, testSystem(h.env, &out, &out))
	if code != exitFail {
		t.Errorf("exit code = %d, want %d", code, exitFail)
	}
	if !strings.Contains(out.String(), "refused") || !strings.Contains(out.String(), "TELEGRAM_TOKEN") {
		t.Errorf("output does not say the token was refused:\n%s", out.String())
	}
	if strings.Contains(out.String(), goodToken) || strings.Contains(out.String(), "AAFakeToken") {
		t.Errorf("the token leaked into the output:\n%s", out.String())
	}
}

func TestTokenNeverLogged(t *testing.T) {
	h := newHarness(t)
	// A dropped connection makes net/http return an error whose URL holds
	// the token; a 502 makes the sender log a retry.
	h.srv.FailNext("sendMessage", 1, bottest.Fault{DropConnection: true})
	h.srv.FailNext("sendMessage", 1, bottest.Fault{Code: 502})
	r := h.start()
	p := h.person(303)
	expect(t, p.say("/start"), "خوش آمدید")
	if code := r.stop(t); code != exitOK {
		t.Errorf("exit code after stop = %d, want 0", code)
	}
	logs := r.logs.String()
	if strings.Contains(logs, goodToken) || strings.Contains(logs, "AAFakeToken") {
		t.Errorf("the token appears in the logs:\n%s", logs)
	}
	for _, want := range []string{"backends", "update_id"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q", want)
		}
	}
}
