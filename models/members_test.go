package models_test

import (
	"os"
	"testing"
	"time"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/models/modelstest"
	"github.com/mahalle/mahalle/persian"
)

// council is a seeded store with testdata/roster.csv imported, a clock the
// test moves, and the places and committees the roster names.
type council struct {
	s                         *models.Store
	now                       *time.Time
	arak1, arak2, ashtian1    models.PlaceMatch
	committees                map[string]models.Committee // by code
	maryam, ali, zahra, hasan uint                        // person ids
}

// Roster phones, as stored.
const (
	phoneMaryam = "+989121111111" // chair, arak 1, health
	phoneAli    = "+989122222222" // secretary, arak 1, culture
	phoneZahra  = "+989123333333" // member, arak 2, civil
	phoneHasan  = "+989124444444" // member, ashtian 1, environment
)

func newCouncil(t *testing.T) *council {
	t.Helper()
	s := modelstest.Open(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	c := &council{s: s, now: &now, committees: map[string]models.Committee{}}
	c.arak1 = findPlace(t, s, "محله نمونه ۱ اراک")
	c.arak2 = findPlace(t, s, "محله نمونه ۲ اراک")
	c.ashtian1 = findPlace(t, s, "محله نمونه ۱ آشتیان")
	cs, err := s.Committees(t.Context(), c.arak1.ProvinceID)
	if err != nil {
		t.Fatal(err)
	}
	for _, cm := range cs {
		c.committees[cm.Code] = cm
	}
	importFile(t, s, "testdata/roster.csv", models.RosterOptions{})
	c.maryam = personID(t, s, phoneMaryam)
	c.ali = personID(t, s, phoneAli)
	c.zahra = personID(t, s, phoneZahra)
	c.hasan = personID(t, s, phoneHasan)
	return c
}

func findPlace(t *testing.T, s *models.Store, name string) models.PlaceMatch {
	t.Helper()
	ps, err := s.SearchPlaces(t.Context(), persian.SearchKey(name), 1)
	if err != nil || len(ps) != 1 {
		t.Fatalf("place %q: %+v, %v", name, ps, err)
	}
	return ps[0]
}

func importFile(t *testing.T, s *models.Store, path string, opts models.RosterOptions) models.RosterReport {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := s.ImportRoster(t.Context(), f, opts)
	if err != nil {
		t.Fatalf("ImportRoster(%s): %v (report %+v)", path, err, rep)
	}
	return rep
}

func personID(t *testing.T, s *models.Store, phone string) uint {
	t.Helper()
	vs, err := s.MembershipsByPhone(t.Context(), phone)
	if err != nil || len(vs) == 0 {
		t.Fatalf("MembershipsByPhone(%s) = %+v, %v", phone, vs, err)
	}
	return vs[0].PersonID
}

func TestPositionName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ position, want string }{
		{models.PositionChair, "رئیس"},
		{models.PositionSecretary, "دبیر"},
		{models.PositionMember, "عضو"},
		{"mayor", "mayor"},
	} {
		if got := models.PositionName(tc.position); got != tc.want {
			t.Errorf("PositionName(%q) = %q, want %q", tc.position, got, tc.want)
		}
	}
}

func TestCouncilFor(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ctx := t.Context()
	place := findPlace(t, s, "روستای نمونه ۱ اراک")
	first, err := s.CouncilFor(ctx, place.ID)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.CouncilFor(ctx, place.ID)
	if err != nil {
		t.Fatal(err)
	}
	if first.ID == 0 || second.ID != first.ID || first.PlaceID != place.ID {
		t.Errorf("CouncilFor twice = %+v, %+v; want one council of place %d", first, second, place.ID)
	}
	if _, err := s.CouncilFor(ctx, 999999); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("CouncilFor(unknown place) = %v, want ENOTFOUND", err)
	}
}

func TestLinkPhone(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()

	p, vs, err := s.LinkPhone(ctx, "tg", 500, 500, "989121111111") // as a shared contact arrives
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != c.maryam || p.Name != "مریم احمدی" || p.Phone == nil || *p.Phone != phoneMaryam {
		t.Errorf("LinkPhone person = %+v, want Maryam (%d)", p, c.maryam)
	}
	if len(vs) != 1 {
		t.Fatalf("LinkPhone memberships = %+v, want 1", vs)
	}
	v := vs[0]
	if v.Status != models.MembershipActive || v.Position != models.PositionChair || v.PlaceID != c.arak1.ID ||
		v.PlaceName != "محله نمونه ۱ اراک" || v.CountyName != "اراک" || v.ProvinceName != "مرکزی" ||
		v.CommitteeName != "بهداشت و درمان" || v.PersonName != "مریم احمدی" || v.Source != models.SourceRoster {
		t.Errorf("membership view = %+v", v)
	}
	id, err := s.Identity(ctx, "tg", 500)
	if err != nil {
		t.Fatal(err)
	}
	if id.PersonID == nil || *id.PersonID != c.maryam || id.ChatID != 500 {
		t.Errorf("identity after LinkPhone = %+v", id)
	}
	entries, err := s.AuditEntries(ctx, models.EntityPerson, c.maryam)
	if err != nil {
		t.Fatal(err)
	}
	if got := entries[len(entries)-1]; got.Action != models.AuditLink || got.ActorPlatform != "tg" || got.ActorUserID != 500 {
		t.Errorf("last audit entry of the person = %+v, want a link by tg:500", got)
	}
	// Linking again writes nothing new.
	if _, _, err := s.LinkPhone(ctx, "tg", 500, 500, phoneMaryam); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.AuditEntries(ctx, models.EntityPerson, c.maryam); len(again) != len(entries) {
		t.Errorf("audit entries after a second link = %d, want %d", len(again), len(entries))
	}

	for _, tc := range []struct {
		name     string
		platform string
		user     int64
		phone    string
		want     string
	}{
		{"not on a roster", "tg", 501, "+989129999999", models.ENOTFOUND},
		{"not a phone", "tg", 501, "hello", models.EINVALID},
		{"no user", "tg", 0, phoneMaryam, models.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := s.LinkPhone(ctx, tc.platform, tc.user, 0, tc.phone); models.ErrorCode(err) != tc.want {
				t.Errorf("LinkPhone = %v, want %s", err, tc.want)
			}
		})
	}
}

func TestRequestMembership(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	req := models.MembershipRequest{Platform: "bale", UserID: 42, Name: "  رضا   کاظمی ", Phone: "09125555555",
		PlaceID: c.arak2.ID, CommitteeID: c.committees["security"].ID}

	m, err := s.RequestMembership(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID == 0 || m.Status != models.MembershipPending || m.Source != models.SourceRequest || m.Position != models.PositionMember ||
		m.CommitteeID != c.committees["security"].ID || !m.Since.Equal(*c.now) || m.Until != nil {
		t.Errorf("requested membership = %+v", m)
	}
	// Nobody coordinates the county yet: the notice waits, unrouted, for
	// its coordinators.
	alerts, err := s.Notices(ctx, models.NoticeFilter{Kind: models.KindMembershipRequest})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].EntityID != m.ID || alerts[0].Status != models.NoticeUnrouted ||
		alerts[0].RouteCountyID == nil || *alerts[0].RouteCountyID != c.arak2.CountyID || !alerts[0].CreatedAt.Equal(*c.now) {
		t.Errorf("notices = %+v, want one unrouted membership request for %d", alerts, m.ID)
	}
	id, err := s.Identity(ctx, "bale", 42)
	if err != nil || id.PersonID == nil || *id.PersonID != m.PersonID {
		t.Errorf("identity = %+v, %v; want tied to person %d", id, err, m.PersonID)
	}
	v, err := s.Membership(ctx, m.ID)
	if err != nil || v.PersonName != "رضا کاظمی" {
		t.Errorf("Membership = %+v, %v; want the person named رضا کاظمی", v, err)
	}

	// A replay returns the pending membership and writes nothing.
	again, err := s.RequestMembership(ctx, req)
	if err != nil || again.ID != m.ID {
		t.Errorf("replayed request = %+v, %v; want membership %d", again, err, m.ID)
	}
	if alerts, _ := s.Notices(ctx, models.NoticeFilter{Kind: models.KindMembershipRequest}); len(alerts) != 1 {
		t.Errorf("notices after a replay = %d, want 1", len(alerts))
	}

	if _, err := s.ActiveMembership(ctx, m.PersonID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("ActiveMembership while pending = %v, want ENOTFOUND", err)
	}
	later := c.now.Add(time.Hour)
	*c.now = later
	coordinator := models.Actor{Platform: "tg", UserID: 9000}
	if err := s.ActivateMembership(ctx, coordinator, m.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.ActivateMembership(ctx, coordinator, m.ID); err != nil {
		t.Errorf("second ActivateMembership = %v, want nil", err)
	}
	active, err := s.ActiveMembership(ctx, m.PersonID)
	if err != nil {
		t.Fatal(err)
	}
	if active.ID != m.ID || active.Status != models.MembershipActive || !active.Since.Equal(later) || active.PlaceID != c.arak2.ID {
		t.Errorf("ActiveMembership = %+v", active)
	}
	if _, err := s.RequestMembership(ctx, req); models.ErrorCode(err) != models.ECONFLICT {
		t.Errorf("request by an active member = %v, want ECONFLICT", err)
	}

	if err := s.EndMembership(ctx, coordinator, m.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.EndMembership(ctx, coordinator, m.ID); err != nil {
		t.Errorf("second EndMembership = %v, want nil", err)
	}
	if _, err := s.ActiveMembership(ctx, m.PersonID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("ActiveMembership after the end = %v, want ENOTFOUND", err)
	}
	if err := s.ActivateMembership(ctx, coordinator, m.ID); models.ErrorCode(err) != models.ECONFLICT {
		t.Errorf("ActivateMembership of an ended one = %v, want ECONFLICT", err)
	}
	ended, err := s.Membership(ctx, m.ID)
	if err != nil || ended.Status != models.MembershipEnded || ended.Until == nil || !ended.Until.Equal(later) {
		t.Errorf("ended membership = %+v, %v", ended, err)
	}
	entries, err := s.AuditEntries(ctx, models.EntityMembership, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+"/"+e.Detail)
	}
	if len(entries) != 3 || entries[0].Action != models.AuditCreate || entries[1].Detail != "pending -> active" ||
		entries[2].Detail != "active -> ended" || entries[1].ActorUserID != 9000 {
		t.Errorf("membership audit = %q", actions)
	}
	if err := s.EndMembership(ctx, coordinator, 999999); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("EndMembership(unknown) = %v, want ENOTFOUND", err)
	}

	// After the end, a new request starts a new row: history is kept.
	renewed, err := s.RequestMembership(ctx, req)
	if err != nil || renewed.ID == m.ID {
		t.Fatalf("request after the end = %+v, %v; want a new membership", renewed, err)
	}
	history, err := s.MembershipsByPhone(ctx, "+989125555555")
	if err != nil || len(history) != 2 || history[0].ID != renewed.ID || history[1].ID != m.ID {
		t.Errorf("MembershipsByPhone = %+v, %v; want the new and the ended one", history, err)
	}
}

func TestRequestMembershipInvalid(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	good := models.MembershipRequest{Platform: "tg", UserID: 7, Name: "نرگس", Phone: "09126666666",
		PlaceID: c.arak1.ID, CommitteeID: c.committees["health"].ID}
	for _, tc := range []struct {
		name string
		edit func(*models.MembershipRequest)
	}{
		{"no platform", func(r *models.MembershipRequest) { r.Platform = "" }},
		{"bad phone", func(r *models.MembershipRequest) { r.Phone = "02112345678" }},
		{"short name", func(r *models.MembershipRequest) { r.Name = "ن" }},
		{"unknown place", func(r *models.MembershipRequest) { r.PlaceID = 999999 }},
		{"unknown committee", func(r *models.MembershipRequest) { r.CommitteeID = 999999 }},
		{"bad position", func(r *models.MembershipRequest) { r.Position = "mayor" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := good
			tc.edit(&req)
			if _, err := c.s.RequestMembership(t.Context(), req); models.ErrorCode(err) != models.EINVALID {
				t.Errorf("RequestMembership = %v, want EINVALID", err)
			}
		})
	}
	if _, err := c.s.MembershipsByPhone(t.Context(), "09126666666"); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("a refused request left a person behind: %v", err)
	}
}

// TestUpgradeToMembersKeepsData fills a database left at the suggestions
// migration, migrates it to the latest, and checks that the old rows are
// still there and work with the new tables.
func TestUpgradeToMembersKeepsData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := modelstest.OpenEmpty(t)
	db := models.DB(s).WithContext(ctx)
	exec := func(sql string, args ...any) {
		t.Helper()
		if err := db.Exec(sql, args...).Error; err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := s.MigrateTo(ctx, models.MigrationSuggestions); err != nil {
		t.Fatal(err)
	}
	// Reference rows as the release of that schema seeded them (the live
	// seed writes columns that schema lacks).
	exec(`INSERT INTO provinces (code, name, name_en) VALUES ('markazi', 'مرکزی', 'Markazi')`)
	exec(`INSERT INTO counties (province_id, code, name, name_en) SELECT id, 'arak', 'اراک', 'Arak' FROM provinces WHERE code = 'markazi'`)
	exec(`INSERT INTO places (county_id, kind, name, search_key, example) SELECT id, 'neighborhood', 'محله نمونه ۱ اراک', 'محلهنمونه1اراک', true FROM counties WHERE code = 'arak'`)
	exec(`INSERT INTO committees (province_id, code, name, name_en, crisis, position) VALUES (NULL, 'civil', 'عمران و خدمات محلی', 'Civil works and local services', false, 5)`)
	var oldArak struct{ ID uint }
	if err := db.Raw(`SELECT id FROM counties WHERE code = 'arak'`).Scan(&oldArak).Error; err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 1, 8, 30, 0, 0, time.UTC)
	exec(`INSERT INTO people (name, phone, created_at) VALUES ('مریم احمدی', '+989121111111', ?)`, created)
	exec(`INSERT INTO identities (person_id, platform, user_id, chat_id, username, language_code, created_at, updated_at)
		VALUES (NULL, 'tg', 4242, 4242, 'maryam', 'fa', ?, ?)`, created, created)
	exec(`INSERT INTO suggestions (code, idempotency_key, platform, user_id, place_id, committee_id, text, voice_file_id,
			photo_file_ids, anonymous, sender_name, status, created_at, updated_at)
		SELECT 'S-OLD22', 'old-key', 'tg', 4242, places.id, committees.id, 'چراغ کوچه', '', '', false, 'مریم', 'new', ?, ?
		FROM places, committees WHERE places.name = 'محله نمونه ۱ اراک' AND committees.code = 'civil' AND committees.province_id IS NULL`,
		created, created)
	exec(`INSERT INTO audit_entries (at, actor_platform, actor_user_id, action, entity, entity_id, detail)
		SELECT ?, 'tg', 4242, 'create', 'suggestion', id, code FROM suggestions WHERE code = 'S-OLD22'`, created)

	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate after filling: %v", err)
	}
	// The new release's seed (every county of Iran) keeps the old county's id.
	if err := s.SeedDemo(ctx); err != nil {
		t.Fatalf("SeedDemo after upgrade: %v", err)
	}
	cs, err := s.Counties(ctx, provinceID(t, s, "markazi"))
	if err != nil || len(cs) != 12 {
		t.Fatalf("Markazi counties after upgrade = %d, %v; want 12", len(cs), err)
	}
	for _, c := range cs {
		if c.Code == "arak" && (c.ID != oldArak.ID || c.OsmID == nil || *c.OsmID != 6554870) {
			t.Errorf("arak after upgrade = id %d osm %v, want id %d osm 6554870", c.ID, c.OsmID, oldArak.ID)
		}
	}

	sg, err := s.SuggestionByCode(ctx, "S-OLD22")
	if err != nil || sg.Text != "چراغ کوچه" || !sg.CreatedAt.Equal(created) {
		t.Fatalf("suggestion after upgrade = %+v, %v", sg, err)
	}
	if es, err := s.AuditEntries(ctx, models.EntitySuggestion, sg.ID); err != nil || len(es) != 1 {
		t.Errorf("suggestion audit after upgrade = %+v, %v", es, err)
	}
	// The old person is the one the roster names: the import updates nothing
	// about her and gives her a membership; her old account links to her.
	rep := importFile(t, s, "testdata/roster.csv", models.RosterOptions{})
	if rep.Created != 4 || rep.Updated != 0 {
		t.Errorf("roster import on upgraded data = %+v, want 4 created", rep)
	}
	p, vs, err := s.LinkPhone(ctx, "tg", 4242, 0, "09121111111")
	if err != nil {
		t.Fatal(err)
	}
	if !p.CreatedAt.Equal(created) || len(vs) != 1 || vs[0].Position != models.PositionChair {
		t.Errorf("LinkPhone on upgraded data = %+v, %+v", p, vs)
	}
	id, err := s.Identity(ctx, "tg", 4242)
	if err != nil || id.PersonID == nil || *id.PersonID != p.ID || id.Username != "maryam" || !id.CreatedAt.Equal(created) {
		t.Errorf("identity after upgrade and link = %+v, %v", id, err)
	}
}
