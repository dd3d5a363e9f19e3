package main

import (
	"context"
	"testing"

	"github.com/mahalle/mahalle/bot/bottest"
)

// TestBotAPIFailingSends makes the Bot API answer 502 to the next 60
// sendMessage calls, as for a 15-second outage under load (a count of
// failed requests instead of a clock), while five people start the bot and
// one of them is mid-flow: after the API recovers every person gets their
// reply, once, and the flow is where their press put it.
func TestBotAPIFailingSends(t *testing.T) {
	h := newHarness(t)
	h.start()
	walker := h.person(6200)
	walker.say("/start")
	h.srv.FailNext("sendMessage", 60, bottest.Fault{Code: 502})
	h.srv.FailNext("editMessageText", 60, bottest.Fault{Code: 502})

	ids := map[*person]int{}
	for i := range 5 {
		p := h.person(int64(6201 + i))
		ids[p] = h.srv.SendText(p.chat, p.user, "/start")
	}
	pressed := walker.pressID("ارسال پیشنهاد")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for p, id := range ids {
		if err := h.settle(ctx, id); err != nil {
			t.Fatal(err)
		}
		got := p.wait(id)
		if n := countSent(got, "خوش آمدید"); n != 1 {
			t.Errorf("person %d got the welcome %d times after the outage, want once:\n%s", p.chat.ID, n, dump(got))
		}
	}
	expect(t, walker.wait(pressed), "مرحله ۱ از ۹")
	if st := h.convState(walker); st.Step == "" {
		t.Errorf("the walker's flow was lost: state %+v", st)
	}
	if got := h.srv.Calls("sendMessage"); got < 60 {
		t.Errorf("only %d sendMessage calls: the outage was not exercised", got)
	}
}
