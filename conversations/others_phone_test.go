package conversations_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
)

// TestPhoneOfSomeoneElse: a phone step with Others takes a typed number and
// anyone's contact card, even a forwarded one (the card names its contact,
// not whoever sent it on); a forwarded message is resolved through Forward
// and its phone shown masked; a hidden sender and an unknown one are
// answered in Persian; no «ارسال شمارهٔ من» keyboard is shown.
func TestPhoneOfSomeoneElse(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	flow := &conversations.Flow{Name: "t", Version: 1, Title: "آزمون",
		Steps: []*conversations.Step{{Key: "p", Label: "شماره", Prompt: "شمارهٔ او؟", Kind: conversations.InputPhone, Others: true,
			Forward: func(_ context.Context, _ conversations.Key, userID int64) (string, error) {
				if userID == 77 {
					return "+989127777777", nil
				}
				return "", models.Errorf(models.ENOTFOUND, "%s", "او هنوز شماره‌اش را نفرستاده است.")
			}}},
		Submit: func(context.Context, conversations.Submission) (string, error) { return "ثبت شد", nil },
	}
	e := fx.engine(flow)
	id := 0
	walk := func(user int64) {
		t.Helper()
		k := conversations.Key{Platform: "tg", ChatID: user, UserID: user}
		id++
		outs, err := e.Handle(ctx, k, conversations.Input{UpdateID: id, SenderID: user, Command: "start"})
		if err != nil {
			t.Fatal(err)
		}
		id++
		outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: id, SenderID: user, CallbackID: "q", CallbackData: menuData(t, outs)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range outs {
			if o.Reply != nil {
				t.Errorf("someone else's phone is asked with a reply keyboard: %+v", o.Reply)
			}
		}
	}
	send := func(user int64, in conversations.Input) string {
		t.Helper()
		id++
		in.UpdateID, in.SenderID = id, user
		outs, err := e.Handle(ctx, conversations.Key{Platform: "tg", ChatID: user, UserID: user}, in)
		if err != nil {
			t.Fatal(err)
		}
		return texts(outs)
	}

	walk(1)
	if out := send(1, conversations.Input{Forwarded: true}); !strings.Contains(out, "معلوم نیست چه کسی") {
		t.Errorf("a hidden sender: %q", out)
	}
	if out := send(1, conversations.Input{Forwarded: true, ForwardFrom: 5}); !strings.Contains(out, "هنوز شماره‌اش را نفرستاده") {
		t.Errorf("an unknown sender: %q", out)
	}
	if out := send(1, conversations.Input{Forwarded: true, ForwardFrom: 77}); !strings.Contains(out, "۰۹۱۲•••۷۷۷۷") || strings.Contains(out, "۰۹۱۲۷۷۷۷۷۷۷") {
		t.Errorf("a phone found from a forward is not shown masked: %q", out)
	}

	walk(2)
	if out := send(2, conversations.Input{Forwarded: true, ForwardFrom: 77, Contact: &conversations.Contact{Phone: "09125555555", UserID: 8}}); !strings.Contains(out, "۰۹۱۲۵۵۵۵۵۵۵") {
		t.Errorf("a forwarded contact card is not read as its contact: %q", out)
	}

	walk(3)
	if out := send(3, conversations.Input{Contact: &conversations.Contact{Phone: "+989126666666", UserID: 9}}); !strings.Contains(out, "۰۹۱۲۶۶۶۶۶۶۶") {
		t.Errorf("someone else's contact card is refused: %q", out)
	}
}

// TestMenuHomeKeepsTheDraft: «🏠 منوی تازهٔ شما» under a notice, pressed in
// the middle of a flow, shows the menu and keeps the draft to go back to,
// as /menu does; typed text afterwards does not land in the old step.
func TestMenuHomeKeepsTheDraft(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	e := fx.engine(textFlow(1, []string{"a", "b"}, fx.store, fx.place, fx.commit))
	k := conversations.Key{Platform: "tg", ChatID: 4, UserID: 4}
	outs, err := e.Handle(ctx, k, conversations.Input{UpdateID: 1, SenderID: 4, Command: "start"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = e.Handle(ctx, k, conversations.Input{UpdateID: 2, SenderID: 4, CallbackID: "q", CallbackData: menuData(t, outs)}); err != nil {
		t.Fatal(err)
	}
	home, err := conversations.MenuCallback(conversations.MenuHome)
	if err != nil {
		t.Fatal(err)
	}
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 3, SenderID: 4, CallbackID: "q3", CallbackData: home})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(texts(outs), "پیش‌نویس شما نگه داشته شد") {
		t.Errorf("the menu button under a notice, mid-flow: %q", texts(outs))
	}
	buttonData(t, outs, "ادامه")
}
