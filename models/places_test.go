package models_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/models/modelstest"
)

// TestSeedIfStaleLoadsEveryCountyOnceAndNoDemo seeds a fresh install the
// way `mahalle` does on start: every county of Iran, no demo place, and a
// second start changes nothing.
func TestSeedIfStaleLoadsEveryCountyOnceAndNoDemo(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := modelstest.OpenEmpty(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seeded, err := s.SeedIfStale(ctx)
	if err != nil || !seeded {
		t.Fatalf("SeedIfStale on a fresh database = %v, %v; want true, nil", seeded, err)
	}
	counties, places := 0, 0
	ps, err := s.Provinces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		cs, err := s.Counties(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			t.Errorf("province %s has no county", p.Name)
		}
		counties += len(cs)
		for _, c := range cs {
			if c.OsmID == nil || c.Lat == nil || c.MinLon == nil || c.MaxLat == nil {
				t.Errorf("county %s lacks its OSM id, anchor or bbox", c.Name)
			}
			pl, err := s.Places(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			places += len(pl)
		}
	}
	if counties != 478 || places != 0 {
		t.Errorf("after SeedIfStale: %d counties, %d places; want 478, 0 (demo places only with SeedDemo)", counties, places)
	}
	if seeded, err := s.SeedIfStale(ctx); err != nil || seeded {
		t.Errorf("second SeedIfStale = %v, %v; want false, nil", seeded, err)
	}
	if err := s.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	if ms, err := s.SearchPlaces(ctx, "نمونه", 100); err != nil || len(ms) != 36 {
		t.Errorf("demo places after SeedDemo = %d, %v; want 36", len(ms), err)
	}
}

// arak returns the county id of Arak and a committee for suggestions.
func arak(t *testing.T, s *models.Store) (countyID uint, committee models.Committee) {
	t.Helper()
	cs, err := s.Counties(t.Context(), provinceID(t, s, "markazi"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Code == "arak" {
			countyID = c.ID
		}
	}
	committees, err := s.Committees(t.Context(), 0)
	if err != nil || countyID == 0 {
		t.Fatalf("arak: %v", err)
	}
	return countyID, committees[0]
}

var resident = models.Actor{Platform: "tg", UserID: 5001}
var coordinator = models.Actor{Platform: "tg", UserID: 9001}

// TestCreatePlace is a resident whose neighborhood is missing typing its
// name: the place is created unconfirmed, usable at once, found again by
// the same name however it is typed, and audited.
func TestCreatePlace(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ctx := t.Context()
	county, committee := arak(t, s)

	p, created, err := s.CreatePlace(ctx, resident, county, "  کوی   گلستان ")
	if err != nil || !created {
		t.Fatalf("CreatePlace = %+v, %v, %v", p, created, err)
	}
	if p.Name != "کوی گلستان" || p.Confirmed || p.Example || p.CountyName != "اراک" || p.ProvinceName != "مرکزی" || p.Kind != models.KindNeighborhood {
		t.Errorf("created place = %+v", p)
	}
	// The same place typed with Arabic letters, a ZWNJ and no space.
	for _, typed := range []string{"كوي گلستان", "کوی‌گلستان", "کویگلستان"} {
		again, created, err := s.CreatePlace(ctx, resident, county, typed)
		if err != nil || created || again.ID != p.ID {
			t.Errorf("CreatePlace(%q) = %d, created %v, %v; want the existing %d", typed, again.ID, created, err, p.ID)
		}
	}
	// Usable at once: a suggestion about it.
	sg := models.Suggestion{Key: "new-place-1", Platform: "tg", UserID: 5001, PlaceID: p.ID, CommitteeID: committee.ID, Text: "چراغ کوچه خاموش است"}
	if err := s.CreateSuggestion(ctx, &sg); err != nil {
		t.Fatalf("CreateSuggestion on the new place: %v", err)
	}
	// Found by search, marked unconfirmed.
	res, err := s.FindPlaces(ctx, "گلستان", county, 8)
	if err != nil || res.Total != 1 || res.Matches[0].ID != p.ID || res.Matches[0].Confirmed {
		t.Errorf("FindPlaces(گلستان) = %+v, %v", res, err)
	}
	if es, err := s.AuditEntries(ctx, models.EntityPlace, p.ID); err != nil || len(es) != 1 ||
		es[0].Action != models.AuditCreate || es[0].ActorUserID != 5001 {
		t.Errorf("audit = %+v, %v", es, err)
	}
	// A village, by its name.
	v, _, err := s.CreatePlace(ctx, resident, county, "روستای چشمه")
	if err != nil || v.Kind != models.KindVillage {
		t.Errorf("CreatePlace(روستای چشمه) = %+v, %v; want a village", v, err)
	}

	for _, tt := range []struct {
		name   string
		county uint
		typed  string
		code   string
	}{
		{"too short", county, "ب", models.EINVALID},
		{"only punctuation", county, "...", models.EINVALID},
		{"too long", county, strings.Repeat("گل", 31), models.EINVALID},
		{"no such county", 999999, "کوی گلستان", models.ENOTFOUND},
	} {
		_, _, err := s.CreatePlace(ctx, resident, tt.county, tt.typed)
		if got := models.ErrorCode(err); got != tt.code {
			t.Errorf("%s: CreatePlace code = %q, want %q (%v)", tt.name, got, tt.code, err)
		}
		if tt.code == models.EINVALID && !strings.HasPrefix(models.ErrorMessage(err), "نام") {
			t.Errorf("%s: message %q is not a Persian sentence", tt.name, models.ErrorMessage(err))
		}
	}
}

// TestCreatePlaceConcurrent creates one place from many goroutines at once,
// as residents of one neighborhood might: exactly one row.
func TestCreatePlaceConcurrent(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	county, _ := arak(t, s)
	const n = 8
	ids := make(chan uint, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			typed := []string{"شهرک صنعتی", "شهرك صنعتي", "شهرک‌صنعتی"}[i%3]
			p, _, err := s.CreatePlace(t.Context(), models.Actor{Platform: "tg", UserID: int64(i + 1)}, county, typed)
			errs <- err
			ids <- p.ID
		})
	}
	wg.Wait()
	close(ids)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	first := uint(0)
	for id := range ids {
		if first == 0 {
			first = id
		}
		if id != first {
			t.Errorf("concurrent CreatePlace gave ids %d and %d, want one place", first, id)
		}
	}
	if res, err := s.FindPlaces(t.Context(), "شهرک صنعتی", county, 8); err != nil || res.Total != 1 {
		t.Errorf("places named شهرک صنعتی = %+v, %v; want 1", res, err)
	}
}

func TestConfirmAndRenamePlace(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ctx := t.Context()
	county, _ := arak(t, s)
	p, _, err := s.CreatePlace(ctx, resident, county, "کوی ولیعصر")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // confirming twice audits once
		if err := s.ConfirmPlace(ctx, coordinator, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Place(ctx, p.ID); err != nil || !got.Confirmed {
		t.Errorf("after ConfirmPlace: %+v, %v", got, err)
	}
	renamed, err := s.RenamePlace(ctx, coordinator, p.ID, "محله ولیعصر")
	if err != nil || renamed.Name != "محله ولیعصر" || !renamed.Confirmed {
		t.Fatalf("RenamePlace = %+v, %v", renamed, err)
	}
	if res, err := s.FindPlaces(ctx, "محله ولیعصر", county, 8); err != nil || res.Total != 1 || res.Matches[0].ID != p.ID {
		t.Errorf("search after rename = %+v, %v", res, err)
	}
	if _, err := s.RenamePlace(ctx, coordinator, p.ID, "محله نمونه ۱ اراک"); models.ErrorCode(err) != models.ECONFLICT {
		t.Errorf("rename onto another place's name: %v, want ECONFLICT", err)
	}
	if err := s.ConfirmPlace(ctx, coordinator, 999999); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("ConfirmPlace(missing) = %v, want ENOTFOUND", err)
	}
	es, err := s.AuditEntries(ctx, models.EntityPlace, p.ID)
	if err != nil || len(es) != 3 || es[1].Action != models.AuditConfirm || es[2].Action != models.AuditRename ||
		es[2].Detail != "کوی ولیعصر → محله ولیعصر" || es[2].ActorUserID != coordinator.UserID {
		t.Errorf("audit = %+v, %v", es, err)
	}
}

// TestMergePlaces merges a place a resident typed into the one that
// existed: the suggestions and the council move, the typed one is gone.
func TestMergePlaces(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ctx := t.Context()
	county, committee := arak(t, s)
	into := findPlace(t, s, "محله نمونه ۱ اراک")
	typed, _, err := s.CreatePlace(ctx, resident, county, "نمونه یک اراک")
	if err != nil {
		t.Fatal(err)
	}
	sg := models.Suggestion{Key: "merge-1", Platform: "tg", UserID: 5001, PlaceID: typed.ID, CommitteeID: committee.ID, Text: "پارک محله"}
	if err := s.CreateSuggestion(ctx, &sg); err != nil {
		t.Fatal(err)
	}
	council, err := s.CouncilFor(ctx, typed.ID)
	if err != nil {
		t.Fatal(err)
	}

	if err := s.MergePlaces(ctx, coordinator, typed.ID, into.ID); err != nil {
		t.Fatalf("MergePlaces: %v", err)
	}
	if got, err := s.SuggestionByCode(ctx, sg.Code); err != nil || got.PlaceID != into.ID {
		t.Errorf("suggestion after merge = place %d, %v; want %d", got.PlaceID, err, into.ID)
	}
	if c, err := s.CouncilFor(ctx, into.ID); err != nil || c.ID != council.ID {
		t.Errorf("council of the kept place = %+v, %v; want the moved council %d", c, err, council.ID)
	}
	if _, err := s.Place(ctx, typed.ID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("merged place still there: %v", err)
	}
	if res, err := s.FindPlaces(ctx, "نمونه یک اراک", county, 8); err != nil || slices.ContainsFunc(res.Matches, func(m models.Match) bool { return m.ID == typed.ID }) {
		t.Errorf("search still finds the merged place: %+v, %v", res, err)
	}
	for _, id := range []uint{typed.ID, into.ID} {
		if es, err := s.AuditEntries(ctx, models.EntityPlace, id); err != nil || len(es) == 0 || es[len(es)-1].Action != models.AuditMerge {
			t.Errorf("audit of %d = %+v, %v", id, es, err)
		}
	}

	// Two places with councils cannot be merged.
	other := findPlace(t, s, "محله نمونه ۲ اراک")
	if _, err := s.CouncilFor(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.MergePlaces(ctx, coordinator, other.ID, into.ID); models.ErrorCode(err) != models.ECONFLICT {
		t.Errorf("merging two councils: %v, want ECONFLICT", err)
	}
	// Nothing moved.
	if got, err := s.Place(ctx, other.ID); err != nil || got.Name != "محله نمونه ۲ اراک" {
		t.Errorf("after the refused merge: %+v, %v", got, err)
	}
	saveh := findPlace(t, s, "محله نمونه ۱ ساوه")
	for _, tt := range []struct {
		name       string
		from, into uint
		code       string
	}{
		{"itself", into.ID, into.ID, models.EINVALID},
		{"another county", saveh.ID, into.ID, models.EINVALID},
		{"missing", 999999, into.ID, models.ENOTFOUND},
	} {
		if err := s.MergePlaces(ctx, coordinator, tt.from, tt.into); models.ErrorCode(err) != tt.code {
			t.Errorf("%s: MergePlaces = %v, want %s", tt.name, err, tt.code)
		}
	}
}

func TestSearch(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ctx := t.Context()
	county, _ := arak(t, s)
	for _, name := range []string{"کوی گلستان", "گلستان شمالی", "شهرک گلستان", "نجف‌آباد", "کوی ولیعصر"} {
		if _, _, err := s.CreatePlace(ctx, resident, county, name); err != nil {
			t.Fatal(err)
		}
	}
	type want struct{ kind, name string }
	tests := []struct {
		name  string
		typed string
		opts  models.SearchOptions
		first []want // the first matches, in order
		total int    // -1: do not check
	}{
		{"province before its county", "تهران", models.SearchOptions{Limit: 2}, []want{{models.MatchProvince, "تهران"}, {models.MatchCounty, "تهران"}}, -1},
		{"Arabic yeh and kaf", "كوي گلستان", models.SearchOptions{Kinds: []string{models.MatchPlace}}, []want{{models.MatchPlace, "کوی گلستان"}}, 1},
		{"ZWNJ typed as space", "نجف آباد", models.SearchOptions{Kinds: []string{models.MatchPlace}}, []want{{models.MatchPlace, "نجف‌آباد"}}, 1},
		{"ZWNJ county typed without", "نجفاباد", models.SearchOptions{Kinds: []string{models.MatchCounty}}, []want{{models.MatchCounty, "نجف‌آباد"}, {models.MatchCounty, "نظرآباد"}}, 2}, // the second two edits away
		{"exact > prefix > contains", "گلستان", models.SearchOptions{Kinds: []string{models.MatchPlace}, CountyID: county},
			[]want{{models.MatchPlace, "گلستان شمالی"}, {models.MatchPlace, "شهرک گلستان"}, {models.MatchPlace, "کوی گلستان"}}, 3},
		{"one typo in a short name", "گلستن", models.SearchOptions{Kinds: []string{models.MatchPlace}, CountyID: county},
			[]want{{models.MatchPlace, "شهرک گلستان"}, {models.MatchPlace, "کوی گلستان"}, {models.MatchPlace, "گلستان شمالی"}}, 3}, // equally near: Persian order
		{"two typos in a long name", "ولیاسر کوی", models.SearchOptions{Kinds: []string{models.MatchPlace}}, nil, 0},
		{"two typos in a long name", "کویولیاسر", models.SearchOptions{Kinds: []string{models.MatchPlace}}, []want{{models.MatchPlace, "کوی ولیعصر"}}, 1},
		{"a typo in a province", "اصفهن", models.SearchOptions{Kinds: []string{models.MatchProvince}}, []want{{models.MatchProvince, "اصفهان"}}, 1},
		{"words of the place and its county", "نمونه ۲ اراک", models.SearchOptions{Kinds: []string{models.MatchPlace}}, []want{{models.MatchPlace, "محله نمونه ۲ اراک"}}, 1},
		{"counties of one province", "آباد", models.SearchOptions{Kinds: []string{models.MatchCounty}, ProvinceID: provinceID(t, s, "isfahan")}, nil, -1},
		{"no typo allowed under 4 letters", "گلس", models.SearchOptions{Kinds: []string{models.MatchPlace}, CountyID: county}, nil, 3},
		{"nothing", "زززززز", models.SearchOptions{}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Search(ctx, tt.typed, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tt.total >= 0 && res.Total != tt.total {
				t.Errorf("Search(%q).Total = %d, want %d: %+v", tt.typed, res.Total, tt.total, res.Matches)
			}
			if len(res.Matches) < len(tt.first) {
				t.Fatalf("Search(%q) = %+v, want at least %d", tt.typed, res.Matches, len(tt.first))
			}
			for i, w := range tt.first {
				if m := res.Matches[i]; m.Kind != w.kind || m.Name != w.name {
					t.Errorf("Search(%q)[%d] = %s %s, want %s %s", tt.typed, i, m.Kind, m.Name, w.kind, w.name)
				}
			}
			for _, m := range res.Matches {
				if tt.opts.ProvinceID != 0 && m.ProvinceID != tt.opts.ProvinceID {
					t.Errorf("match %s is outside province %d", m.Name, tt.opts.ProvinceID)
				}
			}
		})
	}

	// The count says how many more there are than shown.
	res, err := s.Search(ctx, "نمونه", models.SearchOptions{Limit: 8})
	if err != nil || len(res.Matches) != 8 || res.Total != 36 {
		t.Errorf("Search(نمونه) = %d shown of %d, %v; want 8 of 36", len(res.Matches), res.Total, err)
	}
	if _, err := s.Search(ctx, " ‌ ", models.SearchOptions{}); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("blank search: %v, want EINVALID", err)
	}
}

func TestPlaceStartParam(t *testing.T) {
	for _, id := range []uint{1, 42, 1 << 40} {
		p := models.PlaceStartParam(id)
		got, err := models.ParsePlaceStartParam(p)
		if err != nil || got != id {
			t.Errorf("ParsePlaceStartParam(%q) = %d, %v; want %d", p, got, err, id)
		}
	}
	if got := models.PlaceStartParam(42); got != "p42" {
		t.Errorf("PlaceStartParam(42) = %q, want p42", got)
	}
	for _, bad := range []string{"", "p", "p0", "p042", "p-1", "p+1", "q42", "p4a", "P42", "p99999999999999999999999"} {
		if _, err := models.ParsePlaceStartParam(bad); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("ParsePlaceStartParam(%q) err = %v, want EINVALID", bad, err)
		}
	}
}

func FuzzParsePlaceStartParam(f *testing.F) {
	for _, s := range []string{"p1", "p42", "p0", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := models.ParsePlaceStartParam(s)
		if err == nil && models.PlaceStartParam(id) != s {
			t.Errorf("ParsePlaceStartParam(%q) = %d, which prints as %q", s, id, models.PlaceStartParam(id))
		}
	})
}

// BenchmarkSearch measures one search over every county and province and
// 20,000 places, as a large install would hold (the reference cache warm).
func BenchmarkSearch(b *testing.B) {
	s := modelstest.Open(b)
	ctx := b.Context()
	cs, err := s.Counties(ctx, provinceID(b, s, "tehran"))
	if err != nil {
		b.Fatal(err)
	}
	words := []string{"گلستان", "ولیعصر", "بهار", "لاله", "نرگس", "شهید بهشتی", "امام", "آزادی", "پارک", "میدان"}
	var csv strings.Builder
	csv.WriteString("province_code,county_code,kind,name_fa\n")
	for i := range 20000 {
		fmt.Fprintf(&csv, "tehran,%s,neighborhood,محله %s %d\n", cs[i%len(cs)].Code, words[i%len(words)], i)
	}
	if err := s.Seed(ctx, fstest.MapFS{"bench-places.csv": {Data: []byte(csv.String())}}); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"گلستان", "کوی گلستن", "ولیعصر ۱۲۳"} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Search(ctx, q, models.SearchOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestUpgradeToPlacesKeepsPlacesConfirmed migrates a database with places
// from before unconfirmed places existed: they stay, confirmed, and the
// embedded seed adds every county around them.
func TestUpgradeToPlacesKeepsPlacesConfirmed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := modelstest.OpenEmpty(t)
	db := models.DB(s).WithContext(ctx)
	if err := s.MigrateTo(ctx, models.MigrationMembers); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO provinces (code, name, name_en) VALUES ('markazi', 'مرکزی', 'Markazi')`,
		`INSERT INTO counties (province_id, code, name, name_en) SELECT id, 'saveh', 'ساوه', 'Saveh' FROM provinces`,
		`INSERT INTO places (county_id, kind, name, search_key, example) SELECT id, 'neighborhood', 'محله قدیمی', 'محلهقدیمی', false FROM counties`,
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if seeded, err := s.SeedIfStale(ctx); err != nil || !seeded {
		t.Fatalf("SeedIfStale after upgrade = %v, %v; want true", seeded, err)
	}
	res, err := s.FindPlaces(ctx, "محله قدیمی", 0, 8)
	if err != nil || res.Total != 1 || !res.Matches[0].Confirmed || res.Matches[0].CountyName != "ساوه" {
		t.Fatalf("old place after upgrade = %+v, %v; want it confirmed in ساوه", res, err)
	}
	c, err := s.CountyAt(ctx, 35.07368, 50.03577) // Saveh's anchor
	if err != nil || c.ID != res.Matches[0].CountyID {
		t.Errorf("CountyAt(Saveh) = %+v, %v; want the old county %d", c, err, res.Matches[0].CountyID)
	}
}
