package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/mahalle/mahalle/persian"
)

// Audit actions and the entity of places.
const (
	AuditConfirm = "confirm" // a coordinator confirmed a place a resident typed in
	AuditRename  = "rename"  // a place was renamed
	AuditMerge   = "merge"   // a place was merged into another (on the removed place: into whom; on the kept one: from whom)

	EntityPlace = "place"
)

// Place name length limits, in characters after normalisation.
const (
	minPlaceNameLen = 2
	maxPlaceNameLen = 60
)

// cleanPlaceName normalises a place name typed by a person (Persian letters
// and digits, one line, single spaces) and checks its length. Returns
// EINVALID with a Persian message a flow may show as it is.
func cleanPlaceName(s string) (name, key string, err error) {
	name = strings.Join(strings.Fields(persian.Normalize(s)), " ")
	key = persian.SearchKey(name)
	n := utf8.RuneCountInString(name)
	switch {
	case key == "" || n < minPlaceNameLen:
		return "", "", Errorf(EINVALID, "نام محله یا روستا دست‌کم %s حرف است.", persian.Digits(strconv.Itoa(minPlaceNameLen)))
	case n > maxPlaceNameLen:
		return "", "", Errorf(EINVALID, "نام محله یا روستا حداکثر %s حرف است.", persian.Digits(strconv.Itoa(maxPlaceNameLen)))
	}
	return name, key, nil
}

// placeKind guesses a typed place's kind from its name: «روستای …» is a
// village, anything else a neighborhood.
func placeKind(name string) string {
	if strings.HasPrefix(name, "روستا") {
		return KindVillage
	}
	return KindNeighborhood
}

// lockCounty serialises changes to the places of one county: on PostgreSQL
// with a transaction-scoped advisory lock; SQLite transactions are already
// serial (BEGIN IMMEDIATE through one connection).
func (s *Store) lockCounty(tx *gorm.DB, countyID uint) error {
	if s.backend != BackendPostgres {
		return nil
	}
	return tx.Exec("SELECT pg_advisory_xact_lock(hashtext('mahalle.places.' || current_schema()), ?)", int32(countyID)).Error
}

// CreatePlace finds or creates the place a resident typed when theirs was
// missing: name is normalised and matched within the county by
// persian.SearchKey (so «کوی گلستان», «کوي  گلستان» and «کوی‌گلستان» are one
// place). A new place is unconfirmed (shown «تأییدنشده» until a coordinator
// confirms it) and usable at once; its creation is audited. created tells
// whether it is new. Returns EINVALID (with a Persian message) when the name
// is too short or too long, and ENOTFOUND when the county does not exist.
func (s *Store) CreatePlace(ctx context.Context, actor Actor, countyID uint, name string) (p PlaceMatch, created bool, err error) {
	name, key, err := cleanPlaceName(name)
	if err != nil {
		return PlaceMatch{}, false, fmt.Errorf("models: create place: %w", err)
	}
	var id uint
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockCounty(tx, countyID); err != nil {
			return err
		}
		if err := exists(tx, &County{}, countyID, "county"); err != nil {
			return err
		}
		var found []Place
		if err := tx.Where("county_id = ? AND (search_key = ? OR name = ?)", countyID, key, name).Order("id").Limit(1).Find(&found).Error; err != nil {
			return err
		}
		if len(found) > 0 {
			id = found[0].ID
			return nil
		}
		np := Place{CountyID: countyID, Kind: placeKind(name), Name: name, SearchKey: key}
		if err := tx.Create(&np).Error; err != nil {
			return err
		}
		id, created = np.ID, true
		return writeAudit(tx, s.now(), actor, AuditCreate, EntityPlace, np.ID, name)
	})
	if err != nil {
		return PlaceMatch{}, false, fmt.Errorf("models: create place: %w", err)
	}
	if created {
		s.refs.forget()
	}
	p, err = s.Place(ctx, id)
	if err != nil {
		return PlaceMatch{}, false, fmt.Errorf("models: create place: %w", err)
	}
	return p, created, nil
}

// ConfirmPlace marks a place confirmed, as a coordinator of its county does
// after checking that it exists; audited. Confirming a confirmed place
// changes nothing. The caller checks that actor may act on the place's
// county. Returns ENOTFOUND when there is no such place.
func (s *Store) ConfirmPlace(ctx context.Context, actor Actor, placeID uint) error {
	changed := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var p Place
		if err := tx.Take(&p, placeID).Error; notFound(err) {
			return Errorf(ENOTFOUND, "place %d not found", placeID)
		} else if err != nil {
			return err
		}
		if p.Confirmed {
			return nil
		}
		if err := tx.Model(&Place{}).Where("id = ?", placeID).Update("confirmed", true).Error; err != nil {
			return err
		}
		changed = true
		return writeAudit(tx, s.now(), actor, AuditConfirm, EntityPlace, placeID, p.Name)
	})
	if err != nil {
		return fmt.Errorf("models: confirm place %d: %w", placeID, err)
	}
	if changed {
		s.refs.forget()
	}
	return nil
}

// RenamePlace renames a place (normalised as CreatePlace does); audited with
// the old and new names. The caller checks that actor may act on the
// place's county. Returns EINVALID (a Persian message) for a bad name,
// ENOTFOUND when there is no such place, and ECONFLICT when another place of
// the county already has that name: merge them instead.
func (s *Store) RenamePlace(ctx context.Context, actor Actor, placeID uint, name string) (PlaceMatch, error) {
	name, key, err := cleanPlaceName(name)
	if err != nil {
		return PlaceMatch{}, fmt.Errorf("models: rename place %d: %w", placeID, err)
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var p Place
		if err := tx.Take(&p, placeID).Error; notFound(err) {
			return Errorf(ENOTFOUND, "place %d not found", placeID)
		} else if err != nil {
			return err
		}
		if err := s.lockCounty(tx, p.CountyID); err != nil {
			return err
		}
		if p.Name == name {
			return nil
		}
		var n int64
		if err := tx.Model(&Place{}).Where("county_id = ? AND id <> ? AND (search_key = ? OR name = ?)", p.CountyID, placeID, key, name).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return Errorf(ECONFLICT, "another place of county %d is named %q", p.CountyID, name)
		}
		if err := tx.Model(&Place{}).Where("id = ?", placeID).Updates(map[string]any{"name": name, "search_key": key}).Error; err != nil {
			return err
		}
		return writeAudit(tx, s.now(), actor, AuditRename, EntityPlace, placeID, p.Name+" → "+name)
	})
	if err != nil {
		return PlaceMatch{}, fmt.Errorf("models: rename place %d: %w", placeID, err)
	}
	s.refs.forget()
	p, err := s.Place(ctx, placeID)
	if err != nil {
		return PlaceMatch{}, fmt.Errorf("models: rename place %d: %w", placeID, err)
	}
	return p, nil
}

// placeReference is a column that holds a place id.
type placeReference struct{ table, column string }

// placeReferences are the columns MergePlaces moves, besides any other
// foreign key to places it finds in the schema (so a table added later
// is moved too).
var placeReferences = []placeReference{
	{"suggestions", "place_id"},
	{"councils", "place_id"},
	{"actions", "place_id"},
}

// foreignKeysToPlaces lists every column with a foreign key to places.
func (s *Store) foreignKeysToPlaces(tx *gorm.DB) ([]placeReference, error) {
	var refs []placeReference
	if s.backend == BackendPostgres {
		var rows []struct{ Table, Column string }
		err := tx.Raw(`SELECT c.conrelid::regclass::text AS "table", a.attname AS "column"
			FROM pg_constraint c
			JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
			WHERE c.contype = 'f' AND c.confrelid = 'places'::regclass`).Scan(&rows).Error
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			refs = append(refs, placeReference{r.Table, r.Column})
		}
		return refs, nil
	}
	var tables []string
	if err := tx.Raw(`SELECT name FROM sqlite_master WHERE type = 'table'`).Scan(&tables).Error; err != nil {
		return nil, err
	}
	for _, t := range tables {
		var fks []struct {
			Table string `gorm:"column:table"`
			From  string `gorm:"column:from"`
		}
		if err := tx.Raw(`SELECT "table", "from" FROM pragma_foreign_key_list(?)`, t).Scan(&fks).Error; err != nil {
			return nil, err
		}
		for _, fk := range fks {
			if fk.Table == "places" {
				refs = append(refs, placeReference{t, fk.From})
			}
		}
	}
	return refs, nil
}

// MergePlaces merges place from into place into, both of one county, as a
// coordinator does when a resident typed a place that already existed:
// every reference to from (suggestions, the council with its actions,
// and any other table with a foreign key to places) moves to into,
// from is deleted, and into becomes confirmed (and takes from's location if
// it had none). Audited on both places. The caller checks that actor may act
// on the county. Returns ENOTFOUND when either place does not exist,
// EINVALID when they are the same place or in different counties, and
// ECONFLICT when both have a council (a place has at most one; a person must
// decide which council goes).
func (s *Store) MergePlaces(ctx context.Context, actor Actor, fromID, intoID uint) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if fromID == intoID {
			return Errorf(EINVALID, "cannot merge place %d into itself", fromID)
		}
		var ps []Place
		if err := tx.Where("id IN ?", []uint{fromID, intoID}).Find(&ps).Error; err != nil {
			return err
		}
		from, into, ok := pickPlaces(ps, fromID, intoID)
		if !ok {
			return Errorf(ENOTFOUND, "place %d or %d not found", fromID, intoID)
		}
		if from.CountyID != into.CountyID {
			return Errorf(EINVALID, "places %d and %d are in different counties", fromID, intoID)
		}
		if err := s.lockCounty(tx, into.CountyID); err != nil {
			return err
		}
		var councils int64
		if err := tx.Model(&Council{}).Where("place_id IN ?", []uint{fromID, intoID}).Count(&councils).Error; err != nil {
			return err
		}
		if councils > 1 {
			return Errorf(ECONFLICT, "places %d and %d both have a council", fromID, intoID)
		}
		refs, err := s.foreignKeysToPlaces(tx)
		if err != nil {
			return fmt.Errorf("foreign keys: %w", err)
		}
		for _, r := range placeReferences {
			if !slices.Contains(refs, r) {
				refs = append(refs, r)
			}
		}
		for _, r := range refs {
			q := fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s = ?", quoteIdent(r.table), quoteIdent(r.column), quoteIdent(r.column))
			if err := tx.Exec(q, intoID, fromID).Error; err != nil {
				if errors.Is(err, gorm.ErrDuplicatedKey) {
					return Errorf(ECONFLICT, "merging place %d into %d collides in %s: %v", fromID, intoID, r.table, err)
				}
				return fmt.Errorf("move %s.%s: %w", r.table, r.column, err)
			}
		}
		update := map[string]any{"confirmed": true}
		if (into.Lat == nil || into.Lon == nil) && from.Lat != nil && from.Lon != nil {
			update["lat"], update["lon"] = *from.Lat, *from.Lon
		}
		if err := tx.Model(&Place{}).Where("id = ?", intoID).Updates(update).Error; err != nil {
			return err
		}
		if err := tx.Delete(&Place{}, fromID).Error; err != nil {
			return err
		}
		now := s.now()
		if err := writeAudit(tx, now, actor, AuditMerge, EntityPlace, fromID, fmt.Sprintf("%s → %d %s", from.Name, intoID, into.Name)); err != nil {
			return err
		}
		return writeAudit(tx, now, actor, AuditMerge, EntityPlace, intoID, fmt.Sprintf("%d %s → %s", fromID, from.Name, into.Name))
	})
	if err != nil {
		return fmt.Errorf("models: merge place %d into %d: %w", fromID, intoID, err)
	}
	s.refs.forget()
	return nil
}

func pickPlaces(ps []Place, fromID, intoID uint) (from, into Place, ok bool) {
	var gotFrom, gotInto bool
	for _, p := range ps {
		switch p.ID {
		case fromID:
			from, gotFrom = p, true
		case intoID:
			into, gotInto = p, true
		}
	}
	return from, into, gotFrom && gotInto
}

// quoteIdent quotes a table or column name (possibly schema-qualified) for
// both PostgreSQL and SQLite.
func quoteIdent(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		p = strings.Trim(p, `"`)
		parts[i] = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
	}
	return strings.Join(parts, ".")
}

// placeStartPrefix starts the deep-link parameter of a place.
const placeStartPrefix = "p"

// PlaceStartParam returns the deep-link parameter that opens a place
// (https://t.me/<bot>?start=p<id>, and Bale's equivalent): "p" and the id.
// It uses only characters a start parameter allows (A–Z a–z 0–9 _ -).
func PlaceStartParam(id uint) string {
	return placeStartPrefix + strconv.FormatUint(uint64(id), 10)
}

// ParsePlaceStartParam reads a parameter made by PlaceStartParam. Returns
// EINVALID for anything else (another prefix, no digits, a leading zero,
// a sign, an id out of range).
func ParsePlaceStartParam(param string) (uint, error) {
	digits, ok := strings.CutPrefix(param, placeStartPrefix)
	if !ok || digits == "" || digits[0] == '0' || strings.Trim(digits, "0123456789") != "" {
		return 0, fmt.Errorf("models: place start param: %w", Errorf(EINVALID, "not a place link: %q", param))
	}
	id, err := strconv.ParseUint(digits, 10, strconv.IntSize)
	if err != nil || uint64(uint(id)) != id {
		return 0, fmt.Errorf("models: place start param: %w", Errorf(EINVALID, "place id out of range: %q", param))
	}
	return uint(id), nil
}
