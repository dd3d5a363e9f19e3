package models_test

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/models/modelstest"
	"github.com/mahalle/mahalle/persian"
)

var codePattern = regexp.MustCompile(`^S-[` + models.SuggestionCodeAlphabet + `]{5}$`)

// fixture returns a seeded store with a fixed clock, and a demo place and a
// committee to attach suggestions to.
func fixture(t *testing.T) (*models.Store, models.PlaceMatch, models.Committee, time.Time) {
	t.Helper()
	s := modelstest.Open(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 123456000, time.UTC)
	s.Now = func() time.Time { return now }
	places, err := s.SearchPlaces(t.Context(), persian.SearchKey("محله نمونه ۱ اراک"), 1)
	if err != nil || len(places) != 1 {
		t.Fatalf("fixture place: %v, %+v", err, places)
	}
	cs, err := s.Committees(t.Context(), places[0].ProvinceID)
	if err != nil || len(cs) == 0 {
		t.Fatalf("fixture committees: %v, %+v", err, cs)
	}
	return s, places[0], cs[0], now
}

func TestCreateSuggestion(t *testing.T) {
	t.Parallel()
	s, place, committee, now := fixture(t)
	ctx := t.Context()
	lat, lon := 34.09, 49.69
	sg := models.Suggestion{
		Key: "run-1", Platform: "tg", UserID: 777, PlaceID: place.ID, CommitteeID: committee.ID,
		Text: "چراغ کوچه خاموش است", PhotoFileIDs: models.StringList{"photo-a", "photo-b"},
		Lat: &lat, Lon: &lon, SenderName: "علی",
	}
	if err := s.CreateSuggestion(ctx, &sg); err != nil {
		t.Fatal(err)
	}
	if sg.ID == 0 || !codePattern.MatchString(sg.Code) {
		t.Fatalf("created suggestion has ID %d, Code %q", sg.ID, sg.Code)
	}
	if sg.Status != models.StatusNew || !sg.CreatedAt.Equal(now) || !sg.UpdatedAt.Equal(now) {
		t.Errorf("created suggestion = %+v, want status new and timestamps %v", sg, now)
	}

	got, err := s.SuggestionByCode(ctx, strings.ToLower(sg.Code))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != sg.ID || got.Key != "run-1" || got.Text != sg.Text || got.UserID != 777 || got.Platform != "tg" ||
		!slices.Equal(got.PhotoFileIDs, []string{"photo-a", "photo-b"}) || got.SenderName != "علی" ||
		got.Lat == nil || *got.Lat != lat || got.Lon == nil || *got.Lon != lon || !got.CreatedAt.Equal(now) {
		t.Errorf("SuggestionByCode = %+v, want %+v", got, sg)
	}
	if got2, err := s.SuggestionByCode(ctx, " "+strings.TrimPrefix(sg.Code, "S-")+" "); err != nil || got2.ID != sg.ID {
		t.Errorf("SuggestionByCode without prefix = %+v, %v", got2, err)
	}

	entries, err := s.AuditEntries(ctx, models.EntitySuggestion, sg.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := models.AuditEntry{ID: entries[0].ID, At: now, ActorPlatform: "tg", ActorUserID: 777,
		Action: models.AuditCreate, Entity: models.EntitySuggestion, EntityID: sg.ID, Detail: sg.Code}
	if len(entries) != 1 || entries[0].ID == 0 || !entries[0].At.Equal(now) {
		t.Fatalf("audit entries = %+v, want one at %v", entries, now)
	}
	entries[0].At = now
	if entries[0] != want {
		t.Errorf("audit entry = %+v, want %+v", entries[0], want)
	}
}

func TestCreateSuggestionVoiceOnlyAndAnonymous(t *testing.T) {
	t.Parallel()
	s, place, committee, _ := fixture(t)
	sg := models.Suggestion{Key: "run-voice", Platform: "bale", UserID: 5, PlaceID: place.ID, CommitteeID: committee.ID,
		VoiceFileID: "voice-1", Anonymous: true, SenderName: "نباید ذخیره شود"}
	if err := s.CreateSuggestion(t.Context(), &sg); err != nil {
		t.Fatal(err)
	}
	got, err := s.SuggestionByCode(t.Context(), sg.Code)
	if err != nil {
		t.Fatal(err)
	}
	if got.SenderName != "" || !got.Anonymous || got.UserID != 5 || got.VoiceFileID != "voice-1" || got.PhotoFileIDs != nil {
		t.Errorf("anonymous voice suggestion = %+v", got)
	}
}

func TestCreateSuggestionReplay(t *testing.T) {
	t.Parallel()
	s, place, committee, _ := fixture(t)
	ctx := t.Context()
	first := models.Suggestion{Key: "run-replay", Platform: "tg", UserID: 1, PlaceID: place.ID, CommitteeID: committee.ID, Text: "اول"}
	if err := s.CreateSuggestion(ctx, &first); err != nil {
		t.Fatal(err)
	}
	replay := models.Suggestion{Key: "run-replay", Platform: "tg", UserID: 1, PlaceID: place.ID, CommitteeID: committee.ID, Text: "دوباره"}
	if err := s.CreateSuggestion(ctx, &replay); err != nil {
		t.Fatal(err)
	}
	if replay.ID != first.ID || replay.Code != first.Code || replay.Text != "اول" {
		t.Errorf("replay = %+v, want the stored %+v", replay, first)
	}
	if n, err := s.CountSuggestions(ctx); err != nil || n != 1 {
		t.Errorf("CountSuggestions = %d, %v; want 1", n, err)
	}
}

func TestCreateSuggestionConcurrentSameKey(t *testing.T) {
	t.Parallel()
	s, place, committee, _ := fixture(t)
	ctx := t.Context()
	const calls = 20
	results := make([]models.Suggestion, calls)
	errs := make([]error, calls)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			<-start
			results[i] = models.Suggestion{Key: "run-race", Platform: "tg", UserID: 9, PlaceID: place.ID,
				CommitteeID: committee.ID, Text: fmt.Sprintf("تلاش %d", i)}
			errs[i] = s.CreateSuggestion(ctx, &results[i])
		})
	}
	close(start)
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if results[i].ID != results[0].ID || results[i].Code != results[0].Code || results[i].Text != results[0].Text {
			t.Errorf("call %d got %+v, call 0 got %+v", i, results[i], results[0])
		}
	}
	if n, err := s.CountSuggestions(ctx); err != nil || n != 1 {
		t.Errorf("CountSuggestions = %d, %v; want exactly 1", n, err)
	}
	if es, err := s.AuditEntries(ctx, models.EntitySuggestion, results[0].ID); err != nil || len(es) != 1 {
		t.Errorf("audit entries = %d, %v; want exactly 1", len(es), err)
	}
}

func TestSuggestionCodesUnique(t *testing.T) {
	t.Parallel()
	s, place, committee, _ := fixture(t)
	ctx := t.Context()
	const n, workers = 2000, 8
	codes := make([]string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				// One resident each: the store takes a few an hour from one.
				sg := models.Suggestion{Key: fmt.Sprintf("bulk-%d", i), UserID: int64(i + 1), PlaceID: place.ID, CommitteeID: committee.ID, Text: "متن"}
				if err := s.CreateSuggestion(ctx, &sg); err != nil {
					errs <- err
					return
				}
				codes[i] = sg.Code
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := make(map[string]bool, n)
	for _, c := range codes {
		if !codePattern.MatchString(c) {
			t.Errorf("code %q does not match %v", c, codePattern)
		}
		if seen[c] {
			t.Errorf("code %q given twice", c)
		}
		seen[c] = true
	}
	if got, err := s.CountSuggestions(ctx); err != nil || got != n {
		t.Errorf("CountSuggestions = %d, %v; want %d", got, err, n)
	}
}

func TestNewSuggestionCode(t *testing.T) {
	t.Parallel()
	counts := map[rune]int{}
	for range 5000 {
		c, err := models.NewSuggestionCode()
		if err != nil {
			t.Fatal(err)
		}
		if !codePattern.MatchString(c) {
			t.Fatalf("code %q does not match %v", c, codePattern)
		}
		for _, r := range c[2:] {
			counts[r]++
		}
	}
	// Every character of the alphabet shows up: the draw is not biased to a subset.
	for _, r := range models.SuggestionCodeAlphabet {
		if counts[r] == 0 {
			t.Errorf("character %q never drawn in 25000 draws", r)
		}
	}
}

func TestCreateSuggestionRetriesOnCodeCollision(t *testing.T) {
	t.Parallel()
	s, place, committee, _ := fixture(t)
	ctx := t.Context()
	codes := make(chan string, 10)
	for _, c := range []string{"S-AAAAA", "S-AAAAA", "S-AAAAA", "S-CCCCC"} {
		codes <- c
	}
	models.SetCodeGenerator(s, func() (string, error) {
		select {
		case c := <-codes:
			return c, nil
		default:
			return "S-AAAAA", nil
		}
	})

	first := models.Suggestion{Key: "k1", PlaceID: place.ID, CommitteeID: committee.ID, Text: "یک"}
	if err := s.CreateSuggestion(ctx, &first); err != nil {
		t.Fatal(err)
	}
	second := models.Suggestion{Key: "k2", PlaceID: place.ID, CommitteeID: committee.ID, Text: "دو"}
	if err := s.CreateSuggestion(ctx, &second); err != nil {
		t.Fatal(err)
	}
	if first.Code != "S-AAAAA" || second.Code != "S-CCCCC" {
		t.Errorf("codes = %q, %q; want S-AAAAA, then S-CCCCC after two collisions", first.Code, second.Code)
	}

	// A generator that only ever collides gives up with EINTERNAL, not a loop.
	third := models.Suggestion{Key: "k3", PlaceID: place.ID, CommitteeID: committee.ID, Text: "سه"}
	err := s.CreateSuggestion(ctx, &third)
	if got, want := models.ErrorCode(err), models.EINTERNAL; got != want {
		t.Errorf("CreateSuggestion with no free code: code %q, want %q (err %v)", got, want, err)
	}
	if n, err := s.CountSuggestions(ctx); err != nil || n != 2 {
		t.Errorf("CountSuggestions = %d, %v; want 2", n, err)
	}
}

func TestCreateSuggestionInvalid(t *testing.T) {
	t.Parallel()
	s, place, committee, _ := fixture(t)
	bad := 91.0
	valid := func() models.Suggestion {
		return models.Suggestion{Key: "k", PlaceID: place.ID, CommitteeID: committee.ID, Text: "متن"}
	}
	tests := []struct {
		name   string
		change func(*models.Suggestion)
	}{
		{"no key", func(sg *models.Suggestion) { sg.Key = " " }},
		{"no place", func(sg *models.Suggestion) { sg.PlaceID = 0 }},
		{"no committee", func(sg *models.Suggestion) { sg.CommitteeID = 0 }},
		{"no text nor voice", func(sg *models.Suggestion) { sg.Text = " \n" }},
		{"unknown place", func(sg *models.Suggestion) { sg.PlaceID = 987654 }},
		{"unknown committee", func(sg *models.Suggestion) { sg.CommitteeID = 987654 }},
		{"bad latitude", func(sg *models.Suggestion) { sg.Lat = &bad }},
		{"bad status", func(sg *models.Suggestion) { sg.Status = "lost" }},
		{"photo id with newline", func(sg *models.Suggestion) { sg.PhotoFileIDs = models.StringList{"a\nb"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sg := valid()
			tt.change(&sg)
			err := s.CreateSuggestion(t.Context(), &sg)
			if got, want := models.ErrorCode(err), models.EINVALID; got != want {
				t.Fatalf("code = %q, want %q (err %v)", got, want, err)
			}
			if msg := models.ErrorMessage(err); !strings.ContainsAny(msg, "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی") {
				t.Errorf("EINVALID message %q is not a Persian sentence", msg)
			}
		})
	}
	if err := s.CreateSuggestion(t.Context(), nil); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("CreateSuggestion(nil) = %v, want EINVALID", err)
	}
	if n, err := s.CountSuggestions(t.Context()); err != nil || n != 0 {
		t.Errorf("CountSuggestions = %d, %v; want 0", n, err)
	}
}

func TestStringListScan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  any
		want models.StringList
	}{
		{nil, nil},
		{"", nil},
		{"a", models.StringList{"a"}},
		{"a\nb", models.StringList{"a", "b"}},
		{[]byte("x\ny"), models.StringList{"x", "y"}},
	}
	for _, tt := range tests {
		var got models.StringList
		if err := got.Scan(tt.src); err != nil {
			t.Fatalf("Scan(%q): %v", tt.src, err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Scan(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
	var l models.StringList
	if err := l.Scan(42); err == nil {
		t.Error("Scan(42) succeeded")
	}
}

// TestCreateSuggestionPastTheLimits: the store itself holds back a
// suggestion past the per-account limits, saying from when the account may
// send again; a replay of one stored before is still answered with it.
func TestCreateSuggestionPastTheLimits(t *testing.T) {
	t.Parallel()
	s, place, committee, start := fixture(t)
	ctx := t.Context()
	now := start
	s.Now = func() time.Time { return now }
	send := func(key string) (models.Suggestion, error) {
		sg := models.Suggestion{Key: key, Platform: "bale", UserID: 4242, PlaceID: place.ID, CommitteeID: committee.ID, Text: "پیشنهاد " + key}
		err := s.CreateSuggestion(ctx, &sg)
		return sg, err
	}
	var last models.Suggestion
	for i := range models.SubmissionsPerHour {
		now = start.Add(time.Duration(i) * time.Minute)
		var err error
		if last, err = send(fmt.Sprintf("k%d", i)); err != nil {
			t.Fatalf("suggestion %d: %v", i+1, err)
		}
	}
	before, err := s.CountSuggestions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now = start.Add(30 * time.Minute)
	_, err = send("one-too-many")
	var limited *models.LimitedError
	if !errors.As(err, &limited) || !limited.Until.Equal(start.Add(time.Hour)) {
		t.Fatalf("past the hour's limit: %v; want a LimitedError until %v", err, start.Add(time.Hour))
	}
	if n, _ := s.CountSuggestions(ctx); n != before {
		t.Errorf("stored past the limit: %d suggestions, want %d", n, before)
	}
	if again, err := send(last.Key); err != nil || again.ID != last.ID || again.Code != last.Code {
		t.Errorf("a replay at the limit = %+v, %v; want the stored %d %s", again, err, last.ID, last.Code)
	}
	// An hour after the first, one more may go.
	now = start.Add(time.Hour + time.Second)
	if _, err := send("next-hour"); err != nil {
		t.Errorf("an hour later: %v", err)
	}
}
