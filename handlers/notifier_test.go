package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mahalle/mahalle/bot"
	"github.com/mahalle/mahalle/handlers"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/models/modelstest"
	"github.com/mahalle/mahalle/persian"
)

// fakeNotifier stands for a platform's notice lane: it records what it was
// asked to send and fails the sends fail says.
type fakeNotifier struct {
	mu   sync.Mutex
	sent []bot.Message
	fail func(m bot.Message) error
}

func (f *fakeNotifier) Notify(_ context.Context, m bot.Message) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(m); err != nil {
			return 0, err
		}
	}
	f.sent = append(f.sent, m)
	return 1000 + len(f.sent), nil
}

func (f *fakeNotifier) texts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.sent {
		out = append(out, m.Text)
	}
	return out
}

// world is a seeded store with a clock the test moves, a county
// coordinator on Telegram (tg user 800), and fake notice lanes.
type world struct {
	s         *models.Store
	now       *time.Time
	place     models.PlaceMatch
	committee models.Committee
	coord     uint // the coordinator's person id
	tg, bale  *fakeNotifier
}

// tehran returns the UTC time of a Tehran wall-clock time on 2026-11-25.
func tehran(hour, minute int) time.Time {
	return time.Date(2026, 11, 25, hour, minute, 0, 0, persian.Tehran).UTC()
}

func newWorld(t testing.TB) *world {
	t.Helper()
	s := modelstest.Open(t)
	now := tehran(12, 0)
	s.Now = func() time.Time { return now }
	w := &world{s: s, now: &now, tg: &fakeNotifier{}, bale: &fakeNotifier{}}
	ps, err := s.SearchPlaces(t.Context(), persian.SearchKey("محله نمونه ۱ اراک"), 1)
	if err != nil || len(ps) != 1 {
		t.Fatalf("place: %+v, %v", ps, err)
	}
	w.place = ps[0]
	cs, err := s.Committees(t.Context(), w.place.ProvinceID)
	if err != nil {
		t.Fatal(err)
	}
	w.committee = cs[0]
	if _, err := s.AssignStaff(t.Context(), models.ActorCLI, models.StaffRequest{Phone: "09129999999", Role: models.RoleCounty, CountyID: w.place.CountyID}); err != nil {
		t.Fatal(err)
	}
	p, _, err := s.LinkPhone(t.Context(), "tg", 800, 800, "09129999999")
	if err != nil {
		t.Fatal(err)
	}
	w.coord = p.ID
	// The coordinator is told of their appointment; the tests start after.
	tick(t, w.notifier(t, ""))
	if got := w.tg.texts(); len(got) != 1 || got[0] != "شما هماهنگ‌کنندهٔ شهرستان اراک شدید." {
		t.Fatalf("appointment notice = %q", got)
	}
	w.tg.sent = nil
	return w
}

func (w *world) notifier(t testing.TB, quiet string) *handlers.Notices {
	t.Helper()
	q, err := models.ParseQuietHours(quiet)
	if err != nil {
		t.Fatal(err)
	}
	return handlers.NewNotices(handlers.NotifierConfig{
		Outbox:    w.s,
		Notifiers: map[bot.Platform]handlers.Notifier{bot.Telegram: w.tg, bot.Bale: w.bale},
		Quiet:     q,
		Lease:     time.Minute,
	})
}

// residents numbers the residents who suggest.
var residents atomic.Int64

// suggest stores a resident's suggestion for the place; with no council
// there, it goes to the county's coordinator. Each comes from a resident
// of its own: the store takes a few an hour from one.
func (w *world) suggest(t *testing.T, key, text string) models.Suggestion {
	t.Helper()
	sg := models.Suggestion{Key: key, Platform: "tg", UserID: 5000 + residents.Add(1), PlaceID: w.place.ID, CommitteeID: w.committee.ID, Text: text}
	if err := w.s.CreateSuggestion(t.Context(), &sg); err != nil {
		t.Fatal(err)
	}
	return sg
}

func tick(t testing.TB, n *handlers.Notices) handlers.TickReport {
	t.Helper()
	rep, err := n.Tick(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func notices(t *testing.T, s *models.Store, kind string) []models.Notice {
	t.Helper()
	ns, err := s.Notices(t.Context(), models.NoticeFilter{Kind: kind, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestNotifierDeliversOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sg := w.suggest(t, "s1", "چراغ کوچه خاموش است")
	n := w.notifier(t, "22-07")
	if rep := tick(t, n); rep.Messages != 1 {
		t.Fatalf("first round = %+v, want one message", rep)
	}
	got := w.tg.sent
	if len(got) != 1 || got[0].ChatID != 800 || !strings.HasPrefix(got[0].Text, "پیشنهاد تازه از ساکنان محله نمونه ۱ اراک") ||
		!strings.Contains(got[0].Text, sg.Code) || len(got[0].Inline) != 1 || got[0].Inline[0][0].Data != fmt.Sprintf("m|menu|inbox:%d", sg.ID) {
		t.Errorf("sent = %+v", got)
	}
	rows := notices(t, w.s, models.KindSuggestion)
	if len(rows) != 1 || rows[0].Status != models.NoticeDelivered || rows[0].Attempts != 1 || rows[0].SentMessageID != 1001 ||
		rows[0].SentPlatform != "tg" || rows[0].DeliveredAt == nil {
		t.Errorf("report = %+v", rows)
	}
	*w.now = w.now.Add(time.Hour)
	if rep := tick(t, n); rep.Messages != 0 || len(w.tg.sent) != 1 {
		t.Errorf("second round = %+v, sent %d; want nothing more", rep, len(w.tg.sent))
	}
}

// TestNotifierLastPlatform: a person known on Telegram and Bale gets the
// notice on the one they last wrote from.
func TestNotifierLastPlatform(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if _, _, err := w.s.LinkPhone(t.Context(), "bale", 9800, 9800, "09129999999"); err != nil {
		t.Fatal(err)
	}
	*w.now = w.now.Add(5 * time.Minute)
	if _, err := w.s.Viewer(t.Context(), "tg", 800); err != nil { // they write on Telegram
		t.Fatal(err)
	}
	*w.now = w.now.Add(5 * time.Minute)
	if _, err := w.s.Viewer(t.Context(), "bale", 9800); err != nil { // then on Bale
		t.Fatal(err)
	}
	w.suggest(t, "s1", "آب قطع است")
	tick(t, w.notifier(t, ""))
	if len(w.bale.sent) != 1 || len(w.tg.sent) != 0 || w.bale.sent[0].ChatID != 9800 {
		t.Errorf("bale got %d, telegram %d; want the one message on Bale", len(w.bale.sent), len(w.tg.sent))
	}
}

// TestNotifierBlockedStops: a 403 marks the row unreachable and it is never
// tried again.
func TestNotifierBlockedStops(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tries := 0
	w.tg.fail = func(bot.Message) error { tries++; return fmt.Errorf("send: %w", bot.ErrBlocked) }
	w.suggest(t, "s1", "پیشنهاد")
	n := w.notifier(t, "")
	if rep := tick(t, n); rep.Unreached != 1 {
		t.Errorf("round = %+v, want one unreached", rep)
	}
	for range 3 {
		*w.now = w.now.Add(2 * time.Hour)
		tick(t, n)
	}
	rows := notices(t, w.s, models.KindSuggestion)
	if tries != 1 || len(rows) != 1 || rows[0].Status != models.NoticeUnreachable || rows[0].Attempts != 1 ||
		rows[0].LastError != "blocked (403)" || rows[0].FailedAt == nil {
		t.Errorf("tries = %d, report = %+v; want one try, unreachable", tries, rows)
	}
}

// TestNotifierRetriesWithBackoff: a failed send is tried again after 30s,
// then 1m, and delivered once the platform answers.
func TestNotifierRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	failures := 2
	w.tg.fail = func(bot.Message) error {
		if failures > 0 {
			failures--
			return fmt.Errorf("send: %w", bot.ErrTooManyRequests)
		}
		return nil
	}
	w.suggest(t, "s1", "پیشنهاد")
	n := w.notifier(t, "")
	start := *w.now
	steps := []struct {
		after      time.Duration
		wantStatus string
		wantSent   int
	}{
		{0, models.NoticePending, 0},                  // first failure: next try at +30s
		{29 * time.Second, models.NoticePending, 0},   // not yet due
		{31 * time.Second, models.NoticePending, 0},   // second failure: next at +31s+1m
		{80 * time.Second, models.NoticePending, 0},   // not yet due
		{92 * time.Second, models.NoticeDelivered, 1}, // delivered
	}
	for _, st := range steps {
		*w.now = start.Add(st.after)
		tick(t, n)
		rows := notices(t, w.s, models.KindSuggestion)
		if rows[0].Status != st.wantStatus || len(w.tg.sent) != st.wantSent {
			t.Errorf("at +%s: status %s, sent %d; want %s, %d (row %+v)", st.after, rows[0].Status, len(w.tg.sent), st.wantStatus, st.wantSent, rows[0])
		}
	}
	if rows := notices(t, w.s, models.KindSuggestion); rows[0].Attempts != 3 {
		t.Errorf("attempts = %d, want 3", rows[0].Attempts)
	}
}

// TestNotifierQuietHours: at 23:00 Tehran a suggestion waits for 07:00,
// while a decision on the person's own request goes at once.
func TestNotifierQuietHours(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	*w.now = tehran(23, 0)
	w.suggest(t, "s1", "پیشنهاد شبانه")
	// The coordinator also asked to join a council; the approval is urgent.
	m, err := w.s.RequestMembership(t.Context(), models.MembershipRequest{Platform: "tg", UserID: 800, Phone: "09129999999", Name: "هماهنگ کننده",
		PlaceID: w.place.ID, CommitteeID: w.committee.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.s.ActivateMembership(t.Context(), models.ActorCLI, m.ID); err != nil {
		t.Fatal(err)
	}
	n := w.notifier(t, "22-07")
	tick(t, n)
	if got := w.tg.texts(); len(got) != 1 || !strings.HasPrefix(got[0], "✅ درخواست عضویت شما تأیید شد") {
		t.Errorf("sent in quiet hours = %q, want only the approval", got)
	}
	*w.now = tehran(23, 59).Add(6 * time.Hour) // 05:59 the next day
	tick(t, n)
	if len(w.tg.sent) != 1 {
		t.Errorf("sent before 07:00 = %q", w.tg.texts())
	}
	*w.now = tehran(7, 0).AddDate(0, 0, 1)
	tick(t, n)
	got := w.tg.texts()
	if len(got) != 3 || !strings.HasPrefix(got[1], "پیشنهاد تازه") || !strings.HasPrefix(got[2], "درخواست عضویت تازه: هماهنگ کننده") {
		t.Errorf("sent at 07:00 = %q, want the held suggestion and membership request too", got)
	}
	// A person who turned quiet hours off gets them at night.
	if err := w.s.SetPrefs(t.Context(), models.NoticePrefs{PersonID: w.coord, Quiet: "none"}); err != nil {
		t.Fatal(err)
	}
	*w.now = tehran(23, 30).AddDate(0, 0, 1)
	w.suggest(t, "s2", "پیشنهاد دوم")
	tick(t, n)
	if len(w.tg.sent) != 4 {
		t.Errorf("with quiet hours off, sent = %q", w.tg.texts())
	}
}

// TestNotifierDigest: a person reading a daily digest at 08:00 gets one
// message with the counts and the oldest notices first.
func TestNotifierDigest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if err := w.s.SetPrefs(t.Context(), models.NoticePrefs{PersonID: w.coord, Mode: models.NoticeDigest, DigestHour: 8}); err != nil {
		t.Fatal(err)
	}
	n := w.notifier(t, "22-07")
	for i, text := range []string{"اول", "دوم", "سوم"} {
		*w.now = tehran(13+i, 0)
		w.suggest(t, fmt.Sprintf("s%d", i), "پیشنهاد "+text)
		tick(t, n)
	}
	*w.now = tehran(7, 59).AddDate(0, 0, 1)
	tick(t, n)
	if len(w.tg.sent) != 0 {
		t.Fatalf("sent before the digest hour = %q", w.tg.texts())
	}
	*w.now = tehran(8, 0).AddDate(0, 0, 1)
	tick(t, n)
	got := w.tg.texts()
	if len(got) != 1 {
		t.Fatalf("digest = %q, want one message", got)
	}
	d := got[0]
	if !strings.HasPrefix(d, "خلاصهٔ پیام‌های شما: ۳ پیام تازه (۳ پیشنهاد)") ||
		!(strings.Index(d, "پیشنهاد اول") < strings.Index(d, "پیشنهاد دوم") && strings.Index(d, "پیشنهاد دوم") < strings.Index(d, "پیشنهاد سوم")) ||
		len(w.tg.sent[0].Inline) != 3 {
		t.Errorf("digest = %q (%d buttons), want counts and the oldest first", d, len(w.tg.sent[0].Inline))
	}
	for _, r := range notices(t, w.s, models.KindSuggestion) {
		if r.Status != models.NoticeDelivered || r.SentMessageID != 1001 {
			t.Errorf("row after the digest = %+v", r)
		}
	}
}

// TestNotifierCrash stops the worker, as kill -9 would, between the claim
// and the send, and between the send and the mark; a new worker (a
// restart) after the lease delivers every notice. It counts the duplicates:
// only a crash between the send and the mark can show one twice.
func TestNotifierCrash(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		before         bool
		wantDuplicates int
	}{
		{"between commit and send", true, 0},
		{"between send and mark", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.suggest(t, "s1", "پیشنهاد")
			crash := func(models.Batch) bool { return false }
			cfg := handlers.NotifierConfig{Outbox: w.s, Notifiers: map[bot.Platform]handlers.Notifier{bot.Telegram: w.tg}, Lease: time.Minute}
			if tc.before {
				cfg.BeforeSend = crash
			} else {
				cfg.AfterSend = crash
			}
			if _, err := handlers.NewNotices(cfg).Tick(t.Context()); err == nil {
				t.Fatal("the crash hook did not stop the worker")
			}
			restarted := w.notifier(t, "")
			tick(t, restarted) // within the lease: the row is still ours
			*w.now = w.now.Add(61 * time.Second)
			tick(t, restarted)
			rows := notices(t, w.s, models.KindSuggestion)
			dups := len(w.tg.sent) - len(rows)
			if rows[0].Status != models.NoticeDelivered || dups != tc.wantDuplicates {
				t.Errorf("status %s, sent %d for %d notices (%d duplicates); want delivered, %d duplicates",
					rows[0].Status, len(w.tg.sent), len(rows), dups, tc.wantDuplicates)
			}
			t.Logf("crash %s: %d notice, %d sends, %d duplicate", tc.name, len(rows), len(w.tg.sent), dups)
		})
	}
}

// TestNotifierTwoWorkers runs two workers on one outbox at once, as two
// replicas would: every notice is sent once (PostgreSQL: they skip each
// other's locked rows; SQLite: one writer).
func TestNotifierTwoWorkers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const n = 60
	for i := range n {
		w.suggest(t, fmt.Sprintf("s%d", i), fmt.Sprintf("پیشنهاد شمارهٔ %d", i))
	}
	workers := []*handlers.Notices{}
	for range 2 {
		workers = append(workers, handlers.NewNotices(handlers.NotifierConfig{
			Outbox: w.s, Notifiers: map[bot.Platform]handlers.Notifier{bot.Telegram: w.tg}, Batch: 7}))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, wk := range workers {
		wg.Go(func() {
			for {
				rep, err := wk.Tick(t.Context())
				if err != nil {
					errs <- err
					return
				}
				if rep.Messages == 0 && rep.Failed == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, text := range w.tg.texts() {
		seen[text]++
	}
	if len(w.tg.sent) != n || len(seen) != n {
		t.Errorf("sent %d messages, %d distinct; want %d, each once", len(w.tg.sent), len(seen), n)
	}
}
