package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// This file holds what the review, inbox, escalation and participation
// features queue in the outbox, in the transaction of their cause.

// Notice kinds of the review, inbox and participation features.
const (
	KindActionReopened     = "action_reopened"     // a decision was reopened; to the reporter (urgent)
	KindSuggestionStatus   = "suggestion_status"   // a status change or answer; to the sender, or a committee assigned
	KindSuggestionReopened = "suggestion_reopened" // the sender said «حل نشد»; to the council
	KindSuggestionOverdue  = "suggestion_overdue"  // unanswered past the delay; to the county, then the province
	KindActionOverdue      = "action_overdue"      // unreviewed past the delay; to the county
	KindConfirmationNo     = "confirmation_no"     // a resident says, with a photo, it did not happen; to the county
	KindSubscriptionDigest = "subscription_digest" // newly verified actions of a place followed
)

func (s *Store) onActionDecided(tx *gorm.DB, now time.Time, av ActionView) error {
	var text string
	switch av.Status {
	case ActionVerified:
		text = fmt.Sprintf("اقدام «%s» (کد %s) تأیید شد و اکنون برای ساکنان محله دیده می‌شود.", av.Title, av.Code)
		if av.ReviewNote != "" {
			text += "\nیادداشت هماهنگ‌کننده: " + av.ReviewNote
		}
	case ActionChangesRequested:
		text = fmt.Sprintf("هماهنگ‌کننده برای اقدام «%s» (کد %s) اصلاح خواسته است.\nدلیل: %s\nاز «اقدام‌های شورا» آن را ویرایش کنید.", av.Title, av.Code, av.ReviewNote)
	case ActionRejected:
		text = fmt.Sprintf("اقدام «%s» (کد %s) رد شد.\nدلیل: %s", av.Title, av.Code, av.ReviewNote)
	}
	return notifyPeople(tx, now, []uint{av.ReporterPersonID}, fmt.Sprintf("action:%d:decided:%s:%d", av.ID, av.Status, now.UnixMicro()), Notice{
		Kind: KindActionDecision, Entity: EntityAction, EntityID: av.ID, Urgent: true, Text: text,
	})
}

func (s *Store) onActionReopened(tx *gorm.DB, now time.Time, av ActionView) error {
	return notifyPeople(tx, now, []uint{av.ReporterPersonID}, fmt.Sprintf("action:%d:reopened:%d", av.ID, now.UnixMicro()), Notice{
		Kind: KindActionReopened, Entity: EntityAction, EntityID: av.ID, Urgent: true,
		Text: fmt.Sprintf("بررسی اقدام «%s» (کد %s) دوباره باز شد و تا بررسی تازه در فهرست عمومی دیده نمی‌شود.\nدلیل: %s", av.Title, av.Code, av.ReviewNote),
	})
}

func (s *Store) onMembershipDecided(tx *gorm.DB, now time.Time, mv MembershipView) error {
	if mv.Status == MembershipActive {
		return noticeMembershipDecision(tx, now, mv.Membership, true)
	}
	return notifyPeople(tx, now, []uint{mv.PersonID}, fmt.Sprintf("membership:%d:%s", mv.ID, KindMembershipRejected), Notice{
		Kind: KindMembershipRejected, Entity: EntityMembership, EntityID: mv.ID, Urgent: true,
		Text: fmt.Sprintf("درخواست عضویت شما در شورای پیشرفت %s (شهرستان %s) پذیرفته نشد.\nدلیل: %s", mv.PlaceName, mv.CountyName, mv.DecisionNote),
	})
}

// suggestionNotice tells the sender of sg what changed (anonymous or not:
// only the council never learns who sent it).
func (s *Store) suggestionNotice(tx *gorm.DB, now time.Time, sg Suggestion, eventID uint, kind, text string, urgent bool, buttons ...Button) error {
	if len(buttons) == 0 {
		buttons = []Button{{Label: "پیگیری پیشنهاد", Data: "mysg:" + sg.Code}}
	}
	return enqueue(tx, now, Notice{
		Platform: sg.Platform, UserID: sg.UserID, Kind: kind, Urgent: urgent,
		Entity: EntitySuggestion, EntityID: sg.ID,
		DedupKey: fmt.Sprintf("suggestion:%d:event:%d", sg.ID, eventID),
		Text:     text, Buttons: buttons,
	})
}

func (s *Store) onSuggestionAssigned(tx *gorm.DB, now time.Time, sv SuggestionView, committeeID uint) error {
	var ids []uint
	err := tx.Model(&Membership{}).Where("council_id = ? AND status = ? AND committee_id = ?", sv.CouncilID, MembershipActive, committeeID).
		Distinct("person_id").Order("person_id").Pluck("person_id", &ids).Error
	if err != nil {
		return err
	}
	return notifyPeople(tx, now, ids, fmt.Sprintf("suggestion:%d:assigned:%d:%d", sv.ID, committeeID, now.UnixMicro()), Notice{
		Kind: KindSuggestionStatus, Entity: EntitySuggestion, EntityID: sv.ID,
		Text:    fmt.Sprintf("پیشنهاد %s به کارگروه شما سپرده شد.", sv.Code),
		Buttons: ButtonList{{Label: "دیدن پیشنهاد", Data: fmt.Sprintf("inbox:%d", sv.ID)}},
	})
}

func (s *Store) onSuggestionForwarded(tx *gorm.DB, now time.Time, sv SuggestionView) error {
	return notifyCoordinators(tx, now, sv.CountyID, sv.ProvinceID, fmt.Sprintf("suggestion:%d:forwarded:%d", sv.ID, now.UnixMicro()), Notice{
		Kind: KindSuggestionStatus, Entity: EntitySuggestion, EntityID: sv.ID,
		Text:    fmt.Sprintf("شورای %s پیشنهاد %s را مربوط به خود ندانست و به شهرستان فرستاد.", sv.PlaceName, sv.Code),
		Buttons: ButtonList{{Label: "دیدن پیشنهاد", Data: fmt.Sprintf("inbox:%d", sv.ID)}},
	})
}

func (s *Store) onSuggestionReopened(tx *gorm.DB, now time.Time, sg Suggestion, note string) error {
	sv, err := suggestionView(tx, sg.ID)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("فرستندهٔ پیشنهاد %s گفت مشکل حل نشده است و پیشنهاد دوباره باز شد.", sg.Code)
	if note != "" {
		text += "\nیادداشت فرستنده: " + note
	}
	key := fmt.Sprintf("suggestion:%d:reopened:%d", sg.ID, now.UnixMicro())
	n := Notice{Kind: KindSuggestionReopened, Entity: EntitySuggestion, EntityID: sg.ID, Text: text,
		Buttons: ButtonList{{Label: "دیدن پیشنهاد", Data: fmt.Sprintf("inbox:%d", sg.ID)}}}
	if sv.CouncilID != 0 {
		ids, err := councilPeople(tx, sv.CouncilID, []string{PositionChair, PositionSecretary}, sv.CommitteeID)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			return notifyPeople(tx, now, ids, key, n)
		}
	}
	return notifyCoordinators(tx, now, sv.CountyID, sv.ProvinceID, key, n)
}

// onConfirmationNo tells the action's coordinator chain that a resident
// said with a photo it was not done, unless muted (a muted sender is kept
// from reaching anyone, and not told so), and returns whom it reaches.
func (s *Store) onConfirmationNo(tx *gorm.DB, now time.Time, a Action, c Confirmation, muted bool) (Reach, error) {
	var av ActionView
	if err := actionViews(tx).Where("actions.id = ?", a.ID).Limit(1).Scan(&av).Error; err != nil {
		return ReachUnknown, err
	}
	rows, err := recipientRows(tx, nil, av.CountyID, av.ProvinceID)
	if err != nil || muted {
		return reachOf(rows), err
	}
	_, chain := splitTiers(rows)
	return reachOf(rows), notifyChain(tx, now, chain, av.CountyID, av.ProvinceID, fmt.Sprintf("action:%d:no:%s:%d", a.ID, c.Platform, c.UserID), Notice{
		Kind: KindConfirmationNo, Entity: EntityAction, EntityID: a.ID,
		Text: fmt.Sprintf("یکی از ساکنان %s با عکس گفته است اقدام «%s» (کد %s) انجام نشده است. آن را با «باز کردن با کد» ببینید.", av.PlaceName, av.Title, av.Code),
	})
}
