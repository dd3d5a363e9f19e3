package models

import (
	"context"
	"crypto/rand"
	"database/sql/driver"
	"fmt"
	"slices"
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

	// Reach is whom the suggestion's notice went to, set by
	// CreateSuggestion for the sender's receipt; not stored. A muted
	// sender's is what it would have been: the mute is not told.
	Reach Reach `gorm:"-"`
}

// TableName pins the table name for GORM.
func (Suggestion) TableName() string { return "suggestions" }

// Reach is whom a new suggestion's notice goes to: the first of the council
// and the coordinator chain that has anyone the bot can write to.
type Reach int

const (
	ReachUnknown  Reach = iota // not known (a replay after its place was merged away)
	ReachCouncil               // the council's chair, secretary or committee member
	ReachCounty                // nobody on the council: the county's coordinators
	ReachProvince              // nor in the county: the province's coordinators
	ReachAdmin                 // nor in the province: the admins
	ReachWaiting               // nobody yet: it waits for the first coordinator appointed
)

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
// suggestionNotices), all committed together or not at all. It is
// idempotent on sg.Key: when a suggestion with that Key exists (a replay, or a
// concurrent call that won), *sg is filled from the stored row and nil is
// returned; a second row is never created. Returns EINVALID (with a Persian
// message) when Key, PlaceID, CommitteeID or both Text and VoiceFileID are
// missing, when the place or committee does not exist, or when the status or
// coordinates are out of range, and a *LimitedError past the per-account
// limits.
func (s *Store) CreateSuggestion(ctx context.Context, sg *Suggestion) error {
	return s.createSuggestion(ctx, sg, s.backend == BackendPostgres)
}

// createSuggestion is CreateSuggestion. With oneStatement (PostgreSQL) it
// takes two round trips and no transaction: the context query, then one
// statement that inserts the suggestion, its audit entry and its notices
// (insertSuggestion), atomic as every statement is; it was six, on the path
// of every suggestion. Else (SQLite) it does the same in a transaction, a
// statement a row (insertSuggestionTx).
func (s *Store) createSuggestion(ctx context.Context, sg *Suggestion, oneStatement bool) error {
	if err := validateSuggestion(sg); err != nil {
		return fmt.Errorf("models: create suggestion: %w", err)
	}
	row := *sg
	row.ID, row.Code = 0, ""
	if row.Status == "" {
		row.Status = StatusNew
	}
	if row.Anonymous {
		row.SenderName = ""
	}
	now := s.now()
	row.ClockSince, row.CreatedAt, row.UpdatedAt = now, now, now

	db := s.db.WithContext(ctx)
	var err error
	if oneStatement {
		err = storeSuggestion(db, now, s.newCode, sg, row, func(try Suggestion, in suggestionIn) (uint, bool, error) {
			return insertSuggestion(db, now, try, in)
		})
	} else {
		err = db.Transaction(func(tx *gorm.DB) error {
			return storeSuggestion(tx, now, s.newCode, sg, row, func(try Suggestion, in suggestionIn) (uint, bool, error) {
				return insertSuggestionTx(tx, now, try, in)
			})
		})
	}
	if err != nil {
		return fmt.Errorf("models: create suggestion: %w", err)
	}
	return nil
}

// storeSuggestion stores row, a valid suggestion, in db unless refused, and
// sets *sg to what is stored: it reads the context (suggestionContext),
// refuses a missing place or committee and a sender past the limits (unless
// a suggestion with row's key is stored: then that one), and inserts row
// under fresh tracking codes with insert, which stores try with its audit
// entry and notices and returns its id, or false when nothing was inserted
// (the key or the code is taken).
func storeSuggestion(db *gorm.DB, now time.Time, newCode func() (string, error), sg *Suggestion, row Suggestion,
	insert func(try Suggestion, in suggestionIn) (uint, bool, error)) error {
	// A replay is found by its key when the insert conflicts; only a
	// refusal needs it looked up first.
	replayed := func() (bool, error) {
		found, ok, err := byKey[Suggestion](db, row.Key)
		if ok {
			*sg = found
		}
		return ok, err
	}
	in, err := suggestionContext(db, now, row.PlaceID, row.CommitteeID, row.Platform, row.UserID)
	if err != nil {
		return err
	}
	if in.ID == 0 || in.CommitteeID == nil {
		// A place or committee gone since (a merge): a replay still gets
		// what the first call stored.
		if ok, err := replayed(); err != nil || ok {
			return err
		}
		if in.ID == 0 {
			return invalidRef(Errorf(ENOTFOUND, "place %d not found", row.PlaceID), "محل انتخاب‌شده پیدا نشد.")
		}
		return invalidRef(Errorf(ENOTFOUND, "committee %d not found", row.CommitteeID), "کمیته انتخاب‌شده پیدا نشد.")
	}
	if in.DayN >= SubmissionsPerDay || in.HourN >= SubmissionsPerHour {
		// Past the limits, unless this is a replay of one stored
		// already: then say from when.
		if ok, err := replayed(); err != nil || ok {
			sg.Reach = in.reach
			return err
		}
		if ok, until, err := submissionAllowed(db, now, row.Platform, row.UserID); err != nil || !ok {
			if err == nil {
				err = &LimitedError{Until: until}
			}
			return err
		}
	}
	row.Muted = in.Muted
	stored, _, err := retryCoded(db, row.Key, newCode, func(code string) (Suggestion, bool, error) {
		try := row
		try.Code = code
		id, inserted, err := insert(try, in)
		try.ID = id
		return try, inserted, err
	})
	if err != nil {
		return err
	}
	*sg = stored
	sg.Reach = in.reach
	return nil
}

// insertSuggestionTx inserts try in tx, then, unless it conflicted, its
// audit entry and its notices: a statement each.
func insertSuggestionTx(tx *gorm.DB, now time.Time, try Suggestion, in suggestionIn) (uint, bool, error) {
	if inserted, err := insertOnce(tx, &try); err != nil || !inserted {
		return 0, false, err
	}
	entry := suggestionAudit(try)
	if err := tx.Create(&entry).Error; err != nil {
		return 0, false, fmt.Errorf("audit: %w", err)
	}
	if err := noticeSuggestion(tx, now, try, in.PlaceMatch, in.committee(), in.council, in.chain); err != nil {
		return 0, false, err
	}
	return try.ID, true, nil
}

// suggestionAudit returns the audit entry of sg's creation.
func suggestionAudit(sg Suggestion) AuditEntry {
	return AuditEntry{
		At:            sg.CreatedAt,
		ActorPlatform: sg.Platform,
		ActorUserID:   sg.UserID,
		Action:        AuditCreate,
		Entity:        EntitySuggestion,
		EntityID:      sg.ID,
		Detail:        sg.Code,
	}
}

// idMarker stands for the id of the suggestion insertSuggestion inserts in
// the dedup keys and buttons of its notices, built before the id exists.
const idMarker = "{suggestion.id}"

// insertSuggestion inserts try, its audit entry (suggestionAudit) and its
// notices (suggestionNotices), in one statement of data-modifying CTEs: the
// audit entry and notices are inserted from the suggestion's inserted row,
// with its id, so with it or not at all. It returns the id, or false when
// nothing was inserted (the key or the code is taken). PostgreSQL only.
func insertSuggestion(db *gorm.DB, now time.Time, try Suggestion, in suggestionIn) (uint, bool, error) {
	entry := suggestionAudit(try)
	args := []any{
		try.Code, try.Key, try.Platform, try.UserID, try.PlaceID, try.CommitteeID, try.Text, try.VoiceFileID,
		try.PhotoFileIDs, try.Lat, try.Lon, try.Anonymous, try.SenderName, try.Status, try.Muted, try.ClockSince,
		try.Escalated, try.AnsweredAt, try.CreatedAt, try.UpdatedAt,
		entry.At, entry.ActorPlatform, entry.ActorUserID, entry.Action, entry.Entity, entry.Detail,
	}
	q := insertSuggestionSQL
	ns := suggestionNotices(try, idMarker, in.PlaceMatch, in.committee(), in.council, in.chain)
	if len(ns) > 0 {
		stampNotices(now, ns)
		args = append(args, idMarker, idMarker)
		for i, n := range ns {
			buttons, err := n.Buttons.Value()
			if err != nil {
				return 0, false, fmt.Errorf("outbox: %w", err)
			}
			args = append(args, i, n.PersonID, n.Platform, n.UserID, n.RouteCountyID, n.RouteProvinceID, n.Kind,
				n.Entity, n.Text, buttons, n.Urgent, n.Digest, n.DedupKey, n.NotBefore, n.Attempts, n.NextAttemptAt,
				n.Status, n.LeaseUntil, n.SentPlatform, n.SentMessageID, n.DeliveredAt, n.FailedAt, n.LastError,
				n.CreatedAt, n.UpdatedAt)
		}
		q += insertNoticesSQL + strings.Join(slices.Repeat([]string{noticeValuesSQL}, len(ns)), ", ") + insertNoticesEndSQL
	}
	var ids []uint
	// Find, not Scan: see the init of store.go.
	if err := db.Raw(q+" SELECT id FROM s", args...).Find(&ids).Error; err != nil {
		return 0, false, err
	}
	if len(ids) == 0 {
		return 0, false, nil
	}
	return ids[0], true, nil
}

// The statement of insertSuggestion: the suggestion (s), its audit entry
// and, when it has any, its notices, one noticeValuesSQL each, the marker
// in their dedup keys and buttons replaced with the id. Every column is
// written, as GORM's inserts of the rows write them. The values of the
// notices are a VALUES list, whose placeholders PostgreSQL would take for
// text without the casts.
const (
	insertSuggestionSQL = `WITH s AS (
	INSERT INTO suggestions (code, idempotency_key, platform, user_id, place_id, committee_id, text, voice_file_id,
		photo_file_ids, lat, lon, anonymous, sender_name, status, muted, clock_since, escalated, answered_at,
		created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT DO NOTHING
	RETURNING id
), audit AS (
	INSERT INTO audit_entries (at, actor_platform, actor_user_id, action, entity, entity_id, detail)
	SELECT ?, ?, ?, ?, ?, s.id, ? FROM s
)`
	insertNoticesSQL = `, notices AS (
	INSERT INTO outbox (person_id, platform, user_id, route_county_id, route_province_id, kind, entity, entity_id,
		text, buttons, urgent, digest, dedup_key, not_before, attempts, next_attempt_at, status, lease_until,
		sent_platform, sent_message_id, delivered_at, failed_at, last_error, created_at, updated_at)
	SELECT n.person_id, n.platform, n.user_id, n.route_county_id, n.route_province_id, n.kind, n.entity, s.id,
		n.text, replace(n.buttons, ?, s.id::text), n.urgent, n.digest, replace(n.dedup_key, ?, s.id::text),
		n.not_before, n.attempts, n.next_attempt_at, n.status, n.lease_until, n.sent_platform, n.sent_message_id,
		n.delivered_at, n.failed_at, n.last_error, n.created_at, n.updated_at
	FROM s CROSS JOIN (VALUES `
	noticeValuesSQL = `(?::int, ?::bigint, ?, ?::bigint, ?::bigint, ?::bigint, ?, ?, ?, ?, ?::boolean, ?::boolean, ?,
		?::timestamptz, ?::bigint, ?::timestamptz, ?, ?::timestamptz, ?, ?::bigint, ?::timestamptz, ?::timestamptz, ?,
		?::timestamptz, ?::timestamptz)`
	insertNoticesEndSQL = `) AS n (ord, person_id, platform, user_id, route_county_id, route_province_id, kind, entity,
		text, buttons, urgent, digest, dedup_key, not_before, attempts, next_attempt_at, status, lease_until,
		sent_platform, sent_message_id, delivered_at, failed_at, last_error, created_at, updated_at)
	ORDER BY n.ord
	ON CONFLICT DO NOTHING
)`
)

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
	reach          Reach
}

// committee returns the suggestion's committee as read.
func (in suggestionIn) committee() Committee {
	return Committee{ID: *in.CommitteeID, Code: in.CommitteeCode, Name: in.CommitteeName}
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
	in.reach = reachOf(rows)
	return in, nil
}

// insertCoded inserts the row that with(code) builds, under a fresh
// tracking code from newCode, retrying while the code is taken. It returns
// the stored row and whether this call inserted it: when a row with the
// same idempotency key exists (a replay, or a concurrent call that won), it
// returns that row and false. EINTERNAL when no free code is found.
func insertCoded[T any](tx *gorm.DB, key string, newCode func() (string, error), with func(code string) T) (T, bool, error) {
	return retryCoded(tx, key, newCode, func(code string) (T, bool, error) {
		try := with(code)
		inserted, err := insertOnce(tx, &try)
		return try, inserted, err
	})
}

// retryCoded is insertCoded with insert, which inserts the row under code
// and returns it, or false when nothing was inserted (the key or the code is
// taken); a row with key is looked up in db.
func retryCoded[T any](db *gorm.DB, key string, newCode func() (string, error), insert func(code string) (T, bool, error)) (T, bool, error) {
	var zero T
	for range maxCodeAttempts {
		code, err := newCode()
		if err != nil {
			return zero, false, fmt.Errorf("code: %w", err)
		}
		row, inserted, err := insert(code)
		if err != nil {
			return zero, false, err
		}
		if inserted {
			return row, true, nil
		}
		// Nothing inserted: either a concurrent call with the same key
		// committed first, or the code is taken.
		if found, ok, err := byKey[T](db, key); err != nil || ok {
			return found, false, err
		}
	}
	return zero, false, Errorf(EINTERNAL, "no free tracking code after %d attempts", maxCodeAttempts)
}

// insertOnce inserts row unless it conflicts with a stored one, and reports
// whether it did.
func insertOnce[T any](tx *gorm.DB, row *T) (bool, error) {
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(row)
	return res.RowsAffected == 1, res.Error
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
