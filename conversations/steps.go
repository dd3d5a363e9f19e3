package conversations

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// prompt sends the current step's question (or the summary), with hint
// above it when the last input was not what was expected.
func (t *turn) prompt(f *Flow, hint string) {
	if !t.replaying {
		t.st.Nonce = NewNonce()
		t.changed = true
	}
	if t.st.Step == stepSummary {
		t.promptSummary(f, hint)
		return
	}
	if t.st.Step == stepReview {
		t.promptReview(f, hint)
		return
	}
	step, i := f.step(t.st.Step)
	if step == nil {
		t.send(msgFlowGone, nil)
		return
	}
	var b strings.Builder
	if hint != "" {
		b.WriteString("⚠️ " + hint + "\n\n")
	}
	if step.Display != nil {
		d, err := step.Display(t.ctx, &t.st)
		switch {
		case err != nil:
			t.e.cfg.Logger.Error("conversations: display", slog.String("flow", f.Name), slog.String("step", step.Key), slog.Any("err", err))
			b.WriteString(msgTryLater + "\n\n")
		default:
			if len(d.Photos) > 0 && t.st.Hidden[keyAlbum].Text != step.Key {
				// The photos once per asking: a hint or a redraw reuses them.
				t.outs = append(t.outs, Out{Album: d.Photos})
				if !t.replaying {
					t.setHidden(keyAlbum, Answer{Text: step.Key})
				}
			}
			if d.Text != "" {
				b.WriteString(d.Text + "\n\n")
			}
		}
	}
	question, naming := step.Prompt, t.naming(step)
	if naming {
		question = step.OtherPrompt
	}
	if f.Counter {
		fmt.Fprintf(&b, "%s — مرحله %s از %s\n\n%s", f.Title, persian.Digits(fmt.Sprint(i+1)), persian.Digits(fmt.Sprint(len(f.Steps))), question)
	} else {
		fmt.Fprintf(&b, "%s\n\n%s", f.Title, question)
	}
	if old, ok := t.st.Answers[step.Key]; ok && !old.Skipped {
		b.WriteString("\n\nپاسخ فعلی: " + show(step, old))
	}
	b.WriteString("\n\n" + msgFooter)

	out := Out{Text: b.String(), Prompt: true}
	var rows [][]Button
	if keys := kinds[step.Kind].keys; naming {
		rows = [][]Button{{{Text: msgBackToList, Data: t.data(valList)}}}
	} else if keys != nil {
		rows = keys(t, f, step, &out)
	}
	if step.Optional {
		if out.Reply != nil {
			out.Reply = append(out.Reply, []ReplyButton{{Text: "رد کردن"}})
		} else {
			rows = append(rows, []Button{{Text: "رد کردن ⏭", Data: t.data(valSkip)}})
		}
	}
	if out.Reply == nil {
		out.Buttons = rows
	}
	t.outs = append(t.outs, out)
}

func (t *turn) promptSummary(f *Flow, hint string) {
	text := summaryText(t, f) + "\n\n" + msgSummaryAsk
	if hint != "" {
		text = "⚠️ " + hint + "\n\n" + text
	}
	var rows [][]Button
	for _, s := range f.Steps {
		if s.Skip != nil && s.Skip(&t.st) || s.Kind == InputNone {
			continue
		}
		rows = appendButton(rows, Button{Text: "✏️ " + s.Label, Data: t.data(editPrefix + s.Key)}, 2)
	}
	rows = append(rows, []Button{{Text: "✅ تأیید و ارسال", Data: t.data(valConfirm)}, {Text: "❌ لغو", Data: t.data(valCancel)}})
	t.outs = append(t.outs, Out{Text: text, Buttons: rows, Prompt: true})
}

func summaryText(t *turn, f *Flow) string {
	var b strings.Builder
	b.WriteString("📋 خلاصهٔ «" + f.Title + "»\n")
	for _, s := range f.Steps {
		if s.Skip != nil && s.Skip(&t.st) || s.Kind == InputNone {
			continue
		}
		a, ok := t.st.Answers[s.Key]
		v := "—"
		if ok {
			v = show(s, a)
		}
		b.WriteString("\n• " + s.Label + ": " + v)
	}
	return b.String()
}

func (t *turn) data(value string) string {
	d, err := EncodeCallback(CallbackData{Nonce: t.st.Nonce, Step: t.st.Step, Value: value})
	if err != nil {
		// Values are ids and codes chosen by flows; one that does not fit is
		// a bug in a flow definition, caught by the flow tests.
		panic(fmt.Sprintf("conversations: step %s value %q: %v", t.st.Step, value, err))
	}
	return d
}

func columns(s *Step) int {
	if s.Columns > 0 {
		return s.Columns
	}
	return 2
}

func appendButton(rows [][]Button, b Button, cols int) [][]Button {
	if n := len(rows); n > 0 && len(rows[n-1]) < cols {
		rows[n-1] = append(rows[n-1], b)
		return rows
	}
	row := make([]Button, 1, cols) // room for the row's others: one allocation, not one per growth
	row[0] = b
	return append(rows, row)
}

func (t *turn) options(step *Step) ([]Option, error) {
	if q, ok := t.st.Hidden[step.Key+querySuffix]; ok && step.Search == nil {
		// This step lists what a search found.
		if src := t.searchSource(step.Key); src != nil {
			return src.Search(t.ctx, &t.st, q.Text)
		}
	}
	if step.Options == nil {
		return nil, nil
	}
	return step.Options(t.ctx, &t.st)
}

// searchSource returns the step whose Search jumps to key.
func (t *turn) searchSource(key string) *Step {
	f := t.e.flows[t.st.Flow]
	for _, s := range f.Steps {
		if s.Search != nil && s.Jump == key {
			return s
		}
	}
	return nil
}

// read turns the input into an answer for step, by its kind's reader. It
// returns a hint (and no answer) when the input is not what the step takes,
// and (nil, "", nil) when it handled the input in place.
func (t *turn) read(f *Flow, step *Step, pressed string) (*Answer, string, error) {
	return kinds[step.Kind].read(t, f, step, pressed)
}

func (t *turn) search(f *Flow, step *Step, query string) (*Answer, string, error) {
	if n := utf8.RuneCountInString(query); n < 2 {
		return nil, msgSearchShort, nil
	} else if n > 60 {
		return nil, msgSearchLong, nil
	}
	found, err := step.Search(t.ctx, &t.st, query)
	if err != nil {
		return nil, "", err
	}
	if len(found) == 0 {
		return nil, fmt.Sprintf(msgSearchNone, query), nil
	}
	t.stripPrompt()
	t.jump(f, step.Jump, query)
	return nil, "", nil
}

func (t *turn) toggle(f *Flow, step *Step, o Option) {
	a := t.st.Answers[step.Key]
	var vals []string
	found := false
	for _, v := range a.Values {
		if v == o.Value {
			found = true
			continue
		}
		vals = append(vals, v)
	}
	if !found {
		vals = append(vals, o.Value)
	}
	a.Values, a.Skipped = vals, false
	if t.st.Answers == nil {
		t.st.Answers = map[string]Answer{}
	}
	t.st.Answers[step.Key] = a
	t.changed = true
	t.answer("")
	t.redraw(f)
}

// redraw shows the current prompt again in the message whose button was
// pressed (new marks, another page) instead of sending a new one.
func (t *turn) redraw(f *Flow) {
	t.st.PromptID = t.in.MessageID
	before := len(t.outs)
	t.prompt(f, "")
	for i := before; i < len(t.outs); i++ {
		if t.outs[i].Prompt {
			t.outs[i].Edit = t.in.MessageID
			t.outs[i].Prompt = false
		}
	}
}

func (t *turn) setAnswer(key string, a Answer) {
	if t.st.Answers == nil {
		t.st.Answers = map[string]Answer{}
	}
	t.st.Answers[key] = a
	t.changed = true
}

// page returns the page of a paged choice step now shown, and how many there are.
func (t *turn) page(step *Step, n int) (page, pages int) {
	if step.PageSize <= 0 || n == 0 {
		return 0, 1
	}
	pages = (n + step.PageSize - 1) / step.PageSize
	page = int(t.st.Hidden[step.Key+pageSuffix].Number)
	return max(0, min(page, pages-1)), pages
}

func (t *turn) promptReview(f *Flow, hint string) {
	rev, err := f.Review(t.ctx, t.submission())
	text := ""
	var rows [][]Button
	if err != nil || rev == nil {
		if err != nil {
			t.e.cfg.Logger.Error("conversations: review", slog.String("flow", f.Name), slog.Any("err", err))
		}
		text = msgTryLater
	} else {
		text = rev.Text
		for _, o := range rev.Options {
			rows = append(rows, []Button{{Text: o.Label, Data: t.data(o.Value)}})
		}
	}
	if hint != "" {
		text = "⚠️ " + hint + "\n\n" + text
	}
	rows = append(rows, []Button{{Text: "↩️ بازگشت به خلاصه", Data: t.data(valBack)}})
	t.outs = append(t.outs, Out{Text: text, Buttons: rows, Prompt: true})
}

// reviewInput takes the choice made at the review step.
func (t *turn) reviewInput(f *Flow, pressed string) error {
	if pressed == valBack {
		t.closeReview()
		t.st.Step = stepSummary
		t.prompt(f, "")
		return nil
	}
	if pressed == "" {
		t.reask(f, msgPressButton)
		return nil
	}
	if done, err := t.alreadySubmitted(f); done || err != nil {
		return err
	}
	rev, err := f.Review(t.ctx, t.submission())
	if err != nil {
		return fmt.Errorf("conversations: review %s: %w", f.Name, err)
	}
	if rev != nil {
		for _, o := range rev.Options {
			if o.Value == pressed {
				t.closeReview()
				t.setHidden(keyReview, Answer{Values: []string{o.Value}})
				return t.submit(f)
			}
		}
	}
	t.answer(msgOldButton)
	return nil
}

func (t *turn) closeReview() {
	t.answer("")
	t.outs = append(t.outs, Out{Edit: t.in.MessageID, StripOnly: true})
	if t.in.MessageID == t.st.PromptID {
		t.st.PromptID = 0
	}
	t.changed = true
}

// photo adds one photo to the step's answer. A single-photo step moves on;
// otherwise the person is told once per album how to finish.
func (t *turn) photo(f *Flow, step *Step, a Answer) (*Answer, string, error) {
	max := step.MaxFiles
	if max <= 0 {
		max = 1
	}
	if len(a.Values) >= max {
		if g := t.in.MediaGroupID; g != "" {
			if t.st.Hidden[keyAlbumOver].Text == g {
				return nil, "", nil // the rest of an album over the limit: told once
			}
			t.setHidden(keyAlbumOver, Answer{Text: g})
		}
		return nil, fmt.Sprintf(msgTooManyPhotos, persian.Digits(fmt.Sprint(max))), nil
	}
	a.Values = append(a.Values, t.in.Photo)
	a.Skipped = false
	if max == 1 {
		return &a, "", nil
	}
	if t.st.Answers == nil {
		t.st.Answers = map[string]Answer{}
	}
	t.st.Answers[step.Key] = a
	t.changed = true
	t.st.Expires = t.now.Add(t.e.cfg.TTL).Unix()
	if g := t.in.MediaGroupID; g != "" && g == t.st.Group {
		return nil, "", nil // the rest of an album already acknowledged
	}
	t.st.Group = t.in.MediaGroupID
	t.stripPrompt()
	t.prompt(f, "")
	return nil, "", nil
}

// expectHint says what the step takes, for a reply to the wrong kind of input.
func expectHint(s *Step) string {
	switch {
	case s.Kind == InputPhone && s.Forward != nil:
		return msgExpectOthersPhone
	case s.Kind == InputPhone && s.Others:
		return msgExpectOthersPhoneNoForward
	}
	return kinds[s.Kind].hint
}

// cancelled is what a cancelled run says: nothing was sent, and what a
// Create step made on the way (a place typed in) stays.
func cancelled(st State) string {
	if made := st.Hidden[keyCreated].Text; made != "" {
		return fmt.Sprintf(msgCancelledKept, made)
	}
	return msgCancelled
}

// startOfDay is midnight, Asia/Tehran, of the day t falls on there: dates
// are stored as that instant.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.In(persian.Tehran).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, persian.Tehran)
}

// naming reports whether the person pressed step's Other button and is
// now to type a name.
func (t *turn) naming(step *Step) bool {
	return step.Create != nil && t.st.Hidden[step.Key+otherSuffix].Text != ""
}

// other handles what a choice step with Create is given: its Other button
// (type a name), «بازگشت به فهرست», or the name typed. handled is false for
// anything else, which the step reads as usual.
func (t *turn) other(f *Flow, step *Step, pressed string) (a *Answer, hint string, handled bool, err error) {
	switch {
	case pressed == valOther || pressed == valList:
		if pressed == valOther {
			t.setHidden(step.Key+otherSuffix, Answer{Text: "1"})
		} else {
			delete(t.st.Hidden, step.Key+otherSuffix)
			t.changed = true
		}
		t.answer("")
		t.redraw(f)
		return nil, "", true, nil
	case pressed != "" || !t.naming(step):
		return nil, "", false, nil
	case t.in.Text == "" || t.in.Other != "":
		return nil, step.OtherPrompt, true, nil
	}
	st := cloneState(t.st)
	o, err := step.Create(t.ctx, t.key, &st, t.in.Text)
	switch {
	case models.ErrorCode(err) == models.EINVALID:
		return nil, userMessage(err, msgBadAnswer), true, nil
	case err != nil:
		return nil, "", true, fmt.Errorf("conversations: create at %s: %w", step.Key, err)
	}
	delete(t.st.Hidden, step.Key+otherSuffix)
	if o.Created {
		made := o.Label
		if prev := t.st.Hidden[keyCreated].Text; prev != "" {
			made = prev + "، " + made
		}
		t.setHidden(keyCreated, Answer{Text: made})
	}
	t.changed = true
	return &Answer{Values: []string{o.Value}, Text: o.Label}, "", true, nil
}

// locate applies a shared location given at a step with Locate: the
// answers it decides replace this step's and everything that depended on
// it, and the run goes on at the first step still unanswered.
func (t *turn) locate(f *Flow, step *Step, loc Location) (*Answer, string, error) {
	st := cloneState(t.st)
	answers, err := step.Locate(t.ctx, &st, loc.Lat, loc.Lon)
	switch code := models.ErrorCode(err); {
	case code == models.EINVALID || code == models.ENOTFOUND:
		return nil, userMessage(err, msgBadAnswer), nil
	case err != nil:
		return nil, "", fmt.Errorf("conversations: locate at %s: %w", step.Key, err)
	}
	if t.st.Answers == nil {
		t.st.Answers = map[string]Answer{}
	}
	t.dropDependents(f, t.st.Step)
	delete(t.st.Answers, t.st.Step)
	for k := range answers {
		t.dropDependents(f, k)
	}
	for k, a := range answers {
		t.st.Answers[k] = a
	}
	t.setHidden(keyLocated, Answer{Lat: loc.Lat, Lon: loc.Lon})
	t.stripPrompt()
	if !t.st.Editing {
		t.st.Trail = append(t.st.Trail, t.st.Step)
	}
	t.st.Step = t.firstUnanswered(f)
	t.st.Editing = t.st.Editing && t.st.Step != stepSummary
	t.changed = true
	t.prompt(f, "")
	return nil, "", nil
}
