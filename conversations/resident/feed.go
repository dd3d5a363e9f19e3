package resident

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// Views of the feed.
const (
	viewPlace     = "place"
	viewCounty    = "county"
	viewCommittee = "cmte"
)

const feedPageSize = 5

// feed is «کارهای شورای محله»: the verified actions of «محلهٔ من» (asked
// and remembered when there is none) or of the place given as argument,
// then of the whole county or one committee if the person chooses, newest
// first, five to a page; picking one shows it in full.
func (f *Flows) feed() *conversations.Flow {
	steps := f.placeSteps(hasHiddenPlace, func(st *conversations.State) bool { return !hasHiddenPlace(st) })
	steps = append(steps,
		&conversations.Step{
			Key: "view", Label: "نمایش", Kind: conversations.InputChoice, Columns: 1,
			Prompt: msgFeedView,
			Display: display(func(ctx context.Context, st *conversations.State) (string, error) {
				pm, err := f.Catalog.Place(ctx, placeOf(st))
				if err != nil {
					return "", err
				}
				return fmt.Sprintf(msgPlaceHeader, placeName(pm), pm.CountyName, pm.ProvinceName), nil
			}),
			Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
				pm, err := f.Catalog.Place(ctx, placeOf(st))
				if err != nil {
					return nil, err
				}
				return choice(viewPlace, optViewPlace, viewCounty, fmt.Sprintf(optViewCounty, pm.CountyName), viewCommittee, optViewCommittee), nil
			},
			After: func(ctx context.Context, _ conversations.Key, st *conversations.State, a conversations.Answer) (string, error) {
				if a.First() == viewCommittee {
					return "", nil
				}
				return f.emptyFeed(ctx, st)
			},
		},
		&conversations.Step{
			Key: "cmte", Label: "کارگروه", Kind: conversations.InputChoice,
			Prompt: msgFeedCommittee,
			Skip:   func(st *conversations.State) bool { return st.Answers["view"].First() != viewCommittee },
			Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
				pm, err := f.Catalog.Place(ctx, placeOf(st))
				if err != nil {
					return nil, err
				}
				cs, err := f.Catalog.Committees(ctx, pm.ProvinceID)
				opts := make([]conversations.Option, 0, len(cs))
				for _, c := range cs {
					if c.Code != models.CommitteeOther { // no action is reported under «سایر»
						opts = append(opts, conversations.Option{Value: conversations.FormatID(c.ID), Label: c.Name})
					}
				}
				return opts, err
			},
			After: func(ctx context.Context, _ conversations.Key, st *conversations.State, _ conversations.Answer) (string, error) {
				return f.emptyFeed(ctx, st)
			},
		},
		&conversations.Step{
			Key: "act", Label: "کار", Kind: conversations.InputChoice, Columns: 1, PageSize: feedPageSize,
			Prompt:  msgFeedPick,
			Display: display(f.feedPage),
			Options: f.feedOptions,
		},
	)
	return &conversations.Flow{
		Name: FlowFeed, Version: 1, Title: titleFeed, NoSummary: true,
		Prefill: f.prefillHome,
		Steps:   steps,
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			return f.actionDetails(ctx, conversations.AnswerID(sub.Answers, "act"))
		},
		Album: func(ctx context.Context, sub conversations.Submission) ([]string, error) {
			it, _, err := f.Feeds.PublicAction(ctx, conversations.AnswerID(sub.Answers, "act"))
			return it.Photos, err
		},
		Links: func(sub conversations.Submission) []conversations.MenuItem {
			act := sub.Answers["act"].First()
			return []conversations.MenuItem{
				{Label: linkConfirm, Flow: FlowConfirm + ":" + act},
				{Label: linkComment, Flow: FlowComment + ":" + act},
				{Label: linkBackFeed, Flow: FlowFeed + ":" + conversations.FormatID(placeOf(&conversations.State{Answers: sub.Answers, Hidden: sub.Hidden}))},
			}
		},
	}
}

// feedQuery is the feed the person chose: of the place, of its county, or
// of one committee in the place.
func (f *Flows) feedQuery(ctx context.Context, st *conversations.State) (models.FeedQuery, error) {
	a := st.Answers
	q := models.FeedQuery{PlaceID: placeOf(st)}
	switch a["view"].First() {
	case viewCounty:
		pm, err := f.Catalog.Place(ctx, q.PlaceID)
		if err != nil {
			return q, err
		}
		q.PlaceID, q.CountyID = 0, pm.CountyID
	case viewCommittee:
		q.CommitteeID = conversations.AnswerID(a, "cmte")
	}
	return q, nil
}

// emptyFeed ends the run with a plain word when the chosen feed has no
// verified action yet.
func (f *Flows) emptyFeed(ctx context.Context, st *conversations.State) (string, error) {
	q, err := f.feedQuery(ctx, st)
	if err != nil {
		return "", err
	}
	q.Limit = 1
	_, total, err := f.Feeds.Feed(ctx, q)
	if err != nil || total > 0 {
		return "", err
	}
	pm, err := f.Catalog.Place(ctx, placeOf(st))
	if err != nil {
		return "", err
	}
	switch {
	case q.CountyID != 0:
		return fmt.Sprintf(msgFeedEmptyCounty, pm.CountyName), nil
	case q.CommitteeID != 0:
		return fmt.Sprintf(msgFeedEmptyCmte, st.Answers["cmte"].Text, placeName(pm)), nil
	}
	return fmt.Sprintf(msgFeedEmptyPlace, placeName(pm)), nil
}

// pageOf is the page of a paged step the engine shows now.
func pageOf(st *conversations.State, step string) int {
	return st.Page(step)
}

// feedSlice loads the page of the chosen feed now shown, and how many
// actions the feed has. A page past the end (a stale «بعدی») gives the last
// page, as the engine clamps it.
func (f *Flows) feedSlice(ctx context.Context, st *conversations.State) (q models.FeedQuery, items []models.FeedItem, total int64, page int, err error) {
	if q, err = f.feedQuery(ctx, st); err != nil {
		return q, nil, 0, 0, err
	}
	page = pageOf(st, "act")
	q.Offset, q.Limit = page*feedPageSize, feedPageSize
	if items, total, err = f.Feeds.Feed(ctx, q); err != nil || len(items) > 0 || page == 0 {
		return q, items, total, page, err
	}
	page = max(0, (int(total)+feedPageSize-1)/feedPageSize-1)
	q.Offset = page * feedPageSize
	items, total, err = f.Feeds.Feed(ctx, q)
	return q, items, total, page, err
}

// feedOptions are the buttons of the feed: one per action, though only the
// page shown is loaded. The others are never drawn (the engine draws one
// page); they have no label, so no typed text picks one.
func (f *Flows) feedOptions(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
	_, items, total, page, err := f.feedSlice(ctx, st)
	if err != nil {
		return nil, err
	}
	opts := make([]conversations.Option, total)
	for i := range opts {
		opts[i] = conversations.Option{Value: "n" + strconv.Itoa(i)}
	}
	for j, it := range items {
		if i := page*feedPageSize + j; i < len(opts) {
			opts[i] = conversations.Option{Value: conversations.FormatID(it.ID), Label: num(int64(i+1)) + ". " + clip(it.Title, 40)}
		}
	}
	return opts, nil
}

// feedPage lists the page of the feed now shown, above its buttons.
func (f *Flows) feedPage(ctx context.Context, st *conversations.State) (string, error) {
	q, items, total, page, err := f.feedSlice(ctx, st)
	if err != nil {
		return "", err
	}
	pm, err := f.Catalog.Place(ctx, placeOf(st))
	if err != nil {
		return "", err
	}
	names, err := f.programmeNames(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	switch {
	case q.CountyID != 0:
		fmt.Fprintf(&b, msgFeedHeadCounty, pm.CountyName, num(total))
	case q.CommitteeID != 0:
		fmt.Fprintf(&b, msgFeedHeadCmte, st.Answers["cmte"].Text, placeName(pm), num(total))
	default:
		fmt.Fprintf(&b, msgFeedHeadPlace, placeName(pm), num(total))
	}
	for i, it := range items {
		fmt.Fprintf(&b, "\n\n%s. %s\n", num(int64(page*feedPageSize+i+1)), it.Title)
		if q.PlaceID == 0 {
			b.WriteString("محله: " + it.PlaceName + "\n")
		}
		b.WriteString("کارگروه: " + it.CommitteeName)
		if p := programmes(it.Programmes, names); p != "" {
			b.WriteString("\nبرنامه‌ها: " + p)
		}
		fmt.Fprintf(&b, "\nتاریخ: %s · پیشرفت: %s٪\n%s", persian.FormatDate(it.Date), num(int64(it.Progress)), confirmations(it.Confirmed))
		if it.Comments > 0 {
			b.WriteString(" · " + fmt.Sprintf(msgComments, num(it.Comments)))
		}
	}
	return b.String(), nil
}

func (f *Flows) programmeNames(ctx context.Context) (map[string]string, error) {
	ps, err := f.Catalog.Programmes(ctx)
	names := make(map[string]string, len(ps))
	for _, p := range ps {
		names[p.Code] = p.Name
	}
	return names, err
}

func programmes(codes []string, names map[string]string) string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		if n, ok := names[c]; ok {
			out = append(out, n)
		}
	}
	return strings.Join(out, "، ")
}

// confirmations says how many residents confirmed an action, and how many
// said it was done only partly or not at all; counts of nobody are left out.
func confirmations(c models.ConfirmationCounts) string {
	var parts []string
	for _, p := range []struct {
		n   int64
		msg string
	}{{c.Yes, msgConfirmedBy}, {c.Partly, msgPartly}, {c.No, msgNotDone}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf(p.msg, num(p.n)))
		}
	}
	if len(parts) == 0 {
		return msgConfirmedNone
	}
	return strings.Join(parts, "، ")
}

// actionDetails is a verified action in full: place, committee,
// programmes, date, progress, description, photos, location and timeline.
func (f *Flows) actionDetails(ctx context.Context, id uint) (string, error) {
	it, updates, err := f.Feeds.PublicAction(ctx, id)
	if models.ErrorCode(err) == models.ENOTFOUND {
		return "", models.Errorf(models.ENOTFOUND, "%s", msgNoAction)
	} else if err != nil {
		return "", err
	}
	names, err := f.programmeNames(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "کار «%s» با کد %s\nمحله: %s (شهرستان %s)\nکارگروه: %s", it.Title, it.Code, it.PlaceName, it.CountyName, it.CommitteeName)
	if p := programmes(it.Programmes, names); p != "" {
		b.WriteString("\nبرنامه‌ها: " + p)
	}
	fmt.Fprintf(&b, "\nتاریخ: %s\nپیشرفت: %s٪", persian.FormatDate(it.Date), num(int64(it.Progress)))
	if it.Description != "" {
		b.WriteString("\nشرح: " + it.Description)
	}
	if it.Beneficiaries != nil {
		b.WriteString("\nبهره‌مندان: " + persian.FormatNumber(*it.Beneficiaries) + " نفر")
	}
	if it.Partners != "" {
		b.WriteString("\nهمکاران: " + it.Partners)
	}
	if n := len(it.Photos); n > 0 {
		b.WriteString("\nعکس‌ها: " + num(int64(n)) + " عکس")
	}
	if it.Lat != nil && it.Lon != nil {
		fmt.Fprintf(&b, "\nموقعیت: %s، %s", coordinate(*it.Lat), coordinate(*it.Lon))
	}
	b.WriteString("\nتأیید ساکنان: " + confirmations(it.Confirmed))
	if len(updates) > 0 {
		b.WriteString("\n\nروند کار:")
		for _, u := range updates {
			fmt.Fprintf(&b, "\n• %s: %s٪", persian.FormatDate(u.At), num(int64(u.Progress)))
			if u.Note != "" {
				b.WriteString("، " + clip(u.Note, 200))
			}
		}
	}
	return b.String(), nil
}

// roster is «اعضای شورا»: names, positions and committees of the council
// of «محلهٔ من» (or of another place), never phones.
func (f *Flows) roster() *conversations.Flow {
	noHome := func(st *conversations.State) bool { return !hasHiddenPlace(st) }
	steps := []*conversations.Step{{
		Key: "whose", Label: "محله", Kind: conversations.InputChoice, Columns: 1,
		Prompt: msgRosterWhose,
		Skip:   noHome,
		Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
			pm, err := f.Catalog.Place(ctx, placeOf(st))
			if err != nil {
				return nil, err
			}
			return choice("home", fmt.Sprintf(optRosterHome, placeName(pm)), "other", optRosterOther), nil
		},
		After: func(ctx context.Context, _ conversations.Key, st *conversations.State, a conversations.Answer) (string, error) {
			if a.First() != "home" {
				return "", nil
			}
			return f.rosterText(ctx, placeOf(st))
		},
	}}
	steps = append(steps, f.placeSteps(func(st *conversations.State) bool {
		return hasHiddenPlace(st) && st.Answers["whose"].First() != "other"
	}, noHome)...)
	return &conversations.Flow{
		Name: FlowRoster, Version: 1, Title: titleRoster, NoSummary: true,
		Prefill: f.prefillHome,
		Steps:   steps,
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			return f.rosterText(ctx, conversations.AnswerID(sub.Answers, "place"))
		},
		Links: func(sub conversations.Submission) []conversations.MenuItem {
			return []conversations.MenuItem{{Label: linkFeed, Flow: FlowFeed + ":" + sub.Answers["place"].First()}}
		},
	}
}

func (f *Flows) rosterText(ctx context.Context, placeID uint) (string, error) {
	pm, err := f.Catalog.Place(ctx, placeID)
	if err != nil {
		return "", err
	}
	seats, err := f.Feeds.Roster(ctx, placeID)
	if err != nil {
		return "", err
	}
	if len(seats) == 0 {
		return fmt.Sprintf(msgRosterEmpty, placeName(pm)), nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, msgRosterHead, placeName(pm))
	for _, s := range seats {
		fmt.Fprintf(&b, "\n• %s، %s", s.Name, models.PositionName(s.Position))
		if s.CommitteeName != "" {
			b.WriteString("، کارگروه " + s.CommitteeName)
		}
	}
	b.WriteString("\n\n" + msgRosterNoPhone)
	return b.String(), nil
}

// home is «محلهٔ من»: which it is and whether its digest comes; change it,
// or start and stop the digest. Without one, it asks for the place.
func (f *Flows) home() *conversations.Flow {
	steps := []*conversations.Step{{
		Key: "do", Label: "کار", Kind: conversations.InputChoice, Columns: 1,
		Prompt: msgHomeAsk,
		Skip:   func(st *conversations.State) bool { return !hasHiddenPlace(st) },
		Display: display(func(ctx context.Context, st *conversations.State) (string, error) {
			pm, err := f.Catalog.Place(ctx, placeOf(st))
			if err != nil {
				return "", err
			}
			sub, err := f.Homes.Subscribed(ctx, st.Hidden[keyMe].Text, st.Hidden[keyMe].Number, pm.ID)
			if err != nil {
				return "", err
			}
			line := msgHomeSubOff
			if sub {
				line = msgHomeSubOn
			}
			return fmt.Sprintf(msgHomeIs, placeName(pm), pm.CountyName, pm.ProvinceName) + "\n" + line, nil
		}),
		Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
			platform, user := whoIs(st.Hidden)
			sub, err := f.Homes.Subscribed(ctx, platform, user, placeOf(st))
			if err != nil {
				return nil, err
			}
			if sub {
				return choice("unsub", optHomeUnsub, "change", optHomeChange), nil
			}
			return choice("sub", optHomeSub, "change", optHomeChange), nil
		},
		After: func(ctx context.Context, k conversations.Key, st *conversations.State, a conversations.Answer) (string, error) {
			id := placeOf(st)
			pm, err := f.Catalog.Place(ctx, id)
			if err != nil {
				return "", err
			}
			switch a.First() {
			case "sub":
				return fmt.Sprintf(msgSubscribed, placeName(pm)), f.Subs.Subscribe(ctx, k.Platform, k.UserID, id)
			case "unsub":
				return fmt.Sprintf(msgUnsubbed, placeName(pm)), f.Subs.Unsubscribe(ctx, k.Platform, k.UserID, id)
			}
			return "", nil
		},
	}}
	always := func(*conversations.State) bool { return true }
	steps = append(steps, f.placeSteps(func(st *conversations.State) bool {
		return hasHiddenPlace(st) && st.Answers["do"].First() != "change"
	}, always)...)
	return &conversations.Flow{
		Name: FlowHome, Version: 1, Title: titleHome, NoSummary: true,
		Prefill: f.prefillHome,
		Steps:   steps,
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			pm, err := f.Catalog.Place(ctx, conversations.AnswerID(sub.Answers, "place"))
			if err != nil {
				return "", err
			}
			return fmt.Sprintf(msgHomeSet, placeName(pm), pm.CountyName), nil
		},
		Links: func(sub conversations.Submission) []conversations.MenuItem {
			return []conversations.MenuItem{
				{Label: linkFeed, Flow: FlowFeed},
				{Label: linkRoster, Flow: FlowRoster},
				{Label: linkQR, Flow: FlowQR},
			}
		},
	}
}

// unsub stops a place's digest with one tap (the button under every
// digest), and offers to undo it.
func (f *Flows) unsub() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowUnsub, Version: 1, Title: titleUnsub, NoSummary: true,
		// The tap itself unsubscribes: Unsubscribe is idempotent, and the
		// engine runs Prefill once per started run.
		Prefill: func(ctx context.Context, v models.Viewer, arg string) (conversations.Prefilled, error) {
			pre, err := f.homeContext(ctx, v, arg)
			if err != nil {
				return conversations.Prefilled{}, err
			}
			st := &conversations.State{Hidden: pre}
			if !hasHiddenPlace(st) {
				return conversations.Prefilled{}, models.Errorf(models.ENOTFOUND, "%s", msgNoPlace)
			}
			return conversations.Prefilled{Hidden: pre}, f.Subs.Unsubscribe(ctx, v.Platform, v.UserID, placeOf(st))
		},
		Steps: []*conversations.Step{{
			Key: "undo", Label: "خبرها", Kind: conversations.InputChoice,
			Prompt: msgUnsubUndo,
			Display: display(func(ctx context.Context, st *conversations.State) (string, error) {
				pm, err := f.Catalog.Place(ctx, placeOf(st))
				if err != nil {
					return "", err
				}
				return fmt.Sprintf(msgUnsubIntro, placeName(pm)), nil
			}),
			Options: func(context.Context, *conversations.State) ([]conversations.Option, error) {
				return choice("resub", optResubscribe), nil
			},
		}},
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			id := placeOf(&conversations.State{Answers: sub.Answers, Hidden: sub.Hidden})
			pm, err := f.Catalog.Place(ctx, id)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf(msgSubscribed, placeName(pm)), f.Subs.Subscribe(ctx, sub.Key.Platform, sub.Key.UserID, id)
		},
	}
}

// coordinate is a latitude or longitude in Persian digits, with the
// Persian decimal separator.
func coordinate(x float64) string {
	return strings.Replace(persian.Digits(strconv.FormatFloat(x, 'f', 4, 64)), ".", "٫", 1)
}
