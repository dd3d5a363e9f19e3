package models

import (
	"context"
	"crypto/rand"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Suggestion statuses, in the order a suggestion usually moves through them.
const (
	StatusNew        = "new"
	StatusSeen       = "seen"
	StatusInProgress = "in_progress"
	StatusAnswered   = "answered"
	StatusClosed     = "closed"
)

// Suggestion is a resident's suggestion, complaint or comment sent to the
// council of a place.
type Suggestion struct {
	ID           uint
	Code         string // tracking code given to the sender, "S-" + 5 characters; unique
	Key          string `gorm:"column:idempotency_key"` // idempotency key set by the caller; unique
	Platform     string // the sender's platform
	UserID       int64  // the sender's platform user id, kept even when Anonymous so status changes reach them
	PlaceID      uint
	CommitteeID  uint
	Text         string
	VoiceFileID  string
	PhotoFileIDs StringList
	Lat, Lon     *float64
	Anonymous    bool       // the council does not see who sent it
	SenderName   string     // empty when Anonymous
	Status       string     // StatusNew, StatusSeen, …
	Muted        bool       // the sender is muted: kept, routed to nobody
	ClockSince   time.Time  // when the council's time to answer started (creation, or the last reopening)
	Escalated    int        // 0; 1 once the county was alerted it is overdue; 2 once the province was
	AnsweredAt   *time.Time // the last answer to the resident
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// TableName pins the table name for GORM.
func (Suggestion) TableName() string { return "suggestions" }

// StringList is a list of strings kept in one text column, one per line.
// Its elements must not contain a newline (platform file ids never do).
type StringList []string

// Value implements driver.Valuer.
func (l StringList) Value() (driver.Value, error) {
	for _, s := range l {
		if strings.ContainsAny(s, "\r\n") {
			return nil, Errorf(EINVALID, "list element %q contains a newline", s)
		}
	}
	return strings.Join(l, "\n"), nil
}

// Scan implements sql.Scanner.
func (l *StringList) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("models: scan string list: unexpected %T", src)
	}
	if s == "" {
		*l = nil
		return nil
	}
	*l = strings.Split(s, "\n")
	return nil
}

// Audit actions and entities.
const (
	AuditCreate = "create"
	AuditEdit   = "edit"
	AuditStatus = "status"

	EntitySuggestion = "suggestion"
)

// AuditEntry records who did what to which entity, and when.
type AuditEntry struct {
	ID            uint
	At            time.Time
	ActorPlatform string
	ActorUserID   int64
	Action        string // AuditCreate, AuditEdit, AuditStatus
	Entity        string // EntitySuggestion, …
	EntityID      uint
	Detail        string
}

// TableName pins the table name for GORM.
func (AuditEntry) TableName() string { return "audit_entries" }

// SuggestionCodeAlphabet holds the characters of a tracking code after "S-":
// easy to read aloud and copy by hand (no 0/O, 1/I/L, B).
const SuggestionCodeAlphabet = "23456789ACDEFGHJKMNPQRTUVWXYZ"

// codeLen is the number of random characters after "S-".
const codeLen = 5

// maxCodeAttempts bounds the retries after a tracking-code collision; with
// 29^5 (20 million) codes, needing more than a few means something is wrong.
const maxCodeAttempts = 10

// newSuggestionCode returns "S-" and codeLen characters of
// SuggestionCodeAlphabet drawn uniformly with crypto/rand.
func newSuggestionCode() (string, error) {
	const limit = 256 - 256%len(SuggestionCodeAlphabet) // reject bytes above this to stay uniform
	code := make([]byte, 0, 2+codeLen)
	code = append(code, "S-"...)
	buf := make([]byte, 16)
	for len(code) < cap(code) {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(code) < cap(code) {
				code = append(code, SuggestionCodeAlphabet[int(b)%len(SuggestionCodeAlphabet)])
			}
		}
	}
	return string(code), nil
}

// CreateSuggestion stores sg, giving it an ID, a tracking Code, Status "new"
// when empty, timestamps, an audit entry and notices to the council (see
// noticeSuggestion) in the same transaction. It is
// idempotent on sg.Key: when a suggestion with that Key exists (a replay, or a
// concurrent call that won), *sg is filled from the stored row and nil is
// returned; a second row is never created. Returns EINVALID (with a Persian
// message) when Key, PlaceID, CommitteeID or both Text and VoiceFileID are
// missing, when the place or committee does not exist, or when the status or
// coordinates are out of range.
func (s *Store) CreateSuggestion(ctx context.Context, sg *Suggestion) error {
	if err := validateSuggestion(sg); err != nil {
		return fmt.Errorf("models: create suggestion: %w", err)
	}
	row := *sg
	row.ID, row.Code = 0, ""
	row.CreatedAt, row.UpdatedAt = time.Time{}, time.Time{}
	if row.Status == "" {
		row.Status = StatusNew
	}
	if row.Anonymous {
		row.SenderName = ""
	}

	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) (err error) {
		// A replay is found by its key when the insert below conflicts; only
		// a place or committee gone since (a merge) needs it looked up first.
		replayed := func(ref error, msg string) error {
			if found, ok, err := byKey[Suggestion](tx, row.Key); err != nil || ok {
				if ok {
					*sg = found
				}
				return err
			}
			return invalidRef(ref, msg)
		}
		in, err := suggestionContext(tx, s.now(), row.PlaceID, row.CommitteeID, row.Platform, row.UserID)
		switch {
		case err != nil:
			return err
		case in.ID == 0:
			return replayed(Errorf(ENOTFOUND, "place %d not found", row.PlaceID), "محل انتخاب‌شده پیدا نشد.")
		case in.CommitteeID == nil:
			return replayed(Errorf(ENOTFOUND, "committee %d not found", row.CommitteeID), "کمیته انتخاب‌شده پیدا نشد.")
		}
		if in.DayN >= SubmissionsPerDay || in.HourN >= SubmissionsPerHour {
			// Past the limits, unless this is a replay of one stored
			// already: then say from when.
			if found, ok, err := byKey[Suggestion](tx, row.Key); err != nil || ok {
				if ok {
					*sg = found
				}
				return err
			}
			if ok, until, err := submissionAllowed(tx, s.now(), row.Platform, row.UserID); err != nil || !ok {
				if err == nil {
					err = &LimitedError{Until: until}
				}
				return err
			}
		}
		place := in.PlaceMatch
		committee := Committee{ID: *in.CommitteeID, Code: in.CommitteeCode, Name: in.CommitteeName}
		row.ClockSince = s.now()
		row.Muted = in.Muted
		try, inserted, err := insertCoded(tx, row.Key, s.newCode, func(code string) Suggestion {
			try := row
			try.Code = code
			return try
		})
		if err != nil {
			return err
		}
		if !inserted { // a replay: what the first call stored
			*sg = try
			return nil
		}
		entry := AuditEntry{
			At:            try.CreatedAt,
			ActorPlatform: try.Platform,
			ActorUserID:   try.UserID,
			Action:        AuditCreate,
			Entity:        EntitySuggestion,
			EntityID:      try.ID,
			Detail:        try.Code,
		}
		if err := tx.Create(&entry).Error; err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		if err := noticeSuggestion(tx, s.now(), try, place, committee, in.council, in.chain); err != nil {
			return err
		}
		*sg = try
		return nil
	})
	if err != nil {
		return fmt.Errorf("models: create suggestion: %w", err)
	}
	return nil
}

// suggestionIn is what storing a suggestion reads first: its place (with
// county and province), its committee (nil id: not found), whether its
// sender is muted, and who its notice goes to (see noticeSuggestion).
type suggestionIn struct {
	PlaceMatch
	CommitteeID   *uint
	CommitteeCode string
	CommitteeName string
	Muted         bool
	RecipientTier *int  // nil: nobody at all
	RecipientID   *uint // one row per recipient
	DayN, HourN   int   // the sender's submissions in the last day and hour

	council, chain []uint
}

// suggestionContext reads a suggestion's place, committee, the sender's
// mute and submissions of the last day, and the recipients of its notice in
// one round trip (it was six, on the path of every suggestion): one row per
// recipient, the place's columns repeated. ID is 0 when the place does not
// exist.
func suggestionContext(tx *gorm.DB, now time.Time, placeID, committeeID uint, platform string, userID int64) (suggestionIn, error) {
	seats := &councilSeats{Place: placeID, Positions: []string{PositionChair, PositionSecretary}, Committee: committeeID, NotOther: true}
	county := sqlExpr{"(SELECT county_id FROM places WHERE id = ?)", []any{placeID}}
	province := sqlExpr{"(SELECT counties.province_id FROM places JOIN counties ON counties.id = places.county_id WHERE places.id = ?)", []any{placeID}}
	who, whoArgs := recipientsSQL(seats, county, province)
	recent, recentArgs := recentSubmissions(now, platform, userID)
	var ms []suggestionIn
	err := placeRow(tx, placeID,
		"committees.id AS committee_id, committees.code AS committee_code, committees.name AS committee_name, "+
			"EXISTS (SELECT 1 FROM mutes WHERE mutes.platform = ? AND mutes.user_id = ?) AS muted, "+
			"r.tier AS recipient_tier, r.person_id AS recipient_id, lim.day_n, lim.hour_n", platform, userID).
		Joins("LEFT JOIN committees ON committees.id = ?", committeeID).
		Joins("LEFT JOIN ("+who+") AS r ON 1 = 1", whoArgs...).
		Joins("JOIN (SELECT COUNT(*) AS day_n, COALESCE(SUM(CASE WHEN created_at > ? THEN 1 ELSE 0 END), 0) AS hour_n FROM ("+
			recent+") AS recent) AS lim ON 1 = 1", append([]any{now.Add(-time.Hour)}, recentArgs...)...).
		Order("r.tier, r.person_id").Limit(-1).
		Find(&ms).Error
	if err != nil || len(ms) == 0 {
		return suggestionIn{}, err
	}
	rows := make([]recipientTier, 0, len(ms))
	for _, m := range ms {
		if m.RecipientTier != nil && m.RecipientID != nil {
			rows = append(rows, recipientTier{Tier: *m.RecipientTier, PersonID: *m.RecipientID})
		}
	}
	in := ms[0]
	in.council, in.chain = splitTiers(rows)
	return in, nil
}

// insertCoded inserts the row that with(code) builds, under a fresh
// tracking code from newCode, retrying while the code is taken. It returns
// the stored row and whether this call inserted it: when a row with the
// same idempotency key exists (a replay, or a concurrent call that won), it
// returns that row and false. EINTERNAL when no free code is found.
func insertCoded[T any](tx *gorm.DB, key string, newCode func() (string, error), with func(code string) T) (T, bool, error) {
	var zero T
	for range maxCodeAttempts {
		code, err := newCode()
		if err != nil {
			return zero, false, fmt.Errorf("code: %w", err)
		}
		try := with(code)
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&try)
		if res.Error != nil {
			return zero, false, res.Error
		}
		if res.RowsAffected == 1 {
			return try, true, nil
		}
		// Nothing inserted: either a concurrent call with the same key
		// committed first, or the code is taken.
		if found, ok, err := byKey[T](tx, key); err != nil || ok {
			return found, false, err
		}
	}
	return zero, false, Errorf(EINTERNAL, "no free tracking code after %d attempts", maxCodeAttempts)
}

// byKey returns the row of type T with the idempotency key and whether
// there is one: suggestions, actions and action updates are all inserted
// under such a key, so a replay finds what the first call stored.
func byKey[T any](tx *gorm.DB, key string) (T, bool, error) {
	var row T
	err := tx.Where("idempotency_key = ?", key).Take(&row).Error
	if notFound(err) {
		var zero T
		return zero, false, nil
	} else if err != nil {
		var zero T
		return zero, false, err
	}
	return row, true, nil
}

// invalidRef turns an ENOTFOUND from exists into EINVALID with msg: a
// reference in the input, not the thing asked for, is missing.
func invalidRef(err error, msg string) error {
	if ErrorCode(err) == ENOTFOUND {
		return &Error{Code: EINVALID, Message: msg}
	}
	return err
}

// validateSuggestion checks what CreateSuggestion requires of its input.
func validateSuggestion(sg *Suggestion) error {
	switch {
	case sg == nil || strings.TrimSpace(sg.Key) == "":
		return Errorf(EINVALID, "پیشنهاد شناسه ندارد.")
	case sg.PlaceID == 0:
		return Errorf(EINVALID, "محله یا روستا انتخاب نشده است.")
	case sg.CommitteeID == 0:
		return Errorf(EINVALID, "کمیته انتخاب نشده است.")
	case strings.TrimSpace(sg.Text) == "" && sg.VoiceFileID == "":
		return Errorf(EINVALID, "متن یا پیام صوتی پیشنهاد خالی است.")
	case sg.Lat != nil && (*sg.Lat < -90 || *sg.Lat > 90), sg.Lon != nil && (*sg.Lon < -180 || *sg.Lon > 180):
		return Errorf(EINVALID, "موقعیت فرستاده‌شده معتبر نیست.")
	}
	switch sg.Status {
	case "", StatusNew, StatusSeen, StatusInProgress, StatusAnswered, StatusClosed:
	default:
		return Errorf(EINVALID, "وضعیت پیشنهاد معتبر نیست.")
	}
	for _, id := range sg.PhotoFileIDs {
		if id == "" || strings.ContainsAny(id, "\r\n") {
			return Errorf(EINVALID, "شناسه عکس معتبر نیست.")
		}
	}
	return nil
}

// SuggestionByCode returns the suggestion with the tracking code, compared
// case-insensitively; the "S-" prefix may be left out. Returns ENOTFOUND when
// there is none.
func (s *Store) SuggestionByCode(ctx context.Context, code string) (Suggestion, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if !strings.HasPrefix(c, "S-") {
		c = "S-" + c
	}
	var sg Suggestion
	err := s.db.WithContext(ctx).Where("code = ?", c).Take(&sg).Error
	if notFound(err) {
		return Suggestion{}, fmt.Errorf("models: suggestion by code: %w", Errorf(ENOTFOUND, "suggestion %q not found", code))
	} else if err != nil {
		return Suggestion{}, fmt.Errorf("models: suggestion by code: %w", err)
	}
	return sg, nil
}

// CountSuggestions returns the number of suggestions stored.
func (s *Store) CountSuggestions(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&Suggestion{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("models: count suggestions: %w", err)
	}
	return n, nil
}

// AuditEntries returns the audit entries about one entity, oldest first.
func (s *Store) AuditEntries(ctx context.Context, entity string, entityID uint) ([]AuditEntry, error) {
	var es []AuditEntry
	err := s.db.WithContext(ctx).Where("entity = ? AND entity_id = ?", entity, entityID).Order("at").Order("id").Find(&es).Error
	if err != nil {
		return nil, fmt.Errorf("models: audit entries: %w", err)
	}
	return es, nil
}
