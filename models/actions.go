package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/mahalle/mahalle/persian"
)

// Action statuses. A council member submits an action; a coordinator
// verifies it, rejects it, or asks for changes, after which the member edits
// it and it is submitted again.
const (
	ActionSubmitted        = "submitted"
	ActionVerified         = "verified"
	ActionRejected         = "rejected"
	ActionChangesRequested = "changes_requested"
)

// ActionStatusLabel is how an action's status reads in Persian.
func ActionStatusLabel(status string) string {
	switch status {
	case ActionSubmitted:
		return "در انتظار بررسی"
	case ActionVerified:
		return "تأیید شده"
	case ActionRejected:
		return "رد شده"
	case ActionChangesRequested:
		return "نیازمند اصلاح"
	}
	return "نامشخص"
}

// Cost units.
const (
	CostToman = "toman"
	CostRial  = "rial"
)

// Answers to the duplicate-work warning, recorded on the action.
const (
	DuplicateNew    = "new"    // the reporter says it is other work
	DuplicateSame   = "same"   // the reporter says it is the same work as DuplicateOf, reported from their side
	DuplicateCancel = "cancel" // the reporter gave up; a flow that still stores the draft records it
)

// Title length limits, in characters after normalisation.
const (
	minTitleLen = 3
	maxTitleLen = 200
)

// Action is a piece of work a council reports: what was done, when, where,
// for whom, at what cost and with whom.
type Action struct {
	ID               uint
	Code             string // tracking code, "A-" + 5 characters; unique
	Key              string `gorm:"column:idempotency_key"` // idempotency key set by the caller; unique
	CouncilID        uint
	PlaceID          uint
	CommitteeID      uint
	Programmes       StringList // codes of the national programmes it belongs to
	Title            string
	Description      string
	Date             time.Time // the day of the work (the start of that day in Tehran); kept to the second
	Lat, Lon         *float64
	Photos           StringList // platform file ids
	Beneficiaries    *int64     // number of people who benefited; nil when not given
	Cost             *int64     // in CostUnit; nil when not given
	CostUnit         string     // CostToman or CostRial
	Partners         string     // who else took part, free text
	Status           string     // ActionSubmitted, ActionVerified, …
	Progress         int        // percent done, 0–100
	ReviewNote       string     // the coordinator's note with the last status change
	ReporterPersonID uint
	DuplicateWarned  bool       // the reporter was shown likely duplicates before confirming
	DuplicateChoice  string     // their answer: DuplicateNew, DuplicateSame, DuplicateCancel or ""
	DuplicateOf      *uint      // the action they said it duplicates
	ReviewedBy       *uint      // the person who made the last decision; nil while undecided
	ReviewedAt       *time.Time // when
	RemindedAt       *time.Time // when the county was reminded it waits for review
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// TableName pins the table name for GORM.
func (Action) TableName() string { return "actions" }

// ActionUpdate is an entry on an action's timeline: progress made, a note,
// photos.
type ActionUpdate struct {
	ID       uint
	Key      string `gorm:"column:idempotency_key"` // idempotency key set by the caller; unique
	ActionID uint
	Progress int // percent done after this update, 0–100
	Note     string
	Photos   StringList
	At       time.Time
	PersonID uint // who reported it
}

// TableName pins the table name for GORM.
func (ActionUpdate) TableName() string { return "action_updates" }

// cleanAction normalises the text fields of a and checks what every stored
// action must satisfy, returning EINVALID with a Persian message.
func cleanAction(a *Action) error {
	a.Title = strings.Join(strings.Fields(persian.Normalize(a.Title)), " ")
	a.Description = persian.Normalize(a.Description)
	a.Partners = persian.Normalize(a.Partners)
	if a.Cost != nil && a.CostUnit == "" {
		a.CostUnit = CostToman
	}
	n := utf8.RuneCountInString(a.Title)
	switch {
	case a.PlaceID == 0:
		return Errorf(EINVALID, "محله یا روستا انتخاب نشده است.")
	case a.CommitteeID == 0:
		return Errorf(EINVALID, "کمیته انتخاب نشده است.")
	case n < minTitleLen || n > maxTitleLen:
		return Errorf(EINVALID, "عنوان اقدام باید بین ۳ تا ۲۰۰ حرف باشد.")
	case a.Date.IsZero():
		return Errorf(EINVALID, "تاریخ اقدام وارد نشده است.")
	case a.Progress < 0 || a.Progress > 100:
		return Errorf(EINVALID, "درصد پیشرفت باید بین ۰ تا ۱۰۰ باشد.")
	case a.Beneficiaries != nil && *a.Beneficiaries < 0:
		return Errorf(EINVALID, "تعداد بهره‌مندان نمی‌تواند منفی باشد.")
	case a.Cost != nil && *a.Cost < 0:
		return Errorf(EINVALID, "هزینه نمی‌تواند منفی باشد.")
	case a.CostUnit != "" && a.CostUnit != CostToman && a.CostUnit != CostRial:
		return Errorf(EINVALID, "واحد هزینه باید تومان یا ریال باشد.")
	case a.Lat != nil && (*a.Lat < -90 || *a.Lat > 90), a.Lon != nil && (*a.Lon < -180 || *a.Lon > 180):
		return Errorf(EINVALID, "موقعیت فرستاده‌شده معتبر نیست.")
	}
	switch a.DuplicateChoice {
	case "", DuplicateNew, DuplicateSame, DuplicateCancel:
	default:
		return Errorf(EINVALID, "پاسخ هشدار تکرار معتبر نیست.")
	}
	if !validList(a.Photos) {
		return Errorf(EINVALID, "شناسه عکس معتبر نیست.")
	}
	if !validList(a.Programmes) {
		return Errorf(EINVALID, "برنامه انتخاب‌شده معتبر نیست.")
	}
	slices.Sort(a.Programmes)
	a.Programmes = slices.Compact(a.Programmes)
	return nil
}

// validList reports whether every element can be stored in a StringList.
func validList(l StringList) bool {
	for _, s := range l {
		if s == "" || strings.ContainsAny(s, "\r\n") {
			return false
		}
	}
	return true
}

// checkActionRefs checks, in tx, that what a refers to exists and fits: the
// committee is on the place's province's list, the programmes exist, the
// action it says it duplicates exists. It returns the place.
func checkActionRefs(tx *gorm.DB, a *Action) (PlaceMatch, error) {
	place, err := placeOf(tx, a.PlaceID)
	if err != nil {
		return PlaceMatch{}, invalidRef(err, "محل انتخاب‌شده پیدا نشد.")
	}
	if err := committeeAllowed(tx, a.CommitteeID, place.ProvinceID); err != nil {
		return PlaceMatch{}, err
	}
	if len(a.Programmes) > 0 {
		var n int64
		if err := tx.Model(&Programme{}).Where("code IN ?", []string(a.Programmes)).Count(&n).Error; err != nil {
			return PlaceMatch{}, err
		}
		if int(n) != len(a.Programmes) {
			return PlaceMatch{}, Errorf(EINVALID, "برنامه انتخاب‌شده پیدا نشد.")
		}
	}
	if a.DuplicateOf != nil {
		if err := exists(tx, &Action{}, *a.DuplicateOf, "action"); err != nil {
			return PlaceMatch{}, invalidRef(err, "اقدام مشابه انتخاب‌شده پیدا نشد.")
		}
	}
	return place, nil
}

// requireActiveMember returns EFORBIDDEN unless the person is an active
// member of the council.
func requireActiveMember(tx *gorm.DB, personID, councilID uint) error {
	var n int64
	err := tx.Model(&Membership{}).
		Where("person_id = ? AND council_id = ? AND status = ?", personID, councilID, MembershipActive).
		Count(&n).Error
	if err != nil {
		return err
	}
	if n == 0 {
		return Errorf(EFORBIDDEN, "person %d is not an active member of council %d", personID, councilID)
	}
	return nil
}

// newActionCode returns a tracking code "A-" + 5 characters, drawn by the
// same generator as suggestion codes (so a test that forces suggestion-code
// collisions forces these too).
func (s *Store) newActionCode() (string, error) {
	code, err := s.newCode()
	if err != nil {
		return "", err
	}
	_, rest, _ := strings.Cut(code, "-")
	return "A-" + rest, nil
}

// CreateAction stores a, a council member's report of an action: it gives
// it an ID, a tracking Code ("A-" and 5 characters), Status "submitted",
// CouncilID (the place's council, created on first use), timestamps, an
// audit entry, a notice to the county's coordinators and, when
// DuplicateWarned is set, a likely-duplicate notice, all in one
// transaction. Title, Description and Partners are normalised; Programmes
// are sorted and deduplicated. It is idempotent on a.Key: when an action
// with that Key exists (a replay, or a concurrent call that won), *a is
// filled from the stored row and nil is returned; a second row is never
// created. Returns EINVALID (with a Persian message) when Key,
// ReporterPersonID, PlaceID, CommitteeID, Title or Date is missing, a value
// is out of range, or a place, committee, programme or duplicated action
// does not exist or does not fit; EFORBIDDEN when the reporter is not an
// active member of the place's council.
func (s *Store) CreateAction(ctx context.Context, actor Actor, a *Action) error {
	if a == nil || strings.TrimSpace(a.Key) == "" {
		return fmt.Errorf("models: create action: %w", Errorf(EINVALID, "اقدام شناسه ندارد."))
	}
	row := *a
	row.Programmes = slices.Clone(a.Programmes)
	if err := cleanAction(&row); err != nil {
		return fmt.Errorf("models: create action: %w", err)
	}
	if row.ReporterPersonID == 0 {
		return fmt.Errorf("models: create action: %w", Errorf(EINVALID, "گزارش‌دهنده اقدام مشخص نیست."))
	}
	row.ID, row.Code, row.Status, row.ReviewNote = 0, "", ActionSubmitted, ""
	row.Date = row.Date.UTC().Truncate(time.Second)

	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if found, ok, err := byKey[Action](tx, row.Key); err != nil || ok {
			if ok {
				*a = found
			}
			return err
		}
		now := s.now()
		place, err := checkActionRefs(tx, &row)
		if err != nil {
			return err
		}
		c, err := councilFor(tx, now, place.ID)
		if err != nil {
			return err
		}
		if row.CouncilID != 0 && row.CouncilID != c.ID {
			return Errorf(EINVALID, "شورای اقدام با محل آن نمی‌خواند.")
		}
		row.CouncilID = c.ID
		if err := requireActiveMember(tx, row.ReporterPersonID, c.ID); err != nil {
			return err
		}
		try, inserted, err := insertCoded(tx, row.Key, s.newActionCode, func(code string) Action {
			try := row
			try.Code = code
			try.CreatedAt, try.UpdatedAt = now, now
			return try
		})
		if err != nil {
			return err
		}
		if !inserted { // a replay: what the first call stored
			*a = try
			return nil
		}
		if err := writeAudit(tx, now, actor, AuditCreate, EntityAction, try.ID, try.Code); err != nil {
			return err
		}
		if err := noticeActionSubmitted(tx, now, try, place); err != nil {
			return err
		}
		*a = try
		return nil
	})
	if err != nil {
		return fmt.Errorf("models: create action: %w", err)
	}
	return nil
}

// actionByID returns the action, or ENOTFOUND.
func actionByID(tx *gorm.DB, id uint) (Action, error) {
	var a Action
	if err := tx.Take(&a, id).Error; notFound(err) {
		return Action{}, Errorf(ENOTFOUND, "action %d not found", id)
	} else if err != nil {
		return Action{}, err
	}
	return a, nil
}

// AddActionUpdate adds an entry to an action's timeline and sets the
// action's Progress to u.Progress, with an audit entry, in one transaction;
// u gets its ID and At. It is idempotent on u.Key: when an update with that
// Key exists, *u is filled from it and nil is returned. Returns EINVALID
// when Key, ActionID or PersonID is missing, Progress is out of 0–100, or a
// photo id is not valid; ENOTFOUND when the action does not exist;
// EFORBIDDEN when the person is not an active member of the action's
// council; ECONFLICT when the action was rejected.
func (s *Store) AddActionUpdate(ctx context.Context, actor Actor, u *ActionUpdate) error {
	switch {
	case u == nil || strings.TrimSpace(u.Key) == "":
		return fmt.Errorf("models: add action update: %w", Errorf(EINVALID, "گزارش پیشرفت شناسه ندارد."))
	case u.ActionID == 0 || u.PersonID == 0:
		return fmt.Errorf("models: add action update: %w", Errorf(EINVALID, "اقدام یا گزارش‌دهنده مشخص نیست."))
	case u.Progress < 0 || u.Progress > 100:
		return fmt.Errorf("models: add action update: %w", Errorf(EINVALID, "درصد پیشرفت باید بین ۰ تا ۱۰۰ باشد."))
	case !validList(u.Photos):
		return fmt.Errorf("models: add action update: %w", Errorf(EINVALID, "شناسه عکس معتبر نیست."))
	}
	row := *u
	row.ID, row.Note = 0, persian.Normalize(u.Note)

	err := s.transact(ctx, func(tx *gorm.DB) error {
		if found, ok, err := byKey[ActionUpdate](tx, row.Key); err != nil || ok {
			if ok {
				*u = found
			}
			return err
		}
		a, err := actionByID(tx, row.ActionID)
		if err != nil {
			return err
		}
		if err := requireActiveMember(tx, row.PersonID, a.CouncilID); err != nil {
			return err
		}
		if a.Status == ActionRejected {
			return Errorf(ECONFLICT, "این اقدام رد شده است و گزارش پیشرفت نمی‌پذیرد.")
		}
		now := s.now()
		try := row
		try.At = now
		if err := tx.Create(&try).Error; err != nil {
			return err
		}
		if err := tx.Model(&Action{}).Where("id = ?", a.ID).
			Updates(map[string]any{"progress": try.Progress, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := writeAudit(tx, now, actor, AuditUpdate, EntityAction, a.ID, fmt.Sprintf("update %d: progress %d%%", try.ID, try.Progress)); err != nil {
			return err
		}
		*u = try
		return nil
	})
	if err != nil {
		return fmt.Errorf("models: add action update: %w", err)
	}
	return nil
}

// EditAction replaces the editable fields of the stored action a.ID with
// those of *a — CommitteeID, Programmes, Title, Description, Date, Lat, Lon,
// Photos, Beneficiaries, Cost, CostUnit, Partners — and fills *a with the
// stored row. An edit that changes nothing writes nothing. Editing an
// action whose changes were requested submits it again (Status
// "submitted", an audit entry and a notice to the county's coordinators). The audit entry
// of the edit names the changed fields. Returns ENOTFOUND when there is no
// such action; ECONFLICT when it has been verified or rejected; EINVALID as
// [Store.CreateAction] does for the edited fields.
func (s *Store) EditAction(ctx context.Context, actor Actor, a *Action) error {
	if a == nil {
		return fmt.Errorf("models: edit action: %w", Errorf(EINVALID, "nil action"))
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		old, err := actionByID(tx, a.ID)
		if err != nil {
			return err
		}
		if old.Status != ActionSubmitted && old.Status != ActionChangesRequested {
			return Errorf(ECONFLICT, "این اقدام بررسی شده است و دیگر ویرایش نمی‌شود.")
		}
		row := old
		row.CommitteeID, row.Programmes = a.CommitteeID, slices.Clone(a.Programmes)
		row.Title, row.Description, row.Date = a.Title, a.Description, a.Date.UTC().Truncate(time.Second)
		row.Lat, row.Lon, row.Photos = a.Lat, a.Lon, slices.Clone(a.Photos)
		row.Beneficiaries, row.Cost, row.CostUnit, row.Partners = a.Beneficiaries, a.Cost, a.CostUnit, a.Partners
		if err := cleanAction(&row); err != nil {
			return err
		}
		if _, err := checkActionRefs(tx, &row); err != nil {
			return err
		}
		changed := changedFields(old, row)
		if len(changed) == 0 {
			*a = old
			return nil
		}
		now := s.now()
		row.UpdatedAt = now
		resubmit := old.Status == ActionChangesRequested
		if resubmit {
			row.Status = ActionSubmitted
		}
		err = tx.Model(&Action{}).Where("id = ?", row.ID).Select(
			"committee_id", "programmes", "title", "description", "date", "lat", "lon", "photos",
			"beneficiaries", "cost", "cost_unit", "partners", "status", "updated_at",
		).Updates(&row).Error
		if err != nil {
			return err
		}
		if err := writeAudit(tx, now, actor, AuditEdit, EntityAction, row.ID, strings.Join(changed, ",")); err != nil {
			return err
		}
		if resubmit {
			if err := writeAudit(tx, now, actor, AuditStatus, EntityAction, row.ID, old.Status+" -> "+row.Status); err != nil {
				return err
			}
			place, err := placeOf(tx, row.PlaceID)
			if err != nil {
				return err
			}
			if err := noticeActionSubmitted(tx, now, row, place); err != nil {
				return err
			}
		}
		*a = row
		return nil
	})
	if err != nil {
		return fmt.Errorf("models: edit action: %w", err)
	}
	return nil
}

// changedFields names the editable fields that differ between a and b.
func changedFields(a, b Action) []string {
	var fs []string
	add := func(differ bool, name string) {
		if differ {
			fs = append(fs, name)
		}
	}
	add(a.CommitteeID != b.CommitteeID, "committee")
	add(!slices.Equal(a.Programmes, b.Programmes), "programmes")
	add(a.Title != b.Title, "title")
	add(a.Description != b.Description, "description")
	add(!a.Date.Equal(b.Date), "date")
	add(!equalPtr(a.Lat, b.Lat) || !equalPtr(a.Lon, b.Lon), "location")
	add(!slices.Equal(a.Photos, b.Photos), "photos")
	add(!equalPtr(a.Beneficiaries, b.Beneficiaries), "beneficiaries")
	add(!equalPtr(a.Cost, b.Cost) || a.CostUnit != b.CostUnit, "cost")
	add(a.Partners != b.Partners, "partners")
	return fs
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// actionTransitions lists the statuses each status may move to.
var actionTransitions = map[string][]string{
	ActionSubmitted:        {ActionVerified, ActionRejected, ActionChangesRequested},
	ActionChangesRequested: {ActionSubmitted, ActionVerified, ActionRejected},
}

// SetActionStatus moves an action to status, as a coordinator reviewing it
// does, keeping note (normalised) as its ReviewNote, with an audit entry,
// and returns the stored action. Setting the status it already has changes
// nothing, so a repeated tap is harmless. A submitted action may be
// verified, rejected or sent back for changes; one sent back may also be
// submitted again, which alerts the county again. A decision is sent to
// the reporter as an urgent notice, in the same transaction.
// Returns EINVALID for an unknown status, ENOTFOUND when
// there is no such action, and ECONFLICT when the move is not allowed (a
// verified or rejected action is final).
func (s *Store) SetActionStatus(ctx context.Context, actor Actor, id uint, status, note string) (Action, error) {
	switch status {
	case ActionSubmitted, ActionVerified, ActionRejected, ActionChangesRequested:
	default:
		return Action{}, fmt.Errorf("models: set action status: %w", Errorf(EINVALID, "وضعیت اقدام معتبر نیست."))
	}
	var a Action
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if a, err = actionByID(tx, id); err != nil {
			return err
		}
		if a.Status == status {
			return nil
		}
		if !slices.Contains(actionTransitions[a.Status], status) {
			return Errorf(ECONFLICT, "وضعیت این اقدام دیگر تغییر نمی‌کند.")
		}
		now := s.now()
		old := a.Status
		a.Status, a.ReviewNote, a.UpdatedAt = status, persian.Normalize(note), now
		if err := tx.Model(&Action{}).Where("id = ?", id).
			Updates(map[string]any{"status": a.Status, "review_note": a.ReviewNote, "updated_at": now}).Error; err != nil {
			return err
		}
		detail := old + " -> " + status
		if a.ReviewNote != "" {
			detail += ": " + a.ReviewNote
		}
		if err := writeAudit(tx, now, actor, AuditStatus, EntityAction, id, detail); err != nil {
			return err
		}
		if status != ActionSubmitted {
			return noticeActionDecision(tx, now, a)
		}
		place, err := placeOf(tx, a.PlaceID)
		if err != nil {
			return err
		}
		return noticeActionSubmitted(tx, now, a, place)
	})
	if err != nil {
		return Action{}, fmt.Errorf("models: set action %d status: %w", id, err)
	}
	return a, nil
}

// ActionsByCouncil returns a page of a council's actions, newest first:
// limit actions after skipping offset. limit <= 0 means 20; it is capped at
// 100.
func (s *Store) ActionsByCouncil(ctx context.Context, councilID uint, offset, limit int) ([]Action, error) {
	if limit <= 0 {
		limit = defaultPageSize
	}
	as := []Action{}
	// By id, not created_at: SQLite keeps times as RFC 3339 text, whose
	// order is wrong within a second.
	err := s.db.WithContext(ctx).Where("council_id = ?", councilID).
		Order("id DESC").
		Offset(max(offset, 0)).Limit(min(limit, maxPageSize)).Find(&as).Error
	if err != nil {
		return nil, fmt.Errorf("models: actions by council: %w", err)
	}
	return as, nil
}

// Action returns the action with the given id and its timeline, oldest
// entry first. Returns ENOTFOUND when there is no such action.
func (s *Store) Action(ctx context.Context, id uint) (Action, []ActionUpdate, error) {
	db := s.db.WithContext(ctx)
	a, err := actionByID(db, id)
	if err != nil {
		return Action{}, nil, fmt.Errorf("models: action %d: %w", id, err)
	}
	us := []ActionUpdate{}
	if err := db.Where("action_id = ?", id).Order("id").Find(&us).Error; err != nil {
		return Action{}, nil, fmt.Errorf("models: action %d: %w", id, err)
	}
	return a, us, nil
}

// ActionByCode returns the action with the tracking code, compared
// case-insensitively; the "A-" prefix may be left out. Returns ENOTFOUND
// when there is none.
func (s *Store) ActionByCode(ctx context.Context, code string) (Action, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if !strings.HasPrefix(c, "A-") {
		c = "A-" + c
	}
	var a Action
	err := s.db.WithContext(ctx).Where("code = ?", c).Take(&a).Error
	if notFound(err) {
		return Action{}, fmt.Errorf("models: action by code: %w", Errorf(ENOTFOUND, "action %q not found", code))
	} else if err != nil {
		return Action{}, fmt.Errorf("models: action by code: %w", err)
	}
	return a, nil
}

// ActionByKey returns the action stored under an idempotency key (the run
// of the report that made it). Returns ENOTFOUND when there is none: the run
// was not stored.
func (s *Store) ActionByKey(ctx context.Context, key string) (Action, error) {
	a, ok, err := byKey[Action](s.db.WithContext(ctx), key)
	if err != nil {
		return Action{}, fmt.Errorf("models: action by key: %w", err)
	}
	if !ok {
		return Action{}, fmt.Errorf("models: action by key: %w", Errorf(ENOTFOUND, "no action under key %q", key))
	}
	return a, nil
}

// ActionUpdateByKey returns the update stored under an idempotency key.
// Returns ENOTFOUND when there is none.
func (s *Store) ActionUpdateByKey(ctx context.Context, key string) (ActionUpdate, error) {
	u, ok, err := byKey[ActionUpdate](s.db.WithContext(ctx), key)
	if err != nil {
		return ActionUpdate{}, fmt.Errorf("models: action update by key: %w", err)
	}
	if !ok {
		return ActionUpdate{}, fmt.Errorf("models: action update by key: %w", Errorf(ENOTFOUND, "no update under key %q", key))
	}
	return u, nil
}
