package models

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/mahalle/mahalle/persian"
)

// Staff assignment statuses. An assignment made by phone waits (pending)
// until the person opens the bot and shares that contact; it is active from
// then until it is ended. Rows are never deleted: they are the history.
const (
	StaffPending = "pending"
	StaffActive  = "active"
	StaffEnded   = "ended"
)

// menuButton is the button of a notice that changed the person's roles: it
// shows their menu as it is now (conversations.MenuHome).
var menuButton = ButtonList{{Label: "🏠 منوی تازهٔ شما", Data: "_menu"}}

// EntityStaff is the audit entity of staff assignments.
const EntityStaff = "staff"

// staffFromConfig is who assigned an admin named in ADMIN_PHONES.
const staffFromConfig = "config"

// StaffAssignment is one coordinator or admin role held by the person with
// Phone: a county coordinator (CountyID and its ProvinceID set), a province
// coordinator (ProvinceID set) or an admin (neither), from Since until Until.
type StaffAssignment struct {
	ID                 uint
	Phone              string // E.164
	PersonID           *uint  // set once the person is known
	Role               Role   // RoleCounty, RoleProvince or RoleAdmin
	ProvinceID         *uint
	CountyID           *uint
	Status             string
	Since              time.Time // when it was made (pending) or became active
	Until              *time.Time
	AssignedByPersonID *uint // the person who assigned it; nil from the command line or ADMIN_PHONES
	AssignedByPlatform string
	AssignedByUserID   int64
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// TableName pins the table name for GORM.
func (StaffAssignment) TableName() string { return "staff_assignments" }

// StaffView is an assignment with the names a person reading it needs.
type StaffView struct {
	StaffAssignment
	PersonName   string
	ProvinceName string
	CountyName   string
}

// StaffRequest asks for a staff role for the person with Phone.
type StaffRequest struct {
	Phone      string // any form persian.NormalizePhone reads
	Role       Role   // RoleCounty, RoleProvince or RoleAdmin
	ProvinceID uint   // RoleProvince; for RoleCounty it is taken from the county
	CountyID   uint   // RoleCounty
	By         uint   // the assigning person, 0 for the command line
	ID         uint   // EndStaff: end only this assignment (ENOTFOUND when it is no longer the open one)

	as *Viewer // who asks in the chat (AssignStaffAs, EndStaffAs); nil for the command line
}

// permitted refuses a request made in the chat by someone who may not
// manage that role there ([Viewer.ManagesStaff]). Call it after checkScope,
// which fills the province of a county.
func (req StaffRequest) permitted() error {
	if req.as == nil || req.as.ManagesStaff(req.Role, req.ProvinceID) {
		return nil
	}
	return Errorf(EFORBIDDEN, "انتصاب در این استان با مدیر سامانه یا هماهنگ‌کنندهٔ همین استان است.")
}

// AssignStaffAs is AssignStaff asked in the chat by v: an admin anywhere,
// or a province coordinator in their own province (EFORBIDDEN otherwise).
func (s *Store) AssignStaffAs(ctx context.Context, v Viewer, req StaffRequest) (StaffAssignment, error) {
	req.By, req.as = v.PersonID, &v
	return s.AssignStaff(ctx, v.actor(), req)
}

// EndStaffAs is EndStaff asked in the chat by v, under AssignStaffAs's
// rule; nobody ends their own role this way (EFORBIDDEN).
func (s *Store) EndStaffAs(ctx context.Context, v Viewer, req StaffRequest) (StaffAssignment, error) {
	req.By, req.as = v.PersonID, &v
	return s.EndStaff(ctx, v.actor(), req)
}

// StaffInScope lists the open county and province coordinator roles v
// may end in the chat, by province, role and id; nothing for anyone else.
func (s *Store) StaffInScope(ctx context.Context, v Viewer) ([]StaffView, error) {
	q := staffViews(s.db.WithContext(ctx)).
		Where("staff_assignments.status <> ? AND staff_assignments.role IN ?", StaffEnded, []Role{RoleCounty, RoleProvince}).
		Order("staff_assignments.province_id, staff_assignments.role DESC, counties.name, staff_assignments.id")
	if !v.Has(RoleAdmin) {
		var provinces []uint
		for _, sc := range v.Staff {
			if sc.Role == RoleProvince {
				provinces = append(provinces, sc.ProvinceID)
			}
		}
		if len(provinces) == 0 {
			return nil, nil
		}
		q = q.Where("staff_assignments.province_id IN ?", provinces)
	}
	vs := []StaffView{}
	if err := q.Scan(&vs).Error; err != nil {
		return nil, fmt.Errorf("models: staff in scope: %w", err)
	}
	return vs, nil
}

// StaffByID returns one assignment with its names; ENOTFOUND when there is
// no such assignment.
func (s *Store) StaffByID(ctx context.Context, id uint) (StaffView, error) {
	var vs []StaffView
	if err := staffViews(s.db.WithContext(ctx)).Where("staff_assignments.id = ?", id).Limit(1).Scan(&vs).Error; err != nil {
		return StaffView{}, fmt.Errorf("models: staff %d: %w", id, err)
	}
	if len(vs) == 0 {
		return StaffView{}, fmt.Errorf("models: staff %d: %w", id, Errorf(ENOTFOUND, "no such assignment"))
	}
	return vs[0], nil
}

// PhoneOf returns the phone the person behind a platform account shared
// with the bot: how a message forwarded from them names them. ENOTFOUND
// when the account never shared one.
func (s *Store) PhoneOf(ctx context.Context, platform string, userID int64) (string, error) {
	var phones []string
	err := s.db.WithContext(ctx).Table("identities").Select("people.phone").
		Joins("JOIN people ON people.id = identities.person_id").
		Where("identities.platform = ? AND identities.user_id = ? AND people.phone IS NOT NULL", platform, userID).
		Limit(1).Pluck("people.phone", &phones).Error
	if err != nil {
		return "", fmt.Errorf("models: phone of %s:%d: %w", platform, userID, err)
	}
	if len(phones) == 0 || phones[0] == "" {
		return "", fmt.Errorf("models: phone of %s:%d: %w", platform, userID, Errorf(ENOTFOUND, "no phone shared"))
	}
	return phones[0], nil
}

// RoleName returns the Persian name of a staff role, with its place when
// given: «هماهنگ‌کنندهٔ شهرستان اراک».
func RoleName(r Role, place string) string {
	var s string
	switch r {
	case RoleCounty:
		s = "هماهنگ‌کنندهٔ شهرستان"
	case RoleProvince:
		s = "هماهنگ‌کنندهٔ استان"
	case RoleAdmin:
		return "مدیر سامانه"
	default:
		return string(r)
	}
	if place != "" {
		s += " " + place
	}
	return s
}

// checkScope fills the scope of a request from the database and returns
// the Persian name of the place it covers. EINVALID for a role that is no
// staff role, or a county or province that does not exist.
func checkScope(tx *gorm.DB, req *StaffRequest) (string, error) {
	switch req.Role {
	case RoleCounty:
		var c County
		if req.CountyID == 0 {
			return "", Errorf(EINVALID, "شهرستان مشخص نشده است.")
		}
		if err := tx.Take(&c, req.CountyID).Error; notFound(err) {
			return "", Errorf(EINVALID, "شهرستان پیدا نشد.")
		} else if err != nil {
			return "", err
		}
		req.ProvinceID = c.ProvinceID
		return c.Name, nil
	case RoleProvince:
		var p Province
		if req.ProvinceID == 0 {
			return "", Errorf(EINVALID, "استان مشخص نشده است.")
		}
		if err := tx.Take(&p, req.ProvinceID).Error; notFound(err) {
			return "", Errorf(EINVALID, "استان پیدا نشد.")
		} else if err != nil {
			return "", err
		}
		req.CountyID = 0
		return p.Name, nil
	case RoleAdmin:
		req.CountyID, req.ProvinceID = 0, 0
		return "", nil
	}
	return "", Errorf(EINVALID, "نقش باید هماهنگ‌کنندهٔ شهرستان، هماهنگ‌کنندهٔ استان یا مدیر باشد.")
}

func optID(id uint) *uint {
	if id == 0 {
		return nil
	}
	return &id
}

// openStaff returns the open (pending or active) assignment of the phone
// with the role and scope, and whether there is one.
func openStaff(tx *gorm.DB, phone string, role Role, provinceID, countyID uint) (StaffAssignment, bool, error) {
	var as []StaffAssignment
	err := tx.Where("phone = ? AND role = ? AND COALESCE(province_id, 0) = ? AND COALESCE(county_id, 0) = ? AND status <> ?",
		phone, role, provinceID, countyID, StaffEnded).Limit(1).Find(&as).Error
	if err != nil || len(as) == 0 {
		return StaffAssignment{}, false, err
	}
	return as[0], true, nil
}

// AssignStaff gives the person with req.Phone a staff role, with an audit
// entry, in one transaction. When that person has already shared their
// contact with the bot (an account is tied to them) it is active at once and
// they, and whoever assigned it, are sent a notice; otherwise it stays
// pending until they share it ([Store.LinkPhone]). Assigning a role the
// phone already holds, or waits for, returns that assignment and changes
// nothing. Returns EINVALID (with a Persian message) for a bad phone, role
// or scope.
func (s *Store) AssignStaff(ctx context.Context, actor Actor, req StaffRequest) (StaffAssignment, error) {
	e164, err := persian.NormalizePhone(req.Phone)
	if err != nil {
		return StaffAssignment{}, fmt.Errorf("models: assign staff: %w", Errorf(EINVALID, "شماره تلفن معتبر نیست."))
	}
	var a StaffAssignment
	err = s.transact(ctx, func(tx *gorm.DB) error {
		now := s.now()
		if _, err := checkScope(tx, &req); err != nil {
			return err
		}
		if err := req.permitted(); err != nil {
			return err
		}
		open, ok, err := openStaff(tx, e164, req.Role, req.ProvinceID, req.CountyID)
		if err != nil {
			return err
		} else if ok {
			a = open
			return nil
		}
		a = StaffAssignment{Phone: e164, Role: req.Role, ProvinceID: optID(req.ProvinceID), CountyID: optID(req.CountyID),
			Status: StaffPending, Since: now, AssignedByPersonID: optID(req.By),
			AssignedByPlatform: actor.Platform, AssignedByUserID: actor.UserID}
		if err := tx.Create(&a).Error; err != nil {
			return err
		}
		if err := writeAudit(tx, now, actor, AuditCreate, EntityStaff, a.ID, staffDetail(a)); err != nil {
			return err
		}
		p, ok, err := personByPhone(tx, e164)
		if err != nil || !ok {
			return err
		}
		var linked int64
		if err := tx.Model(&Identity{}).Where("person_id = ?", p.ID).Count(&linked).Error; err != nil {
			return err
		}
		if linked == 0 {
			return nil // they never shared this contact with the bot
		}
		// The assigner is in the chat reading that it is done: no notice.
		return activateStaff(tx, now, p, &a, false)
	})
	if err != nil {
		return StaffAssignment{}, fmt.Errorf("models: assign staff: %w", err)
	}
	return a, nil
}

// activateStaff makes a pending assignment active for person p and queues
// the notices: to p, and, when tellAssigner, to whoever assigned it.
func activateStaff(tx *gorm.DB, now time.Time, p Person, a *StaffAssignment, tellAssigner bool) error {
	if err := tx.Model(&StaffAssignment{}).Where("id = ?", a.ID).
		Updates(map[string]any{"person_id": p.ID, "status": StaffActive, "since": now, "updated_at": now}).Error; err != nil {
		return err
	}
	a.PersonID, a.Status, a.Since, a.UpdatedAt = &p.ID, StaffActive, now, now
	if err := writeAudit(tx, now, Actor{Platform: "system"}, AuditStatus, EntityStaff, a.ID, StaffPending+" -> "+StaffActive); err != nil {
		return err
	}
	place, err := scopeName(tx, *a)
	if err != nil {
		return err
	}
	if a.AssignedByPlatform == staffFromConfig {
		return nil // ADMIN_PHONES: the join flow says so as it happens
	}
	role := RoleName(a.Role, place)
	key := fmt.Sprintf("staff:%d:active", a.ID)
	err = notifyPeople(tx, now, []uint{p.ID}, key, Notice{
		Kind: KindStaffAssigned, Entity: EntityStaff, EntityID: a.ID, Urgent: true,
		Text: fmt.Sprintf("شما %s شدید.", role), Buttons: menuButton,
	})
	if err != nil || !tellAssigner || a.AssignedByPersonID == nil || *a.AssignedByPersonID == p.ID {
		return err
	}
	who := p.Name
	if who == "" {
		who = "دارندهٔ شمارهٔ " + persian.FormatMobile(p.PhoneOrEmpty())
	}
	return notifyPeople(tx, now, []uint{*a.AssignedByPersonID}, key+":by", Notice{
		Kind: KindStaffAssignedBy, Entity: EntityStaff, EntityID: a.ID,
		Text: fmt.Sprintf("انتصاب شما انجام شد: %s اکنون %s است.", who, role),
	})
}

// scopeName returns the Persian name of the county or province of an
// assignment, "" for an admin.
func scopeName(tx *gorm.DB, a StaffAssignment) (string, error) {
	var name string
	var err error
	switch {
	case a.CountyID != nil:
		err = tx.Model(&County{}).Select("name").Where("id = ?", *a.CountyID).Scan(&name).Error
	case a.ProvinceID != nil:
		err = tx.Model(&Province{}).Select("name").Where("id = ?", *a.ProvinceID).Scan(&name).Error
	}
	return name, err
}

// PhoneOrEmpty returns the person's phone, or "".
func (p Person) PhoneOrEmpty() string {
	if p.Phone == nil {
		return ""
	}
	return *p.Phone
}

func staffDetail(a StaffAssignment) string {
	d := fmt.Sprintf("%s %s", a.Role, a.Status)
	if a.CountyID != nil {
		d += fmt.Sprintf(" county %d", *a.CountyID)
	} else if a.ProvinceID != nil {
		d += fmt.Sprintf(" province %d", *a.ProvinceID)
	}
	return d
}

// linkStaff runs when person p shares their contact: ADMIN_PHONES makes
// them admin, and their pending assignments become active. It reports
// whether they are an admin now.
func (s *Store) linkStaff(tx *gorm.DB, now time.Time, p Person) (bool, error) {
	phone := p.PhoneOrEmpty()
	if slices.Contains(s.adminPhones, phone) {
		if _, ok, err := openStaff(tx, phone, RoleAdmin, 0, 0); err != nil {
			return false, err
		} else if !ok {
			a := StaffAssignment{Phone: phone, Role: RoleAdmin, Status: StaffPending, Since: now, AssignedByPlatform: staffFromConfig}
			if err := tx.Create(&a).Error; err != nil {
				return false, err
			}
			if err := writeAudit(tx, now, Actor{Platform: staffFromConfig}, AuditCreate, EntityStaff, a.ID, "admin from ADMIN_PHONES"); err != nil {
				return false, err
			}
		}
	}
	var pending []StaffAssignment
	if err := tx.Where("phone = ? AND status = ?", phone, StaffPending).Order("id").Find(&pending).Error; err != nil {
		return false, err
	}
	for i := range pending {
		if err := activateStaff(tx, now, p, &pending[i], true); err != nil {
			return false, err
		}
	}
	var n int64
	err := tx.Model(&StaffAssignment{}).Where("person_id = ? AND role = ? AND status = ?", p.ID, RoleAdmin, StaffActive).Count(&n).Error
	return n > 0, err
}

// SetAdminPhones sets ADMIN_PHONES (E.164): a person who shares one of
// these numbers becomes admin. Set it before use.
func (s *Store) SetAdminPhones(phones []string) { s.adminPhones = slices.Clone(phones) }

// IsAdmin reports whether the person holds an active admin assignment.
func (s *Store) IsAdmin(ctx context.Context, personID uint) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&StaffAssignment{}).
		Where("person_id = ? AND role = ? AND status = ?", personID, RoleAdmin, StaffActive).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("models: is admin: %w", err)
	}
	return n > 0, nil
}

// EndStaff ends the open assignment of the phone with the role and scope,
// with an audit entry, and returns it. Returns EINVALID for a bad phone,
// role or scope and ENOTFOUND when there is no such open assignment.
func (s *Store) EndStaff(ctx context.Context, actor Actor, req StaffRequest) (StaffAssignment, error) {
	e164, err := persian.NormalizePhone(req.Phone)
	if err != nil {
		return StaffAssignment{}, fmt.Errorf("models: end staff: %w", Errorf(EINVALID, "شماره تلفن معتبر نیست."))
	}
	var a StaffAssignment
	err = s.transact(ctx, func(tx *gorm.DB) error {
		place, err := checkScope(tx, &req)
		if err != nil {
			return err
		}
		if err := req.permitted(); err != nil {
			return err
		}
		open, ok, err := openStaff(tx, e164, req.Role, req.ProvinceID, req.CountyID)
		if err != nil {
			return err
		} else if !ok || req.ID != 0 && open.ID != req.ID {
			return Errorf(ENOTFOUND, "این شماره چنین نقشی ندارد.")
		}
		if req.as != nil && open.PersonID != nil && *open.PersonID == req.as.PersonID {
			return Errorf(EFORBIDDEN, "نقش خودتان را نمی‌توانید پایان دهید؛ از مدیر سامانه بخواهید.")
		}
		now := s.now()
		if err := tx.Model(&StaffAssignment{}).Where("id = ?", open.ID).
			Updates(map[string]any{"status": StaffEnded, "until": now, "updated_at": now}).Error; err != nil {
			return err
		}
		a = open
		a.Status, a.Until, a.UpdatedAt = StaffEnded, &now, now
		if err := writeAudit(tx, now, actor, AuditStatus, EntityStaff, a.ID, open.Status+" -> "+StaffEnded); err != nil {
			return err
		}
		if open.Status != StaffActive || open.PersonID == nil {
			return nil // they never took it up: nobody to tell
		}
		return notifyPeople(tx, now, []uint{*open.PersonID}, fmt.Sprintf("staff:%d:ended", a.ID), Notice{
			Kind: KindStaffEnded, Entity: EntityStaff, EntityID: a.ID, Urgent: true, Buttons: menuButton,
			Text: fmt.Sprintf("نقش شما به‌عنوان %s پایان یافت.", RoleName(a.Role, place)),
		})
	})
	if err != nil {
		return StaffAssignment{}, fmt.Errorf("models: end staff: %w", err)
	}
	return a, nil
}

// Staff lists assignments with names, open ones first then by id; ended
// ones only when history is set.
func (s *Store) Staff(ctx context.Context, history bool) ([]StaffView, error) {
	q := staffViews(s.db.WithContext(ctx)).
		Order("CASE WHEN staff_assignments.status = 'ended' THEN 1 ELSE 0 END, staff_assignments.id")
	if !history {
		q = q.Where("staff_assignments.status <> ?", StaffEnded)
	}
	vs := []StaffView{}
	if err := q.Scan(&vs).Error; err != nil {
		return nil, fmt.Errorf("models: staff: %w", err)
	}
	return vs, nil
}

// staffViews selects assignments with the names of their person and places.
func staffViews(db *gorm.DB) *gorm.DB {
	return db.Table("staff_assignments").
		Select("staff_assignments.*, COALESCE(people.name, '') AS person_name, COALESCE(provinces.name, '') AS province_name, COALESCE(counties.name, '') AS county_name").
		Joins("LEFT JOIN people ON people.id = staff_assignments.person_id").
		Joins("LEFT JOIN provinces ON provinces.id = staff_assignments.province_id").
		Joins("LEFT JOIN counties ON counties.id = staff_assignments.county_id")
}

// staffScopes returns the active assignments of a person as scopes.
func staffScopes(db *gorm.DB, personID uint) ([]StaffScope, error) {
	var as []StaffAssignment
	if err := db.Where("person_id = ? AND status = ?", personID, StaffActive).Order("id").Find(&as).Error; err != nil {
		return nil, err
	}
	var out []StaffScope
	for _, a := range as {
		sc := StaffScope{Role: a.Role}
		if a.ProvinceID != nil {
			sc.ProvinceID = *a.ProvinceID
		}
		if a.CountyID != nil {
			sc.CountyID = *a.CountyID
		}
		out = append(out, sc)
	}
	return out, nil
}

// staffPeople returns the people holding the role, active, where the
// condition on the assignment holds.
func staffPeople(tx *gorm.DB, role Role, cond string, args ...any) ([]uint, error) {
	var ids []uint
	err := tx.Model(&StaffAssignment{}).Where("role = ? AND status = ? AND person_id IS NOT NULL", role, StaffActive).
		Where(cond, args...).Order("person_id").Distinct().Pluck("person_id", &ids).Error
	return ids, err
}

// awaitsStaff reports whether the phone is in ADMIN_PHONES or has a pending
// staff assignment.
func (s *Store) awaitsStaff(tx *gorm.DB, phone string) (bool, error) {
	if slices.Contains(s.adminPhones, phone) {
		return true, nil
	}
	var n int64
	err := tx.Model(&StaffAssignment{}).Where("phone = ? AND status = ?", phone, StaffPending).Count(&n).Error
	return n > 0, err
}
