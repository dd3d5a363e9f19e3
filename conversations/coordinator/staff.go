package coordinator

import (
	"context"
	"fmt"
	"strings"

	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// FlowStaff is «کادر هماهنگی»: an admin, or a province coordinator in their
// province, names county and province coordinators by phone and ends their
// roles.
const FlowStaff = "staff"

// StaffManager is what the staff flow reads and decides.
type StaffManager interface {
	StaffInScope(ctx context.Context, v models.Viewer) ([]models.StaffView, error)
	StaffByID(ctx context.Context, id uint) (models.StaffView, error)
	AssignStaffAs(ctx context.Context, v models.Viewer, req models.StaffRequest) (models.StaffAssignment, error)
	EndStaffAs(ctx context.Context, v models.Viewer, req models.StaffRequest) (models.StaffAssignment, error)
}

// Regions are the provinces and their counties, where staff are named.
type Regions interface {
	Provinces(ctx context.Context) ([]models.Province, error)
	Counties(ctx context.Context, provinceID uint) ([]models.County, error)
}

// What the first step of the staff flow offers.
const (
	staffCounty   = "county"
	staffProvince = "province"
	staffEnd      = "end"
)

// maxStaffLines is how many roles the staff flow lists above its question.
const maxStaffLines = 25

// staff lists the coordinators in the person's scope and lets them name a
// new one (a role and a phone: typed, a shared contact, or a message
// forwarded from them) or end a role. A role given by phone waits until
// its holder opens the bot and shares that number; both are told then.
func (c *Flows) staff() *conversations.Flow {
	doing := func(st *conversations.State) string { return st.Answers["do"].First() }
	// endable is what v may end: every open role in scope but their own.
	endable := func(ctx context.Context, v models.Viewer) ([]models.StaffView, error) {
		all, err := c.Staff.StaffInScope(ctx, v)
		var out []models.StaffView
		for _, s := range all {
			if s.PersonID == nil || *s.PersonID != v.PersonID {
				out = append(out, s)
			}
		}
		return out, err
	}
	// provinces are those v may name coordinators in.
	provinces := func(ctx context.Context, v models.Viewer) ([]models.Province, error) {
		ps, err := c.Regions.Provinces(ctx)
		var out []models.Province
		for _, p := range ps {
			if v.ManagesStaff(models.RoleProvince, p.ID) {
				out = append(out, p)
			}
		}
		return out, err
	}
	return &conversations.Flow{
		Name: FlowStaff, Version: 1, Title: titleStaff,
		Menu: titleStaff, Order: 40, Roles: []models.Role{models.RoleProvince, models.RoleAdmin}, Help: helpStaff,
		Allowed: allow(models.Viewer.ManagesAnyStaff, msgStaffManagersOnly),
		Prefill: func(_ context.Context, v models.Viewer, _ string) (conversations.Prefilled, error) {
			return conversations.Prefilled{Hidden: viewerHidden(v)}, nil
		},
		Depends: map[string][]string{"prov": {"do"}, "county": {"do", "prov"}, "phone": {"do"}, "end": {"do"}},
		Steps: []*conversations.Step{
			{
				Key: "do", Label: "کار", Kind: conversations.InputChoice, Columns: 1,
				Prompt: promptStaffDo,
				Display: func(ctx context.Context, st *conversations.State) (conversations.Display, error) {
					v, err := c.viewerOf(ctx, st)
					if err != nil {
						return conversations.Display{}, err
					}
					all, err := c.Staff.StaffInScope(ctx, v)
					return conversations.Display{Text: staffList(all)}, err
				},
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					v, err := c.viewerOf(ctx, st)
					if err != nil {
						return nil, err
					}
					opts := []conversations.Option{choice(staffCounty, labelAddCounty), choice(staffProvince, labelAddProvince)}
					if es, err := endable(ctx, v); err != nil {
						return nil, err
					} else if len(es) > 0 {
						opts = append(opts, choice(staffEnd, labelEndStaff))
					}
					return opts, nil
				},
			},
			{
				Key: "prov", Label: "استان", Kind: conversations.InputChoice, Columns: 3,
				Prompt: promptStaffProvince,
				Skip:   func(st *conversations.State) bool { return doing(st) == staffEnd },
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					v, err := c.viewerOf(ctx, st)
					if err != nil {
						return nil, err
					}
					ps, err := provinces(ctx, v)
					opts := make([]conversations.Option, len(ps))
					for i, p := range ps {
						opts[i] = choice(conversations.FormatID(p.ID), p.Name)
					}
					return opts, err
				},
			},
			{
				Key: "county", Label: "شهرستان", Kind: conversations.InputChoice, Columns: 3, PageSize: 24,
				Prompt: promptStaffCounty,
				Skip:   func(st *conversations.State) bool { return doing(st) != staffCounty },
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					cs, err := c.Regions.Counties(ctx, conversations.AnswerID(st.Answers, "prov"))
					opts := make([]conversations.Option, len(cs))
					for i, x := range cs {
						opts[i] = choice(conversations.FormatID(x.ID), x.Name)
					}
					return opts, err
				},
			},
			{
				Key: "phone", Label: "شمارهٔ همراه", Kind: conversations.InputPhone, Others: true,
				Prompt: promptStaffPhone,
				Skip:   func(st *conversations.State) bool { return doing(st) == staffEnd },
				Forward: func(ctx context.Context, k conversations.Key, userID int64) (string, error) {
					p, err := c.Viewers.PhoneOf(ctx, k.Platform, userID)
					if models.ErrorCode(err) == models.ENOTFOUND {
						return "", models.Errorf(models.ENOTFOUND, "%s", msgForwardNoPhone)
					}
					return p, err
				},
			},
			{
				Key: "end", Label: "پایان انتصاب", Kind: conversations.InputChoice, Columns: 1, PageSize: 10,
				Prompt: promptStaffEnd,
				Skip:   func(st *conversations.State) bool { return doing(st) != staffEnd },
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					v, err := c.viewerOf(ctx, st)
					if err != nil {
						return nil, err
					}
					es, err := endable(ctx, v)
					opts := make([]conversations.Option, len(es))
					for i, s := range es {
						opts[i] = choice(conversations.FormatID(s.ID), staffRoleName(s)+" — "+staffWho(s))
					}
					return opts, err
				},
			},
		},
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			if doing(&conversations.State{Answers: sub.Answers}) == staffEnd {
				return c.endStaff(ctx, sub)
			}
			return c.assignStaff(ctx, sub)
		},
	}
}

// assignStaff names the coordinator the staff flow's answers describe.
func (c *Flows) assignStaff(ctx context.Context, sub conversations.Submission) (string, error) {
	a := sub.Answers
	req := models.StaffRequest{Phone: a["phone"].Text, Role: models.RoleProvince, ProvinceID: conversations.AnswerID(a, "prov")}
	if a["do"].First() == staffCounty {
		req.Role, req.CountyID = models.RoleCounty, conversations.AnswerID(a, "county")
	}
	as, err := c.Staff.AssignStaffAs(ctx, sub.Viewer, req)
	if err != nil {
		return "", refused(err, msgStaffGone)
	}
	s, err := c.Staff.StaffByID(ctx, as.ID)
	if err != nil {
		return "", err
	}
	if s.Status == models.StaffActive {
		return fmt.Sprintf(doneStaffActive, staffWho(s), staffRoleName(s)), nil
	}
	return fmt.Sprintf(doneStaffPending, staffRoleName(s), persian.FormatMobile(s.Phone)), nil
}

// endStaff ends the role chosen in the staff flow.
func (c *Flows) endStaff(ctx context.Context, sub conversations.Submission) (string, error) {
	s, err := c.Staff.StaffByID(ctx, conversations.AnswerID(sub.Answers, "end"))
	if err != nil {
		return "", refused(err, msgStaffGone)
	}
	if s.Status == models.StaffEnded {
		return "", models.Errorf(models.ENOTFOUND, "%s", msgStaffGone)
	}
	req := models.StaffRequest{Phone: s.Phone, Role: s.Role, ID: s.ID} // this role, not one named again since
	if s.ProvinceID != nil {
		req.ProvinceID = *s.ProvinceID
	}
	if s.CountyID != nil {
		req.CountyID = *s.CountyID
	}
	if _, err := c.Staff.EndStaffAs(ctx, sub.Viewer, req); err != nil {
		return "", refused(err, msgStaffGone)
	}
	if s.Status == models.StaffActive {
		return fmt.Sprintf(doneStaffEndedTold, staffRoleName(s), staffWho(s)), nil
	}
	return fmt.Sprintf(doneStaffEnded, staffRoleName(s), staffWho(s)), nil
}

// staffList is the roles in scope, as lines above the staff flow's question.
func staffList(all []models.StaffView) string {
	if len(all) == 0 {
		return msgNoStaffYet
	}
	var b strings.Builder
	b.WriteString(msgStaffListHead)
	for i, s := range all {
		if i == maxStaffLines {
			fmt.Fprintf(&b, "\n"+msgStaffMore, persian.FormatNumber(int64(len(all)-i)))
			break
		}
		b.WriteString("\n• " + staffRoleName(s) + ": " + staffWho(s))
		if s.Status == models.StaffPending {
			b.WriteString(" " + msgStaffWaits)
		}
	}
	return b.String()
}

// staffRoleName is «هماهنگ‌کنندهٔ شهرستان اراک».
func staffRoleName(s models.StaffView) string {
	place := s.ProvinceName
	if s.CountyName != "" {
		place = s.CountyName
	}
	return models.RoleName(s.Role, place)
}

// staffWho names the holder of a role: their name once they have joined,
// else their number, masked (every manager in the province reads the list).
func staffWho(s models.StaffView) string {
	if s.PersonName != "" {
		return s.PersonName
	}
	return persian.MaskMobile(s.Phone)
}
