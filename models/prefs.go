package models

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/mahalle/mahalle/persian"
)

// Notice modes: how a person wants messages nobody asked for.
const (
	NoticeNow    = "now"    // each as it comes (the default)
	NoticeDigest = "digest" // one message a day, at DigestHour
)

// QuietHours is a span of Tehran hours, From to To (To not included), in
// which non-urgent notices are held. It may cross midnight (22-07). The zero
// value, and From == To, is no quiet hours.
type QuietHours struct {
	From, To int // 0–23
	Set      bool
}

// ParseQuietHours reads "22-07" (Persian digits allowed); "" and "none" are
// no quiet hours. Returns EINVALID for anything else.
func ParseQuietHours(s string) (QuietHours, error) {
	s = strings.TrimSpace(persian.ASCIIDigits(s))
	if s == "" || s == "none" {
		return QuietHours{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	from, err1 := strconv.Atoi(strings.TrimSpace(a))
	to, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || from < 0 || from > 23 || to < 0 || to > 23 {
		return QuietHours{}, Errorf(EINVALID, "ساعت‌های آرام باید به شکل ۲۲-۰۷ باشد.")
	}
	return QuietHours{From: from, To: to, Set: from != to}, nil
}

// String returns "22-07", or "none".
func (q QuietHours) String() string {
	if !q.Set {
		return "none"
	}
	return fmt.Sprintf("%02d-%02d", q.From, q.To)
}

// End returns when the quiet hours holding t end, and whether t is in them.
func (q QuietHours) End(t time.Time) (time.Time, bool) {
	if !q.Set {
		return time.Time{}, false
	}
	lt := t.In(persian.Tehran)
	h := lt.Hour()
	in := (q.From < q.To && h >= q.From && h < q.To) || (q.From > q.To && (h >= q.From || h < q.To))
	if !in {
		return time.Time{}, false
	}
	end := time.Date(lt.Year(), lt.Month(), lt.Day(), q.To, 0, 0, 0, persian.Tehran)
	if !end.After(lt) {
		end = end.AddDate(0, 0, 1)
	}
	return end.UTC(), true
}

// NoticePrefs is how one person wants their notices.
type NoticePrefs struct {
	PersonID   uint `gorm:"primaryKey;autoIncrement:false"`
	Mode       string
	DigestHour int    // Tehran hour of the daily digest, 0–23
	Quiet      string // "" = the install's QUIET_HOURS, "none", or "22-07"
	UpdatedAt  time.Time
}

// TableName pins the table name for GORM.
func (NoticePrefs) TableName() string { return "notice_prefs" }

// quiet returns the person's quiet hours, def when they chose none of their own.
func (p NoticePrefs) quiet(def QuietHours) QuietHours {
	if p.Quiet == "" {
		return def
	}
	q, err := ParseQuietHours(p.Quiet)
	if err != nil {
		return def
	}
	return q
}

// nextDigest returns the first digest time at or after t.
func (p NoticePrefs) nextDigest(t time.Time) time.Time {
	lt := t.In(persian.Tehran)
	at := time.Date(lt.Year(), lt.Month(), lt.Day(), p.DigestHour, 0, 0, 0, persian.Tehran)
	if at.Before(lt) {
		at = at.AddDate(0, 0, 1)
	}
	return at.UTC()
}

// hold reports whether a non-urgent notice must wait, and until when: for a
// digest reader, until their digest hour (a row already moved there is due);
// for anyone, until the end of their quiet hours. The digest goes at the
// hour its reader chose, quiet hours or not.
func (p NoticePrefs) hold(n Notice, now time.Time, def QuietHours) (bool, time.Time) {
	if p.Mode == NoticeDigest {
		if n.Digest {
			return false, time.Time{}
		}
		return true, p.nextDigest(n.CreatedAt)
	}
	if end, in := p.quiet(def).End(now); in {
		return true, end
	}
	return false, time.Time{}
}

// prefsOf returns the preferences of the recipients of rows; a person with
// none stored gets the defaults.
func prefsOf(tx *gorm.DB, rows []Notice) (map[uint]NoticePrefs, error) {
	var ids []uint
	for _, n := range rows {
		if n.PersonID != nil {
			ids = append(ids, *n.PersonID)
		}
	}
	out := map[uint]NoticePrefs{}
	if len(ids) == 0 {
		return out, nil
	}
	var ps []NoticePrefs
	if err := tx.Where("person_id IN ?", ids).Find(&ps).Error; err != nil {
		return nil, err
	}
	for _, p := range ps {
		out[p.PersonID] = p
	}
	return out, nil
}

// Prefs returns a person's notice preferences: the defaults (each notice at
// once, the install's quiet hours) when they never chose.
func (s *Store) Prefs(ctx context.Context, personID uint) (NoticePrefs, error) {
	var ps []NoticePrefs
	if err := s.db.WithContext(ctx).Where("person_id = ?", personID).Limit(1).Find(&ps).Error; err != nil {
		return NoticePrefs{}, fmt.Errorf("models: prefs: %w", err)
	}
	if len(ps) == 0 {
		return NoticePrefs{PersonID: personID, Mode: NoticeNow}, nil
	}
	return ps[0], nil
}

// SetPrefs stores a person's notice preferences. A digest reader's held
// notices move to the new digest hour; a person back to NoticeNow gets
// theirs at once. Returns EINVALID (with a Persian message) for an unknown
// mode, an hour outside 0–23 or quiet hours not like "22-07".
func (s *Store) SetPrefs(ctx context.Context, p NoticePrefs) error {
	if p.Mode == "" {
		p.Mode = NoticeNow
	}
	if p.Mode != NoticeNow && p.Mode != NoticeDigest {
		return fmt.Errorf("models: set prefs: %w", Errorf(EINVALID, "شیوهٔ دریافت پیام‌ها معتبر نیست."))
	}
	if p.DigestHour < 0 || p.DigestHour > 23 {
		return fmt.Errorf("models: set prefs: %w", Errorf(EINVALID, "ساعت خلاصهٔ روزانه باید بین ۰ تا ۲۳ باشد."))
	}
	if p.Quiet != "" {
		q, err := ParseQuietHours(p.Quiet)
		if err != nil {
			return fmt.Errorf("models: set prefs: %w", err)
		}
		p.Quiet = q.String()
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now()
		p.UpdatedAt = now
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "person_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"mode", "digest_hour", "quiet", "updated_at"}),
		}).Create(&p).Error; err != nil {
			return err
		}
		next := now
		if p.Mode == NoticeDigest {
			next = p.nextDigest(now)
		}
		return tx.Model(&Notice{}).Where("person_id = ? AND status = ? AND digest = ?", p.PersonID, NoticePending, true).
			Updates(map[string]any{"next_attempt_at": next, "digest": p.Mode == NoticeDigest, "updated_at": now}).Error
	})
	if err != nil {
		return fmt.Errorf("models: set prefs: %w", err)
	}
	return nil
}
