package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// TestEscalationAcrossRestarts: a suggestion nobody answers and an action
// nobody reviews, with the bot stopped and started again between the steps
// and its clock moved forward while it was down. The state is in the
// database: each step alerts once, a restart at the same time alerts
// nothing again, and steps that fell due while the bot was down all fire
// at the next start.
func TestEscalationAcrossRestarts(t *testing.T) {
	h := newHarness(t)
	h.env["NOTICE_INTERVAL"] = "20ms"
	h.env["QUIET_HOURS"] = "none"
	if code, out, errOut := runRoster(t, h.env, "import", writeRoster(t, testRoster)); code != exitOK {
		t.Fatalf("roster import exit %d:\n%s\n%s", code, out, errOut)
	}
	for _, args := range [][]string{{"add", "09350000002", "county", "اراک"}, {"add", "09350000003", "province", "مرکزی"}} {
		if code, out, errOut := runStaff(t, h.env, args...); code != exitOK {
			t.Fatalf("staff %v exit %d:\n%s\n%s", args, code, out, errOut)
		}
	}
	r := h.start()
	county, province := h.person(7702), h.person(7703)
	county.register("+989350000002")
	province.register("+989350000003")
	member := h.person(7704)
	member.register("+989123333333") // zahra, civil works, arak 1
	actCode := actionCodeOf(t, h, member, "تعمیر نیمکت‌های پارک")

	resident := h.person(7705)
	resident.say("/start")
	resident.toTopic()
	resident.press("امور فرهنگی")
	resident.say("کتابخانهٔ محله ساعت کاری کوتاهی دارد")
	resident.say("رد کردن")
	resident.press("رد کردن")
	resident.press("بی‌نام")
	sgCode := codePattern.FindString(lastTextWith(resident.press("تأیید و ارسال"), "کد پیگیری"))
	if sgCode == "" || actCode == "" {
		t.Fatalf("codes: suggestion %q, action %q", sgCode, actCode)
	}

	store := h.openStore()
	overdue := func(chat int64, code string) int {
		t.Helper()
		n := 0
		for _, s := range h.srv.SentTo(chat) {
			if s.Method == "sendMessage" && strings.Contains(s.Text, code) &&
				(strings.Contains(s.Text, "بی‌پاسخ مانده است") || strings.Contains(s.Text, "در انتظار بررسی است")) {
				n++
			}
		}
		return n
	}
	rows := func(kind string) int {
		t.Helper()
		ns, err := store.Notices(context.Background(), models.NoticeFilter{Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		return len(ns)
	}
	// sentinel stores a suggestion (in another council) whose clock
	// started over three days before the bot's now: the next start's tick
	// raises it to the county, after the older items (by id), so its alert
	// says that tick has run.
	places, err := store.SearchPlaces(context.Background(), persian.SearchKey("محله نمونه ۲ اراک"), 1)
	if err != nil || len(places) != 1 {
		t.Fatalf("place: %+v, %v", places, err)
	}
	committees, err := store.Committees(context.Background(), places[0].ProvinceID)
	if err != nil || len(committees) == 0 {
		t.Fatalf("committees: %v", err)
	}
	sentinels := 0
	sentinel := func() string {
		t.Helper()
		sentinels++
		store.Now = func() time.Time { return h.clock.Now().Add(-3*24*time.Hour - time.Hour) }
		sg := models.Suggestion{Key: "sentinel-" + strings.Repeat("x", sentinels), Platform: "tg", UserID: 9900,
			PlaceID: places[0].ID, CommitteeID: committees[0].ID, Text: "نشانهٔ آزمون برای پایان یک نوبت"}
		if err := store.CreateSuggestion(context.Background(), &sg); err != nil {
			t.Fatal(err)
		}
		return sg.Code
	}
	restart := func(advance time.Duration) {
		t.Helper()
		if code := r.stop(t); code != exitOK {
			t.Fatalf("the bot exited %d\nlogs:\n%s", code, r.logs.String())
		}
		h.clock.Advance(advance)
		r = h.start()
	}

	// Two days: nothing is due.
	restart(2 * 24 * time.Hour)
	// Three days and a minute: the county hears of the suggestion.
	restart(24*time.Hour + time.Minute)
	waitNotice(t, h.srv, county.chat.ID, "پیشنهاد "+sgCode)
	// Down again and up at the same time: the step is not raised again.
	mark := sentinel()
	restart(0)
	waitNotice(t, h.srv, county.chat.ID, "پیشنهاد "+mark)
	// Down for five more days (day 8): the action's reminder (due on day
	// 5) and the province's step (due on day 7) both fell due while the bot
	// was down; neither is skipped.
	restart(5 * 24 * time.Hour)
	waitNotice(t, h.srv, county.chat.ID, "اقدام «تعمیر نیمکت‌های پارک» (کد "+actCode+")")
	waitNotice(t, h.srv, province.chat.ID, "پیشنهاد "+sgCode)
	// One more restart later still: nothing new.
	restart(24 * time.Hour)
	mark = sentinel()
	restart(0)
	waitNotice(t, h.srv, county.chat.ID, "پیشنهاد "+mark)

	if got := overdue(county.chat.ID, sgCode); got != 1 {
		t.Errorf("the county heard of %s %d times, want once:\n%s", sgCode, got, dump(h.srv.SentTo(county.chat.ID)))
	}
	if got := overdue(county.chat.ID, actCode); got != 1 {
		t.Errorf("the county was reminded of %s %d times, want once", actCode, got)
	}
	if got := overdue(province.chat.ID, sgCode); got != 1 {
		t.Errorf("the province heard of %s %d times, want once:\n%s", sgCode, got, dump(h.srv.SentTo(province.chat.ID)))
	}
	if got := overdue(province.chat.ID, actCode); got != 0 {
		t.Errorf("the province was reminded of the action %d times; the reminder is the county's", got)
	}
	if s, a := rows(models.KindSuggestionOverdue), rows(models.KindActionOverdue); s != 5 || a != 1 {
		// The suggestion's two steps, the first sentinel's two (it was
		// seven days old on day 8), the second's one.
		t.Errorf("outbox rows: %d suggestion_overdue, %d action_overdue; want 5 and 1", s, a)
	}
	sg, err := store.SuggestionByCode(context.Background(), sgCode)
	if err != nil || sg.Escalated != 2 {
		t.Errorf("suggestion escalation level = %d, %v; want 2", sg.Escalated, err)
	}
	noEnglish(t, h.srv.SentTo(county.chat.ID))
	noEnglish(t, h.srv.SentTo(province.chat.ID))
}
