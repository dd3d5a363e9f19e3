package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/models"
)

// TestCouncilDigestEndToEnd: residents comment on and confirm a verified
// action of the council; a day later (the bot restarted with its clock
// moved on) the chair gets one digest with the counts and the oldest
// first, from the bot's own scheduler and outbox.
func TestCouncilDigestEndToEnd(t *testing.T) {
	h := newHarness(t)
	h.env["NOTICE_INTERVAL"] = "20ms"
	h.env["QUIET_HOURS"] = "none"
	if code, out, errOut := runRoster(t, h.env, "import", writeRoster(t, testRoster)); code != exitOK {
		t.Fatalf("roster import exit %d:\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := runStaff(t, h.env, "add", "09350000002", "county", "اراک"); code != exitOK {
		t.Fatalf("staff add exit %d:\n%s\n%s", code, out, errOut)
	}
	r := h.start()
	chair := h.person(7801)
	chair.register("+989121111111")
	coord := h.person(7802)
	coord.register("+989350000002")
	code := actionCodeOf(t, h, chair, "تعمیر نیمکت‌های پارک")

	store := h.openStore()
	store.Now = h.clock.Now
	ctx := context.Background()
	a, err := store.ActionByCode(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	v, err := store.Viewer(ctx, "tg", coord.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.DecideAction(ctx, v, a.ID, models.DecideVerify, ""); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Minute)
	if err := store.AddComment(ctx, &models.Comment{Key: "e2e-c1", ActionID: a.ID, Platform: "tg", UserID: 7899, Text: "نیمکت‌ها خیلی خوب شد"}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Minute)
	if err := store.Confirm(ctx, &models.Confirmation{ActionID: a.ID, Platform: "tg", UserID: 7898, Answer: models.ConfirmPartly}); err != nil {
		t.Fatal(err)
	}

	// The scheduler ticks as the bot starts: the digest goes out.
	r.stop(t)
	h.clock.Advance(time.Minute)
	r = h.start()
	n := waitNotice(t, h.srv, chair.chat.ID, "خلاصهٔ روزانهٔ شورای پیشرفت محله نمونه ۱ اراک: ۱ نظر و ۱ تأیید")
	if i, j := strings.Index(n.Text, "نیمکت‌ها خیلی خوب شد"), strings.Index(n.Text, "تأیید «تا حدی»"); i < 0 || j < i {
		t.Errorf("digest = %q, want the comment, then the confirmation", n.Text)
	}
	if len(n.Inline) != 1 || n.Inline[0][0].Text != "اقدام‌های شورا" {
		t.Errorf("digest buttons = %+v", n.Inline)
	}
	expect(t, chair.press("اقدام‌های شورا"), "تعمیر نیمکت‌های پارک")
	noEnglish(t, h.srv.SentTo(chair.chat.ID))
	_ = r
}
