package resident

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

// Catalog is the reference data the residents' flows show.
type Catalog interface {
	Place(ctx context.Context, id uint) (models.PlaceMatch, error)
	Committee(ctx context.Context, id uint) (models.Committee, error)
	Committees(ctx context.Context, provinceID uint) ([]models.Committee, error)
	Programmes(ctx context.Context) ([]models.Programme, error)
}

// Feeds reads what councils did, as residents may see it.
type Feeds interface {
	Feed(ctx context.Context, q models.FeedQuery) ([]models.FeedItem, int64, error)
	PublicAction(ctx context.Context, id uint) (models.FeedItem, []models.ActionUpdate, error)
	Roster(ctx context.Context, placeID uint) ([]models.RosterEntry, error)
}

// Homes remembers a resident's «محلهٔ من» and whether they follow it.
type Homes interface {
	HomePlace(ctx context.Context, platform string, userID int64) (models.PlaceMatch, error)
	SetHomePlace(ctx context.Context, platform string, userID int64, placeID uint) error
	Subscribed(ctx context.Context, platform string, userID int64, placeID uint) (bool, error)
}

// Subscriptions starts and stops a resident's daily digest of a place.
type Subscriptions interface {
	Subscribe(ctx context.Context, platform string, userID int64, placeID uint) error
	Unsubscribe(ctx context.Context, platform string, userID int64, placeID uint) error
}

// Inbox is a resident's side of their suggestions.
type Inbox interface {
	MySuggestions(ctx context.Context, platform string, userID int64, offset, limit int) ([]models.ResidentSuggestion, int64, error)
	SuggestionHistory(ctx context.Context, id uint) ([]models.SuggestionEvent, error)
	ResolveSuggestion(ctx context.Context, platform string, userID int64, id uint, solved bool, note string) (models.Suggestion, error)
	WithdrawSuggestion(ctx context.Context, platform string, userID int64, id uint) (models.Suggestion, error)
}

// Participation stores what residents say about verified actions, within
// the per-person limits.
type Participation interface {
	AddComment(ctx context.Context, c *models.Comment) error
	Confirm(ctx context.Context, c *models.Confirmation) error
	SubmissionAllowed(ctx context.Context, platform string, userID int64) (bool, time.Time, error)
}

// Resident flow names. Notices carry "name:arg" menu values that open them:
// "feed:<placeID>", "unsub:<placeID>", "mysg:<code>", "resolve:<code>:yes".
const (
	FlowFeed    = "feed"
	FlowRoster  = "roster"
	FlowHome    = "home"
	FlowUnsub   = "unsub"
	FlowMine    = "mysg"
	FlowResolve = "resolve"
	FlowConfirm = "confirm"
	FlowComment = "comment"
	FlowQR      = "qr"
)

// Flows are the residents' flows beyond sending a suggestion: the council's
// feed and roster, «محلهٔ من» and its digest, the resident's suggestions
// with tracking, withdrawing and «مشکل حل شد؟», and confirming and
// commenting on verified actions.
type Flows struct {
	Geo     Geography
	Catalog Catalog
	Feeds   Feeds
	Homes   Homes
	Subs    Subscriptions
	Inbox   Inbox
	Track   Trackers
	Part    Participation

	// Link is a place's deep link on a platform (t.me/<bot>?start=p<id>,
	// or Bale's), "" while the bot's name is unknown; Card draws the
	// printable QR card of a link with the place's name under it. Without
	// them the QR card is not offered.
	Link func(platform, startParam string) string
	Card func(link, title, subtitle string) ([]byte, error)
}

// Flows returns every flow of f, for the engine's Config.Flows. The ones a
// resident starts from the menu say where they sit in it and what /help
// says of them; the others are reached by links and notices.
func (f *Flows) Flows() []*conversations.Flow {
	feed, roster, home, mine, track := f.feed(), f.roster(), f.home(), f.mine(), f.track()
	feed.Menu, feed.Order, feed.Help = menuFeed, 1, helpFeed
	roster.Menu, roster.Order, roster.Help = menuRoster, 2, helpRoster
	mine.Menu, mine.Order, mine.Help = menuMine, 15, helpMine
	track.Menu, track.Order, track.Command, track.Help = menuTrack, 20, "track", helpTrack
	home.Menu, home.Order, home.Help = menuHome, 30, helpHome
	return []*conversations.Flow{
		feed, roster, home, f.unsub(),
		mine, track, f.resolve(),
		f.confirm(), f.comment(), f.qr(),
	}
}

// Hidden answers the flows keep (never shown).
const (
	keyMe    = "_me"    // Text: platform, Number: user id
	keyPlace = "_place" // Number: the place the flow is about
	keyCode  = "_code"  // Text: a suggestion's tracking code
	keyAct   = "_act"   // Number: a verified action
)

// me is the platform account the run belongs to, for Options, which get
// only the state.
func me(v models.Viewer) conversations.Answer {
	return conversations.Answer{Text: v.Platform, Number: v.UserID}
}

// display shows text above a step's question.
func display(text func(ctx context.Context, st *conversations.State) (string, error)) func(ctx context.Context, st *conversations.State) (conversations.Display, error) {
	return func(ctx context.Context, st *conversations.State) (conversations.Display, error) {
		t, err := text(ctx, st)
		return conversations.Display{Text: t}, err
	}
}

func whoIs(st map[string]conversations.Answer) (string, int64) {
	return st[keyMe].Text, st[keyMe].Number
}

// placeOf is the place a run is about: given at the start (an argument or
// «محلهٔ من»), or chosen at the place steps.
func placeOf(st *conversations.State) uint {
	if id := conversations.HiddenID(st.Hidden, keyPlace); id != 0 {
		return id
	}
	return conversations.AnswerID(st.Answers, "place")
}

func hasHiddenPlace(st *conversations.State) bool {
	return conversations.HiddenID(st.Hidden, keyPlace) != 0
}

// placeSteps are PlaceSteps, passed by when skip says so; with remember,
// the place chosen becomes «محلهٔ من».
func (f *Flows) placeSteps(skip func(st *conversations.State) bool, remember func(st *conversations.State) bool) []*conversations.Step {
	steps := PlaceSteps(f.Geo)
	for _, s := range steps {
		orig := s.Skip
		s.Skip = func(st *conversations.State) bool {
			return skip(st) || (orig != nil && orig(st))
		}
		if s.Key == "place" {
			s.After = func(ctx context.Context, k conversations.Key, st *conversations.State, a conversations.Answer) (string, error) {
				if !remember(st) {
					return "", nil
				}
				return "", f.Homes.SetHomePlace(ctx, k.Platform, k.UserID, idOf(a))
			}
		}
	}
	return steps
}

// prefillHome starts a run with the account and, when known, its «محلهٔ من»
// (or the place given as arg). An arg "p<id>", a place's deep-link
// parameter (t.me/<bot>?start=p<id>), also makes that place «محلهٔ من».
func (f *Flows) prefillHome(ctx context.Context, v models.Viewer, arg string) (conversations.Prefilled, error) {
	pre, err := f.homeContext(ctx, v, arg)
	return conversations.Prefilled{Hidden: pre}, err
}

// homeContext is what prefillHome starts a run with.
func (f *Flows) homeContext(ctx context.Context, v models.Viewer, arg string) (map[string]conversations.Answer, error) {
	pre := map[string]conversations.Answer{keyMe: me(v)}
	if arg != "" {
		deep := strings.HasPrefix(arg, "p")
		id, err := strconv.ParseUint(strings.TrimPrefix(arg, "p"), 10, 64)
		if err != nil || id == 0 {
			return nil, models.Errorf(models.ENOTFOUND, "%s", msgNoPlace)
		}
		if _, err := f.Catalog.Place(ctx, uint(id)); err != nil {
			if models.ErrorCode(err) == models.ENOTFOUND {
				return nil, models.Errorf(models.ENOTFOUND, "%s", msgNoPlace)
			}
			return nil, err
		}
		if deep {
			if err := f.Homes.SetHomePlace(ctx, v.Platform, v.UserID, uint(id)); err != nil {
				return nil, err
			}
		}
		pre[keyPlace] = conversations.Answer{Number: int64(id)}
		return pre, nil
	}
	pm, err := f.Homes.HomePlace(ctx, v.Platform, v.UserID)
	switch models.ErrorCode(err) {
	case "":
		pre[keyPlace] = conversations.Answer{Number: int64(pm.ID)}
	case models.ENOTFOUND:
	default:
		return nil, err
	}
	return pre, nil
}

// placeName is how a place reads to residents: one not yet confirmed by
// its county's coordinators is marked «(تأییدنشده)».
func placeName(pm models.PlaceMatch) string {
	return markUnconfirmed(pm.Name, pm.Confirmed)
}

// Limited is a Flow.Limit that holds a suggestion, comment or
// confirmation back past the per-person limits, saying when the person may
// send again (Jalali date and time, Persian digits). Set it on
// SuggestionFlow too.
func (f *Flows) Limited(ctx context.Context, platform string, userID int64) (string, error) {
	ok, until, err := f.Part.SubmissionAllowed(ctx, platform, userID)
	if err != nil || ok {
		return "", err
	}
	return limitedText(until), nil
}

// limitedText says what the limits are and from when the person may send
// again.
func limitedText(until time.Time) string {
	return fmt.Sprintf(msgLimited, num(models.SubmissionsPerHour), num(models.SubmissionsPerDay), persian.FormatDateTime(until))
}

func choice(pairs ...string) []conversations.Option {
	opts := make([]conversations.Option, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		opts = append(opts, conversations.Option{Value: pairs[i], Label: pairs[i+1]})
	}
	return opts
}

func num(n int64) string { return persian.Digits(strconv.FormatInt(n, 10)) }

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// idOf reads the id chosen in answer a, or 0.
func idOf(a conversations.Answer) uint {
	n, err := strconv.ParseUint(a.First(), 10, 64)
	if err != nil {
		return 0
	}
	return uint(n)
}

// StartLink reads the parameter of a place's deep link (t.me/<bot>?start=p<id>,
// the link under its QR card): it opens that place's feed, which makes it
// «محلهٔ من». ok is false for any other payload.
func StartLink(payload string) (flow, arg string, ok bool) {
	if _, err := models.ParsePlaceStartParam(payload); err != nil {
		return "", "", false
	}
	return FlowFeed, payload, true
}

// qr sends the printable QR card of «محلهٔ من» (or the place given): its
// deep link as a QR code with the place's name under it, to post on a
// notice board or in a mosque; whoever scans it opens the place's feed.
func (f *Flows) qr() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowQR, Version: 1, Title: titleQR, NoSummary: true,
		// In the menu of council members, who post it; residents reach it
		// from «محلهٔ من».
		Menu: menuQR, Order: 40, Roles: []models.Role{models.RoleMember}, Help: helpQR,
		Prefill: func(ctx context.Context, v models.Viewer, arg string) (conversations.Prefilled, error) {
			if arg == "" && len(v.Memberships) > 0 {
				// A member's card is their council's place.
				arg = conversations.FormatID(v.Memberships[0].PlaceID)
			}
			return f.prefillHome(ctx, v, arg)
		},
		Steps: f.placeSteps(hasHiddenPlace, func(*conversations.State) bool { return false }),
		Allowed: func(context.Context, models.Viewer, string) (string, error) {
			if f.Link == nil || f.Card == nil {
				return msgQRUnavailable, nil
			}
			return "", nil
		},
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			pm, err := f.Catalog.Place(ctx, placeOf(&conversations.State{Answers: sub.Answers, Hidden: sub.Hidden}))
			if err != nil {
				return "", err
			}
			link := f.Link(sub.Key.Platform, models.PlaceStartParam(pm.ID))
			if link == "" {
				return "", models.Errorf(models.EINVALID, "%s", msgQRUnavailable)
			}
			return fmt.Sprintf(msgQRCard, placeName(pm), link), nil
		},
		Attach: func(ctx context.Context, sub conversations.Submission) ([]byte, error) {
			pm, err := f.Catalog.Place(ctx, placeOf(&conversations.State{Answers: sub.Answers, Hidden: sub.Hidden}))
			if err != nil {
				return nil, err
			}
			return f.Card(f.Link(sub.Key.Platform, models.PlaceStartParam(pm.ID)), pm.Name, // printed: the name alone
				fmt.Sprintf(msgQRSubtitle, pm.CountyName, pm.ProvinceName))
		},
		Links: func(sub conversations.Submission) []conversations.MenuItem {
			return []conversations.MenuItem{{Label: linkFeed, Flow: FlowFeed}}
		},
	}
}
