package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/persian"
)

// toLocation walks a suggestion to its location step (the 📍 keyboard).
func (p *person) toLocation() {
	p.t.Helper()
	p.toTopic()
	p.press("محیط زیست")
	expect(p.t, p.say("جوی آب کوچه اصلی پر از زباله است"), "موقعیت")
	if p.srv.Keyboard(p.chat.ID) == nil {
		p.t.Fatalf("no location keyboard at the location step")
	}
}

// The bugs of issue 7's list, each as a person meets it.
func TestFlowBugs(t *testing.T) {
	t.Run("the 📍 keyboard goes with /menu and comes back with «ادامه»", func(t *testing.T) {
		h := newHarness(t)
		h.start()
		p := h.person(4301)
		p.say("/start")
		p.toLocation()
		expect(t, p.say("/menu"), "پیش‌نویس شما نگه داشته شد")
		if kb := h.srv.Keyboard(p.chat.ID); kb != nil {
			t.Errorf("keyboard left after /menu: %+v", kb)
		}
		expect(t, p.press("ادامهٔ"), "موقعیت")
		if h.srv.Keyboard(p.chat.ID) == nil {
			t.Errorf("no location keyboard after resuming at the location step")
		}
		expect(t, p.say("/cancel"), "لغو شد")
		if kb := h.srv.Keyboard(p.chat.ID); kb != nil {
			t.Errorf("keyboard left after /cancel: %+v", kb)
		}
	})

	t.Run("the 📍 keyboard goes at expiry, and the answer typed then is kept", func(t *testing.T) {
		h := newHarness(t)
		h.start()
		p := h.person(4302)
		p.say("/start")
		p.toTopic()
		p.press("محیط زیست")
		h.clock.Advance(25 * time.Hour)
		const body = "جوی آب کوچه اصلی پر از زباله است"
		got := p.say(body)
		expect(t, got, "منقضی شد", "نگه داشته شد")
		got = p.press("ادامهٔ پیش‌نویس")
		expect(t, got, "موقعیت") // the kept text answered the text step
		h.clock.Advance(25 * time.Hour)
		expect(t, p.say("چیزی"), "منقضی شد")
		if kb := h.srv.Keyboard(p.chat.ID); kb != nil {
			t.Errorf("keyboard left after expiry: %+v", kb)
		}
		p.press("ادامهٔ پیش‌نویس")
		p.say("رد کردن")
		p.press("رد کردن")
		expect(t, p.press("بی‌نام"), "خلاصهٔ", body)
	})

	t.Run("no bare ✔️ message, and a re-asked prompt leaves no live buttons above", func(t *testing.T) {
		h := newHarness(t)
		h.start()
		p := h.person(4303)
		p.say("/start")
		p.press("ارسال پیشنهاد")
		first, _ := p.button("مرکزی")
		p.say("متنی که دکمه نیست، بلکه یک جملهٔ بلند است که به جستجو هم نمی‌خورد و بیش از شصت حرف دارد تا رد شود")
		if m, _ := h.srv.Message(p.chat.ID, first); len(m.Inline) != 0 {
			t.Errorf("the prompt asked again below still has live buttons above")
		}
		p.press("مرکزی")
		p.press("اراک")
		p.press("محله نمونه ۱ اراک")
		p.press("محیط زیست")
		p.say("جوی آب کوچه اصلی پر از زباله است")
		p.wait(h.srv.SendLocation(p.chat, p.user, 34.09, 49.69))
		for i := 0; i < 3; i++ {
			p.wait(h.srv.SendPhoto(p.chat, p.user, "", ""))
		}
		for _, s := range h.srv.SentTo(p.chat.ID) {
			if strings.TrimSpace(s.Text) == "✔️" {
				t.Errorf("a bare ✔️ was sent: %s", s)
			}
		}
	})

	t.Run("an album over the photo limit gets one message, and the summary counts what is stored", func(t *testing.T) {
		h := newHarness(t)
		h.start()
		p := h.person(4304)
		p.say("/start")
		p.toLocation()
		p.say("رد کردن")
		p.wait(h.srv.SendPhoto(p.chat, p.user, "", ""))
		warned := 0
		for i := 0; i < 10; i++ {
			for _, s := range p.wait(h.srv.SendPhoto(p.chat, p.user, "", "big")) {
				if strings.Contains(s.Text, "حداکثر ۳ عکس") {
					warned++
				}
			}
		}
		if warned != 1 {
			t.Errorf("the album over the limit was told %d times, want once", warned)
		}
		p.press("تمام")
		got := p.press("بی‌نام")
		expect(t, got, "عکس: ۳ عکس")
		got = p.press("تأیید و ارسال")
		code := codePattern.FindString(lastTextWith(got, "کد پیگیری"))
		sg, err := h.openStore().SuggestionByCode(context.Background(), code)
		if err != nil || len(sg.PhotoFileIDs) != 3 {
			t.Errorf("stored photos = %d, %v; want the 3 the summary showed", len(sg.PhotoFileIDs), err)
		}
	})
}

// With the in-process Redis, a draft survives a restart: it is kept under
// DATA_DIR at shutdown (and every minute) and read back at start.
func TestEmbeddedRedisKeepsDrafts(t *testing.T) {
	h := newHarness(t)
	delete(h.env, "REDIS_URL")
	r := h.start()
	p := h.person(4305)
	p.say("/start")
	p.toTopic()
	if code := r.stop(t); code != exitOK {
		t.Fatalf("exit = %d", code)
	}
	if _, err := os.Stat(filepath.Join(h.env["DATA_DIR"], snapshotFile)); err != nil {
		t.Fatalf("no snapshot under DATA_DIR: %v", err)
	}
	h.start()
	expect(t, p.press("عمران"), "مرحله ۵ از ۹", "پیشنهاد، شکایت یا نظر")
}

// An action's history is paged: after seven updates its page shows the
// newest five and says how many older ones there are.
func TestActionHistoryPaged(t *testing.T) {
	h := memberHarness(t)
	m := h.person(4306)
	m.register("09121111111")
	reportQuick(t, h, m, "نصب چراغ در کوچهٔ سوم")
	for i := 1; i <= 7; i++ {
		m.say("/actions")
		m.press("نصب چراغ")
		m.press("افزودن پیشرفت")
		m.say(strconv.Itoa(i * 10))
		m.say("گزارش شمارهٔ " + persian.Digits(strconv.Itoa(i)) + " از کار")
		m.press("رد کردن")
		expect(t, m.press("تأیید و ارسال"), "پیشرفت ثبت شد")
	}
	m.say("/actions")
	got := lastText(m.press("نصب چراغ"))
	if !strings.Contains(got, "۲ به‌روزرسانی قدیمی‌تر") || !strings.Contains(got, "گزارش شمارهٔ ۷") ||
		strings.Contains(got, "گزارش شمارهٔ ۱ ") || strings.Contains(got, "گزارش شمارهٔ ۲ ") {
		t.Errorf("the action's page:\n%s", got)
	}
}
