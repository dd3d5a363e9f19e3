package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/bot/bottest"
)

// wrong is one kind of input a step does not take.
type wrong struct {
	name string
	send func(p *person) int
}

func wrongInputs(h *harness) []wrong {
	long := strings.Repeat("ن", 10000)
	return []wrong{
		{"sticker", func(p *person) int { return h.srv.SendSticker(p.chat, p.user) }},
		{"gif", func(p *person) int { return h.srv.SendAnimation(p.chat, p.user) }},
		{"video", func(p *person) int { return h.srv.SendVideo(p.chat, p.user) }},
		{"document", func(p *person) int { return h.srv.SendDocument(p.chat, p.user, "نامه.pdf") }},
		{"contact", func(p *person) int { return h.srv.SendContact(p.chat, p.user, "+989121234567", p.user.ID) }},
		{"forwarded", func(p *person) int {
			return h.srv.ForwardText(p.chat, p.user, "متنی که از جای دیگر آمده است")
		}},
		{"edited", func(p *person) int { return h.srv.EditText(p.chat, p.user, 1, "ویرایش شده") }},
		{"10000 characters", func(p *person) int { return h.srv.SendText(p.chat, p.user, long) }},
		{"blank", func(p *person) int { return h.srv.SendText(p.chat, p.user, " \u200f\u200e ") }},
	}
}

// Every wrong kind of input at every step: the step is asked again, with a
// hint, and the answers so far are kept.
func TestWrongInputAtEveryStep(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(5001)
	p.say("/start")

	type step struct {
		marker string                         // what the re-asked prompt must contain
		answer func(p *person)                // the right answer, given afterwards
		extra  func(p *person) []bottest.Sent // a step-specific wrong input
	}
	steps := []step{
		{marker: "مرحله ۱ از ۹", answer: func(p *person) { p.press("مرکزی") }},
		{marker: "مرحله ۲ از ۹", answer: func(p *person) { p.press("اراک") }},
		{marker: "مرحله ۳ از ۹", answer: func(p *person) { p.press("محله نمونه ۱ اراک") },
			extra: func(p *person) []bottest.Sent { return p.say("چیزی که دکمه نیست") }},
		{marker: "مرحله ۴ از ۹", answer: func(p *person) { p.press("امنیت") },
			extra: func(p *person) []bottest.Sent { return p.wait(h.srv.SendLocation(p.chat, p.user, 34, 49)) }},
		{marker: "مرحله ۵ از ۹", answer: func(p *person) { p.say("چراغ‌های کوچهٔ سوم شب‌ها خاموش است") },
			extra: func(p *person) []bottest.Sent { return p.wait(h.srv.SendPhoto(p.chat, p.user, "", "")) }},
		{marker: "مرحله ۶ از ۹", answer: func(p *person) { p.say("رد کردن") },
			extra: func(p *person) []bottest.Sent { return p.say("کوچه سوم") }},
		{marker: "مرحله ۷ از ۹", answer: func(p *person) { p.wait(h.srv.SendPhoto(p.chat, p.user, "", "")); p.press("تمام") },
			extra: func(p *person) []bottest.Sent { return p.wait(h.srv.SendVoice(p.chat, p.user, 3)) }},
		{marker: "مرحله ۸ از ۹", answer: func(p *person) { p.press("با نام من") },
			extra: func(p *person) []bottest.Sent { return p.say("با نام") }},
		{marker: "مرحله ۹ از ۹", answer: func(p *person) { p.say("رضا") }},
		{marker: "خلاصهٔ «ارسال پیشنهاد»", answer: func(p *person) {},
			extra: func(p *person) []bottest.Sent { return p.say("تأیید") }},
	}
	p.press("ارسال پیشنهاد")
	for i, s := range steps {
		for _, w := range wrongInputs(h) {
			got := p.wait(w.send(p))
			if !containsAny(got, s.marker) {
				t.Fatalf("step %d, %s: the step was not asked again (want %q); the bot sent:\n%s", i+1, w.name, s.marker, dump(got))
			}
			if !containsAny(got, "⚠️") {
				t.Errorf("step %d, %s: no hint of what is expected:\n%s", i+1, w.name, dump(got))
			}
		}
		if s.extra != nil {
			got := s.extra(p)
			if !containsAny(got, s.marker) {
				t.Fatalf("step %d, extra wrong input: not asked again:\n%s", i+1, dump(got))
			}
		}
		s.answer(p)
	}
	// Every answer survived the wrong inputs.
	p.say("/help")
	summary, _ := h.srv.LastMessage(p.chat.ID)
	for _, want := range []string{"مرکزی", "اراک", "محله نمونه ۱ اراک", "امنیت عمومی", "چراغ‌های کوچهٔ سوم", "۱ عکس", "رضا"} {
		if !strings.Contains(summary.Text, want) {
			t.Errorf("summary lost %q:\n%s", want, summary.Text)
		}
	}
	got := p.press("تأیید و ارسال")
	expect(t, got, "کد پیگیری")
	noEnglish(t, h.srv.SentTo(p.chat.ID))
}

func containsAny(sent []bottest.Sent, s string) bool {
	for _, m := range sent {
		if strings.Contains(m.Text, s) {
			return true
		}
	}
	return false
}

// 20 updates for one chat arriving at once leave one consistent state.
func TestTwentyUpdatesAtOnce(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(5002)
	p.say("/start")
	p.toTopic()
	msgID, _ := p.button("بهداشت")
	m, _ := h.srv.Message(p.chat.ID, msgID)
	var ids []int
	for i := 0; i < 20; i++ {
		b := m.Inline[i%len(m.Inline)][0]
		ids = append(ids, h.srv.PressButton(p.chat, p.user, msgID, b.CallbackData))
	}
	p.wait(ids[len(ids)-1])
	first := m.Inline[0][0].Text
	records := 0
	for _, s := range h.srv.SentTo(p.chat.ID) {
		if strings.HasPrefix(s.Text, "✔️ موضوع:") && s.Method != "answerCallbackQuery" {
			records++
			if !strings.Contains(s.Text, first) {
				t.Errorf("the recorded topic is %q, want the first press %q", s.Text, first)
			}
		}
	}
	if records != 1 {
		t.Errorf("%d topic answers recorded, want 1", records)
	}
	answered := 0
	for _, id := range ids {
		if h.srv.CallbackAnswer(id).Answered {
			answered++
		}
	}
	if answered != len(ids) {
		t.Errorf("%d of %d presses answered; every press needs an answer", answered, len(ids))
	}
	// And 20 texts at once at the text step: the first is the answer, the
	// rest meet the location step and are told it wants a location.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	var last int
	for i := 0; i < 20; i++ {
		last = h.srv.SendText(p.chat, p.user, fmt.Sprintf("متن شمارهٔ %d برای آزمون همزمانی", i))
	}
	if err := h.settle(ctx, last); err != nil {
		t.Fatal(err)
	}
	p.read = len(h.srv.SentTo(p.chat.ID))
	expect(t, p.say("رد کردن"), "مرحله ۷ از ۹", "عکس")
}
