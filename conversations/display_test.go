package conversations_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/conversations"
)

// A live prompt: the record is computed when the step is asked and shown
// above the question, its photos first as an album (once, not again on a
// hint); a display-only step moves on with «ادامه» and stays out of the
// summary.
func TestLivePrompt(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	progress := 40
	flow := textFlow(1, []string{"note"}, fx.store, fx.place, fx.commit)
	flow.Steps = append([]*conversations.Step{{
		Key: "look", Label: "اقدام", Prompt: "این اقدام را دیدید؟", Kind: conversations.InputNone,
		Display: func(context.Context, *conversations.State) (conversations.Display, error) {
			return conversations.Display{Text: "اقدام «پاکسازی بوستان» — پیشرفت " + map[int]string{40: "۴۰٪", 60: "۶۰٪"}[progress],
				Photos: []string{"p1", "p2"}}, nil
		},
	}}, flow.Steps...)
	e := fx.engine(flow)
	k := conversations.Key{Platform: "tg", ChatID: 31, UserID: 31}
	outs, _ := e.Handle(ctx, k, conversations.Input{UpdateID: 1, SenderID: 31, Command: "start"})
	progress = 60 // computed when asked, not when the flow was defined
	outs, err := e.Handle(ctx, k, conversations.Input{UpdateID: 2, SenderID: 31, CallbackID: "c", CallbackData: menuData(t, outs)})
	if err != nil {
		t.Fatal(err)
	}
	var album []string
	question := -1
	for i, o := range outs {
		if len(o.Album) > 0 {
			album = o.Album
			if question >= 0 {
				t.Errorf("the album came after the question")
			}
		}
		if strings.Contains(o.Text, "این اقدام را دیدید؟") {
			question = i
			if !strings.Contains(o.Text, "پیشرفت ۶۰٪") || len(o.Album) != 0 || len(o.Buttons) == 0 {
				t.Errorf("the question = %+v, want the record above it and its buttons, no photos", o)
			}
		}
	}
	if len(album) != 2 || question < 0 {
		t.Fatalf("outs = %+v, want an album of 2 and the question", outs)
	}
	// A typed answer at a display-only step: a hint, and no second album.
	outs, _ = e.Handle(ctx, k, conversations.Input{UpdateID: 3, SenderID: 31, Text: "چیزی"})
	for _, o := range outs {
		if len(o.Album) > 0 {
			t.Errorf("the photos were sent again with the hint")
		}
	}
	outs, _ = e.Handle(ctx, k, conversations.Input{UpdateID: 4, SenderID: 31, CallbackID: "c4", CallbackData: buttonData(t, outs, "ادامه")})
	if !strings.Contains(texts(outs), "پرسش note") {
		t.Fatalf("«ادامه» led to %q, want the next question", texts(outs))
	}
	outs, _ = e.Handle(ctx, k, conversations.Input{UpdateID: 5, SenderID: 31, Text: "یادداشت"})
	if got := texts(outs); !strings.Contains(got, "خلاصه") || strings.Contains(got, "• اقدام") {
		t.Errorf("summary = %q, want one without the display-only step", got)
	}
}
