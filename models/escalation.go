package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/mahalle/mahalle/persian"
)

// Escalation says after how many days an item nobody acted on is raised.
// Zero fields take the defaults in brackets.
type Escalation struct {
	SuggestionCounty   int // days without an answer before the county's coordinators hear [3]
	SuggestionProvince int // days without an answer before the province's coordinators hear [7]
	ActionReview       int // days an action waits for review before the county is reminded [5]
}

func (e Escalation) withDefaults() Escalation {
	if e.SuggestionCounty <= 0 {
		e.SuggestionCounty = 3
	}
	if e.SuggestionProvince <= 0 {
		e.SuggestionProvince = 7
	}
	if e.ActionReview <= 0 {
		e.ActionReview = 5
	}
	return e
}

// day is a calendar day, as the escalation settings count them.
const day = 24 * time.Hour

// Escalate raises every overdue item once per step: suggestions with no
// answer to the resident (an «in progress» does not stop the clock; a
// reopening starts it again) to the county's coordinators and later to the
// province's, and actions waiting for review to the county. Each step is
// recorded with its notices in one transaction, so a restart never raises
// an item twice and never skips one. It returns how many items it raised.
func (s *Store) Escalate(ctx context.Context, e Escalation) (int, error) {
	e = e.withDefaults()
	now := s.now()
	raised := 0
	steps := []struct {
		level int
		days  int
		role  Role
	}{{1, e.SuggestionCounty, RoleCounty}, {2, e.SuggestionProvince, RoleProvince}}
	for _, st := range steps {
		var views []SuggestionView
		err := suggestionViews(s.db.WithContext(ctx)).
			Where("suggestions.status IN ?", []string{StatusNew, StatusSeen, StatusInProgress, StatusReopened, StatusForwarded}).
			Where("suggestions.muted = ? AND suggestions.escalated < ? AND suggestions.clock_since <= ?", false, st.level, now.Add(-time.Duration(st.days)*day)).
			Order("suggestions.id").Limit(maxPageSize).Scan(&views).Error
		if err != nil {
			return raised, fmt.Errorf("models: escalate: %w", err)
		}
		for _, sv := range views {
			err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				res := tx.Model(&Suggestion{}).Where("id = ? AND escalated < ?", sv.ID, st.level).Update("escalated", st.level)
				if res.Error != nil || res.RowsAffected == 0 {
					return res.Error // another process raised it first
				}
				key := fmt.Sprintf("suggestion:%d:overdue:%d:%d", sv.ID, st.level, sv.ClockSince.Unix())
				n := Notice{
					Kind: KindSuggestionOverdue, Entity: EntitySuggestion, EntityID: sv.ID,
					Text:    fmt.Sprintf("پیشنهاد %s در %s %s روز است بی‌پاسخ مانده است.", sv.Code, sv.PlaceName, persian.Digits(fmt.Sprint(st.days))),
					Buttons: ButtonList{{Label: "دیدن پیشنهاد", Data: fmt.Sprintf("inbox:%d", sv.ID)}},
				}
				if st.role == RoleProvince {
					// The second step skips the county: it already heard.
					return notifyCoordinators(tx, now, 0, sv.ProvinceID, key, n)
				}
				return notifyCoordinators(tx, now, sv.CountyID, sv.ProvinceID, key, n)
			})
			if err != nil {
				return raised, fmt.Errorf("models: escalate suggestion %d: %w", sv.ID, err)
			}
			raised++
		}
	}
	var actions []ActionView
	err := actionViews(s.db.WithContext(ctx)).
		Where("actions.status = ? AND actions.reminded_at IS NULL AND actions.updated_at <= ?", ActionSubmitted, now.Add(-time.Duration(e.ActionReview)*day)).
		Order("actions.id").Limit(maxPageSize).Scan(&actions).Error
	if err != nil {
		return raised, fmt.Errorf("models: escalate: %w", err)
	}
	for _, av := range actions {
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			res := tx.Model(&Action{}).Where("id = ? AND reminded_at IS NULL", av.ID).Update("reminded_at", now)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			return notifyCoordinators(tx, now, av.CountyID, av.ProvinceID, fmt.Sprintf("action:%d:overdue:%d", av.ID, av.UpdatedAt.Unix()), Notice{
				Kind: KindActionOverdue, Entity: EntityAction, EntityID: av.ID,
				Text:    fmt.Sprintf("اقدام «%s» (کد %s) شورای %s بیش از %s روز است در انتظار بررسی است.", av.Title, av.Code, av.PlaceName, persian.Digits(fmt.Sprint(e.ActionReview))),
				Buttons: ButtonList{{Label: "بررسی اقدام", Data: fmt.Sprintf("review:%d", av.ID)}},
			})
		})
		if err != nil {
			return raised, fmt.Errorf("models: escalate action %d: %w", av.ID, err)
		}
		raised++
	}
	return raised, nil
}

// SendDigests queues, for every subscription whose last digest is a day old
// or more, one digest of the place's actions verified since, with a button
// to unsubscribe. A subscription with nothing new waits, and its clock is
// not reset. It returns how many digests it queued.
func (s *Store) SendDigests(ctx context.Context) (int, error) {
	now := s.now()
	var subs []Subscription
	if err := s.db.WithContext(ctx).Where("last_digest_at <= ?", now.Add(-day)).Order("id").Limit(1000).Find(&subs).Error; err != nil {
		return 0, fmt.Errorf("models: digests: %w", err)
	}
	sent := 0
	for _, sub := range subs {
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var acts []ActionView
			if err := actionViews(tx).Where("actions.place_id = ? AND actions.status = ? AND actions.reviewed_at > ?", sub.PlaceID, ActionVerified, sub.LastDigestAt).
				Order("actions.reviewed_at").Limit(10).Scan(&acts).Error; err != nil {
				return err
			}
			if len(acts) == 0 {
				return nil
			}
			res := tx.Model(&Subscription{}).Where("id = ? AND last_digest_at = ?", sub.ID, sub.LastDigestAt).Update("last_digest_at", now)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			var b strings.Builder
			fmt.Fprintf(&b, "کارهای تازهٔ تأییدشدهٔ شورای %s:", acts[0].PlaceName)
			for _, a := range acts {
				fmt.Fprintf(&b, "\n• «%s»، %s", a.Title, persian.FormatDate(a.Date))
			}
			if err := enqueue(tx, now, Notice{
				Platform: sub.Platform, UserID: sub.UserID, Kind: KindSubscriptionDigest,
				DedupKey: fmt.Sprintf("subscription:%d:%d", sub.ID, now.Unix()),
				Text:     b.String(),
				Buttons: ButtonList{
					{Label: "دیدن کارهای شورا", Data: fmt.Sprintf("feed:%d", sub.PlaceID)},
					{Label: "لغو اشتراک", Data: fmt.Sprintf("unsub:%d", sub.PlaceID)},
				},
			}); err != nil {
				return err
			}
			sent++
			return nil
		})
		if err != nil {
			return sent, fmt.Errorf("models: digest %d: %w", sub.ID, err)
		}
	}
	return sent, nil
}
