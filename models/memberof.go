package models

import (
	"context"
	"fmt"
)

// MemberOf returns the active membership of the person behind a platform
// account, the one every member feature is checked against. pending tells
// whether they have a request waiting for a coordinator. Returns ENOTFOUND
// (with pending set as it is) when there is no active membership, also when
// the account was never tied to a person.
func (s *Store) MemberOf(ctx context.Context, platform string, userID int64) (m MembershipView, pending bool, err error) {
	db := s.db.WithContext(ctx)
	var id Identity
	res := db.Where("platform = ? AND user_id = ?", platform, userID).Limit(1).Find(&id)
	if res.Error != nil {
		return m, false, fmt.Errorf("models: member of: %w", res.Error)
	}
	if res.RowsAffected == 0 || id.PersonID == nil {
		return m, false, fmt.Errorf("models: member of: %w", Errorf(ENOTFOUND, "%s:%d is no member", platform, userID))
	}
	vs, err := activeViews(db, *id.PersonID)
	if err != nil {
		return m, false, fmt.Errorf("models: member of: %w", err)
	}
	if len(vs) > 0 {
		return vs[0], false, nil
	}
	var n int64
	if err := db.Model(&Membership{}).Where("person_id = ? AND status = ?", *id.PersonID, MembershipPending).Count(&n).Error; err != nil {
		return m, false, fmt.Errorf("models: member of: %w", err)
	}
	return m, n > 0, fmt.Errorf("models: member of: %w", Errorf(ENOTFOUND, "%s:%d has no active membership", platform, userID))
}
