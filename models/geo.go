package models

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
)

// The simplified boundaries of every county of Iran, © OpenStreetMap
// contributors, ODbL 1.0 (seed/README.md). They are matched to counties by
// their OSM relation id (County.OsmID).
//
//go:embed seed/geo/counties.geojson.gz
var countyBoundariesGz []byte

// Attribution is the credit the county data requires wherever a list or map
// made from it is shown.
const Attribution = "© OpenStreetMap contributors"

// touchTolerance is how close (in degrees, about 55 m) two counties'
// boundary vertices must come for the counties to count as neighbours: the
// simplified polygons share their border vertices exactly, and the tolerance
// absorbs the rounding of coordinates to 4 decimals.
const touchTolerance = 0.0005

// onEdgeTolerance is how close (in degrees) a point must be to a boundary
// edge to count as on it, and so inside.
const onEdgeTolerance = 1e-9

// point is a longitude and latitude, as GeoJSON orders them.
type point [2]float64

// ring is a closed line of points (the last equals the first).
type ring []point

// polygon is an exterior ring followed by its holes.
type polygon []ring

// boundary is one county's (multi)polygon with its bounding box.
type boundary struct {
	osmID                          int64
	polygons                       []polygon
	minLon, minLat, maxLon, maxLat float64
}

// geoIndex is every county's boundary, by ascending OSM id, and the
// neighbour relation computed from them.
type geoIndex struct {
	boundaries []boundary
	neighbours map[int64][]int64 // OSM id -> OSM ids of the counties it touches, ascending
}

// countyGeo parses the embedded boundaries once, on first use (about 0.2 s
// and 27 MB allocated, paid by the first shared location, not by every start).
var countyGeo = sync.OnceValues(func() (*geoIndex, error) {
	bs, err := parseBoundaries(countyBoundariesGz)
	if err != nil {
		return nil, err
	}
	return &geoIndex{boundaries: bs, neighbours: touching(bs, touchTolerance)}, nil
})

// parseBoundaries reads a gzipped GeoJSON FeatureCollection of (Multi)Polygon
// features with an osm_id property.
func parseBoundaries(gz []byte) ([]boundary, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("county boundaries: %w", err)
	}
	var fc struct {
		Features []struct {
			Properties struct {
				OsmID int64 `json:"osm_id"`
			} `json:"properties"`
			Geometry struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.NewDecoder(zr).Decode(&fc); err != nil {
		return nil, fmt.Errorf("county boundaries: %w", err)
	}
	bs := make([]boundary, 0, len(fc.Features))
	for _, f := range fc.Features {
		var polys []polygon
		switch f.Geometry.Type {
		case "MultiPolygon":
			err = json.Unmarshal(f.Geometry.Coordinates, &polys)
		case "Polygon":
			var p polygon
			err = json.Unmarshal(f.Geometry.Coordinates, &p)
			polys = []polygon{p}
		default:
			err = fmt.Errorf("geometry type %q", f.Geometry.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("county boundaries: osm %d: %w", f.Properties.OsmID, err)
		}
		bs = append(bs, newBoundary(f.Properties.OsmID, polys))
	}
	slices.SortFunc(bs, func(a, b boundary) int { return cmp.Compare(a.osmID, b.osmID) })
	return bs, nil
}

func newBoundary(osmID int64, polys []polygon) boundary {
	b := boundary{osmID: osmID, polygons: polys, minLon: math.Inf(1), minLat: math.Inf(1), maxLon: math.Inf(-1), maxLat: math.Inf(-1)}
	for _, p := range polys {
		for _, r := range p {
			for _, v := range r {
				b.minLon, b.maxLon = min(b.minLon, v[0]), max(b.maxLon, v[0])
				b.minLat, b.maxLat = min(b.minLat, v[1]), max(b.maxLat, v[1])
			}
		}
	}
	return b
}

// contains reports whether pt is inside b or on its border.
func (b *boundary) contains(pt point) bool {
	if pt[0] < b.minLon-onEdgeTolerance || pt[0] > b.maxLon+onEdgeTolerance ||
		pt[1] < b.minLat-onEdgeTolerance || pt[1] > b.maxLat+onEdgeTolerance {
		return false
	}
	for _, p := range b.polygons {
		if p.contains(pt) {
			return true
		}
	}
	return false
}

// contains reports whether pt is inside the polygon (inside its exterior
// and outside its holes) or on any of its rings. Even-odd over all rings
// gives exactly that for a valid polygon.
func (p polygon) contains(pt point) bool {
	inside := false
	for _, r := range p {
		for i := 1; i < len(r); i++ {
			a, b := r[i-1], r[i]
			if onSegment(pt, a, b) {
				return true
			}
			if (a[1] > pt[1]) != (b[1] > pt[1]) &&
				pt[0] < (b[0]-a[0])*(pt[1]-a[1])/(b[1]-a[1])+a[0] {
				inside = !inside
			}
		}
	}
	return inside
}

// onSegment reports whether pt lies on the segment ab, within onEdgeTolerance.
func onSegment(pt, a, b point) bool {
	if pt[0] < min(a[0], b[0])-onEdgeTolerance || pt[0] > max(a[0], b[0])+onEdgeTolerance ||
		pt[1] < min(a[1], b[1])-onEdgeTolerance || pt[1] > max(a[1], b[1])+onEdgeTolerance {
		return false
	}
	dx, dy := b[0]-a[0], b[1]-a[1]
	cross := (pt[0]-a[0])*dy - (pt[1]-a[1])*dx
	length := math.Hypot(dx, dy)
	if length == 0 {
		return math.Hypot(pt[0]-a[0], pt[1]-a[1]) <= onEdgeTolerance
	}
	return math.Abs(cross)/length <= onEdgeTolerance
}

// locate returns the OSM id of the county containing pt. A point on a border
// of several counties goes to the one with the lowest OSM id, so the answer
// never depends on map order or on rounding. ok is false outside every county.
func (g *geoIndex) locate(pt point) (osmID int64, ok bool) {
	for i := range g.boundaries { // ascending OSM id
		if g.boundaries[i].contains(pt) {
			return g.boundaries[i].osmID, true
		}
	}
	return 0, false
}

// touching returns, for each boundary, the boundaries that have a vertex
// within tol of one of its own vertices, found through a grid of cells tol
// wide.
func touching(bs []boundary, tol float64) map[int64][]int64 {
	type vertex struct {
		owner int
		pt    point
	}
	type cell [2]int64
	cellOf := func(pt point) cell {
		return cell{int64(math.Floor(pt[0] / tol)), int64(math.Floor(pt[1] / tol))}
	}
	grid := map[cell][]vertex{}
	for i, b := range bs {
		for _, p := range b.polygons {
			for _, r := range p {
				for _, v := range r {
					c := cellOf(v)
					grid[c] = append(grid[c], vertex{i, v})
				}
			}
		}
	}
	pairs := map[[2]int]bool{}
	for c, vs := range grid {
		for dx := int64(-1); dx <= 1; dx++ {
			for dy := int64(-1); dy <= 1; dy++ {
				ws := grid[cell{c[0] + dx, c[1] + dy}]
				for _, v := range vs {
					for _, w := range ws {
						if v.owner < w.owner && !pairs[[2]int{v.owner, w.owner}] &&
							math.Hypot(v.pt[0]-w.pt[0], v.pt[1]-w.pt[1]) <= tol {
							pairs[[2]int{v.owner, w.owner}] = true
						}
					}
				}
			}
		}
	}
	out := make(map[int64][]int64, len(bs))
	for p := range pairs {
		a, b := bs[p[0]].osmID, bs[p[1]].osmID
		out[a] = append(out[a], b)
		out[b] = append(out[b], a)
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}

// allCounties returns every county, by id, from the reference cache.
func (s *Store) allCounties(ctx context.Context) ([]County, error) {
	return cached(s, "counties:all", func() ([]County, error) {
		var cs []County
		if err := s.db.WithContext(ctx).Order("id").Find(&cs).Error; err != nil {
			return nil, err
		}
		return cs, nil
	})
}

// countyByOsm returns the county with the given OSM id from the cached list.
func countyByOsm(cs []County, osmID int64) (County, bool) {
	for _, c := range cs {
		if c.OsmID != nil && *c.OsmID == osmID {
			return c, true
		}
	}
	return County{}, false
}

// CountyAt returns the county whose boundary contains the point (a shared
// location). A point on the border of two counties is given to one of them,
// always the same. Returns EINVALID when lat or lon is out of range, and
// ENOTFOUND when the point is in no county of Iran (abroad, or the open sea),
// or in one this install was seeded without.
func (s *Store) CountyAt(ctx context.Context, lat, lon float64) (County, error) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return County{}, fmt.Errorf("models: county at: %w", Errorf(EINVALID, "location %v,%v out of range", lat, lon))
	}
	g, err := countyGeo()
	if err != nil {
		return County{}, fmt.Errorf("models: county at: %w", err)
	}
	osmID, ok := g.locate(point{lon, lat})
	if !ok {
		return County{}, fmt.Errorf("models: county at: %w", Errorf(ENOTFOUND, "no county at %v,%v", lat, lon))
	}
	cs, err := s.allCounties(ctx)
	if err != nil {
		return County{}, fmt.Errorf("models: county at: %w", err)
	}
	c, ok := countyByOsm(cs, osmID)
	if !ok {
		return County{}, fmt.Errorf("models: county at: %w", Errorf(ENOTFOUND, "county osm %d not seeded", osmID))
	}
	return c, nil
}

// NearPlace is a place with its distance from a point.
type NearPlace struct {
	Place
	Metres float64 // great-circle distance from the point
}

// NearestPlaces returns up to limit places of the county that have a
// location, nearest to the point first (haversine distance); places without
// a location are left out. limit <= 0 means 8. Returns ENOTFOUND when the
// county does not exist.
func (s *Store) NearestPlaces(ctx context.Context, countyID uint, lat, lon float64, limit int) ([]NearPlace, error) {
	if limit <= 0 {
		limit = 8
	}
	ps, err := s.Places(ctx, countyID)
	if err != nil {
		return nil, fmt.Errorf("models: nearest places: %w", err)
	}
	near := []NearPlace{}
	for _, p := range ps {
		if p.Lat != nil && p.Lon != nil {
			near = append(near, NearPlace{Place: p, Metres: haversine(lat, lon, *p.Lat, *p.Lon)})
		}
	}
	slices.SortStableFunc(near, func(a, b NearPlace) int { return cmp.Compare(a.Metres, b.Metres) })
	return near[:min(limit, len(near))], nil
}

// earthRadius is the mean radius of the Earth in metres.
const earthRadius = 6371008.8

// haversine returns the great-circle distance in metres between two points.
func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(a)))
}

// NeighbourCounties returns the counties whose boundaries touch the
// county's, in any province, ordered by id. A county seeded without an OSM
// id has none. The relation is computed once per process from the embedded
// boundaries. Returns ENOTFOUND when the county does not exist.
func (s *Store) NeighbourCounties(ctx context.Context, countyID uint) ([]County, error) {
	cs, err := s.allCounties(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: neighbour counties: %w", err)
	}
	i := slices.IndexFunc(cs, func(c County) bool { return c.ID == countyID })
	if i < 0 {
		return nil, fmt.Errorf("models: neighbour counties: %w",
			Errorf(ENOTFOUND, "county %s not found", strconv.FormatUint(uint64(countyID), 10)))
	}
	out := []County{}
	if cs[i].OsmID == nil {
		return out, nil
	}
	g, err := countyGeo()
	if err != nil {
		return nil, fmt.Errorf("models: neighbour counties: %w", err)
	}
	for _, id := range g.neighbours[*cs[i].OsmID] {
		if c, ok := countyByOsm(cs, id); ok {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b County) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}
