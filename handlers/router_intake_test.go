package handlers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/bot"
	"github.com/mahalle/mahalle/conversations"
)

// attemptCtx is the context the dispatcher gives attempt n at one update;
// the attempts share delivered.
func attemptCtx(n int, delivered *bot.Delivered) context.Context {
	ctx := bot.WithAttempt(context.Background(), n)
	return bot.WithDelivered(ctx, delivered)
}

// A retry of an update whose first attempt failed on its last message sends
// only that message: the callback answer and the edit already reached the
// person.
func TestRetrySendsOnlyWhatWasNotDelivered(t *testing.T) {
	rec := &recorder{fail: map[int]error{1: errors.New("bot: sendMessage: 502 Bad Gateway")}}
	conv := &scripted{outs: []conversations.Out{
		{AnswerCallback: "cb7"},
		{Edit: 55, Text: "مرحله ۱: پاسخ شما ثبت شد"},
		{Text: "مرحله ۲ از ۹", Prompt: true},
	}}
	r := NewRouter(Config{Senders: map[bot.Platform]Sender{bot.Telegram: rec}, Conversations: conv})
	u := private("")
	u.Kind, u.Callback = bot.KindCallback, &bot.Callback{ID: "cb7", Data: "x"}
	delivered := &bot.Delivered{}
	if err := r.Handle(attemptCtx(1, delivered), u); err == nil {
		t.Fatal("first attempt: the failed send was not reported for a retry")
	}
	if err := r.Handle(attemptCtx(2, delivered), u); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	if got := strings.Join(rec.answered, ","); got != "cb7:" {
		t.Errorf("callback answers = %q, want one", got)
	}
	var edits, sends int
	for _, m := range rec.sent {
		if m.EditMessageID != 0 {
			edits++
		} else {
			sends++
		}
	}
	if edits != 1 || sends != 2 {
		t.Errorf("edits = %d, sends = %d; want the edit once and the failed message tried twice", edits, sends)
	}
}

// A backend that does not answer in time gets the person the unavailable
// message on the first attempt only, and the update is handed back for a retry.
func TestUnavailableSaidOnce(t *testing.T) {
	rec := &recorder{}
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("i/o timeout")}
	conv := &scripted{err: fmt.Errorf("conversations: load: %w", timeout)}
	r := NewRouter(Config{Senders: map[bot.Platform]Sender{bot.Telegram: rec}, Conversations: conv})
	delivered := &bot.Delivered{}
	for n := 1; n <= 3; n++ {
		if err := r.Handle(attemptCtx(n, delivered), private("سلام")); err == nil {
			t.Fatalf("attempt %d: the update was not handed back for a retry", n)
		}
	}
	if len(rec.sent) != 1 || !strings.HasPrefix(rec.sent[0].Text, "سامانه موقتاً در دسترس نیست") {
		t.Errorf("sent %+v, want the unavailable message once", rec.sent)
	}
}

// A button on an inline-mode message has no chat: it is answered, nothing else.
func TestInlineCallbackAnswered(t *testing.T) {
	rec := &recorder{}
	r := NewRouter(Config{Senders: map[bot.Platform]Sender{bot.Telegram: rec}, Conversations: &scripted{}})
	u := bot.Update{Platform: bot.Telegram, ID: 9, Kind: bot.KindCallback, From: bot.User{ID: 42},
		Callback: &bot.Callback{ID: "inl", Data: "x"}}
	if err := r.Handle(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if len(rec.answered) != 1 || len(rec.sent) != 0 {
		t.Errorf("answered %v, sent %v; want one answer and no message", rec.answered, rec.sent)
	}
}
