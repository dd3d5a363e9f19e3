package conversations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mahalle/mahalle/models"
)

// Special step keys and callback values.
const (
	stepSummary = "_summary"
	stepReview  = "_review"

	// Keys of State.Hidden, the engine's bookkeeping (never shown, never
	// mixed with the person's answers).
	keyArg       = "arg"     // the argument a flow was started with
	keyReview    = "review"  // the choice made at the review step
	keyPending   = "pending" // a typed answer that came after expiry, kept for «ادامه»
	keyAlbumOver = "over"    // the album already told it was over the photo limit
	keyAlbum     = "album"   // the step whose Display photos were last sent
	querySuffix  = ".q"      // <step>.q: the text searched that the step lists results of
	pageSuffix   = ".p"      // <step>.p: the page of a paged choice step
	otherSuffix  = ".o"      // <step>.o: the person pressed the step's Other button and types a name
	keyLocated   = "located" // the point a Locate step was given
	keyCreated   = "created" // what Create steps made in this run (a place typed in), «، »-separated

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
	valOther   = "_other"
	valList    = "_list"
	editPrefix = "e:"

	menuNonce   = "m" // menu buttons carry no nonce: they are valid at any time
	menuStep    = "menu"
	menuResume  = "_resume"
	menuRestart = "_restart"
	menuHelp    = "_help"
)

// MenuHome is the value of a button that shows the person's menu as it is
// now: a notice that changed their roles carries it.
const MenuHome = "_menu"

// MenuItem is a main-menu button: it starts Flow, or shows Text.
type MenuItem struct {
	Label string
	Flow  string
	Text  string
}

// Config configures an Engine. Zero values take the defaults in brackets.
type Config struct {
	Flows []*Flow
	// Menu holds extra main-menu buttons that show a text (MenuItem.Text);
	// the flows' buttons come from Flow.Menu, Order and Roles.
	Menu []MenuItem
	// Viewer resolves who is asking; it is called at most once per update.
	// [everyone is a plain resident]
	Viewer func(ctx context.Context, k Key) (models.Viewer, error)
	// ChatCommands says the router can set a chat's own command list:
	// Out.Commands is then filled when the viewer's list changed.
	ChatCommands bool
	Welcome      string // shown with the menu on /start
	// StartLink, when set, reads the parameter of a deep link
	// (t.me/<bot>?start=<payload>, sent as "/start <payload>"): the flow it
	// opens and that flow's argument; ok is false for a payload it does not
	// know, which then gets the welcome and the menu.
	StartLink func(payload string) (flow, arg string, ok bool)
	Help      string           // shown on /help above the list of what the person may do
	Now       func() time.Time // [time.Now]
	TTL       time.Duration    // a flow expires after this long without an answer [24h]
	DraftTTL  time.Duration    // an expired flow's answers are kept this long [7 days]
	Logger    *slog.Logger
	// Shared says other processes (webhook replicas) handle the same chats:
	// the in-process state cache, which assumes this process is a chat's
	// only writer, is then off and every update reads the state from Redis.
	Shared bool
	// DeferWrites says the queue writes an update's transition (with its
	// dedup mark) and a prompt's message id (Prompted) in the round trip
	// that acknowledges the update, instead of round trips of their own:
	// whoever calls Queue.Done for a chat first takes its writes with
	// TakeWrites and reports with WritesDone. The replies then go out
	// before the transition is stored; a transition that is not stored
	// leaves its update queued, to be handled again (a repeated reply at
	// worst, as a re-delivery gives). Set it only when every update the
	// engine handles ends with such a Done.
	DeferWrites bool
}

// Engine walks people through flows. Every transition is one compare-and-set
// in Redis that also writes the update's dedup mark, so a re-delivered
// update has no second effect and two racing updates cannot both win.
type Engine struct {
	store  *Store
	cfg    Config
	flows  map[string]*Flow
	cache  *stateCache
	writes pendingWrites
}

// NewEngine returns an engine over store. It returns an error naming the
// flow and step when a flow is wrong (see validate): a bad flow is refused
// at start, not found by a person.
func NewEngine(store *Store, cfg Config) (*Engine, error) {
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
	if err := validate(cfg.Flows); err != nil {
		return nil, err
	}
	cacheSize := 100_000
	if cfg.Shared {
		cacheSize = 0
	}
	e := &Engine{store: store, cfg: cfg, flows: map[string]*Flow{}, cache: newStateCache(cacheSize, cacheIdle, cfg.Now)}
	for _, f := range cfg.Flows {
		e.flows[f.Name] = f
	}
	return e, nil
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
	var who viewerMemo // resolved at most once, however many races are re-run
	if e.cfg.DeferWrites {
		e.forgetWrites(k)
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		st, applied, ok := e.cache.get(k)
		if ok && in.UpdateID != 0 && in.UpdateID <= applied {
			return e.replay(ctx, k, &st, in), nil
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
				return e.replay(ctx, k, &st, in), nil
			}
		}
		t := &turn{e: e, ctx: ctx, key: k, in: in, st: cloneState(st), now: e.cfg.Now(), who: &who, stranger: st.Stranger, hadKB: st.ReplyKB}
		carryHidden(&t.st)
		if err := t.decide(); err != nil {
			return nil, err
		}
		t.finish()
		if !t.changed {
			// Nothing changed (a hint, a help text, a stale button): there is
			// no effect to deduplicate, and a re-delivery simply answers again.
			return t.outs, nil
		}
		if t.st.Commands == 0 {
			t.st.Commands = st.Commands // the chat's command list outlives runs
		}
		t.st.Stranger = who.stranger(st.Stranger) // so does what is known of who is asking
		next, ttl := &t.st, e.ttlFor(&t.st, t.now)
		if t.st.Flow == "" && t.st.Notice == "" && t.st.Commands == 0 {
			next = nil
			if left := strangerLeft(t.st.Stranger, t.now); left >= time.Second {
				next, ttl = &t.st, left // kept only as long as the mark is trusted
			}
		}
		if e.cfg.DeferWrites {
			// Past the deadline the replies cannot go out, and the Done
			// would not come: fail as the commit itself would have.
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("conversations: commit: %w", err)
			}
			if err := e.deferCommit(k, in.UpdateID, st.Version, &t.st, next, ttl); err != nil {
				return nil, err
			}
			return t.outs, nil
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
			return e.replay(ctx, k, &snap.State, in), nil
		case err != nil && t.submitted:
			// The record is stored; only the conversation could not move
			// on. Saying «not done» would be false: the closing message is
			// sent, and pressing «تأیید» again finds the stored run.
			e.cache.drop(k)
			e.cfg.Logger.Error("conversations: commit after a stored record", slog.Any("err", err))
			return t.outs, nil
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
	if !ok && e.cfg.DeferWrites {
		// No cache (Shared): the state this update's transition leads
		// to waits in its write.
		if p, found := e.writes.get(k); found && p.commit && p.state != nil {
			st, applied, ok = *p.state, p.updateID, true
		}
	}
	if !ok || st.Flow == "" || st.PromptID == messageID {
		return nil
	}
	next := cloneState(st)
	next.PromptID = messageID
	if e.cfg.DeferWrites {
		ttl := e.ttlFor(&next, e.cfg.Now())
		w := StateWrite{Key: k, Expect: st.Version, TTL: ttl, promptID: messageID}
		if p, ok := e.writes.get(k); ok && p.commit {
			// The transition this prompt follows is not written yet: one
			// write stores both.
			w.Expect, w.commit, w.updateID, w.dedupTTL = p.Expect, true, p.updateID, p.dedupTTL
		}
		ver, value, err := encodeState(w.Expect, &next, ttl)
		if err != nil {
			return fmt.Errorf("conversations: save prompt: %w", err)
		}
		w.Value, w.version = value, ver
		if w.commit && e.cfg.Shared {
			kept := next
			kept.Version = ver
			w.state = &kept
		}
		e.writes.add(w)
		e.cache.put(k, next, applied) // at its version until the write is done
		return nil
	}
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

// deferCommit sets aside the transition of update id from version expect
// to next (nil deletes the state), for the chat's Done (DeferWrites), and
// caches st, the state it leads to, as if it were stored.
func (e *Engine) deferCommit(k Key, updateID int, expect int64, st, next *State, ttl time.Duration) error {
	ver, value, err := encodeState(expect, next, ttl)
	if err != nil {
		return fmt.Errorf("conversations: commit: %w", err)
	}
	w := StateWrite{Key: k, Expect: expect, Value: value, TTL: ttl,
		commit: true, updateID: updateID, dedupTTL: e.store.dedupTTL, version: ver}
	if next == nil {
		e.cache.put(k, State{}, updateID)
	} else {
		st.Version = ver
		e.cache.put(k, *st, updateID)
		if e.cfg.Shared {
			kept := *st // for Prompted, which has no cache to read it from
			w.state = &kept
		}
	}
	e.writes.add(w)
	return nil
}

// forgetWrites drops the writes still waiting for the chat of k: they
// missed their Done (the chat was given up, or the attempt failed), and
// their update, still queued, is handled again. A prompt id may no longer
// fit the stored state, whose version restarts after a delete; the cache
// keeps it for the next transition. A transition was never stored: the
// cache, which holds it, is dropped.
func (e *Engine) forgetWrites(k Key) {
	for _, w := range e.writes.take(k.Platform, k.ChatID) {
		if w.commit {
			e.cache.drop(w.Key)
		}
	}
}

// TakeWrites returns the writes waiting for the chat (Config.DeferWrites)
// and forgets them: the caller writes them with Queue.DoneWith and reports
// with WritesDone.
func (e *Engine) TakeWrites(platform string, chatID int64) []StateWrite {
	return e.writes.take(platform, chatID)
}

// WritesDone records what became of writes from TakeWrites: applied[i] for
// writes[i], or applied nil when the round trip failed. A write not applied
// leaves the cached state out of date, so it is dropped and read again (a
// lost prompt id: the next prompt then wins, as with a lost race; a lost
// transition: its update is handled again from the stored state).
func (e *Engine) WritesDone(writes []StateWrite, applied []bool) {
	for i, w := range writes {
		st, at, ok := e.cache.get(w.Key)
		if !ok || st.PromptID != w.promptID || (st.Version != w.Expect && st.Version != w.version) {
			continue // changed since, and written with the change
		}
		if i < len(applied) && applied[i] {
			st.Version = w.version
			e.cache.put(w.Key, st, at)
		} else {
			e.cache.drop(w.Key)
		}
	}
}

// pendingWrites holds the writes waiting for their chat's Done.
type pendingWrites struct {
	mu sync.Mutex
	m  map[chatRef][]StateWrite
}

// chatRef names a chat; a group's conversations share it.
type chatRef struct {
	platform string
	chatID   int64
}

// add keeps w, replacing an earlier write of the same conversation.
func (p *pendingWrites) add(w StateWrite) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[chatRef][]StateWrite{}
	}
	c := chatRef{w.Key.Platform, w.Key.ChatID}
	ws := slices.DeleteFunc(p.m[c], func(o StateWrite) bool { return o.Key == w.Key })
	p.m[c] = append(ws, w)
}

// get returns the write waiting for conversation k, if any.
func (p *pendingWrites) get(k Key) (StateWrite, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.m[chatRef{k.Platform, k.ChatID}] {
		if w.Key == k {
			return w, true
		}
	}
	return StateWrite{}, false
}

func (p *pendingWrites) take(platform string, chatID int64) []StateWrite {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := chatRef{platform, chatID}
	ws := p.m[c]
	delete(p.m, c)
	return ws
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
func (e *Engine) replay(ctx context.Context, k Key, st *State, in Input) []Out {
	t := &turn{e: e, ctx: ctx, key: k, in: in, st: cloneState(*st), now: e.cfg.Now(), replaying: true, who: &viewerMemo{}, stranger: st.Stranger}
	carryHidden(&t.st)
	if in.CallbackID != "" {
		t.answer("")
	}
	if f := e.flows[st.Flow]; f != nil && !t.expired() && !st.Paused {
		t.prompt(f, "")
		return t.outs
	}
	t.menu(st.Notice)
	return t.mergeSends(t.outs)
}

// turn is the evaluation of one input against one state.
type turn struct {
	e   *Engine
	ctx context.Context

	menuEntries []menuEntry // the menu's entries, once a turn (entries)
	entriesDone bool

	key       Key
	in        Input
	st        State
	now       time.Time
	outs      []Out
	changed   bool // st must be committed
	submitErr error
	submitted bool // a record was stored (or found stored) in this turn
	who       *viewerMemo
	stranger  int64  // State.Stranger as the update found it
	hadKB     bool   // a reply keyboard was on the screen when the turn began
	record    string // the record line of the answer just taken ("✔️ موقعیت: —")
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
		if t.in.Text != "" && !t.in.Edited && !t.in.Forwarded {
			// What they typed is kept: «ادامه» applies it to the step.
			t.setHidden(keyPending, Answer{Text: t.in.Text})
		}
		t.stripPrompt()
		t.announceExpiry(f)
		return nil
	}
	if t.upgrade(f) {
		return nil
	}
	return t.input(f, "")
}

// startLink returns the flow a "/start <payload>" deep link opens, or nil.
func (t *turn) startLink() *Flow {
	if t.in.Command != "start" || t.in.Args == "" || t.e.cfg.StartLink == nil {
		return nil
	}
	name, _, ok := t.e.cfg.StartLink(t.in.Args)
	if !ok {
		return nil
	}
	return t.e.flows[name]
}

func (t *turn) command() error {
	f := t.e.flows[t.st.Flow]
	switch t.in.Command {
	case "start", "menu":
		if g := t.startLink(); g != nil {
			if f != nil && !t.st.Paused && !t.expired() {
				t.stripPrompt()
				t.st.Paused = true // the draft waits, as with /menu
			}
			_, arg, _ := t.e.cfg.StartLink(t.in.Args)
			return t.start(g, arg)
		}
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
		t.send(t.helpText(), nil)
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
		msg := cancelled(t.st)
		t.st = State{}
		t.changed = true
		t.menu(msg)
		return nil
	case "back":
		if f == nil || t.st.Paused || t.expired() {
			t.menu(msgNothingToGoBack)
			return nil
		}
		return t.back(f)
	}
	for _, g := range t.e.cfg.Flows {
		if g.Command != "" && g.Command == t.in.Command {
			if f != nil && !t.st.Paused && !t.expired() && f != g {
				t.stripPrompt()
				t.st.Paused = true // the draft waits, as with /menu
			}
			if f == g && !t.st.Paused && !t.expired() {
				t.prompt(f, "")
				return nil
			}
			return t.start(g, "")
		}
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
		// Every prompt lost its buttons when it stopped being current, so
		// the message needs no edit: one would only be «not modified».
		t.answer(msgOldButton)
		return nil
	}
	return t.input(f, cd.Value)
}

func (t *turn) menuPress(value string) error {
	switch value {
	case MenuHome:
		t.answer("")
		if f := t.e.flows[t.st.Flow]; f != nil && !t.st.Paused && !t.expired() {
			t.stripPrompt() // as /menu: the draft waits, «ادامه» asks again
			t.st.Paused = true
			t.changed = true
			t.menu(msgPaused)
			return nil
		}
		t.menu("")
		return nil
	case menuHelp:
		t.answer("")
		t.send(t.helpText(), nil)
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
		if t.upgrade(f) {
			return nil
		}
		if p, ok := t.st.Hidden[keyPending]; ok {
			// The answer typed after expiry is taken now, as if just typed.
			delete(t.st.Hidden, keyPending)
			pressed := t.in
			t.in = Input{UpdateID: pressed.UpdateID, SenderID: pressed.SenderID, SenderName: pressed.SenderName, Text: p.Text}
			err := t.input(f, "")
			t.in = pressed
			return err
		}
		t.prompt(f, msgResumed)
		return nil
	}
	restart := strings.HasPrefix(value, menuRestart)
	name, arg, _ := strings.Cut(strings.TrimPrefix(value, menuRestart), ":")
	if f := t.e.flows[name]; f != nil {
		t.answer("")
		if !restart && t.st.Flow == name && t.st.Hidden[keyArg].Text == arg && !t.st.Paused && !t.expired() {
			// A second tap on the button that started this run (or an
			// old menu): the run goes on where it is.
			t.prompt(f, "")
			return nil
		}
		return t.start(f, arg)
	}
	for _, it := range t.e.cfg.Menu {
		if it.Flow == "" && it.Label == value {
			t.answer("")
			t.send(it.Text, nil)
			return nil
		}
	}
	t.answer(msgOldButton)
	return nil
}

// allowed says why the person may not run f with arg now ("" when they
// may): its Limit (at submit only when Submit does not enforce it), then
// its Allowed.
func (t *turn) allowed(f *Flow, arg string, submit bool) (string, error) {
	if f.Limit != nil && !(submit && f.SubmitLimits) {
		if why, err := f.Limit(t.ctx, t.key.Platform, t.key.UserID); err != nil || why != "" {
			return why, err
		}
	}
	if f.Allowed == nil {
		return "", nil
	}
	v, err := t.viewer()
	if err != nil {
		return "", err
	}
	return f.Allowed(t.ctx, v, arg)
}

// start begins a run of f with arg (e.g. the id of the record it is
// about), replacing any draft. Whether the person may run it is checked
// here, on the server, whatever button brought them.
func (t *turn) start(f *Flow, arg string) error {
	if f == nil {
		t.menu(msgUseMenu)
		return nil
	}
	why, err := t.allowed(f, arg, false)
	if err != nil {
		return fmt.Errorf("conversations: may %s start: %w", f.Name, err)
	}
	if why != "" {
		t.menu(why)
		return nil
	}
	t.stripPrompt()
	t.st = State{
		Flow:        f.Name,
		FlowVersion: f.Version,
		Run:         NewNonce() + NewNonce() + NewNonce(),
		Answers:     map[string]Answer{},
	}
	if arg != "" {
		t.setHidden(keyArg, Answer{Text: arg})
	}
	t.st.Expires = t.now.Add(t.e.cfg.TTL).Unix()
	t.changed = true
	if f.Prefill != nil {
		v, err := t.viewer()
		if err != nil {
			return err
		}
		pre, err := f.Prefill(t.ctx, v, arg)
		if err != nil {
			if code := models.ErrorCode(err); code == models.EINVALID || code == models.EFORBIDDEN || code == models.ENOTFOUND || code == models.ECONFLICT {
				t.st = State{}
				t.menu(userMessage(err, msgRecordGone))
				return nil
			}
			return fmt.Errorf("conversations: prefill %s: %w", f.Name, err)
		}
		for k, a := range pre.Hidden {
			t.setHidden(k, a)
		}
		for k, a := range pre.Answers {
			t.st.Answers[k] = a
		}
		if len(pre.Answers) > 0 {
			t.st.Step = stepSummary
			t.prompt(f, "")
			return nil
		}
	}
	first := t.nextStep(f, -1)
	t.st.Step = first
	if first == stepSummary && f.NoSummary {
		// Everything the run needs came with it (a lookup of «محلهٔ من»).
		return t.submit(f)
	}
	t.prompt(f, "")
	return nil
}

// strangerFor is how long the lookup's finding that no person stands
// behind an account (a resident who never registered) is trusted without
// asking again: most updates of most people then need no query to know who
// is asking. An account gets its person only in its own chat, in a flow
// that ChangesRoles, and such a flow looks them up afresh; the bound covers
// any other way. A stale mark can only withhold roles, never grant them.
const strangerFor = 10 * time.Minute

// strangerLeft is how much longer the stranger mark set at unix second mark
// is trusted (≤ 0: no longer, or no mark).
func strangerLeft(mark int64, now time.Time) time.Duration {
	return time.Unix(mark, 0).Add(strangerFor).Sub(now)
}

// viewerMemo holds who is asking, resolved once per update.
type viewerMemo struct {
	done bool
	v    models.Viewer
	// recheck: the person's roles may have changed in this update, so the
	// stored stranger mark is not trusted.
	recheck bool
	// looked: the lookup ran in this update, and mark is what it found
	// (State.Stranger: the time, or 0 when a person stands behind the account).
	looked bool
	mark   int64
}

// forget makes the next viewer look the person up again: their roles may
// have changed in this update.
func (m *viewerMemo) forget() { m.done, m.recheck = false, true }

// stranger is the State.Stranger to store: what this update's lookup found,
// or the stored mark when it did not look.
func (m *viewerMemo) stranger(stored int64) int64 {
	if m.looked {
		return m.mark
	}
	return stored
}

// viewer is who is asking, resolved at the first need and then kept for
// the rest of the update (races re-run included). An account known to
// have no person behind it (State.Stranger, younger than strangerFor) is
// the plain resident without a query.
func (t *turn) viewer() (models.Viewer, error) {
	if t.who.done {
		return t.who.v, nil
	}
	v := models.Viewer{Platform: t.key.Platform, UserID: t.key.UserID}
	known := t.stranger != 0 && !t.who.recheck && strangerLeft(t.stranger, t.now) > 0
	if t.e.cfg.Viewer != nil && !known {
		var err error
		if v, err = t.e.cfg.Viewer(t.ctx, t.key); err != nil {
			return v, fmt.Errorf("conversations: who is asking: %w", err)
		}
		t.who.looked, t.who.mark = true, 0
		if v.Stranger() {
			t.who.mark = t.now.Unix()
		}
		if t.who.mark != t.stranger && !t.replaying {
			t.changed = true // stored, or the next update asks again
		}
	}
	t.who.done, t.who.v = true, v
	return v, nil
}

func (t *turn) expired() bool {
	return t.st.Flow != "" && t.st.Expires != 0 && t.now.Unix() >= t.st.Expires
}

func (t *turn) announceExpiry(f *Flow) {
	if !t.st.Announced {
		t.st.Announced = true
		t.changed = true
	}
	text := fmt.Sprintf(msgExpired, f.Title)
	if p, ok := t.st.Hidden[keyPending]; ok {
		text += "\n" + fmt.Sprintf(msgPendingKept, clip(p.Text, 60))
	}
	t.send(text, [][]Button{
		{t.menuButton("ادامهٔ پیش‌نویس", menuResume)},
		{t.menuButton("شروع دوباره", menuRestart+flowValue(f.Name, t.st.Hidden[keyArg].Text))},
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
		if s, _ := f.step(k); s != nil {
			kept[k] = a // the run's context in Hidden belongs to the run, not to a step, and stays
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
		if len(kept) == 0 {
			t.st.Step = t.nextStep(f, -1)
			t.prompt(f, msgFlowRestarted)
			return true
		}
		t.st.Step = t.firstUnanswered(f)
	}
	t.prompt(f, msgFlowUpgraded)
	return true
}

// dependents are the steps whose answers depend on step's, transitively,
// in the flow's order.
func dependents(f *Flow, step string) []string {
	hit := map[string]bool{step: true}
	for changed := true; changed; {
		changed = false
		for s, on := range f.Depends {
			if hit[s] {
				continue
			}
			for _, d := range on {
				if hit[d] {
					hit[s], changed = true, true
					break
				}
			}
		}
	}
	var out []string
	for _, s := range f.Steps {
		if hit[s.Key] && s.Key != step {
			out = append(out, s.Key)
		}
	}
	return out
}

// dropDependents forgets the answers that depended on step's, so they are
// asked again, and the bookkeeping that went with them.
func (t *turn) dropDependents(f *Flow, step string) {
	for _, d := range dependents(f, step) {
		delete(t.st.Answers, d)
		delete(t.st.Hidden, d+pageSuffix)
		delete(t.st.Hidden, d+otherSuffix)
		if s, _ := f.step(d); s != nil && s.Search == nil {
			delete(t.st.Hidden, d+querySuffix)
		}
		t.changed = true
	}
}

// sameAnswer reports whether two answers say the same.
func sameAnswer(a, b Answer) bool {
	return a.Text == b.Text && a.Number == b.Number && a.Time == b.Time && a.Lat == b.Lat && a.Lon == b.Lon &&
		a.Skipped == b.Skipped && slices.Equal(a.Values, b.Values)
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
	if old, ok := t.st.Answers[step]; !ok || !sameAnswer(old, a) {
		t.dropDependents(f, step)
	}
	t.st.Answers[step] = a
	delete(t.st.Hidden, keyAlbum)
	delete(t.st.Hidden, step+otherSuffix)
	if s, _ := f.step(step); s != nil && s.Search != nil {
		delete(t.st.Hidden, s.Jump+querySuffix) // browsing replaced an earlier search
	}
	if s, _ := f.step(step); s != nil && s.Locate != nil {
		delete(t.st.Hidden, keyLocated) // and a shared location
	}
	t.st.Group = ""
	t.changed = true
	t.st.Expires = t.now.Add(t.e.cfg.TTL).Unix()
	if t.st.Editing {
		// Back to the summary once every answer that depended on this
		// one has been asked again.
		t.st.Step = t.firstUnanswered(f)
		t.st.Editing = t.st.Step != stepSummary
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
	// A search replaces what was browsed at this step and all that
	// depended on it (a province, its county, their place).
	t.dropDependents(f, t.st.Step)
	delete(t.st.Answers, t.st.Step)
	delete(t.st.Answers, key)
	t.setHidden(key+querySuffix, Answer{Text: query})
	delete(t.st.Hidden, keyLocated)
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
	case in.Forwarded && step.Forward == nil:
		t.reask(f, msgForwarded)
		return nil
	case pressed == valSkip && step.Optional:
		t.closePressed(step, msgSkipped)
		t.advance(f, Answer{Skipped: true})
		return nil
	case pressed == "" && step.Optional && isSkipWord(in.Text):
		t.closePressed(step, show(step, Answer{Skipped: true}))
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
			t.outs = append(t.outs, Out{Text: msg}) // a reply keyboard still shown is taken away by closeKeyboard
			if f.ChangesRoles {
				t.who.forget()
			}
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
	t.record = "✔️ " + step.Label + ": " + shown
	if t.in.CallbackID == "" {
		t.stripPrompt()
		return
	}
	t.answer("")
	t.outs = append(t.outs, Out{Edit: t.in.MessageID, Text: t.record})
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
		if done, err := t.alreadySubmitted(f); done || err != nil {
			return err
		}
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
		t.outs = append(t.outs, Out{Edit: t.in.MessageID, Text: cancelled(t.st)})
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
	why, err := t.allowed(f, t.st.Hidden[keyArg].Text, true)
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
	msg, err := f.Submit(t.ctx, t.submission())
	if err != nil && f.Submitted != nil && models.ErrorCode(err) == models.EINTERNAL {
		// The store failed, perhaps after its commit: say only what is
		// known, by looking the run up.
		t.e.cfg.Logger.Error("conversations: submit", slog.String("flow", f.Name), slog.Any("err", err))
		m, done, lerr := f.Submitted(t.ctx, t.submission())
		switch {
		case lerr == nil && done:
			msg, err = m, nil
		case lerr == nil:
			t.reask(f, msgNotSaved) // on the pressed button: a toast; the summary stays
			return nil
		}
	}
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
				// The refused answer is not offered back as «پاسخ فعلی»: the hint quotes it.
				delete(t.st.Answers, t.st.Step)
				t.answer("")
				t.prompt(f, userMessage(err, msgBadAnswer))
				return nil
			}
			t.reask(f, userMessage(err, msgBadAnswer))
			return nil
		}
		return fmt.Errorf("conversations: submit %s: %w", f.Name, err)
	}
	if f.Attach != nil {
		if pic, err := f.Attach(t.ctx, t.submission()); err != nil {
			t.e.cfg.Logger.Error("conversations: attach", slog.String("flow", f.Name), slog.Any("err", err))
		} else if len(pic) > 0 {
			t.outs = append(t.outs, Out{Upload: pic})
		}
	}
	if f.Album != nil {
		if ids, err := f.Album(t.ctx, t.submission()); err != nil {
			t.e.cfg.Logger.Error("conversations: album", slog.String("flow", f.Name), slog.Any("err", err))
		} else if len(ids) > 0 {
			t.outs = append(t.outs, Out{Album: ids})
		}
	}
	t.closeRun(f, msg)
	return nil
}

// alreadySubmitted recognises a run already stored (a replay after a crash
// between the insert and the commit) by its key, before any question is
// asked: the duplicate check would find the run's own record. It closes
// the run when so.
func (t *turn) alreadySubmitted(f *Flow) (bool, error) {
	if f.Submitted == nil {
		return false, nil
	}
	msg, done, err := f.Submitted(t.ctx, t.submission())
	if err != nil {
		return false, fmt.Errorf("conversations: submitted %s: %w", f.Name, err)
	}
	if done {
		t.closeRun(f, msg)
	}
	return done, nil
}

// closeRun ends a stored run: the summary stays on screen as the record of
// what was sent, and the closing message and the menu go below it.
func (t *turn) closeRun(f *Flow, msg string) {
	t.answer("")
	t.submitted = true
	if f.ChangesRoles {
		t.who.forget() // the menu below asks again who they are now
	}
	if !f.NoSummary && t.in.CallbackID != "" {
		t.outs = append(t.outs, Out{Edit: t.in.MessageID, Text: summaryText(t, f)})
	}
	var links [][]Button
	if f.Links != nil {
		for _, it := range f.Links(t.submission()) {
			links = append(links, []Button{t.menuButton(it.Label, it.Flow)})
		}
	}
	t.st = State{Notice: msg}
	t.changed = true
	t.menuWith(msg, links)
}

func (t *turn) submission() Submission {
	v, _ := t.viewer() // resolved already by Allowed, or the plain resident when it could not be
	return Submission{Key: t.key, Run: t.st.Run, Arg: t.st.Hidden[keyArg].Text, Answers: t.st.Answers, Hidden: t.st.Hidden,
		Name: t.in.SenderName, Viewer: v}
}

// reask repeats the current question with a hint of what is expected; the
// answers so far are untouched.
func (t *turn) reask(f *Flow, hint string) {
	if t.in.CallbackID != "" {
		t.answer(hint)
		return
	}
	t.stripPrompt() // the question comes again below: only its newest copy has live buttons
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

func (t *turn) reset(notice string) {
	t.st = State{}
	t.changed = true
	t.menu(notice)
}

// clip shortens s to n characters, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
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
	if s.Hidden != nil {
		c.Hidden = make(map[string]Answer, len(s.Hidden))
		for k, v := range s.Hidden {
			c.Hidden[k] = v
		}
	}
	if s.Trail != nil {
		c.Trail = append([]string(nil), s.Trail...)
	}
	return c
}

// carryHidden moves the bookkeeping that drafts written before State.Hidden
// kept among the answers ("_arg", "_council", "<step>_q", "<step>_p") to
// where it lives now, so those drafts go on.
func carryHidden(st *State) {
	for k, a := range st.Answers {
		nk := ""
		switch {
		case strings.HasPrefix(k, "_"):
			nk = strings.TrimPrefix(k, "_")
		case strings.HasSuffix(k, "_q"):
			nk = strings.TrimSuffix(k, "_q") + querySuffix
		case strings.HasSuffix(k, "_p"):
			nk = strings.TrimSuffix(k, "_p") + pageSuffix
		default:
			continue
		}
		if st.Hidden == nil {
			st.Hidden = map[string]Answer{}
		}
		st.Hidden[nk] = a
		delete(st.Answers, k)
	}
}

func (t *turn) setHidden(key string, a Answer) {
	if t.st.Hidden == nil {
		t.st.Hidden = map[string]Answer{}
	}
	t.st.Hidden[key] = a
	t.changed = true
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
