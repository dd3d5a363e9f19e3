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

// Claim is one person's hold on an item while they look at it, so two
// coordinators never decide the same item. It lapses at Until.
type Claim struct {
	ID       uint
	Entity   string // EntityAction, EntityMembership, EntitySuggestion
	EntityID uint
	PersonID uint
	Until    time.Time
}

// TableName pins the table name for GORM.
func (Claim) TableName() string { return "claims" }

// ClaimTTL is how long a claim holds without being renewed.
const ClaimTTL = 15 * time.Minute

// Decisions a coordinator makes on a submitted action.
const (
	DecideVerify  = "verify"
	DecideChanges = "changes"
	DecideReject  = "reject"
)

// Reason length limits, in characters after normalisation.
const (
	minReasonLen = 5
	maxReasonLen = 500
)

// cleanReason normalises a reason and checks its length, returning EINVALID
// with a Persian message.
func cleanReason(s string) (string, error) {
	r := strings.TrimSpace(persian.Normalize(s))
	if n := utf8.RuneCountInString(r); n < minReasonLen || n > maxReasonLen {
		return "", Errorf(EINVALID, "دلیل باید دست‌کم %s و حداکثر %s حرف باشد.",
			persian.Digits(fmt.Sprint(minReasonLen)), persian.Digits(fmt.Sprint(maxReasonLen)))
	}
	return r, nil
}

// ActionView is an action with the names a reviewer needs.
type ActionView struct {
	Action
	PlaceName     string
	CountyID      uint
	CountyName    string
	ProvinceID    uint
	ProvinceName  string
	CommitteeName string
	ReporterName  string
	ReviewerName  string
}

// actionViews starts a query over actions joined to the names of their
// place, county, province, committee, reporter and reviewer.
func actionViews(db *gorm.DB) *gorm.DB {
	return db.Table("actions").
		Select(`actions.*, places.name AS place_name,
			counties.id AS county_id, counties.name AS county_name,
			provinces.id AS province_id, provinces.name AS province_name,
			committees.name AS committee_name, reporter.name AS reporter_name,
			COALESCE(reviewer.name, '') AS reviewer_name`).
		Joins("JOIN places ON places.id = actions.place_id").
		Joins("JOIN counties ON counties.id = places.county_id").
		Joins("JOIN provinces ON provinces.id = counties.province_id").
		Joins("JOIN committees ON committees.id = actions.committee_id").
		Joins("JOIN people reporter ON reporter.id = actions.reporter_person_id").
		Joins("LEFT JOIN people reviewer ON reviewer.id = actions.reviewed_by")
}

// actionView reads action id with its names in tx, or ENOTFOUND.
func actionView(tx *gorm.DB, id uint) (ActionView, error) {
	var av ActionView
	res := actionViews(tx).Where("actions.id = ?", id).Limit(1).Scan(&av)
	if res.Error != nil {
		return ActionView{}, res.Error
	}
	if res.RowsAffected == 0 {
		return ActionView{}, Errorf(ENOTFOUND, "action %d not found", id)
	}
	return av, nil
}

// ActionView returns action id with its names. Returns ENOTFOUND when there
// is no such action.
func (s *Store) ActionView(ctx context.Context, id uint) (ActionView, error) {
	var v ActionView
	res := actionViews(s.db.WithContext(ctx)).Where("actions.id = ?", id).Limit(1).Scan(&v)
	if res.Error != nil {
		return ActionView{}, fmt.Errorf("models: action view %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ActionView{}, fmt.Errorf("models: action view %d: %w", id, Errorf(ENOTFOUND, "action %d not found", id))
	}
	return v, nil
}

// NextActionToReview returns the oldest submitted action in v's scope that
// nobody else holds a live claim on, and claims it for v. Returns ENOTFOUND
// when the queue is empty and EFORBIDDEN when v supervises nothing.
func (s *Store) NextActionToReview(ctx context.Context, v Viewer) (ActionView, error) {
	where, args, ok := v.scopeFilter("counties.id", "provinces.id")
	if !ok || v.PersonID == 0 {
		return ActionView{}, fmt.Errorf("models: next action: %w", Errorf(EFORBIDDEN, "not staff"))
	}
	now := s.now()
	var av ActionView
	q := actionViews(s.db.WithContext(ctx)).
		Where("actions.status = ?", ActionSubmitted).
		Where(where, args...).
		Where("NOT EXISTS (SELECT 1 FROM claims WHERE claims.entity = ? AND claims.entity_id = actions.id AND claims.until > ? AND claims.person_id <> ?)",
			EntityAction, now, v.PersonID).
		Order("actions.id").Limit(1)
	res := q.Scan(&av)
	if res.Error != nil {
		return ActionView{}, fmt.Errorf("models: next action: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ActionView{}, fmt.Errorf("models: next action: %w", Errorf(ENOTFOUND, "no action to review"))
	}
	if _, err := s.Claim(ctx, v, EntityAction, av.ID); err != nil {
		return ActionView{}, err
	}
	return av, nil
}

// Claim takes or renews v's hold on entity/id for ClaimTTL and returns when
// it lapses. Returns ECONFLICT, with a Persian message naming who holds it,
// when someone else holds a live claim.
func (s *Store) Claim(ctx context.Context, v Viewer, entity string, id uint) (time.Time, error) {
	now := s.now()
	until := now.Add(ClaimTTL)
	err := s.transact(ctx, func(tx *gorm.DB) error {
		return claim(tx, now, v, entity, id)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("models: claim %s %d: %w", entity, id, err)
	}
	return until, nil
}

func claim(tx *gorm.DB, now time.Time, v Viewer, entity string, id uint) error {
	var c Claim
	res := tx.Where("entity = ? AND entity_id = ?", entity, id).Limit(1).Find(&c)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected > 0 && c.PersonID != v.PersonID && c.Until.After(now) {
		var p Person
		if err := tx.Take(&p, c.PersonID).Error; err != nil {
			return err
		}
		return Errorf(ECONFLICT, "«%s» از %s در حال بررسی همین مورد است؛ چند دقیقهٔ دیگر دوباره سر بزنید.",
			p.Name, persian.FormatDateTime(c.Until.Add(-ClaimTTL)))
	}
	until := now.Add(ClaimTTL)
	if res.RowsAffected > 0 {
		return tx.Model(&Claim{}).Where("id = ?", c.ID).Updates(map[string]any{"person_id": v.PersonID, "until": until}).Error
	}
	return tx.Create(&Claim{Entity: entity, EntityID: id, PersonID: v.PersonID, Until: until}).Error
}

// release drops v's claim on entity/id, if any.
func release(tx *gorm.DB, entity string, id uint) error {
	return tx.Where("entity = ? AND entity_id = ?", entity, id).Delete(&Claim{}).Error
}

// decidedBy is the ECONFLICT for an item somebody already decided.
func decidedBy(tx *gorm.DB, personID *uint, at *time.Time, what string) error {
	who := "هماهنگ‌کننده‌ای دیگر"
	if personID != nil {
		var p Person
		if err := tx.Take(&p, *personID).Error; err == nil {
			who = "«" + p.Name + "»"
		}
	}
	when := ""
	if at != nil {
		when = " در " + persian.FormatDateTime(*at)
	}
	return Errorf(ECONFLICT, "این %s را پیش‌تر %s%s بررسی کرده است.", what, who, when)
}

// DecideAction records v's decision on a submitted action in v's scope:
// DecideVerify makes it public, DecideChanges reopens editing for the member
// and DecideReject ends it; the last two need a reason of 5–500 characters.
// The member is told through the outbox. Returns EFORBIDDEN out of scope,
// ECONFLICT (naming who and when) when it was already decided or another
// coordinator holds it, EINVALID for a bad reason or decision.
func (s *Store) DecideAction(ctx context.Context, v Viewer, id uint, decision, reason string) (ActionView, error) {
	status := map[string]string{DecideVerify: ActionVerified, DecideChanges: ActionChangesRequested, DecideReject: ActionRejected}[decision]
	if status == "" {
		return ActionView{}, fmt.Errorf("models: decide action: %w", Errorf(EINVALID, "تصمیم معتبر نیست."))
	}
	if decision != DecideVerify || strings.TrimSpace(reason) != "" {
		r, err := cleanReason(reason)
		if err != nil {
			return ActionView{}, fmt.Errorf("models: decide action: %w", err)
		}
		reason = r
	}
	var av ActionView
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if av, err = actionView(tx, id); err != nil {
			return err
		}
		if !v.Supervises(av.ProvinceID, av.CountyID) || v.PersonID == 0 {
			return Errorf(EFORBIDDEN, "این اقدام در حوزهٔ شما نیست.")
		}
		if av.Status != ActionSubmitted {
			return decidedBy(tx, av.ReviewedBy, av.ReviewedAt, "اقدام")
		}
		now := s.now()
		if err := claim(tx, now, v, EntityAction, id); err != nil {
			return err
		}
		pid := v.PersonID
		res := tx.Model(&Action{}).Where("id = ? AND status = ?", id, ActionSubmitted).
			Updates(map[string]any{"status": status, "review_note": reason, "reviewed_by": pid, "reviewed_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			// Decided by someone else while this transaction waited for
			// the row: say who, as for any stale decision.
			var a Action
			if err := tx.Take(&a, id).Error; err != nil {
				return err
			}
			return decidedBy(tx, a.ReviewedBy, a.ReviewedAt, "اقدام")
		}
		av.Status, av.ReviewNote, av.ReviewedBy, av.ReviewedAt = status, reason, &pid, &now
		detail := ActionSubmitted + " -> " + status
		if reason != "" {
			detail += ": " + reason
		}
		if err := writeAudit(tx, now, v.actor(), AuditStatus, EntityAction, id, detail); err != nil {
			return err
		}
		if err := release(tx, EntityAction, id); err != nil {
			return err
		}
		return s.onActionDecided(tx, now, av)
	})
	if err != nil {
		return ActionView{}, fmt.Errorf("models: decide action %d: %w", id, err)
	}
	return av, nil
}

// ReopenAction takes a decided (verified or rejected) action in v's scope
// back to review, with a reason; a verified one leaves the public feed until
// it is decided again. The member is told. Returns EFORBIDDEN out of scope,
// ECONFLICT when it is not decided, EINVALID for a bad reason.
func (s *Store) ReopenAction(ctx context.Context, v Viewer, id uint, reason string) (ActionView, error) {
	r, err := cleanReason(reason)
	if err != nil {
		return ActionView{}, fmt.Errorf("models: reopen action: %w", err)
	}
	var av ActionView
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if av, err = actionView(tx, id); err != nil {
			return err
		}
		if !v.Supervises(av.ProvinceID, av.CountyID) {
			return Errorf(EFORBIDDEN, "این اقدام در حوزهٔ شما نیست.")
		}
		if av.Status != ActionVerified && av.Status != ActionRejected {
			return Errorf(ECONFLICT, "این اقدام هنوز بررسی نشده است که بازگشایی شود.")
		}
		now := s.now()
		old := av.Status
		res := tx.Model(&Action{}).Where("id = ? AND status = ?", id, old).
			Updates(map[string]any{"status": ActionSubmitted, "review_note": r, "reviewed_by": nil, "reviewed_at": nil, "reminded_at": nil, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return Errorf(ECONFLICT, "این اقدام همین حالا تغییر کرد؛ دوباره باز کنید.")
		}
		av.Status, av.ReviewNote, av.ReviewedBy, av.ReviewedAt = ActionSubmitted, r, nil, nil
		if err := writeAudit(tx, now, v.actor(), AuditStatus, EntityAction, id, old+" -> "+ActionSubmitted+" (reopened): "+r); err != nil {
			return err
		}
		return s.onActionReopened(tx, now, av)
	})
	if err != nil {
		return ActionView{}, fmt.Errorf("models: reopen action %d: %w", id, err)
	}
	return av, nil
}

// Membership request decisions.
const (
	MembershipRejected  = "rejected"  // a coordinator or the chair said no
	MembershipWithdrawn = "withdrawn" // the person took the request back
)

// PendingMemberships returns the membership requests v may decide, oldest
// first: every one in v's staff scope, and those of the councils v chairs.
func (s *Store) PendingMemberships(ctx context.Context, v Viewer, limit int) ([]MembershipView, error) {
	db := s.db.WithContext(ctx)
	q := membershipViews(db).Where("memberships.status = ?", MembershipPending)
	var chaired []uint
	for _, m := range v.Memberships {
		if m.Position == PositionChair {
			chaired = append(chaired, m.CouncilID)
		}
	}
	where, args, ok := v.scopeFilter("counties.id", "provinces.id")
	switch {
	case ok && len(chaired) > 0:
		q = q.Where("("+where+" OR memberships.council_id IN ?)", append(args, chaired)...)
	case ok:
		q = q.Where(where, args...)
	case len(chaired) > 0:
		q = q.Where("memberships.council_id IN ?", chaired)
	default:
		return []MembershipView{}, nil
	}
	vs := []MembershipView{}
	if limit <= 0 {
		limit = defaultPageSize
	}
	if err := q.Order("memberships.id").Limit(min(limit, maxPageSize)).Scan(&vs).Error; err != nil {
		return nil, fmt.Errorf("models: pending memberships: %w", err)
	}
	return vs, nil
}

// mayDecideMembership reports whether v may approve or reject m: a
// coordinator over its county, or the chair of its council.
func (v Viewer) mayDecideMembership(m MembershipView) bool {
	return v.Supervises(m.ProvinceID, m.CountyID) || v.Chairs(m.CouncilID)
}

// DecideMembership approves or rejects a pending membership request in v's
// scope; a rejection needs a reason. The person is told through the outbox,
// and an approval gives them the member menu. Returns EFORBIDDEN out of
// scope, ECONFLICT (naming who and when) when it was already decided.
func (s *Store) DecideMembership(ctx context.Context, v Viewer, id uint, approve bool, reason string) (MembershipView, error) {
	if !approve || strings.TrimSpace(reason) != "" {
		r, err := cleanReason(reason)
		if err != nil {
			return MembershipView{}, fmt.Errorf("models: decide membership: %w", err)
		}
		reason = r
	}
	var mv MembershipView
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := membershipViews(tx).Where("memberships.id = ?", id).Limit(1).Scan(&mv)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return Errorf(ENOTFOUND, "membership %d not found", id)
		}
		if !v.mayDecideMembership(mv) {
			return Errorf(EFORBIDDEN, "این درخواست در حوزهٔ شما نیست.")
		}
		if mv.Status != MembershipPending {
			return decidedBy(tx, mv.DecidedBy, mv.DecidedAt, "درخواست")
		}
		now := s.now()
		status := MembershipActive
		updates := map[string]any{"status": status, "since": now, "updated_at": now, "decided_by": v.PersonID, "decided_at": now, "decision_note": reason}
		if !approve {
			status = MembershipRejected
			updates["status"], updates["until"] = status, now
			delete(updates, "since")
		}
		if v.PersonID == 0 {
			updates["decided_by"] = nil
		}
		res = tx.Model(&Membership{}).Where("id = ? AND status = ?", id, MembershipPending).Updates(updates)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return Errorf(ECONFLICT, "این درخواست همین حالا بررسی شد.")
		}
		mv.Status, mv.DecisionNote = status, reason
		detail := MembershipPending + " -> " + status
		if reason != "" {
			detail += ": " + reason
		}
		if err := writeAudit(tx, now, v.actor(), AuditStatus, EntityMembership, id, detail); err != nil {
			return err
		}
		return s.onMembershipDecided(tx, now, mv)
	})
	if err != nil {
		return MembershipView{}, fmt.Errorf("models: decide membership %d: %w", id, err)
	}
	return mv, nil
}

// WithdrawMembership lets a person take back their own pending request.
// Returns ENOTFOUND when they have none.
func (s *Store) WithdrawMembership(ctx context.Context, v Viewer) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ms []Membership
		if err := tx.Where("person_id = ? AND status = ?", v.PersonID, MembershipPending).Find(&ms).Error; err != nil {
			return err
		}
		if len(ms) == 0 || v.PersonID == 0 {
			return Errorf(ENOTFOUND, "درخواست در انتظاری ندارید.")
		}
		now := s.now()
		for _, m := range ms {
			if err := tx.Model(&Membership{}).Where("id = ?", m.ID).
				Updates(map[string]any{"status": MembershipWithdrawn, "until": now, "updated_at": now}).Error; err != nil {
				return err
			}
			if err := writeAudit(tx, now, v.actor(), AuditStatus, EntityMembership, m.ID, MembershipPending+" -> "+MembershipWithdrawn); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("models: withdraw membership: %w", err)
	}
	return nil
}

// Seats lists the active members of the councils v chairs, but v: whose
// membership the chair may end (EndSeat). Chair and secretary first; none
// (no error) for someone who chairs no council.
func (s *Store) Seats(ctx context.Context, v Viewer) ([]MembershipView, error) {
	var councils []uint
	for _, m := range v.Memberships {
		if m.Position == PositionChair {
			councils = append(councils, m.CouncilID)
		}
	}
	if len(councils) == 0 {
		return nil, nil
	}
	var vs []MembershipView
	err := membershipViews(s.db.WithContext(ctx)).
		Where("memberships.council_id IN ? AND memberships.status = ? AND memberships.person_id <> ?", councils, MembershipActive, v.PersonID).
		Order("CASE memberships.position WHEN 'chair' THEN 0 WHEN 'secretary' THEN 1 ELSE 2 END, people.name, memberships.id").
		Scan(&vs).Error
	if err != nil {
		return nil, fmt.Errorf("models: seats: %w", err)
	}
	return vs, nil
}

// EndSeat lets the chair of a council end a member's active membership
// (history is kept); the member is told, with the reason. Returns
// EFORBIDDEN unless v chairs that council or supervises it, ECONFLICT when
// the membership is not active.
func (s *Store) EndSeat(ctx context.Context, v Viewer, id uint, reason string) error {
	r, err := cleanReason(reason)
	if err != nil {
		return fmt.Errorf("models: end seat: %w", err)
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var mv MembershipView
		res := membershipViews(tx).Where("memberships.id = ?", id).Limit(1).Scan(&mv)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return Errorf(ENOTFOUND, "membership %d not found", id)
		}
		if !v.mayDecideMembership(mv) {
			return Errorf(EFORBIDDEN, "این عضویت در حوزهٔ شما نیست.")
		}
		if mv.Status == MembershipEnded && mv.DecisionNote == r {
			return nil // this very decision, replayed
		}
		if mv.Status != MembershipActive {
			return Errorf(ECONFLICT, "این عضویت فعال نیست.")
		}
		now := s.now()
		if err := tx.Model(&Membership{}).Where("id = ?", id).Update("decision_note", r).Error; err != nil {
			return err
		}
		if err := endMembership(tx, now, v.actor(), mv.Membership); err != nil {
			return err
		}
		return notifyPeople(tx, now, []uint{mv.PersonID}, fmt.Sprintf("membership:%d:%s", id, KindMembershipEnded), Notice{
			Kind: KindMembershipEnded, Entity: EntityMembership, EntityID: id, Urgent: true, Buttons: menuButton,
			Text: fmt.Sprintf("عضویت شما در شورای پیشرفت %s (شهرستان %s) پایان یافت.\nدلیل: %s", mv.PlaceName, mv.CountyName, r),
		})
	})
	if err != nil {
		return fmt.Errorf("models: end seat %d: %w", id, err)
	}
	return nil
}

// HomeCounts are the numbers on a coordinator's or chair's menu: what
// waits for them.
type HomeCounts struct {
	ActionsToReview    int64 // submitted actions in scope
	SuggestionsOpen    int64 // open suggestions they handle
	SuggestionsOverdue int64 // of those, unanswered for overdueAfter or more
	RequestsWaiting    int64 // membership requests they may decide
}

// HomeCounts counts what waits for v; overdueAfter is when an unanswered
// suggestion counts as overdue (the county's escalation delay).
func (s *Store) HomeCounts(ctx context.Context, v Viewer, overdueAfter time.Duration) (HomeCounts, error) {
	var h HomeCounts
	db := s.db.WithContext(ctx)
	if where, args, ok := v.scopeFilter("counties.id", "counties.province_id"); ok {
		err := db.Table("actions").Joins("JOIN places ON places.id = actions.place_id").Joins("JOIN counties ON counties.id = places.county_id").
			Where("actions.status = ?", ActionSubmitted).Where(where, args...).Count(&h.ActionsToReview).Error
		if err != nil {
			return h, fmt.Errorf("models: home counts: %w", err)
		}
	}
	open, total, err := s.Inbox(ctx, v, 0, maxPageSize)
	if err != nil {
		return h, err
	}
	h.SuggestionsOpen = total
	cut := s.now().Add(-overdueAfter)
	for _, sv := range open {
		if sv.ClockSince.Before(cut) && sv.Status != StatusAnswered {
			h.SuggestionsOverdue++
		}
	}
	reqs, err := s.PendingMemberships(ctx, v, maxPageSize)
	if err != nil {
		return h, err
	}
	h.RequestsWaiting = int64(len(reqs))
	return h, nil
}
