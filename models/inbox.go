package models

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/mahalle/mahalle/persian"
)

// More suggestion statuses: besides the usual path new → seen → in
// progress → answered → closed, a council may say a suggestion is not
// theirs (it goes to the county), a resident may reopen an answer that did
// not solve the problem, or withdraw a suggestion nobody answered yet.
const (
	StatusForwarded = "forwarded"
	StatusReopened  = "reopened"
	StatusWithdrawn = "withdrawn"
)

// SuggestionOpen reports whether a suggestion in status still waits for
// the council.
func SuggestionOpen(status string) bool {
	switch status {
	case StatusNew, StatusSeen, StatusInProgress, StatusReopened, StatusForwarded:
		return true
	}
	return false
}

// Suggestion event kinds.
const (
	EventStatus   = "status"
	EventAnswer   = "answer"
	EventAssign   = "assign"
	EventReopen   = "reopen"
	EventResolved = "resolved"
	EventWithdraw = "withdraw"
)

// SuggestionEvent is one entry of a suggestion's history: a status change,
// an answer, an assignment to a committee, or what the resident said. ByRole
// names who did it as a role («دبیر شورا»), never by name.
type SuggestionEvent struct {
	ID           uint
	SuggestionID uint
	At           time.Time
	Kind         string // EventStatus, EventAnswer, …
	Status       string // the status after the event
	Text         string
	Photo        string
	ActionID     *uint // an action of the council the answer points to
	ByRole       string
	ByPersonID   *uint
}

// TableName pins the table name for GORM.
func (SuggestionEvent) TableName() string { return "suggestion_events" }

// SuggestionView is a suggestion as a council member or coordinator sees it:
// never who sent an anonymous one, and never the sender's account.
type SuggestionView struct {
	ID            uint
	Code          string
	PlaceID       uint
	PlaceName     string
	CouncilID     uint
	CountyID      uint
	CountyName    string
	ProvinceID    uint
	CommitteeID   uint
	CommitteeName string
	Text          string
	VoiceFileID   string
	PhotoFileIDs  StringList
	Lat, Lon      *float64
	Anonymous     bool
	SenderName    string // empty when Anonymous
	Status        string
	CreatedAt     time.Time
	ClockSince    time.Time
}

func suggestionViews(db *gorm.DB) *gorm.DB {
	return db.Table("suggestions").
		Select(`suggestions.id, suggestions.code, suggestions.place_id, places.name AS place_name,
			COALESCE(councils.id, 0) AS council_id,
			counties.id AS county_id, counties.name AS county_name, counties.province_id AS province_id,
			suggestions.committee_id, COALESCE(committees.name, '') AS committee_name,
			suggestions.text, suggestions.voice_file_id, suggestions.photo_file_ids, suggestions.lat, suggestions.lon,
			suggestions.anonymous, CASE WHEN suggestions.anonymous THEN '' ELSE suggestions.sender_name END AS sender_name,
			suggestions.status, suggestions.created_at, suggestions.clock_since`).
		Joins("JOIN places ON places.id = suggestions.place_id").
		Joins("JOIN counties ON counties.id = places.county_id").
		Joins("LEFT JOIN councils ON councils.place_id = places.id").
		Joins("LEFT JOIN committees ON committees.id = suggestions.committee_id")
}

// mayHandle reports whether v may read and act on a suggestion: a member of
// its council, or a coordinator over its county.
func (v Viewer) mayHandle(sv SuggestionView) bool {
	_, seat := v.Seat(sv.CouncilID)
	return (seat && sv.CouncilID != 0) || v.Supervises(sv.ProvinceID, sv.CountyID)
}

// Inbox returns the open suggestions v handles, oldest first: those of the
// councils v sits on, and, for coordinators, every open one in scope that
// has no council to receive it or was forwarded to the county.
func (s *Store) Inbox(ctx context.Context, v Viewer, offset, limit int) ([]SuggestionView, int64, error) {
	q := suggestionViews(s.db.WithContext(ctx)).
		Where("suggestions.status IN ?", []string{StatusNew, StatusSeen, StatusInProgress, StatusReopened, StatusForwarded}).
		Where("suggestions.muted = ?", false)
	var councils []uint
	for _, m := range v.Memberships {
		councils = append(councils, m.CouncilID)
	}
	where, args, staff := v.scopeFilter("counties.id", "counties.province_id")
	switch {
	case staff && len(councils) > 0:
		q = q.Where("(councils.id IN ? OR ("+where+"))", append([]any{councils}, args...)...)
	case staff:
		q = q.Where(where, args...)
	case len(councils) > 0:
		q = q.Where("councils.id IN ?", councils)
	default:
		return []SuggestionView{}, 0, nil
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("models: inbox: %w", err)
	}
	if limit <= 0 {
		limit = defaultPageSize
	}
	out := []SuggestionView{}
	if err := q.Order("suggestions.id").Offset(max(offset, 0)).Limit(min(limit, maxPageSize)).Scan(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("models: inbox: %w", err)
	}
	return out, total, nil
}

// SuggestionFor returns suggestion id with its history, as v may see it.
// Returns ENOTFOUND when there is none and EFORBIDDEN out of v's scope.
func (s *Store) SuggestionFor(ctx context.Context, v Viewer, id uint) (SuggestionView, []SuggestionEvent, error) {
	db := s.db.WithContext(ctx)
	sv, err := suggestionView(db, id)
	if err != nil {
		return SuggestionView{}, nil, fmt.Errorf("models: suggestion %d: %w", id, err)
	}
	if !v.mayHandle(sv) {
		return SuggestionView{}, nil, fmt.Errorf("models: suggestion %d: %w", id, Errorf(EFORBIDDEN, "این پیشنهاد در حوزهٔ شما نیست."))
	}
	evs, err := suggestionEvents(db, id)
	if err != nil {
		return SuggestionView{}, nil, fmt.Errorf("models: suggestion %d: %w", id, err)
	}
	return sv, evs, nil
}

func suggestionView(db *gorm.DB, id uint) (SuggestionView, error) {
	var sv SuggestionView
	res := suggestionViews(db).Where("suggestions.id = ?", id).Limit(1).Scan(&sv)
	if res.Error != nil {
		return SuggestionView{}, res.Error
	}
	if res.RowsAffected == 0 {
		return SuggestionView{}, Errorf(ENOTFOUND, "suggestion %d not found", id)
	}
	return sv, nil
}

func suggestionEvents(db *gorm.DB, id uint) ([]SuggestionEvent, error) {
	evs := []SuggestionEvent{}
	err := db.Where("suggestion_id = ?", id).Order("id").Find(&evs).Error
	return evs, err
}

// roleOf names what v is to the suggestion's council, for its history.
func (v Viewer) roleOf(councilID uint) string {
	if m, ok := v.Seat(councilID); ok {
		return PositionName(m.Position) + " شورا"
	}
	for _, s := range v.Staff {
		switch s.Role {
		case RoleCounty:
			return "هماهنگ‌کنندهٔ شهرستان"
		case RoleProvince:
			return "هماهنگ‌کنندهٔ استان"
		}
	}
	return "مدیر سامانه"
}

// SuggestionChange is what a council member or coordinator does to a
// suggestion: a new status, an answer (text, an optional photo, an optional
// action of the council), or an assignment to a committee.
type SuggestionChange struct {
	Status      string // StatusSeen, StatusInProgress, StatusAnswered, StatusClosed, StatusForwarded; "" with Answer
	Answer      string
	Photo       string
	ActionID    *uint
	CommitteeID uint // assign to this committee (chair or secretary only)
}

// statusTransitions lists where a council may move a suggestion from each
// status. StatusAnswered is reached by answering.
var statusTransitions = map[string][]string{
	StatusNew:        {StatusSeen, StatusInProgress, StatusClosed, StatusForwarded},
	StatusSeen:       {StatusInProgress, StatusClosed, StatusForwarded},
	StatusInProgress: {StatusClosed, StatusForwarded},
	StatusReopened:   {StatusSeen, StatusInProgress, StatusClosed, StatusForwarded},
	StatusForwarded:  {StatusSeen, StatusInProgress, StatusClosed},
	StatusAnswered:   {StatusClosed},
}

// StatusLabel is how a suggestion status reads in Persian.
func StatusLabel(status string) string {
	switch status {
	case StatusNew:
		return "ثبت شده، در انتظار بررسی"
	case StatusSeen:
		return "دیده شده توسط شورا"
	case StatusInProgress:
		return "در دست پیگیری"
	case StatusAnswered:
		return "پاسخ داده شده"
	case StatusClosed:
		return "بسته شده"
	case StatusForwarded:
		return "فرستاده شده به هماهنگ‌کنندهٔ شهرستان"
	case StatusReopened:
		return "دوباره باز شده (حل نشده)"
	case StatusWithdrawn:
		return "پس گرفته شده"
	}
	return "نامشخص"
}

// ChangeSuggestion applies ch to suggestion id as v, records it in the
// history, and tells the resident through the outbox. Returns EFORBIDDEN
// out of scope (and for an assignment by anyone but the chair or secretary,
// or a coordinator), ECONFLICT for a move the status does not allow,
// EINVALID for an answer of the wrong length.
func (s *Store) ChangeSuggestion(ctx context.Context, v Viewer, id uint, ch SuggestionChange) (SuggestionView, error) {
	answer := strings.TrimSpace(persian.Normalize(ch.Answer))
	if ch.Status == "" && ch.CommitteeID == 0 {
		if n := utf8.RuneCountInString(answer); n < 2 || n > 2000 {
			return SuggestionView{}, fmt.Errorf("models: change suggestion: %w", Errorf(EINVALID, "پاسخ باید دست‌کم ۲ و حداکثر ۲۰۰۰ حرف باشد."))
		}
	}
	var sv SuggestionView
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if sv, err = suggestionView(tx, id); err != nil {
			return err
		}
		if !v.mayHandle(sv) {
			return Errorf(EFORBIDDEN, "این پیشنهاد در حوزهٔ شما نیست.")
		}
		var sg Suggestion
		if err := tx.Take(&sg, id).Error; err != nil {
			return err
		}
		now := s.now()
		ev := SuggestionEvent{SuggestionID: id, At: now, ByRole: v.roleOf(sv.CouncilID), Status: sv.Status}
		if v.PersonID != 0 {
			pid := v.PersonID
			ev.ByPersonID = &pid
		}
		updates := map[string]any{"updated_at": now}
		var notice string
		var buttons ButtonList
		switch {
		case ch.CommitteeID != 0:
			if !v.Leads(sv.CouncilID) && !v.Supervises(sv.ProvinceID, sv.CountyID) {
				return Errorf(EFORBIDDEN, "فقط رئیس یا دبیر شورا پیشنهاد را به کارگروه می‌سپارد.")
			}
			if err := committeeAllowed(tx, ch.CommitteeID, sv.ProvinceID); err != nil {
				return err
			}
			ev.Kind = EventAssign
			updates["committee_id"] = ch.CommitteeID
			if err := s.onSuggestionAssigned(tx, now, sv, ch.CommitteeID); err != nil {
				return err
			}
		case ch.Status != "":
			if !contains(statusTransitions[sv.Status], ch.Status) {
				return Errorf(ECONFLICT, "پیشنهاد در وضعیت «%s» است و به «%s» نمی‌رود.", StatusLabel(sv.Status), StatusLabel(ch.Status))
			}
			ev.Kind, ev.Status = EventStatus, ch.Status
			updates["status"] = ch.Status
			notice = fmt.Sprintf("وضعیت پیشنهاد شما (کد %s) تغییر کرد: %s", sg.Code, StatusLabel(ch.Status))
			if ch.Status == StatusForwarded {
				if err := s.onSuggestionForwarded(tx, now, sv); err != nil {
					return err
				}
			}
		default:
			if sv.Status == StatusClosed || sv.Status == StatusWithdrawn {
				return Errorf(ECONFLICT, "این پیشنهاد بسته شده است و پاسخ تازه نمی‌گیرد.")
			}
			if ch.ActionID != nil {
				var a Action
				if err := tx.Take(&a, *ch.ActionID).Error; notFound(err) || (err == nil && a.CouncilID != sv.CouncilID) {
					return Errorf(EINVALID, "این اقدام از اقدام‌های همین شورا نیست.")
				} else if err != nil {
					return err
				}
			}
			ev.Kind, ev.Status, ev.Text, ev.Photo, ev.ActionID = EventAnswer, StatusAnswered, answer, ch.Photo, ch.ActionID
			updates["status"], updates["answered_at"] = StatusAnswered, now
			notice = fmt.Sprintf("پاسخ شورا به پیشنهاد شما (کد %s):\n%s\n\nمشکل حل شد؟", sg.Code, answer)
			buttons = ButtonList{
				{Label: "بله، حل شد", Data: "resolve:" + sg.Code + ":yes"},
				{Label: "نه، حل نشد", Data: "resolve:" + sg.Code + ":no"},
			}
		}
		if err := tx.Model(&Suggestion{}).Where("id = ?", id).Updates(updates).Error; err != nil {
			return err
		}
		if err := tx.Create(&ev).Error; err != nil {
			return err
		}
		if st, ok := updates["status"].(string); ok {
			sv.Status = st
		}
		if c, ok := updates["committee_id"].(uint); ok {
			sv.CommitteeID = c
		}
		if err := writeAudit(tx, now, v.actor(), AuditStatus, EntitySuggestion, id, ev.Kind+" -> "+ev.Status); err != nil {
			return err
		}
		if notice == "" {
			return nil
		}
		return s.suggestionNotice(tx, now, sg, ev.ID, KindSuggestionStatus, notice, false, buttons...)
	})
	if err != nil {
		return SuggestionView{}, fmt.Errorf("models: change suggestion %d: %w", id, err)
	}
	return sv, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ResidentSuggestion is a suggestion as its sender sees it.
type ResidentSuggestion struct {
	Suggestion
	PlaceName     string
	CommitteeName string
	LastChange    time.Time
}

// MySuggestions returns the suggestions sent from a platform account,
// newest first, and how many there are.
func (s *Store) MySuggestions(ctx context.Context, platform string, userID int64, offset, limit int) ([]ResidentSuggestion, int64, error) {
	db := s.db.WithContext(ctx)
	q := db.Table("suggestions").Where("suggestions.platform = ? AND suggestions.user_id = ?", platform, userID)
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("models: my suggestions: %w", err)
	}
	if limit <= 0 {
		limit = defaultPageSize
	}
	out := []ResidentSuggestion{}
	err := q.Select(`suggestions.*, places.name AS place_name, COALESCE(committees.name, '') AS committee_name, suggestions.updated_at AS last_change`).
		Joins("JOIN places ON places.id = suggestions.place_id").
		Joins("LEFT JOIN committees ON committees.id = suggestions.committee_id").
		Order("suggestions.id DESC").Offset(max(offset, 0)).Limit(min(limit, maxPageSize)).Scan(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("models: my suggestions: %w", err)
	}
	return out, total, nil
}

// SuggestionHistory returns the history of suggestion id, oldest first.
func (s *Store) SuggestionHistory(ctx context.Context, id uint) ([]SuggestionEvent, error) {
	evs, err := suggestionEvents(s.db.WithContext(ctx), id)
	if err != nil {
		return nil, fmt.Errorf("models: suggestion history %d: %w", id, err)
	}
	return evs, nil
}

// ownSuggestion loads suggestion id for its sender, or ENOTFOUND (also when
// someone else sent it: a resident cannot probe for others' suggestions).
func ownSuggestion(tx *gorm.DB, platform string, userID int64, id uint) (Suggestion, error) {
	var sg Suggestion
	err := tx.Where("id = ? AND platform = ? AND user_id = ?", id, platform, userID).Take(&sg).Error
	if notFound(err) {
		return Suggestion{}, Errorf(ENOTFOUND, "این پیشنهاد پیدا نشد.")
	}
	return sg, err
}

// ResolveSuggestion records the sender's answer to «مشکل حل شد؟» on an
// answered suggestion: solved closes it; not solved reopens it with note,
// which goes back to the council, and starts the escalation clock again.
// Returns ENOTFOUND when it is not theirs, ECONFLICT when it is not
// answered, EINVALID for a note of the wrong length.
func (s *Store) ResolveSuggestion(ctx context.Context, platform string, userID int64, id uint, solved bool, note string) (Suggestion, error) {
	note = strings.TrimSpace(persian.Normalize(note))
	if !solved && utf8.RuneCountInString(note) > 1000 {
		return Suggestion{}, fmt.Errorf("models: resolve suggestion: %w", Errorf(EINVALID, "یادداشت حداکثر ۱۰۰۰ حرف است."))
	}
	var sg Suggestion
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if sg, err = ownSuggestion(tx, platform, userID, id); err != nil {
			return err
		}
		if sg.Status != StatusAnswered {
			return Errorf(ECONFLICT, "این پیشنهاد اکنون در وضعیت «%s» است.", StatusLabel(sg.Status))
		}
		now := s.now()
		status, kind := StatusClosed, EventResolved
		updates := map[string]any{"updated_at": now}
		if !solved {
			status, kind = StatusReopened, EventReopen
			updates["clock_since"], updates["escalated"] = now, 0
		}
		updates["status"] = status
		if err := tx.Model(&Suggestion{}).Where("id = ?", id).Updates(updates).Error; err != nil {
			return err
		}
		sg.Status = status
		if err := tx.Create(&SuggestionEvent{SuggestionID: id, At: now, Kind: kind, Status: status, Text: note, ByRole: "فرستنده"}).Error; err != nil {
			return err
		}
		if err := writeAudit(tx, now, Actor{Platform: platform, UserID: userID}, AuditStatus, EntitySuggestion, id, StatusAnswered+" -> "+status); err != nil {
			return err
		}
		if solved {
			return nil
		}
		return s.onSuggestionReopened(tx, now, sg, note)
	})
	if err != nil {
		return Suggestion{}, fmt.Errorf("models: resolve suggestion %d: %w", id, err)
	}
	return sg, nil
}

// WithdrawSuggestion lets the sender take back a suggestion nobody has
// answered yet. Returns ENOTFOUND when it is not theirs, ECONFLICT once
// it is answered or closed.
func (s *Store) WithdrawSuggestion(ctx context.Context, platform string, userID int64, id uint) (Suggestion, error) {
	var sg Suggestion
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if sg, err = ownSuggestion(tx, platform, userID, id); err != nil {
			return err
		}
		if sg.Status == StatusWithdrawn {
			return nil
		}
		if !SuggestionOpen(sg.Status) {
			return Errorf(ECONFLICT, "این پیشنهاد پاسخ گرفته یا بسته شده است و دیگر پس گرفته نمی‌شود.")
		}
		now := s.now()
		if err := tx.Model(&Suggestion{}).Where("id = ?", id).Updates(map[string]any{"status": StatusWithdrawn, "updated_at": now}).Error; err != nil {
			return err
		}
		sg.Status = StatusWithdrawn
		if err := tx.Create(&SuggestionEvent{SuggestionID: id, At: now, Kind: EventWithdraw, Status: StatusWithdrawn, ByRole: "فرستنده"}).Error; err != nil {
			return err
		}
		return writeAudit(tx, now, Actor{Platform: platform, UserID: userID}, AuditStatus, EntitySuggestion, id, "-> "+StatusWithdrawn)
	})
	if err != nil {
		return Suggestion{}, fmt.Errorf("models: withdraw suggestion %d: %w", id, err)
	}
	return sg, nil
}
