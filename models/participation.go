package models

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/mahalle/mahalle/persian"
)

// Comment is a resident's comment on a verified action. A coordinator in
// scope may hide it, with a reason.
type Comment struct {
	ID           uint
	Key          string `gorm:"column:idempotency_key"` // unique: a replay adds nothing
	ActionID     uint
	Platform     string
	UserID       int64
	Text         string
	Hidden       bool
	HiddenReason string
	HiddenBy     *uint
	CreatedAt    time.Time
}

// TableName pins the table name for GORM.
func (Comment) TableName() string { return "comments" }

// Confirmation answers.
const (
	ConfirmYes    = "yes"
	ConfirmPartly = "partly"
	ConfirmNo     = "no"
)

// Confirmation is a resident's word that a verified action happened: yes,
// partly or no, with an optional photo. One per action and account; a new
// answer replaces the old.
type Confirmation struct {
	ID        uint
	ActionID  uint
	Platform  string
	UserID    int64
	Answer    string
	Photo     string
	CreatedAt time.Time
	UpdatedAt time.Time

	// Reach is whom a «no» with a photo went to (the coordinator chain),
	// set by Confirm for the resident's reply; not stored. ReachUnknown
	// for any other answer.
	Reach Reach `gorm:"-"`
}

// TableName pins the table name for GORM.
func (Confirmation) TableName() string { return "confirmations" }

// Subscription is a resident following a place: at most one digest a day
// of its newly verified actions.
type Subscription struct {
	ID           uint
	Platform     string
	UserID       int64
	PlaceID      uint
	CreatedAt    time.Time
	LastDigestAt time.Time // actions verified after this go in the next digest
}

// TableName pins the table name for GORM.
func (Subscription) TableName() string { return "subscriptions" }

// Mute marks an account whose submissions are kept but not routed to anyone.
type Mute struct {
	ID        uint
	Platform  string
	UserID    int64
	Reason    string
	ByPerson  uint
	CreatedAt time.Time
}

// TableName pins the table name for GORM.
func (Mute) TableName() string { return "mutes" }

// HomePlace is the place a resident chose as «محلهٔ من».
type HomePlace struct {
	ID        uint
	Platform  string
	UserID    int64
	PlaceID   uint
	UpdatedAt time.Time
}

// TableName pins the table name for GORM.
func (HomePlace) TableName() string { return "home_places" }

// Submission limits per account.
const (
	SubmissionsPerHour = 5
	SubmissionsPerDay  = 20
)

// SubmissionAllowed reports whether the account may send another
// suggestion, comment or confirmation now, and if not, from when it may:
// at most SubmissionsPerHour in an hour and SubmissionsPerDay in a day.
func (s *Store) SubmissionAllowed(ctx context.Context, platform string, userID int64) (bool, time.Time, error) {
	ok, until, err := submissionAllowed(s.db.WithContext(ctx), s.now(), platform, userID)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("models: submission allowed: %w", err)
	}
	return ok, until, nil
}

// LimitedError is what storing a submission past the limits returns (see
// SubmissionAllowed): the account may send again from Until.
type LimitedError struct{ Until time.Time }

func (e *LimitedError) Error() string {
	return "models: submission limit reached; allowed again from " + e.Until.Format(time.RFC3339)
}

// recentSubmissions is the query of an account's submissions of the last
// day (their created_at), the three kinds in one.
func recentSubmissions(now time.Time, platform string, userID int64) (string, []any) {
	day := now.Add(-24 * time.Hour)
	const one = "SELECT created_at FROM %s WHERE platform = ? AND user_id = ? AND created_at > ?"
	return fmt.Sprintf(one+" UNION ALL "+one+" UNION ALL "+one, "suggestions", "comments", "confirmations"),
		[]any{platform, userID, day, platform, userID, day, platform, userID, day}
}

// submissionAllowed is SubmissionAllowed in tx.
func submissionAllowed(tx *gorm.DB, now time.Time, platform string, userID int64) (bool, time.Time, error) {
	// One round trip for the three kinds of submission.
	var times []time.Time
	q, args := recentSubmissions(now, platform, userID)
	if err := tx.Raw(q, args...).Find(&times).Error; err != nil {
		return false, time.Time{}, err
	}
	var inHour []time.Time
	oldestDay := now
	for _, t := range times {
		if t.After(now.Add(-time.Hour)) {
			inHour = append(inHour, t)
		}
		if t.Before(oldestDay) {
			oldestDay = t
		}
	}
	if len(times) >= SubmissionsPerDay {
		return false, oldestDay.Add(24 * time.Hour), nil
	}
	if len(inHour) >= SubmissionsPerHour {
		oldest := now
		for _, t := range inHour {
			if t.Before(oldest) {
				oldest = t
			}
		}
		return false, oldest.Add(time.Hour), nil
	}
	return true, time.Time{}, nil
}

// verifiedAction loads action id if residents may see it (verified).
func verifiedAction(tx *gorm.DB, id uint) (Action, error) {
	a, err := actionByID(tx, id)
	if err != nil {
		return Action{}, err
	}
	if a.Status != ActionVerified {
		return Action{}, Errorf(ENOTFOUND, "این اقدام هنوز تأیید نشده است.")
	}
	return a, nil
}

// AddComment adds a resident's comment (2–1000 characters) to a verified
// action; the same key adds nothing a second time. Returns ENOTFOUND for an
// action residents may not see, EINVALID for a bad length.
func (s *Store) AddComment(ctx context.Context, c *Comment) error {
	c.Text = strings.TrimSpace(persian.Normalize(c.Text))
	if n := utf8.RuneCountInString(c.Text); n < 2 || n > 1000 {
		return fmt.Errorf("models: add comment: %w", Errorf(EINVALID, "نظر باید دست‌کم ۲ و حداکثر ۱۰۰۰ حرف باشد."))
	}
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var old Comment
		if res := tx.Where("idempotency_key = ?", c.Key).Limit(1).Find(&old); res.Error != nil {
			return res.Error
		} else if res.RowsAffected > 0 {
			*c = old
			return nil
		}
		if _, err := verifiedAction(tx, c.ActionID); err != nil {
			return err
		}
		c.ID, c.CreatedAt, c.Hidden = 0, s.now(), false
		return tx.Create(c).Error
	})
	if err != nil {
		return fmt.Errorf("models: add comment: %w", err)
	}
	return nil
}

// Comments returns the visible comments on an action, newest first.
func (s *Store) Comments(ctx context.Context, actionID uint, limit int) ([]Comment, error) {
	if limit <= 0 {
		limit = defaultPageSize
	}
	cs := []Comment{}
	err := s.db.WithContext(ctx).Where("action_id = ? AND hidden = ?", actionID, false).Order("id DESC").Limit(min(limit, maxPageSize)).Find(&cs).Error
	if err != nil {
		return nil, fmt.Errorf("models: comments: %w", err)
	}
	return cs, nil
}

// HideComment hides a comment on an action in v's scope, with a reason,
// audited. Returns EFORBIDDEN out of scope, ENOTFOUND when there is none.
func (s *Store) HideComment(ctx context.Context, v Viewer, id uint, reason string) error {
	r, err := cleanReason(reason)
	if err != nil {
		return fmt.Errorf("models: hide comment: %w", err)
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var c Comment
		if err := tx.Take(&c, id).Error; notFound(err) {
			return Errorf(ENOTFOUND, "comment %d not found", id)
		} else if err != nil {
			return err
		}
		var av ActionView
		if err := actionViews(tx).Where("actions.id = ?", c.ActionID).Limit(1).Scan(&av).Error; err != nil {
			return err
		}
		if !v.Supervises(av.ProvinceID, av.CountyID) {
			return Errorf(EFORBIDDEN, "این نظر در حوزهٔ شما نیست.")
		}
		pid := v.PersonID
		if err := tx.Model(&Comment{}).Where("id = ?", id).
			Updates(map[string]any{"hidden": true, "hidden_reason": r, "hidden_by": pid}).Error; err != nil {
			return err
		}
		return writeAudit(tx, s.now(), v.actor(), AuditStatus, EntityComment, id, "hidden: "+r)
	})
	if err != nil {
		return fmt.Errorf("models: hide comment %d: %w", id, err)
	}
	return nil
}

// EntityComment names comments in the audit log.
const EntityComment = "comment"

// Confirm records (or replaces) a resident's confirmation of a verified
// action. A «no» with a photo reaches the county's coordinators.
func (s *Store) Confirm(ctx context.Context, c *Confirmation) error {
	switch c.Answer {
	case ConfirmYes, ConfirmPartly, ConfirmNo:
	default:
		return fmt.Errorf("models: confirm: %w", Errorf(EINVALID, "پاسخ معتبر نیست."))
	}
	err := s.transact(ctx, func(tx *gorm.DB) error {
		a, err := verifiedAction(tx, c.ActionID)
		if err != nil {
			return err
		}
		now := s.now()
		c.CreatedAt, c.UpdatedAt = now, now
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "action_id"}, {Name: "platform"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"answer", "photo", "updated_at"}),
		}).Create(c).Error; err != nil {
			return err
		}
		if c.Answer != ConfirmNo || c.Photo == "" {
			return nil
		}
		m, err := muted(tx, c.Platform, c.UserID)
		if err != nil {
			return err
		}
		c.Reach, err = s.onConfirmationNo(tx, now, a, *c, m)
		return err
	})
	if err != nil {
		return fmt.Errorf("models: confirm: %w", err)
	}
	return nil
}

// ConfirmationCounts returns how many residents said yes, partly and no
// about an action.
type ConfirmationCounts struct{ Yes, Partly, No int64 }

// Confirmations counts the confirmations of the given actions.
func (s *Store) Confirmations(ctx context.Context, actionIDs []uint) (map[uint]ConfirmationCounts, error) {
	out := map[uint]ConfirmationCounts{}
	if len(actionIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		ActionID uint
		Answer   string
		N        int64
	}
	err := s.db.WithContext(ctx).Model(&Confirmation{}).Select("action_id, answer, COUNT(*) AS n").
		Where("action_id IN ?", actionIDs).Group("action_id, answer").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: confirmations: %w", err)
	}
	for _, r := range rows {
		c := out[r.ActionID]
		switch r.Answer {
		case ConfirmYes:
			c.Yes = r.N
		case ConfirmPartly:
			c.Partly = r.N
		case ConfirmNo:
			c.No = r.N
		}
		out[r.ActionID] = c
	}
	return out, nil
}

// Subscribe makes the account follow place; following twice changes nothing.
func (s *Store) Subscribe(ctx context.Context, platform string, userID int64, placeID uint) error {
	now := s.now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := exists(tx, &Place{}, placeID, "place"); err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&Subscription{Platform: platform, UserID: userID, PlaceID: placeID, CreatedAt: now, LastDigestAt: now}).Error
	})
	if err != nil {
		return fmt.Errorf("models: subscribe: %w", err)
	}
	return nil
}

// Unsubscribe stops the account following place; it is no error when it did not.
func (s *Store) Unsubscribe(ctx context.Context, platform string, userID int64, placeID uint) error {
	err := s.db.WithContext(ctx).Where("platform = ? AND user_id = ? AND place_id = ?", platform, userID, placeID).Delete(&Subscription{}).Error
	if err != nil {
		return fmt.Errorf("models: unsubscribe: %w", err)
	}
	return nil
}

// Subscribed reports whether the account follows place.
func (s *Store) Subscribed(ctx context.Context, platform string, userID int64, placeID uint) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Subscription{}).Where("platform = ? AND user_id = ? AND place_id = ?", platform, userID, placeID).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("models: subscribed: %w", err)
	}
	return n > 0, nil
}

// MuteAccount keeps what an account sends but routes none of it, as a
// coordinator decides, with a reason; audited. Only staff may mute.
func (s *Store) MuteAccount(ctx context.Context, v Viewer, platform string, userID int64, reason string) error {
	r, err := cleanReason(reason)
	if err != nil {
		return fmt.Errorf("models: mute: %w", err)
	}
	if !v.IsStaff() {
		return fmt.Errorf("models: mute: %w", Errorf(EFORBIDDEN, "فقط هماهنگ‌کنندگان می‌توانند کسی را بی‌صدا کنند."))
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now()
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&Mute{Platform: platform, UserID: userID, Reason: r, ByPerson: v.PersonID, CreatedAt: now}).Error; err != nil {
			return err
		}
		return writeAudit(tx, now, v.actor(), AuditStatus, EntityPerson, 0, fmt.Sprintf("mute %s:%d: %s", platform, userID, r))
	})
	if err != nil {
		return fmt.Errorf("models: mute: %w", err)
	}
	return nil
}

// muted reports whether the account's submissions are not routed.
func muted(tx *gorm.DB, platform string, userID int64) (bool, error) {
	var n int64
	err := tx.Model(&Mute{}).Where("platform = ? AND user_id = ?", platform, userID).Count(&n).Error
	return n > 0, err
}

// SetHomePlace remembers place as the account's «محلهٔ من».
func (s *Store) SetHomePlace(ctx context.Context, platform string, userID int64, placeID uint) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := exists(tx, &Place{}, placeID, "place"); err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "platform"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"place_id", "updated_at"}),
		}).Create(&HomePlace{Platform: platform, UserID: userID, PlaceID: placeID, UpdatedAt: s.now()}).Error
	})
	if err != nil {
		return fmt.Errorf("models: set home place: %w", err)
	}
	return nil
}

// HomePlace returns the account's «محلهٔ من», or ENOTFOUND when none was chosen.
func (s *Store) HomePlace(ctx context.Context, platform string, userID int64) (PlaceMatch, error) {
	var h HomePlace
	res := s.db.WithContext(ctx).Where("platform = ? AND user_id = ?", platform, userID).Limit(1).Find(&h)
	if res.Error != nil {
		return PlaceMatch{}, fmt.Errorf("models: home place: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return PlaceMatch{}, fmt.Errorf("models: home place: %w", Errorf(ENOTFOUND, "no home place"))
	}
	return s.Place(ctx, h.PlaceID)
}

// MuteSender mutes whoever sent suggestion id, without telling v who that
// is: a coordinator over its county may do it, with a reason. What the
// sender sends from then on is kept but routed to nobody.
func (s *Store) MuteSender(ctx context.Context, v Viewer, id uint, reason string) error {
	var sv SuggestionView
	var sg Suggestion
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if sv, err = suggestionView(tx, id); err != nil {
			return err
		}
		if !v.Supervises(sv.ProvinceID, sv.CountyID) {
			return Errorf(EFORBIDDEN, "فقط هماهنگ‌کنندگان همین شهرستان می‌توانند فرستنده را بی‌صدا کنند.")
		}
		return tx.Take(&sg, id).Error
	})
	if err != nil {
		return fmt.Errorf("models: mute sender of %d: %w", id, err)
	}
	return s.MuteAccount(ctx, v, sg.Platform, sg.UserID, reason)
}
