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
	if data, ok := findButton(outs, label); ok {
		return data
	}
	t.Fatalf("no button %q in %q", label, texts(outs))
	return ""
}

// findButton is the data of first button whose text contains label.
func findButton(outs []conversations.Out, label string) (string, bool) {
	for _, o := range outs {
		for _, row := range o.Buttons {
			for _, b := range row {
				if strings.Contains(b.Text, label) {
					return b.Data, true
				}
			}
		}
	}
	return "", false
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

// deferredChat handles updates of one chat as the bot does with
// DeferWrites: each is queued and taken, handled, and acknowledged by a
// Done that carries the engine's writes.
type deferredChat struct {
	t  *testing.T
	fx *fixture
	e  *conversations.Engine
	k  conversations.Key
}

// take queues update id and takes the chat for owner "me".
func (c deferredChat) take(id int) {
	c.t.Helper()
	ctx := context.Background()
	if err := c.fx.queue.Push(ctx, c.k.Platform, c.k.ChatID, id, []byte(fmt.Sprintf(`{"update_id":%d}`, id))); err != nil {
		c.t.Fatal(err)
	}
	if got, _, st, err := c.fx.queue.Take(ctx, c.k.Platform, c.k.ChatID, "me", time.Minute); st != conversations.TakeTaken || err != nil {
		c.t.Fatalf("Take = %d, %v, %v", got, st, err)
	}
}

// done acknowledges update id with the engine's writes and returns what
// became of them and the update the queue gave next (0: none).
func (c deferredChat) done(id int) ([]bool, int, conversations.TakeStatus) {
	c.t.Helper()
	writes := c.e.TakeWrites(c.k.Platform, c.k.ChatID)
	if again := c.e.TakeWrites(c.k.Platform, c.k.ChatID); len(again) != 0 {
		c.t.Fatalf("TakeWrites gave %d writes a second time", len(again))
	}
	next, _, st, applied, err := c.fx.queue.DoneWith(context.Background(), c.k.Platform, c.k.ChatID, "me", id, time.Minute, writes)
	if err != nil {
		c.t.Fatalf("DoneWith(%d) = %v", id, err)
	}
	c.e.WritesDone(writes, applied)
	return applied, next, st
}

// handle takes update in, handles it, reports prompt (0: none) as the
// router does after sending, and acknowledges it; applied is what became
// of its writes.
func (c deferredChat) handle(in conversations.Input, prompt int) ([]conversations.Out, []bool) {
	c.t.Helper()
	c.take(in.UpdateID)
	outs, err := c.e.Handle(context.Background(), c.k, in)
	if err != nil {
		c.t.Fatalf("update %d: %v", in.UpdateID, err)
	}
	if prompt != 0 {
		if err := c.e.Prompted(context.Background(), c.k, prompt); err != nil {
			c.t.Fatal(err)
		}
	}
	applied, next, _ := c.done(in.UpdateID)
	if next != 0 {
		c.t.Fatalf("after update %d the queue gave %d", in.UpdateID, next)
	}
	return outs, applied
}

// TestDeferredWritesRideOnDone: with DeferWrites an update's transition
// and its prompt's message id are written by the queue's Done that
// acknowledges the update, in one write with the update's dedup mark; the
// cache then agrees with Redis. A transition that is not written leaves
// its update queued, and handling it again starts from the stored state.
func TestDeferredWritesRideOnDone(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	k := conversations.Key{Platform: "tg", ChatID: 21, UserID: 21}
	flow := textFlow(1, []string{"a", "b", "c"}, fx.store, fx.place, fx.commit)
	e := fx.engineWith(conversations.Config{Flows: []*conversations.Flow{flow}, DeferWrites: true})
	c := deferredChat{t: t, fx: fx, e: e, k: k}

	outs, applied := c.handle(conversations.Input{UpdateID: 1, SenderID: 21, Command: "start"}, 0)
	if len(applied) != 0 {
		t.Fatalf("the menu wrote %v, want nothing", applied)
	}

	// Nothing is written before the Done; the transition and the prompt
	// shown for it are then one write.
	c.take(2)
	if _, err := e.Handle(ctx, k, conversations.Input{UpdateID: 2, SenderID: 21, CallbackID: "x", CallbackData: menuData(t, outs)}); err != nil {
		t.Fatal(err)
	}
	if err := e.Prompted(ctx, k, 500); err != nil {
		t.Fatal(err)
	}
	if st, err := fx.convs.Get(ctx, k); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("the transition was written before the Done: %+v, %v", st, err)
	}
	if applied, _, _ := c.done(2); len(applied) != 1 || !applied[0] {
		t.Fatalf("Done wrote %v, want one write", applied)
	}
	after, err := fx.convs.Get(ctx, k)
	if err != nil || after.Flow != "t" || after.PromptID != 500 || after.Version != 1 {
		t.Fatalf("after Done the state is %+v, %v; want flow t, prompt 500 at version 1", after, err)
	}
	if n, err := fx.queue.Len(ctx, "tg", 21); n != 0 || err != nil {
		t.Fatalf("the update is still queued: %d, %v", n, err)
	}
	// Its dedup mark was written with it: another process that gets the
	// update again replays it.
	if snap, err := fx.convs.Load(ctx, k, 2); err != nil || !snap.Seen {
		t.Fatalf("update 2 is not marked applied: %+v, %v", snap, err)
	}

	// The cache holds the written version: the next answer touches Redis
	// only in its Done, and strips the buttons of prompt 500.
	trips := &redistest.RoundTrips{}
	fx.rdb.AddHook(trips)
	c.take(3)
	trips.Take()
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 3, SenderID: 21, Text: "الف"})
	if got := trips.Take(); err != nil || len(got) != 0 {
		t.Fatalf("the next answer: %v, round trips %q; want none before the Done", err, got)
	}
	if applied, _, _ := c.done(3); len(applied) != 1 || !applied[0] {
		t.Fatalf("Done wrote %v, want the transition", applied)
	}
	stripped := false
	for _, o := range outs {
		stripped = stripped || o.Edit == 500
	}
	if st, _ := fx.convs.Get(ctx, k); !stripped || st.Version != after.Version+1 || st.Answers["a"].Text != "الف" {
		t.Fatalf("after the next answer the state is %+v (prompt 500 stripped: %v); want version %d", st, stripped, after.Version+1)
	}

	// Someone else writes the conversation before the Done: the
	// transition is left out, the update stays at the head of the queue,
	// and handling it again starts from what is stored.
	c.take(4)
	if _, err := e.Handle(ctx, k, conversations.Input{UpdateID: 4, SenderID: 21, Text: "ب"}); err != nil {
		t.Fatal(err)
	}
	moved, _ := fx.convs.Get(ctx, k)
	moved.PromptID = 777
	if _, err := fx.convs.Save(ctx, k, moved.Version, &moved, time.Hour); err != nil {
		t.Fatal(err)
	}
	applied, next, st := c.done(4)
	if len(applied) != 1 || applied[0] || next != 4 || st != conversations.TakeTaken {
		t.Fatalf("Done after a lost race = %v, next %d (%v); want the write left out and update 4 given again", applied, next, st)
	}
	if got, _ := fx.convs.Get(ctx, k); got.Step != "b" || got.PromptID != 777 {
		t.Fatalf("the lost write changed the state: %+v", got)
	}
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 4, SenderID: 21, Text: "ب"})
	if err != nil {
		t.Fatal(err)
	}
	stripped = false
	for _, o := range outs {
		stripped = stripped || o.Edit == 777
	}
	if applied, next, _ := c.done(4); !stripped || len(applied) != 1 || !applied[0] || next != 0 {
		t.Fatalf("handled again: prompt 777 stripped %v, Done wrote %v, next %d; want the write and an empty queue", stripped, applied, next)
	}
	if got, _ := fx.convs.Get(ctx, k); got.Step != "c" || got.Answers["b"].Text != "ب" {
		t.Fatalf("after handling it again the state is %+v", got)
	}

	// A Done that never came (the attempt failed): the update is handled
	// again from the stored state, and its one write lands once.
	c.take(5)
	if _, err := e.Handle(ctx, k, conversations.Input{UpdateID: 5, SenderID: 21, Text: "پ"}); err != nil {
		t.Fatal(err)
	}
	outs, err = e.Handle(ctx, k, conversations.Input{UpdateID: 5, SenderID: 21, Text: "پ"})
	if err != nil || !strings.Contains(texts(outs), "تأیید") && !strings.Contains(texts(outs), "ثبت") {
		t.Fatalf("the attempt after a missed Done = %q, %v; want the summary of the run", texts(outs), err)
	}
	before, _ := fx.convs.Get(ctx, k)
	if applied, _, _ := c.done(5); len(applied) != 1 || !applied[0] {
		t.Fatalf("Done wrote %v, want one write", applied)
	}
	if got, _ := fx.convs.Get(ctx, k); got.Version != before.Version+1 || got.Answers["c"].Text != "پ" {
		t.Fatalf("after the missed Done the state is %+v, was at version %d", got, before.Version)
	}

	// An update another owner applied already: the write is left out and
	// the update removed.
	c.take(6)
	if _, err := e.Handle(ctx, k, conversations.Input{UpdateID: 6, SenderID: 21, Text: "/cancel", Command: "cancel"}); err != nil {
		t.Fatal(err)
	}
	if err := fx.convs.MarkSeen(ctx, k, 6); err != nil {
		t.Fatal(err)
	}
	if applied, next, _ := c.done(6); len(applied) != 1 || applied[0] || next != 0 {
		t.Fatalf("Done of an update applied before = %v, next %d; want nothing written and the update removed", applied, next)
	}
	if n, err := fx.queue.Len(ctx, "tg", 21); n != 0 || err != nil {
		t.Fatalf("the update applied before is still queued: %d, %v", n, err)
	}

	// Nothing is written, and nothing removed, for an owner that no longer
	// holds the chat (its claim ran out and another took the chat): the
	// holder handles the update.
	if err := fx.queue.Push(ctx, "tg", 21, 7, []byte(`{"update_id":7}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, st, err := fx.queue.Take(ctx, "tg", 21, "holder", time.Minute); st != conversations.TakeTaken || err != nil {
		t.Fatalf("Take by the holder = %v, %v", st, err)
	}
	held, _ := fx.convs.Get(ctx, k)
	if _, err := e.Handle(ctx, k, conversations.Input{UpdateID: 7, SenderID: 21, Command: "start"}); err != nil {
		t.Fatal(err)
	}
	applied, _, st = c.done(7)
	if len(applied) != 1 || applied[0] || st != conversations.TakeBusy {
		t.Fatalf("Done of a chat another owner holds = %v, %v; want busy, nothing written", applied, st)
	}
	if n, _ := fx.queue.Len(ctx, "tg", 21); n != 1 {
		t.Errorf("the holder's update was removed: %d queued", n)
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

// With webhook replicas (Shared: no state cache) the id of a prompt just
// sent is still stored with the transition it follows, so that a typed
// answer later takes the buttons off that prompt, whichever replica gets it.
func TestSharedModeRemembersPrompts(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	k := conversations.Key{Platform: "tg", ChatID: 23, UserID: 23}
	flow := textFlow(1, []string{"a", "b"}, fx.store, fx.place, fx.commit)
	e := fx.engineWith(conversations.Config{Flows: []*conversations.Flow{flow}, DeferWrites: true, Shared: true})
	c := deferredChat{t: t, fx: fx, e: e, k: k}

	outs, _ := c.handle(conversations.Input{UpdateID: 1, SenderID: 23, Command: "start"}, 0)
	if _, applied := c.handle(conversations.Input{UpdateID: 2, SenderID: 23, CallbackID: "x", CallbackData: menuData(t, outs)}, 700); len(applied) != 1 || !applied[0] {
		t.Fatalf("starting the flow wrote %v, want one write", applied)
	}
	st, err := fx.convs.Get(ctx, k)
	if err != nil || st.Flow != "t" || st.PromptID != 700 || st.Version != 1 {
		t.Fatalf("the stored state is %+v, %v; want flow t with prompt 700 at version 1 (one write)", st, err)
	}
	// Another replica (a second engine) gets the typed answer: it strips
	// prompt 700's buttons.
	other := fx.engineWith(conversations.Config{Flows: []*conversations.Flow{flow}, DeferWrites: true, Shared: true})
	c.e = other
	outs, applied := c.handle(conversations.Input{UpdateID: 3, SenderID: 23, Text: "الف"}, 701)
	stripped := false
	for _, o := range outs {
		stripped = stripped || (o.Edit == 700 && len(o.Buttons) == 0)
	}
	if !stripped || len(applied) != 1 || !applied[0] {
		t.Fatalf("the typed answer: prompt 700 stripped %v, writes %v; outs %+v", stripped, applied, outs)
	}
	if st, err := fx.convs.Get(ctx, k); err != nil || st.PromptID != 701 || st.Answers["a"].Text != "الف" {
		t.Fatalf("after the answer the state is %+v, %v; want prompt 701 and the answer", st, err)
	}
}
