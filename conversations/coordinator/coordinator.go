// Package coordinator holds the flows of the people who act on what
// arrives: county and province coordinators reviewing actions and deciding
// membership requests, and councils answering residents' suggestions.
package coordinator

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// Flow names. Notices carry "review:<id>", "requests:<id>" and "inbox:<id>"
// as the value of their button, which starts these flows on that item.
const (
	FlowReview   = "review"
	FlowRequests = "requests"
	FlowInbox    = "inbox"
	FlowOpen     = "open"
)

// Viewers says who is behind a platform account.
type Viewers interface {
	Viewer(ctx context.Context, platform string, userID int64) (models.Viewer, error)
	// PhoneOf is the phone the account shared with the bot; ENOTFOUND when none.
	PhoneOf(ctx context.Context, platform string, userID int64) (string, error)
}

// Reviews is the review queue of actions.
type Reviews interface {
	NextActionToReview(ctx context.Context, v models.Viewer) (models.ActionView, error)
	ActionView(ctx context.Context, id uint) (models.ActionView, error)
	Claim(ctx context.Context, v models.Viewer, entity string, id uint) (time.Time, error)
	DecideAction(ctx context.Context, v models.Viewer, id uint, decision, reason string) (models.ActionView, error)
	ReopenAction(ctx context.Context, v models.Viewer, id uint, reason string) (models.ActionView, error)
}

// Requests are membership requests waiting for a decision.
type Requests interface {
	PendingMemberships(ctx context.Context, v models.Viewer, limit int) ([]models.MembershipView, error)
	DecideMembership(ctx context.Context, v models.Viewer, id uint, approve bool, reason string) (models.MembershipView, error)
	Seats(ctx context.Context, v models.Viewer) ([]models.MembershipView, error)
	EndSeat(ctx context.Context, v models.Viewer, id uint, reason string) error
}

// Inbox is the councils' suggestion inbox.
type Inbox interface {
	Inbox(ctx context.Context, v models.Viewer, offset, limit int) ([]models.SuggestionView, int64, error)
	SuggestionFor(ctx context.Context, v models.Viewer, id uint) (models.SuggestionView, []models.SuggestionEvent, error)
	ChangeSuggestion(ctx context.Context, v models.Viewer, id uint, ch models.SuggestionChange) (models.SuggestionView, error)
}

// Muter silences a sender whose messages are abuse.
type Muter interface {
	MuteSender(ctx context.Context, v models.Viewer, suggestionID uint, reason string) error
}

// Catalog is the reference data the flows offer.
type Catalog interface {
	Committees(ctx context.Context, provinceID uint) ([]models.Committee, error)
	ActionsByCouncil(ctx context.Context, councilID uint, offset, limit int) ([]models.Action, error)
	ActionByCode(ctx context.Context, code string) (models.Action, error)
	SuggestionByCode(ctx context.Context, code string) (models.Suggestion, error)
}

// Flows are the coordinators' and councils' flows.
type Flows struct {
	Viewers  Viewers
	Reviews  Reviews
	Requests Requests
	Inbox    Inbox
	Catalog  Catalog
	Counter  Counter
	Mute     Muter
	Places   PlaceModeration
	Comments Comments
	Staff    StaffManager
	Regions  Regions

	// OverdueAfter is when an unanswered suggestion counts as overdue on
	// the menu (the county's escalation delay).
	OverdueAfter time.Duration
}

// All returns every flow of this package.
func (c *Flows) All() []*conversations.Flow {
	return []*conversations.Flow{c.review(), c.requests(), c.inbox(), c.open(), c.places(), c.staff(), c.seats()}
}

// Comments are residents' comments on verified actions, which a
// coordinator in scope may hide.
type Comments interface {
	Comments(ctx context.Context, actionID uint, limit int) ([]models.Comment, error)
	HideComment(ctx context.Context, v models.Viewer, id uint, reason string) error
}

// Counter counts what waits for a coordinator or a council.
type Counter interface {
	HomeCounts(ctx context.Context, v models.Viewer, overdueAfter time.Duration) (models.HomeCounts, error)
}

// counts is what waits for v, for the menu's labels: one query for the
// three labels of a menu (Memo). The menu is drawn for every update, so a
// slow database costs the counts, not the menu.
func (c *Flows) counts(ctx context.Context, v models.Viewer) models.HomeCounts {
	return conversations.Memo(ctx, "coordinator.counts", func() models.HomeCounts {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		n, err := c.Counter.HomeCounts(ctx, v, c.OverdueAfter)
		if err != nil {
			return models.HomeCounts{}
		}
		return n
	})
}

// label returns a MenuLabel: the title with how many items wait behind it.
func (c *Flows) label(title string, count func(models.HomeCounts) string) func(context.Context, models.Viewer) string {
	return func(ctx context.Context, v models.Viewer) string { return title + count(c.counts(ctx, v)) }
}

// counted is « (n)» after a menu label, or nothing when n is 0.
func counted(n int64) string {
	if n == 0 {
		return ""
	}
	return " (" + persian.Digits(fmt.Sprint(n)) + ")"
}

// inboxCount is the inbox's count, with how many are overdue.
func inboxCount(n models.HomeCounts) string {
	if n.SuggestionsOverdue == 0 {
		return counted(n.SuggestionsOpen)
	}
	return fmt.Sprintf(" (%s، %s دیرکرد)", persian.Digits(fmt.Sprint(n.SuggestionsOpen)), persian.Digits(fmt.Sprint(n.SuggestionsOverdue)))
}

// Who may use each flow.
var (
	staffRoles    = []models.Role{models.RoleCounty, models.RoleProvince, models.RoleAdmin}
	decidersRoles = []models.Role{models.RoleChair, models.RoleCounty, models.RoleProvince, models.RoleAdmin}
	councilRoles  = []models.Role{models.RoleMember, models.RoleCounty, models.RoleProvince, models.RoleAdmin}
)

func chairs(v models.Viewer) bool {
	for _, m := range v.Memberships {
		if m.Position == models.PositionChair {
			return true
		}
	}
	return false
}

// allow lets through whoever ok says may run the flow, else says why.
func allow(ok func(models.Viewer) bool, why string) func(ctx context.Context, v models.Viewer, arg string) (string, error) {
	return func(_ context.Context, v models.Viewer, _ string) (string, error) {
		if !ok(v) {
			return why, nil
		}
		return "", nil
	}
}

// keyViewer is the run's note of whose account started it: steps computed
// later (options, displays) read who that is now.
const keyViewer = "_pf"

// viewerHidden is the Prefill.Hidden that notes v's account for viewerOf.
func viewerHidden(v models.Viewer) map[string]conversations.Answer {
	return map[string]conversations.Answer{keyViewer: {Text: v.Platform, Number: v.UserID}}
}

// viewerOf is who started the run (viewerHidden), as they are now.
func (c *Flows) viewerOf(ctx context.Context, st *conversations.State) (models.Viewer, error) {
	return c.Viewers.Viewer(ctx, st.Hidden[keyViewer].Text, st.Hidden[keyViewer].Number)
}

func argID(arg string) uint {
	n, err := strconv.ParseUint(strings.SplitN(arg, ":", 2)[0], 10, 64)
	if err != nil {
		return 0
	}
	return uint(n)
}

// refused turns a domain refusal into what the engine shows the person:
// the store's Persian sentence when it wrote one, else fallback.
func refused(err error, fallback string) error {
	switch models.ErrorCode(err) {
	case models.ECONFLICT, models.EFORBIDDEN, models.EINVALID:
		return err
	case models.ENOTFOUND:
		return models.Errorf(models.ENOTFOUND, "%s", fallback)
	}
	return err
}

func choice(value, label string) conversations.Option {
	return conversations.Option{Value: value, Label: label}
}

// ---- review ----

func (c *Flows) review() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowReview, Version: 1, Title: titleReview, NoSummary: true,
		Menu: titleReview, Order: 10, Roles: staffRoles, Help: helpReview,
		MenuLabel: c.label(titleReview, func(n models.HomeCounts) string { return counted(n.ActionsToReview) }),
		Allowed:   allow(models.Viewer.IsStaff, msgStaffOnly),
		Prefill: func(ctx context.Context, v models.Viewer, arg string) (conversations.Prefilled, error) {
			var err error
			var av models.ActionView
			if id := argID(arg); id != 0 {
				if av, err = c.Reviews.ActionView(ctx, id); err != nil {
					return conversations.Prefilled{}, refused(err, msgNoSuchItem)
				}
				if !v.Supervises(av.ProvinceID, av.CountyID) {
					return conversations.Prefilled{}, models.Errorf(models.EFORBIDDEN, "%s", msgNoSuchItem)
				}
				if av.Status != models.ActionSubmitted {
					return conversations.Prefilled{}, models.Errorf(models.ECONFLICT, "%s", decidedText(av))
				}
				if _, err := c.Reviews.Claim(ctx, v, models.EntityAction, id); err != nil {
					return conversations.Prefilled{}, refused(err, msgNoSuchItem)
				}
			} else if av, err = c.Reviews.NextActionToReview(ctx, v); err != nil {
				return conversations.Prefilled{}, refused(err, msgQueueEmpty)
			}
			return conversations.Prefilled{Hidden: map[string]conversations.Answer{"_act": {Number: int64(av.ID)}}}, nil
		},
		Steps: []*conversations.Step{
			{
				Key: "decision", Label: "تصمیم", Kind: conversations.InputChoice, Columns: 2,
				Prompt: promptDecision,
				Display: func(ctx context.Context, st *conversations.State) (conversations.Display, error) {
					av, err := c.Reviews.ActionView(ctx, conversations.HiddenID(st.Hidden, "_act"))
					if err != nil {
						return conversations.Display{}, err
					}
					return conversations.Display{Text: actionText(av), Photos: av.Photos}, nil
				},
				Options: func(context.Context, *conversations.State) ([]conversations.Option, error) {
					return []conversations.Option{
						choice(models.DecideVerify, labelVerify), choice(models.DecideChanges, labelChanges),
						choice(models.DecideReject, labelReject), choice("skip", labelSkip),
					}, nil
				},
			},
			{
				Key: "reason", Label: "دلیل", Kind: conversations.InputText, MinLen: 5, MaxLen: 500,
				Prompt: promptReason,
				Skip: func(st *conversations.State) bool {
					d := st.Answers["decision"].First()
					return d != models.DecideChanges && d != models.DecideReject
				},
			},
		},
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			d := sub.Answers["decision"].First()
			if d == "skip" {
				return doneSkipped, nil
			}
			v := sub.Viewer
			av, err := c.Reviews.DecideAction(ctx, v, conversations.HiddenID(sub.Hidden, "_act"), d, sub.Answers["reason"].Text)
			if err != nil {
				return "", refused(err, msgNoSuchItem)
			}
			return fmt.Sprintf(map[string]string{
				models.DecideVerify: doneVerified, models.DecideChanges: doneChanges, models.DecideReject: doneRejected,
			}[d], av.Code), nil
		},
		Links: func(conversations.Submission) []conversations.MenuItem {
			return []conversations.MenuItem{{Label: labelNextAction, Flow: FlowReview}}
		},
	}
}

// decidedText says who decided an action and when.
func decidedText(av models.ActionView) string {
	if av.ReviewedAt == nil {
		return msgNotSubmitted
	}
	who := av.ReviewerName
	if who == "" {
		who = "هماهنگ‌کننده‌ای دیگر"
	}
	return fmt.Sprintf("این اقدام را «%s» در %s بررسی کرده است (%s).", who, persian.FormatDateTime(*av.ReviewedAt), models.ActionStatusLabel(av.Status))
}

// actionText is an action as a reviewer reads it.
func actionText(av models.ActionView) string {
	var b strings.Builder
	fmt.Fprintf(&b, "اقدام «%s»\nکد: %s · %s\nشورای %s، %s، %s\nکارگروه: %s\nگزارش‌دهنده: %s\nتاریخ: %s\n\nشرح: %s",
		av.Title, av.Code, models.ActionStatusLabel(av.Status), av.PlaceName, av.CountyName, av.ProvinceName, av.CommitteeName,
		av.ReporterName, persian.FormatDate(av.Date), av.Description)
	if len(av.Programmes) > 0 {
		b.WriteString("\nبرنامه‌ها: " + persian.Digits(fmt.Sprint(len(av.Programmes))) + " برنامه")
	}
	if av.Beneficiaries != nil {
		b.WriteString("\nبهره‌مندان: " + persian.FormatNumber(*av.Beneficiaries) + " نفر")
	}
	if av.Cost != nil {
		unit := "تومان"
		if av.CostUnit == models.CostRial {
			unit = "ریال"
		}
		b.WriteString("\nهزینه: " + persian.FormatNumber(*av.Cost) + " " + unit)
	}
	if av.Partners != "" {
		b.WriteString("\nهمکاران: " + av.Partners)
	}
	if av.Lat != nil && av.Lon != nil {
		b.WriteString("\nموقعیت: ثبت شده")
	}
	if len(av.Photos) > 0 {
		b.WriteString("\nعکس‌ها: " + persian.Digits(fmt.Sprint(len(av.Photos))))
	}
	if av.DuplicateWarned {
		switch av.DuplicateChoice {
		case models.DuplicateSame:
			b.WriteString("\n⚠️ به گفتهٔ گزارش‌دهنده، همان کار شورای دیگری است.")
		case models.DuplicateNew:
			b.WriteString("\nهشدار تکراری بودن نشان داده شد و گزارش‌دهنده گفت کار دیگری است.")
		}
	}
	return b.String()
}

// ---- membership requests ----

func (c *Flows) requests() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowRequests, Version: 1, Title: titleRequests, NoSummary: true,
		Menu: titleRequests, Order: 20, Roles: decidersRoles, Help: helpRequests,
		MenuLabel: c.label(titleRequests, func(n models.HomeCounts) string { return counted(n.RequestsWaiting) }),
		Allowed:   allow(func(v models.Viewer) bool { return v.IsStaff() || chairs(v) }, msgDecidersOnly),
		Prefill: func(ctx context.Context, v models.Viewer, arg string) (conversations.Prefilled, error) {
			pend, err := c.Requests.PendingMemberships(ctx, v, 100)
			if err != nil {
				return conversations.Prefilled{}, err
			}
			if len(pend) == 0 {
				return conversations.Prefilled{}, models.Errorf(models.ENOTFOUND, "%s", msgNoRequests)
			}
			pre := viewerHidden(v)
			if id := argID(arg); id != 0 {
				pre["_req"] = conversations.Answer{Number: int64(id)}
			}
			return conversations.Prefilled{Hidden: pre}, nil
		},
		Steps: []*conversations.Step{
			{
				Key: "req", Label: "درخواست", Kind: conversations.InputChoice, Columns: 1, PageSize: 5,
				Prompt: promptRequest,
				Skip:   func(st *conversations.State) bool { return st.Hidden["_req"].Number != 0 },
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					v, err := c.viewerOf(ctx, st)
					if err != nil {
						return nil, err
					}
					pend, err := c.Requests.PendingMemberships(ctx, v, 100)
					opts := make([]conversations.Option, len(pend))
					for i, m := range pend {
						opts[i] = choice(conversations.FormatID(m.ID), fmt.Sprintf("%s · %s %s · %s", m.PersonName, models.PositionName(m.Position), m.PlaceName, m.CommitteeName))
					}
					return opts, err
				},
			},
			{
				Key: "ok", Label: "پاسخ", Kind: conversations.InputChoice,
				Prompt: promptReqAnswer,
				Options: func(context.Context, *conversations.State) ([]conversations.Option, error) {
					return []conversations.Option{choice("yes", labelApprove), choice("no", labelDecline)}, nil
				},
			},
			{
				Key: "why", Label: "دلیل", Kind: conversations.InputText, MinLen: 5, MaxLen: 500,
				Prompt: promptRejectWhy,
				Skip:   func(st *conversations.State) bool { return st.Answers["ok"].First() != "no" },
			},
		},
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			v := sub.Viewer
			id := uint(sub.Hidden["_req"].Number)
			if id == 0 {
				id = conversations.AnswerID(sub.Answers, "req")
			}
			approve := sub.Answers["ok"].First() == "yes"
			mv, err := c.Requests.DecideMembership(ctx, v, id, approve, sub.Answers["why"].Text)
			if err != nil {
				return "", refused(err, msgNoSuchItem)
			}
			if approve {
				return fmt.Sprintf(doneApproved, mv.PersonName, mv.PlaceName), nil
			}
			return fmt.Sprintf(doneDeclined, mv.PersonName), nil
		},
		Links: func(conversations.Submission) []conversations.MenuItem {
			return []conversations.MenuItem{{Label: labelRequests, Flow: FlowRequests}}
		},
	}
}

// ---- the suggestion inbox ----

// Inbox actions.
const (
	doSeen       = "seen"
	doInProgress = "progress"
	doAnswer     = "answer"
	doAssign     = "assign"
	doNotOurs    = "notours"
	doClose      = "close"
	doMute       = "mute"
)

func (c *Flows) inbox() *conversations.Flow {
	doing := func(st *conversations.State) string { return st.Answers["do"].First() }
	sgOf := func(st *conversations.State) uint {
		if id := conversations.HiddenID(st.Hidden, "_sg"); id != 0 {
			return id
		}
		return conversations.AnswerID(st.Answers, "sg")
	}
	return &conversations.Flow{
		Name: FlowInbox, Version: 1, Title: titleInbox, NoSummary: true,
		Menu: titleInbox, Order: 30, Roles: councilRoles, Help: helpInbox,
		MenuLabel: c.label(titleInbox, inboxCount),
		Allowed:   allow(func(v models.Viewer) bool { return v.IsStaff() || v.Has(models.RoleMember) }, msgInboxOnly),
		Prefill: func(ctx context.Context, v models.Viewer, arg string) (conversations.Prefilled, error) {
			pre := viewerHidden(v)
			if id := argID(arg); id != 0 {
				if _, _, err := c.Inbox.SuggestionFor(ctx, v, id); err != nil {
					return conversations.Prefilled{}, refused(err, msgNoSuchItem)
				}
				pre["_sg"] = conversations.Answer{Number: int64(id)}
				return conversations.Prefilled{Hidden: pre}, nil
			}
			if _, total, err := c.Inbox.Inbox(ctx, v, 0, 1); err != nil {
				return conversations.Prefilled{}, err
			} else if total == 0 {
				return conversations.Prefilled{}, models.Errorf(models.ENOTFOUND, "%s", msgInboxEmpty)
			}
			return conversations.Prefilled{Hidden: pre}, nil
		},
		Steps: []*conversations.Step{
			{
				Key: "sg", Label: "پیشنهاد", Kind: conversations.InputChoice, Columns: 1, PageSize: 5,
				Prompt: promptPickSg,
				Skip:   func(st *conversations.State) bool { return st.Hidden["_sg"].Number != 0 },
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					v, err := c.viewerOf(ctx, st)
					if err != nil {
						return nil, err
					}
					sgs, _, err := c.Inbox.Inbox(ctx, v, 0, 100)
					opts := make([]conversations.Option, len(sgs))
					for i, s := range sgs {
						topic := s.CommitteeName
						if topic == "" {
							topic = "سایر"
						}
						opts[i] = choice(conversations.FormatID(s.ID), fmt.Sprintf("%s · %s · %s", topic, clip(s.Text, 24), models.StatusLabel(s.Status)))
					}
					return opts, err
				},
			},
			{
				Key: "do", Label: "کار", Kind: conversations.InputChoice, Columns: 2,
				Prompt: promptSgAction,
				Display: func(ctx context.Context, st *conversations.State) (conversations.Display, error) {
					v, err := c.viewerOf(ctx, st)
					if err != nil {
						return conversations.Display{}, err
					}
					sv, evs, err := c.Inbox.SuggestionFor(ctx, v, sgOf(st))
					if err != nil {
						return conversations.Display{}, err
					}
					return conversations.Display{Text: suggestionText(sv, evs), Photos: sv.PhotoFileIDs}, nil
				},
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					v, err := c.viewerOf(ctx, st)
					if err != nil {
						return nil, err
					}
					sv, _, err := c.Inbox.SuggestionFor(ctx, v, sgOf(st))
					if err != nil {
						return nil, err
					}
					var opts []conversations.Option
					if sv.Status == models.StatusNew || sv.Status == models.StatusReopened || sv.Status == models.StatusForwarded {
						opts = append(opts, choice(doSeen, labelSeen))
					}
					if sv.Status != models.StatusInProgress && sv.Status != models.StatusAnswered {
						opts = append(opts, choice(doInProgress, labelInProgress))
					}
					opts = append(opts, choice(doAnswer, labelAnswer))
					if v.Leads(sv.CouncilID) || v.Supervises(sv.ProvinceID, sv.CountyID) {
						opts = append(opts, choice(doAssign, labelAssign))
					}
					if sv.Status != models.StatusForwarded && sv.CouncilID != 0 {
						if _, seat := v.Seat(sv.CouncilID); seat {
							opts = append(opts, choice(doNotOurs, labelNotOurs))
						}
					}
					opts = append(opts, choice(doClose, labelClose))
					if v.Supervises(sv.ProvinceID, sv.CountyID) {
						opts = append(opts, choice(doMute, labelMute))
					}
					return opts, nil
				},
			},
			{
				Key: "committee", Label: "کارگروه", Kind: conversations.InputChoice,
				Prompt: promptCommittee,
				Skip:   func(st *conversations.State) bool { return doing(st) != doAssign },
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					v, err := c.viewerOf(ctx, st)
					if err != nil {
						return nil, err
					}
					sv, _, err := c.Inbox.SuggestionFor(ctx, v, sgOf(st))
					if err != nil {
						return nil, err
					}
					cs, err := c.Catalog.Committees(ctx, sv.ProvinceID)
					var opts []conversations.Option
					for _, cm := range cs {
						if !cm.Crisis && cm.Code != models.CommitteeOther { // «سایر» is what the chair sorts, not a committee to hand to
							opts = append(opts, choice(conversations.FormatID(cm.ID), cm.Name))
						}
					}
					return opts, err
				},
			},
			{
				Key: "why", Label: "دلیل", Kind: conversations.InputText, MinLen: 5, MaxLen: 500,
				Prompt: promptMuteWhy,
				Skip:   func(st *conversations.State) bool { return doing(st) != doMute },
			},
			{
				Key: "answer", Label: "پاسخ", Kind: conversations.InputText, MinLen: 2, MaxLen: 2000,
				Prompt: promptAnswer,
				Skip:   func(st *conversations.State) bool { return doing(st) != doAnswer },
			},
			{
				Key: "photo", Label: "عکس", Kind: conversations.InputPhoto, Optional: true, MaxFiles: 1,
				Prompt: promptAnswerPic,
				Skip:   func(st *conversations.State) bool { return doing(st) != doAnswer },
			},
			{
				Key: "link", Label: "اقدام مرتبط", Kind: conversations.InputChoice, Optional: true, Columns: 1, PageSize: 5,
				Prompt: promptLink,
				Skip:   func(st *conversations.State) bool { return doing(st) != doAnswer },
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					v, err := c.viewerOf(ctx, st)
					if err != nil {
						return nil, err
					}
					sv, _, err := c.Inbox.SuggestionFor(ctx, v, sgOf(st))
					if err != nil || sv.CouncilID == 0 {
						return nil, err
					}
					acts, err := c.Catalog.ActionsByCouncil(ctx, sv.CouncilID, 0, 50)
					opts := make([]conversations.Option, len(acts))
					for i, a := range acts {
						opts[i] = choice(conversations.FormatID(a.ID), "اقدام "+clip(a.Title, 40))
					}
					return opts, err
				},
			},
		},
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			v := sub.Viewer
			a := sub.Answers
			id := sgOf(&conversations.State{Answers: a, Hidden: sub.Hidden})
			if a["do"].First() == doMute {
				if err := c.Mute.MuteSender(ctx, v, id, a["why"].Text); err != nil {
					return "", refused(err, msgNoSuchItem)
				}
				return doneMuted, nil
			}
			var ch models.SuggestionChange
			switch a["do"].First() {
			case doSeen:
				ch.Status = models.StatusSeen
			case doInProgress:
				ch.Status = models.StatusInProgress
			case doClose:
				ch.Status = models.StatusClosed
			case doNotOurs:
				ch.Status = models.StatusForwarded
			case doAssign:
				ch.CommitteeID = conversations.AnswerID(a, "committee")
			case doAnswer:
				ch.Answer = a["answer"].Text
				if p := a["photo"]; !p.Skipped {
					ch.Photo = p.First()
				}
				if l := conversations.AnswerID(a, "link"); l != 0 {
					ch.ActionID = &l
				}
			}
			sv, err := c.Inbox.ChangeSuggestion(ctx, v, id, ch)
			if err != nil {
				return "", refused(err, msgNoSuchItem)
			}
			switch {
			case ch.CommitteeID != 0:
				return fmt.Sprintf(doneSgAssigned, sv.Code), nil
			case ch.Status == models.StatusForwarded:
				return fmt.Sprintf(doneSgForwarded, sv.Code), nil
			}
			return fmt.Sprintf(doneSgChanged, sv.Code, models.StatusLabel(sv.Status)), nil
		},
		Links: func(conversations.Submission) []conversations.MenuItem {
			return []conversations.MenuItem{{Label: labelInboxAgain, Flow: FlowInbox}}
		},
	}
}

// suggestionText is a suggestion as a council member reads it: never who
// sent an anonymous one.
func suggestionText(sv models.SuggestionView, evs []models.SuggestionEvent) string {
	var b strings.Builder
	topic := sv.CommitteeName
	if topic == "" {
		topic = "سایر"
	}
	fmt.Fprintf(&b, "پیشنهاد %s\nمحله: %s (%s)\nموضوع: %s\nوضعیت: %s\nرسیده در: %s\n", sv.Code, sv.PlaceName, sv.CountyName, topic,
		models.StatusLabel(sv.Status), persian.FormatDateTime(sv.CreatedAt))
	if sv.Anonymous {
		b.WriteString("فرستنده: بی‌نام\n")
	} else {
		b.WriteString("فرستنده: " + sv.SenderName + "\n")
	}
	if sv.Text != "" {
		b.WriteString("\nمتن: " + sv.Text + "\n")
	}
	if sv.VoiceFileID != "" {
		b.WriteString("\nپیام صوتی دارد.\n")
	}
	if len(sv.PhotoFileIDs) > 0 {
		b.WriteString("عکس‌ها: " + persian.Digits(fmt.Sprint(len(sv.PhotoFileIDs))) + "\n")
	}
	if sv.Lat != nil {
		b.WriteString("موقعیت: ثبت شده\n")
	}
	if len(evs) > 0 {
		b.WriteString("\nروند:")
		for _, e := range evs {
			fmt.Fprintf(&b, "\n• %s، %s: %s", persian.FormatDate(e.At), e.ByRole, models.StatusLabel(e.Status))
			if e.Text != "" {
				b.WriteString(" — " + clip(e.Text, 120))
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// ---- open by code ----

// item is what a typed code names, as the person may see it.
type item struct {
	action     *models.ActionView
	suggestion *models.SuggestionView
	events     []models.SuggestionEvent
}

// find looks a code up within v's scope. Returns EINVALID with a Persian
// message when nothing the person may see has that code.
func (c *Flows) find(ctx context.Context, v models.Viewer, typed string) (item, error) {
	code := persian.KeyboardLatin(typed)
	switch {
	case strings.HasPrefix(code, "A-"):
		a, err := c.Catalog.ActionByCode(ctx, code)
		if models.ErrorCode(err) == models.ENOTFOUND {
			return item{}, models.Errorf(models.EINVALID, "%s", msgNoSuchItem)
		} else if err != nil {
			return item{}, err
		}
		av, err := c.Reviews.ActionView(ctx, a.ID)
		if err != nil {
			return item{}, err
		}
		if _, seat := v.Seat(av.CouncilID); !seat && !v.Supervises(av.ProvinceID, av.CountyID) {
			return item{}, models.Errorf(models.EINVALID, "%s", msgNoSuchItem)
		}
		return item{action: &av}, nil
	case strings.HasPrefix(code, "S-"):
		sg, err := c.Catalog.SuggestionByCode(ctx, code)
		if models.ErrorCode(err) == models.ENOTFOUND {
			return item{}, models.Errorf(models.EINVALID, "%s", msgNoSuchItem)
		} else if err != nil {
			return item{}, err
		}
		sv, evs, err := c.Inbox.SuggestionFor(ctx, v, sg.ID)
		if code := models.ErrorCode(err); code == models.EFORBIDDEN || code == models.ENOTFOUND {
			return item{}, models.Errorf(models.EINVALID, "%s", msgNoSuchItem)
		} else if err != nil {
			return item{}, err
		}
		return item{suggestion: &sv, events: evs}, nil
	}
	return item{}, models.Errorf(models.EINVALID, "%s", msgBadCode)
}

// What can be done with an opened item.
const (
	nextReopen = "reopen"
	nextHide   = "hide"
	nextReview = "review:"
	nextHandle = "handle:"
	nextDone   = "done"
)

func (c *Flows) open() *conversations.Flow {
	found := func(ctx context.Context, st *conversations.State) (item, models.Viewer, error) {
		v, err := c.viewerOf(ctx, st)
		if err != nil {
			return item{}, v, err
		}
		it, err := c.find(ctx, v, st.Answers["code"].Text)
		return it, v, err
	}
	return &conversations.Flow{
		Name: FlowOpen, Version: 1, Title: titleOpen, NoSummary: true,
		Menu: titleOpen, Order: 40, Roles: councilRoles, Help: helpOpen,
		Allowed: allow(func(v models.Viewer) bool { return v.IsStaff() || v.Has(models.RoleMember) }, msgInboxOnly),
		Prefill: func(_ context.Context, v models.Viewer, _ string) (conversations.Prefilled, error) {
			return conversations.Prefilled{Hidden: viewerHidden(v)}, nil
		},
		Steps: []*conversations.Step{
			{
				Key: "code", Label: "کد", Kind: conversations.InputText, MinLen: 3, MaxLen: 20,
				Prompt: promptCode,
				After: func(ctx context.Context, k conversations.Key, st *conversations.State, _ conversations.Answer) (string, error) {
					_, _, err := found(ctx, st)
					return "", err
				},
			},
			{
				Key: "next", Label: "کار", Kind: conversations.InputChoice, Columns: 1,
				Prompt: promptNext,
				Display: func(ctx context.Context, st *conversations.State) (conversations.Display, error) {
					it, _, err := found(ctx, st)
					switch {
					case err != nil:
						return conversations.Display{}, err
					case it.action != nil:
						return conversations.Display{Text: actionText(*it.action), Photos: it.action.Photos}, nil
					}
					return conversations.Display{Text: suggestionText(*it.suggestion, it.events), Photos: it.suggestion.PhotoFileIDs}, nil
				},
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					it, v, err := found(ctx, st)
					if err != nil {
						return nil, err
					}
					var opts []conversations.Option
					if a := it.action; a != nil && v.Supervises(a.ProvinceID, a.CountyID) {
						switch a.Status {
						case models.ActionVerified, models.ActionRejected:
							opts = append(opts, choice(nextReopen, labelReopen))
							if cs, err := c.Comments.Comments(ctx, a.ID, 1); err != nil {
								return nil, err
							} else if len(cs) > 0 {
								opts = append(opts, choice(nextHide, labelHide))
							}
						case models.ActionSubmitted:
							opts = append(opts, choice(nextReview+conversations.FormatID(a.ID), labelDecide))
						}
					}
					if sg := it.suggestion; sg != nil && models.SuggestionOpen(sg.Status) {
						opts = append(opts, choice(nextHandle+conversations.FormatID(sg.ID), labelHandle))
					}
					return append(opts, choice(nextDone, labelDone)), nil
				},
			},
			{
				Key: "why", Label: "دلیل", Kind: conversations.InputText, MinLen: 5, MaxLen: 500,
				Prompt: promptReopenWhy,
				Skip:   func(st *conversations.State) bool { return st.Answers["next"].First() != nextReopen },
			},
			{
				Key: "cmt", Label: "نظر", Kind: conversations.InputChoice, Columns: 1, PageSize: 10,
				Prompt: promptHideWhich,
				Skip:   func(st *conversations.State) bool { return st.Answers["next"].First() != nextHide },
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					it, _, err := found(ctx, st)
					if err != nil || it.action == nil {
						return nil, err
					}
					cs, err := c.Comments.Comments(ctx, it.action.ID, 50)
					opts := make([]conversations.Option, len(cs))
					for i, cm := range cs {
						opts[i] = choice(conversations.FormatID(cm.ID), clip(cm.Text, 60))
					}
					return opts, err
				},
			},
			{
				Key: "hwhy", Label: "دلیل پنهان کردن", Kind: conversations.InputText, MinLen: 5, MaxLen: 500,
				Prompt: promptHideWhy,
				Skip:   func(st *conversations.State) bool { return st.Answers["next"].First() != nextHide },
			},
		},
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			next := sub.Answers["next"].First()
			switch {
			case next == nextReopen:
				v := sub.Viewer
				it, err := c.find(ctx, v, sub.Answers["code"].Text)
				if err != nil || it.action == nil {
					return "", refused(err, msgNoSuchItem)
				}
				av, err := c.Reviews.ReopenAction(ctx, v, it.action.ID, sub.Answers["why"].Text)
				if err != nil {
					return "", refused(err, msgNoSuchItem)
				}
				return fmt.Sprintf(doneReopened, av.Code), nil
			case next == nextHide:
				if err := c.Comments.HideComment(ctx, sub.Viewer, conversations.AnswerID(sub.Answers, "cmt"), sub.Answers["hwhy"].Text); err != nil {
					return "", refused(err, msgNoSuchItem)
				}
				return doneHidden, nil
			case strings.HasPrefix(next, nextReview), strings.HasPrefix(next, nextHandle):
				return msgContinueBelow, nil
			}
			return msgClosedItem, nil
		},
		Links: func(sub conversations.Submission) []conversations.MenuItem {
			next := sub.Answers["next"].First()
			if id, ok := strings.CutPrefix(next, nextReview); ok {
				return []conversations.MenuItem{{Label: labelDecide, Flow: FlowReview + ":" + id}}
			}
			if id, ok := strings.CutPrefix(next, nextHandle); ok {
				return []conversations.MenuItem{{Label: labelHandle, Flow: FlowInbox + ":" + id}}
			}
			return nil
		},
	}
}
