package models_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mahalle/mahalle/models"
)

// staff adds a person and returns them as a viewer holding scope.
func (c *council) staff(t *testing.T, name string, scope models.StaffScope) models.Viewer {
	t.Helper()
	p := models.Person{Name: name}
	if err := models.DB(c.s).Create(&p).Error; err != nil {
		t.Fatal(err)
	}
	return models.Viewer{Platform: "tg", UserID: int64(9000 + p.ID), PersonID: p.ID, Staff: []models.StaffScope{scope}}
}

// viewerOf resolves a roster person as the bot would.
func (c *council) viewerOf(t *testing.T, personID uint) models.Viewer {
	t.Helper()
	var id models.Identity
	if err := models.DB(c.s).Where("person_id = ?", personID).Limit(1).Find(&id).Error; err != nil {
		t.Fatal(err)
	}
	if id.ID == 0 {
		id = models.Identity{Platform: "tg", UserID: int64(7000 + personID), ChatID: int64(7000 + personID), PersonID: &personID}
		if err := models.DB(c.s).Create(&id).Error; err != nil {
			t.Fatal(err)
		}
	}
	v, err := c.s.Viewer(t.Context(), id.Platform, id.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// people of every kind the scope rules tell apart.
type cast struct {
	admin, province, county, otherCounty, chair, member, resident models.Viewer
}

func (c *council) cast(t *testing.T) cast {
	t.Helper()
	otherCounty := c.ashtian1.CountyID
	return cast{
		admin:       c.staff(t, "مدیر", models.StaffScope{Role: models.RoleAdmin}),
		province:    c.staff(t, "هماهنگ‌کنندهٔ استان", models.StaffScope{Role: models.RoleProvince, ProvinceID: c.arak1.ProvinceID}),
		county:      c.staff(t, "هماهنگ‌کنندهٔ اراک", models.StaffScope{Role: models.RoleCounty, ProvinceID: c.arak1.ProvinceID, CountyID: c.arak1.CountyID}),
		otherCounty: c.staff(t, "هماهنگ‌کنندهٔ آشتیان", models.StaffScope{Role: models.RoleCounty, ProvinceID: c.arak1.ProvinceID, CountyID: otherCounty}),
		chair:       c.viewerOf(t, c.maryam),
		member:      c.viewerOf(t, c.zahra),
		resident:    models.Viewer{Platform: "tg", UserID: 123456},
	}
}

func TestDecideActionScope(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		who  string
		pick func(cast) models.Viewer
		want string // error code, "" for allowed
	}{
		{"admin", func(c cast) models.Viewer { return c.admin }, ""},
		{"province coordinator", func(c cast) models.Viewer { return c.province }, ""},
		{"county coordinator of this county", func(c cast) models.Viewer { return c.county }, ""},
		{"county coordinator of another county", func(c cast) models.Viewer { return c.otherCounty }, models.EFORBIDDEN},
		{"chair", func(c cast) models.Viewer { return c.chair }, models.EFORBIDDEN},
		{"member", func(c cast) models.Viewer { return c.member }, models.EFORBIDDEN},
		{"resident", func(c cast) models.Viewer { return c.resident }, models.EFORBIDDEN},
	} {
		t.Run(tc.who, func(t *testing.T) {
			t.Parallel()
			c := newCouncil(t)
			people := c.cast(t)
			a := c.newAction(t, "act-scope")
			if err := c.s.CreateAction(t.Context(), reporter, &a); err != nil {
				t.Fatal(err)
			}
			v := tc.pick(people)
			_, err := c.s.DecideAction(t.Context(), v, a.ID, models.DecideVerify, "")
			if got := models.ErrorCode(err); got != tc.want {
				t.Fatalf("DecideAction by %s: %v, want code %q", tc.who, err, tc.want)
			}
			_, err = c.s.NextActionToReview(t.Context(), v)
			wantNext := tc.want
			if tc.want == "" {
				wantNext = models.ENOTFOUND // decided: the queue is empty
			} else if v.IsStaff() {
				wantNext = models.ENOTFOUND // staff elsewhere: nothing in their scope
			}
			if got := models.ErrorCode(err); got != wantNext {
				t.Errorf("NextActionToReview by %s: %v, want code %q", tc.who, err, wantNext)
			}
			got, _, err := c.s.Action(t.Context(), a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{true: models.ActionVerified, false: models.ActionSubmitted}[tc.want == ""]; got.Status != want {
				t.Errorf("status after %s decided = %s, want %s", tc.who, got.Status, want)
			}
		})
	}
}

func TestReviewQueueDecisionsAndNotices(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	ctx, people := t.Context(), c.cast(t)
	var ids []uint
	for _, key := range []string{"q1", "q2"} {
		a := c.newAction(t, key)
		a.Title = "اقدام " + key
		if err := c.s.CreateAction(ctx, reporter, &a); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	next, err := c.s.NextActionToReview(ctx, people.county)
	if err != nil || next.ID != ids[0] || next.PlaceName != c.arak1.Name || next.ReporterName != "مریم احمدی" {
		t.Fatalf("first in queue = %+v, %v; want the oldest, %d", next, err, ids[0])
	}
	// The province coordinator does not get the item the county holds.
	other, err := c.s.NextActionToReview(ctx, people.province)
	if err != nil || other.ID != ids[1] {
		t.Fatalf("second coordinator's next = %d, %v; want %d", other.ID, err, ids[1])
	}
	if _, err := c.s.DecideAction(ctx, people.province, ids[0], models.DecideVerify, ""); models.ErrorCode(err) != models.ECONFLICT ||
		!strings.Contains(models.ErrorMessage(err), "هماهنگ‌کنندهٔ اراک") {
		t.Errorf("deciding a claimed item = %v, want ECONFLICT naming who holds it", err)
	}
	for _, reason := range []string{"", "بد", strings.Repeat("ا", 501)} {
		if _, err := c.s.DecideAction(ctx, people.county, ids[0], models.DecideChanges, reason); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("changes with reason %q = %v, want EINVALID", reason, err)
		}
	}
	av, err := c.s.DecideAction(ctx, people.county, ids[0], models.DecideChanges, "عکس پیش و پس از کار را بیفزایید")
	if err != nil || av.Status != models.ActionChangesRequested {
		t.Fatalf("DecideChanges = %+v, %v", av, err)
	}
	_, err = c.s.DecideAction(ctx, people.province, ids[0], models.DecideVerify, "")
	if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(models.ErrorMessage(err), "هماهنگ‌کنندهٔ اراک") {
		t.Errorf("a stale decision = %v, want ECONFLICT saying who decided", err)
	}
	notices := models.QueuedNotices(c.s)
	var toMember []models.Notice
	for _, n := range notices {
		if n.PersonID != nil && *n.PersonID == c.maryam && n.Kind == models.KindActionDecision {
			toMember = append(toMember, n)
		}
	}
	if len(toMember) != 1 || !toMember[0].Urgent || !strings.Contains(toMember[0].Text, "عکس پیش و پس از کار را بیفزایید") {
		t.Errorf("notices to the member = %+v, want one urgent notice with the reason", toMember)
	}

	if _, err := c.s.DecideAction(ctx, people.province, ids[1], models.DecideVerify, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.ReopenAction(ctx, people.otherCounty, ids[1], "گزارش نادرست ساکنان"); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Errorf("reopen out of scope = %v", err)
	}
	re, err := c.s.ReopenAction(ctx, people.county, ids[1], "گزارش نادرست ساکنان")
	if err != nil || re.Status != models.ActionSubmitted {
		t.Fatalf("reopen = %+v, %v", re, err)
	}
	feed, total, err := c.s.Feed(ctx, models.FeedQuery{PlaceID: c.arak1.ID})
	if err != nil || total != 0 || len(feed) != 0 {
		t.Errorf("feed after reopening = %d items, %v; want none public", total, err)
	}
}

func TestClaimRace(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	ctx, people := t.Context(), c.cast(t)
	a := c.newAction(t, "race")
	if err := c.s.CreateAction(ctx, reporter, &a); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, v := range []models.Viewer{people.county, people.province} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.s.DecideAction(ctx, v, a.ID, models.DecideVerify, "")
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case models.ErrorCode(err) != models.ECONFLICT:
			t.Errorf("loser got %v, want ECONFLICT", err)
		}
	}
	if won != 1 {
		t.Errorf("%d decisions won, want exactly 1 (%v)", won, errs)
	}
}

func TestClaimLapses(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	ctx, people := t.Context(), c.cast(t)
	a := c.newAction(t, "lapse")
	if err := c.s.CreateAction(ctx, reporter, &a); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.Claim(ctx, people.county, models.EntityAction, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.Claim(ctx, people.province, models.EntityAction, a.ID); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("second claim = %v, want ECONFLICT", err)
	}
	*c.now = c.now.Add(models.ClaimTTL + time.Second)
	if _, err := c.s.Claim(ctx, people.province, models.EntityAction, a.ID); err != nil {
		t.Errorf("claim after the first lapsed = %v", err)
	}
}

func TestDecideMembership(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	ctx, people := t.Context(), c.cast(t)
	req := func(userID int64, phone string) models.Membership {
		m, err := c.s.RequestMembership(ctx, models.MembershipRequest{Platform: "tg", UserID: userID, ChatID: userID, Name: "رضا نوری",
			Phone: phone, PlaceID: c.arak1.ID, CommitteeID: c.committees["health"].ID, Position: models.PositionMember})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m1 := req(801, "+989125555555")
	m2 := req(802, "+989126666666")

	for _, v := range []models.Viewer{people.otherCounty, people.member, people.resident} {
		if _, err := c.s.DecideMembership(ctx, v, m1.ID, true, ""); models.ErrorCode(err) != models.EFORBIDDEN {
			t.Errorf("approval by %+v = %v, want EFORBIDDEN", v.Staff, err)
		}
	}
	pend, err := c.s.PendingMemberships(ctx, people.chair, 0)
	if err != nil || len(pend) != 2 {
		t.Fatalf("chair's pending requests = %+v, %v", pend, err)
	}
	if none, err := c.s.PendingMemberships(ctx, people.otherCounty, 0); err != nil || len(none) != 0 {
		t.Errorf("other county's pending = %+v, %v", none, err)
	}
	mv, err := c.s.DecideMembership(ctx, people.chair, m1.ID, true, "")
	if err != nil || mv.Status != models.MembershipActive {
		t.Fatalf("chair approves = %+v, %v", mv, err)
	}
	v, err := c.s.Viewer(ctx, "tg", 801)
	if err != nil || !v.Has(models.RoleMember) {
		t.Errorf("approved person's viewer = %+v, %v; want a member", v, err)
	}
	if _, err := c.s.DecideMembership(ctx, people.county, m1.ID, false, "شمارهٔ تلفن نادرست است"); models.ErrorCode(err) != models.ECONFLICT ||
		!strings.Contains(models.ErrorMessage(err), "مریم احمدی") {
		t.Errorf("deciding again = %v, want ECONFLICT naming the chair", err)
	}
	if _, err := c.s.DecideMembership(ctx, people.county, m2.ID, false, ""); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("rejection without a reason = %v", err)
	}
	if mv, err := c.s.DecideMembership(ctx, people.county, m2.ID, false, "این فرد عضو شورای محله نیست"); err != nil || mv.Status != models.MembershipRejected {
		t.Errorf("county rejects = %+v, %v", mv, err)
	}
	var decided []models.Notice
	for _, n := range models.QueuedNotices(c.s) {
		if n.Kind == models.KindMembershipApproved || n.Kind == models.KindMembershipRejected {
			decided = append(decided, n)
		}
	}
	if len(decided) != 2 || !strings.Contains(decided[1].Text, "این فرد عضو شورای محله نیست") {
		t.Errorf("membership notices = %+v", decided)
	}
}

func TestWithdrawMembership(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	ctx := t.Context()
	if _, err := c.s.RequestMembership(ctx, models.MembershipRequest{Platform: "tg", UserID: 901, ChatID: 901, Name: "رضا نوری",
		Phone: "+989127777777", PlaceID: c.arak1.ID, CommitteeID: c.committees["health"].ID, Position: models.PositionMember}); err != nil {
		t.Fatal(err)
	}
	v, err := c.s.Viewer(ctx, "tg", 901)
	if err != nil || !v.Pending {
		t.Fatalf("viewer = %+v, %v; want pending", v, err)
	}
	if err := c.s.WithdrawMembership(ctx, v); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.s.Viewer(ctx, "tg", 901); v.Pending {
		t.Error("still pending after withdrawing")
	}
	if err := c.s.WithdrawMembership(ctx, v); !errors.Is(err, err) || models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("withdraw twice = %v, want ENOTFOUND", err)
	}
}
