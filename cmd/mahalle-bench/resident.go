package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/models"
)

// chatBase is the chat (and user) id of resident 0; resident i is
// chatBase+i. Telegram user ids go past 2³², so the bot must cope.
const chatBase = 5_000_000_000

// The bot takes at most models.SubmissionsPerHour suggestions an hour from
// one person, so a resident who has sent that many comes back as a new
// person: resident i's g-th identity is chatBase + g×identityStride + i.
const identityStride = 10_000_000

// residentOf returns the index of the resident a chat id belongs to.
func residentOf(chatID int64) int64 {
	return (chatID - chatBase) % identityStride
}

// What the bot says at each step of the suggestion flow, as the residents
// recognise it. The bench is tied to the flow on purpose: when the flow
// changes, a resident stops with the messages it saw instead of measuring
// something else.
const (
	labelSuggest  = "ارسال پیشنهاد"
	labelProvince = "مرکزی"
	labelSkip     = "رد کردن"
	labelDone     = "تمام"
	labelAnon     = "بی‌نام"
	labelConfirm  = "تأیید و ارسال"
	markSummary   = "خلاصهٔ"
	markCode      = "کد پیگیری"
)

// stepNames are the residents' steps in the order of the flow, for the
// latency of each.
var stepNames = []string{"/start", "menu", "province", "county", "place", "topic", "text",
	"skip location", "photo", "photo done", "skip photo", "anonymous", "confirm"}

// stepMark is the "step i of 9" line of the flow's prompts.
func stepMark(i int) string {
	return fmt.Sprintf("مرحله %s از ۹", persianDigits(i))
}

func persianDigits(n int) string {
	var b strings.Builder
	for _, r := range fmt.Sprint(n) {
		if r >= '0' && r <= '9' {
			r += '۰' - '0'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// resident plays one person in a private chat. Its goroutine queues an
// update and waits for the bot's reply, which the server's OnSend hook hands
// over through replies.
type resident struct {
	idx  int
	srv  *bottest.Server
	chat bottest.Chat
	user bottest.User
	cfg  *residentConfig

	mu      sync.Mutex
	match   func(bottest.Sent) bool // the reply being waited for; nil: none
	recent  [6]bottest.Sent         // the last calls to this chat, for error messages
	seen    int
	replies chan bottest.Sent

	lat    []time.Duration // reply times of the steps queued while measuring; only its goroutine touches it
	steps  []string        // the step of each of lat
	round  int             // flows started, so choices vary between rounds
	gen    int             // identities used before the current one (see identityStride)
	done   []int           // rounds completed (soak: rows are matched to them)
	gaveUp []int           // soak: rounds given up after «تأیید و ارسال» was pressed
}

// residentConfig is what all residents share.
type residentConfig struct {
	photoEvery  int           // every photoEvery-th resident sends a photo (0: none)
	think       time.Duration // pause between a reply and the next answer
	jitter      float64       // each pause within ± this share of think
	stepTimeout time.Duration // a reply later than this stops the run
	queued      *maxInt       // the highest update id queued
	flows       *counter      // completed flows
	measure     *atomic.Bool  // steps queued while set are timed
	stop        *atomic.Bool  // once set, residents queue nothing more (errStopped)
	soak        *soakStats    // nil: a stuck resident stops the run; else it is counted (errStuck)
}

// errStopped ends a resident's walk when the run stops it mid-flow.
var errStopped = errors.New("stopped")

func newResident(idx int, srv *bottest.Server, cfg *residentConfig) *resident {
	chat, user := bottest.Private(chatBase + int64(idx))
	user.FirstName = "ساکن"
	return &resident{idx: idx, srv: srv, chat: chat, user: user, cfg: cfg, replies: make(chan bottest.Sent, 1)}
}

// observe is called by the OnSend hook for every call to this resident's
// chat; it must stay cheap.
func (r *resident) observe(s bottest.Sent) {
	r.mu.Lock()
	r.recent[r.seen%len(r.recent)] = s
	r.seen++
	m := r.match
	if m == nil || !m(s) {
		r.mu.Unlock()
		return
	}
	r.match = nil
	r.mu.Unlock()
	r.replies <- s // never blocks: one expectation at a time, and it is consumed
}

// step queues one update (queue returns its id) and waits for the reply
// match accepts. While the run measures, the latency, from just before the
// update is queued to the moment the server received the reply, is kept.
// Once the run stops residents, step queues nothing and returns errStopped.
func (r *resident) step(ctx context.Context, name string,
	queue func() int, match func(bottest.Sent) bool) (bottest.Sent, error) {
	if r.cfg.think > 0 {
		d := r.cfg.think
		if j := r.cfg.jitter; j > 0 {
			d = time.Duration(float64(d) * (1 + j*(2*rand.Float64()-1)))
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return bottest.Sent{}, ctx.Err()
		}
	}
	if r.cfg.stop.Load() {
		return bottest.Sent{}, errStopped
	}
	timed := r.cfg.measure.Load()
	r.mu.Lock()
	r.match = match
	r.mu.Unlock()
	start := time.Now()
	r.cfg.queued.raise(queue())
	timer := time.NewTimer(r.cfg.stepTimeout)
	defer timer.Stop()
	select {
	case s := <-r.replies:
		if timed {
			r.lat = append(r.lat, s.At.Sub(start))
			r.steps = append(r.steps, name)
		}
		return s, nil
	case <-timer.C:
		err := r.stuck(name, fmt.Errorf("no reply within %s", r.cfg.stepTimeout))
		if r.cfg.soak != nil {
			r.cfg.soak.stuck(r.idx, name, err)
			return bottest.Sent{}, errStuck
		}
		return bottest.Sent{}, err
	case <-ctx.Done():
		return bottest.Sent{}, r.stuck(name, ctx.Err())
	}
}

// stuck describes a resident that got no (or not the expected) reply.
func (r *resident) stuck(step string, err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.match = nil
	var b strings.Builder
	fmt.Fprintf(&b, "resident %d (chat %d) at step %q: %v", r.idx, r.chat.ID, step, err)
	n := min(r.seen, len(r.recent))
	if n == 0 {
		b.WriteString("; the bot sent nothing to this chat")
	} else {
		b.WriteString("; the last calls to this chat:")
	}
	for i := r.seen - n; i < r.seen; i++ {
		b.WriteString("\n    ")
		b.WriteString(r.recent[i%len(r.recent)].String())
	}
	return fmt.Errorf("%s", b.String())
}

// prompt accepts a message, new or the pressed one edited into the next
// step, whose text contains every mark and that carries a button labelled
// with each of buttons (by substring).
func prompt(marks []string, buttons ...string) func(bottest.Sent) bool {
	return func(s bottest.Sent) bool {
		if s.Method != "sendMessage" && s.Method != "editMessageText" {
			return false
		}
		for _, m := range marks {
			if !strings.Contains(s.Text, m) {
				return false
			}
		}
		for _, b := range buttons {
			if _, ok := button(s, b); !ok {
				return false
			}
		}
		return true
	}
}

// choices accepts a prompt with the step mark and at least one button.
func choices(mark string) func(bottest.Sent) bool {
	return func(s bottest.Sent) bool {
		return (s.Method == "sendMessage" || s.Method == "editMessageText") && strings.Contains(s.Text, mark) && len(s.Inline) > 0
	}
}

// button returns the callback data of the first button whose label
// contains label.
func button(s bottest.Sent, label string) (string, bool) {
	for _, row := range s.Inline {
		for _, b := range row {
			if b.CallbackData != "" && strings.Contains(b.Text, label) {
				return b.CallbackData, true
			}
		}
	}
	return "", false
}

// nth returns the callback data of button k (modulo their number), counting
// across rows.
func nth(s bottest.Sent, k int) string {
	var all []string
	for _, row := range s.Inline {
		for _, b := range row {
			// Choices only: not the engine's own buttons («بعدی», «رد کردن»,
			// «محلهٔ من در فهرست نیست»), whose values start with "_".
			if d := b.CallbackData; d != "" && !strings.HasPrefix(d[strings.LastIndexByte(d, '|')+1:], "_") {
				all = append(all, d)
			}
		}
	}
	if len(all) == 0 {
		return ""
	}
	return all[k%len(all)]
}

func (r *resident) press(s bottest.Sent, data string) func() int {
	return func() int { return r.srv.PressButton(r.chat, r.user, s.MessageID, data) }
}

func (r *resident) say(text string) func() int {
	return func() int { return r.srv.SendText(r.chat, r.user, text) }
}

// walkToText takes the resident from /start to the text step of the
// suggestion flow: six updates. It returns the prompt of the text step.
func (r *resident) walkToText(ctx context.Context, round int) (bottest.Sent, error) {
	s, err := r.step(ctx, "/start", r.say("/start"), prompt(nil, labelSuggest))
	if err != nil {
		return s, err
	}
	data, _ := button(s, labelSuggest)
	if s, err = r.step(ctx, "menu", r.press(s, data), prompt([]string{stepMark(1)}, labelProvince)); err != nil {
		return s, err
	}
	data, _ = button(s, labelProvince)
	if s, err = r.step(ctx, "province", r.press(s, data), choices(stepMark(2))); err != nil {
		return s, err
	}
	if s, err = r.step(ctx, "county", r.press(s, nth(s, r.idx)), choices(stepMark(3))); err != nil {
		return s, err
	}
	if s, err = r.step(ctx, "place", r.press(s, nth(s, r.idx/12+round)), choices(stepMark(4))); err != nil {
		return s, err
	}
	return r.step(ctx, "topic", r.press(s, nth(s, r.idx+round)), prompt([]string{stepMark(5)}))
}

// nextFlow walks the next round of the suggestion flow, as a new person
// once the current one has sent as many as the bot takes in an hour.
func (r *resident) nextFlow(ctx context.Context) error {
	if len(r.done) > 0 && len(r.done)%models.SubmissionsPerHour == 0 && len(r.done)/models.SubmissionsPerHour > r.gen {
		r.gen++
		r.chat, r.user = bottest.Private(chatBase + int64(r.gen)*identityStride + int64(r.idx))
		r.user.FirstName = "ساکن"
	}
	r.round++
	return r.flow(ctx, r.round-1)
}

// flow walks the whole suggestion flow once: /start, the menu, province,
// county, place, topic, text, photo (skipped, or one photo and «تمام»),
// location skipped, anonymous, confirm. The flow counts as completed when
// the bot has sent the tracking code and the menu.
func (r *resident) flow(ctx context.Context, round int) error {
	s, err := r.walkToText(ctx, round)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("جوی آب کوچهٔ شمارهٔ %d پر از زباله است؛ لطفاً رسیدگی کنید. (دور %d)", r.idx, round)
	if _, err = r.step(ctx, "text", r.say(text), prompt([]string{stepMark(6)})); err != nil {
		return err
	}
	// The location step shows a reply keyboard: skipping is typing its label.
	if s, err = r.step(ctx, "skip location", r.say(labelSkip), prompt([]string{stepMark(7)}, labelSkip)); err != nil {
		return err
	}
	if r.cfg.photoEvery > 0 && r.idx%r.cfg.photoEvery == 0 {
		photo := func() int { return r.srv.SendPhoto(r.chat, r.user, "", "") }
		if s, err = r.step(ctx, "photo", photo, prompt([]string{stepMark(7)}, labelDone)); err != nil {
			return err
		}
		data, _ := button(s, labelDone)
		if s, err = r.step(ctx, "photo done", r.press(s, data), prompt([]string{stepMark(8)}, labelAnon)); err != nil {
			return err
		}
	} else {
		data, _ := button(s, labelSkip)
		if s, err = r.step(ctx, "skip photo", r.press(s, data), prompt([]string{stepMark(8)}, labelAnon)); err != nil {
			return err
		}
	}
	data, _ := button(s, labelAnon)
	if s, err = r.step(ctx, "anonymous", r.press(s, data), prompt([]string{markSummary}, labelConfirm)); err != nil {
		return err
	}
	data, _ = button(s, labelConfirm)
	if _, err = r.step(ctx, "confirm", r.press(s, data), confirmed()); err != nil {
		if errors.Is(err, errStuck) {
			r.gaveUp = append(r.gaveUp, round)
		}
		return err
	}
	r.done = append(r.done, round)
	r.cfg.flows.add(1)
	return nil
}

// confirmed accepts the last message of the bot's answer to «تأیید و
// ارسال»: the menu, once the tracking code has been sent. A menu without the
// code first does not count.
func confirmed() func(bottest.Sent) bool {
	code := false
	return func(s bottest.Sent) bool {
		if s.Method != "sendMessage" && s.Method != "editMessageText" {
			return false
		}
		if strings.Contains(s.Text, markCode) {
			code = true
		}
		_, menu := button(s, labelSuggest)
		return code && menu
	}
}
