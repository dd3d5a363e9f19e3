package models

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/mahalle/mahalle/persian"
)

//go:embed seed/*.csv seed/demo/*.csv
var seedFiles embed.FS

// SeedFS returns the reference data shipped with Mahalle: Iran's provinces,
// every county of Iran (from OpenStreetMap, © OpenStreetMap contributors,
// ODbL 1.0; see seed/README.md), the programme's default committee list and
// the national programmes. It holds no place: places come from residents,
// rosters and coordinators (and demo places from [DemoFS]).
func SeedFS() fs.FS {
	return subFS("seed")
}

// DemoFS returns the demo places (every name says «نمونه», every row is
// marked Example) for every Markazi county. They are for the playground and
// `mahalle seed --demo` only, never for a real install; see [Store.SeedDemo].
func DemoFS() fs.FS {
	return subFS("seed/demo")
}

func subFS(dir string) fs.FS {
	sub, err := fs.Sub(seedFiles, dir)
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sub
}

// seedVersionReference names the row of seed_versions that records which
// embedded reference data was last loaded.
const seedVersionReference = "reference"

// SeedIfStale loads the embedded reference data ([SeedFS]) unless this very
// data was loaded before, which a digest of the files recorded in the
// database tells. An empty database is seeded; an install made by an older
// release gains what the new release ships (every county of Iran) without
// losing anything, since seeding upserts and never deletes. It reports
// whether it seeded.
func (s *Store) SeedIfStale(ctx context.Context) (bool, error) {
	digest, err := fsDigest(SeedFS())
	if err != nil {
		return false, fmt.Errorf("models: seed if stale: %w", err)
	}
	var v struct{ Digest string }
	err = s.db.WithContext(ctx).Table("seed_versions").Select("digest").Where("name = ?", seedVersionReference).Take(&v).Error
	if err == nil && v.Digest == digest {
		return false, nil
	} else if err != nil && !notFound(err) {
		return false, fmt.Errorf("models: seed if stale: %w", err)
	}
	if err := s.Seed(ctx, SeedFS()); err != nil {
		return false, err
	}
	row := map[string]any{"name": seedVersionReference, "digest": digest, "seeded_at": s.now()}
	err = s.db.WithContext(ctx).Table("seed_versions").Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"digest", "seeded_at"}),
	}).Create(row).Error
	if err != nil {
		return false, fmt.Errorf("models: seed if stale: %w", err)
	}
	return true, nil
}

// SeedDemo loads the reference data and the demo places ([DemoFS]) in one
// transaction: for the playground and `mahalle seed --demo`. Running it again
// changes nothing.
func (s *Store) SeedDemo(ctx context.Context) error {
	if err := s.seed(ctx, SeedFS(), DemoFS()); err != nil {
		return fmt.Errorf("models: seed demo: %w", err)
	}
	return nil
}

// fsDigest returns a hex SHA-256 over the names and contents of the files
// at the root of fsys, in name order.
func fsDigest(fsys fs.FS) (string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", e.Name(), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Seed files, matched at the root of the fs.FS given to Seed. Each is
// optional; files matching a pattern load in name order. Columns are found by
// their header name, so their order does not matter; lines starting with #
// are comments.
const (
	seedProvinces  = "provinces.csv"   // code,name_fa,name_en
	seedCounties   = "*counties.csv"   // province_code,code,name_fa,name_en[,osm_id,lat,lon,min_lon,min_lat,max_lon,max_lat]
	seedProgrammes = "programmes.csv"  // code,name_fa,name_en
	seedCommittees = "committees*.csv" // [province_code,]code,name_fa,name_en,crisis — row order is display order
	seedPlaces     = "*places.csv"     // province_code,county_code,kind,name_fa[,lat,lon][,example]
)

// Seed loads reference data from CSV files in fsys (see [SeedFS] for the
// embedded set, or os.DirFS for a province's own files), in one transaction.
// Rows are upserted by their natural key (a code; a county by province and
// code; a committee by province and code; a place by county and name), so
// running Seed again changes nothing, and a changed name is updated in place.
// In a committees file, rows with an empty or absent province_code form the
// programme's default list and rows naming a province form that province's
// own list, in file order. Rows are never deleted. Returns EINVALID naming the file and line when
// a file is malformed or refers to an unknown province or county, or when
// fsys holds no seed file at all.
func (s *Store) Seed(ctx context.Context, fsys fs.FS) error {
	if err := s.seed(ctx, fsys); err != nil {
		return fmt.Errorf("models: seed: %w", err)
	}
	return nil
}

// seed loads the seed files of every fsys, in order, in one transaction.
func (s *Store) seed(ctx context.Context, fsyss ...fs.FS) error {
	var data seedData
	for _, fsys := range fsyss {
		d, err := readSeed(fsys)
		if err != nil {
			return err
		}
		data.provinces = append(data.provinces, d.provinces...)
		data.counties = append(data.counties, d.counties...)
		data.programmes = append(data.programmes, d.programmes...)
		data.committees = append(data.committees, d.committees...)
		data.places = append(data.places, d.places...)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return data.apply(tx)
	})
	if err != nil {
		return err
	}
	s.refs.forget()
	return nil
}

// Empty reports whether the database holds no reference data yet (no
// provinces), i.e. whether it needs seeding.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&Province{}).Limit(1).Count(&n).Error; err != nil {
		return false, fmt.Errorf("models: empty: %w", err)
	}
	return n == 0, nil
}

// seedRow is a CSV record with its origin, for error messages.
type seedRow struct {
	file string
	line int
	cols map[string]int
	rec  []string
}

func (r seedRow) get(col string) string {
	if i, ok := r.cols[col]; ok && i < len(r.rec) {
		return strings.TrimSpace(r.rec[i])
	}
	return ""
}

func (r seedRow) errorf(format string, args ...any) error {
	return Errorf(EINVALID, "%s:%d: %s", r.file, r.line, fmt.Sprintf(format, args...))
}

// seedData is every row of a seed set, grouped by kind.
type seedData struct {
	provinces, counties, programmes, committees, places []seedRow
}

func readSeed(fsys fs.FS) (*seedData, error) {
	var d seedData
	kinds := []struct {
		pattern  string
		required []string
		rows     *[]seedRow
	}{
		{seedProvinces, []string{"code", "name_fa"}, &d.provinces},
		{seedCounties, []string{"province_code", "code", "name_fa"}, &d.counties},
		{seedProgrammes, []string{"code", "name_fa"}, &d.programmes},
		{seedCommittees, []string{"code", "name_fa"}, &d.committees},
		{seedPlaces, []string{"province_code", "county_code", "kind", "name_fa"}, &d.places},
	}
	files := 0
	for _, k := range kinds {
		names, err := fs.Glob(fsys, k.pattern)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			rows, err := readCSV(fsys, name, k.required)
			if err != nil {
				return nil, err
			}
			*k.rows = append(*k.rows, rows...)
			files++
		}
	}
	if files == 0 {
		return nil, Errorf(EINVALID, "no seed files (%s, %s, %s, %s, %s)",
			seedProvinces, seedCounties, seedProgrammes, seedCommittees, seedPlaces)
	}
	return &d, nil
}

// readCSV reads a CSV file with a header line naming at least required.
func readCSV(fsys fs.FS, name string, required []string) ([]seedRow, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, Errorf(EINVALID, "%s: empty file", name)
	} else if err != nil {
		return nil, Errorf(EINVALID, "%s: %v", name, err)
	}
	cols := make(map[string]int, len(header))
	for i, h := range header {
		cols[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))] = i
	}
	for _, c := range required {
		if _, ok := cols[c]; !ok {
			return nil, Errorf(EINVALID, "%s: no column %q", name, c)
		}
	}
	var rows []seedRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		} else if err != nil {
			return nil, Errorf(EINVALID, "%s: %v", name, err)
		}
		line, _ := r.FieldPos(0)
		row := seedRow{file: name, line: line, cols: cols, rec: rec}
		for _, c := range required {
			if row.get(c) == "" {
				return nil, row.errorf("empty %s", c)
			}
		}
		rows = append(rows, row)
	}
}

func (d *seedData) apply(tx *gorm.DB) error {
	for _, r := range d.provinces {
		p := Province{Code: r.get("code"), Name: r.get("name_fa"), NameEn: r.get("name_en")}
		if err := upsert(tx, &p, []string{"code"}, "", "name", "name_en"); err != nil {
			return fmt.Errorf("%s:%d: %w", r.file, r.line, err)
		}
	}
	provinces, err := codeIDs(tx, &Province{})
	if err != nil {
		return err
	}

	for _, r := range d.counties {
		pid, ok := provinces[r.get("province_code")]
		if !ok {
			return r.errorf("unknown province %q", r.get("province_code"))
		}
		c := County{ProvinceID: pid, Code: r.get("code"), Name: r.get("name_fa"), NameEn: r.get("name_en")}
		update := []string{"name", "name_en"}
		// Optional columns: a province's own file without them leaves the
		// values the embedded file gave untouched.
		if _, ok := r.cols["osm_id"]; ok && r.get("osm_id") != "" {
			id, err := strconv.ParseInt(r.get("osm_id"), 10, 64)
			if err != nil || id <= 0 {
				return r.errorf("osm_id %q is not a positive integer", r.get("osm_id"))
			}
			c.OsmID = &id
			update = append(update, "osm_id")
		}
		for _, f := range []struct {
			col   string
			limit float64
			dst   **float64
		}{
			{"lat", 90, &c.Lat}, {"lon", 180, &c.Lon},
			{"min_lon", 180, &c.MinLon}, {"min_lat", 90, &c.MinLat},
			{"max_lon", 180, &c.MaxLon}, {"max_lat", 90, &c.MaxLat},
		} {
			if _, ok := r.cols[f.col]; !ok || r.get(f.col) == "" {
				continue
			}
			v, err := parseCoord(r.get(f.col), f.limit)
			if err != nil {
				return r.errorf("%s: %v", f.col, err)
			}
			*f.dst = v
			update = append(update, f.col)
		}
		if err := upsert(tx, &c, []string{"province_id", "code"}, "", update...); err != nil {
			return fmt.Errorf("%s:%d: %w", r.file, r.line, err)
		}
	}

	for _, r := range d.programmes {
		p := Programme{Code: r.get("code"), Name: r.get("name_fa"), NameEn: r.get("name_en")}
		if err := upsert(tx, &p, []string{"code"}, "", "name", "name_en"); err != nil {
			return fmt.Errorf("%s:%d: %w", r.file, r.line, err)
		}
	}

	position := map[string]int{} // per province code ("" for the default list)
	for _, r := range d.committees {
		crisis, err := parseBool(r.get("crisis"))
		if err != nil {
			return r.errorf("crisis: %v", err)
		}
		pcode := r.get("province_code")
		position[pcode]++
		c := Committee{Code: r.get("code"), Name: r.get("name_fa"), NameEn: r.get("name_en"), Crisis: crisis, Position: position[pcode]}
		conflict, where := []string{"code"}, "province_id IS NULL" // the partial index of the default list
		if pcode != "" {
			pid, ok := provinces[pcode]
			if !ok {
				return r.errorf("unknown province %q", pcode)
			}
			c.ProvinceID = &pid
			conflict, where = []string{"province_id", "code"}, ""
		}
		if err := upsert(tx, &c, conflict, where, "name", "name_en", "crisis", "position"); err != nil {
			return fmt.Errorf("%s:%d: %w", r.file, r.line, err)
		}
	}

	counties := map[string]map[string]uint{} // province code -> county code -> id
	for _, r := range d.places {
		pcode, ccode := r.get("province_code"), r.get("county_code")
		if counties[pcode] == nil {
			pid, ok := provinces[pcode]
			if !ok {
				return r.errorf("unknown province %q", pcode)
			}
			if counties[pcode], err = codeIDs(tx.Where("province_id = ?", pid), &County{}); err != nil {
				return err
			}
		}
		cid, ok := counties[pcode][ccode]
		if !ok {
			return r.errorf("unknown county %q of province %q", ccode, pcode)
		}
		kind := r.get("kind")
		if kind != KindNeighborhood && kind != KindVillage {
			return r.errorf("kind %q is neither %q nor %q", kind, KindNeighborhood, KindVillage)
		}
		lat, err := parseCoord(r.get("lat"), 90)
		if err != nil {
			return r.errorf("lat: %v", err)
		}
		lon, err := parseCoord(r.get("lon"), 180)
		if err != nil {
			return r.errorf("lon: %v", err)
		}
		example, err := parseBool(r.get("example"))
		if err != nil {
			return r.errorf("example: %v", err)
		}
		name := persian.Normalize(r.get("name_fa"))
		p := Place{CountyID: cid, Kind: kind, Name: name, SearchKey: persian.SearchKey(name), Lat: lat, Lon: lon, Example: example, Confirmed: true}
		if err := upsert(tx, &p, []string{"county_id", "name"}, "", "kind", "search_key", "lat", "lon", "example", "confirmed"); err != nil {
			return fmt.Errorf("%s:%d: %w", r.file, r.line, err)
		}
	}
	return nil
}

// upsert inserts row, or updates the columns update of the row it conflicts
// with on the unique index over conflict (a partial index when where, the
// index's predicate, is not empty).
func upsert(tx *gorm.DB, row any, conflict []string, where string, update ...string) error {
	oc := clause.OnConflict{DoUpdates: clause.AssignmentColumns(update)}
	for _, c := range conflict {
		oc.Columns = append(oc.Columns, clause.Column{Name: c})
	}
	if where != "" {
		oc.TargetWhere = clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: where}}}
	}
	return tx.Clauses(oc).Create(row).Error
}

// codeIDs maps the codes of the rows of model selected by db to their ids.
func codeIDs(db *gorm.DB, model any) (map[string]uint, error) {
	var rows []struct {
		ID   uint
		Code string
	}
	if err := db.Model(model).Select("id", "code").Find(&rows).Error; err != nil {
		return nil, err
	}
	ids := make(map[string]uint, len(rows))
	for _, r := range rows {
		ids[r.Code] = r.ID
	}
	return ids, nil
}

// parseBool reads an optional boolean; empty is false.
func parseBool(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	return strconv.ParseBool(s)
}

// parseCoord reads an optional coordinate within ±limit; empty is nil.
func parseCoord(s string, limit float64) (*float64, error) {
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, err
	}
	if v < -limit || v > limit {
		return nil, fmt.Errorf("%v out of range", v)
	}
	return &v, nil
}
