package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// This file holds what each event queues in the outbox, in the event's own
// transaction, and the Persian text of each notice.

// CommitteeOther is the code of the committee «سایر»: a suggestion for it
// goes to the council's chair and secretary only.
const CommitteeOther = "other"

// reachable keeps the people who have an account the bot can write to.
func reachable(tx *gorm.DB, people []uint) ([]uint, error) {
	if len(people) == 0 {
		return nil, nil
	}
	var ids []uint
	err := tx.Model(&Identity{}).Where("person_id IN ? AND blocked_at IS NULL", people).
		Distinct().Order("person_id").Pluck("person_id", &ids).Error
	return ids, err
}

// councilPeople returns the active members of the council holding one of
// the positions, or with the committee when committeeID is not 0.
func councilPeople(tx *gorm.DB, councilID uint, positions []string, committeeID uint) ([]uint, error) {
	return seatHolders(tx.Table("memberships").Where("memberships.council_id = ?", councilID), positions, committeeID)
}

// seatHolders returns, in order, the people of the active memberships q
// selects that hold one of the positions, or the committee when it is not 0.
func seatHolders(q *gorm.DB, positions []string, committeeID uint) ([]uint, error) {
	q = q.Where("memberships.status = ?", MembershipActive)
	if committeeID != 0 {
		q = q.Where("memberships.position IN ? OR memberships.committee_id = ?", positions, committeeID)
	} else {
		q = q.Where("memberships.position IN ?", positions)
	}
	var ids []uint
	err := q.Distinct().Order("memberships.person_id").Pluck("memberships.person_id", &ids).Error
	return ids, err
}

// shorten cuts s to n characters on one line, with an ellipsis.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// noticeMembershipRequest tells the county's coordinators and the
// council's chair that someone asked to join.
func noticeMembershipRequest(tx *gorm.DB, now time.Time, p Person, m Membership, place PlaceMatch) error {
	var committee string
	if err := tx.Model(&Committee{}).Select("name").Where("id = ?", m.CommitteeID).Scan(&committee).Error; err != nil {
		return err
	}
	name := p.Name
	if name == "" {
		name = "(بی‌نام)"
	}
	n := Notice{
		Kind: KindMembershipRequest, Entity: EntityMembership, EntityID: m.ID,
		Text: fmt.Sprintf("درخواست عضویت تازه: %s، %s شورای پیشرفت %s (شهرستان %s)، کارگروه «%s».",
			name, PositionName(m.Position), place.Name, place.CountyName, committee),
		Buttons: ButtonList{{Label: "بررسی درخواست", Data: fmt.Sprintf("requests:%d", m.ID)}},
	}
	key := fmt.Sprintf("membership:%d:request", m.ID)
	chairs, err := councilPeople(tx, m.CouncilID, []string{PositionChair}, 0)
	if err != nil {
		return err
	}
	if chairs, err = reachable(tx, chairs); err != nil {
		return err
	}
	if err := notifyPeople(tx, now, chairs, key, n); err != nil {
		return err
	}
	// One key for both: a chair who also coordinates the county is told once.
	return notifyCoordinators(tx, now, place.CountyID, place.ProvinceID, key, n)
}

// noticeMembershipDecision tells the person that their request was
// approved or not (urgent: a decision on their own request).
func noticeMembershipDecision(tx *gorm.DB, now time.Time, m Membership, approved bool) error {
	var vs []MembershipView
	if err := membershipViews(tx).Where("memberships.id = ?", m.ID).Limit(1).Scan(&vs).Error; err != nil {
		return err
	}
	if len(vs) == 0 {
		return Errorf(ENOTFOUND, "membership %d not found", m.ID)
	}
	v := vs[0]
	n := Notice{Entity: EntityMembership, EntityID: m.ID, Urgent: true}
	if approved {
		n.Kind = KindMembershipApproved
		n.Text = fmt.Sprintf("✅ درخواست عضویت شما تأیید شد: شما %s شورای پیشرفت %s (شهرستان %s) و مسئول کارگروه «%s» هستید.\nاز منو «گزارش اقدام» را بزنید تا کارهای شورا را ثبت کنید.",
			PositionName(v.Position), v.PlaceName, v.CountyName, v.CommitteeName)
	} else {
		n.Kind = KindMembershipRejected
		n.Text = fmt.Sprintf("درخواست عضویت شما در شورای پیشرفت %s (شهرستان %s) پذیرفته نشد.", v.PlaceName, v.CountyName)
	}
	return notifyPeople(tx, now, []uint{m.PersonID}, fmt.Sprintf("membership:%d:%s", m.ID, n.Kind), n)
}

// noticeActionSubmitted tells the county's coordinators that an action
// waits for review; and, after a duplicate warning, that it may repeat
// another council's work — the province's coordinators when the two
// councils are in different counties.
func noticeActionSubmitted(tx *gorm.DB, now time.Time, a Action, place PlaceMatch) error {
	open := ButtonList{{Label: "بررسی اقدام", Data: fmt.Sprintf("review:%d", a.ID)}}
	key := fmt.Sprintf("action:%d:submitted:%d", a.ID, now.UnixMicro())
	err := notifyCoordinators(tx, now, place.CountyID, place.ProvinceID, key, Notice{
		Kind: KindActionSubmitted, Entity: EntityAction, EntityID: a.ID, Buttons: open,
		Text: fmt.Sprintf("اقدام تازه برای بررسی: «%s» در %s (شهرستان %s)، کد %s.",
			shorten(a.Title, 80), place.Name, place.CountyName, a.Code),
	})
	if err != nil || !a.DuplicateWarned {
		return err
	}
	county := place.CountyID
	text := fmt.Sprintf("احتمال کار تکراری: اقدام «%s» در %s (شهرستان %s)، کد %s، پس از هشدار کار مشابه ثبت شد.",
		shorten(a.Title, 80), place.Name, place.CountyName, a.Code)
	if a.DuplicateOf != nil {
		other, err := actionByID(tx, *a.DuplicateOf)
		if err != nil {
			return err
		}
		op, err := placeOf(tx, other.PlaceID)
		if err != nil {
			return err
		}
		text = fmt.Sprintf("احتمال کار تکراری: اقدام «%s» در %s (شهرستان %s)، کد %s، شبیه اقدام «%s» در %s (شهرستان %s)، کد %s است.",
			shorten(a.Title, 80), place.Name, place.CountyName, a.Code, shorten(other.Title, 80), op.Name, op.CountyName, other.Code)
		if op.CountyID != place.CountyID {
			county = 0 // two counties: the province's coordinators
		}
	}
	return notifyCoordinators(tx, now, county, place.ProvinceID, fmt.Sprintf("action:%d:duplicate", a.ID), Notice{
		Kind: KindDuplicateWarning, Entity: EntityAction, EntityID: a.ID, Buttons: open, Text: text,
	})
}

// noticeSuggestion queues the notices of sg, just inserted with its ID, in
// tx (see suggestionNotices).
func noticeSuggestion(tx *gorm.DB, now time.Time, sg Suggestion, place PlaceMatch, c Committee, council, chain []uint) error {
	return enqueueAll(tx, now, suggestionNotices(sg, strconv.FormatUint(uint64(sg.ID), 10), place, c, council, chain))
}

// suggestionNotices returns the notices that tell the council of the place
// about sg: its chair, secretary and the members of the chosen committee
// («سایر»: chair and secretary). A place with no council, or a council
// nobody there can be reached on, falls back to the county's coordinators,
// the province's, then the admins: council and chain, read with the
// suggestion's place (suggestionContext). The sender is never named. ref is
// sg's id as their dedup keys and buttons read it: the id, or a marker that
// the statement inserting sg replaces with its id (insertSuggestion), which
// also sets their EntityID.
func suggestionNotices(sg Suggestion, ref string, place PlaceMatch, c Committee, council, chain []uint) []Notice {
	if sg.Muted {
		return nil // kept, routed to nobody: the coordinator who muted the sender said so
	}
	body := shorten(sg.Text, 200)
	if body == "" {
		body = "پیام صوتی"
	}
	n := Notice{
		Kind: KindSuggestion, Entity: EntitySuggestion, EntityID: sg.ID,
		Text: fmt.Sprintf("پیشنهاد تازه از ساکنان %s (شهرستان %s) برای کارگروه «%s»:\n«%s»\nکد پیگیری: %s",
			place.Name, place.CountyName, c.Name, body, sg.Code),
		Buttons: ButtonList{{Label: "دیدن پیشنهاد", Data: "inbox:" + ref}},
	}
	key := "suggestion:" + ref
	if len(council) > 0 {
		return peopleNotices(council, key, n)
	}
	return chainNotices(chain, place.CountyID, place.ProvinceID, key, n)
}

// noticeActionDecision tells the reporter of an action the review's
// decision and its note (urgent: a decision on their own action).
func noticeActionDecision(tx *gorm.DB, now time.Time, a Action) error {
	var what string
	switch a.Status {
	case ActionVerified:
		what = "تأیید شد و برای ساکنان نمایش داده می‌شود"
	case ActionRejected:
		what = "رد شد"
	case ActionChangesRequested:
		what = "نیاز به اصلاح دارد"
	default:
		return nil
	}
	text := fmt.Sprintf("اقدام «%s» (کد %s) %s.", shorten(a.Title, 80), a.Code, what)
	if a.ReviewNote != "" {
		text += "\nتوضیح بررسی‌کننده: " + shorten(a.ReviewNote, 500)
	}
	return notifyPeople(tx, now, []uint{a.ReporterPersonID}, fmt.Sprintf("action:%d:%s:%d", a.ID, a.Status, now.UnixMicro()), Notice{
		Kind: KindActionDecision, Entity: EntityAction, EntityID: a.ID, Urgent: true, Text: text,
	})
}
