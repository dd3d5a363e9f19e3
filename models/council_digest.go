package models

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/mahalle/mahalle/persian"
)

// KindCouncilDigest is the daily digest of residents' comments and
// confirmations on a council's actions, to its chair and secretary.
const KindCouncilDigest = "council_digest"

// EntityCouncil names councils in the outbox.
const EntityCouncil = "council"

// councilDigestItems is how many comments and confirmations a council
// digest lists, oldest first; its counts cover them all.
const councilDigestItems = 10

// CouncilDigest is when a council last got its digest: the comments and
// confirmations after LastAt go in the next one.
type CouncilDigest struct {
	CouncilID uint `gorm:"primaryKey;autoIncrement:false"`
	LastAt    time.Time
}

// TableName pins the table name for GORM.
func (CouncilDigest) TableName() string { return "council_digests" }

// councilFeedback is one comment or confirmation on a council's action.
type councilFeedback struct {
	CouncilID   uint
	PlaceName   string
	ActionTitle string
	ActionCode  string
	Comment     string // a comment's text; "" for a confirmation
	Answer      string // a confirmation's answer; "" for a comment
	Photo       bool   // a confirmation with a photo
	At          time.Time
}

// SendCouncilDigests queues, for every council whose actions got residents'
// comments (not hidden) or confirmations since its last digest, and whose
// last digest is a day old or more, one message to its chair and secretary:
// the counts, then the oldest items first. The message goes through the
// outbox, so each person's digest hour and quiet hours hold it as they hold
// any notice. A council with nothing new waits, and its clock is not reset;
// a council whose chair and secretary cannot be reached waits too, so
// nothing is lost before they open the bot. The digest and the new clock are
// written in one transaction: a restart or a second replica never sends one
// twice. It returns how many councils got a digest.
func (s *Store) SendCouncilDigests(ctx context.Context) (int, error) {
	now := s.now().Truncate(time.Second) // whole seconds, as SQLite compares times as text
	db := s.db.WithContext(ctx)
	// A council never digested counts from a day ago: a new install does
	// not send a backlog of every comment ever made.
	var since []CouncilDigest
	if err := db.Find(&since).Error; err != nil {
		return 0, fmt.Errorf("models: council digests: %w", err)
	}
	last := map[uint]time.Time{}
	for _, d := range since {
		last[d.CouncilID] = d.LastAt
	}
	floor := now.Add(-day)
	oldest := floor
	for _, t := range last {
		if t.Before(oldest) {
			oldest = t
		}
	}
	items, err := councilFeedbackSince(db, oldest, now)
	if err != nil {
		return 0, fmt.Errorf("models: council digests: %w", err)
	}
	byCouncil := map[uint][]councilFeedback{}
	var councils []uint
	for _, it := range items {
		from, ok := last[it.CouncilID]
		if !ok {
			from = floor
		}
		if !it.At.After(from) {
			continue
		}
		if len(byCouncil[it.CouncilID]) == 0 {
			councils = append(councils, it.CouncilID)
		}
		byCouncil[it.CouncilID] = append(byCouncil[it.CouncilID], it)
	}
	slices.Sort(councils)
	sent := 0
	for _, id := range councils {
		prev, had := last[id]
		if had && prev.After(now.Add(-day)) {
			continue // one digest a day
		}
		if !had {
			prev = floor
		}
		ok, err := s.queueCouncilDigest(ctx, id, prev, had, now, byCouncil[id])
		if err != nil {
			return sent, fmt.Errorf("models: council digest %d: %w", id, err)
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// councilFeedbackSince returns the visible comments and the confirmations
// on actions made after from and up to to, oldest first.
func councilFeedbackSince(db *gorm.DB, from, to time.Time) ([]councilFeedback, error) {
	var comments, confirmations []councilFeedback
	err := db.Table("comments").
		Select(`actions.council_id, places.name AS place_name, actions.title AS action_title, actions.code AS action_code,
			comments.text AS comment, comments.created_at AS at`).
		Joins("JOIN actions ON actions.id = comments.action_id").
		Joins("JOIN places ON places.id = actions.place_id").
		Where("comments.hidden = ? AND comments.created_at > ? AND comments.created_at <= ?", false, from, to).
		Scan(&comments).Error
	if err != nil {
		return nil, err
	}
	err = db.Table("confirmations").
		Select(`actions.council_id, places.name AS place_name, actions.title AS action_title, actions.code AS action_code,
			confirmations.answer AS answer, confirmations.photo <> '' AS photo, confirmations.updated_at AS at`).
		Joins("JOIN actions ON actions.id = confirmations.action_id").
		Joins("JOIN places ON places.id = actions.place_id").
		Where("confirmations.updated_at > ? AND confirmations.updated_at <= ?", from, to).
		Scan(&confirmations).Error
	if err != nil {
		return nil, err
	}
	all := append(comments, confirmations...)
	slices.SortStableFunc(all, func(a, b councilFeedback) int { return cmp.Compare(a.At.UnixNano(), b.At.UnixNano()) })
	return all, nil
}

// queueCouncilDigest writes the digest of items for council id and moves
// its clock from prev to now, unless another run moved it first (ok false),
// or nobody on the council can be reached (ok false, the clock stays at
// prev: a council never digested gets its clock there, so what came in
// waits for its chair or secretary to open the bot).
func (s *Store) queueCouncilDigest(ctx context.Context, id uint, prev time.Time, had bool, now time.Time, items []councilFeedback) (bool, error) {
	ok := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		ok = false
		people, err := councilPeople(tx, id, []string{PositionChair, PositionSecretary}, 0)
		if err != nil {
			return err
		}
		if people, err = reachable(tx, people); err != nil {
			return err
		}
		if len(people) == 0 {
			if had {
				return nil
			}
			return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&CouncilDigest{CouncilID: id, LastAt: prev}).Error
		}
		if had {
			res := tx.Model(&CouncilDigest{}).Where("council_id = ? AND last_at = ?", id, prev).Update("last_at", now)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
		} else {
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&CouncilDigest{CouncilID: id, LastAt: now})
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
		}
		ok = true
		return notifyPeople(tx, now, people, fmt.Sprintf("council:%d:digest:%d", id, now.Unix()), Notice{
			Kind: KindCouncilDigest, Entity: EntityCouncil, EntityID: id,
			Text:    councilDigestText(items),
			Buttons: ButtonList{{Label: "اقدام‌های شورا", Data: "mine"}},
		})
	})
	return ok, err
}

// councilDigestText is the digest's Persian text: the counts, then up to
// councilDigestItems items, oldest first. A resident is never named.
func councilDigestText(items []councilFeedback) string {
	var comments int
	answers := map[string]int{}
	for _, it := range items {
		if it.Answer == "" {
			comments++
		} else {
			answers[it.Answer]++
		}
	}
	confirmations := len(items) - comments
	var b strings.Builder
	fmt.Fprintf(&b, "خلاصهٔ روزانهٔ شورای پیشرفت %s: %s نظر و %s تأیید ساکنان دربارهٔ اقدام‌های شورا",
		items[0].PlaceName, persian.FormatNumber(int64(comments)), persian.FormatNumber(int64(confirmations)))
	if confirmations > 0 {
		var parts []string
		for _, a := range []string{ConfirmYes, ConfirmPartly, ConfirmNo} {
			if answers[a] > 0 {
				parts = append(parts, fmt.Sprintf("%s «%s»", persian.FormatNumber(int64(answers[a])), confirmName(a)))
			}
		}
		b.WriteString(" (" + strings.Join(parts, "، ") + ")")
	}
	b.WriteString(".\n")
	for i, it := range items {
		if i == councilDigestItems {
			fmt.Fprintf(&b, "\nو %s مورد دیگر.", persian.FormatNumber(int64(len(items)-councilDigestItems)))
			break
		}
		when := persian.FormatDate(it.At)
		if it.Answer == "" {
			fmt.Fprintf(&b, "\n• نظر دربارهٔ «%s» (کد %s)، %s: «%s»", shorten(it.ActionTitle, 60), it.ActionCode, when, shorten(it.Comment, 200))
			continue
		}
		photo := ""
		if it.Photo {
			photo = " با عکس"
		}
		fmt.Fprintf(&b, "\n• تأیید «%s»%s برای «%s» (کد %s)، %s", confirmName(it.Answer), photo, shorten(it.ActionTitle, 60), it.ActionCode, when)
	}
	return b.String()
}

// confirmName is how a confirmation's answer reads.
func confirmName(answer string) string {
	switch answer {
	case ConfirmYes:
		return "انجام شد"
	case ConfirmPartly:
		return "تا حدی"
	case ConfirmNo:
		return "انجام نشد"
	}
	return answer
}
