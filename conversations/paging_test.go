package conversations_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mahalle/mahalle/conversations"
)

// screen applies what the engine asks to a chat as Telegram would, and
// counts the edits Telegram would refuse as «message is not modified».
type screen struct {
	t           *testing.T
	e           *conversations.Engine
	k           conversations.Key
	next        int
	msgs        map[int]string // message id -> text and buttons as shown
	notModified int
	calls       int
}

func (s *screen) show(o conversations.Out) string {
	return fmt.Sprint(o.Text, o.Buttons)
}

func (s *screen) apply(outs []conversations.Out) {
	s.t.Helper()
	for _, o := range outs {
		s.calls++
		switch {
		case o.AnswerCallback != "":
		case o.Edit != 0:
			cur := s.msgs[o.Edit]
			now := s.show(o)
			if o.StripOnly {
				now = fmt.Sprint(textOf(cur), [][]conversations.Button(nil))
			}
			if now == cur {
				s.notModified++
			}
			s.msgs[o.Edit] = now
		default:
			s.next++
			s.msgs[s.next] = s.show(o)
			if o.Prompt {
				if err := s.e.Prompted(context.Background(), s.k, s.next); err != nil {
					s.t.Fatal(err)
				}
			}
		}
	}
}

// textOf is the text part of a shown message (what fmt.Sprint put first).
func textOf(shown string) string {
	for i := len(shown) - 1; i >= 0; i-- {
		if shown[i] == '[' {
			return shown[:max(0, i-1)]
		}
	}
	return shown
}

// Paging through a long choice, the page counter, a double press of «بعدی»
// and a stale press: no edit that changes nothing.
func TestPagingSendsNoEmptyEdit(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	flow := textFlow(1, []string{"note"}, fx.store, fx.place, fx.commit)
	var opts []conversations.Option
	for i := 1; i <= 7; i++ {
		opts = append(opts, conversations.Option{Value: fmt.Sprint(i), Label: fmt.Sprintf("گزینهٔ %d", i)})
	}
	flow.Steps = append([]*conversations.Step{{Key: "pick", Label: "گزینه", Prompt: "یکی را بزنید", Kind: conversations.InputChoice, PageSize: 3,
		Options: func(context.Context, *conversations.State) ([]conversations.Option, error) { return opts, nil }}}, flow.Steps...)
	e := fx.engine(flow)
	k := conversations.Key{Platform: "tg", ChatID: 51, UserID: 51}
	s := &screen{t: t, e: e, k: k, msgs: map[int]string{}}
	id := 0
	handle := func(in conversations.Input) []conversations.Out {
		t.Helper()
		id++
		in.UpdateID, in.SenderID = id, 51
		outs, err := e.Handle(ctx, k, in)
		if err != nil {
			t.Fatal(err)
		}
		s.apply(outs)
		return outs
	}
	press := func(outs []conversations.Out, label string, msg int) []conversations.Out {
		t.Helper()
		return handle(conversations.Input{CallbackID: fmt.Sprint("c", id), CallbackData: buttonData(t, outs, label), MessageID: msg})
	}
	outs := handle(conversations.Input{Command: "start"})
	outs = press(outs, "آزمون", 1)
	prompt := s.next
	nextPage := outs
	outs = press(nextPage, "بعدی", prompt)
	_ = press(nextPage, "بعدی", prompt) // the same «بعدی» again: stale
	_ = press(outs, "۲/۳", prompt)      // the counter: nothing to change
	outs = press(outs, "بعدی", prompt)
	_ = press(outs, "قبلی", prompt)
	_ = handle(conversations.Input{Text: "چیزی که دکمه نیست"})
	if s.notModified != 0 {
		t.Errorf("%d edits would be refused as «message is not modified»", s.notModified)
	}
}
