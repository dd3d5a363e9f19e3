package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Notice is a message nobody asked for, queued in the transaction of the
// event that causes it: to a registered person, or to a resident known only
// by their platform account.
type Notice struct {
	PersonID uint   // a registered person; or
	Platform string // a resident's account
	UserID   int64
	Kind     string // what it is about, e.g. "action_decided"
	Key      string // unique per cause and recipient: a replay queues nothing new
	Text     string // Persian, every line starting with a Persian word
	Urgent   bool   // goes out even in quiet hours: a decision on their own request or action
	Buttons  []NoticeButton
}

// NoticeButton is a button under a notice: its label and the menu value it
// carries, which opens the item ("review:42") or answers it ("resolve:S-4F7K2:yes").
type NoticeButton struct {
	Label string
	Open  string
}

// Notice kinds queued by the review, inbox and participation features.
const (
	NoticeActionDecided      = "action_decided"
	NoticeActionReopened     = "action_reopened"
	NoticeMembershipDecided  = "membership_decided"
	NoticeSuggestionStatus   = "suggestion_status"
	NoticeSuggestionReopened = "suggestion_reopened"
	NoticeSuggestionOverdue  = "suggestion_overdue"
	NoticeActionOverdue      = "action_overdue"
	NoticeConfirmationNo     = "confirmation_no"
	NoticeSubscriptionDigest = "subscription_digest"
)

func (s *Store) onActionDecided(tx *gorm.DB, now time.Time, av ActionView) error {
	var text string
	switch av.Status {
	case ActionVerified:
		text = fmt.Sprintf("اقدام «%s» (کد %s) تأیید شد و اکنون برای ساکنان محله دیده می‌شود.", av.Title, av.Code)
	case ActionChangesRequested:
		text = fmt.Sprintf("هماهنگ‌کننده برای اقدام «%s» (کد %s) اصلاح خواسته است.\nدلیل: %s\nاز «اقدام‌های شورا» آن را ویرایش کنید.", av.Title, av.Code, av.ReviewNote)
	case ActionRejected:
		text = fmt.Sprintf("اقدام «%s» (کد %s) رد شد.\nدلیل: %s", av.Title, av.Code, av.ReviewNote)
	}
	if av.ReviewNote != "" && av.Status == ActionVerified {
		text += "\nیادداشت هماهنگ‌کننده: " + av.ReviewNote
	}
	return s.enqueue(tx, now, Notice{
		PersonID: av.ReporterPersonID, Kind: NoticeActionDecided, Urgent: true,
		Key:  fmt.Sprintf("act:%d:decided:%s:%d", av.ID, av.Status, now.UnixNano()),
		Text: text, Buttons: []NoticeButton{{Label: "دیدن اقدام", Open: fmt.Sprintf("mine:%d", av.ID)}},
	})
}

func (s *Store) onActionReopened(tx *gorm.DB, now time.Time, av ActionView) error {
	return s.enqueue(tx, now, Notice{
		PersonID: av.ReporterPersonID, Kind: NoticeActionReopened, Urgent: true,
		Key:  fmt.Sprintf("act:%d:reopened:%d", av.ID, now.UnixNano()),
		Text: fmt.Sprintf("بررسی اقدام «%s» (کد %s) دوباره باز شد و تا بررسی تازه در فهرست عمومی دیده نمی‌شود.\nدلیل: %s", av.Title, av.Code, av.ReviewNote),
	})
}

func (s *Store) onMembershipDecided(tx *gorm.DB, now time.Time, mv MembershipView) error {
	text := fmt.Sprintf("درخواست عضویت شما در شورای پیشرفت %s (%s) پذیرفته شد. اکنون «گزارش اقدام» و «اقدام‌های شورا» در منوی شما هست.", mv.PlaceName, mv.CountyName)
	if mv.Status == MembershipRejected {
		text = fmt.Sprintf("درخواست عضویت شما در شورای پیشرفت %s (%s) پذیرفته نشد.\nدلیل: %s", mv.PlaceName, mv.CountyName, mv.DecisionNote)
	}
	return s.enqueue(tx, now, Notice{
		PersonID: mv.PersonID, Kind: NoticeMembershipDecided, Urgent: true,
		Key:  fmt.Sprintf("mem:%d:%s", mv.ID, mv.Status),
		Text: text,
	})
}

// suggestionNotice tells the sender of sg (whether or not it was anonymous:
// only the council never learns who sent it) what changed.
func (s *Store) suggestionNotice(tx *gorm.DB, now time.Time, sg Suggestion, kind, text string, urgent bool, buttons ...NoticeButton) error {
	if len(buttons) == 0 {
		buttons = []NoticeButton{{Label: "پیگیری پیشنهاد", Open: "mysg:" + sg.Code}}
	}
	return s.enqueue(tx, now, Notice{
		Platform: sg.Platform, UserID: sg.UserID, Kind: kind, Urgent: urgent,
		Key:  fmt.Sprintf("sg:%d:%s:%d", sg.ID, kind, now.UnixNano()),
		Text: text, Buttons: buttons,
	})
}

// councilPeople returns the people of council councilID who should hear of
// a suggestion of committee committeeID: the chair, the secretary and the
// members responsible for that committee (committeeID 0: chair and
// secretary only).
func councilPeople(tx *gorm.DB, councilID, committeeID uint) ([]uint, error) {
	var ids []uint
	err := tx.Model(&Membership{}).
		Where("council_id = ? AND status = ?", councilID, MembershipActive).
		Where("position IN ? OR (committee_id = ? AND ? <> 0)", []string{PositionChair, PositionSecretary}, committeeID, committeeID).
		Distinct("person_id").Order("person_id").Pluck("person_id", &ids).Error
	return ids, err
}

// notifyPeople queues n for each person in ids, under a key made per person.
func (s *Store) notifyPeople(tx *gorm.DB, now time.Time, ids []uint, n Notice) error {
	key := n.Key
	for _, id := range ids {
		n.PersonID, n.Key = id, fmt.Sprintf("%s:p%d", key, id)
		if err := s.enqueue(tx, now, n); err != nil {
			return err
		}
	}
	return nil
}

// notifyStaff queues n for the coordinators over the county (falling back
// to the province's, then to the admins, so nothing is dropped for want of
// a recipient).
func (s *Store) notifyStaff(tx *gorm.DB, now time.Time, provinceID, countyID uint, n Notice) error {
	for _, level := range []struct {
		role             Role
		province, county uint
	}{{RoleCounty, provinceID, countyID}, {RoleProvince, provinceID, 0}, {RoleAdmin, 0, 0}} {
		ids, err := staffPeople(tx, now, level.role, level.province, level.county)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			return s.notifyPeople(tx, now, ids, n)
		}
	}
	return nil
}

func (s *Store) onSuggestionAssigned(tx *gorm.DB, now time.Time, sv SuggestionView, committeeID uint) error {
	var ids []uint
	err := tx.Model(&Membership{}).Where("council_id = ? AND status = ? AND committee_id = ?", sv.CouncilID, MembershipActive, committeeID).
		Distinct("person_id").Order("person_id").Pluck("person_id", &ids).Error
	if err != nil {
		return err
	}
	return s.notifyPeople(tx, now, ids, Notice{
		Kind:    NoticeSuggestionStatus,
		Key:     fmt.Sprintf("sg:%d:assigned:%d:%d", sv.ID, committeeID, now.UnixNano()),
		Text:    fmt.Sprintf("پیشنهاد %s به کارگروه شما سپرده شد.", sv.Code),
		Buttons: []NoticeButton{{Label: "دیدن پیشنهاد", Open: fmt.Sprintf("inbox:%d", sv.ID)}},
	})
}

func (s *Store) onSuggestionForwarded(tx *gorm.DB, now time.Time, sv SuggestionView) error {
	return s.notifyStaff(tx, now, sv.ProvinceID, sv.CountyID, Notice{
		Kind:    NoticeSuggestionStatus,
		Key:     fmt.Sprintf("sg:%d:forwarded:%d", sv.ID, now.UnixNano()),
		Text:    fmt.Sprintf("شورای %s پیشنهاد %s را مربوط به خود ندانست و به شهرستان فرستاد.", sv.PlaceName, sv.Code),
		Buttons: []NoticeButton{{Label: "دیدن پیشنهاد", Open: fmt.Sprintf("inbox:%d", sv.ID)}},
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
	n := Notice{Kind: NoticeSuggestionReopened, Key: fmt.Sprintf("sg:%d:reopened:%d", sg.ID, now.UnixNano()), Text: text,
		Buttons: []NoticeButton{{Label: "دیدن پیشنهاد", Open: fmt.Sprintf("inbox:%d", sg.ID)}}}
	if sv.CouncilID != 0 {
		ids, err := councilPeople(tx, sv.CouncilID, sv.CommitteeID)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			return s.notifyPeople(tx, now, ids, n)
		}
	}
	return s.notifyStaff(tx, now, sv.ProvinceID, sv.CountyID, n)
}

func (s *Store) onConfirmationNo(tx *gorm.DB, now time.Time, a Action, c Confirmation) error {
	var av ActionView
	if err := actionViews(tx).Where("actions.id = ?", a.ID).Limit(1).Scan(&av).Error; err != nil {
		return err
	}
	return s.notifyStaff(tx, now, av.ProvinceID, av.CountyID, Notice{
		Kind:    NoticeConfirmationNo,
		Key:     fmt.Sprintf("act:%d:no:%s:%d", a.ID, c.Platform, c.UserID),
		Text:    fmt.Sprintf("یکی از ساکنان %s با عکس گفته است اقدام «%s» (کد %s) انجام نشده است.", av.PlaceName, av.Title, av.Code),
		Buttons: []NoticeButton{{Label: "دیدن اقدام", Open: fmt.Sprintf("act:%d", a.ID)}},
	})
}
