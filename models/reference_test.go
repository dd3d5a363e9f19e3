package models_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/models/modelstest"
	"github.com/mahalle/mahalle/persian"
)

// provinceID returns the id of the province with the given code.
func provinceID(t testing.TB, s *models.Store, code string) uint {
	t.Helper()
	ps, err := s.Provinces(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Code == code {
			return p.ID
		}
	}
	t.Fatalf("no province %q", code)
	return 0
}

// snapshot is all the reference data, to compare before and after a reseed.
type snapshot struct {
	provinces  []models.Province
	counties   []models.County
	places     []models.Place
	committees []models.Committee
	programmes []models.Programme
}

func takeSnapshot(t *testing.T, s *models.Store) snapshot {
	t.Helper()
	ctx := t.Context()
	var snap snapshot
	var err error
	if snap.provinces, err = s.Provinces(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range snap.provinces {
		cs, err := s.Counties(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		snap.counties = append(snap.counties, cs...)
		for _, c := range cs {
			ps, err := s.Places(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			snap.places = append(snap.places, ps...)
		}
	}
	if snap.committees, err = s.Committees(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if snap.programmes, err = s.Programmes(ctx); err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestSeedCounts(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	snap := takeSnapshot(t, s)

	crisis := 0
	for _, c := range snap.committees {
		if c.Crisis {
			crisis++
		}
	}
	markaziCounties := 0
	for _, c := range snap.counties {
		if c.ProvinceID == provinceID(t, s, "markazi") {
			markaziCounties++
		}
	}
	tests := []struct {
		name      string
		got, want int
	}{
		{"provinces", len(snap.provinces), 31},
		{"counties", len(snap.counties), 478},
		{"markazi counties", markaziCounties, 12},
		{"committees", len(snap.committees), 8},
		{"crisis committees", crisis, 1},
		{"programmes", len(snap.programmes), 5},
		{"places", len(snap.places), 36},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}

	// Every Markazi county has two or three demo places, all marked and named as examples.
	perCounty := map[uint]int{}
	for _, p := range snap.places {
		perCounty[p.CountyID]++
		if !p.Example || !strings.Contains(p.Name, "نمونه") {
			t.Errorf("place %q is not clearly an example (Example=%v)", p.Name, p.Example)
		}
		if p.SearchKey != persian.SearchKey(p.Name) {
			t.Errorf("place %q SearchKey = %q, want %q", p.Name, p.SearchKey, persian.SearchKey(p.Name))
		}
	}
	for _, c := range snap.counties {
		if c.ProvinceID != provinceID(t, s, "markazi") {
			if perCounty[c.ID] != 0 {
				t.Errorf("county %s has demo places; only Markazi's have", c.Code)
			}
			continue
		}
		if n := perCounty[c.ID]; n < 2 || n > 3 {
			t.Errorf("county %s has %d demo places, want 2–3", c.Code, n)
		}
	}

	// Committees keep the file's order.
	gotCodes := []string{}
	for _, c := range snap.committees {
		gotCodes = append(gotCodes, c.Code)
	}
	wantCodes := []string{"health", "livelihood", "security", "culture", "civil", "environment", "crisis", "other"}
	if !slices.Equal(gotCodes, wantCodes) {
		t.Errorf("committee order = %v, want %v", gotCodes, wantCodes)
	}
}

func TestSeedIdempotent(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t) // seeded once
	before := takeSnapshot(t, s)
	for range 2 {
		if err := s.Seed(t.Context(), models.SeedFS()); err != nil {
			t.Fatalf("reseed: %v", err)
		}
	}
	after := takeSnapshot(t, s)
	if !equalSnapshots(before, after) {
		t.Errorf("reseeding changed the data:\nbefore %+v\nafter  %+v", before, after)
	}
}

func equalSnapshots(a, b snapshot) bool {
	return slices.Equal(a.provinces, b.provinces) &&
		slices.EqualFunc(a.counties, b.counties, func(x, y models.County) bool {
			return x.ID == y.ID && x.ProvinceID == y.ProvinceID && x.Code == y.Code && x.Name == y.Name &&
				x.NameEn == y.NameEn && (x.OsmID == nil) == (y.OsmID == nil) && (x.OsmID == nil || *x.OsmID == *y.OsmID) &&
				equalCoord(x.Lat, y.Lat) && equalCoord(x.Lon, y.Lon) && equalCoord(x.MinLon, y.MinLon) &&
				equalCoord(x.MinLat, y.MinLat) && equalCoord(x.MaxLon, y.MaxLon) && equalCoord(x.MaxLat, y.MaxLat)
		}) &&
		slices.EqualFunc(a.places, b.places, func(x, y models.Place) bool {
			return x.ID == y.ID && x.CountyID == y.CountyID && x.Name == y.Name && x.Kind == y.Kind &&
				x.SearchKey == y.SearchKey && x.Example == y.Example && x.Confirmed == y.Confirmed &&
				equalCoord(x.Lat, y.Lat) && equalCoord(x.Lon, y.Lon)
		}) &&
		slices.EqualFunc(a.committees, b.committees, func(x, y models.Committee) bool {
			return x.ID == y.ID && x.Code == y.Code && x.Name == y.Name && x.Crisis == y.Crisis &&
				x.Position == y.Position && (x.ProvinceID == nil) == (y.ProvinceID == nil)
		}) &&
		slices.Equal(a.programmes, b.programmes)
}

func equalCoord(a, b *float64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func TestProvincesInPersianOrder(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ps, err := s.Provinces(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ps[0].Name, "آذربایجان شرقی"; got != want {
		t.Errorf("first province = %q, want %q", got, want)
	}
	if got, want := ps[len(ps)-1].Name, "یزد"; got != want {
		t.Errorf("last province = %q, want %q", got, want)
	}
}

func TestComparePersian(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"پارس", "یزد", -1},         // پ before ی, though U+067E > U+06CC
		{"گیلان", "لرستان", -1},     // گ before ل
		{"چهارمحال", "خوزستان", -1}, // چ before خ
		{"آذربایجان", "اردبیل", -1}, // آ before ا
		{"کرمان", "كرمان", 0},       // Arabic kaf sorts as Persian kaf (then by bytes)
		{"محله ۲", "محله 10", -1},   // digit by value, any script
		{"قم", "قم", 0},
		{"قزوین", "قم", -1},
	}
	for _, tt := range tests {
		got := models.ComparePersian(tt.a, tt.b)
		sign := 0
		if got < 0 {
			sign = -1
		} else if got > 0 {
			sign = 1
		}
		if tt.want == 0 {
			// Equal rank: only the tie-break by bytes may decide.
			if sign != 0 && tt.a == tt.b {
				t.Errorf("ComparePersian(%q, %q) = %d, want 0", tt.a, tt.b, got)
			}
			continue
		}
		if sign != tt.want {
			t.Errorf("ComparePersian(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSearchPlaces(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ctx := t.Context()

	tests := []struct {
		name      string
		typed     string // what the person typed; the caller normalises it
		limit     int
		wantCount int
		wantIn    string // a name every result must contain
	}{
		{"all examples", "نمونه", 100, 36, "نمونه"},
		{"limit", "نمونه", 5, 5, "نمونه"},
		{"default limit", "نمونه", 0, 20, "نمونه"},
		{"Arabic yeh", "روستاي نمونه", 100, 12, "روستای نمونه"},
		{"Arabic kaf", "اراك", 100, 3, "اراک"},
		{"Persian digit and county", "محله نمونه ۲ ساوه", 100, 1, "محله نمونه ۲ ساوه"},
		{"ASCII digit", "نمونه 1 خمین", 100, 2, "خمین"},
		{"no match", "تهران", 100, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.SearchPlaces(ctx, persian.SearchKey(tt.typed), tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantCount {
				t.Fatalf("SearchPlaces(%q) returned %d places, want %d: %+v", tt.typed, len(got), tt.wantCount, got)
			}
			for _, m := range got {
				if !strings.Contains(m.Name, tt.wantIn) {
					t.Errorf("result %q does not contain %q", m.Name, tt.wantIn)
				}
				if m.ProvinceName != "مرکزی" || m.CountyName == "" || m.ProvinceID == 0 {
					t.Errorf("result %q has county %q, province %q (%d)", m.Name, m.CountyName, m.ProvinceName, m.ProvinceID)
				}
			}
		})
	}
}

func TestSearchPlacesLiteralWildcards(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	for _, q := range []string{"%", "_", `\`, "نمونه%", "a_b"} {
		got, err := s.SearchPlaces(t.Context(), q, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Errorf("SearchPlaces(%q) = %d places, want 0 (wildcards must match literally)", q, len(got))
		}
	}
}

func TestSearchPlacesPrefixFirst(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	extra := fstest.MapFS{"extra-places.csv": {Data: []byte(
		"province_code,county_code,kind,name_fa,example\n" +
			"markazi,arak,neighborhood,نمونه ویژه,true\n")}}
	if err := s.Seed(t.Context(), extra); err != nil {
		t.Fatal(err)
	}
	got, err := s.SearchPlaces(t.Context(), persian.SearchKey("نمونه"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "نمونه ویژه" {
		t.Errorf("first match = %+v, want the place whose name starts with the query", got)
	}
}

func TestSearchPlacesBlank(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	_, err := s.SearchPlaces(t.Context(), "  ", 10)
	if got, want := models.ErrorCode(err), models.EINVALID; got != want {
		t.Errorf("SearchPlaces(blank) code = %q, want %q", got, want)
	}
}

func TestPlace(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ms, err := s.SearchPlaces(t.Context(), persian.SearchKey("محله نمونه ۱ اراک"), 1)
	if err != nil || len(ms) != 1 {
		t.Fatalf("search: %v, %+v", err, ms)
	}
	got, err := s.Place(t.Context(), ms[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "محله نمونه ۱ اراک" || got.CountyName != "اراک" || got.ProvinceName != "مرکزی" ||
		got.Kind != models.KindNeighborhood || got.ProvinceID != provinceID(t, s, "markazi") || got.Lat == nil {
		t.Errorf("Place = %+v", got)
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ctx := t.Context()
	const missing = 987654
	tests := []struct {
		name string
		call func() error
	}{
		{"Place", func() error { _, err := s.Place(ctx, missing); return err }},
		{"Committee", func() error { _, err := s.Committee(ctx, missing); return err }},
		{"Committees", func() error { _, err := s.Committees(ctx, missing); return err }},
		{"Counties", func() error { _, err := s.Counties(ctx, missing); return err }},
		{"Places", func() error { _, err := s.Places(ctx, missing); return err }},
		{"SuggestionByCode", func() error { _, err := s.SuggestionByCode(ctx, "S-ZZZZZ"); return err }},
		{"Identity", func() error { _, err := s.Identity(ctx, "tg", missing); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var e *models.Error
			if !errors.As(err, &e) || e.Code != models.ENOTFOUND {
				t.Fatalf("err = %v, want an *models.Error with code %q", err, models.ENOTFOUND)
			}
			if got := models.ErrorCode(err); got != models.ENOTFOUND {
				t.Errorf("ErrorCode = %q, want %q", got, models.ENOTFOUND)
			}
			if !strings.HasPrefix(err.Error(), "models: ") {
				t.Errorf("err = %q, want the package prefix", err)
			}
		})
	}
}

func TestProvinceWithoutCountiesIsEmptyNotMissing(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	extra := fstest.MapFS{"provinces.csv": {Data: []byte("code,name_fa,name_en\nnew-province,استان تازه,New province\n")}}
	if err := s.Seed(t.Context(), extra); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Counties(t.Context(), provinceID(t, s, "new-province"))
	if err != nil || len(cs) != 0 {
		t.Errorf("Counties(yazd) = %+v, %v; want none, nil", cs, err)
	}
}

func TestCommitteesProvinceList(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ctx := t.Context()
	own := fstest.MapFS{"committees-tehran.csv": {Data: []byte(
		"province_code,code,name_fa,name_en,crisis\n" +
			"tehran,civil,عمران و زیرساخت,Civil works and infrastructure,false\n" +
			"tehran,health,بهداشت و درمان,Health,false\n" +
			"tehran,sport,نشاط و ورزش,Vitality and sport,false\n" +
			"tehran,crisis,مدیریت بحران,Crisis management,true\n")}}
	for range 2 { // loading a province's list twice changes nothing
		if err := s.Seed(ctx, own); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name     string
		province uint
		want     []string
	}{
		{"own list", provinceID(t, s, "tehran"), []string{"civil", "health", "sport", "crisis"}},
		{"default list", provinceID(t, s, "markazi"), []string{"health", "livelihood", "security", "culture", "civil", "environment", "crisis", "other"}},
		{"no province", 0, []string{"health", "livelihood", "security", "culture", "civil", "environment", "crisis", "other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := s.Committees(ctx, tt.province)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.Code)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Committees = %v, want %v", got, tt.want)
			}
		})
	}

	cs, err := s.Committees(ctx, provinceID(t, s, "tehran"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Committee(ctx, cs[3].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Crisis || c.ProvinceID == nil || *c.ProvinceID != provinceID(t, s, "tehran") || c.Position != 4 {
		t.Errorf("Committee = %+v", c)
	}
}

func TestSeedRejectsBadFiles(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	tests := []struct {
		name string
		fsys fstest.MapFS
	}{
		{"no files", fstest.MapFS{"readme.txt": {Data: []byte("hi")}}},
		{"missing column", fstest.MapFS{"provinces.csv": {Data: []byte("code,name_en\nx,X\n")}}},
		{"empty required cell", fstest.MapFS{"provinces.csv": {Data: []byte("code,name_fa\nx,\n")}}},
		{"unknown province", fstest.MapFS{"counties.csv": {Data: []byte("province_code,code,name_fa\nnowhere,x,ایکس\n")}}},
		{"unknown county", fstest.MapFS{"places.csv": {Data: []byte("province_code,county_code,kind,name_fa\nmarkazi,nowhere,village,روستای نمونه\n")}}},
		{"bad kind", fstest.MapFS{"places.csv": {Data: []byte("province_code,county_code,kind,name_fa\nmarkazi,arak,city,نمونه\n")}}},
		{"bad latitude", fstest.MapFS{"places.csv": {Data: []byte("province_code,county_code,kind,name_fa,lat,lon\nmarkazi,arak,village,نمونه,95,50\n")}}},
		{"bad bool", fstest.MapFS{"committees.csv": {Data: []byte("code,name_fa,crisis\nx,ایکس,maybe\n")}}},
		{"unknown committee province", fstest.MapFS{"committees-x.csv": {Data: []byte("province_code,code,name_fa\nnowhere,x,ایکس\n")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Seed(t.Context(), tt.fsys)
			if got, want := models.ErrorCode(err), models.EINVALID; got != want {
				t.Errorf("Seed code = %q, want %q (err %v)", got, want, err)
			}
		})
	}
	// A rejected file leaves nothing behind.
	if cs, err := s.Committees(t.Context(), 0); err != nil || len(cs) != 8 {
		t.Errorf("committees after rejected seeds = %d, %v; want 8", len(cs), err)
	}
}
