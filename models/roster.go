package models

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	gounicode "unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"gorm.io/gorm"

	"github.com/mahalle/mahalle/persian"
)

// RosterOptions tunes [Store.ImportRoster].
type RosterOptions struct {
	// SkipInvalid imports the valid rows when some are invalid, instead of
	// importing nothing.
	SkipInvalid bool
	// Actor is who the audit log names; the zero value means ActorCLI.
	Actor Actor
}

// RosterReport says what [Store.ImportRoster] did, row by row counted once:
// Created + Updated + Unchanged + Skipped == Rows once the rows were
// imported.
type RosterReport struct {
	Rows      int // data rows read
	Created   int // rows that gave the person a new membership of the council
	Updated   int // rows that changed the person's name, position or committee, or activated a pending request
	Unchanged int // rows already imported as they are
	Skipped   int // invalid rows, left out (with SkipInvalid) or the reason nothing was imported
	// PlacesAdded counts the neighborhoods and villages the roster named
	// that were not known yet: they are added, confirmed.
	PlacesAdded int
	Errors      []RosterError
}

// RosterError is a problem with one line of a roster file, in Persian and
// in English.
type RosterError struct {
	Line int // 1-based line of the file; the header is line 1
	Fa   string
	En   string
}

// Roster columns, named by their English header.
const (
	rosterProvince  = "province"
	rosterCounty    = "county"
	rosterPlace     = "place"
	rosterName      = "full_name"
	rosterPhone     = "phone"
	rosterPosition  = "position"
	rosterCommittee = "committee"
)

// rosterColumns are the required columns, in the order of the usual file.
var rosterColumns = []string{rosterProvince, rosterCounty, rosterPlace, rosterName, rosterPhone, rosterPosition, rosterCommittee}

// rosterColumnNames are the Persian names of the columns, for messages.
var rosterColumnNames = map[string]string{
	rosterProvince: "استان", rosterCounty: "شهرستان", rosterPlace: "محله یا روستا", rosterName: "نام و نام خانوادگی",
	rosterPhone: "تلفن همراه", rosterPosition: "سمت", rosterCommittee: "کمیته",
}

// rosterHeaders maps a header, as persian.SearchKey folds it, to its column:
// the English names and the Persian ones people write.
var rosterHeaders = func() map[string]string {
	m := map[string]string{}
	for col, names := range map[string][]string{
		rosterProvince:  {"province", "استان"},
		rosterCounty:    {"county", "شهرستان"},
		rosterPlace:     {"place", "neighborhood", "village", "محله", "روستا", "محل", "محله/روستا", "محله یا روستا"},
		rosterName:      {"full_name", "full name", "name", "نام", "نام و نام خانوادگی", "نام کامل", "نام و نام‌خانوادگی"},
		rosterPhone:     {"phone", "mobile", "تلفن", "تلفن همراه", "موبایل", "شماره همراه", "شماره تلفن", "شماره موبایل"},
		rosterPosition:  {"position", "role", "سمت", "نقش"},
		rosterCommittee: {"committee", "کمیته"},
	} {
		for _, n := range names {
			m[persian.SearchKey(n)] = col
		}
	}
	return m
}()

// rosterRow is a valid roster row, resolved to ids.
type rosterRow struct {
	line        int
	placeID     uint
	name        string
	phone       string // E.164
	position    string
	committeeID uint
}

// ImportRoster reads a council roster — CSV with a header row naming the
// columns province, county, place, full_name, phone, position, committee
// (in English or Persian, in any order; lines starting with # are
// comments) — and makes every row's person an active member of the place's
// council, in one transaction.
//
// Every row is validated first: the province, county and place exist (by
// Persian name or code), the phone is an Iranian mobile, the position is
// رئیس/دبیر/عضو (or chair/secretary/member), the committee is on the
// province's list (by Persian name or code), the name has 2 to 60
// characters; a phone appears once per council and with one name, and a
// council has one chair and one secretary. Problems are reported by line,
// in Persian and English, in the report's Errors.
//
// A person is found by phone, created if new, renamed if the row's name
// differs. A row matching the person's open membership of the council
// changes nothing; one with another position or committee ends that
// membership and starts a new one (history is kept); a pending request
// matching the row is activated. Memberships of people missing from the
// file are left alone. Every change writes an audit entry.
//
// Returns the report and an EINVALID error when the file is not a readable
// roster (no header, a column missing) or when a row is invalid and
// opts.SkipInvalid is false; nothing is imported then. With SkipInvalid the
// valid rows are imported, the others counted as Skipped, and the error is
// nil.
func (s *Store) ImportRoster(ctx context.Context, r io.Reader, opts RosterOptions) (RosterReport, error) {
	var rep RosterReport
	actor := opts.Actor
	if actor == (Actor{}) {
		actor = ActorCLI
	}
	text, fileErr := decodeRoster(r)
	var (
		records []rosterRecord
		lines   []int
	)
	if fileErr == nil {
		records, lines, fileErr = readRoster(text)
	}
	if fileErr != nil {
		rep.Errors = append(rep.Errors, *fileErr)
		return rep, fmt.Errorf("models: import roster: %w", Errorf(EINVALID, "line %d: %s", fileErr.Line, fileErr.En))
	}
	rep.Rows = len(records)

	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		v := newRosterValidator(tx)
		var rows []rosterRow
		for i, rec := range records {
			row, errs, err := v.validate(lines[i], rec)
			if err != nil {
				return err
			}
			if len(errs) > 0 {
				rep.Errors = append(rep.Errors, errs...)
				rep.Skipped++
				continue
			}
			rows = append(rows, row)
		}
		if len(rep.Errors) > 0 && !opts.SkipInvalid {
			return Errorf(EINVALID, "%d invalid rows; nothing imported", rep.Skipped)
		}
		now := s.now()
		added := map[uint]uint{} // stand-in id -> new place id
		for i, row := range rows {
			np, isNew := v.newPlaces[row.placeID]
			if !isNew {
				continue
			}
			if id, ok := added[row.placeID]; ok {
				rows[i].placeID = id
				continue
			}
			if err := tx.Create(&np).Error; err != nil {
				return fmt.Errorf("line %d: add place: %w", row.line, err)
			}
			if err := writeAudit(tx, now, actor, AuditCreate, EntityPlace, np.ID, np.Name); err != nil {
				return err
			}
			added[row.placeID], rows[i].placeID = np.ID, np.ID
			rep.PlacesAdded++
		}
		for _, row := range rows {
			outcome, err := applyRosterRow(tx, now, actor, row)
			if err != nil {
				return fmt.Errorf("line %d: %w", row.line, err)
			}
			switch outcome {
			case rosterCreated:
				rep.Created++
			case rosterUpdated:
				rep.Updated++
			default:
				rep.Unchanged++
			}
		}
		return nil
	})
	if err != nil {
		rep.Created, rep.Updated, rep.Unchanged, rep.PlacesAdded = 0, 0, 0, 0 // rolled back
		return rep, fmt.Errorf("models: import roster: %w", err)
	}
	if rep.PlacesAdded > 0 {
		s.refs.forget()
	}
	return rep, nil
}

// rosterRecord is one data row, by column.
type rosterRecord map[string]string

// maxRosterBytes bounds a roster file; a province's councils fit many times over.
const maxRosterBytes = 32 << 20

// decodeRoster reads the file and returns it as UTF-8. Spreadsheets save
// CSV in other encodings: UTF-16 (Excel's "Unicode Text"; with or without a
// byte order mark) and Windows-1256 (Excel's "CSV" on a Persian Windows) are
// detected and converted; a UTF-8 byte order mark is dropped. Any other
// file that is not UTF-8 is refused with a message that says how to save it
// as UTF-8.
func decodeRoster(r io.Reader) (io.Reader, *RosterError) {
	b, err := io.ReadAll(io.LimitReader(r, maxRosterBytes+1))
	if err != nil {
		return nil, &RosterError{Line: 1, Fa: "پرونده خوانده نشد.", En: "cannot read the file: " + err.Error()}
	}
	if len(b) > maxRosterBytes {
		return nil, &RosterError{Line: 1, Fa: "پرونده بیش از ۳۲ مگابایت است.", En: "the file is over 32 MB"}
	}
	refuse := func(fa, en string) *RosterError {
		return &RosterError{Line: 1,
			Fa: "پرونده با کدگذاری " + fa + " ذخیره شده و خوانده نمی‌شود. آن را در Excel با «Save As» و گزینهٔ «CSV UTF-8 (Comma delimited)» ذخیره کنید (در LibreOffice: Character set = Unicode (UTF-8)).",
			En: "the file is encoded in " + en + ", not UTF-8; in Excel use Save As → \"CSV UTF-8 (Comma delimited)\" (LibreOffice: Character set = Unicode (UTF-8))"}
	}
	var dec *encoding.Decoder
	enc := "UTF-16"
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		b = b[3:]
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		dec = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
	case len(b) >= 4 && b[1] == 0 && b[3] == 0 && b[0] != 0:
		dec = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()
	case len(b) >= 4 && b[0] == 0 && b[2] == 0 && b[1] != 0:
		dec = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()
	case !utf8.Valid(b):
		dec, enc = charmap.Windows1256.NewDecoder(), "Windows-1256"
	}
	if dec == nil {
		return bytes.NewReader(b), nil
	}
	out, err := dec.Bytes(b)
	if err != nil || !utf8.Valid(out) {
		return nil, refuse(enc, enc)
	}
	if enc == "Windows-1256" && !looksPersian(out) {
		// Not UTF-8, and not Persian in Windows-1256 either.
		return nil, refuse("ناشناخته", "an unknown encoding")
	}
	return bytes.NewReader(out), nil
}

// looksPersian reports whether most letters of s are in the Arabic script,
// as a Windows-1256 roster decoded right is; Latin-1 or another code page
// read as 1256 gives a jumble of Arabic and Latin-1 letters.
func looksPersian(s []byte) bool {
	arabic, other := 0, 0
	for _, r := range string(s) {
		switch {
		case r >= 0x0600 && r <= 0x06FF:
			arabic++
		case r > 0x7F && gounicode.IsLetter(r):
			other++
		}
	}
	return arabic > 0 && other*10 <= arabic
}

// readRoster reads the whole file: its data rows by column, and the line
// each starts on. A file that is not a readable roster gives a RosterError.
func readRoster(r io.Reader) ([]rosterRecord, []int, *RosterError) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, &RosterError{Line: 1, Fa: "پرونده خالی است.", En: "the file is empty"}
	} else if err != nil {
		return nil, nil, csvError(err)
	}
	line, _ := cr.FieldPos(0)
	cols := map[string]int{}
	for i, h := range header {
		col, ok := rosterHeaders[persian.SearchKey(h)]
		if !ok {
			continue // extra columns (a row number, notes) are allowed
		}
		if _, dup := cols[col]; dup {
			return nil, nil, &RosterError{Line: line,
				Fa: fmt.Sprintf("ستون «%s» دو بار آمده است.", rosterColumnNames[col]),
				En: fmt.Sprintf("column %q appears twice", col)}
		}
		cols[col] = i
	}
	for _, col := range rosterColumns {
		if _, ok := cols[col]; !ok {
			return nil, nil, &RosterError{Line: line,
				Fa: fmt.Sprintf("ستون «%s» در سطر عنوان‌ها نیست.", rosterColumnNames[col]),
				En: fmt.Sprintf("the header has no column %q", col)}
		}
	}
	var (
		records []rosterRecord
		lines   []int
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return records, lines, nil
		} else if err != nil {
			return nil, nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		row := rosterRecord{}
		for col, i := range cols {
			if i < len(rec) {
				row[col] = strings.TrimSpace(persian.Normalize(rec[i]))
			}
		}
		records = append(records, row)
		lines = append(lines, line)
	}
}

// csvError describes a CSV syntax error.
func csvError(err error) *RosterError {
	line := 1
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		line = pe.Line
	}
	return &RosterError{Line: line, Fa: "قالب CSV این سطر خراب است (مثلاً گیومه بسته نشده).", En: "malformed CSV: " + err.Error()}
}

// rosterValidator checks rows against the reference data, loading it as
// rows need it, and remembers earlier rows to catch repeats.
type rosterValidator struct {
	tx         *gorm.DB
	provinces  map[string]uint           // SearchKey of name or code -> id
	counties   map[uint]map[string]uint  // province id -> key -> id
	places     map[uint]map[string]uint  // county id -> SearchKey of name -> id
	committees map[uint]map[string]uint  // province id -> key -> id
	seats      map[rosterSeat]int        // phone and place -> first line
	names      map[string]rosterNameLine // phone -> first name and line
	officers   map[rosterOfficer]int     // place and position -> first line
	newPlaces  map[uint]Place            // places the roster adds, by stand-in id
	nextNew    uint
}

type rosterSeat struct {
	phone   string
	placeID uint
}

type rosterOfficer struct {
	placeID  uint
	position string
}

type rosterNameLine struct {
	name string
	line int
}

func newRosterValidator(tx *gorm.DB) *rosterValidator {
	return &rosterValidator{
		tx:         tx,
		counties:   map[uint]map[string]uint{},
		places:     map[uint]map[string]uint{},
		committees: map[uint]map[string]uint{},
		seats:      map[rosterSeat]int{},
		names:      map[string]rosterNameLine{},
		officers:   map[rosterOfficer]int{},
		newPlaces:  map[uint]Place{},
	}
}

// validate checks one row and returns it resolved, or its problems. The
// error is for a database failure only.
func (v *rosterValidator) validate(line int, rec rosterRecord) (rosterRow, []RosterError, error) {
	row := rosterRow{line: line}
	var errs []RosterError
	bad := func(fa, en string) {
		errs = append(errs, RosterError{Line: line, Fa: fa, En: en})
	}
	for _, col := range rosterColumns {
		if rec[col] == "" {
			bad(fmt.Sprintf("ستون «%s» خالی است.", rosterColumnNames[col]), col+" is empty")
		}
	}
	if len(errs) > 0 {
		return row, errs, nil
	}

	provinceID, err := v.placeOf(rec, &row, bad)
	if err != nil {
		return row, nil, err
	}

	var ok bool
	if row.name, ok = cleanName(rec[rosterName]); !ok {
		bad(fmt.Sprintf("نام «%s» باید بین ۲ تا ۶۰ حرف باشد.", rec[rosterName]),
			fmt.Sprintf("full name %q must be 2 to 60 characters", rec[rosterName]))
	}
	phone, err := persian.ParseMobile(rec[rosterPhone])
	if err != nil {
		bad(fmt.Sprintf("شماره «%s» شماره همراه ایران نیست (مثلاً ۰۹۱۲۳۴۵۶۷۸۹).", rec[rosterPhone]),
			fmt.Sprintf("phone %q is not an Iranian mobile number (like 09123456789)", rec[rosterPhone]))
	}
	row.phone = phone
	if row.position, ok = parsePosition(rec[rosterPosition]); !ok {
		bad(fmt.Sprintf("سمت «%s» باید رئیس، دبیر یا عضو باشد.", rec[rosterPosition]),
			fmt.Sprintf("position %q must be chair, secretary or member", rec[rosterPosition]))
	}
	if provinceID != 0 {
		committees, err := v.committeesOf(provinceID)
		if err != nil {
			return row, nil, err
		}
		if row.committeeID, ok = committees[persian.SearchKey(rec[rosterCommittee])]; !ok {
			bad(fmt.Sprintf("کمیته «%s» در فهرست کمیته‌های استان نیست.", rec[rosterCommittee]),
				fmt.Sprintf("committee %q is not on the province's committee list", rec[rosterCommittee]))
		}
	}
	if len(errs) > 0 {
		return row, errs, nil
	}

	// Repeats within the file, checked only between valid rows.
	seat, officer := rosterSeat{row.phone, row.placeID}, rosterOfficer{row.placeID, row.position}
	if first, dup := v.seats[seat]; dup {
		bad(fmt.Sprintf("این شماره در خط %s هم برای شورای همین محل آمده است.", faNumber(first)),
			fmt.Sprintf("this phone is already listed for this council on line %d", first))
	}
	if prev, seen := v.names[row.phone]; seen && prev.name != row.name {
		bad(fmt.Sprintf("این شماره در خط %s با نام «%s» آمده است.", faNumber(prev.line), prev.name),
			fmt.Sprintf("this phone is given with the name %q on line %d", prev.name, prev.line))
	}
	if row.position != PositionMember {
		if first, dup := v.officers[officer]; dup {
			bad(fmt.Sprintf("شورای این محل در خط %s هم %s دارد.", faNumber(first), PositionName(row.position)),
				fmt.Sprintf("this council already has a %s on line %d", row.position, first))
		}
	}
	if len(errs) > 0 {
		return row, errs, nil
	}
	v.seats[seat] = line
	if _, seen := v.names[row.phone]; !seen {
		v.names[row.phone] = rosterNameLine{row.name, line}
	}
	if row.position != PositionMember {
		v.officers[officer] = line
	}
	return row, nil, nil
}

// placeOf resolves the province, county and place of a row, reporting what
// it cannot find through bad. It returns the province id (0 when not found)
// and sets row.placeID.
func (v *rosterValidator) placeOf(rec rosterRecord, row *rosterRow, bad func(fa, en string)) (uint, error) {
	if v.provinces == nil {
		var ps []Province
		if err := v.tx.Find(&ps).Error; err != nil {
			return 0, err
		}
		v.provinces = map[string]uint{}
		for _, p := range ps {
			v.provinces[persian.SearchKey(p.Code)] = p.ID
			v.provinces[persian.SearchKey(p.Name)] = p.ID
		}
	}
	provinceID, ok := v.provinces[persian.SearchKey(rec[rosterProvince])]
	if !ok {
		bad(fmt.Sprintf("استان «%s» پیدا نشد.", rec[rosterProvince]), fmt.Sprintf("province %q not found", rec[rosterProvince]))
		return 0, nil
	}
	counties, ok := v.counties[provinceID]
	if !ok {
		var cs []County
		if err := v.tx.Where("province_id = ?", provinceID).Find(&cs).Error; err != nil {
			return 0, err
		}
		counties = map[string]uint{}
		for _, c := range cs {
			counties[persian.SearchKey(c.Code)] = c.ID
			counties[persian.SearchKey(c.Name)] = c.ID
		}
		v.counties[provinceID] = counties
	}
	countyID, ok := counties[persian.SearchKey(rec[rosterCounty])]
	if !ok {
		bad(fmt.Sprintf("شهرستان «%s» در استان «%s» پیدا نشد.", rec[rosterCounty], rec[rosterProvince]),
			fmt.Sprintf("county %q not found in province %q", rec[rosterCounty], rec[rosterProvince]))
		return provinceID, nil
	}
	places, ok := v.places[countyID]
	if !ok {
		var ps []Place
		if err := v.tx.Where("county_id = ?", countyID).Find(&ps).Error; err != nil {
			return 0, err
		}
		places = map[string]uint{}
		for _, p := range ps {
			places[p.SearchKey] = p.ID
		}
		v.places[countyID] = places
	}
	if row.placeID, ok = places[persian.SearchKey(rec[rosterPlace])]; !ok {
		// Neighborhoods and villages are not known in advance: the roster
		// names them, and an operator's roster is authority enough to add
		// one, confirmed. Until the rows are applied it has a stand-in id,
		// so the checks across rows (one chair per place, …) still hold.
		name, key, err := cleanPlaceName(rec[rosterPlace])
		if err != nil {
			bad(fmt.Sprintf("نام محله یا روستای «%s» پذیرفته نیست: %s", rec[rosterPlace], ErrorMessage(err)),
				fmt.Sprintf("place name %q is not acceptable", rec[rosterPlace]))
			return provinceID, nil
		}
		v.nextNew++
		row.placeID = ^uint(0) - v.nextNew
		places[key] = row.placeID
		v.newPlaces[row.placeID] = Place{CountyID: countyID, Kind: placeKind(name), Name: name, SearchKey: key, Confirmed: true}
	}
	return provinceID, nil
}

// committeesOf returns the committee list a province's councils use, by
// the SearchKey of each committee's code and name.
func (v *rosterValidator) committeesOf(provinceID uint) (map[string]uint, error) {
	if m, ok := v.committees[provinceID]; ok {
		return m, nil
	}
	var cs []Committee
	if err := v.tx.Where("province_id = ?", provinceID).Find(&cs).Error; err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		if err := v.tx.Where("province_id IS NULL").Find(&cs).Error; err != nil {
			return nil, err
		}
	}
	m := map[string]uint{}
	for _, c := range cs {
		m[persian.SearchKey(c.Code)] = c.ID
		m[persian.SearchKey(c.Name)] = c.ID
		m[persian.SearchKey("کمیته "+c.Name)] = c.ID
	}
	v.committees[provinceID] = m
	return m, nil
}

// Outcomes of one roster row.
const (
	rosterUnchanged = iota
	rosterCreated
	rosterUpdated
)

// applyRosterRow makes the row's person an active member of the place's
// council as the row says.
func applyRosterRow(tx *gorm.DB, now time.Time, actor Actor, row rosterRow) (int, error) {
	outcome := rosterUnchanged
	p, ok, err := personByPhone(tx, row.phone)
	if err != nil {
		return 0, err
	}
	switch {
	case !ok:
		p = Person{Name: row.name, Phone: &row.phone, CreatedAt: now}
		if err := tx.Create(&p).Error; err != nil {
			return 0, err
		}
		if err := writeAudit(tx, now, actor, AuditCreate, EntityPerson, p.ID, "roster"); err != nil {
			return 0, err
		}
	case p.Name != row.name:
		if err := tx.Model(&Person{}).Where("id = ?", p.ID).Update("name", row.name).Error; err != nil {
			return 0, err
		}
		if err := writeAudit(tx, now, actor, AuditEdit, EntityPerson, p.ID, "name"); err != nil {
			return 0, err
		}
		outcome = rosterUpdated
	}

	c, err := councilFor(tx, now, row.placeID)
	if err != nil {
		return 0, err
	}
	open, ok, err := openMembership(tx, p.ID, c.ID)
	if err != nil {
		return 0, err
	}
	if ok && open.Position == row.position && open.CommitteeID == row.committeeID {
		if open.Status == MembershipActive {
			return outcome, nil
		}
		// A pending request the roster confirms.
		if err := tx.Model(&Membership{}).Where("id = ?", open.ID).
			Updates(map[string]any{"status": MembershipActive, "since": now, "updated_at": now}).Error; err != nil {
			return 0, err
		}
		return rosterUpdated, writeAudit(tx, now, actor, AuditStatus, EntityMembership, open.ID, open.Status+" -> "+MembershipActive)
	}
	if ok {
		if err := endMembership(tx, now, actor, open); err != nil {
			return 0, err
		}
		outcome = rosterUpdated
	} else {
		outcome = rosterCreated
	}
	m := Membership{PersonID: p.ID, CouncilID: c.ID, Position: row.position, CommitteeID: row.committeeID,
		Since: now, Status: MembershipActive, Source: SourceRoster}
	if err := tx.Create(&m).Error; err != nil {
		return 0, err
	}
	return outcome, writeAudit(tx, now, actor, AuditCreate, EntityMembership, m.ID, membershipDetail(m))
}

// faNumber shows n in Persian digits.
func faNumber(n int) string { return persian.FormatNumber(int64(n)) }
