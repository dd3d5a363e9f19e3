package models_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/mahalle/mahalle/models/modelstest"
)

// Reference data is served from memory, but a seed in this process is seen at once.
func TestReferenceCacheForgetsOnSeed(t *testing.T) {
	s := modelstest.Open(t)
	ctx := context.Background()
	found, err := s.SearchPlaces(ctx, "نمونه1اراک", 1)
	if err != nil || len(found) != 1 {
		t.Fatalf("seeded place: %v %v", found, err)
	}
	countyID := found[0].Place.CountyID
	before, err := s.Places(ctx, countyID)
	if err != nil {
		t.Fatal(err)
	}
	extra := fstest.MapFS{"places.csv": {Data: []byte("province_code,county_code,kind,name_fa,lat,lon,example\n" +
		"markazi,arak,neighborhood,محله نمونه ۹ اراک,,,true\n")}}
	if err := s.Seed(ctx, extra); err != nil {
		t.Fatal(err)
	}
	after, err := s.Places(ctx, countyID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(after), len(before)+1; got != want {
		t.Errorf("places after seeding one more = %d, want %d", got, want)
	}
}
