package models_test

import (
	"errors"
	"slices"
	"testing"

	"gorm.io/gorm"

	"github.com/mahalle/mahalle/models"
)

// TestStaffAssignmentWaitsForContact assigns a county coordinator by a phone
// nobody shared yet: it waits; the person shares their contact on Telegram
// and it becomes active, with a notice to them and to whoever assigned it;
// their Bale account with the same phone is the same person; ending it keeps
// the history.
func TestStaffAssignmentWaitsForContact(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	by := models.Actor{Platform: "tg", UserID: 700}
	a, err := s.AssignStaff(ctx, by, models.StaffRequest{Phone: "0912 999 9999", Role: models.RoleCounty, CountyID: c.arak1.CountyID, By: c.maryam})
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != models.StaffPending || a.PersonID != nil || a.ProvinceID == nil || *a.ProvinceID != c.arak1.ProvinceID || a.Phone != "+989129999999" {
		t.Errorf("assignment = %+v, want pending in the county's province", a)
	}
	again, err := s.AssignStaff(ctx, by, models.StaffRequest{Phone: "+989129999999", Role: models.RoleCounty, CountyID: c.arak1.CountyID})
	if err != nil || again.ID != a.ID {
		t.Errorf("second assignment = %+v, %v; want the same row", again, err)
	}
	if v, err := s.Viewer(ctx, "tg", 800); err != nil || v.Has(models.RoleCounty) {
		t.Errorf("viewer before sharing = %+v, %v", v, err)
	}
	if n := noticesOf(t, s, models.KindStaffAssigned); len(n) != 0 {
		t.Errorf("notices before the contact is shared = %+v", n)
	}

	p, vs, err := s.LinkPhone(ctx, "tg", 800, 800, "09129999999")
	if err != nil || len(vs) != 0 || p.Name != "" {
		t.Fatalf("LinkPhone = %+v, %+v, %v", p, vs, err)
	}
	v, err := s.Viewer(ctx, "tg", 800)
	if err != nil || v.PersonID != p.ID || !v.Has(models.RoleCounty) || len(v.Staff) != 1 || v.Staff[0].CountyID != c.arak1.CountyID {
		t.Errorf("viewer after sharing = %+v, %v", v, err)
	}
	told := noticesOf(t, s, models.KindStaffAssigned, models.KindStaffAssignedBy)
	if len(told) != 2 || *told[0].PersonID != p.ID || !told[0].Urgent || told[0].Text != "شما هماهنگ‌کنندهٔ شهرستان اراک شدید." ||
		*told[1].PersonID != c.maryam {
		t.Errorf("notices = %+v, want one to the coordinator and one to who assigned them", told)
	}

	// The same phone on Bale is the same person, with the same roles.
	if _, _, err := s.LinkPhone(ctx, "bale", 9800, 9800, "+989129999999"); err != nil {
		t.Fatal(err)
	}
	bv, err := s.Viewer(ctx, "bale", 9800)
	if err != nil || bv.PersonID != v.PersonID || !bv.Has(models.RoleCounty) {
		t.Errorf("bale viewer = %+v, %v; want person %d, a county coordinator", bv, err, v.PersonID)
	}
	if n := noticesOf(t, s, models.KindStaffAssigned); len(n) != 1 {
		t.Errorf("a second account re-sent the appointment: %d notices", len(n))
	}

	list, err := s.Staff(ctx, false)
	if err != nil || len(list) != 1 || list[0].CountyName != "اراک" || list[0].Status != models.StaffActive {
		t.Errorf("Staff = %+v, %v", list, err)
	}
	ended, err := s.EndStaff(ctx, models.ActorCLI, models.StaffRequest{Phone: "09129999999", Role: models.RoleCounty, CountyID: c.arak1.CountyID})
	if err != nil || ended.Status != models.StaffEnded || ended.Until == nil {
		t.Errorf("EndStaff = %+v, %v", ended, err)
	}
	if v, _ := s.Viewer(ctx, "tg", 800); v.Has(models.RoleCounty) {
		t.Errorf("viewer after the end = %+v", v)
	}
	if _, err := s.EndStaff(ctx, models.ActorCLI, models.StaffRequest{Phone: "09129999999", Role: models.RoleCounty, CountyID: c.arak1.CountyID}); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("second EndStaff = %v, want ENOTFOUND", err)
	}
	if hist, _ := s.Staff(ctx, true); len(hist) != 1 || hist[0].Status != models.StaffEnded {
		t.Errorf("history = %+v", hist)
	}
	if es, _ := s.AuditEntries(ctx, models.EntityStaff, a.ID); len(es) != 3 {
		t.Errorf("audit = %+v, want created, activated, ended", es)
	}
	for _, bad := range []models.StaffRequest{
		{Phone: "123", Role: models.RoleAdmin},
		{Phone: "09129999999", Role: models.RoleMember},
		{Phone: "09129999999", Role: models.RoleCounty},
		{Phone: "09129999999", Role: models.RoleProvince, ProvinceID: 99999},
	} {
		if _, err := s.AssignStaff(ctx, by, bad); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("AssignStaff(%+v) = %v, want EINVALID", bad, err)
		}
	}
}

// TestStaffActiveAtOnce assigns a member who already shared their contact:
// the role is active at once.
func TestStaffActiveAtOnce(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	if _, _, err := s.LinkPhone(ctx, "tg", 11, 11, phoneHasan); err != nil {
		t.Fatal(err)
	}
	a, err := s.AssignStaff(ctx, models.ActorCLI, models.StaffRequest{Phone: phoneHasan, Role: models.RoleProvince, ProvinceID: c.arak1.ProvinceID})
	if err != nil || a.Status != models.StaffActive || a.PersonID == nil || *a.PersonID != c.hasan {
		t.Fatalf("AssignStaff = %+v, %v", a, err)
	}
	v, _ := s.Viewer(ctx, "tg", 11)
	if !v.Has(models.RoleProvince) || !v.Has(models.RoleMember) {
		t.Errorf("viewer = %+v, want a member and a province coordinator", v)
	}
}

// TestAdminPhones: sharing a phone in ADMIN_PHONES makes the person admin;
// a roster member stays a member too.
func TestAdminPhones(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	s.SetAdminPhones([]string{"+989350000000", phoneAli})
	if _, _, err := s.LinkPhone(ctx, "tg", 21, 21, "09350000001"); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("a phone on no list = %v, want ENOTFOUND", err)
	}
	p, vs, err := s.LinkPhone(ctx, "tg", 20, 20, "09350000000")
	if err != nil || len(vs) != 0 {
		t.Fatalf("LinkPhone(admin) = %+v, %+v, %v", p, vs, err)
	}
	if ok, err := s.IsAdmin(ctx, p.ID); !ok || err != nil {
		t.Errorf("IsAdmin = %v, %v", ok, err)
	}
	v, _ := s.Viewer(ctx, "tg", 20)
	if !v.Has(models.RoleAdmin) || v.Has(models.RoleMember) || v.Pending {
		t.Errorf("admin viewer = %+v", v)
	}
	// Sharing it again changes nothing.
	if _, _, err := s.LinkPhone(ctx, "tg", 20, 20, "09350000000"); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.Staff(ctx, true); len(list) != 1 {
		t.Errorf("staff after a second share = %+v", list)
	}
	_, vs, err = s.LinkPhone(ctx, "bale", 22, 22, phoneAli)
	if err != nil || len(vs) != 1 {
		t.Fatalf("LinkPhone(member admin) = %+v, %v", vs, err)
	}
	if v, _ := s.Viewer(ctx, "bale", 22); !v.Has(models.RoleAdmin) || !v.Has(models.RoleSecretary) {
		t.Errorf("member admin viewer = %+v", v)
	}
}

// TestNoticeRollsBackWithItsCause fails the outbox insert of a membership
// request's notices (one statement for its two coordinators): the request
// is gone with it.
func TestNoticeRollsBackWithItsCause(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx := c.s, t.Context()
	for i, phone := range []string{"09120000001", "09120000002"} {
		if _, err := s.AssignStaff(ctx, models.ActorCLI, models.StaffRequest{Phone: phone, Role: models.RoleCounty, CountyID: c.arak1.CountyID}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.LinkPhone(ctx, "tg", int64(30+i), 0, phone); err != nil {
			t.Fatal(err)
		}
	}
	inserts := 0
	err := models.DB(s).Callback().Create().After("gorm:create").Register("test:fail_second_notice", func(db *gorm.DB) {
		if db.Statement.Table == "outbox" && db.Statement.Dest != nil {
			if ns, ok := db.Statement.Dest.(*[]models.Notice); ok && len(*ns) == 2 {
				if inserts++; inserts == 1 {
					_ = db.AddError(errors.New("disk full"))
				}
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	req := models.MembershipRequest{Platform: "tg", UserID: 40, Name: "رضا کاظمی", Phone: "09125555555",
		PlaceID: c.arak1.ID, CommitteeID: c.committees["security"].ID}
	if _, err := s.RequestMembership(ctx, req); err == nil {
		t.Fatal("RequestMembership succeeded; the test callback did not run")
	}
	if n := noticesOf(t, s, models.KindMembershipRequest); len(n) != 0 {
		t.Errorf("notices after the rollback = %+v, want none", n)
	}
	if _, err := s.MembershipsByPhone(ctx, "09125555555"); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("the request survived the rollback: %v", err)
	}
	// Once the database is well again, the request and both notices go in together.
	inserts = 10
	m, err := s.RequestMembership(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if n := noticesOf(t, s, models.KindMembershipRequest); len(n) != 2 || n[0].EntityID != m.ID || n[0].Buttons[0].Data == "" {
		t.Errorf("notices = %+v, want one per county coordinator", n)
	}
}

// TestStaffInTheChatStaysInItsProvince: a province coordinator names and
// ends coordinators in their own province only, lists only those, cannot
// name an admin, and cannot end their own role; an admin can do all but
// the last.
func TestStaffInTheChatStaysInItsProvince(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	ctx := t.Context()
	people := c.cast(t)
	var tehran models.County
	if err := models.DB(c.s).Where("province_id <> ?", c.arak1.ProvinceID).Order("id").Take(&tehran).Error; err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		v    models.Viewer
		req  models.StaffRequest
		want string
	}{
		{"a county of another province", people.province, models.StaffRequest{Phone: "09120000001", Role: models.RoleCounty, CountyID: tehran.ID}, models.EFORBIDDEN},
		{"another province", people.province, models.StaffRequest{Phone: "09120000001", Role: models.RoleProvince, ProvinceID: tehran.ProvinceID}, models.EFORBIDDEN},
		{"an admin", people.province, models.StaffRequest{Phone: "09120000001", Role: models.RoleAdmin}, models.EFORBIDDEN},
		{"an admin, by an admin", people.admin, models.StaffRequest{Phone: "09120000001", Role: models.RoleAdmin}, models.EFORBIDDEN},
		{"a county of their province", people.province, models.StaffRequest{Phone: "09120000001", Role: models.RoleCounty, CountyID: c.arak1.CountyID}, ""},
		{"a county of another province, by an admin", people.admin, models.StaffRequest{Phone: "09120000002", Role: models.RoleCounty, CountyID: tehran.ID}, ""},
	} {
		if _, err := c.s.AssignStaffAs(ctx, tc.v, tc.req); models.ErrorCode(err) != tc.want {
			t.Errorf("%s: %v, want code %q", tc.name, err, tc.want)
		}
	}
	list := func(v models.Viewer) []string {
		vs, err := c.s.StaffInScope(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range vs {
			out = append(out, s.Phone)
		}
		return out
	}
	if got := list(people.province); !slices.Equal(got, []string{"+989120000001"}) {
		t.Errorf("the province coordinator lists %v, want only the role in their province", got)
	}
	if got := list(people.admin); len(got) != 2 {
		t.Errorf("the admin lists %v, want both roles", got)
	}
	if got := list(people.county); len(got) != 0 {
		t.Errorf("a county coordinator lists %v, want nothing", got)
	}
	if _, err := c.s.EndStaffAs(ctx, people.province, models.StaffRequest{Phone: "09120000002", Role: models.RoleCounty, CountyID: tehran.ID}); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Errorf("ending a role in another province: %v, want EFORBIDDEN", err)
	}

	// Their own role, held as a real assignment: not ended by themselves.
	self, err := c.s.AssignStaff(ctx, models.ActorCLI, models.StaffRequest{Phone: "09120000003", Role: models.RoleProvince, ProvinceID: c.arak1.ProvinceID})
	if err != nil {
		t.Fatal(err)
	}
	p := models.Person{Name: "هماهنگ‌کنندهٔ تازه", Phone: &self.Phone}
	if err := models.DB(c.s).Create(&p).Error; err != nil {
		t.Fatal(err)
	}
	if err := models.DB(c.s).Model(&models.StaffAssignment{}).Where("id = ?", self.ID).Updates(map[string]any{"person_id": p.ID, "status": models.StaffActive}).Error; err != nil {
		t.Fatal(err)
	}
	me := models.Viewer{Platform: "tg", UserID: 1, PersonID: p.ID, Staff: []models.StaffScope{{Role: models.RoleProvince, ProvinceID: c.arak1.ProvinceID}}}
	if _, err := c.s.EndStaffAs(ctx, me, models.StaffRequest{Phone: self.Phone, Role: models.RoleProvince, ProvinceID: c.arak1.ProvinceID}); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Errorf("ending their own role: %v, want EFORBIDDEN", err)
	}
	if _, err := c.s.EndStaffAs(ctx, people.admin, models.StaffRequest{Phone: self.Phone, Role: models.RoleProvince, ProvinceID: c.arak1.ProvinceID}); err != nil {
		t.Errorf("the admin ends it: %v", err)
	}
}
