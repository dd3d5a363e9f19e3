package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
)

// TestNoHeadOfLineBlocking floods the bot from one private chat (30
// messages) and one group (30 commands) under Telegram's one message a
// second per chat, then another person asks for /help: the answer must
// reach them within a second, while the floods are still being worked off.
// The latency is measured on the fake Bot API's own clock: from just before
// the update was queued there to the moment the reply was recorded.
func TestNoHeadOfLineBlocking(t *testing.T) {
	// The fake Bot API answers 429 past Telegram's limits, as Telegram
	// does: without them a fast bot works the floods off before /help
	// arrives, and the test measures nothing.
	h := newHarness(t, bottest.WithChatLimits(bottest.ChatLimits{}))
	h.env["SEND_RATE_PER_CHAT"] = "1"
	h.start()

	flooder := h.person(6001)
	group := bottest.Group(-6002, "گروه محله")
	_, groupUser := bottest.Private(6004)
	for i := range 30 {
		h.srv.SendText(flooder.chat, flooder.user, fmt.Sprintf("پیام شمارهٔ %d", i))
		h.srv.SendText(group, groupUser, "/start")
	}
	// Both floods are being answered before the third person writes.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if _, err := h.srv.WaitSent(ctx, flooder.chat.ID, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := h.srv.WaitSent(ctx, group.ID, 1); err != nil {
		t.Fatal(err)
	}

	asker := h.person(6003)
	asked := time.Now()
	h.srv.SendText(asker.chat, asker.user, "/help")
	sent, err := h.srv.WaitSent(ctx, asker.chat.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, sent, "راهنمای «محله»")
	if got := sent[0].At.Sub(asked); got > time.Second {
		t.Errorf("/help answered after %v behind the floods, want within 1s", got)
	}
	if n := len(h.srv.SentTo(flooder.chat.ID)); n >= 30 {
		t.Errorf("the flooding chat already had all %d replies: the test measured nothing", n)
	}
	if n := len(h.srv.SentTo(group.ID)); n >= 30 {
		t.Errorf("the group already had all %d replies: the test measured nothing", n)
	}
	t.Logf("/help answered after %v; the flooding chat had %d replies, the group %d",
		sent[0].At.Sub(asked), len(h.srv.SentTo(flooder.chat.ID)), len(h.srv.SentTo(group.ID)))
}
