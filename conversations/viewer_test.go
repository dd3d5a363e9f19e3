package conversations_test

import (
	"context"
	"strings"
	"testing"

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
