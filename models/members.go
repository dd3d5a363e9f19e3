package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/mahalle/mahalle/persian"
)

// Positions on a council.
const (
	PositionChair     = "chair"     // رئیس
	PositionSecretary = "secretary" // دبیر
	PositionMember    = "member"    // عضو
)

// PositionName returns the Persian name of a position: رئیس, دبیر or عضو.
// An unknown position is returned as is.
func PositionName(position string) string {
	switch position {
	case PositionChair:
		return "رئیس"
	case PositionSecretary:
		return "دبیر"
	case PositionMember:
		return "عضو"
	}
	return position
}

// validPosition reports whether position is one of the three positions.
func validPosition(position string) bool {
	return position == PositionChair || position == PositionSecretary || position == PositionMember
}

// parsePosition reads a position as a roster or a person writes it: the
// Persian name (رئیس, also spelled رییس; دبیر; عضو) or the English code, in
// any case. It reports false for anything else.
func parsePosition(s string) (string, bool) {
	switch persian.SearchKey(s) {
	case "chair", "رئیس", "رییس", "ریيس":
		return PositionChair, true
	case "secretary", "دبیر":
		return PositionSecretary, true
	case "member", "عضو":
		return PositionMember, true
	}
	return "", false
}

// Membership statuses. A membership is never overwritten: a change of
// position or committee ends the row and starts a new one, so the history of
// who held what, and when, is kept.
const (
	MembershipPending = "pending" // asked for in the bot; waits for a coordinator
	MembershipActive  = "active"
	MembershipEnded   = "ended"
)

// Membership sources: how a membership came to be.
const (
	SourceRoster  = "roster"  // imported from the official roster
	SourceRequest = "request" // asked for by the person in the bot
)

// Audit actions and entities besides those of suggestions.
const (
	AuditUpdate = "update" // a timeline entry was added to an action
	AuditLink   = "link"   // a platform account was tied to a person

	EntityPerson     = "person"
	EntityMembership = "membership"
	EntityAction     = "action"
)

// Actor is who makes a change, as the audit log records it: an account on a
// messaging platform, or the command line ([ActorCLI]).
type Actor struct {
	Platform string // "tg", "bale" or "cli"
	UserID   int64  // the platform's user id; 0 for the command line
}

// ActorCLI is the operator running a command such as `mahalle roster import`.
var ActorCLI = Actor{Platform: "cli"}

// Council is the Neighborhood Progress Council of one place.
type Council struct {
	ID        uint
	PlaceID   uint // unique: one council per place
	CreatedAt time.Time
}

// TableName pins the table name for GORM.
func (Council) TableName() string { return "councils" }

// Membership is a person's seat on a council: a position and the committee
// they are responsible for, from Since until Until.
type Membership struct {
	ID          uint
	PersonID    uint
	CouncilID   uint
	Position    string // PositionChair, PositionSecretary or PositionMember
	CommitteeID uint
	Since       time.Time  // when it was asked for (pending) or became active
	Until       *time.Time // when it ended; nil while pending or active
	Status      string     // MembershipPending, MembershipActive or MembershipEnded
	Source      string     // SourceRoster or SourceRequest
	DecidedBy   *uint      // who approved or rejected a request
	DecidedAt   *time.Time // when
	// DecisionNote is the reason given when a request was rejected or a
	// seat ended.
	DecisionNote string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// TableName pins the table name for GORM.
func (Membership) TableName() string { return "memberships" }

// MembershipView is a membership with the names a person reading it needs.
type MembershipView struct {
	Membership
	PersonName    string
	PlaceID       uint
	PlaceName     string
	CountyID      uint
	CountyName    string
	ProvinceID    uint
	ProvinceName  string
	CommitteeName string
}

// Name length limits, in characters after normalisation.
const (
	minNameLen = 2
	maxNameLen = 60
)

// cleanName returns a person's name normalised, on one line, and whether
// its length is within the limits.
func cleanName(s string) (string, bool) {
	name := strings.Join(strings.Fields(persian.Normalize(s)), " ")
	n := utf8.RuneCountInString(name)
	return name, n >= minNameLen && n <= maxNameLen
}

// writeAudit adds an audit entry in tx.
func writeAudit(tx *gorm.DB, at time.Time, actor Actor, action, entity string, id uint, detail string) error {
	e := AuditEntry{At: at, ActorPlatform: actor.Platform, ActorUserID: actor.UserID, Action: action, Entity: entity, EntityID: id, Detail: detail}
	if err := tx.Create(&e).Error; err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// transact runs fn in a transaction, and runs it once more in a new one
// when it failed on a unique key: a concurrent call committed the same row
// first, and the second run finds it. fn must set its results afresh on
// every run.
func (s *Store) transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	err := s.db.WithContext(ctx).Transaction(fn)
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		err = s.db.WithContext(ctx).Transaction(fn)
	}
	return err
}

// CouncilFor returns the council of a place, creating it on first use.
// Returns ENOTFOUND when the place does not exist.
func (s *Store) CouncilFor(ctx context.Context, placeID uint) (Council, error) {
	var c Council
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var err error
		c, err = councilFor(tx, s.now(), placeID)
		return err
	})
	if err != nil {
		return Council{}, fmt.Errorf("models: council for place %d: %w", placeID, err)
	}
	return c, nil
}

// councilFor returns the council of a place, creating it on first use. A
// council is bookkeeping (one per place, made when first needed), not
// anyone's decision, so its creation is not audited. Returns ENOTFOUND when
// the place does not exist.
func councilFor(tx *gorm.DB, now time.Time, placeID uint) (Council, error) {
	var c Council
	err := tx.Where("place_id = ?", placeID).Take(&c).Error
	if err == nil {
		return c, nil
	} else if !notFound(err) {
		return Council{}, err
	}
	if err := exists(tx, &Place{}, placeID, "place"); err != nil {
		return Council{}, err
	}
	c = Council{PlaceID: placeID, CreatedAt: now}
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&c)
	if res.Error != nil {
		return Council{}, res.Error
	}
	if res.RowsAffected == 0 { // a concurrent call created it first
		c = Council{}
		if err := tx.Where("place_id = ?", placeID).Take(&c).Error; err != nil {
			return Council{}, err
		}
	}
	return c, nil
}

// membershipViews starts a query over memberships joined to the names of
// their person, place, county, province and committee.
func membershipViews(db *gorm.DB) *gorm.DB {
	return db.Table("memberships").
		Select(`memberships.*, people.name AS person_name,
			places.id AS place_id, places.name AS place_name,
			counties.id AS county_id, counties.name AS county_name,
			provinces.id AS province_id, provinces.name AS province_name,
			committees.name AS committee_name`).
		Joins("JOIN people ON people.id = memberships.person_id").
		Joins("JOIN councils ON councils.id = memberships.council_id").
		Joins("JOIN places ON places.id = councils.place_id").
		Joins("JOIN counties ON counties.id = places.county_id").
		Joins("JOIN provinces ON provinces.id = counties.province_id").
		Joins("JOIN committees ON committees.id = memberships.committee_id")
}

// activeViews returns the active memberships of a person, most recent first.
func activeViews(db *gorm.DB, personID uint) ([]MembershipView, error) {
	vs := []MembershipView{}
	err := membershipViews(db).
		Where("memberships.person_id = ? AND memberships.status = ?", personID, MembershipActive).
		Order("memberships.since DESC").Order("memberships.id DESC").
		Scan(&vs).Error
	return vs, err
}

// ActiveMembership returns the person's active membership, the most recent
// one when they sit on several councils. Returns ENOTFOUND when they have
// none.
func (s *Store) ActiveMembership(ctx context.Context, personID uint) (MembershipView, error) {
	vs, err := activeViews(s.db.WithContext(ctx), personID)
	if err != nil {
		return MembershipView{}, fmt.Errorf("models: active membership: %w", err)
	}
	if len(vs) == 0 {
		return MembershipView{}, fmt.Errorf("models: active membership: %w", Errorf(ENOTFOUND, "person %d has no active membership", personID))
	}
	return vs[0], nil
}

// Membership returns the membership with the given id and its names.
// Returns ENOTFOUND when there is none.
func (s *Store) Membership(ctx context.Context, id uint) (MembershipView, error) {
	var vs []MembershipView
	if err := membershipViews(s.db.WithContext(ctx)).Where("memberships.id = ?", id).Limit(1).Scan(&vs).Error; err != nil {
		return MembershipView{}, fmt.Errorf("models: membership %d: %w", id, err)
	}
	if len(vs) == 0 {
		return MembershipView{}, fmt.Errorf("models: membership %d: %w", id, Errorf(ENOTFOUND, "membership %d not found", id))
	}
	return vs[0], nil
}

// MembershipsByPhone returns every membership, ended ones included, of the
// person with the phone number, newest first. phone may be in any form
// persian.NormalizePhone reads. Returns EINVALID when phone is not a phone
// number and ENOTFOUND when no person has it.
func (s *Store) MembershipsByPhone(ctx context.Context, phone string) ([]MembershipView, error) {
	e164, err := persian.NormalizePhone(phone)
	if err != nil {
		return nil, fmt.Errorf("models: memberships by phone: %w", Errorf(EINVALID, "شماره تلفن معتبر نیست."))
	}
	db := s.db.WithContext(ctx)
	p, ok, err := personByPhone(db, e164)
	if err != nil {
		return nil, fmt.Errorf("models: memberships by phone: %w", err)
	} else if !ok {
		return nil, fmt.Errorf("models: memberships by phone: %w", Errorf(ENOTFOUND, "no person with that phone"))
	}
	vs := []MembershipView{}
	err = membershipViews(db).Where("memberships.person_id = ?", p.ID).
		Order("memberships.id DESC").Scan(&vs).Error
	if err != nil {
		return nil, fmt.Errorf("models: memberships by phone: %w", err)
	}
	return vs, nil
}

// personByPhone returns the person with the E.164 phone and whether there is one.
func personByPhone(db *gorm.DB, e164 string) (Person, bool, error) {
	var p Person
	err := db.Where("phone = ?", e164).Take(&p).Error
	if notFound(err) {
		return Person{}, false, nil
	} else if err != nil {
		return Person{}, false, err
	}
	return p, true, nil
}

// linkIdentity ties the platform account to the person, creating the
// identity if Mahalle never saw it, and audits the link when it is new.
func linkIdentity(tx *gorm.DB, now time.Time, platform string, userID, chatID int64, personID uint) error {
	var old Identity
	err := tx.Where("platform = ? AND user_id = ?", platform, userID).Take(&old).Error
	if err != nil && !notFound(err) {
		return err
	}
	if err == nil && old.PersonID != nil && *old.PersonID == personID && (chatID == 0 || old.ChatID == chatID) {
		return nil
	}
	if chatID == 0 {
		chatID = userID // a private chat's id is the user's id
	}
	row := Identity{PersonID: &personID, Platform: platform, UserID: userID, ChatID: chatID}
	err = tx.Clauses(clause.OnConflict{
		Columns:   identityConflict,
		DoUpdates: clause.AssignmentColumns([]string{"person_id", "chat_id", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return err
	}
	if old.PersonID != nil && *old.PersonID == personID {
		return nil // only the chat moved
	}
	return writeAudit(tx, now, Actor{Platform: platform, UserID: userID}, AuditLink, EntityPerson, personID,
		fmt.Sprintf("identity %s:%d", platform, userID))
}

// LinkPhone is the registration step after a person shares their own
// contact: it finds the person with that phone (put there by a roster
// import or an earlier request), ties the platform account platform/userID
// (reached in chatID; 0 means the user id) to them, creating the identity if
// needed, and returns the person and their active memberships, most recent
// first — possibly none, when their membership is still pending or has
// ended, or they are staff only. A phone in ADMIN_PHONES makes the person
// admin, and staff assignments waiting for the phone become active (with
// their notices), in the same transaction. phone may be in any form persian.NormalizePhone reads. Returns
// EINVALID when platform, userID or phone is missing or not valid, and
// ENOTFOUND when no person has that phone (it is on no roster and no staff
// role waits for it).
func (s *Store) LinkPhone(ctx context.Context, platform string, userID int64, chatID int64, phone string) (Person, []MembershipView, error) {
	if platform == "" || userID == 0 {
		return Person{}, nil, fmt.Errorf("models: link phone: %w", Errorf(EINVALID, "identity without platform or user id"))
	}
	e164, err := persian.NormalizePhone(phone)
	if err != nil {
		return Person{}, nil, fmt.Errorf("models: link phone: %w", Errorf(EINVALID, "شماره تلفن معتبر نیست."))
	}
	var (
		p  Person
		vs []MembershipView
	)
	err = s.transact(ctx, func(tx *gorm.DB) error {
		var ok bool
		var err error
		now := s.now()
		if p, ok, err = personByPhone(tx, e164); err != nil {
			return err
		} else if !ok {
			// Someone named staff by phone (or in ADMIN_PHONES) who is on no
			// roster becomes a person now, without a name.
			if staff, err := s.awaitsStaff(tx, e164); err != nil {
				return err
			} else if !staff {
				return Errorf(ENOTFOUND, "no person with that phone")
			}
			p = Person{Phone: &e164, CreatedAt: now}
			if err := tx.Create(&p).Error; err != nil {
				return err
			}
			if err := writeAudit(tx, now, Actor{Platform: platform, UserID: userID}, AuditCreate, EntityPerson, p.ID, "staff"); err != nil {
				return err
			}
		}
		if err := linkIdentity(tx, now, platform, userID, chatID, p.ID); err != nil {
			return err
		}
		if _, err := s.linkStaff(tx, now, p); err != nil {
			return err
		}
		vs, err = activeViews(tx, p.ID)
		return err
	})
	if err != nil {
		return Person{}, nil, fmt.Errorf("models: link phone: %w", err)
	}
	return p, vs, nil
}

// MembershipRequest is a person's request, made in the bot, to join the
// council of a place.
type MembershipRequest struct {
	Platform    string // who asks: their platform account
	UserID      int64
	ChatID      int64  // 0 means the user id (a private chat)
	Name        string // used only when no person has Phone yet
	Phone       string // verified by a shared contact; any form persian.NormalizePhone reads
	PlaceID     uint
	CommitteeID uint
	Position    string // "" means PositionMember
}

// RequestMembership records a request to join a council: it finds the
// person with req.Phone or creates them with req.Name, ties the platform
// account to them, and creates a pending membership (Source "request") of
// the place's council, with an audit entry and notices to the council's
// chair and the county's coordinators, in one transaction. It is idempotent: when the
// person already has a pending membership of that council, that one is
// returned and nothing is written. Returns EINVALID (with a Persian message)
// when a field is missing or not valid, the place or committee does not
// exist, the committee is not on the place's province's list, or the
// person is new and req.Name (normalised) is not 2 to 60 characters, and
// ECONFLICT when the person is already an active member of that council.
func (s *Store) RequestMembership(ctx context.Context, req MembershipRequest) (Membership, error) {
	if req.Platform == "" || req.UserID == 0 {
		return Membership{}, fmt.Errorf("models: request membership: %w", Errorf(EINVALID, "identity without platform or user id"))
	}
	e164, err := persian.NormalizePhone(req.Phone)
	if err != nil {
		return Membership{}, fmt.Errorf("models: request membership: %w", Errorf(EINVALID, "شماره تلفن معتبر نیست."))
	}
	position := req.Position
	if position == "" {
		position = PositionMember
	}
	if !validPosition(position) {
		return Membership{}, fmt.Errorf("models: request membership: %w", Errorf(EINVALID, "سمت باید رئیس، دبیر یا عضو باشد."))
	}
	actor := Actor{Platform: req.Platform, UserID: req.UserID}

	var m Membership
	err = s.transact(ctx, func(tx *gorm.DB) error {
		now := s.now()
		place, err := placeOf(tx, req.PlaceID)
		if err != nil {
			return invalidRef(err, "محل انتخاب‌شده پیدا نشد.")
		}
		if err := committeeAllowed(tx, req.CommitteeID, place.ProvinceID); err != nil {
			return err
		}
		p, ok, err := personByPhone(tx, e164)
		if err != nil {
			return err
		}
		if !ok {
			name, ok := cleanName(req.Name)
			if !ok {
				return Errorf(EINVALID, "نام باید بین ۲ تا ۶۰ حرف باشد.")
			}
			p = Person{Name: name, Phone: &e164, CreatedAt: now}
			if err := tx.Create(&p).Error; err != nil {
				return err
			}
			if err := writeAudit(tx, now, actor, AuditCreate, EntityPerson, p.ID, "request"); err != nil {
				return err
			}
		} else if name, ok := cleanName(req.Name); ok && p.Name == "" {
			// Staff named by phone only: the request gives them a name.
			if err := tx.Model(&Person{}).Where("id = ?", p.ID).Update("name", name).Error; err != nil {
				return err
			}
			p.Name = name
		}
		if err := linkIdentity(tx, now, req.Platform, req.UserID, req.ChatID, p.ID); err != nil {
			return err
		}
		c, err := councilFor(tx, now, place.ID)
		if err != nil {
			return err
		}
		open, ok, err := openMembership(tx, p.ID, c.ID)
		if err != nil {
			return err
		}
		if ok {
			if open.Status == MembershipActive {
				return Errorf(ECONFLICT, "شما هم‌اکنون عضو شورای این محله هستید.")
			}
			m = open
			return nil
		}
		m = Membership{PersonID: p.ID, CouncilID: c.ID, Position: position, CommitteeID: req.CommitteeID,
			Since: now, Status: MembershipPending, Source: SourceRequest}
		if err := tx.Create(&m).Error; err != nil {
			return err
		}
		if err := writeAudit(tx, now, actor, AuditCreate, EntityMembership, m.ID, membershipDetail(m)); err != nil {
			return err
		}
		return noticeMembershipRequest(tx, now, p, m, place)
	})
	if err != nil {
		return Membership{}, fmt.Errorf("models: request membership: %w", err)
	}
	return m, nil
}

// membershipDetail describes a membership for the audit log.
func membershipDetail(m Membership) string {
	return fmt.Sprintf("person %d council %d %s committee %d %s (%s)", m.PersonID, m.CouncilID, m.Position, m.CommitteeID, m.Status, m.Source)
}

// placeOf returns the place with its county and province ids. Returns
// ENOTFOUND when there is no such place.
func placeOf(tx *gorm.DB, placeID uint) (PlaceMatch, error) {
	var ms []PlaceMatch
	err := placeRow(tx, placeID, "").Scan(&ms).Error
	if err != nil {
		return PlaceMatch{}, err
	}
	if len(ms) == 0 {
		return PlaceMatch{}, Errorf(ENOTFOUND, "place %d not found", placeID)
	}
	return ms[0], nil
}

// placeRow selects place placeID with PlaceMatch's columns (its county and
// province) and the columns of extra, whose placeholders args fill.
func placeRow(tx *gorm.DB, placeID uint, extra string, args ...any) *gorm.DB {
	cols := "places.*, counties.province_id AS province_id, counties.name AS county_name, provinces.name AS province_name"
	if extra != "" {
		cols += ", " + extra
	}
	return tx.Table("places").Select(cols, args...).
		Joins("JOIN counties ON counties.id = places.county_id").
		Joins("JOIN provinces ON provinces.id = counties.province_id").
		Where("places.id = ?", placeID).Limit(1)
}

// committeeAllowed returns EINVALID unless the committee exists and is on
// the list a place in the province uses: the province's own list when it
// has one, else the programme's default list.
func committeeAllowed(tx *gorm.DB, committeeID, provinceID uint) error {
	var c Committee
	if err := tx.Take(&c, committeeID).Error; notFound(err) {
		return Errorf(EINVALID, "کمیته انتخاب‌شده پیدا نشد.")
	} else if err != nil {
		return err
	}
	if c.ProvinceID != nil {
		if *c.ProvinceID != provinceID {
			return Errorf(EINVALID, "این کمیته در فهرست کمیته‌های استان این محل نیست.")
		}
		return nil
	}
	var own int64
	if err := tx.Model(&Committee{}).Where("province_id = ?", provinceID).Count(&own).Error; err != nil {
		return err
	}
	if own > 0 {
		return Errorf(EINVALID, "این کمیته در فهرست کمیته‌های استان این محل نیست.")
	}
	return nil
}

// openMembership returns the person's pending or active membership of the
// council and whether there is one (there is at most one).
func openMembership(tx *gorm.DB, personID, councilID uint) (Membership, bool, error) {
	var m Membership
	err := tx.Where("person_id = ? AND council_id = ? AND status <> ?", personID, councilID, MembershipEnded).Take(&m).Error
	if notFound(err) {
		return Membership{}, false, nil
	} else if err != nil {
		return Membership{}, false, err
	}
	return m, true, nil
}

// ActivateMembership makes a pending membership active from now, as a
// coordinator approving a request does, with an audit entry and an urgent
// notice to the member, in one transaction. Activating an
// active membership does nothing. Returns ENOTFOUND when there is no such
// membership and ECONFLICT when it has ended.
func (s *Store) ActivateMembership(ctx context.Context, actor Actor, id uint) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		m, err := membershipByID(tx, id)
		if err != nil {
			return err
		}
		switch m.Status {
		case MembershipActive:
			return nil
		case MembershipEnded:
			return Errorf(ECONFLICT, "این عضویت پایان یافته است.")
		}
		now := s.now()
		if err := tx.Model(&Membership{}).Where("id = ?", id).
			Updates(map[string]any{"status": MembershipActive, "since": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := writeAudit(tx, now, actor, AuditStatus, EntityMembership, id, MembershipPending+" -> "+MembershipActive); err != nil {
			return err
		}
		return noticeMembershipDecision(tx, now, m, true)
	})
	if err != nil {
		return fmt.Errorf("models: activate membership %d: %w", id, err)
	}
	return nil
}

// EndMembership ends a pending or active membership now (Until is set, the
// row is kept), with an audit entry; ending a pending one turns the request
// down, and the person gets an urgent notice in the same transaction. Ending an ended membership does
// nothing. Returns ENOTFOUND when there is no such membership.
func (s *Store) EndMembership(ctx context.Context, actor Actor, id uint) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		m, err := membershipByID(tx, id)
		if err != nil {
			return err
		}
		if m.Status == MembershipEnded {
			return nil
		}
		now := s.now()
		if err := endMembership(tx, now, actor, m); err != nil {
			return err
		}
		if m.Status == MembershipPending { // a request turned down
			return noticeMembershipDecision(tx, now, m, false)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("models: end membership %d: %w", id, err)
	}
	return nil
}

// endMembership ends m at now and audits it.
func endMembership(tx *gorm.DB, now time.Time, actor Actor, m Membership) error {
	if err := tx.Model(&Membership{}).Where("id = ?", m.ID).
		Updates(map[string]any{"status": MembershipEnded, "until": now, "updated_at": now}).Error; err != nil {
		return err
	}
	return writeAudit(tx, now, actor, AuditStatus, EntityMembership, m.ID, m.Status+" -> "+MembershipEnded)
}

// membershipByID returns the membership, or ENOTFOUND.
func membershipByID(tx *gorm.DB, id uint) (Membership, error) {
	var m Membership
	if err := tx.Take(&m, id).Error; notFound(err) {
		return Membership{}, Errorf(ENOTFOUND, "membership %d not found", id)
	} else if err != nil {
		return Membership{}, err
	}
	return m, nil
}

// Default and largest page sizes of list methods.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)
