package conversations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// Special step keys and callback values.
const (
	stepSummary = "_summary"
	stepReview  = "_review"
	keyArg      = "_arg"    // the argument a flow was started with
	keyReview   = "_review" // the choice made at the review step

	valSkip    = "_skip"
	valDone    = "_done"
	valConfirm = "_ok"
	valCancel  = "_no"
	valToday   = "_today"
	valNext    = "_next"
	valPrev    = "_prev"
	valPage    = "_page"
	valBack    = "_back"
	valYday    = "_yday"
	editPrefix = "e:"

	menuNonce   = "m" // menu buttons carry no nonce: they are valid at any time
	menuStep    = "menu"
	menuResume  = "_resume"
	menuRestart = "_restart"
	menuHelp    = "_help"
)

// MenuItem is a main-menu button: it starts Flow, or shows Text.
type MenuItem struct {
	Label string
	Flow  string
	Text  string
}

// Config configures an Engine. Zero values take the defaults in brackets.
type Config struct {
	Flows []*Flow
	Menu  []MenuItem
	// MenuFor, when set, gives each person their own menu (a council
	// member sees member features); Menu is then unused.
	MenuFor  func(ctx context.Context, k Key) ([]MenuItem, error)
	Welcome  string           // shown with the menu on /start
	Help     string           // shown on /help
	Now      func() time.Time // [time.Now]
	TTL      time.Duration    // a flow expires after this long without an answer [24h]
	DraftTTL time.Duration    // an expired flow's answers are kept this long [7 days]
	Logger   *slog.Logger
	// Shared says other processes (webhook replicas) handle the same chats:
	// the in-process state cache, which assumes this process is a chat's
	// only writer, is then off and every update reads the state from Redis.
	Shared bool
}

// Engine walks people through flows. Every transition is one compare-and-set
// in Redis that also writes the update's dedup mark, so a re-delivered
// update has no second effect and two racing updates cannot both win.
type Engine struct {
	store *Store
	cfg   Config
	flows map[string]*Flow
	cache *stateCache
}

// NewEngine returns an engine over store.
func NewEngine(store *Store, cfg Config) *Engine {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 24 * time.Hour
	}
	if cfg.DraftTTL <= 0 {
		cfg.DraftTTL = 7 * 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cacheSize := 100_000
	if cfg.Shared {
		cacheSize = 0
	}
	e := &Engine{store: store, cfg: cfg, flows: map[string]*Flow{}, cache: newStateCache(cacheSize)}
	for _, f := range cfg.Flows {
		e.flows[f.Name] = f
	}
	return e
}

// idleTTL is how long an idle state (holding the last closing notice, so a
// replayed update can repeat it) is kept.
const idleTTL = 25 * time.Hour

// maxAttempts bounds how often a transition is re-evaluated after losing a
// compare-and-set race.
const maxAttempts = 8

// Handle applies one input to the conversation k and returns what to do in
// the chat. A re-delivered update (its dedup mark exists) changes nothing and
// returns the reply that belongs to the current state. Errors are EINTERNAL
// faults of Redis or of a flow's Submit; the caller tells the person to try again.
func (e *Engine) Handle(ctx context.Context, k Key, in Input) ([]Out, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		st, applied, ok := e.cache.get(k)
		if ok && in.UpdateID != 0 && in.UpdateID <= applied {
			return e.replay(ctx, &st, in), nil
		}
		if !ok {
			snap, err := e.store.Load(ctx, k, in.UpdateID)
			if err != nil {
				return nil, fmt.Errorf("conversations: load: %w", err)
			}
			st = snap.State
			if snap.Seen {
				// Cached, so the re-sent prompt's message id can be remembered.
				e.cache.put(k, st, in.UpdateID)
				return e.replay(ctx, &st, in), nil
			}
		}
		t := &turn{e: e, ctx: ctx, key: k, in: in, st: cloneState(st), now: e.cfg.Now()}
		if err := t.decide(); err != nil {
			return nil, err
		}
		if !t.changed {
			// Nothing changed (a hint, a help text, a stale button): there is
			// no effect to deduplicate, and a re-delivery simply answers again.
			return t.outs, nil
		}
		next, ttl := &t.st, e.ttlFor(&t.st, t.now)
		if t.st.Flow == "" && t.st.Notice == "" {
			next = nil
		}
		ver, err := e.store.Commit(ctx, k, in.UpdateID, st.Version, next, ttl)
		switch {
		case errors.Is(err, ErrConflict):
			e.cache.drop(k)
			continue
		case errors.Is(err, ErrSeen):
			e.cache.drop(k)
			snap, err := e.store.Load(ctx, k, in.UpdateID)
			if err != nil {
				return nil, fmt.Errorf("conversations: load after replay: %w", err)
			}
			e.cache.put(k, snap.State, in.UpdateID)
			return e.replay(ctx, &snap.State, in), nil
		case err != nil:
			e.cache.drop(k)
			return nil, fmt.Errorf("conversations: commit: %w", err)
		}
		t.st.Version = ver
		if next == nil {
			e.cache.put(k, State{}, in.UpdateID)
		} else {
			e.cache.put(k, t.st, in.UpdateID)
		}
		return t.outs, nil
	}
	return nil, fmt.Errorf("conversations: %d lost races in a row: %w", maxAttempts, ErrConflict)
}

// Prompted records the id of the message that carries the current prompt,
// so its buttons can be removed once it is answered. It is a compare-and-set
// like any transition; losing the race only means the next prompt wins.
func (e *Engine) Prompted(ctx context.Context, k Key, messageID int) error {
	st, applied, ok := e.cache.get(k)
	if !ok || st.Flow == "" || st.PromptID == messageID {
		return nil
	}
	next := cloneState(st)
	next.PromptID = messageID
	ver, err := e.store.Save(ctx, k, st.Version, &next, e.ttlFor(&next, e.cfg.Now()))
	if errors.Is(err, ErrConflict) {
		e.cache.drop(k)
		return nil
	} else if err != nil {
		e.cache.drop(k)
		return fmt.Errorf("conversations: save prompt: %w", err)
	}
	next.Version = ver
	e.cache.put(k, next, applied)
	return nil
}

func (e *Engine) ttlFor(st *State, now time.Time) time.Duration {
	if st.Flow == "" {
		return idleTTL
	}
	left := time.Unix(st.Expires, 0).Sub(now)
	if left < 0 {
		left = 0
	}
	return left + e.cfg.DraftTTL
}

// replay answers a re-delivered update: the person still gets the reply
// that belongs to the current state, and nothing changes.
func (e *Engine) replay(ctx context.Context, st *State, in Input) []Out {
	t := &turn{e: e, ctx: ctx, in: in, st: cloneState(*st), now: e.cfg.Now(), replaying: true}
	if in.CallbackID != "" {
		t.answer("")
	}
	if f := e.flows[st.Flow]; f != nil && !t.expired() && !st.Paused {
		t.prompt(f, "")
		return t.outs
	}
	if st.Notice != "" {
		t.send(st.Notice, nil)
	}
	t.menu("")
	return t.outs
}

// turn is the evaluation of one input against one state.
type turn struct {
	e         *Engine
	ctx       context.Context
	key       Key
	in        Input
	st        State
	now       time.Time
	outs      []Out
	changed   bool // st must be committed
	submitErr error
	// replaying: nothing is committed, so a prompt must keep the stored
	// nonce or its buttons would be refused as stale.
	replaying bool
}

func (t *turn) decide() error {
	in := t.in
	if t.st.Flow != "" && t.st.Expires != 0 && t.now.After(time.Unix(t.st.Expires, 0).Add(t.e.cfg.DraftTTL)) {
		// Past the draft's keeping time: Redis drops the key on its own; a
		// state read just before that is dropped here.
		t.st = State{}
		t.changed = true
	}
	if in.CallbackID != "" {
		return t.callback()
	}
	if in.Command != "" {
		return t.command()
	}
	f := t.e.flows[t.st.Flow]
	if f == nil {
		if t.st.Flow != "" {
			t.reset(msgFlowGone)
			return nil
		}
		t.menu(msgUseMenu)
		return nil
	}
	if t.st.Paused {
		t.menu(msgPausedHint)
		return nil
	}
	if t.expired() {
		if t.st.Announced {
			t.menu(msgPausedHint)
			return nil
		}
		t.announceExpiry(f)
		return nil
	}
	if t.upgrade(f) {
		return nil
	}
	return t.input(f, "")
}

func (t *turn) command() error {
	f := t.e.flows[t.st.Flow]
	switch t.in.Command {
	case "start", "menu":
		if f != nil && !t.st.Paused && !t.expired() {
			t.stripPrompt() // «ادامه» will ask again
			t.st.Paused = true
			t.changed = true
			t.menu(msgPaused)
			return nil
		}
		if t.in.Command == "start" {
			t.menu(t.e.cfg.Welcome)
		} else {
			t.menu("")
		}
		return nil
	case "help":
		t.send(t.e.cfg.Help, nil)
		if f != nil && !t.st.Paused && !t.expired() {
			t.prompt(f, "")
		}
		return nil
	case "cancel":
		if t.st.Flow == "" {
			t.menu(msgNothingToCancel)
			return nil
		}
		t.stripPrompt()
		t.st = State{}
		t.changed = true
		t.menu(msgCancelled)
		return nil
	case "back":
		if f == nil || t.st.Paused || t.expired() {
			t.menu(msgNothingToGoBack)
			return nil
		}
		return t.back(f)
	}
	if f != nil && !t.st.Paused && !t.expired() {
		t.prompt(f, msgUnknownCommandInFlow)
		return nil
	}
	t.menu(msgUnknownCommand)
	return nil
}

func (t *turn) callback() error {
	cd, err := ParseCallback(t.in.CallbackData)
	if err != nil {
		t.answer(msgBadButton)
		return nil
	}
	if cd.Nonce == menuNonce {
		return t.menuPress(cd.Value)
	}
	f := t.e.flows[t.st.Flow]
	if f == nil || cd.Nonce != t.st.Nonce || cd.Step != t.st.Step || t.st.Paused || t.expired() {
		t.answer(msgOldButton)
		if t.in.MessageID != 0 && t.in.MessageID != t.st.PromptID {
			t.outs = append(t.outs, Out{Edit: t.in.MessageID, StripOnly: true})
		}
		return nil
	}
	return t.input(f, cd.Value)
}

func (t *turn) menuPress(value string) error {
	switch value {
	case menuHelp:
		t.answer("")
		t.send(t.e.cfg.Help, nil)
		t.menu("")
		return nil
	case menuResume:
		f := t.e.flows[t.st.Flow]
		if f == nil {
			t.answer(msgOldButton)
			t.menu("")
			return nil
		}
		t.answer("")
		t.st.Paused, t.st.Announced = false, false
		t.st.Expires = t.now.Add(t.e.cfg.TTL).Unix()
		t.changed = true
		if !t.upgrade(f) {
			t.prompt(f, msgResumed)
		}
		return nil
	}
	restart := strings.HasPrefix(value, menuRestart)
	name, arg, _ := strings.Cut(strings.TrimPrefix(value, menuRestart), ":")
	if f := t.e.flows[name]; f != nil {
		t.answer("")
		if !restart && t.st.Flow == name && t.st.Answers[keyArg].Text == arg && !t.st.Paused && !t.expired() {
			// A second tap on the button that started this run (or an
			// old menu): the run goes on where it is.
			t.prompt(f, "")
			return nil
		}
		return t.start(f, arg)
	}
	items, err := t.e.menuFor(t.ctx, t.key)
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.Flow == "" && it.Label == value {
			t.answer("")
			t.send(it.Text, nil)
			return nil
		}
	}
	t.answer(msgOldButton)
	return nil
}

// start begins a run of f with arg (e.g. the id of the record it is
// about), replacing any draft. Whether the person may run it is checked
// here, on the server, whatever button brought them.
func (t *turn) start(f *Flow, arg string) error {
	if f == nil {
		t.menu(msgUseMenu)
		return nil
	}
	if f.Allowed != nil {
		why, err := f.Allowed(t.ctx, t.key, arg)
		if err != nil {
			return fmt.Errorf("conversations: may %s start: %w", f.Name, err)
		}
		if why != "" {
			t.menu(why)
			return nil
		}
	}
	t.stripPrompt()
	t.st = State{
		Flow:        f.Name,
		FlowVersion: f.Version,
		Run:         NewNonce() + NewNonce() + NewNonce(),
		Answers:     map[string]Answer{},
	}
	if arg != "" {
		t.st.Answers[keyArg] = Answer{Text: arg}
	}
	t.st.Expires = t.now.Add(t.e.cfg.TTL).Unix()
	t.changed = true
	if f.Prefill != nil {
		pre, err := f.Prefill(t.ctx, t.key, arg)
		if err != nil {
			if models.ErrorCode(err) == models.EINVALID || models.ErrorCode(err) == models.EFORBIDDEN || models.ErrorCode(err) == models.ENOTFOUND {
				t.st = State{}
				t.menu(userMessage(err, msgRecordGone))
				return nil
			}
			return fmt.Errorf("conversations: prefill %s: %w", f.Name, err)
		}
		visible := false
		for k, a := range pre {
			t.st.Answers[k] = a
			visible = visible || !strings.HasPrefix(k, "_")
		}
		if visible {
			t.st.Step = stepSummary
			t.prompt(f, "")
			return nil
		}
	}
	first := t.nextStep(f, -1)
	t.st.Step = first
	t.prompt(f, "")
	return nil
}

// menuFor is the main menu for the person in k.
func (e *Engine) menuFor(ctx context.Context, k Key) ([]MenuItem, error) {
	if e.cfg.MenuFor == nil {
		return e.cfg.Menu, nil
	}
	items, err := e.cfg.MenuFor(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("conversations: menu: %w", err)
	}
	return items, nil
}

func (t *turn) expired() bool {
	return t.st.Flow != "" && t.st.Expires != 0 && t.now.Unix() >= t.st.Expires
}

func (t *turn) announceExpiry(f *Flow) {
	if !t.st.Announced {
		t.st.Announced = true
		t.changed = true
	}
	t.send(fmt.Sprintf(msgExpired, f.Title), [][]Button{
		{t.menuButton("ادامهٔ پیش‌نویس", menuResume)},
		{t.menuButton("شروع دوباره", menuRestart+flowValue(f.Name, t.st.Answers[keyArg].Text))},
	})
}

// upgrade carries a draft of an older flow version over to the current one:
// answers whose step still exists are kept. It reports whether it had to
// tell the person something (and so ends the turn).
func (t *turn) upgrade(f *Flow) bool {
	if t.st.FlowVersion == f.Version {
		return false
	}
	kept := map[string]Answer{}
	for k, a := range t.st.Answers {
		if s, _ := f.step(strings.TrimSuffix(strings.TrimSuffix(k, "_q"), "_p")); s != nil || strings.HasPrefix(k, "_") {
			kept[k] = a // hidden context ("_arg", "_council", ...) belongs to the run, not to a step
		}
	}
	var trail []string
	for _, k := range t.st.Trail {
		if s, _ := f.step(k); s != nil {
			trail = append(trail, k)
		}
	}
	t.st.Answers, t.st.Trail, t.st.FlowVersion = kept, trail, f.Version
	t.changed = true
	if s, _ := f.step(t.st.Step); s == nil && t.st.Step != stepSummary && t.st.Step != stepReview {
		if !hasVisible(kept) {
			t.st.Step = t.nextStep(f, -1)
			t.prompt(f, msgFlowRestarted)
			return true
		}
		t.st.Step = t.firstUnanswered(f)
	}
	t.prompt(f, msgFlowUpgraded)
	return true
}

func (t *turn) firstUnanswered(f *Flow) string {
	for _, s := range f.Steps {
		if _, ok := t.st.Answers[s.Key]; !ok && (s.Skip == nil || !s.Skip(&t.st)) {
			return s.Key
		}
	}
	return stepSummary
}

// nextStep returns the step after index i that is not skipped, or the summary.
func (t *turn) nextStep(f *Flow, i int) string {
	for j := i + 1; j < len(f.Steps); j++ {
		if s := f.Steps[j]; s.Skip == nil || !s.Skip(&t.st) {
			return s.Key
		}
	}
	return stepSummary
}

func (t *turn) back(f *Flow) error {
	if t.st.Step == stepReview {
		t.st.Step = stepSummary
		t.changed = true
		t.stripPrompt()
		t.prompt(f, "")
		return nil
	}
	if t.st.Step == stepSummary && t.st.Editing {
		t.st.Editing = false
	}
	if len(t.st.Trail) == 0 {
		t.prompt(f, msgFirstStep)
		return nil
	}
	prev := t.st.Trail[len(t.st.Trail)-1]
	t.st.Trail = t.st.Trail[:len(t.st.Trail)-1]
	t.st.Step = prev
	t.st.Editing = false
	t.changed = true
	t.stripPrompt()
	t.prompt(f, msgWentBack)
	return nil
}

// advance stores a as the current step's answer and moves on.
func (t *turn) advance(f *Flow, a Answer) {
	step := t.st.Step
	if t.st.Answers == nil {
		t.st.Answers = map[string]Answer{}
	}
	t.st.Answers[step] = a
	if s, _ := f.step(step); s != nil && s.Search != nil {
		delete(t.st.Answers, s.Jump+"_q") // browsing replaced an earlier search
	}
	t.st.Group = ""
	t.changed = true
	t.st.Expires = t.now.Add(t.e.cfg.TTL).Unix()
	if t.st.Editing {
		t.st.Editing = false
		t.st.Step = stepSummary
		t.prompt(f, "")
		return
	}
	t.st.Trail = append(t.st.Trail, step)
	_, i := f.step(step)
	t.st.Step = t.nextStep(f, i)
	if t.st.Step == stepSummary && f.NoSummary {
		t.submitErr = t.submit(f)
		return
	}
	t.prompt(f, "")
}

// jump moves to step key without answering the current one (a search that
// continues at the step that lists what was found).
func (t *turn) jump(f *Flow, key, query string) {
	if t.st.Answers == nil {
		t.st.Answers = map[string]Answer{}
	}
	t.st.Answers[key+"_q"] = Answer{Text: query}
	if !t.st.Editing {
		t.st.Trail = append(t.st.Trail, t.st.Step)
	}
	t.st.Step = key
	t.changed = true
	t.prompt(f, "")
}

// input applies the person's answer (a pressed value, or what they sent)
// to the current step.
func (t *turn) input(f *Flow, pressed string) error {
	if t.st.Step == stepSummary {
		return t.summaryInput(f, pressed)
	}
	if t.st.Step == stepReview {
		return t.reviewInput(f, pressed)
	}
	step, _ := f.step(t.st.Step)
	if step == nil {
		t.answer("")
		t.st.Step = t.firstUnanswered(f)
		t.changed = true
		t.prompt(f, "")
		return nil
	}
	in := t.in
	switch {
	case in.Edited:
		t.reask(f, msgEdited)
		return nil
	case in.Forwarded:
		t.reask(f, msgForwarded)
		return nil
	case pressed == valSkip && step.Optional:
		t.closePressed(step, msgSkipped)
		t.advance(f, Answer{Skipped: true})
		return nil
	case pressed == "" && step.Optional && isSkipWord(in.Text):
		t.advance(f, Answer{Skipped: true})
		return nil
	}
	a, hint, err := t.read(f, step, pressed)
	if err != nil {
		return err
	}
	if hint != "" {
		t.reask(f, hint)
		return nil
	}
	if a == nil { // handled in place (a toggle, an album photo, a search)
		return nil
	}
	if step.After != nil {
		st := cloneState(t.st)
		st.Answers[step.Key] = *a
		msg, err := step.After(t.ctx, t.key, &st, *a)
		switch {
		case models.ErrorCode(err) == models.EINVALID:
			t.reask(f, userMessage(err, msgBadAnswer))
			return nil
		case err != nil:
			return fmt.Errorf("conversations: after %s: %w", step.Key, err)
		case msg != "":
			t.closePressed(step, show(step, *a))
			t.st = State{Notice: msg}
			t.changed = true
			t.outs = append(t.outs, Out{Text: msg, RemoveReply: true})
			t.menu("")
			return nil
		}
	}
	t.closePressed(step, show(step, *a))
	t.advance(f, *a)
	return t.submitErr
}

// closePressed turns the message whose button was pressed into a record of
// the answer, with no buttons left on it.
func (t *turn) closePressed(step *Step, shown string) {
	if t.in.CallbackID == "" {
		t.stripPrompt()
		return
	}
	t.answer("")
	t.outs = append(t.outs, Out{Edit: t.in.MessageID, Text: "✔️ " + step.Label + ": " + shown})
	if t.in.MessageID == t.st.PromptID {
		t.st.PromptID = 0
	}
}

// stripPrompt removes the buttons of the current prompt, if it had any.
func (t *turn) stripPrompt() {
	if t.st.PromptID != 0 {
		t.outs = append(t.outs, Out{Edit: t.st.PromptID, StripOnly: true})
		t.st.PromptID = 0
		t.changed = true
	}
}

func (t *turn) summaryInput(f *Flow, pressed string) error {
	switch {
	case pressed == valConfirm:
		if f.Review != nil {
			rev, err := f.Review(t.ctx, t.submission())
			if err != nil {
				return fmt.Errorf("conversations: review %s: %w", f.Name, err)
			}
			if rev != nil && len(rev.Options) > 0 {
				t.answer("")
				t.outs = append(t.outs, Out{Edit: t.in.MessageID, StripOnly: true})
				t.st.PromptID = 0
				t.st.Step = stepReview
				t.changed = true
				t.prompt(f, "")
				return nil
			}
		}
		return t.submit(f)
	case pressed == valCancel:
		t.answer("")
		t.outs = append(t.outs, Out{Edit: t.in.MessageID, Text: msgCancelled})
		t.st = State{}
		t.changed = true
		t.menu("")
		return nil
	case strings.HasPrefix(pressed, editPrefix):
		key := strings.TrimPrefix(pressed, editPrefix)
		s, _ := f.step(key)
		if s == nil || (s.Skip != nil && s.Skip(&t.st)) {
			t.answer(msgOldButton)
			return nil
		}
		t.answer("")
		t.outs = append(t.outs, Out{Edit: t.in.MessageID, StripOnly: true})
		t.st.PromptID = 0
		t.st.Step = key
		t.st.Editing = true
		t.changed = true
		t.prompt(f, "")
		return nil
	}
	t.reask(f, msgSummaryHint)
	return nil
}

func (t *turn) submit(f *Flow) error {
	if f.Submit == nil {
		return fmt.Errorf("conversations: flow %s has no Submit", f.Name)
	}
	if f.Allowed != nil {
		why, err := f.Allowed(t.ctx, t.key, t.st.Answers[keyArg].Text)
		if err != nil {
			return fmt.Errorf("conversations: may %s submit: %w", f.Name, err)
		}
		if why != "" {
			t.answer(why)
			t.st = State{}
			t.changed = true
			t.menu(why)
			return nil
		}
	}
	msg, err := f.Submit(t.ctx, t.submission())
	if err != nil {
		switch models.ErrorCode(err) {
		case models.EFORBIDDEN, models.ENOTFOUND, models.ECONFLICT:
			// The record is gone, refused or no longer in a state that
			// takes this: say why and end the run.
			t.answer("")
			t.stripPrompt()
			t.st = State{}
			t.changed = true
			t.menu(userMessage(err, msgRecordGone))
			return nil
		case models.EINVALID:
			if f.NoSummary && len(t.st.Trail) > 0 {
				t.st.Step = t.st.Trail[len(t.st.Trail)-1]
				t.st.Trail = t.st.Trail[:len(t.st.Trail)-1]
				t.answer("")
				t.prompt(f, userMessage(err, msgBadAnswer))
				return nil
			}
			t.reask(f, userMessage(err, msgBadAnswer))
			return nil
		}
		return fmt.Errorf("conversations: submit %s: %w", f.Name, err)
	}
	t.answer("")
	if !f.NoSummary {
		t.outs = append(t.outs, Out{Edit: t.in.MessageID, Text: summaryText(t, f) + "\n\n" + msgSubmitted})
	}
	var links [][]Button
	if f.Links != nil {
		for _, it := range f.Links(t.submission()) {
			links = append(links, []Button{t.menuButton(it.Label, it.Flow)})
		}
	}
	t.st = State{Notice: msg}
	t.changed = true
	t.send(msg, links)
	t.menu("")
	return nil
}

func (t *turn) submission() Submission {
	return Submission{Key: t.key, Run: t.st.Run, Arg: t.st.Answers[keyArg].Text, Answers: t.st.Answers, Name: t.in.SenderName}
}

// reask repeats the current question with a hint of what is expected; the
// answers so far are untouched.
func (t *turn) reask(f *Flow, hint string) {
	if t.in.CallbackID != "" {
		t.answer(hint)
		return
	}
	t.prompt(f, hint)
}

func (t *turn) answer(note string) {
	if t.in.CallbackID == "" {
		return
	}
	for _, o := range t.outs {
		if o.AnswerCallback != "" {
			return
		}
	}
	t.outs = append(t.outs, Out{AnswerCallback: t.in.CallbackID, Note: note})
}

func (t *turn) send(text string, buttons [][]Button) {
	if text == "" {
		return
	}
	t.outs = append(t.outs, Out{Text: text, Buttons: buttons})
}

func (t *turn) menuButton(label, value string) Button {
	data, err := EncodeCallback(CallbackData{Nonce: menuNonce, Step: menuStep, Value: value})
	if err != nil {
		panic(fmt.Sprintf("conversations: menu button %q does not fit callback data: %v", value, err))
	}
	return Button{Text: label, Data: data}
}

// menu shows the main menu, with a way back to a waiting draft.
func (t *turn) menu(lead string) {
	var rows [][]Button
	if f := t.e.flows[t.st.Flow]; f != nil && (t.st.Paused || t.expired()) {
		rows = append(rows, []Button{t.menuButton("ادامهٔ «"+f.Title+"»", menuResume)})
	}
	items, err := t.e.menuFor(t.ctx, t.key)
	if err != nil {
		t.e.cfg.Logger.Error("conversations: menu", slog.Any("err", err))
		items = t.e.cfg.Menu
	}
	for _, it := range items {
		v := it.Flow
		if v == "" {
			v = it.Label
		}
		rows = append(rows, []Button{t.menuButton(it.Label, v)})
	}
	rows = append(rows, []Button{t.menuButton("راهنما", menuHelp)})
	text := msgMenu
	if lead != "" {
		text = lead + "\n\n" + msgMenu
	}
	t.outs = append(t.outs, Out{Text: text, Buttons: rows})
}

func (t *turn) reset(notice string) {
	t.st = State{}
	t.changed = true
	t.menu(notice)
}

func isSkipWord(s string) bool {
	switch strings.TrimSpace(s) {
	case "رد کردن", "رد", "بعدی", "ندارم", "skip":
		return true
	}
	return false
}

func cloneState(s State) State {
	c := s
	if s.Answers != nil {
		c.Answers = make(map[string]Answer, len(s.Answers))
		for k, v := range s.Answers {
			c.Answers[k] = v
		}
	}
	if s.Trail != nil {
		c.Trail = append([]string(nil), s.Trail...)
	}
	return c
}

// show is how an answer reads in the summary and in the record left on a
// pressed prompt.
func show(s *Step, a Answer) string {
	if a.Skipped {
		return "—"
	}
	if s.Show != nil {
		return s.Show(a)
	}
	switch s.Kind {
	case InputNumber:
		return persian.FormatNumber(a.Number)
	case InputDate:
		return persian.FormatDate(time.Unix(a.Time, 0))
	case InputLocation:
		return "📍 موقعیت ثبت شد"
	case InputPhoto:
		return persian.Digits(fmt.Sprint(len(a.Values))) + " عکس"
	case InputVoice:
		return "🎤 پیام صوتی"
	case InputDocument:
		return "📎 فایل"
	case InputTextOrVoice:
		if a.Text == "" && len(a.Values) > 0 {
			return "🎤 پیام صوتی"
		}
	case InputPhone:
		return persian.Digits(a.Text)
	}
	return a.Text
}

// hasVisible reports whether answers hold any step's answer, not only
// hidden context.
func hasVisible(answers map[string]Answer) bool {
	for k := range answers {
		if !strings.HasPrefix(k, "_") {
			return true
		}
	}
	return false
}

// flowValue is the menu value that starts flow with arg.
func flowValue(flow, arg string) string {
	if arg == "" {
		return flow
	}
	return flow + ":" + arg
}

// userMessage is what a person reads for a domain error: its message when
// the store wrote one in Persian for them (EINVALID and the flows' own
// refusals do), else fallback — never an English log text.
func userMessage(err error, fallback string) string {
	msg := models.ErrorMessage(err)
	for _, r := range msg {
		if r >= 0x0600 && r <= 0x06FF {
			return msg
		}
	}
	return fallback
}
