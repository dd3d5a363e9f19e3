package models_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/models"
)

// TestScopeMatrix runs every coordinator feature as each kind of person
// and checks who may use it: admin, province coordinator, the county's
// coordinator, another county's, the council's chair, a member of another
// council, and a resident.
func TestScopeMatrix(t *testing.T) {
	t.Parallel()
	roles := []string{"admin", "province", "county", "otherCounty", "chair", "member", "resident"}
	pick := func(c cast, role string) models.Viewer {
		return map[string]models.Viewer{"admin": c.admin, "province": c.province, "county": c.county, "otherCounty": c.otherCounty,
			"chair": c.chair, "member": c.member, "resident": c.resident}[role]
	}
	type fixture struct {
		c      *council
		action uint // a submitted action of arak 1
		public uint // a verified action of arak 1 with a comment
		cmt    uint
		sg     uint // an open suggestion to arak 1
		req    uint // a membership request to arak 1
	}
	setup := func(t *testing.T) fixture {
		c := newCouncil(t)
		ctx, people := t.Context(), c.cast(t)
		f := fixture{c: c}
		for i, id := range []*uint{&f.action, &f.public} {
			a := c.newAction(t, fmt.Sprintf("m%d", i))
			if err := c.s.CreateAction(ctx, reporter, &a); err != nil {
				t.Fatal(err)
			}
			*id = a.ID
		}
		if _, err := c.s.DecideAction(ctx, people.admin, f.public, models.DecideVerify, ""); err != nil {
			t.Fatal(err)
		}
		cm := models.Comment{Key: "m-c", ActionID: f.public, Platform: "tg", UserID: 5, Text: "عالی بود"}
		if err := c.s.AddComment(ctx, &cm); err != nil {
			t.Fatal(err)
		}
		f.cmt = cm.ID
		f.sg = c.suggest(t, 5, "health", true).ID
		m, err := c.s.RequestMembership(ctx, models.MembershipRequest{Platform: "tg", UserID: 6, ChatID: 6, Name: "رضا نوری",
			Phone: "+989125555555", PlaceID: c.arak1.ID, CommitteeID: c.committees["health"].ID, Position: models.PositionMember})
		if err != nil {
			t.Fatal(err)
		}
		f.req = m.ID
		return f
	}
	features := []struct {
		name    string
		allowed string // the roles that may, space-separated
		try     func(f fixture, v models.Viewer) error
	}{
		{"verify an action", "admin province county", func(f fixture, v models.Viewer) error {
			_, err := f.c.s.DecideAction(t.Context(), v, f.action, models.DecideVerify, "")
			return err
		}},
		{"reopen a decision", "admin province county", func(f fixture, v models.Viewer) error {
			_, err := f.c.s.ReopenAction(t.Context(), v, f.public, "گزارش ساکنان نادرست بود")
			return err
		}},
		{"decide a membership request", "admin province county chair", func(f fixture, v models.Viewer) error {
			_, err := f.c.s.DecideMembership(t.Context(), v, f.req, true, "")
			return err
		}},
		{"open a suggestion", "admin province county chair", func(f fixture, v models.Viewer) error {
			_, _, err := f.c.s.SuggestionFor(t.Context(), v, f.sg)
			return err
		}},
		{"change a suggestion's status", "admin province county chair", func(f fixture, v models.Viewer) error {
			_, err := f.c.s.ChangeSuggestion(t.Context(), v, f.sg, models.SuggestionChange{Status: models.StatusSeen})
			return err
		}},
		{"hide a comment", "admin province county", func(f fixture, v models.Viewer) error {
			return f.c.s.HideComment(t.Context(), v, f.cmt, "توهین به اعضا")
		}},
		{"mute a sender", "admin province county", func(f fixture, v models.Viewer) error {
			return f.c.s.MuteSender(t.Context(), v, f.sg, "پیام‌های تکراری")
		}},
		{"confirm a place a resident typed", "admin province county", func(f fixture, v models.Viewer) error {
			p, _, err := f.c.s.CreatePlace(t.Context(), models.Actor{Platform: "tg", UserID: 5}, f.c.arak1.CountyID, "کوی نو")
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.c.s.ModeratePlace(t.Context(), v, p.ID, models.PlaceConfirm, "", 0)
			return err
		}},
		{"rename a place", "admin province county", func(f fixture, v models.Viewer) error {
			p, _, err := f.c.s.CreatePlace(t.Context(), models.Actor{Platform: "tg", UserID: 5}, f.c.arak1.CountyID, "کوی نو")
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.c.s.ModeratePlace(t.Context(), v, p.ID, models.PlaceRename, "کوی تازه", 0)
			return err
		}},
		{"merge a place", "admin province county", func(f fixture, v models.Viewer) error {
			p, _, err := f.c.s.CreatePlace(t.Context(), models.Actor{Platform: "tg", UserID: 5}, f.c.arak1.CountyID, "کوی نو")
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.c.s.ModeratePlace(t.Context(), v, p.ID, models.PlaceMerge, "", f.c.arak1.ID)
			return err
		}},
		{"assign a county coordinator in the chat", "admin province", func(f fixture, v models.Viewer) error {
			_, err := f.c.s.AssignStaffAs(t.Context(), v, models.StaffRequest{Phone: "09129999999", Role: models.RoleCounty, CountyID: f.c.arak1.CountyID})
			return err
		}},
		{"assign a province coordinator in the chat", "admin province", func(f fixture, v models.Viewer) error {
			_, err := f.c.s.AssignStaffAs(t.Context(), v, models.StaffRequest{Phone: "09129999999", Role: models.RoleProvince, ProvinceID: f.c.arak1.ProvinceID})
			return err
		}},
		{"end a coordinator's role in the chat", "admin province", func(f fixture, v models.Viewer) error {
			req := models.StaffRequest{Phone: "09129999999", Role: models.RoleCounty, CountyID: f.c.arak1.CountyID}
			if _, err := f.c.s.AssignStaff(t.Context(), models.ActorCLI, req); err != nil {
				return fmt.Errorf("setting up: %w", err) // reported as this role's result, not on the parent test
			}
			_, err := f.c.s.EndStaffAs(t.Context(), v, req)
			return err
		}},
		{"export suggestions", "admin province county otherCounty", func(f fixture, v models.Viewer) error {
			return f.c.s.ExportSuggestions(t.Context(), v, &bytes.Buffer{})
		}},
	}
	for _, ft := range features {
		t.Run(ft.name, func(t *testing.T) {
			t.Parallel()
			for _, role := range roles {
				f := setup(t)
				err := ft.try(f, pick(f.c.cast(t), role))
				may := false
				for _, r := range strings.Fields(ft.allowed) {
					may = may || r == role
				}
				switch {
				case may && err != nil:
					t.Errorf("%s: %s was refused: %v", ft.name, role, err)
				case !may && models.ErrorCode(err) != models.EFORBIDDEN:
					t.Errorf("%s: %s got %v, want EFORBIDDEN", ft.name, role, err)
				}
			}
		})
	}
}
