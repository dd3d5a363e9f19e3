package main

import (
	"context"
	"strings"
	"testing"
)

// TestEditedMessageNeverRunsACommand edits an old message into /cancel in
// the middle of a draft: the draft survives, the person is told edits are
// not read.
func TestEditedMessageNeverRunsACommand(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(6301)
	p.say("/start")
	p.toTopic()
	st := h.convState(p)
	if st.Flow == "" {
		t.Fatal("no draft before the edit")
	}
	old := h.srv.SentTo(p.chat.ID)[0].MessageID // any earlier message id of the chat
	got := p.wait(h.srv.EditText(p.chat, p.user, old, "/cancel"))
	if after := h.convState(p); after.Flow != st.Flow || after.Step != st.Step {
		t.Errorf("after an edit into /cancel the draft is flow %q step %q, want %q %q", after.Flow, after.Step, st.Flow, st.Step)
	}
	for _, s := range got {
		if strings.Contains(s.Text, "لغو شد") {
			t.Errorf("the edit cancelled something: %s", s)
		}
	}
}

// TestBrailleBlankIsBlank sends ten U+2800 as the suggestion's text: it is
// refused as empty and the step asks again.
func TestBrailleBlankIsBlank(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(6302)
	p.say("/start")
	p.toTopic()
	expect(t, p.press("محیط زیست"), "مرحله ۵ از ۹")
	got := p.say(strings.Repeat("\u2800", 10))
	if st := h.convState(p); st.Step != "body" {
		t.Errorf("after ten braille blanks the step is %q, want still body; the bot sent:\n%s", st.Step, dump(got))
	}
	for _, s := range got {
		if strings.Contains(s.Text, "مرحله ۶ از ۹") {
			t.Errorf("blank text accepted: %s", s)
		}
	}
}

// TestInlineModeCallbackAnswered presses a button on an inline-mode message
// (no chat): the query is answered, so the spinner stops.
func TestInlineModeCallbackAnswered(t *testing.T) {
	h := newHarness(t)
	h.start()
	_, user := h.person(6303).chat, h.person(6303).user
	id := h.srv.PressInlineButton(user, "AAEinline", "x")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := h.settle(ctx, id); err != nil {
		t.Fatal(err)
	}
	if ans := h.srv.CallbackAnswer(id); !ans.Answered {
		t.Errorf("the inline-mode button press was never answered")
	}
}
