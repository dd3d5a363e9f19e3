package conversations_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/conversations/redistest"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/models/modelstest"
)

// textFlow is a small flow of text steps; its Submit stores a suggestion
// so replays can be counted in the database.
func textFlow(version int, keys []string, store *models.Store, placeID, committeeID uint) *conversations.Flow {
	f := &conversations.Flow{Name: "t", Version: version, Title: "آزمون"}
	for _, k := range keys {
		f.Steps = append(f.Steps, &conversations.Step{Key: k, Label: k, Prompt: "پرسش " + k, Kind: conversations.InputText, MinLen: 1, MaxLen: 100})
	}
	f.Submit = func(ctx context.Context, sub conversations.Submission) (string, error) {
		sg := models.Suggestion{Key: "t:" + sub.Run, Platform: sub.Key.Platform, UserID: sub.Key.UserID,
			PlaceID: placeID, CommitteeID: committeeID, Text: sub.Answers[keys[0]].Text}
		if err := store.CreateSuggestion(ctx, &sg); err != nil {
			return "", err
		}
		return "ثبت شد: " + sg.Code, nil
	}
	return f
}

type fixture struct {
	t      *testing.T
	rdb    redis.UniversalClient
	store  *models.Store
	convs  *conversations.Store
	queue  *conversations.Queue
	place  uint
	commit uint
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store := modelstest.Open(t)
	ctx := context.Background()
	places, err := store.SearchPlaces(ctx, "نمونه", 1)
	if err != nil || len(places) == 0 {
		t.Fatalf("no seeded place: %v", err)
	}
	cs, err := store.Committees(ctx, places[0].ProvinceID)
	if err != nil || len(cs) == 0 {
		t.Fatalf("no committees: %v", err)
	}
	rdb, prefix := redistest.Client(t), redistest.Prefix(t)
	return &fixture{t: t, rdb: rdb, store: store, convs: conversations.NewStore(rdb, conversations.StoreConfig{Prefix: prefix}),
		queue: conversations.NewQueue(rdb, conversations.QueueConfig{Prefix: prefix}), place: places[0].Place.ID, commit: cs[0].ID}
}

func (fx *fixture) engine(flows ...*conversations.Flow) *conversations.Engine {
	return fx.engineWith(conversations.Config{Flows: flows})
}

func (fx *fixture) engineWith(cfg conversations.Config) *conversations.Engine {
	cfg.Menu = []conversations.MenuItem{{Label: "آزمون", Flow: "t"}}
	e, err := conversations.NewEngine(fx.convs, cfg)
	if err != nil {
		fx.t.Fatal(err)
	}
	return e
}

func texts(outs []conversations.Out) string {
	var b strings.Builder
	for _, o := range outs {
		b.WriteString(o.Text + o.Note + "\n")
	}
	return b.String()
}

// menuData is the callback data of the menu button that starts flow t.
func menuData(t *testing.T, outs []conversations.Out) string {
	t.Helper()
	for _, o := range outs {
		for _, row := range o.Buttons {
			for _, b := range row {
				if b.Text == "آزمون" {
					return b.Data
				}
			}
		}
	}
	t.Fatalf("no menu button in %q", texts(outs))
	return ""
}

func buttonData(t *testing.T, outs []conversations.Out, label string) string {
	t.Helper()
	for _, o := range outs {
		for _, row := range o.Buttons {
			for _, b := range row {
				if strings.Contains(b.Text, label) {
					return b.Data
				}
			}
		}
	}
	t.Fatalf("no button %q in %q", label, texts(outs))
	return ""
}

// A confirm delivered twice (a crash before the offset was confirmed)
// writes one row and answers the second time with the same closing notice.
func TestReplayedConfirmWritesOneRow(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	flow := textFlow(1, []string{"a"}, fx.store, fx.place, fx.commit)
	e := fx.engine(flow)
	k := conversations.Key{Platform: "tg", ChatID: 9, UserID: 9}
	outs, err := e.Handle(ctx, k, conversations.Input{UpdateID: 1, SenderID: 9, Command: "start"})
	if err != nil {
		t.Fatal(err)
	}
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 2, SenderID: 9, CallbackID: "q2", CallbackData: menuData(t, outs)})
	if err != nil {
		t.Fatal(err)
	}
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 3, SenderID: 9, Text: "پاسخ"})
	if err != nil {
		t.Fatal(err)
	}
	confirm := conversations.Input{UpdateID: 4, SenderID: 9, CallbackID: "q4", CallbackData: buttonData(t, outs, "تأیید")}
	first, err := e.Handle(ctx, k, confirm)
	if err != nil {
		t.Fatal(err)
	}
	// The same update again, in this process and in a fresh one.
	for _, eng := range []*conversations.Engine{e, fx.engine(flow)} {
		again, err := eng.Handle(ctx, k, confirm)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(texts(first), "ثبت شد") || !strings.Contains(texts(again), "ثبت شد") {
			t.Errorf("closing notice first %q, replay %q", texts(first), texts(again))
		}
	}
	if n, err := fx.store.CountSuggestions(ctx); err != nil || n != 1 {
		t.Errorf("rows = %d, %v; want 1", n, err)
	}
}

// A deploy that changes a flow: a draft of the old version keeps the
// answers whose steps still exist; an incompatible one starts again.
func TestFlowVersionCarryOver(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	k := conversations.Key{Platform: "tg", ChatID: 10, UserID: 10}
	v1 := fx.engine(textFlow(1, []string{"a", "b", "c"}, fx.store, fx.place, fx.commit))
	outs, _ := v1.Handle(ctx, k, conversations.Input{UpdateID: 1, SenderID: 10, Command: "start"})
	if _, err := v1.Handle(ctx, k, conversations.Input{UpdateID: 2, SenderID: 10, CallbackID: "x", CallbackData: menuData(t, outs)}); err != nil {
		t.Fatal(err)
	}
	if _, err := v1.Handle(ctx, k, conversations.Input{UpdateID: 3, SenderID: 10, Text: "پاسخ الف"}); err != nil {
		t.Fatal(err)
	}
	// v2 dropped step b (the current one) and added d.
	v2 := fx.engine(textFlow(2, []string{"a", "c", "d"}, fx.store, fx.place, fx.commit))
	outs, err := v2.Handle(ctx, k, conversations.Input{UpdateID: 4, SenderID: 10, Text: "هر چه"})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(outs); !strings.Contains(got, "پاسخ‌های قبلی شما نگه داشته شد") || !strings.Contains(got, "پرسش c") {
		t.Errorf("upgrade said %q, want the kept answers and step c", got)
	}
	st, err := fx.convs.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if st.FlowVersion != 2 || st.Answers["a"].Text != "پاسخ الف" || st.Step != "c" {
		t.Errorf("state after upgrade = %+v", st)
	}
	// v3 shares no step: the person is told and starts again.
	v3 := fx.engine(textFlow(3, []string{"x", "y"}, fx.store, fx.place, fx.commit))
	outs, err = v3.Handle(ctx, k, conversations.Input{UpdateID: 5, SenderID: 10, Text: "هر چه"})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(outs); !strings.Contains(got, "از ابتدا پاسخ دهید") || !strings.Contains(got, "پرسش x") {
		t.Errorf("incompatible upgrade said %q", got)
	}
}

// Two processes share one Redis: a stale in-process copy loses the
// compare-and-set, is re-read, and the answer lands on the right step.
func TestTwoProcessesStayConsistent(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	k := conversations.Key{Platform: "bale", ChatID: 11, UserID: 11}
	flow := textFlow(1, []string{"a", "b", "c"}, fx.store, fx.place, fx.commit)
	p1, p2 := fx.engine(flow), fx.engine(flow)
	outs, _ := p1.Handle(ctx, k, conversations.Input{UpdateID: 1, SenderID: 11, Command: "start"})
	if _, err := p1.Handle(ctx, k, conversations.Input{UpdateID: 2, SenderID: 11, CallbackID: "x", CallbackData: menuData(t, outs)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p2.Handle(ctx, k, conversations.Input{UpdateID: 3, SenderID: 11, Text: "الف"}); err != nil {
		t.Fatal(err)
	}
	// p1 still believes the flow is at step a.
	outs, err := p1.Handle(ctx, k, conversations.Input{UpdateID: 4, SenderID: 11, Text: "ب"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(texts(outs), "پرسش c") {
		t.Errorf("after a lost race the reply is %q, want step c", texts(outs))
	}
	st, err := fx.convs.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if st.Answers["a"].Text != "الف" || st.Answers["b"].Text != "ب" || st.Step != "c" {
		t.Errorf("state = %+v", st)
	}
}

// Expiry is judged by the injected clock.
func TestExpiryUsesInjectedClock(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	e, err := conversations.NewEngine(fx.convs, conversations.Config{
		Flows: []*conversations.Flow{textFlow(1, []string{"a"}, fx.store, fx.place, fx.commit)},
		Menu:  []conversations.MenuItem{{Label: "آزمون", Flow: "t"}},
		Now:   func() time.Time { return now },
		TTL:   time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	k := conversations.Key{Platform: "tg", ChatID: 12, UserID: 12}
	outs, _ := e.Handle(ctx, k, conversations.Input{UpdateID: 1, SenderID: 12, Command: "start"})
	if _, err := e.Handle(ctx, k, conversations.Input{UpdateID: 2, SenderID: 12, CallbackID: "x", CallbackData: menuData(t, outs)}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(59 * time.Minute)
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 3, SenderID: 12, Text: ""})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(outs); strings.Contains(got, "منقضی") || !strings.Contains(got, "پرسش a") {
		t.Errorf("after 59 minutes of a 1 hour TTL the reply is %q, want question a again", got)
	}
	now = now.Add(2 * time.Hour)
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 4, SenderID: 12, Text: "پاسخ"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(texts(outs), "منقضی") {
		t.Errorf("not expired after the TTL: %q", texts(outs))
	}
}

// TestDeferredPromptRidesOnDone: with DeferPrompts the prompt's message id
// is written by the queue's Done that acknowledges the update, not before;
// the cache then agrees with Redis, and a write that lost a race is left
// out and the state read again.
func TestDeferredPromptRidesOnDone(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	k := conversations.Key{Platform: "tg", ChatID: 21, UserID: 21}
	flow := textFlow(1, []string{"a", "b", "c"}, fx.store, fx.place, fx.commit)
	e := fx.engineWith(conversations.Config{Flows: []*conversations.Flow{flow}, DeferPrompts: true})
	outs, _ := e.Handle(ctx, k, conversations.Input{UpdateID: 1, SenderID: 21, Command: "start"})
	if _, err := e.Handle(ctx, k, conversations.Input{UpdateID: 2, SenderID: 21, CallbackID: "x", CallbackData: menuData(t, outs)}); err != nil {
		t.Fatal(err)
	}
	before, err := fx.convs.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Prompted(ctx, k, 500); err != nil {
		t.Fatal(err)
	}
	if st, _ := fx.convs.Get(ctx, k); st.PromptID == 500 || st.Version != before.Version {
		t.Fatalf("Prompted wrote at once: %+v", st)
	}

	if err := fx.queue.Push(ctx, "tg", 21, 2, []byte(`{"update_id":2}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, st, err := fx.queue.Take(ctx, "tg", 21, "me", time.Minute); st != conversations.TakeTaken || err != nil {
		t.Fatalf("Take = %v, %v", st, err)
	}
	writes := e.TakePromptSaves("tg", 21)
	if len(writes) != 1 || len(e.TakePromptSaves("tg", 21)) != 0 {
		t.Fatalf("TakePromptSaves = %d writes, then more; want 1, then none", len(writes))
	}
	_, _, st, applied, err := fx.queue.DoneWith(ctx, "tg", 21, "me", 2, time.Minute, writes)
	if err != nil || st != conversations.TakeEmpty || len(applied) != 1 || !applied[0] {
		t.Fatalf("DoneWith = %v, %v, %v; want the write applied and the queue empty", st, applied, err)
	}
	e.PromptSavesDone(writes, applied)
	if n, err := fx.queue.Len(ctx, "tg", 21); n != 0 || err != nil {
		t.Fatalf("the update is still queued: %d, %v", n, err)
	}
	after, err := fx.convs.Get(ctx, k)
	if err != nil || after.PromptID != 500 || after.Version != before.Version+1 {
		t.Fatalf("after Done the state is %+v, %v; want prompt 500 at version %d", after, err, before.Version+1)
	}
	// The cache holds the written version: the next answer commits on the
	// first try, in one round trip (a stale cache would take three: the
	// lost commit, a load, the commit again), and strips the buttons of
	// prompt 500.
	trips := &redistest.RoundTrips{}
	fx.rdb.AddHook(trips)
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 3, SenderID: 21, Text: "الف"})
	if got := trips.Take(); err != nil || len(got) != 1 {
		t.Fatalf("the next answer: %v, round trips %q; want 1", err, got)
	}
	stripped := false
	for _, o := range outs {
		stripped = stripped || o.Edit == 500
	}
	if st, _ := fx.convs.Get(ctx, k); !stripped || st.Version != after.Version+1 || st.Answers["a"].Text != "الف" {
		t.Fatalf("after the next answer the state is %+v (prompt 500 stripped: %v); want version %d", st, stripped, after.Version+1)
	}

	// Another process moves the conversation before the write: it is left
	// out, and the engine reads the state again.
	if err := e.Prompted(ctx, k, 501); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.engine(flow).Handle(ctx, k, conversations.Input{UpdateID: 4, SenderID: 21, Text: "ب"}); err != nil {
		t.Fatal(err)
	}
	writes = e.TakePromptSaves("tg", 21)
	_, _, _, applied, err = fx.queue.DoneWith(ctx, "tg", 21, "me", 4, time.Minute, writes)
	if err != nil || len(applied) != 1 || applied[0] {
		t.Fatalf("DoneWith after a lost race = %v, %v; want the write left out", applied, err)
	}
	e.PromptSavesDone(writes, applied)
	if st, _ := fx.convs.Get(ctx, k); st.PromptID == 501 || st.Step != "c" {
		t.Fatalf("the lost write changed the state: %+v", st)
	}
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 5, SenderID: 21, Text: "پ"})
	if err != nil || !strings.Contains(texts(outs), "ثبت") && !strings.Contains(texts(outs), "تأیید") {
		t.Fatalf("the answer after the lost write = %q, %v; want the summary of the run", texts(outs), err)
	}
	if st, _ := fx.convs.Get(ctx, k); st.Answers["c"].Text != "پ" {
		t.Errorf("the answer after the lost write was not kept: %+v", st)
	}

	// Nothing is written for an owner that no longer holds the chat: the
	// holder may have moved the conversation on.
	if err := fx.queue.Push(ctx, "tg", 21, 9, []byte(`{"update_id":9}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, st, err := fx.queue.Take(ctx, "tg", 21, "holder", time.Minute); st != conversations.TakeTaken || err != nil {
		t.Fatalf("Take = %v, %v", st, err)
	}
	held, _ := fx.convs.Get(ctx, k)
	stale := []conversations.StateWrite{{Key: k, Expect: held.Version, Value: fmt.Sprintf("%d|{}", held.Version+1), TTL: time.Minute}}
	_, _, st, applied, err = fx.queue.DoneWith(ctx, "tg", 21, "me", 8, time.Minute, stale)
	if err != nil || st != conversations.TakeBusy || len(applied) != 1 || applied[0] {
		t.Fatalf("DoneWith of a chat another owner holds = %v, %v, %v; want busy, nothing written", st, applied, err)
	}
	if now, _ := fx.convs.Get(ctx, k); now.Version != held.Version || now.Flow != held.Flow {
		t.Errorf("the holder's state changed: %+v, was %+v", now, held)
	}

	// A write of another chat is refused whole.
	other := []conversations.StateWrite{{Key: conversations.Key{Platform: "tg", ChatID: 22, UserID: 22}, Expect: 1, Value: "2|{}", TTL: time.Minute}}
	if _, _, _, _, err := fx.queue.DoneWith(ctx, "tg", 21, "me", 6, time.Minute, other); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("DoneWith with another chat's write = %v, want EINVALID", err)
	}
}

// TestFlowLimit: a flow's Limit is asked with the account alone (the
// viewer is not looked up for it) at the start and again at submit, and
// its reason is what the person reads.
func TestFlowLimit(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	k := conversations.Key{Platform: "bale", ChatID: 31, UserID: 31}
	flow := textFlow(1, []string{"a"}, fx.store, fx.place, fx.commit)
	limited := ""
	var asked []string
	flow.Limit = func(_ context.Context, platform string, userID int64) (string, error) {
		asked = append(asked, fmt.Sprintf("%s:%d", platform, userID))
		return limited, nil
	}
	viewers := 0
	e := fx.engineWith(conversations.Config{Flows: []*conversations.Flow{flow},
		Viewer: func(context.Context, conversations.Key) (models.Viewer, error) {
			viewers++
			return models.Viewer{Platform: k.Platform, UserID: k.UserID}, nil
		}})
	outs, err := e.Handle(ctx, k, conversations.Input{UpdateID: 1, SenderID: 31, Command: "start"})
	if err != nil {
		t.Fatal(err)
	}
	start, before := menuData(t, outs), viewers
	if outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 2, SenderID: 31, CallbackID: "x", CallbackData: start}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(texts(outs), "پرسش a") || viewers != before || len(asked) != 1 || asked[0] != "bale:31" {
		t.Fatalf("start: %q, viewer looked up %d times, Limit asked %v; want the first step, no lookup, bale:31",
			texts(outs), viewers-before, asked)
	}
	if outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 3, SenderID: 31, Text: "الف"}); err != nil {
		t.Fatal(err)
	}
	limited = "تا فردا صبر کنید."
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 4, SenderID: 31, CallbackID: "y", CallbackData: buttonData(t, outs, "تأیید")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(texts(outs), limited) || len(asked) != 2 {
		t.Fatalf("submit past the limit: %q, Limit asked %d times; want the reason, asked twice", texts(outs), len(asked))
	}
	if n, err := fx.store.CountSuggestions(ctx); err != nil || n != 0 {
		t.Errorf("suggestions stored past the limit: %d, %v; want none", n, err)
	}
	if outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 5, SenderID: 31, CallbackID: "z", CallbackData: start}); err != nil ||
		!strings.Contains(texts(outs), limited) || strings.Contains(texts(outs), "پرسش a") {
		t.Errorf("start past the limit: %q, %v; want the reason and no step", texts(outs), err)
	}

	// With SubmitLimits the limit is Submit's to enforce: asked at the
	// start only.
	flow.SubmitLimits, limited, asked = true, "", nil
	if _, err = e.Handle(ctx, k, conversations.Input{UpdateID: 6, SenderID: 31, CallbackID: "v", CallbackData: start}); err != nil {
		t.Fatal(err)
	}
	if outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 7, SenderID: 31, Text: "الف"}); err != nil {
		t.Fatal(err)
	}
	limited = "تا فردا صبر کنید."
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 8, SenderID: 31, CallbackID: "w", CallbackData: buttonData(t, outs, "تأیید")})
	if err != nil || !strings.Contains(texts(outs), "ثبت شد") || len(asked) != 1 {
		t.Errorf("submit with SubmitLimits: %q, %v, Limit asked %d times; want it stored, Limit asked once", texts(outs), err, len(asked))
	}
}
