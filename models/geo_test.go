package models_test

import (
	"encoding/csv"
	"slices"
	"strconv"
	"testing"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/models/modelstest"
)

// countyIDs maps "province/county" (Persian names) to county ids.
func countyIDs(t *testing.T, s *models.Store) map[string]uint {
	t.Helper()
	ids := map[string]uint{}
	ps, err := s.Provinces(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		cs, err := s.Counties(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			ids[p.Name+"/"+c.Name] = c.ID
		}
	}
	return ids
}

// TestCountyAtEveryAnchor maps each county's anchor point (a point inside it,
// from counties.csv) back to that county: all 478.
func TestCountyAtEveryAnchor(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	f, err := models.SeedFS().Open("counties.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, row := range rows[1:] { // province_code,code,name_fa,name_en,osm_id,lat,lon,…
		lat, _ := strconv.ParseFloat(row[5], 64)
		lon, _ := strconv.ParseFloat(row[6], 64)
		c, err := s.CountyAt(t.Context(), lat, lon)
		if err != nil || c.Code != row[1] || c.OsmID == nil || strconv.FormatInt(*c.OsmID, 10) != row[4] {
			t.Errorf("CountyAt(%s) = %s %v, %v; want %s", row[2], c.Name, c.OsmID, err, row[2])
		}
		n++
	}
	if n != 478 {
		t.Errorf("checked %d anchors, want 478", n)
	}
}

func TestCountyAtPoints(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ids := countyIDs(t, s)
	tests := []struct {
		name     string
		lat, lon float64
		want     string // "province/county", or "" for ENOTFOUND
	}{
		{"Arak's bazaar", 34.0917, 49.6892, "مرکزی/اراک"},
		{"Tehran's Azadi square", 35.6997, 51.3380, "تهران/تهران"},
		{"Tabriz", 38.0800, 46.2919, "آذربایجان شرقی/تبریز"},
		{"Kish island", 26.5320, 53.9800, "هرمزگان/بندر لنگه"},
		// A vertex shared by Arak (OSM 6554870) and Khondab (6555001): the
		// lower OSM id wins, every time.
		{"vertex on the Arak–Khondab border", 34.1988, 49.4692, "مرکزی/اراک"},
		{"middle of a shared Arak–Khondab edge", (34.1988 + 34.2002) / 2, (49.4692 + 49.4715) / 2, "مرکزی/اراک"},
		{"Baghdad", 33.3152, 44.3661, ""},
		{"Istanbul", 41.0082, 28.9784, ""},
		{"the open Caspian", 41.5, 51.0, ""},
		{"Herat", 34.3529, 62.2040, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // the same answer twice
				c, err := s.CountyAt(t.Context(), tt.lat, tt.lon)
				if tt.want == "" {
					if models.ErrorCode(err) != models.ENOTFOUND {
						t.Fatalf("CountyAt = %s, %v; want ENOTFOUND", c.Name, err)
					}
					continue
				}
				if err != nil || c.ID != ids[tt.want] {
					t.Fatalf("CountyAt = %s (%d), %v; want %s (%d)", c.Name, c.ID, err, tt.want, ids[tt.want])
				}
			}
		})
	}
	if _, err := s.CountyAt(t.Context(), 91, 0); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("CountyAt(91, 0) err = %v, want EINVALID", err)
	}
}

func TestNeighbourCounties(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ids := countyIDs(t, s)
	names := map[uint]string{}
	for k, v := range ids {
		names[v] = k
	}
	neighbours := func(county string) []string {
		t.Helper()
		cs, err := s.NeighbourCounties(t.Context(), ids[county])
		if err != nil {
			t.Fatalf("NeighbourCounties(%s): %v", county, err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, names[c.ID])
		}
		return out
	}
	tests := []struct {
		a, b string
		want bool
	}{
		{"مرکزی/اراک", "مرکزی/خنداب", true},
		{"مرکزی/اراک", "مرکزی/شازند", true},
		{"مرکزی/ساوه", "قم/قم", true},           // two provinces
		{"مرکزی/ساوه", "همدان/فامنین", true},    // two provinces
		{"تهران/تهران", "تهران/شمیرانات", true}, // a city county and its neighbour
		{"مرکزی/اراک", "مرکزی/ساوه", false},
		{"مرکزی/اراک", "تهران/تهران", false},
	}
	for _, tt := range tests {
		if got := slices.Contains(neighbours(tt.a), tt.b); got != tt.want {
			t.Errorf("%s neighbours %s = %v, want %v (neighbours %v)", tt.a, tt.b, got, tt.want, neighbours(tt.a))
		}
		if got := slices.Contains(neighbours(tt.b), tt.a); got != tt.want {
			t.Errorf("%s neighbours %s = %v, want %v (not symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
	want := []string{"مرکزی/آشتیان", "مرکزی/خمین", "مرکزی/خنداب", "مرکزی/دلیجان", "مرکزی/شازند", "مرکزی/فراهان", "مرکزی/محلات", "مرکزی/کمیجان"}
	got := neighbours("مرکزی/اراک")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("neighbours of Arak = %v, want %v", got, want)
	}
	if _, err := s.NeighbourCounties(t.Context(), 999999); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("NeighbourCounties(missing) err = %v, want ENOTFOUND", err)
	}
}

func TestNearestPlaces(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ctx := t.Context()
	// A resident shares a location near «محله نمونه ۲ اراک» (34.086, 49.686).
	c, err := s.CountyAt(ctx, 34.0865, 49.6865)
	if err != nil || c.Code != "arak" {
		t.Fatalf("CountyAt = %+v, %v; want arak", c, err)
	}
	near, err := s.NearestPlaces(ctx, c.ID, 34.0865, 49.6865, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(near) != 2 || near[0].Name != "محله نمونه ۲ اراک" || near[1].Name != "محله نمونه ۱ اراک" {
		t.Fatalf("NearestPlaces = %+v", near)
	}
	// About 70 m and 1.1 km away.
	if near[0].Metres < 40 || near[0].Metres > 100 || near[1].Metres < 900 || near[1].Metres > 1300 {
		t.Errorf("distances = %.0f m, %.0f m; want about 70 m and 1.1 km", near[0].Metres, near[1].Metres)
	}
	if _, err := s.NearestPlaces(ctx, 999999, 34, 49, 3); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("NearestPlaces(missing county) err = %v, want ENOTFOUND", err)
	}
}
