package member

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/conversations/resident"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// Members finds and registers council members.
type Members interface {
	LinkPhone(ctx context.Context, platform string, userID, chatID int64, phone string) (models.Person, []models.MembershipView, error)
	RequestMembership(ctx context.Context, req models.MembershipRequest) (models.Membership, error)
	// MemberOf returns the active membership of the person behind a
	// platform account; ENOTFOUND when there is none. pending tells whether
	// they have a request waiting.
	MemberOf(ctx context.Context, platform string, userID int64) (m models.MembershipView, pending bool, err error)
	// WithdrawMembership takes back the viewer's pending request;
	// ENOTFOUND when there is none.
	WithdrawMembership(ctx context.Context, v models.Viewer) error
}

// Actions records and reads councils' actions.
type Actions interface {
	CreateAction(ctx context.Context, actor models.Actor, a *models.Action) error
	AddActionUpdate(ctx context.Context, actor models.Actor, u *models.ActionUpdate) error
	EditAction(ctx context.Context, actor models.Actor, a *models.Action) error
	Action(ctx context.Context, id uint) (models.Action, []models.ActionUpdate, error)
	// ActionByKey and ActionUpdateByKey find what a run stored; ENOTFOUND
	// when it stored nothing.
	ActionByKey(ctx context.Context, key string) (models.Action, error)
	ActionUpdateByKey(ctx context.Context, key string) (models.ActionUpdate, error)
}

// ActionFinder lists a council's actions and finds likely duplicates.
type ActionFinder interface {
	ActionsByCouncil(ctx context.Context, councilID uint, offset, limit int) ([]models.Action, error)
	SimilarActions(ctx context.Context, placeID, committeeID uint, programmes []string, title, description string, date time.Time, limit int) ([]models.SimilarAction, error)
}

// Catalog is the reference data the member flows offer.
type Catalog interface {
	Place(ctx context.Context, id uint) (models.PlaceMatch, error)
	Committees(ctx context.Context, provinceID uint) ([]models.Committee, error)
	Programmes(ctx context.Context) ([]models.Programme, error)
}

// Member flow names.
const (
	FlowJoin     = "join"
	FlowReport   = "report"
	FlowMine     = "mine"
	FlowProgress = "progress"
	FlowEdit     = "editaction"
	FlowPending  = "pending"
)

// Flows are the council members' flows: joining (by a shared
// contact matched to the roster, or a request a coordinator approves),
// reporting an action with a duplicate-work check, listing their council's
// actions, adding progress and editing an action still under review.
type Flows struct {
	Members Members
	Actions Actions
	Finder  ActionFinder
	Catalog Catalog
	Geo     resident.Geography
	Staff   StaffRoles // may be nil: then nobody is told they are staff
}

// StaffRoles tells which staff roles (coordinator, admin) a person holds.
type StaffRoles interface {
	StaffOf(ctx context.Context, personID uint) ([]models.StaffScope, error)
}

// member is the viewer's active membership, or a Persian reason they
// have none.
func member(v models.Viewer) (models.MembershipView, string) {
	if m, ok := v.Membership(); ok {
		return m, ""
	}
	if v.Pending {
		return models.MembershipView{}, msgMembershipPending
	}
	return models.MembershipView{}, msgMembersOnly
}

// allowMember lets active members through.
func (m *Flows) allowMember(_ context.Context, v models.Viewer, _ string) (string, error) {
	_, why := member(v)
	return why, nil
}

// allowOwnAction lets an active member through for an action of their own
// council; with editable, only while the action may still be edited.
func (m *Flows) allowOwnAction(editable bool) func(ctx context.Context, v models.Viewer, arg string) (string, error) {
	return func(ctx context.Context, v models.Viewer, arg string) (string, error) {
		mv, why := member(v)
		if why != "" {
			return why, nil
		}
		id, err := strconv.ParseUint(arg, 10, 64)
		if err != nil {
			return msgNoSuchAction, nil
		}
		a, _, err := m.Actions.Action(ctx, uint(id))
		if models.ErrorCode(err) == models.ENOTFOUND {
			return msgNoSuchAction, nil
		} else if err != nil {
			return "", err
		}
		if a.CouncilID != mv.CouncilID {
			return msgOtherCouncil, nil
		}
		if a.Status == models.ActionRejected {
			return msgRejected, nil
		}
		if editable && a.Status != models.ActionSubmitted && a.Status != models.ActionChangesRequested {
			return msgNotEditable, nil
		}
		return "", nil
	}
}

func actor(k conversations.Key) models.Actor {
	return models.Actor{Platform: k.Platform, UserID: k.UserID}
}

// Flows returns every member flow.
func (m *Flows) Flows() []*conversations.Flow {
	return []*conversations.Flow{m.join(), m.pending(), m.report(), m.edit(), m.mine(), m.progress()}
}

// pending is what «درخواست شما در انتظار تأیید است» opens: the request
// waits, and the person may take it back (and ask again later).
func (m *Flows) pending() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowPending, Version: 1, Title: titlePending, NoSummary: true, ChangesRoles: true,
		Menu: msgPendingButton, Order: 90, Roles: []models.Role{models.RolePendingJoin}, Help: msgHelpPending,
		MenuLabel: func(_ context.Context, v models.Viewer) string {
			if v.PendingAt.IsZero() {
				return msgPendingButton
			}
			return fmt.Sprintf(msgPendingSince, persian.FormatDate(v.PendingAt))
		},
		Allowed: func(_ context.Context, v models.Viewer, _ string) (string, error) {
			if !v.Pending {
				return msgNoPending, nil
			}
			return "", nil
		},
		Steps: []*conversations.Step{{
			Key: "do", Label: "کار", Kind: conversations.InputChoice, Columns: 1,
			Prompt: msgPendingPrompt,
			Options: func(context.Context, *conversations.State) ([]conversations.Option, error) {
				return []conversations.Option{{Value: "withdraw", Label: optWithdrawRequest}}, nil
			},
		}},
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			if err := m.Members.WithdrawMembership(ctx, sub.Viewer); models.ErrorCode(err) == models.ENOTFOUND {
				return msgNoPending, nil
			} else if err != nil {
				return "", err
			}
			return msgRequestWithdrawn, nil
		},
	}
}

func (m *Flows) join() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowJoin, Version: 1, Title: "عضویت در شورا", ChangesRoles: true,
		Menu: "عضو شورا هستم", Order: 90, Help: msgHelpJoin,
		MenuLabel: func(_ context.Context, v models.Viewer) string {
			switch {
			case v.Has(models.RoleMember), v.Pending: // «pending» stands in its place
				return ""
			}
			return "عضو شورا هستم"
		},
		Allowed: func(_ context.Context, v models.Viewer, _ string) (string, error) {
			if v.Pending {
				return msgMembershipPending, nil
			}
			return "", nil
		},
		Depends: map[string][]string{"cnty": {"prov"}, "place": {"prov", "cnty"}, "committee": {"place"}},
		Steps: append([]*conversations.Step{
			{
				Key: "phone", Label: "شماره", Kind: conversations.InputPhone, ContactOnly: true,
				Prompt: msgAskPhone,
				After:  m.linkPhone,
			},
			{Key: "name", Label: "نام و نام خانوادگی", Kind: conversations.InputText, MinLen: 2, MaxLen: 60,
				Prompt: msgAskName},
		}, append(resident.PlaceSteps(m.Geo), []*conversations.Step{
			{
				Key: "position", Label: "سمت", Kind: conversations.InputChoice, Columns: 3,
				Prompt: msgAskPosition,
				Options: func(context.Context, *conversations.State) ([]conversations.Option, error) {
					return []conversations.Option{
						{Value: models.PositionChair, Label: models.PositionName(models.PositionChair)},
						{Value: models.PositionSecretary, Label: models.PositionName(models.PositionSecretary)},
						{Value: models.PositionMember, Label: models.PositionName(models.PositionMember)},
					}, nil
				},
			},
			{
				Key: "committee", Label: "کارگروه", Kind: conversations.InputChoice,
				Prompt: msgAskCommittee,
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					pm, err := m.Catalog.Place(ctx, conversations.AnswerID(st.Answers, "place"))
					if err != nil {
						return nil, err
					}
					return m.committeeOptions(ctx, pm.ProvinceID, 0)
				},
			},
		}...)...),
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			a := sub.Answers
			_, err := m.Members.RequestMembership(ctx, models.MembershipRequest{
				Platform: sub.Key.Platform, UserID: sub.Key.UserID, ChatID: sub.Key.ChatID,
				Name: a["name"].Text, Phone: a["phone"].Text,
				PlaceID: conversations.AnswerID(a, "place"), CommitteeID: conversations.AnswerID(a, "committee"), Position: a["position"].First(),
			})
			if models.ErrorCode(err) == models.ECONFLICT {
				return msgAlreadyMember, nil
			} else if err != nil {
				return "", err
			}
			return msgRequestSaved, nil
		},
	}
}

// linkPhone matches a shared contact to the roster: a member is linked and
// greeted and the flow ends; a pending request is said so; anyone else goes
// on to request membership.
func (m *Flows) linkPhone(ctx context.Context, k conversations.Key, _ *conversations.State, a conversations.Answer) (string, error) {
	p, vs, err := m.Members.LinkPhone(ctx, k.Platform, k.UserID, k.ChatID, a.Text)
	if models.ErrorCode(err) == models.ENOTFOUND {
		return "", nil
	} else if err != nil {
		return "", err
	}
	staff := ""
	if m.Staff != nil {
		// ADMIN_PHONES and coordinators named by phone: sharing the contact
		// was all they had to do; no membership request.
		scopes, err := m.Staff.StaffOf(ctx, p.ID)
		if err != nil {
			return "", err
		}
		staff = staffGreeting(scopes)
	}
	if staff != "" && len(vs) == 0 {
		return staff, nil
	}
	if len(vs) == 0 {
		if _, pending, err := m.Members.MemberOf(ctx, k.Platform, k.UserID); pending {
			return msgMembershipPending, nil
		} else if err != nil && models.ErrorCode(err) != models.ENOTFOUND {
			return "", err
		}
		return "", nil // an ended membership: they may ask again
	}
	v := vs[0]
	greeting := fmt.Sprintf(msgLinked,
		p.Name, models.PositionName(v.Position), v.PlaceName, v.CountyName, v.CommitteeName)
	if staff != "" {
		greeting += "\n" + staff
	}
	return greeting, nil
}

// staffGreeting says what staff role a person holds, or "" for none.
func staffGreeting(scopes []models.StaffScope) string {
	admin, coordinator := false, false
	for _, sc := range scopes {
		admin = admin || sc.Role == models.RoleAdmin
		coordinator = coordinator || sc.Role == models.RoleCounty || sc.Role == models.RoleProvince
	}
	switch {
	case admin:
		return msgAdmin
	case coordinator:
		return msgCoordinator
	}
	return ""
}

// committeeOptions lists a province's committees (not the crisis one),
// the member's own first.
func (m *Flows) committeeOptions(ctx context.Context, provinceID, own uint) ([]conversations.Option, error) {
	cs, err := m.Catalog.Committees(ctx, provinceID)
	if err != nil {
		return nil, err
	}
	var opts []conversations.Option
	for _, c := range cs {
		if c.Crisis || c.Code == resident.TopicOther {
			continue
		}
		o := conversations.Option{Value: conversations.FormatID(c.ID), Label: c.Name}
		if c.ID == own {
			o.Label += " (کارگروه شما)"
			opts = append([]conversations.Option{o}, opts...)
			continue
		}
		opts = append(opts, o)
	}
	return opts, nil
}

// context is what the member flows keep about the member: the run's
// context, never shown.
func (m *Flows) context(_ context.Context, v models.Viewer, _ string) (conversations.Prefilled, error) {
	mv, why := member(v)
	if why != "" {
		return conversations.Prefilled{}, models.Errorf(models.EFORBIDDEN, "%s", why)
	}
	return conversations.Prefilled{Hidden: map[string]conversations.Answer{
		"council": {Number: int64(mv.CouncilID)},
		"place":   {Number: int64(mv.PlaceID)},
		"prov":    {Number: int64(mv.ProvinceID)},
		"own":     {Number: int64(mv.CommitteeID)},
		"person":  {Number: int64(mv.PersonID)},
	}}, nil
}

func (m *Flows) report() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowReport, Version: 1, Title: "گزارش اقدام", Counter: true,
		Menu: "گزارش اقدام", Order: 10, Roles: memberRoles, Command: "report", Help: msgHelpReport,
		Depends:   actionDepends,
		Allowed:   m.allowMember,
		Prefill:   m.context,
		Steps:     m.actionSteps(),
		Review:    m.review,
		Submit:    m.submitAction,
		Submitted: m.submittedAction,
	}
}

func (m *Flows) edit() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowEdit, Version: 1, Title: "ویرایش اقدام", Roles: memberRoles,
		Depends: actionDepends,
		Allowed: m.allowOwnAction(true),
		Steps:   m.actionSteps(),
		Prefill: m.prefillAction,
		Submit:  m.submitEdit,
	}
}

// actionSteps are the questions of an action report.
func (m *Flows) actionSteps() []*conversations.Step {
	return []*conversations.Step{
		{
			Key: "committee", Label: "کارگروه", Kind: conversations.InputChoice,
			Prompt: msgAskActionCommittee,
			Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
				return m.committeeOptions(ctx, conversations.HiddenID(st.Hidden, "prov"), conversations.HiddenID(st.Hidden, "own"))
			},
		},
		{
			Key: "programmes", Label: "برنامه‌ها", Kind: conversations.InputMultiChoice, Columns: 1,
			Prompt: msgAskProgrammes,
			Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
				ps, err := m.Catalog.Programmes(ctx)
				opts := make([]conversations.Option, len(ps))
				for i, p := range ps {
					opts[i] = conversations.Option{Value: p.Code, Label: p.Name}
				}
				return opts, err
			},
			Show: func(a conversations.Answer) string {
				if len(a.Values) == 0 {
					return "هیچ‌کدام"
				}
				return persian.Digits(fmt.Sprint(len(a.Values))) + " برنامه"
			},
		},
		{Key: "title", Label: "عنوان", Kind: conversations.InputText, MinLen: 3, MaxLen: 120,
			Prompt: msgAskTitle},
		{Key: "desc", Label: "شرح", Kind: conversations.InputText, MinLen: 3, MaxLen: 2000,
			Prompt: msgAskDesc},
		{Key: "date", Label: "تاریخ", Kind: conversations.InputDate,
			Prompt: msgAskDate},
		{Key: "loc", Label: "موقعیت", Kind: conversations.InputLocation, Optional: true,
			Prompt: msgAskActionLocation},
		{Key: "photos", Label: "عکس‌ها", Kind: conversations.InputPhoto, Optional: true, MaxFiles: 10,
			Prompt: msgAskPhotos},
		{Key: "benef", Label: "بهره‌مندان", Kind: conversations.InputNumber, Optional: true, Min: 0, Max: 10_000_000,
			Prompt: msgAskBeneficiaries},
		{Key: "cost", Label: "هزینه", Kind: conversations.InputNumber, Optional: true, Min: 0, Max: 10_000_000_000_000,
			Prompt: msgAskCost},
		{
			Key: "unit", Label: "واحد هزینه", Kind: conversations.InputChoice,
			Prompt: msgAskUnit,
			Options: func(context.Context, *conversations.State) ([]conversations.Option, error) {
				return []conversations.Option{{Value: models.CostToman, Label: "تومان"}, {Value: models.CostRial, Label: "ریال"}}, nil
			},
			Skip: func(st *conversations.State) bool {
				c, ok := st.Answers["cost"]
				return !ok || c.Skipped
			},
		},
		{Key: "partners", Label: "همکاران", Kind: conversations.InputText, Optional: true, MinLen: 2, MaxLen: 300,
			Prompt: msgAskPartners},
	}
}

// action builds the record from a finished report.
func actionOf(sub conversations.Submission) models.Action {
	a := sub.Answers
	act := models.Action{
		PlaceID:          conversations.HiddenID(sub.Hidden, "place"),
		CommitteeID:      conversations.AnswerID(a, "committee"),
		Programmes:       a["programmes"].Values,
		Title:            a["title"].Text,
		Description:      a["desc"].Text,
		Date:             time.Unix(a["date"].Time, 0),
		Partners:         a["partners"].Text,
		ReporterPersonID: conversations.HiddenID(sub.Hidden, "person"),
	}
	if l, ok := a["loc"]; ok && !l.Skipped {
		act.Lat, act.Lon = &l.Lat, &l.Lon
	}
	if p := a["photos"]; !p.Skipped {
		act.Photos = p.Values
	}
	if b, ok := a["benef"]; ok && !b.Skipped {
		act.Beneficiaries = &b.Number
	}
	if c, ok := a["cost"]; ok && !c.Skipped {
		act.Cost = &c.Number
		act.CostUnit = a["unit"].First()
	}
	return act
}

// review looks for likely duplicate work before an action is submitted.
func (m *Flows) review(ctx context.Context, sub conversations.Submission) (*conversations.Review, error) {
	act := actionOf(sub)
	similar, err := m.Finder.SimilarActions(ctx, act.PlaceID, act.CommitteeID, act.Programmes, act.Title, act.Description, act.Date, 3)
	if err != nil || len(similar) == 0 {
		return nil, err
	}
	own := "act:" + sub.Run
	similar = slices.DeleteFunc(similar, func(s models.SimilarAction) bool { return s.Key == own }) // never the run's own record
	if len(similar) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString("⚠️ این اقدام شبیه کارهایی است که در ۹۰ روز گذشته در همین شهرستان یا شهرستان‌های همسایه ثبت شده است:\n")
	opts := []conversations.Option{{Value: "new", Label: msgReviewNew}}
	for _, s := range similar {
		fmt.Fprintf(&b, "\n• اقدام %s «%s»، %s، %s", s.Code, s.Title, s.PlaceName, persian.FormatDate(s.Date))
		opts = append(opts, conversations.Option{Value: "same:" + conversations.FormatID(s.ID), Label: "همان کار " + s.Code + " است"})
	}
	b.WriteString("\n\nآیا همان کار است؟ اگر همان است، گزارش شما به آن اقدام افزوده می‌شود تا کار دو بار ثبت نشود.")
	opts = append(opts, conversations.Option{Value: "cancel", Label: msgReviewCancel})
	return &conversations.Review{Text: b.String(), Options: opts}, nil
}

func (m *Flows) submitAction(ctx context.Context, sub conversations.Submission) (string, error) {
	v, why := member(sub.Viewer)
	if why != "" {
		return "", models.Errorf(models.EFORBIDDEN, "%s", why)
	}
	act := actionOf(sub)
	act.Key = "act:" + sub.Run
	act.PlaceID, act.ReporterPersonID = v.PlaceID, v.PersonID
	choice := sub.Choice()
	switch {
	case choice == "cancel":
		return msgReportCancelled, nil
	case strings.HasPrefix(choice, "same:"):
		dupID, _ := strconv.ParseUint(strings.TrimPrefix(choice, "same:"), 10, 64)
		dup, _, err := m.Actions.Action(ctx, uint(dupID))
		if err != nil {
			return "", err
		}
		if dup.CouncilID == v.CouncilID {
			// The update keeps everything the member just typed: the
			// figures go in its note, since an update has no columns for them.
			u := models.ActionUpdate{Key: "upd:" + sub.Run, ActionID: dup.ID, Progress: dup.Progress, PersonID: v.PersonID,
				Note: updateNote(act), Photos: act.Photos}
			if err := m.Actions.AddActionUpdate(ctx, actor(sub.Key), &u); err != nil {
				return "", err
			}
			return fmt.Sprintf(msgSavedAsUpdate, dup.Code), nil
		}
		d := dup.ID
		act.DuplicateWarned, act.DuplicateChoice, act.DuplicateOf = true, models.DuplicateSame, &d
	case choice == "new":
		act.DuplicateWarned, act.DuplicateChoice = true, models.DuplicateNew
	}
	if err := m.Actions.CreateAction(ctx, actor(sub.Key), &act); err != nil {
		return "", err
	}
	return actionSaved(act), nil
}

// actionSaved is the closing message of a stored report.
func actionSaved(act models.Action) string {
	msg := fmt.Sprintf(msgActionSaved, act.Code)
	if act.DuplicateChoice == models.DuplicateSame {
		msg += "\n" + msgSameOtherCouncil
	}
	return msg
}

// submittedAction recognises a report already stored by this run, as an
// action or as an update of the same work, and says so.
func (m *Flows) submittedAction(ctx context.Context, sub conversations.Submission) (string, bool, error) {
	a, err := m.Actions.ActionByKey(ctx, "act:"+sub.Run)
	if err == nil {
		return actionSaved(a), true, nil
	} else if models.ErrorCode(err) != models.ENOTFOUND {
		return "", false, err
	}
	u, err := m.Actions.ActionUpdateByKey(ctx, "upd:"+sub.Run)
	if models.ErrorCode(err) == models.ENOTFOUND {
		return "", false, nil
	} else if err != nil {
		return "", false, err
	}
	dup, _, err := m.Actions.Action(ctx, u.ActionID)
	if err != nil {
		return "", false, err
	}
	return fmt.Sprintf(msgSavedAsUpdate, dup.Code), true, nil
}

// prefillAction opens an action for editing: the member's context and the
// action's answers.
func (m *Flows) prefillAction(ctx context.Context, v models.Viewer, arg string) (conversations.Prefilled, error) {
	p, err := m.context(ctx, v, arg)
	if err != nil {
		return p, err
	}
	n, _ := strconv.ParseUint(arg, 10, 64)
	a, _, err := m.Actions.Action(ctx, uint(n))
	if err != nil {
		return p, err
	}
	p.Hidden["place"] = conversations.Answer{Number: int64(a.PlaceID)}
	pre := map[string]conversations.Answer{}
	p.Answers = pre
	pre["committee"] = conversations.Answer{Values: []string{conversations.FormatID(a.CommitteeID)}}
	if cs, err := m.committeeOptions(ctx, conversations.HiddenID(p.Hidden, "prov"), 0); err == nil {
		for _, o := range cs {
			if o.Value == conversations.FormatID(a.CommitteeID) {
				pre["committee"] = conversations.Answer{Values: []string{o.Value}, Text: o.Label}
			}
		}
	}
	pre["programmes"] = conversations.Answer{Values: a.Programmes}
	pre["title"] = conversations.Answer{Text: a.Title}
	pre["desc"] = conversations.Answer{Text: a.Description}
	pre["date"] = conversations.Answer{Time: a.Date.Unix()}
	pre["loc"] = conversations.Answer{Skipped: true}
	if a.Lat != nil && a.Lon != nil {
		pre["loc"] = conversations.Answer{Lat: *a.Lat, Lon: *a.Lon}
	}
	pre["photos"] = conversations.Answer{Values: a.Photos, Skipped: len(a.Photos) == 0}
	pre["benef"] = conversations.Answer{Skipped: true}
	if a.Beneficiaries != nil {
		pre["benef"] = conversations.Answer{Number: *a.Beneficiaries}
	}
	pre["cost"] = conversations.Answer{Skipped: true}
	if a.Cost != nil {
		pre["cost"] = conversations.Answer{Number: *a.Cost}
		label := "تومان"
		if a.CostUnit == models.CostRial {
			label = "ریال"
		}
		pre["unit"] = conversations.Answer{Values: []string{a.CostUnit}, Text: label}
	}
	pre["partners"] = conversations.Answer{Text: a.Partners, Skipped: a.Partners == ""}
	return p, nil
}

func (m *Flows) submitEdit(ctx context.Context, sub conversations.Submission) (string, error) {
	n, _ := strconv.ParseUint(sub.Arg, 10, 64)
	old, _, err := m.Actions.Action(ctx, uint(n))
	if err != nil {
		return "", err
	}
	act := actionOf(sub)
	act.ID, act.Key, act.CouncilID, act.PlaceID, act.ReporterPersonID = old.ID, old.Key, old.CouncilID, old.PlaceID, old.ReporterPersonID
	if err := m.Actions.EditAction(ctx, actor(sub.Key), &act); models.ErrorCode(err) == models.ECONFLICT {
		return "", models.Errorf(models.EINVALID, "%s", msgNotEditable)
	} else if err != nil {
		return "", err
	}
	return fmt.Sprintf("✅ اقدام %s ویرایش شد.", old.Code), nil
}

func (m *Flows) mine() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowMine, Version: 1, Title: "اقدام‌های شورا", NoSummary: true,
		Menu: "اقدام‌های شورا", Order: 20, Roles: memberRoles, Command: "actions", Help: msgHelpMine,
		Allowed: m.allowMember,
		Prefill: m.context,
		Steps: []*conversations.Step{{
			Key: "act", Label: "اقدام", Kind: conversations.InputChoice, Columns: 1, PageSize: 5,
			Prompt: msgAskAction,
			Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
				acts, err := m.Finder.ActionsByCouncil(ctx, conversations.HiddenID(st.Hidden, "council"), 0, 200)
				opts := make([]conversations.Option, len(acts))
				for i, a := range acts {
					// The title first: a label that starts with a Latin code is laid out left to right.
					opts[i] = conversations.Option{Value: conversations.FormatID(a.ID), Label: clip(a.Title, 32) + " · " + models.ActionStatusLabel(a.Status) + " · " + a.Code}
				}
				return opts, err
			},
		}},
		Submit: m.showAction,
		Links: func(sub conversations.Submission) []conversations.MenuItem {
			a := sub.Answers["act"].First()
			return []conversations.MenuItem{
				{Label: "➕ افزودن پیشرفت", Flow: FlowProgress + ":" + a},
				{Label: "✏️ ویرایش", Flow: FlowEdit + ":" + a},
				{Label: "📋 فهرست اقدام‌ها", Flow: FlowMine},
			}
		},
	}
}

// showAction is one action in full, with its timeline.
func (m *Flows) showAction(ctx context.Context, sub conversations.Submission) (string, error) {
	n := conversations.AnswerID(sub.Answers, "act")
	a, updates, err := m.Actions.Action(ctx, n)
	if err != nil {
		return "", err
	}
	if conversations.HiddenID(sub.Hidden, "council") != a.CouncilID {
		return "", models.Errorf(models.EINVALID, "%s", msgOtherCouncil)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "📌 اقدام %s — %s\nوضعیت: %s · پیشرفت: %s٪\nتاریخ: %s\n\n%s", a.Code, a.Title, models.ActionStatusLabel(a.Status),
		persian.Digits(fmt.Sprint(a.Progress)), persian.FormatDate(a.Date), a.Description)
	if a.Beneficiaries != nil {
		b.WriteString("\nبهره‌مندان: " + persian.FormatNumber(*a.Beneficiaries) + " نفر")
	}
	if a.Cost != nil {
		unit := "تومان"
		if a.CostUnit == models.CostRial {
			unit = "ریال"
		}
		b.WriteString("\nهزینه: " + persian.FormatNumber(*a.Cost) + " " + unit)
	}
	if a.Partners != "" {
		b.WriteString("\nهمکاران: " + a.Partners)
	}
	if len(a.Photos) > 0 {
		b.WriteString("\nعکس‌ها: " + persian.Digits(fmt.Sprint(len(a.Photos))))
	}
	if a.ReviewNote != "" {
		b.WriteString("\nیادداشت هماهنگ‌کننده: " + a.ReviewNote)
	}
	if len(updates) > 0 {
		b.WriteString("\n\n🕒 روند کار:")
		if len(updates) > historyPage {
			// The newest page only: a long history would fill the screen twice.
			fmt.Fprintf(&b, "\n(%s به‌روزرسانی قدیمی‌تر نشان داده نمی‌شود؛ %s تای آخر:)",
				persian.Digits(fmt.Sprint(len(updates)-historyPage)), persian.Digits(fmt.Sprint(historyPage)))
			updates = updates[len(updates)-historyPage:]
		}
		for _, u := range updates {
			fmt.Fprintf(&b, "\n• %s — %s٪", persian.FormatDate(u.At), persian.Digits(fmt.Sprint(u.Progress)))
			if u.Note != "" {
				b.WriteString(": " + clip(u.Note, 200))
			}
		}
	}
	return b.String(), nil
}

func (m *Flows) progress() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowProgress, Version: 1, Title: "افزودن پیشرفت", Roles: memberRoles,
		Allowed: m.allowOwnAction(false),
		Prefill: m.context,
		Steps: []*conversations.Step{
			{Key: "pct", Label: "درصد پیشرفت", Kind: conversations.InputNumber, Min: 0, Max: 100,
				Prompt: msgAskPercent},
			{Key: "note", Label: "یادداشت", Kind: conversations.InputText, Optional: true, MinLen: 2, MaxLen: 1000,
				Prompt: msgAskNote},
			{Key: "photos", Label: "عکس‌ها", Kind: conversations.InputPhoto, Optional: true, MaxFiles: 10,
				Prompt: msgAskNewPhotos},
		},
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			v, why := member(sub.Viewer)
			if why != "" {
				return "", models.Errorf(models.EFORBIDDEN, "%s", why)
			}
			n, _ := strconv.ParseUint(sub.Arg, 10, 64)
			a := sub.Answers
			u := models.ActionUpdate{Key: "upd:" + sub.Run, ActionID: uint(n), Progress: int(a["pct"].Number), Note: a["note"].Text, PersonID: v.PersonID}
			if p := a["photos"]; !p.Skipped {
				u.Photos = p.Values
			}
			if err := m.Actions.AddActionUpdate(ctx, actor(sub.Key), &u); err != nil {
				return "", err
			}
			return "✅ پیشرفت ثبت شد: " + persian.Digits(fmt.Sprint(u.Progress)) + "٪", nil
		},
	}
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// memberRoles run the member flows.
var memberRoles = []models.Role{models.RoleMember}

// actionDepends: the unit is asked again when the cost changes.
var actionDepends = map[string][]string{"unit": {"cost"}}

// historyPage is how many of an action's updates are shown at once.
const historyPage = 5

// updateNote is the note of an update made from a report of the same
// work: the title and description, and the figures the member typed.
func updateNote(act models.Action) string {
	lines := []string{act.Title, act.Description, "تاریخ: " + persian.FormatDate(act.Date)}
	if act.Beneficiaries != nil {
		lines = append(lines, "بهره‌مندان: "+persian.FormatNumber(*act.Beneficiaries)+" نفر")
	}
	if act.Cost != nil {
		unit := "تومان"
		if act.CostUnit == models.CostRial {
			unit = "ریال"
		}
		lines = append(lines, "هزینه: "+persian.FormatNumber(*act.Cost)+" "+unit)
	}
	if act.Lat != nil && act.Lon != nil {
		lines = append(lines, "موقعیت: "+strings.ReplaceAll(persian.Digits(fmt.Sprintf("%.5f، %.5f", *act.Lat, *act.Lon)), ".", "٫"))
	}
	if act.Partners != "" {
		lines = append(lines, "همکاران: "+act.Partners)
	}
	return strings.Join(lines, "\n")
}
