package main

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/models"
)

var codePattern = regexp.MustCompile(`S-[23456789ACDEFGHJKMNPQRTUVWXYZ]{5}`)

// openStore opens the bot's own database, to check what it holds.
func (h *harness) openStore() *models.Store {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	s, err := models.Open(ctx, h.env["DATABASE_URL"], h.env["DATA_DIR"], slog.New(slog.DiscardHandler))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = s.Close() })
	return s
}

// toTopic walks from the menu to the topic step by browsing.
func (p *person) toTopic() {
	p.t.Helper()
	expect(p.t, p.press("ارسال پیشنهاد"), "مرحله ۱ از ۹", "کدام استان")
	expect(p.t, p.press("مرکزی"), "کدام شهرستان")
	expect(p.t, p.press("اراک"), "محله یا روستای خود")
	expect(p.t, p.press("محله نمونه ۱ اراک"), "موضوع پیشنهاد شما")
}

func TestSuggestionEndToEnd(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(4001)
	p.say("/start")
	p.toTopic()
	got := p.press("محیط زیست")
	expect(t, got, "✔️ موضوع: محیط زیست")
	expect(t, got, "مرحله ۵ از ۹", "پیشنهاد، شکایت یا نظر")

	// Wrong kinds of input at a text step: asked again, nothing lost.
	expect(t, p.wait(h.srv.SendSticker(p.chat, p.user)), "پیام متنی یا یک پیام صوتی لازم است", "مرحله ۵ از ۹")
	expect(t, p.say("کوتاه"), "دست‌کم ۱۰ و حداکثر ۲۰۰۰ حرف", "(متن شما ۵ حرف بود)")
	expect(t, p.say(strings.Repeat("ب", 10000)), "حداکثر ۲۰۰۰ حرف")
	expect(t, p.wait(h.srv.ForwardText(p.chat, p.user, "متن بازارسال شده از جای دیگر")), "بازارسال‌شده پذیرفته نمی‌شود")

	expect(t, p.say("جوي آب كوچه اصلی پر از زباله است"), "مرحله ۶ از ۹", "موقعیت")
	got = p.wait(h.srv.SendLocation(p.chat, p.user, 34.09, 49.69))
	expect(t, got, "مرحله ۷ از ۹", "عکس")
	// The 📍 keyboard goes away with a message that says something.
	expect(t, got, "✔️ موقعیت: 📍 موقعیت ثبت شد")
	if kb := h.srv.Keyboard(p.chat.ID); kb != nil {
		t.Errorf("the location keyboard is still on screen: %+v", kb)
	}
	// An album of two photos: acknowledged once, then «تمام».
	p.wait(h.srv.SendPhoto(p.chat, p.user, "", "album-1"))
	got = p.wait(h.srv.SendPhoto(p.chat, p.user, "", "album-1"))
	if len(got) != 0 {
		t.Errorf("the second photo of an album got %d replies, want 0:\n%s", len(got), dump(got))
	}
	expect(t, p.press("تمام"), "مرحله ۸ از ۹", "با نام شما")
	expect(t, p.press("با نام من"), "مرحله ۹ از ۹", "نام خود")
	expect(t, p.say("مریم رضایی"), "خلاصهٔ «ارسال پیشنهاد»", "محله نمونه ۱ اراک", "۲ عکس", "مریم رضایی")

	// Edit from the summary: back to the summary afterwards.
	expect(t, p.press("✏️ متن"), "پاسخ فعلی: جوی آب کوچه اصلی")
	got = p.say("جوی آب کوچه اصلی پر از زباله است و بوی بد می‌دهد")
	expect(t, got, "خلاصهٔ «ارسال پیشنهاد»", "بوی بد می‌دهد")

	got = p.press("تأیید و ارسال")
	// Nobody is on the council or appointed yet: the receipt says so, and
	// that it waits for the first coordinator.
	expect(t, got, "کد پیگیری", "هنوز کسی از شورای این محله یا هماهنگ‌کنندگان در ربات نیست", "نخستین هماهنگ‌کننده")
	if strings.Contains(dump(got), "به شورای محله می‌رسد") {
		t.Errorf("the receipt says the suggestion reaches a council nobody is on:\n%s", dump(got))
	}
	code := codePattern.FindString(lastTextWith(got, "کد پیگیری"))
	if code == "" {
		t.Fatalf("no tracking code in:\n%s", dump(got))
	}
	expect(t, got, "از منوی زیر")
	noEnglish(t, h.srv.SentTo(p.chat.ID))

	store := h.openStore()
	sg, err := store.SuggestionByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	if sg.Text != "جوی آب کوچه اصلی پر از زباله است و بوی بد می‌دهد" || sg.Anonymous || sg.SenderName != "مریم رضایی" ||
		len(sg.PhotoFileIDs) != 2 || sg.Lat == nil || sg.UserID != 4001 || sg.Platform != "tg" {
		t.Errorf("stored suggestion = %+v", sg)
	}

	// Tracking by code.
	p.press("پیگیری پیشنهاد")
	expect(t, p.say(strings.ToLower(code)), code, "در انتظار بررسی")
	expect(t, p.press("پیگیری پیشنهاد"), "کد پیگیری")
	expect(t, p.say("S-22222"), "پیدا نشد")
}

func TestSuggestionSearchBackCancel(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(4002)
	p.say("/start")
	expect(t, p.press("ارسال پیشنهاد"), "کدام استان")
	// Typing searches; Arabic letters and digits are normalised first.
	expect(t, p.say("نمونه ۲ ساوه"), "محله یا روستای خود")
	expect(t, p.press("نمونه ۲ ساوه"), "موضوع پیشنهاد شما")
	expect(t, p.say("/back"), "به مرحلهٔ قبل برگشتید", "پاسخ فعلی: محله نمونه ۲ ساوه")
	expect(t, p.press("نمونه ۲ ساوه"), "موضوع پیشنهاد شما")
	p.press("بهداشت")
	expect(t, p.say("/back"), "پاسخ فعلی: بهداشت و درمان")
	expect(t, p.say("متن بی ربط"), "لطفاً یکی از دکمه‌ها")
	// /back at the first step says so.
	p.say("/back")
	p.say("/back")
	expect(t, p.say("/back"), "نخستین مرحله")
	expect(t, p.say("/cancel"), "لغو شد")
	expect(t, p.say("/cancel"), "گفتگویی در جریان نیست")

	store := h.openStore()
	if n, err := store.CountSuggestions(context.Background()); err != nil || n != 0 {
		t.Errorf("suggestions = %d, %v; want none after cancel", n, err)
	}
}

func TestStaleAndDoublePress(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(4003)
	p.say("/start")
	p.press("ارسال پیشنهاد")
	msgID, data := p.button("مرکزی")
	// Two presses of the same button at once: one effect.
	a := h.srv.PressButton(p.chat, p.user, msgID, data)
	b := h.srv.PressButton(p.chat, p.user, msgID, data)
	p.wait(b)
	if ans := h.srv.CallbackAnswer(a); !ans.Answered {
		t.Errorf("first press not answered")
	}
	ans := h.srv.CallbackAnswer(b)
	if !ans.Answered || !strings.Contains(ans.Text, "دیگر کار نمی‌کند") {
		t.Errorf("second press answered %+v, want a note that the button is old", ans)
	}
	prompts := 0
	for _, s := range h.srv.SentTo(p.chat.ID) {
		if strings.Contains(s.Text, "کدام شهرستان") {
			prompts++
		}
	}
	if prompts != 1 {
		t.Errorf("county asked %d times, want 1", prompts)
	}
	// The pressed message became the county question in one edit: no
	// province button lingers on it.
	if m, _ := h.srv.Message(p.chat.ID, msgID); !strings.Contains(m.Text, "✔️ استان: مرکزی") || !strings.Contains(m.Text, "کدام شهرستان") ||
		strings.Contains(fmt.Sprint(m.Inline), "|prov|") {
		t.Errorf("the pressed message is %q %+v, want the province recorded and the county asked", m.Text, m.Inline)
	}
	// A forged button does nothing but say so.
	id := h.srv.PressButton(p.chat, p.user, msgID, "zz|cnty|1")
	p.wait(id)
	if ans := h.srv.CallbackAnswer(id); !ans.Answered {
		t.Errorf("forged press not answered")
	}
}

func TestExpiryAndDraftRestore(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(4004)
	p.say("/start")
	p.toTopic()
	p.press("امور فرهنگی")

	h.clock.Advance(25 * time.Hour)
	got := p.say("سلام")
	expect(t, got, "منقضی شد", "ادامه")
	// Announced once: later messages show the menu with the draft offered.
	got = p.say("سلام دوباره")
	expect(t, got, "پیش‌نویس نیمه‌کاره")
	hasButton(t, got, "ادامهٔ «ارسال پیشنهاد»")
	got = p.press("ادامهٔ")
	// «سلام», typed after the expiry, was kept and is tried now: too short.
	expect(t, got, "دست‌کم ۱۰", "مرحله ۵ از ۹")
	expect(t, p.say("یک پیشنهاد فرهنگی برای محله داریم"), "مرحله ۶ از ۹", "موقعیت")

	// Past the draft's week it is gone.
	h.clock.Advance(9 * 24 * time.Hour)
	got = p.say("سلام")
	expect(t, got, "یکی از گزینه‌های منو")
}

func TestRestartMidFlowResumes(t *testing.T) {
	h := newHarness(t)
	r := h.start()
	p := h.person(4005)
	p.say("/start")
	p.toTopic()
	if code := r.stop(t); code != exitOK {
		t.Fatalf("exit = %d", code)
	}
	h.start()
	expect(t, p.press("عمران"), "مرحله ۵ از ۹")
	expect(t, p.say("/back"), "پاسخ فعلی: عمران و خدمات محلی")
}

func TestMenuPausesDraft(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(4006)
	p.say("/start")
	p.toTopic()
	prompt, _ := p.button("بهداشت")
	got := p.say("/menu")
	expect(t, got, "پیش‌نویس شما نگه داشته شد")
	if m, _ := h.srv.Message(p.chat.ID, prompt); len(m.Inline) != 0 {
		t.Errorf("the paused prompt still has buttons: %+v", m.Inline)
	}
	hasButton(t, got, "ادامهٔ «ارسال پیشنهاد»")
	expect(t, p.say("چیزی"), "پیش‌نویس نیمه‌کاره")
	expect(t, p.press("ادامهٔ"), "موضوع پیشنهاد شما")
}

// lastTextWith is the newest text among sent that contains s.
func lastTextWith(sent []bottest.Sent, s string) string {
	for i := len(sent) - 1; i >= 0; i-- {
		if strings.Contains(sent[i].Text, s) {
			return sent[i].Text
		}
	}
	return ""
}

// hasButton fails unless a message among sent carries a button labelled label.
func hasButton(t *testing.T, sent []bottest.Sent, label string) {
	t.Helper()
	for _, s := range sent {
		for _, row := range s.Inline {
			for _, b := range row {
				if b.Text == label {
					return
				}
			}
		}
	}
	t.Fatalf("no button %q; the bot sent:\n%s", label, dump(sent))
}
