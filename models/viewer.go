package models

import (
	"context"
	"fmt"
	"time"
)

// Role is what a person may do in Mahalle. A person can hold several.
type Role string

// The roles. Everyone is a resident; the others come from a council
// membership or a staff assignment with a scope.
const (
	RoleResident    Role = "resident"
	RoleMember      Role = "member"    // an active council member (any position)
	RoleChair       Role = "chair"     // the council's chair (رئیس); also RoleMember
	RoleSecretary   Role = "secretary" // the council's secretary (دبیر); also RoleMember
	RoleCounty      Role = "county"    // a county coordinator, scoped to a county
	RoleProvince    Role = "province"  // a province coordinator, scoped to a province
	RoleAdmin       Role = "admin"     // from ADMIN_PHONES, everywhere
	RolePendingJoin Role = "pending"   // has a membership request waiting
)

// StaffScope is one coordinator or admin assignment: the role and where it
// holds. CountyID is set for RoleCounty, ProvinceID for both coordinator roles.
type StaffScope struct {
	Role       Role
	ProvinceID uint
	CountyID   uint
}

// Viewer is who is asking, resolved once per update: the person behind a
// platform account and everything they may do. It is a read-only value.
type Viewer struct {
	Platform string
	UserID   int64
	PersonID uint // 0 when the account is not tied to a registered person

	Memberships []MembershipView // active council seats
	Pending     bool             // a membership request is waiting
	PendingAt   time.Time        // when the waiting request was sent (zero when none)
	Staff       []StaffScope     // coordinator and admin assignments in force
}

// Stranger reports whether no registered person stands behind the account:
// a resident, and nothing more.
func (v Viewer) Stranger() bool {
	return v.PersonID == 0 && !v.Pending && len(v.Memberships) == 0 && len(v.Staff) == 0
}

// Has reports whether the viewer holds role r anywhere.
func (v Viewer) Has(r Role) bool {
	switch r {
	case RoleResident:
		return true
	case RoleMember:
		return len(v.Memberships) > 0
	case RoleChair, RoleSecretary:
		for _, m := range v.Memberships {
			if string(r) == positionRole(m.Position) {
				return true
			}
		}
		return false
	case RolePendingJoin:
		return v.Pending
	}
	for _, s := range v.Staff {
		if s.Role == r {
			return true
		}
	}
	return false
}

// Roles lists the roles the viewer holds, resident first.
func (v Viewer) Roles() []Role {
	var out []Role
	for _, r := range []Role{RoleResident, RoleMember, RoleChair, RoleSecretary, RolePendingJoin, RoleCounty, RoleProvince, RoleAdmin} {
		if v.Has(r) {
			out = append(out, r)
		}
	}
	return out
}

// Membership returns the viewer's active membership (the first, when a
// person sits on two councils) and whether there is one.
func (v Viewer) Membership() (MembershipView, bool) {
	if len(v.Memberships) == 0 {
		return MembershipView{}, false
	}
	return v.Memberships[0], true
}

func positionRole(position string) string {
	switch position {
	case PositionChair:
		return string(RoleChair)
	case PositionSecretary:
		return string(RoleSecretary)
	}
	return string(RoleMember)
}

// Viewer resolves who is behind a platform account: their person, active
// memberships, a pending request and staff assignments in force. A person's
// Telegram and Bale accounts tied to one verified phone are one person, so
// both resolve to the same roles. It also records, to the minute, that the
// person wrote from this account: their notices go to the account they last
// wrote from. An account never seen, or not tied to a person, is a plain
// resident (no error). Errors are EINTERNAL faults of the database.
func (s *Store) Viewer(ctx context.Context, platform string, userID int64) (Viewer, error) {
	v := Viewer{Platform: platform, UserID: userID}
	db := s.db.WithContext(ctx)
	var id Identity
	res := db.Where("platform = ? AND user_id = ?", platform, userID).Limit(1).Find(&id)
	if res.Error != nil {
		return v, fmt.Errorf("models: viewer: %w", res.Error)
	}
	if res.RowsAffected == 0 || id.PersonID == nil {
		return v, nil
	}
	v.PersonID = *id.PersonID
	now := s.now()
	if id.LastSeenAt == nil || now.Sub(*id.LastSeenAt) >= time.Minute {
		if err := db.Model(&Identity{}).Where("id = ?", id.ID).UpdateColumn("last_seen_at", now).Error; err != nil {
			return v, fmt.Errorf("models: viewer: %w", err)
		}
	}
	vs, err := activeViews(db, v.PersonID)
	if err != nil {
		return v, fmt.Errorf("models: viewer: %w", err)
	}
	v.Memberships = vs
	if len(vs) == 0 {
		var pending []Membership
		if err := db.Where("person_id = ? AND status = ?", v.PersonID, MembershipPending).Order("since").Limit(1).Find(&pending).Error; err != nil {
			return v, fmt.Errorf("models: viewer: %w", err)
		}
		if len(pending) > 0 {
			v.Pending, v.PendingAt = true, pending[0].Since
		}
	}
	if v.Staff, err = staffScopes(db, v.PersonID); err != nil {
		return v, fmt.Errorf("models: viewer: %w", err)
	}
	return v, nil
}

// StaffOf returns the staff assignments in force of a person (none for a
// person who holds no staff role).
func (s *Store) StaffOf(ctx context.Context, personID uint) ([]StaffScope, error) {
	out, err := staffScopes(s.db.WithContext(ctx), personID)
	if err != nil {
		return nil, fmt.Errorf("models: staff of: %w", err)
	}
	return out, nil
}
