package models_test

import (
	"fmt"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

var actionCodePattern = regexp.MustCompile(`^A-[` + models.SuggestionCodeAlphabet + `]{5}$`)

// reporter is Maryam on Telegram.
var reporter = models.Actor{Platform: "tg", UserID: 500}

// day returns the start of a Jalali day in Tehran, as the bot reads dates.
func day(t *testing.T, jalali string) time.Time {
	t.Helper()
	d, err := persian.ParseDate(jalali, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// newAction returns a valid action by Maryam in arak 1.
func (c *council) newAction(t *testing.T, key string) models.Action {
	t.Helper()
	lat, lon, people, cost := 34.09, 49.69, int64(120), int64(5_000_000)
	return models.Action{
		Key: key, PlaceID: c.arak1.ID, CommitteeID: c.committees["health"].ID, ReporterPersonID: c.maryam,
		Programmes: models.StringList{"karamat", "islamic", "karamat"},
		Title:      "غربالگري فشار خون  سالمندان", Description: "در مسجد محله، با همکاری خانه بهداشت",
		Date: day(t, "1405/08/20"), Lat: &lat, Lon: &lon, Photos: models.StringList{"photo-1"},
		Beneficiaries: &people, Cost: &cost, Partners: "خانه بهداشت", Progress: 100,
	}
}

func TestCreateAction(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	a := c.newAction(t, "act-1")
	if err := s.CreateAction(ctx, reporter, &a); err != nil {
		t.Fatal(err)
	}
	council, err := s.CouncilFor(ctx, c.arak1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || !actionCodePattern.MatchString(a.Code) || a.Status != models.ActionSubmitted || a.CouncilID != council.ID ||
		a.Title != "غربالگری فشار خون سالمندان" || !slices.Equal(a.Programmes, []string{"islamic", "karamat"}) ||
		a.CostUnit != models.CostToman || !a.CreatedAt.Equal(*c.now) {
		t.Errorf("created action = %+v", a)
	}

	got, updates, err := s.Action(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(updates) != 0 || got.Code != a.Code || got.Key != "act-1" || !got.Date.Equal(day(t, "1405/08/20")) ||
		got.Lat == nil || *got.Lat != 34.09 || got.Beneficiaries == nil || *got.Beneficiaries != 120 ||
		got.Cost == nil || *got.Cost != 5_000_000 || !slices.Equal(got.Photos, []string{"photo-1"}) ||
		got.Description != a.Description || got.Partners != "خانه بهداشت" || got.Progress != 100 || got.ReporterPersonID != c.maryam {
		t.Errorf("Action = %+v, want %+v", got, a)
	}
	if byCode, err := s.ActionByCode(ctx, " "+a.Code[2:]+" "); err != nil || byCode.ID != a.ID {
		t.Errorf("ActionByCode without prefix = %+v, %v", byCode, err)
	}

	entries, err := s.AuditEntries(ctx, models.EntityAction, a.ID)
	if err != nil || len(entries) != 1 || entries[0].Action != models.AuditCreate || entries[0].Detail != a.Code ||
		entries[0].ActorUserID != 500 || !entries[0].At.Equal(*c.now) {
		t.Errorf("audit = %+v, %v", entries, err)
	}
	alerts, err := s.Notices(ctx, models.NoticeFilter{Kind: models.KindActionSubmitted})
	if err != nil || len(alerts) != 1 || alerts[0].EntityID != a.ID ||
		alerts[0].RouteCountyID == nil || *alerts[0].RouteCountyID != c.arak1.CountyID {
		t.Errorf("notices = %+v, %v; want one action_submitted for the county", alerts, err)
	}

	// A replay with the same key returns the stored action.
	replay := c.newAction(t, "act-1")
	replay.Title = "عنوان دیگر"
	if err := s.CreateAction(ctx, reporter, &replay); err != nil {
		t.Fatal(err)
	}
	if replay.ID != a.ID || replay.Code != a.Code || replay.Title != a.Title {
		t.Errorf("replay = %+v, want the stored %+v", replay, a)
	}
	if as, err := s.ActionsByCouncil(ctx, council.ID, 0, 0); err != nil || len(as) != 1 {
		t.Errorf("ActionsByCouncil after a replay = %d, %v; want 1", len(as), err)
	}
	if es, _ := s.AuditEntries(ctx, models.EntityAction, a.ID); len(es) != 1 {
		t.Errorf("audit after a replay = %d entries, want 1", len(es))
	}
	if alerts := noticesOf(t, s, models.KindActionSubmitted); len(alerts) != 1 {
		t.Errorf("notices after a replay = %d, want 1", len(alerts))
	}
}

func TestCreateActionDuplicateWarned(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	first := c.newAction(t, "first")
	if err := s.CreateAction(ctx, reporter, &first); err != nil {
		t.Fatal(err)
	}
	second := c.newAction(t, "second")
	second.ReporterPersonID = c.ali
	second.DuplicateWarned, second.DuplicateChoice, second.DuplicateOf = true, models.DuplicateNew, &first.ID
	if err := s.CreateAction(ctx, models.Actor{Platform: "tg", UserID: 501}, &second); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Action(ctx, second.ID)
	if err != nil || !got.DuplicateWarned || got.DuplicateChoice != models.DuplicateNew || got.DuplicateOf == nil || *got.DuplicateOf != first.ID {
		t.Errorf("stored duplicate answer = %+v, %v", got, err)
	}
	alerts := noticesOf(t, s, models.KindActionSubmitted, models.KindDuplicateWarning)
	var kinds []string
	for _, a := range alerts {
		kinds = append(kinds, fmt.Sprintf("%s:%d", a.Kind, a.EntityID))
	}
	want := []string{
		fmt.Sprintf("%s:%d", models.KindActionSubmitted, first.ID),
		fmt.Sprintf("%s:%d", models.KindActionSubmitted, second.ID),
		fmt.Sprintf("%s:%d", models.KindDuplicateWarning, second.ID),
	}
	if !slices.Equal(kinds, want) {
		t.Errorf("alerts = %q, want %q", kinds, want)
	}
}

func TestCreateActionRefused(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	for _, tc := range []struct {
		name string
		edit func(*models.Action)
		want string
	}{
		{"no key", func(a *models.Action) { a.Key = " " }, models.EINVALID},
		{"no title", func(a *models.Action) { a.Title = "  " }, models.EINVALID},
		{"no date", func(a *models.Action) { a.Date = time.Time{} }, models.EINVALID},
		{"progress over 100", func(a *models.Action) { a.Progress = 101 }, models.EINVALID},
		{"negative cost", func(a *models.Action) { n := int64(-1); a.Cost = &n }, models.EINVALID},
		{"bad cost unit", func(a *models.Action) { a.CostUnit = "dollar" }, models.EINVALID},
		{"unknown programme", func(a *models.Action) { a.Programmes = models.StringList{"nope"} }, models.EINVALID},
		{"unknown place", func(a *models.Action) { a.PlaceID = 999999 }, models.EINVALID},
		{"unknown committee", func(a *models.Action) { a.CommitteeID = 999999 }, models.EINVALID},
		{"unknown duplicate", func(a *models.Action) { id := uint(999999); a.DuplicateOf = &id }, models.EINVALID},
		{"bad duplicate choice", func(a *models.Action) { a.DuplicateChoice = "maybe" }, models.EINVALID},
		{"no reporter", func(a *models.Action) { a.ReporterPersonID = 0 }, models.EINVALID},
		{"reporter of another council", func(a *models.Action) { a.ReporterPersonID = c.zahra }, models.EFORBIDDEN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := c.newAction(t, "refused-"+tc.name)
			tc.edit(&a)
			if err := c.s.CreateAction(t.Context(), reporter, &a); models.ErrorCode(err) != tc.want {
				t.Errorf("CreateAction = %v, want %s", err, tc.want)
			}
		})
	}
}

func TestCreateActionConcurrentSameKey(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	const calls = 10
	results := make([]models.Action, calls)
	errs := make([]error, calls)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range calls {
		results[i] = c.newAction(t, "race")
		results[i].Title = fmt.Sprintf("تلاش شماره %d", i)
		wg.Go(func() {
			<-start
			errs[i] = c.s.CreateAction(t.Context(), reporter, &results[i])
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if results[i].ID != results[0].ID || results[i].Title != results[0].Title {
			t.Errorf("call %d got %+v, call 0 got %+v", i, results[i], results[0])
		}
	}
	if es, err := c.s.AuditEntries(t.Context(), models.EntityAction, results[0].ID); err != nil || len(es) != 1 {
		t.Errorf("audit entries = %d, %v; want 1", len(es), err)
	}
}

func TestActionCodeCollision(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s := c.s
	codes := []string{"S-22222", "S-22222", "S-33333"}
	models.SetCodeGenerator(s, func() (string, error) {
		code := codes[0]
		codes = codes[1:]
		return code, nil
	})
	a, b := c.newAction(t, "one"), c.newAction(t, "two")
	if err := s.CreateAction(t.Context(), reporter, &a); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAction(t.Context(), reporter, &b); err != nil {
		t.Fatal(err)
	}
	if a.Code != "A-22222" || b.Code != "A-33333" {
		t.Errorf("codes = %q, %q; want A-22222 and, after the collision, A-33333", a.Code, b.Code)
	}
}

func TestEditAction(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	a := c.newAction(t, "edit")
	if err := s.CreateAction(ctx, reporter, &a); err != nil {
		t.Fatal(err)
	}
	*c.now = c.now.Add(time.Hour)

	edit := a
	edit.Title, edit.Cost, edit.Lat, edit.Lon = "غربالگری فشار خون و قند سالمندان", nil, nil, nil
	edit.Status, edit.Progress = models.ActionVerified, 3 // not editable: ignored
	if err := s.EditAction(ctx, reporter, &edit); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Action(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "غربالگری فشار خون و قند سالمندان" || got.Cost != nil || got.Lat != nil || got.Status != models.ActionSubmitted ||
		got.Progress != 100 || !got.UpdatedAt.Equal(*c.now) || !got.CreatedAt.Equal(a.CreatedAt) || got.Code != a.Code {
		t.Errorf("edited action = %+v", got)
	}
	entries, _ := s.AuditEntries(ctx, models.EntityAction, a.ID)
	if len(entries) != 2 || entries[1].Action != models.AuditEdit || entries[1].Detail != "title,location,cost" {
		t.Errorf("audit after the edit = %+v", entries)
	}
	bad := got
	bad.Title = " "
	if err := s.EditAction(ctx, reporter, &bad); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("EditAction with an empty title = %v, want EINVALID", err)
	}
	// An edit that changes nothing writes nothing.
	same := got
	if err := s.EditAction(ctx, reporter, &same); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.AuditEntries(ctx, models.EntityAction, a.ID); len(again) != 2 {
		t.Errorf("audit after an empty edit = %d entries, want 2", len(again))
	}

	// Sent back for changes, an edit submits it again.
	coordinator := models.Actor{Platform: "tg", UserID: 9000}
	if _, err := s.SetActionStatus(ctx, coordinator, a.ID, models.ActionChangesRequested, "عکس را اضافه کنید"); err != nil {
		t.Fatal(err)
	}
	edit = got
	edit.Photos = append(edit.Photos, "photo-2")
	if err := s.EditAction(ctx, reporter, &edit); err != nil {
		t.Fatal(err)
	}
	if edit.Status != models.ActionSubmitted || !slices.Equal(edit.Photos, []string{"photo-1", "photo-2"}) {
		t.Errorf("action edited after changes were requested = %+v", edit)
	}
	alerts := noticesOf(t, s, models.KindActionSubmitted)
	if len(alerts) != 2 || alerts[1].EntityID != a.ID {
		t.Errorf("alerts after resubmission = %+v, want a second action_submitted", alerts)
	}

	// Once verified, it is not edited any more.
	if _, err := s.SetActionStatus(ctx, coordinator, a.ID, models.ActionVerified, ""); err != nil {
		t.Fatal(err)
	}
	edit.Title = "عنوان تازه"
	if err := s.EditAction(ctx, reporter, &edit); models.ErrorCode(err) != models.ECONFLICT {
		t.Errorf("EditAction of a verified action = %v, want ECONFLICT", err)
	}
	if got, _, _ := s.Action(ctx, a.ID); got.Title == "عنوان تازه" {
		t.Error("a verified action was edited")
	}
	missing := models.Action{ID: 999999}
	if err := s.EditAction(ctx, reporter, &missing); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("EditAction(unknown) = %v, want ENOTFOUND", err)
	}
}

func TestSetActionStatus(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	coordinator := models.Actor{Platform: "tg", UserID: 9000}
	for i, tc := range []struct {
		path []string // statuses set in turn after submission
		want string   // error code of the last step
	}{
		{[]string{models.ActionVerified}, ""},
		{[]string{models.ActionRejected}, ""},
		{[]string{models.ActionVerified, models.ActionVerified}, ""},
		{[]string{models.ActionChangesRequested, models.ActionSubmitted}, ""},
		{[]string{models.ActionChangesRequested, models.ActionRejected}, ""},
		{[]string{models.ActionVerified, models.ActionRejected}, models.ECONFLICT},
		{[]string{models.ActionRejected, models.ActionSubmitted}, models.ECONFLICT},
		{[]string{"lost"}, models.EINVALID},
	} {
		t.Run(fmt.Sprint(tc.path), func(t *testing.T) {
			a := c.newAction(t, fmt.Sprintf("status-%d", i))
			if err := s.CreateAction(ctx, reporter, &a); err != nil {
				t.Fatal(err)
			}
			var err error
			var got models.Action
			for _, status := range tc.path {
				got, err = s.SetActionStatus(ctx, coordinator, a.ID, status, "یادداشت")
			}
			if models.ErrorCode(err) != tc.want {
				t.Fatalf("last step = %v, want %q", err, tc.want)
			}
			if err == nil && (got.Status != tc.path[len(tc.path)-1] || got.ReviewNote != "یادداشت") {
				t.Errorf("action = %+v", got)
			}
		})
	}
	a := c.newAction(t, "status-audit")
	if err := s.CreateAction(ctx, reporter, &a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetActionStatus(ctx, coordinator, a.ID, models.ActionRejected, "تکراری است"); err != nil {
		t.Fatal(err)
	}
	entries, _ := s.AuditEntries(ctx, models.EntityAction, a.ID)
	if len(entries) != 2 || entries[1].Action != models.AuditStatus || entries[1].Detail != "submitted -> rejected: تکراری است" ||
		entries[1].ActorUserID != 9000 {
		t.Errorf("audit = %+v", entries)
	}
	if _, err := s.SetActionStatus(ctx, coordinator, 999999, models.ActionVerified, ""); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("SetActionStatus(unknown) = %v, want ENOTFOUND", err)
	}
}

func TestAddActionUpdate(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	a := c.newAction(t, "progress")
	a.Progress = 10
	if err := s.CreateAction(ctx, reporter, &a); err != nil {
		t.Fatal(err)
	}
	for i, p := range []int{40, 80} {
		*c.now = c.now.Add(time.Hour)
		u := models.ActionUpdate{Key: fmt.Sprintf("u-%d", i), ActionID: a.ID, PersonID: c.ali, Progress: p,
			Note: fmt.Sprintf("مرحله %d", i+1), Photos: models.StringList{fmt.Sprintf("p-%d", i)}}
		if err := s.AddActionUpdate(ctx, models.Actor{Platform: "tg", UserID: 501}, &u); err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 || !u.At.Equal(*c.now) {
			t.Errorf("update = %+v", u)
		}
	}
	replay := models.ActionUpdate{Key: "u-0", ActionID: a.ID, PersonID: c.ali, Progress: 99}
	if err := s.AddActionUpdate(ctx, reporter, &replay); err != nil || replay.Progress != 40 {
		t.Errorf("replayed update = %+v, %v; want the stored one", replay, err)
	}
	got, updates, err := s.Action(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Progress != 80 || len(updates) != 2 || updates[0].Progress != 40 || updates[1].Note != "مرحله 2" ||
		!slices.Equal(updates[1].Photos, []string{"p-1"}) {
		t.Errorf("action after updates = %+v, %+v", got, updates)
	}
	entries, _ := s.AuditEntries(ctx, models.EntityAction, a.ID)
	if len(entries) != 3 || entries[1].Action != models.AuditUpdate || entries[2].ActorUserID != 501 {
		t.Errorf("audit = %+v", entries)
	}

	for _, tc := range []struct {
		name string
		u    models.ActionUpdate
		want string
	}{
		{"no key", models.ActionUpdate{ActionID: a.ID, PersonID: c.ali, Progress: 1}, models.EINVALID},
		{"progress over 100", models.ActionUpdate{Key: "x1", ActionID: a.ID, PersonID: c.ali, Progress: 101}, models.EINVALID},
		{"unknown action", models.ActionUpdate{Key: "x2", ActionID: 999999, PersonID: c.ali, Progress: 1}, models.ENOTFOUND},
		{"not a member", models.ActionUpdate{Key: "x3", ActionID: a.ID, PersonID: c.hasan, Progress: 1}, models.EFORBIDDEN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.u
			if err := s.AddActionUpdate(ctx, reporter, &u); models.ErrorCode(err) != tc.want {
				t.Errorf("AddActionUpdate = %v, want %s", err, tc.want)
			}
		})
	}
	if _, err := s.SetActionStatus(ctx, reporter, a.ID, models.ActionRejected, ""); err != nil {
		t.Fatal(err)
	}
	late := models.ActionUpdate{Key: "late", ActionID: a.ID, PersonID: c.ali, Progress: 100}
	if err := s.AddActionUpdate(ctx, reporter, &late); models.ErrorCode(err) != models.ECONFLICT {
		t.Errorf("update of a rejected action = %v, want ECONFLICT", err)
	}
}

func TestActionsByCouncil(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	var ids []uint
	for i := range 5 {
		*c.now = c.now.Add(time.Minute)
		a := c.newAction(t, fmt.Sprintf("list-%d", i))
		if err := s.CreateAction(ctx, reporter, &a); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	council, _ := s.CouncilFor(ctx, c.arak1.ID)
	other, _ := s.CouncilFor(ctx, c.arak2.ID)
	for _, tc := range []struct {
		offset, limit int
		want          []uint
	}{
		{0, 2, []uint{ids[4], ids[3]}},
		{2, 2, []uint{ids[2], ids[1]}},
		{4, 2, []uint{ids[0]}},
		{0, 0, []uint{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{9, 2, nil},
	} {
		as, err := s.ActionsByCouncil(ctx, council.ID, tc.offset, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint
		for _, a := range as {
			got = append(got, a.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ActionsByCouncil(%d, %d) = %v, want %v", tc.offset, tc.limit, got, tc.want)
		}
	}
	if as, err := s.ActionsByCouncil(ctx, other.ID, 0, 10); err != nil || len(as) != 0 {
		t.Errorf("another council's actions = %+v, %v", as, err)
	}
}
