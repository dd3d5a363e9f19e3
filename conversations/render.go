package conversations

import (
	"hash/fnv"
	"strings"
)

// finish turns what the turn decided into as few Bot API calls as it can:
//
//   - a pressed prompt becomes the next step in one edit: the answered
//     record on top, then the next question with its buttons;
//   - a message with no buttons and the message after it are one message
//     («لغو شد» and the menu, a closing notice and the menu);
//   - an edit that would change nothing is not sent;
//   - a reply keyboard (📱, 📍) left on the screen is taken away by a
//     message that says something, never by a bare mark.
//
// Only a reply keyboard needs a message of its own: an edit cannot add one.
func (t *turn) finish() {
	t.outs = t.mergeSends(t.outs)
	t.outs = t.mergeIntoPressed(t.outs)
	t.outs = t.dropUnchanged(t.outs)
	t.closeKeyboard()
	for i := range t.outs {
		o := &t.outs[i]
		if o.Prompt && o.Edit == 0 && len(o.Buttons) == 0 {
			// Nobody presses a prompt without buttons: its id need not be
			// remembered, and it needs no stripping later.
			o.Prompt = false
		}
		if o.Prompt && o.Edit == 0 {
			t.st.Shown = shown(o.Text, o.Buttons)
		}
	}
}

// isSend reports whether o sends a new message.
func isSend(o Out) bool {
	return o.AnswerCallback == "" && o.Edit == 0 && o.Text != "" && len(o.Album) == 0
}

// mergeSends joins a message that has no keyboard with the message after it.
func (t *turn) mergeSends(outs []Out) []Out {
	var res []Out
	for _, o := range outs {
		if n := len(res); n > 0 && isSend(o) && isSend(res[n-1]) {
			p := res[n-1]
			if len(p.Buttons) == 0 && p.Reply == nil && !(p.RemoveReply && len(o.Buttons) > 0) {
				o.Text = p.Text + "\n\n" + o.Text
				o.RemoveReply = o.RemoveReply || (p.RemoveReply && o.Reply == nil)
				if o.Commands == nil {
					o.Commands = p.Commands
				}
				res[n-1] = o
				continue
			}
		}
		res = append(res, o)
	}
	return res
}

// mergeIntoPressed turns the message whose button was pressed into the
// next step: its record line (or nothing, when it was only to lose its
// buttons) and the message that follows, in one edit.
func (t *turn) mergeIntoPressed(outs []Out) []Out {
	if t.in.CallbackID == "" || t.in.MessageID == 0 {
		return outs
	}
	var res []Out
	for _, o := range outs {
		n := len(res)
		if n > 0 && isSend(o) && o.Reply == nil && !o.RemoveReply {
			p := res[n-1]
			if p.Edit == t.in.MessageID && p.AnswerCallback == "" && len(p.Buttons) == 0 {
				m := o
				m.Edit = t.in.MessageID
				if !p.StripOnly && p.Text != "" {
					m.Text = p.Text + "\n\n" + o.Text
				}
				if o.Prompt {
					// The pressed message is now the prompt; one without
					// buttons needs no stripping later.
					t.st.PromptID, t.st.Shown = 0, 0
					if len(m.Buttons) > 0 {
						t.st.PromptID = t.in.MessageID
						t.st.Shown = shown(m.Text, m.Buttons)
					}
					m.Prompt = false
				} else if t.st.PromptID == t.in.MessageID {
					t.st.PromptID = 0 // no longer a prompt: a closing message or the menu
				}
				res[n-1] = m
				continue
			}
		}
		res = append(res, o)
	}
	return res
}

// dropUnchanged leaves out edits of the current prompt that would show
// what it already shows, and strips of a message that has no buttons.
func (t *turn) dropUnchanged(outs []Out) []Out {
	res := outs[:0]
	for _, o := range outs {
		if o.Edit != 0 && !o.StripOnly && o.Edit == t.st.PromptID && t.st.Shown != 0 && shown(o.Text, o.Buttons) == t.st.Shown && o.Edit != t.in.MessageID {
			continue
		}
		res = append(res, o)
	}
	return res
}

// closeKeyboard takes a reply keyboard away when the conversation has
// moved past the step that showed it, and remembers whether one is shown.
func (t *turn) closeKeyboard() {
	kb := t.hadKB
	for _, o := range t.outs {
		if !isSend(o) {
			continue
		}
		if o.Reply != nil {
			kb = true
		} else if o.RemoveReply {
			kb = false
		}
	}
	if kb && !t.wantsKeyboard() {
		t.removeKeyboard()
		kb = false
	}
	if kb != t.st.ReplyKB {
		t.st.ReplyKB = kb
		t.changed = true
	}
}

// wantsKeyboard reports whether the step now asked shows a reply keyboard.
func (t *turn) wantsKeyboard() bool {
	f := t.e.flows[t.st.Flow]
	if f == nil || t.st.Paused || t.expired() {
		return false
	}
	s, _ := f.step(t.st.Step)
	return s != nil && (s.Kind == InputPhone || s.Kind == InputLocation)
}

// removeKeyboard puts the removal on a message that has something to say:
// the first new message without inline buttons, else the record of the
// answer or the lead line of the first message, split off; else a short
// sentence of its own.
func (t *turn) removeKeyboard() {
	for i, o := range t.outs {
		if isSend(o) && len(o.Buttons) == 0 && o.Reply == nil {
			t.outs[i].RemoveReply = true
			return
		}
	}
	at := len(t.outs)
	for i, o := range t.outs {
		if isSend(o) {
			at = i
			break
		}
	}
	text := msgKeyboardClosed
	if t.record != "" {
		text = t.record
	} else if at < len(t.outs) && !t.outs[at].Prompt {
		if lead, rest, ok := strings.Cut(t.outs[at].Text, "\n\n"); ok && rest != "" {
			text = lead
			t.outs[at].Text = rest
		}
	}
	t.outs = append(t.outs[:at], append([]Out{{Text: text, RemoveReply: true}}, t.outs[at:]...)...)
}

// shown is a hash of what a message shows: its text and its buttons.
func shown(text string, buttons [][]Button) uint32 {
	h := fnv.New32a()
	h.Write([]byte(text))
	for _, row := range buttons {
		h.Write([]byte{0})
		for _, b := range row {
			h.Write([]byte(b.Text + "\x01" + b.Data + "\x02"))
		}
	}
	return h.Sum32() | 1 // never 0, which means "unknown"
}
