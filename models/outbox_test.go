package models_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/models/modelstest"
)

// noticesOf returns the outbox rows of the kinds, oldest first.
func noticesOf(t *testing.T, s *models.Store, kinds ...string) []models.Notice {
	t.Helper()
	var out []models.Notice
	for _, k := range kinds {
		ns, err := s.Notices(t.Context(), models.NoticeFilter{Kind: k, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ns...)
	}
	slices.SortFunc(out, func(a, b models.Notice) int { return int(a.ID) - int(b.ID) })
	return out
}

// recipients returns the person ids a suggestion's notices went to, and
// whether one waits unrouted.
func recipients(t *testing.T, s *models.Store, sg models.Suggestion) ([]uint, bool) {
	t.Helper()
	var ids []uint
	unrouted := false
	for _, n := range noticesOf(t, s, models.KindSuggestion) {
		if n.EntityID != sg.ID {
			continue
		}
		if n.Status == models.NoticeUnrouted {
			unrouted = true
		}
		if n.PersonID != nil {
			ids = append(ids, *n.PersonID)
		}
	}
	slices.Sort(ids)
	return ids, unrouted
}

// TestSuggestionRecipients walks the fallback chain: the council's chair,
// secretary and committee members; the county's coordinators; the
// province's; the admins; and, with nobody at all, a row that waits for
// the first coordinator appointed.
func TestSuggestionRecipients(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	var other models.Committee // seeded: «سایر / نمی‌دانم»
	if err := models.DB(s).Where("code = ? AND province_id IS NULL", models.CommitteeOther).First(&other).Error; err != nil {
		t.Fatal(err)
	}
	n := 0
	suggest := func(place models.PlaceMatch, committee uint) models.Suggestion {
		t.Helper()
		n++
		sg := models.Suggestion{Key: fmt.Sprintf("sg-%d", n), Platform: "tg", UserID: int64(100 + n), PlaceID: place.ID, CommitteeID: committee, Text: "پیشنهاد", Anonymous: true}
		if err := s.CreateSuggestion(ctx, &sg); err != nil {
			t.Fatal(err)
		}
		return sg
	}
	link := func(uid int64, phone string) {
		t.Helper()
		if _, _, err := s.LinkPhone(ctx, "tg", uid, 0, phone); err != nil {
			t.Fatal(err)
		}
	}
	appoint := func(phone string, uid int64, req models.StaffRequest) uint {
		t.Helper()
		req.Phone = phone
		if _, err := s.AssignStaff(ctx, models.ActorCLI, req); err != nil {
			t.Fatal(err)
		}
		p, _, err := s.LinkPhone(ctx, "tg", uid, 0, phone)
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}

	// Nobody can be reached yet: the notice waits, and nothing is lost.
	waiting := suggest(c.arak2, c.committees["health"].ID)
	if ids, unrouted := recipients(t, s, waiting); len(ids) != 0 || !unrouted {
		t.Fatalf("with nobody = %v, unrouted %v; want a waiting row", ids, unrouted)
	}
	if waiting.Reach != models.ReachWaiting {
		t.Errorf("with nobody: reach %d, want waiting (%d)", waiting.Reach, models.ReachWaiting)
	}
	// A replay is told the same.
	again := models.Suggestion{Key: waiting.Key, Platform: "tg", UserID: waiting.UserID, PlaceID: waiting.PlaceID, CommitteeID: waiting.CommitteeID, Text: "پیشنهاد", Anonymous: true}
	if err := s.CreateSuggestion(ctx, &again); err != nil || again.ID != waiting.ID || again.Reach != models.ReachWaiting {
		t.Errorf("replay: id %d reach %d, %v; want id %d, waiting", again.ID, again.Reach, err, waiting.ID)
	}
	admin := appoint("09350000000", 90, models.StaffRequest{Role: models.RoleAdmin})
	if routed, err := s.RouteNotices(ctx); err != nil || routed != 1 {
		t.Fatalf("RouteNotices = %d, %v", routed, err)
	}
	if ids, unrouted := recipients(t, s, waiting); !slices.Equal(ids, []uint{admin}) || unrouted {
		t.Errorf("after an admin = %v, unrouted %v; want the admin", ids, unrouted)
	}
	if got := suggest(c.arak2, c.committees["health"].ID).Reach; got != models.ReachAdmin {
		t.Errorf("with only an admin: reach %d, want the admin (%d)", got, models.ReachAdmin)
	}

	link(1, phoneMaryam)
	link(2, phoneAli)
	link(3, phoneZahra)
	province := appoint("09350000001", 91, models.StaffRequest{Role: models.RoleProvince, ProvinceID: c.arak1.ProvinceID})
	for _, tc := range []struct {
		name      string
		place     models.PlaceMatch
		committee uint
		want      []uint
		reach     models.Reach
	}{
		{"chair, secretary and the committee", c.arak1, c.committees["health"].ID, []uint{c.maryam, c.ali}, models.ReachCouncil},
		{"another committee: chair and secretary", c.arak1, c.committees["civil"].ID, []uint{c.maryam, c.ali}, models.ReachCouncil},
		{"other: chair and secretary", c.arak1, other.ID, []uint{c.maryam, c.ali}, models.ReachCouncil},
		{"a committee member without a chair", c.arak2, c.committees["civil"].ID, []uint{c.zahra}, models.ReachCouncil},
		{"nobody on the council: the province", c.arak2, c.committees["health"].ID, []uint{province}, models.ReachProvince},
		{"no council at all: the province", c.ashtian1, c.committees["health"].ID, []uint{province}, models.ReachProvince},
	} {
		sg := suggest(tc.place, tc.committee)
		if got, _ := recipients(t, s, sg); !slices.Equal(got, tc.want) {
			t.Errorf("%s: recipients = %v, want %v", tc.name, got, tc.want)
		}
		if sg.Reach != tc.reach {
			t.Errorf("%s: reach %d, want %d", tc.name, sg.Reach, tc.reach)
		}
	}
	// Zahra blocked the bot: the council has nobody left to write to.
	if err := s.MarkBlocked(ctx, "tg", 3); err != nil {
		t.Fatal(err)
	}
	if got, _ := recipients(t, s, suggest(c.arak2, c.committees["civil"].ID)); !slices.Equal(got, []uint{province}) {
		t.Errorf("the committee member blocked the bot: recipients = %v, want the province %v", got, province)
	}
	county := appoint("09350000002", 92, models.StaffRequest{Role: models.RoleCounty, CountyID: c.arak2.CountyID})
	sg := suggest(c.arak2, c.committees["health"].ID)
	if got, _ := recipients(t, s, sg); !slices.Equal(got, []uint{county}) || sg.Reach != models.ReachCounty {
		t.Errorf("with a county coordinator: recipients = %v, reach %d; want %v, the county (%d)", got, sg.Reach, county, models.ReachCounty)
	}
	// The sender is named in no notice: the council sees the suggestion,
	// not who sent it.
	named := models.Suggestion{Key: "named", Platform: "tg", UserID: 9, PlaceID: c.arak1.ID, CommitteeID: c.committees["health"].ID,
		Text: "پیشنهاد با نام", SenderName: "سارا نیک‌نام"}
	if err := s.CreateSuggestion(ctx, &named); err != nil {
		t.Fatal(err)
	}
	for _, n := range noticesOf(t, s, models.KindSuggestion) {
		if strings.Contains(n.Text, "سارا") {
			t.Errorf("notice names the sender: %q", n.Text)
		}
	}
}

// TestUpgradeMovesAlertsToOutbox fills the alerts table of the members
// migration and migrates: each alert becomes an outbox row, waiting for the
// county's coordinators or delivered as it was, and the table is gone.
func TestUpgradeMovesAlertsToOutbox(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := modelstest.OpenEmpty(t)
	db := models.DB(s).WithContext(ctx)
	if err := s.MigrateTo(ctx, models.MigrationMembers); err != nil {
		t.Fatal(err)
	}
	// The map as an install of that version had it (today's seed needs the
	// later columns).
	for _, q := range []string{
		`INSERT INTO provinces (code, name, name_en) VALUES ('markazi', 'مرکزی', 'Markazi')`,
		`INSERT INTO counties (province_id, code, name, name_en) SELECT id, 'arak', 'اراک', 'Arak' FROM provinces WHERE code = 'markazi'`,
		`INSERT INTO places (county_id, kind, name, search_key, example) SELECT id, 'neighborhood', 'محله نمونه ۱ اراک', 'محله نمونه ۱ اراک', true FROM counties WHERE code = 'arak'`,
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	created := time.Date(2026, 11, 1, 8, 30, 0, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO alerts (kind, county_id, place_id, entity_id, created_at, delivered_at)
			SELECT 'action_submitted', places.county_id, places.id, 7, ?, ? FROM places WHERE places.name = 'محله نمونه ۱ اراک'`,
		`INSERT INTO alerts (kind, county_id, place_id, entity_id, created_at, delivered_at)
			SELECT 'membership_request', places.county_id, places.id, 8, ?, ? FROM places WHERE places.name = 'محله نمونه ۱ اراک'`,
	} {
		delivered := any(created)
		if strings.Contains(q, "'action_submitted'") {
			delivered = nil
		}
		if err := db.Exec(q, created, delivered).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	got := noticesOf(t, s, models.KindActionSubmitted, models.KindMembershipRequest)
	if len(got) != 2 || got[0].Status != models.NoticeUnrouted || got[0].EntityID != 7 || got[0].RouteCountyID == nil ||
		got[1].Status != models.NoticeDelivered || got[1].DeliveredAt == nil || !got[1].DeliveredAt.Equal(created) || got[1].EntityID != 8 {
		t.Errorf("outbox after the upgrade = %+v", got)
	}
	if db.Migrator().HasTable("alerts") {
		t.Error("the alerts table is still there")
	}
	// The first coordinator of the county gets the waiting alert.
	if _, err := s.AssignStaff(ctx, models.ActorCLI, models.StaffRequest{Phone: "09129999999", Role: models.RoleCounty, CountyID: *got[0].RouteCountyID}); err != nil {
		t.Fatal(err)
	}
	p, _, err := s.LinkPhone(ctx, "tg", 1, 0, "09129999999")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.RouteNotices(ctx); err != nil || n != 1 {
		t.Errorf("RouteNotices = %d, %v", n, err)
	}
	if mine, _ := s.Notices(ctx, models.NoticeFilter{PersonID: p.ID, Kind: models.KindActionSubmitted}); len(mine) != 1 || !strings.HasPrefix(mine[0].Text, "اقدام تازه") {
		t.Errorf("the coordinator's rows = %+v", mine)
	}
}

// TestActionNotices: an action goes to its county's coordinators; a likely
// duplicate of work in the same county too, and of work in another county
// to the province's coordinators; a review decision to the reporter, urgent.
func TestActionNotices(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	appoint := func(phone string, uid int64, req models.StaffRequest) uint {
		t.Helper()
		req.Phone = phone
		if _, err := s.AssignStaff(ctx, models.ActorCLI, req); err != nil {
			t.Fatal(err)
		}
		p, _, err := s.LinkPhone(ctx, "tg", uid, 0, phone)
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	arak := appoint("09350000001", 91, models.StaffRequest{Role: models.RoleCounty, CountyID: c.arak1.CountyID})
	ashtian := appoint("09350000002", 92, models.StaffRequest{Role: models.RoleCounty, CountyID: c.ashtian1.CountyID})
	province := appoint("09350000003", 93, models.StaffRequest{Role: models.RoleProvince, ProvinceID: c.arak1.ProvinceID})

	theirs := c.newAction(t, "ashtian")
	theirs.PlaceID, theirs.ReporterPersonID, theirs.CommitteeID = c.ashtian1.ID, c.hasan, c.committees["environment"].ID
	if err := s.CreateAction(ctx, reporter, &theirs); err != nil {
		t.Fatal(err)
	}
	first := c.newAction(t, "first")
	if err := s.CreateAction(ctx, reporter, &first); err != nil {
		t.Fatal(err)
	}
	same := c.newAction(t, "same-county")
	same.ReporterPersonID, same.DuplicateWarned, same.DuplicateChoice, same.DuplicateOf = c.ali, true, models.DuplicateNew, &first.ID
	if err := s.CreateAction(ctx, reporter, &same); err != nil {
		t.Fatal(err)
	}
	other := c.newAction(t, "other-county")
	other.ReporterPersonID, other.DuplicateWarned, other.DuplicateChoice, other.DuplicateOf = c.ali, true, models.DuplicateNew, &theirs.ID
	if err := s.CreateAction(ctx, reporter, &other); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range noticesOf(t, s, models.KindActionSubmitted, models.KindDuplicateWarning) {
		got = append(got, fmt.Sprintf("%s %d → %d", n.Kind, n.EntityID, *n.PersonID))
	}
	want := []string{
		fmt.Sprintf("action_submitted %d → %d", theirs.ID, ashtian),
		fmt.Sprintf("action_submitted %d → %d", first.ID, arak),
		fmt.Sprintf("action_submitted %d → %d", same.ID, arak),
		fmt.Sprintf("duplicate_warning %d → %d", same.ID, arak),
		fmt.Sprintf("action_submitted %d → %d", other.ID, arak),
		fmt.Sprintf("duplicate_warning %d → %d", other.ID, province),
	}
	if !slices.Equal(got, want) {
		t.Errorf("notices =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ns := noticesOf(t, s, models.KindDuplicateWarning); !strings.Contains(ns[1].Text, theirs.Code) || !strings.Contains(ns[1].Text, "آشتیان") {
		t.Errorf("duplicate notice = %q, want both actions named", ns[1].Text)
	}

	if _, err := s.SetActionStatus(ctx, models.Actor{Platform: "tg", UserID: 91}, first.ID, models.ActionChangesRequested, "عکس را اضافه کنید"); err != nil {
		t.Fatal(err)
	}
	told := noticesOf(t, s, models.KindActionDecision)
	if len(told) != 1 || *told[0].PersonID != c.maryam || !told[0].Urgent ||
		told[0].Text != fmt.Sprintf("اقدام «غربالگری فشار خون سالمندان» (کد %s) نیاز به اصلاح دارد.\nتوضیح بررسی‌کننده: عکس را اضافه کنید", first.Code) {
		t.Errorf("decision notices = %+v", told)
	}
}
