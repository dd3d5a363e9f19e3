package main

import (
	"testing"

	"github.com/mahalle/mahalle/bot/bottest"
)

// replyMethods are the Bot API calls that reply to a person.
var replyMethods = []string{"sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery",
	"sendPhoto", "sendMediaGroup", "setMyCommands", "deleteMessage"}

// calls is how many reply calls the server received (refused ones too).
func calls(srv *bottest.Server) int {
	n := 0
	for _, m := range replyMethods {
		n += srv.Calls(m)
	}
	return n
}

// notModified is how many edits were refused as changing nothing: every
// edit call the server received that it did not record as done.
func notModified(srv *bottest.Server) int {
	done := 0
	for _, s := range srv.Sent() {
		if s.Method == "editMessageText" || s.Method == "editMessageReplyMarkup" {
			done++
		}
	}
	return srv.Calls("editMessageText") + srv.Calls("editMessageReplyMarkup") - done
}

// The benchmark's resident flow (11 updates: /start, the menu, province,
// county, place, topic, the text, location skipped on its keyboard, photo
// skipped, anonymous, confirm) costs at most 1.9 Bot API calls an update:
// a press is a callback answer and one edit, a typed answer one message,
// and only the 📍 keyboard needs a message of its own.
//
//	go test ./cmd/mahalle -run TestCallsPerUpdate -v
func TestCallsPerUpdate(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(4101)
	before := calls(h.srv)
	p.say("/start")
	p.press("ارسال پیشنهاد")
	p.press("مرکزی")
	p.press("اراک")
	p.press("محله نمونه ۱ اراک")
	p.press("محیط زیست")
	p.say("جوی آب کوچه اصلی پر از زباله است")
	p.say("رد کردن") // the location, on its reply keyboard
	p.press("رد کردن")
	p.press("بی‌نام")
	expect(t, p.press("تأیید و ارسال"), "کد پیگیری", "از منوی زیر")
	const updates = 11
	n := calls(h.srv) - before
	perUpdate := float64(n) / updates
	t.Logf("resident suggestion flow: %d calls for %d updates = %.2f calls an update", n, updates, perUpdate)
	if perUpdate > 1.9 {
		t.Errorf("%.2f calls an update, want at most 1.9; the bot did:\n%s", perUpdate, dump(h.srv.SentTo(p.chat.ID)))
	}
	if kb := h.srv.Keyboard(p.chat.ID); kb != nil {
		t.Errorf("a reply keyboard is left on screen after the flow: %+v", kb)
	}
	if n := notModified(h.srv); n != 0 {
		t.Errorf("%d edits were refused as «message is not modified»", n)
	}
}

// Wrong inputs at every step, double presses and stale buttons never make
// the bot send an edit that changes nothing.
func TestNoEditThatChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(4102)
	p.say("/start")
	p.press("ارسال پیشنهاد")
	// A double press: both queued before the first is handled.
	msgID, data := p.button("مرکزی")
	h.srv.PressButton(p.chat, p.user, msgID, data)
	p.wait(h.srv.PressButton(p.chat, p.user, msgID, data))
	for _, w := range wrongInputs(h) {
		p.wait(w.send(p))
	}
	p.press("اراک")
	p.say("متنی که دکمه نیست")
	p.press("محله نمونه ۱ اراک")
	// An old button of a message that was already edited.
	p.wait(h.srv.PressButton(p.chat, p.user, msgID, data))
	p.press("امنیت")
	p.say("کوتاه")
	p.say("چراغ‌های کوچه سوم شب‌ها خاموش است")
	p.say("چیزی که موقعیت نیست")
	p.say("رد کردن")
	p.say("چیزی که عکس نیست")
	p.press("رد کردن")
	p.say("با نام")
	msgID, data = p.button("بی‌نام")
	h.srv.PressButton(p.chat, p.user, msgID, data)
	p.wait(h.srv.PressButton(p.chat, p.user, msgID, data))
	p.say("/back")
	p.press("بی‌نام")
	p.say("/menu")
	p.press("ادامهٔ")
	p.say("/cancel")
	if n := notModified(h.srv); n != 0 {
		t.Errorf("%d edits were refused as «message is not modified»; the bot did:\n%s", n, dump(h.srv.SentTo(p.chat.ID)))
	}
	if kb := h.srv.Keyboard(p.chat.ID); kb != nil {
		t.Errorf("a reply keyboard is left on screen after /cancel: %+v", kb)
	}
}
