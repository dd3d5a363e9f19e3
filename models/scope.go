package models

// Scope checks: every list, count and decision of a coordinator is limited
// to where their assignment holds; a council member's to their council.

// Supervises reports whether v is staff over the county countyID of
// province provinceID: an admin anywhere, a province coordinator in their
// province, a county coordinator in their county.
func (v Viewer) Supervises(provinceID, countyID uint) bool {
	for _, s := range v.Staff {
		switch s.Role {
		case RoleAdmin:
			return true
		case RoleProvince:
			if s.ProvinceID == provinceID {
				return true
			}
		case RoleCounty:
			if s.CountyID == countyID {
				return true
			}
		}
	}
	return false
}

// ManagesStaff reports whether v may assign or end, in the chat, the staff
// role r in province provinceID: an admin anywhere, a province coordinator
// in their own province. Only county and province coordinators are made
// this way; admins come from ADMIN_PHONES and the command line.
func (v Viewer) ManagesStaff(r Role, provinceID uint) bool {
	if r != RoleCounty && r != RoleProvince {
		return false
	}
	for _, s := range v.Staff {
		if s.Role == RoleAdmin || s.Role == RoleProvince && s.ProvinceID == provinceID {
			return true
		}
	}
	return false
}

// ManagesAnyStaff reports whether v may assign coordinators somewhere: an
// admin or a province coordinator.
func (v Viewer) ManagesAnyStaff() bool { return v.Has(RoleAdmin) || v.Has(RoleProvince) }

// IsStaff reports whether v holds any coordinator or admin assignment.
func (v Viewer) IsStaff() bool { return len(v.Staff) > 0 }

// Seat returns v's active membership of council councilID, if any.
func (v Viewer) Seat(councilID uint) (MembershipView, bool) {
	for _, m := range v.Memberships {
		if m.CouncilID == councilID {
			return m, true
		}
	}
	return MembershipView{}, false
}

// Leads reports whether v is the chair or secretary of council councilID:
// the two who route the council's suggestions.
func (v Viewer) Leads(councilID uint) bool {
	m, ok := v.Seat(councilID)
	return ok && (m.Position == PositionChair || m.Position == PositionSecretary)
}

// Chairs reports whether v is the chair of council councilID.
func (v Viewer) Chairs(councilID uint) bool {
	m, ok := v.Seat(councilID)
	return ok && m.Position == PositionChair
}

// actor is how the audit log names v.
func (v Viewer) actor() Actor { return Actor{Platform: v.Platform, UserID: v.UserID} }

// scopeFilter limits a query over a table with county_id and province_id
// columns reachable as countyCol and provinceCol to v's staff scope. It
// returns ok=false when v supervises nothing (the caller returns nothing).
func (v Viewer) scopeFilter(countyCol, provinceCol string) (where string, args []any, ok bool) {
	var counties, provinces []uint
	for _, s := range v.Staff {
		switch s.Role {
		case RoleAdmin:
			return "1 = 1", nil, true
		case RoleProvince:
			provinces = append(provinces, s.ProvinceID)
		case RoleCounty:
			counties = append(counties, s.CountyID)
		}
	}
	switch {
	case len(counties) > 0 && len(provinces) > 0:
		return "(" + countyCol + " IN ? OR " + provinceCol + " IN ?)", []any{counties, provinces}, true
	case len(counties) > 0:
		return countyCol + " IN ?", []any{counties}, true
	case len(provinces) > 0:
		return provinceCol + " IN ?", []any{provinces}, true
	}
	return "", nil, false
}
