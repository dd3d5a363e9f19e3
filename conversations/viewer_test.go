package conversations_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
)

// Who is asking is resolved once per update, however many of Allowed,
// Review and Submit need it: one confirmation looks the person up once.
func TestViewerOncePerUpdate(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	lookups := 0
	member := models.Viewer{Memberships: []models.MembershipView{{PlaceID: fx.place}}}
	var seen []models.Viewer
	flow := textFlow(1, []string{"a"}, fx.store, fx.place, fx.commit)
	flow.Menu, flow.Roles = "گزارش آزمون", []models.Role{models.RoleMember}
	flow.Allowed = func(_ context.Context, v models.Viewer, _ string) (string, error) {
		seen = append(seen, v)
		if !v.Has(models.RoleMember) {
			return "فقط اعضا", nil
		}
		return "", nil
	}
	flow.Review = func(_ context.Context, sub conversations.Submission) (*conversations.Review, error) {
		seen = append(seen, sub.Viewer)
		return nil, nil
	}
	submit := flow.Submit
	flow.Submit = func(ctx context.Context, sub conversations.Submission) (string, error) {
		seen = append(seen, sub.Viewer)
		return submit(ctx, sub)
	}
	e, err := conversations.NewEngine(fx.convs, conversations.Config{
		Flows: []*conversations.Flow{flow},
		Viewer: func(_ context.Context, k conversations.Key) (models.Viewer, error) {
			lookups++
			v := member
			v.Platform, v.UserID = k.Platform, k.UserID
			return v, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	k := conversations.Key{Platform: "tg", ChatID: 21, UserID: 21}
	outs, _ := e.Handle(ctx, k, conversations.Input{UpdateID: 1, SenderID: 21, Command: "start"})
	outs, _ = e.Handle(ctx, k, conversations.Input{UpdateID: 2, SenderID: 21, CallbackID: "c2", CallbackData: buttonData(t, outs, "گزارش آزمون")})
	outs, _ = e.Handle(ctx, k, conversations.Input{UpdateID: 3, SenderID: 21, Text: "پاسخ"})
	before, seenBefore := lookups, len(seen)
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 4, SenderID: 21, CallbackID: "c4", CallbackData: buttonData(t, outs, "تأیید")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(texts(outs), "ثبت شد") {
		t.Fatalf("confirm said %q", texts(outs))
	}
	if got := lookups - before; got != 1 {
		t.Errorf("one confirmation looked the person up %d times, want 1", got)
	}
	if got := len(seen) - seenBefore; got != 3 {
		t.Errorf("Review, Allowed and Submit saw the viewer %d times, want 3", got)
	}
	for _, v := range seen {
		if v.UserID != 21 || !v.Has(models.RoleMember) {
			t.Errorf("a flow saw viewer %+v, want member 21", v)
		}
	}

	// A resident is refused at start, on the server, whatever button brought them.
	resident := conversations.Key{Platform: "tg", ChatID: 22, UserID: 22}
	member = models.Viewer{}
	data := buttonData(t, outs, "گزارش آزمون")
	outs, _ = e.Handle(ctx, resident, conversations.Input{UpdateID: 5, SenderID: 22, CallbackID: "c5", CallbackData: data})
	if !strings.Contains(texts(outs), "فقط اعضا") {
		t.Errorf("a resident starting a member flow got %q", texts(outs))
	}
}

// A resident with no person behind their account is looked up once, not
// on every menu and confirmation: the finding rides in the conversation
// state. A flow that ChangesRoles looks them up afresh, so the person who
// just registered sees their new menu at once; and the finding is asked
// again after strangerFor.
func TestStrangerLookedUpOnce(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	lookups := 0
	linked := map[int64]bool{}
	suggest := textFlow(1, []string{"a"}, fx.store, fx.place, fx.commit)
	suggest.Name, suggest.Menu, suggest.Order = "suggest", "پیشنهاد آزمون", 1
	suggest.Allowed = func(context.Context, models.Viewer, string) (string, error) { return "", nil }
	join := &conversations.Flow{Name: "join", Version: 1, Title: "عضویت آزمون", Menu: "عضویت آزمون", Order: 2, ChangesRoles: true,
		Steps: []*conversations.Step{{Key: "name", Label: "نام", Prompt: "نام؟", Kind: conversations.InputText, MinLen: 1, MaxLen: 60}},
		Submit: func(_ context.Context, sub conversations.Submission) (string, error) {
			linked[sub.Key.UserID] = true
			return "عضو شدید", nil
		}}
	report := &conversations.Flow{Name: "report", Version: 1, Title: "گزارش آزمون", Menu: "گزارش آزمون", Order: 3,
		Roles: []models.Role{models.RoleMember}, Steps: join.Steps,
		Submit: func(context.Context, conversations.Submission) (string, error) { return "ثبت شد", nil }}
	e, err := conversations.NewEngine(fx.convs, conversations.Config{
		Flows: []*conversations.Flow{suggest, join, report},
		Now:   func() time.Time { return now },
		Viewer: func(_ context.Context, k conversations.Key) (models.Viewer, error) {
			lookups++
			v := models.Viewer{Platform: k.Platform, UserID: k.UserID}
			if linked[k.UserID] {
				v.PersonID = 7
				v.Memberships = []models.MembershipView{{PlaceID: fx.place}}
			}
			return v, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	k := conversations.Key{Platform: "tg", ChatID: 31, UserID: 31}
	update := 0
	send := func(in conversations.Input) []conversations.Out {
		t.Helper()
		update++
		in.UpdateID, in.SenderID = update, 31
		if in.CallbackData != "" {
			in.CallbackID = fmt.Sprint("c", update)
		}
		outs, err := e.Handle(ctx, k, in)
		if err != nil {
			t.Fatal(err)
		}
		return outs
	}

	outs := send(conversations.Input{Command: "start"})
	if lookups != 1 {
		t.Fatalf("the first menu looked the person up %d times, want 1", lookups)
	}
	outs = send(conversations.Input{CallbackData: buttonData(t, outs, "پیشنهاد آزمون")})
	outs = send(conversations.Input{Text: "پاسخ"})
	outs = send(conversations.Input{CallbackData: buttonData(t, outs, "تأیید")})
	if !strings.Contains(texts(outs), "ثبت شد") {
		t.Fatalf("confirm said %q", texts(outs))
	}
	outs = send(conversations.Input{Command: "start"})
	if lookups != 1 {
		t.Errorf("a known stranger's start, confirmation and menu looked them up %d times in all, want 1", lookups)
	}
	if strings.Contains(texts(outs), "گزارش آزمون") || hasButton(outs, "گزارش آزمون") {
		t.Errorf("a resident's menu offers the members' flow: %q", texts(outs))
	}

	// Registering (a flow that ChangesRoles) looks them up afresh: the
	// menu under its closing message is the member's.
	outs = send(conversations.Input{CallbackData: buttonData(t, outs, "عضویت آزمون")})
	outs = send(conversations.Input{Text: "مریم"})
	outs = send(conversations.Input{CallbackData: buttonData(t, outs, "تأیید")})
	if !strings.Contains(texts(outs), "عضو شدید") || !hasButton(outs, "گزارش آزمون") {
		t.Fatalf("after registering the menu is %q, want the member's (with «گزارش آزمون»)", texts(outs))
	}
	before := lookups
	outs = send(conversations.Input{Command: "start"})
	if !hasButton(outs, "گزارش آزمون") || lookups != before+1 {
		t.Errorf("a member's menu: %q after %d lookups, want the member's after 1 (a person is looked up every update)", texts(outs), lookups-before)
	}

	// Another resident's finding is asked again once it is strangerFor old.
	k = conversations.Key{Platform: "tg", ChatID: 32, UserID: 32}
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 1, SenderID: 32, Command: "start"})
	if err != nil {
		t.Fatal(err)
	}
	before = lookups
	now = now.Add(9 * time.Minute)
	if _, err := e.Handle(ctx, k, conversations.Input{UpdateID: 2, SenderID: 32, CallbackID: "d2", CallbackData: buttonData(t, outs, "پیشنهاد آزمون")}); err != nil {
		t.Fatal(err)
	}
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 3, SenderID: 32, Command: "start"})
	if err != nil {
		t.Fatal(err)
	}
	if lookups != before {
		t.Errorf("within 10 minutes a known stranger was looked up %d times, want 0", lookups-before)
	}
	now = now.Add(time.Minute)
	linked[32] = true // tied to a person by a way the chat did not see
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 4, SenderID: 32, Command: "start"})
	if err != nil {
		t.Fatal(err)
	}
	if lookups != before+1 || !hasButton(outs, "گزارش آزمون") {
		t.Errorf("10 minutes on: %d lookups and menu %q, want 1 and the member's", lookups-before, texts(outs))
	}
}

// hasButton says whether some button's text contains label.
func hasButton(outs []conversations.Out, label string) bool {
	_, ok := findButton(outs, label)
	return ok
}
