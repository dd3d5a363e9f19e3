package models

import (
	"testing"
)

// square returns the closed counter-clockwise ring of the square from
// (x0, y0) to (x1, y1).
func square(x0, y0, x1, y1 float64) ring {
	return ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

// TestBoundaryMultipolygonWithHole checks the point-in-polygon test on a
// shape the OSM data hardly has: two parts, one with a hole.
func TestBoundaryMultipolygonWithHole(t *testing.T) {
	b := newBoundary(1, []polygon{
		{square(0, 0, 10, 10), square(4, 4, 6, 6)}, // a square with a hole
		{square(20, 0, 22, 2)},                     // a second part
	})
	tests := []struct {
		name string
		pt   point
		want bool
	}{
		{"inside the first part", point{1, 1}, true},
		{"in the hole", point{5, 5}, false},
		{"on the hole's edge", point{4, 5}, true},
		{"inside the second part", point{21, 1}, true},
		{"between the parts", point{15, 1}, false},
		{"on a corner", point{10, 10}, true},
		{"on an outer edge", point{10, 3}, true},
		{"outside the bbox", point{30, 30}, false},
	}
	for _, tt := range tests {
		if got := b.contains(tt.pt); got != tt.want {
			t.Errorf("%s: contains(%v) = %v, want %v", tt.name, tt.pt, got, tt.want)
		}
	}
}

// TestLocateBorderIsDeterministic puts points on the border of two squares,
// both of which contain them: the lower OSM id gets them.
func TestLocateBorderIsDeterministic(t *testing.T) {
	left := newBoundary(7, []polygon{{square(0, 0, 1, 1)}})
	right := newBoundary(3, []polygon{{square(1, 0, 2, 1)}})
	g := &geoIndex{boundaries: []boundary{right, left}} // by OSM id, as countyGeo keeps them
	for _, pt := range []point{{1, 0.5}, {1, 0}, {1, 1}} {
		if !left.contains(pt) || !right.contains(pt) {
			t.Errorf("%v is not in both squares", pt)
		}
		if id, ok := g.locate(pt); !ok || id != 3 {
			t.Errorf("locate(%v) = %d, %v; want 3", pt, id, ok)
		}
	}
	n := touching([]boundary{left, right, newBoundary(9, []polygon{{square(5, 5, 6, 6)}})}, touchTolerance)
	if len(n[3]) != 1 || n[3][0] != 7 || len(n[7]) != 1 || n[7][0] != 3 || len(n[9]) != 0 {
		t.Errorf("touching = %v, want 3 and 7 neighbours, 9 alone", n)
	}
}

// BenchmarkCountyGeoBuild measures parsing the embedded boundaries and
// computing the neighbour relation, paid once per process.
func BenchmarkCountyGeoBuild(b *testing.B) {
	for b.Loop() {
		bs, err := parseBoundaries(countyBoundariesGz)
		if err != nil {
			b.Fatal(err)
		}
		_ = touching(bs, touchTolerance)
	}
}

// BenchmarkLocate measures mapping one shared location to its county.
func BenchmarkLocate(b *testing.B) {
	g, err := countyGeo()
	if err != nil {
		b.Fatal(err)
	}
	pts := []point{{49.6892, 34.0917}, {51.3380, 35.6997}, {60.0, 27.0}, {44.3661, 33.3152}}
	for i := 0; b.Loop(); i++ {
		g.locate(pts[i%len(pts)])
	}
}
