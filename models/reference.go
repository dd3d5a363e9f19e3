package models

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Place kinds.
const (
	KindNeighborhood = "neighborhood" // محله, in a city
	KindVillage      = "village"      // روستا
)

// Province is one of Iran's provinces (استان).
type Province struct {
	ID     uint
	Code   string // stable ASCII code, e.g. "markazi"; unique
	Name   string // Persian name
	NameEn string // English name
}

// TableName pins the table name for GORM.
func (Province) TableName() string { return "provinces" }

// County is a county (شهرستان) of a province.
type County struct {
	ID         uint
	ProvinceID uint
	Code       string // stable ASCII code, unique within the province
	Name       string // Persian name
	NameEn     string // English name
	OsmID      *int64 // OpenStreetMap relation id of its boundary; nil when seeded without one

	// Lat, Lon is a point inside the county (a map anchor, not its seat);
	// MinLon…MaxLat its bounding box. Nil when seeded without them.
	Lat, Lon                       *float64
	MinLon, MinLat, MaxLon, MaxLat *float64
}

// TableName pins the table name for GORM.
func (County) TableName() string { return "counties" }

// Place is a neighborhood (in a city) or a village of a county: the unit that
// has a Neighborhood Progress Council.
type Place struct {
	ID        uint
	CountyID  uint
	Kind      string // KindNeighborhood or KindVillage
	Name      string // Persian name, unique within the county
	SearchKey string // normalised name, matched by SearchPlaces
	Lat, Lon  *float64
	Example   bool // demo data, not a real place
	// Confirmed is false for a place a resident typed in until a
	// coordinator of its county confirms it; a flow shows it marked
	// «تأییدنشده» meanwhile. It is usable either way.
	Confirmed bool
}

// TableName pins the table name for GORM.
func (Place) TableName() string { return "places" }

// PlaceMatch is a place with the names of its county and province, as a
// person choosing it needs to see them.
type PlaceMatch struct {
	Place
	ProvinceID   uint
	CountyName   string
	ProvinceName string
}

// Committee is one of a council's committees. The programme's default list
// has ProvinceID nil; a province may keep its own list instead.
type Committee struct {
	ID         uint
	ProvinceID *uint // nil for the programme's default list
	Code       string
	Name       string // Persian name
	NameEn     string // English name
	Crisis     bool   // the crisis-management committee, active only while a crisis is declared
	Position   int    // display order within its list
}

// TableName pins the table name for GORM.
func (Committee) TableName() string { return "committees" }

// Programme is a national programme run inside the joint neighborhood network.
type Programme struct {
	ID     uint
	Code   string // stable ASCII code; unique
	Name   string // Persian name
	NameEn string // English name
}

// TableName pins the table name for GORM.
func (Programme) TableName() string { return "programmes" }

// Provinces returns every province, in Persian alphabetical order.
func (s *Store) Provinces(ctx context.Context) ([]Province, error) {
	return cached(s, "provinces", func() ([]Province, error) {
		var ps []Province
		if err := s.db.WithContext(ctx).Order("id").Find(&ps).Error; err != nil {
			return nil, fmt.Errorf("models: provinces: %w", err)
		}
		slices.SortStableFunc(ps, func(a, b Province) int { return comparePersian(a.Name, b.Name) })
		return ps, nil
	})
}

// Counties returns the counties of a province, in Persian alphabetical order.
// Returns ENOTFOUND when the province does not exist.
func (s *Store) Counties(ctx context.Context, provinceID uint) ([]County, error) {
	return cached(s, "counties:"+strconv.FormatUint(uint64(provinceID), 10), func() ([]County, error) {
		db := s.db.WithContext(ctx)
		var cs []County
		if err := db.Where("province_id = ?", provinceID).Order("id").Find(&cs).Error; err != nil {
			return nil, fmt.Errorf("models: counties: %w", err)
		}
		if len(cs) == 0 {
			if err := exists(db, &Province{}, provinceID, "province"); err != nil {
				return nil, fmt.Errorf("models: counties: %w", err)
			}
		}
		slices.SortStableFunc(cs, func(a, b County) int { return comparePersian(a.Name, b.Name) })
		return cs, nil
	})
}

// Places returns the places of a county, in Persian alphabetical order.
// Returns ENOTFOUND when the county does not exist.
func (s *Store) Places(ctx context.Context, countyID uint) ([]Place, error) {
	return cached(s, "places:"+strconv.FormatUint(uint64(countyID), 10), func() ([]Place, error) {
		db := s.db.WithContext(ctx)
		var ps []Place
		if err := db.Where("county_id = ?", countyID).Order("id").Find(&ps).Error; err != nil {
			return nil, fmt.Errorf("models: places: %w", err)
		}
		if len(ps) == 0 {
			if err := exists(db, &County{}, countyID, "county"); err != nil {
				return nil, fmt.Errorf("models: places: %w", err)
			}
		}
		slices.SortStableFunc(ps, func(a, b Place) int { return comparePersian(a.Name, b.Name) })
		return ps, nil
	})
}

// Search limits.
const (
	defaultSearchLimit = 20
	maxSearchLimit     = 100
)

// SearchPlaces returns up to limit places whose SearchKey contains query,
// those starting with it first. The caller normalises query the way
// SearchKey was computed (persian.SearchKey); it is matched literally (% and
// _ are not wildcards). limit <= 0 means 20; it is capped at 100. Returns
// EINVALID when query is blank.
func (s *Store) SearchPlaces(ctx context.Context, query string, limit int) ([]PlaceMatch, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, fmt.Errorf("models: search places: %w", Errorf(EINVALID, "نام محله یا روستا را بنویسید."))
	}
	if limit <= 0 {
		limit = defaultSearchLimit
	}
	limit = min(limit, maxSearchLimit)
	pattern := escapeLike(query)
	ms := []PlaceMatch{}
	err := s.placeMatches(ctx).
		Where(`places.search_key LIKE ? ESCAPE '\'`, "%"+pattern+"%").
		Order(clause.OrderBy{Expression: clause.Expr{
			SQL:                `CASE WHEN places.search_key LIKE ? ESCAPE '\' THEN 0 ELSE 1 END, places.name, places.id`,
			Vars:               []any{pattern + "%"},
			WithoutParentheses: true,
		}}).
		Limit(limit).
		Scan(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("models: search places: %w", err)
	}
	return ms, nil
}

// Place returns the place with the given id and the names of its county and
// province. Returns ENOTFOUND when there is no such place.
func (s *Store) Place(ctx context.Context, id uint) (PlaceMatch, error) {
	return cached(s, "place:"+strconv.FormatUint(uint64(id), 10), func() (PlaceMatch, error) {
		var ms []PlaceMatch
		if err := s.placeMatches(ctx).Where("places.id = ?", id).Limit(1).Scan(&ms).Error; err != nil {
			return PlaceMatch{}, fmt.Errorf("models: place %d: %w", id, err)
		}
		if len(ms) == 0 {
			return PlaceMatch{}, fmt.Errorf("models: place %d: %w", id, Errorf(ENOTFOUND, "place %d not found", id))
		}
		return ms[0], nil
	})
}

// placeMatches starts a query over places joined to their county and province.
func (s *Store) placeMatches(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Table("places").
		Select("places.*, counties.province_id AS province_id, counties.name AS county_name, provinces.name AS province_name").
		Joins("JOIN counties ON counties.id = places.county_id").
		Joins("JOIN provinces ON provinces.id = counties.province_id")
}

// escapeLike escapes the LIKE wildcards % and _ and the escape character
// itself, so that s matches literally in "LIKE ? ESCAPE '\'".
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Committees returns the committee list of a province, ordered by Position:
// the province's own list if it has one, else the programme's default list.
// provinceID 0 asks for the default list. The crisis committee is included;
// the caller shows it only while a crisis is declared. Returns ENOTFOUND when
// the province does not exist.
func (s *Store) Committees(ctx context.Context, provinceID uint) ([]Committee, error) {
	return cached(s, "committees:"+strconv.FormatUint(uint64(provinceID), 10), func() ([]Committee, error) {
		db := s.db.WithContext(ctx)
		var cs []Committee
		if provinceID != 0 {
			if err := db.Where("province_id = ?", provinceID).Order("position").Order("id").Find(&cs).Error; err != nil {
				return nil, fmt.Errorf("models: committees: %w", err)
			}
			if len(cs) > 0 {
				return cs, nil
			}
			if err := exists(db, &Province{}, provinceID, "province"); err != nil {
				return nil, fmt.Errorf("models: committees: %w", err)
			}
		}
		if err := db.Where("province_id IS NULL").Order("position").Order("id").Find(&cs).Error; err != nil {
			return nil, fmt.Errorf("models: committees: %w", err)
		}
		return cs, nil
	})
}

// Committee returns the committee with the given id. Returns ENOTFOUND when
// there is no such committee.
func (s *Store) Committee(ctx context.Context, id uint) (Committee, error) {
	var c Committee
	if err := s.db.WithContext(ctx).Take(&c, id).Error; notFound(err) {
		return Committee{}, fmt.Errorf("models: committee %d: %w", id, Errorf(ENOTFOUND, "committee %d not found", id))
	} else if err != nil {
		return Committee{}, fmt.Errorf("models: committee %d: %w", id, err)
	}
	return c, nil
}

// Programmes returns the national programmes in the order they were loaded.
func (s *Store) Programmes(ctx context.Context) ([]Programme, error) {
	return cached(s, "programmes", func() ([]Programme, error) {
		var ps []Programme
		if err := s.db.WithContext(ctx).Order("id").Find(&ps).Error; err != nil {
			return nil, fmt.Errorf("models: programmes: %w", err)
		}
		return ps, nil
	})
}

// exists returns an ENOTFOUND *Error when model has no row with id.
func exists(db *gorm.DB, model any, id uint, what string) error {
	var n int64
	if err := db.Model(model).Where("id = ?", id).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return Errorf(ENOTFOUND, "%s %d not found", what, id)
	}
	return nil
}

// persianOrder is the Persian alphabet in dictionary order.
const persianOrder = "آابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"

// collationRank maps a rune to its place in Persian dictionary order:
// separators, then digits (any script) by value, then the Persian letters,
// then everything else by code point.
var collationRank = func() map[rune]int {
	r := map[rune]int{' ': 1, '\u200c': 1, '-': 2}
	for d := range 10 {
		r['0'+rune(d)] = 10 + d
		r['۰'+rune(d)] = 10 + d
		r['٠'+rune(d)] = 10 + d
	}
	for i, c := range []rune(persianOrder) {
		r[c] = 100 + i
	}
	r['ي'], r['ى'], r['ئ'] = r['ی'], r['ی'], r['ی']
	r['ك'] = r['ک']
	r['أ'], r['إ'] = r['ا'], r['ا']
	r['ؤ'] = r['و']
	r['ة'] = r['ه']
	return r
}()

// comparePersian compares two Persian names in dictionary order, not code
// point order (where پ چ ژ گ would sort after ی), and compares runs of digits
// (in any script) by their value, so «محله ۲» comes before «محله ۱۰».
func comparePersian(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	i, j := 0, 0
	for i < len(ra) && j < len(rb) {
		if isDigit(ra[i]) && isDigit(rb[j]) {
			ei, ej := digitsEnd(ra, i), digitsEnd(rb, j)
			if c := compareNumbers(ra[i:ei], rb[j:ej]); c != 0 {
				return c
			}
			i, j = ei, ej
			continue
		}
		if c := rank(ra[i]) - rank(rb[j]); c != 0 {
			return c
		}
		i, j = i+1, j+1
	}
	if c := (len(ra) - i) - (len(rb) - j); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func rank(r rune) int {
	if n, ok := collationRank[r]; ok {
		return n
	}
	return 1000 + int(r)
}

// isDigit reports whether r is an ASCII, Persian or Arabic-Indic digit.
func isDigit(r rune) bool {
	return (r >= '0' && r <= '9') || (r >= '۰' && r <= '۹') || (r >= '٠' && r <= '٩')
}

func digitsEnd(rs []rune, i int) int {
	for i < len(rs) && isDigit(rs[i]) {
		i++
	}
	return i
}

// compareNumbers compares two runs of digits by value.
func compareNumbers(a, b []rune) int {
	for len(a) > 1 && rank(a[0]) == rank('0') {
		a = a[1:]
	}
	for len(b) > 1 && rank(b[0]) == rank('0') {
		b = b[1:]
	}
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	for k := range a {
		if c := rank(a[k]) - rank(b[k]); c != 0 {
			return c
		}
	}
	return 0
}
