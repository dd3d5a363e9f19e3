package resident

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/models/modelstest"
)

const testRoster = `province,county,place,full_name,phone,position,committee
مرکزی,اراک,محله نمونه ۱ اراک,مریم احمدی,09121111111,رئیس,عمران و خدمات محلی
`

// feedStore is a seeded store whose first council has n verified actions.
func feedStore(tb testing.TB, n int) (*models.Store, *Flows, uint) {
	tb.Helper()
	ctx := context.Background()
	store := modelstest.Open(tb)
	if _, err := store.ImportRoster(ctx, strings.NewReader(testRoster), models.RosterOptions{}); err != nil {
		tb.Fatal(err)
	}
	ms, err := store.MembershipsByPhone(ctx, "+989121111111")
	if err != nil || len(ms) != 1 {
		tb.Fatalf("chair = %+v, %v", ms, err)
	}
	m := ms[0]
	actor := models.Actor{Platform: "tg", UserID: 1}
	for i := 0; i < n; i++ {
		a := models.Action{Key: fmt.Sprint("bench-", i), PlaceID: m.PlaceID, CommitteeID: m.CommitteeID,
			Title: fmt.Sprint("کار ", i), Date: time.Now().AddDate(0, 0, -i%300), ReporterPersonID: m.PersonID}
		if err := store.CreateAction(ctx, actor, &a); err != nil {
			tb.Fatal(err)
		}
		if _, err := store.SetActionStatus(ctx, actor, a.ID, models.ActionVerified, ""); err != nil {
			tb.Fatal(err)
		}
	}
	f := &Flows{Geo: store, Catalog: store, Feeds: store, Homes: store, Subs: store, Inbox: store, Track: store, Part: store}
	return store, f, m.PlaceID
}

func stepOf(tb testing.TB, fl *conversations.Flow, key string) *conversations.Step {
	tb.Helper()
	for _, s := range fl.Steps {
		if s.Key == key {
			return s
		}
	}
	tb.Fatalf("flow %s has no step %s", fl.Name, key)
	return nil
}

// TestFeedPagesCoverEveryAction walks the feed's pages as the engine shows
// them: every verified action appears once, numbered in order, in the list
// above the page's buttons and on its button, which opens it.
func TestFeedPagesCoverEveryAction(t *testing.T) {
	const n = 12
	store, f, place := feedStore(t, n)
	ctx := context.Background()
	act := stepOf(t, f.feed(), "act")
	st := &conversations.State{
		Hidden:  map[string]conversations.Answer{keyPlace: {Number: int64(place)}},
		Answers: map[string]conversations.Answer{"view": {Values: []string{viewPlace}}},
	}
	seen := map[uint]bool{}
	for page := 0; page*feedPageSize < n; page++ {
		st.SetPage("act", page)
		opts, err := act.Options(ctx, st)
		if err != nil || len(opts) != n {
			t.Fatalf("page %d: options = %d, %v; want %d", page, len(opts), err, n)
		}
		d, err := act.Display(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		intro := d.Text
		for i := page * feedPageSize; i < min(n, (page+1)*feedPageSize); i++ {
			o := opts[i]
			if !strings.Contains(intro, o.Label+"\n") {
				t.Errorf("page %d lacks %q:\n%s", page, o.Label, intro)
			}
			id := idOf(conversations.Answer{Values: []string{o.Value}})
			it, _, err := store.PublicAction(ctx, id)
			if err != nil || !strings.HasSuffix(o.Label, ". "+it.Title) {
				t.Errorf("button %q opens %q (%v)", o.Label, it.Title, err)
			}
			if seen[id] {
				t.Errorf("action %d shown twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != n {
		t.Errorf("pages showed %d distinct actions, want %d", len(seen), n)
	}
	// Past the last page (a stale «بعدی»), the last page is shown, as the engine clamps.
	st.SetPage("act", 9)
	d, err := act.Display(ctx, st)
	if intro := d.Text; err != nil || !strings.Contains(intro, "۱۲. ") {
		t.Errorf("a page past the end shows:\n%s (%v)", d.Text, err)
	}
}

// TestNoticeValuesFit checks that the menu values notices carry to these
// flows fit a button's callback data and the 50 bytes notices allow.
func TestNoticeValuesFit(t *testing.T) {
	for _, v := range []string{
		FlowResolve + ":S-ABCDE:yes", FlowResolve + ":S-ABCDE:no", FlowMine + ":S-ABCDE",
		FlowFeed + ":4294967295", FlowUnsub + ":4294967295", FlowConfirm + ":4294967295", FlowComment + ":4294967295",
	} {
		if len(v) > 50 {
			t.Errorf("%q is %d bytes, over 50", v, len(v))
		}
		if _, err := conversations.EncodeCallback(conversations.CallbackData{Nonce: "m", Step: "menu", Value: v}); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
}

func TestTrackingCode(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"s-4f7k2", "S-4F7K2"},
		{" S - ۴F۷K۲ ", "S-4F7K2"},
		{"S-٤F٧K٢", "S-4F7K2"},
	} {
		if got := trackingCode(c.in); got != c.want {
			t.Errorf("trackingCode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// BenchmarkFeedPage measures what one page of a council's feed costs: the
// list under the buttons (Intro) and the buttons (Options), as the engine
// computes both for every page turn, for a council with 300 verified actions.
func BenchmarkFeedPage(b *testing.B) {
	_, f, place := feedStore(b, 300)
	ctx := context.Background()
	act := stepOf(b, f.feed(), "act")
	st := &conversations.State{
		Hidden:  map[string]conversations.Answer{keyPlace: {Number: int64(place)}},
		Answers: map[string]conversations.Answer{"view": {Values: []string{viewPlace}}},
	}
	st.SetPage("act", 3)
	b.Run("intro", func(b *testing.B) {
		for b.Loop() {
			if _, err := act.Display(ctx, st); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("options", func(b *testing.B) {
		for b.Loop() {
			if _, err := act.Options(ctx, st); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestResolveSubmitTwice runs the «حل نشد» submission twice, as the engine
// does when it loses a race after Submit: one reopening, and the person is
// told it worked both times.
func TestResolveSubmitTwice(t *testing.T) {
	store, f, place := feedStore(t, 0)
	ctx := context.Background()
	sg := models.Suggestion{Key: "twice", Platform: "tg", UserID: 42, PlaceID: place, Text: "چراغ کوچه خاموش است"}
	cs, err := store.Committees(ctx, 0)
	if err != nil || len(cs) == 0 {
		t.Fatalf("committees = %v, %v", cs, err)
	}
	sg.CommitteeID = cs[0].ID
	if err := store.CreateSuggestion(ctx, &sg); err != nil {
		t.Fatal(err)
	}
	admin := models.Viewer{Platform: "tg", UserID: 1, Staff: []models.StaffScope{{Role: models.RoleAdmin}}}
	if _, err := store.ChangeSuggestion(ctx, admin, sg.ID, models.SuggestionChange{Answer: "درست شد."}); err != nil {
		t.Fatal(err)
	}
	sub := conversations.Submission{
		Key:     conversations.Key{Platform: "tg", UserID: 42, ChatID: 42},
		Hidden:  map[string]conversations.Answer{keyMe: {Text: "tg", Number: 42}, keyCode: {Text: sg.Code}, keyHow: {Text: "no"}},
		Answers: map[string]conversations.Answer{"note": {Text: "هنوز خاموش است"}},
	}
	for i := 0; i < 2; i++ {
		msg, err := f.submitSuggestionAct(ctx, sub)
		if err != nil || !strings.Contains(msg, "دوباره باز شد") {
			t.Fatalf("try %d: %q, %v", i+1, msg, err)
		}
	}
	evs, err := store.SuggestionHistory(ctx, sg.ID)
	if err != nil {
		t.Fatal(err)
	}
	reopens := 0
	for _, ev := range evs {
		if ev.Kind == models.EventReopen {
			reopens++
		}
	}
	if reopens != 1 {
		t.Errorf("reopened %d times, want 1: %+v", reopens, evs)
	}
}
