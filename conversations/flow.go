package conversations

import (
	"context"

	"github.com/mahalle/mahalle/models"
)

// InputKind is what a step asks the person for.
type InputKind int

// The input kinds a step can take.
const (
	InputText        InputKind = iota // text with length bounds
	InputTextOrVoice                  // text with length bounds, or a voice message
	InputNumber                       // a whole number in a range
	InputChoice                       // one inline button among Options
	InputMultiChoice                  // several buttons toggled, then «تمام»
	InputDate                         // a Jalali date
	InputPhone                        // the sender's own contact, or a typed Iranian mobile
	InputLocation                     // a shared location
	InputPhoto                        // one or several photos (albums welcome)
	InputVoice                        // a voice message
	InputDocument                     // a file
	InputNone                         // nothing: a display-only step (its Display and «ادامه»)
)

// Option is one button of a choice step.
type Option struct {
	Value   string // carried in callback data; short (ids, codes)
	Label   string // what the button says
	Created bool   // Step.Create made it now (rather than finding one someone made before)
}

// Step is one question of a flow. A flow is data: the engine does the
// asking, validating, going back, editing and storing.
type Step struct {
	Key    string // stable across flow versions: answers are carried over by key
	Label  string // how the answer is named in the summary
	Prompt string // the question, in Persian
	Kind   InputKind

	Optional bool // a «رد کردن» button skips it

	PageSize       int   // choices: this many buttons a page, with «بعدی»/«قبلی» (0 = all)
	MinLen, MaxLen int   // text bounds in characters (InputText, InputTextOrVoice)
	Min, Max       int64 // number bounds (InputNumber)
	MaxFiles       int   // photos: at most this many (1 = a single photo moves on at once)
	PastDays       int   // dates: how many days back are allowed (0 = no limit)
	AllowFuture    bool  // dates: days after today are allowed
	Columns        int   // buttons per row for choices [2]

	// Options lists the buttons of a choice step. It is called again when a
	// button is pressed, so a forged or stale value is refused.
	Options func(ctx context.Context, st *State) ([]Option, error)

	// Search, when set, lets the person type instead of pressing a button:
	// it returns what was found, and the flow continues at step Jump with
	// the query kept in the run's bookkeeping (State.Hidden), not its answers.
	Search func(ctx context.Context, st *State, query string) ([]Option, error)
	Jump   string

	// Locate, when set on a choice step, takes a shared location instead of
	// a press: it returns the answers the point decides (a province and its
	// county), which replace this step's and their dependents', and the run
	// goes on at the first step still unanswered. The point is kept in the
	// run's bookkeeping (State.Located). EINVALID and ENOTFOUND errors are
	// shown and the step asked again.
	Locate func(ctx context.Context, st *State, lat, lon float64) (map[string]Answer, error)

	// Create, when set on a choice step, adds a last button labelled Other
	// («محلهٔ من در فهرست نیست»): pressing it asks for a typed name with
	// OtherPrompt, and Create turns that name into the option chosen (a place
	// created under the county). EINVALID errors are shown and the name asked
	// again.
	Create      func(ctx context.Context, k Key, st *State, text string) (Option, error)
	Other       string
	OtherPrompt string

	// Skip, when set and true, passes this step by (e.g. the name of an
	// anonymous sender).
	Skip func(st *State) bool

	// After, when set, runs once the step is answered. A non-empty result
	// ends the flow there with that closing message (a phone found on the
	// roster needs no more questions). EINVALID errors are shown and the
	// step asked again.
	After func(ctx context.Context, k Key, st *State, a Answer) (string, error)

	// ContactOnly makes a phone step accept only the sender's own shared
	// contact, not a typed number (registration proves the phone).
	ContactOnly bool

	// Others makes a phone step ask for someone else's number: typed, or
	// their contact shared (📎 → contact); no «ارسال شمارهٔ من» button.
	// Forward, when set too, takes a message forwarded from that person: it
	// returns their phone from their account (the platform's user id).
	// EINVALID and ENOTFOUND errors are shown and the step asked again.
	Others  bool
	Forward func(ctx context.Context, k Key, userID int64) (string, error)

	// Show, when set, says how the answer reads in the summary; by default
	// the text, the chosen labels, the date or a count of files.
	Show func(a Answer) string

	// Display, when set, is a record shown above the question, computed
	// each time the step is asked (an action with its details and photos
	// above «تأیید / درخواست اصلاح / رد»). Its photos go first, as an
	// album; the question with its buttons is its own message.
	Display func(ctx context.Context, st *State) (Display, error)
}

// Display is what a step shows above its question.
type Display struct {
	Text   string
	Photos []string // file ids
}

// Flow is a guided conversation: ordered steps, then a summary where any
// answer can be edited, then Submit.
type Flow struct {
	Name    string // "suggest"
	Version int    // bump when steps change; older drafts are carried over by step key
	Title   string // shown at the start and in the summary, in Persian
	Steps   []*Step

	// Menu is the main-menu label ("" = not in the menu: reached by a
	// link), Order its place among the menu's buttons, and Roles who may
	// run it (none = everyone). The menu, /help and the command list are
	// built from these; Allowed still decides at start and at submit.
	Menu  string
	Order int
	Roles []models.Role
	// MenuLabel, when set, decides the label per viewer ("" hides the
	// button): «عضو شورا هستم» becomes a note that the request waits.
	// It gets the menu's context: Memo shares a figure among labels.
	MenuLabel func(ctx context.Context, v models.Viewer) string
	// Command, when set, is the slash command that starts the flow
	// ("suggest" for /suggest); Help is its line in /help.
	Command string
	Help    string

	// Depends says which answers depend on which: step key -> the steps
	// it depends on. Editing an answer from the summary drops and asks
	// again every answer that depends on it, transitively.
	Depends map[string][]string

	// Counter shows «مرحله N از M» above each question: for long flows
	// where it helps; short ones read better without it.
	Counter bool

	// NoSummary submits as soon as the last step is answered (a lookup, not a record).
	NoSummary bool

	// ChangesRoles says Submit may change the person's own roles (a
	// membership request taken back): the menu drawn after it looks them
	// up again instead of using who they were when the update arrived.
	// A flow that can tie the account to a person (registration) must set
	// it: until then an account known to have no person behind it is not
	// looked up again for up to strangerFor.
	ChangesRoles bool

	// Allowed, when set, says why the viewer may not run this flow
	// ("" when they may). It is checked at the start and again at Submit.
	Allowed func(ctx context.Context, v models.Viewer, arg string) (string, error)

	// Limit, when set, says why the account may not run this flow now
	// ("" when it may): a limit of the account that needs none of its
	// roles, so the viewer is not looked up for it (a query less as a
	// resident starts a flow). It is checked before Allowed, at the start
	// and again at Submit, unless SubmitLimits.
	Limit func(ctx context.Context, platform string, userID int64) (string, error)
	// SubmitLimits says Submit enforces Limit itself, in the transaction
	// that stores the record (refusing with EFORBIDDEN and the reason):
	// Limit is then asked only at the start.
	SubmitLimits bool

	// Prefill, when set, gives what a run starts with: context the steps
	// need (Hidden, never shown), and, to edit a record, its answers — with
	// any of those the run opens at the summary. EINVALID, EFORBIDDEN and
	// ENOTFOUND errors are shown to the person.
	Prefill func(ctx context.Context, v models.Viewer, arg string) (Prefilled, error)

	// Review, when set, is asked after the person confirms the summary and
	// may hold Submit back with a question (a likely duplicate); the option
	// chosen reaches Submit as Submission.Choice(). It is not asked when
	// the run was already submitted (Submitted).
	Review func(ctx context.Context, sub Submission) (*Review, error)

	// Links, when set, are buttons under the closing message (what to do
	// next with the record just shown or made). Each MenuItem.Flow may
	// carry an argument: "progress:42".
	Links func(sub Submission) []MenuItem

	// Submit stores the finished flow. It must be idempotent on sub.Run (the
	// same run submitted twice creates one record) and returns the closing
	// message the person reads.
	Submit func(ctx context.Context, sub Submission) (string, error)

	// Attach, when set, makes a picture for the person once Submit has
	// succeeded (a place's printable QR card): it is sent as a photo above
	// the closing message. An error leaves the picture out and is logged;
	// the closing message still goes.
	Attach func(ctx context.Context, sub Submission) ([]byte, error)

	// Album, when set, names photos (file ids) to show above the closing
	// message once Submit has succeeded (an action's photos under its
	// details), as one album. Errors are treated as Attach's.
	Album func(ctx context.Context, sub Submission) ([]string, error)

	// Submitted, when set, recognises a run already stored under its
	// idempotency key (a replay after a crash): it returns the closing
	// message for that record and true, and no question (no Review) is
	// asked again.
	Submitted func(ctx context.Context, sub Submission) (string, bool, error)
}

// Prefilled is what Flow.Prefill starts a run with.
type Prefilled struct {
	Answers map[string]Answer // a record's answers, to edit it
	Hidden  map[string]Answer // context the steps need, never shown
}

// Submission is a finished flow handed to Flow.Submit.
type Submission struct {
	Key     Key
	Run     string // unique per run of a flow: the idempotency key
	Arg     string // what the flow was started with ("" for none)
	Answers map[string]Answer
	Hidden  map[string]Answer // the run's context (Prefilled.Hidden) and bookkeeping
	Name    string            // the person's name on the platform
	Viewer  models.Viewer     // who is asking, resolved once for this update
}

func (f *Flow) step(key string) (*Step, int) {
	for i, s := range f.Steps {
		if s.Key == key {
			return s, i
		}
	}
	return nil, -1
}

// Review is a question asked between the summary and Submit.
type Review struct {
	Text    string
	Options []Option
}

// Choice returns the option the person chose at the review step, or "".
func (s Submission) Choice() string { return s.Hidden[keyReview].First() }
