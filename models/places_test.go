package models_test

import (
	"testing"

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
