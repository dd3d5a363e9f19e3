package conversations

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

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
	if step.Intro != nil {
		intro, err := step.Intro(t.ctx, t.key, &t.st)
		if err != nil {
			t.e.cfg.Logger.Error("conversations: intro", slog.String("flow", f.Name), slog.String("step", step.Key), slog.Any("err", err))
			intro = msgTryLater
		}
		if intro != "" {
			b.WriteString(intro + "\n\n")
		}
	}
	if len(f.Steps) > 1 {
		fmt.Fprintf(&b, "%s — مرحله %s از %s\n\n", f.Title, persian.Digits(fmt.Sprint(i+1)), persian.Digits(fmt.Sprint(len(f.Steps))))
	}
	b.WriteString(step.Prompt)
	if old, ok := t.st.Answers[step.Key]; ok && !old.Skipped {
		b.WriteString("\n\nپاسخ فعلی: " + show(step, old))
	}
	b.WriteString("\n\n" + msgFooter)

	out := Out{Text: b.String(), Prompt: true}
	var rows [][]Button
	add := func(label, value string) {
		rows = appendButton(rows, Button{Text: label, Data: t.data(value)}, columns(step))
	}
	switch step.Kind {
	case InputChoice, InputMultiChoice:
		opts, err := t.options(step)
		if err != nil {
			t.e.cfg.Logger.Error("conversations: options", slog.String("flow", f.Name), slog.String("step", step.Key), slog.Any("err", err))
			out.Text += "\n\n" + msgTryLater
		}
		chosen := map[string]bool{}
		if a, ok := t.st.Answers[step.Key]; ok {
			for _, v := range a.Values {
				chosen[v] = true
			}
		}
		page, pages := t.page(step, len(opts))
		if step.PageSize > 0 && len(opts) > 0 {
			opts = opts[page*step.PageSize : min((page+1)*step.PageSize, len(opts))]
		}
		for _, o := range opts {
			label := o.Label
			if step.Kind == InputMultiChoice && chosen[o.Value] {
				label = "✅ " + label
			}
			add(label, o.Value)
		}
		if pages > 1 {
			var nav []Button
			if page > 0 {
				nav = append(nav, Button{Text: "« قبلی", Data: t.data(valPrev)})
			}
			nav = append(nav, Button{Text: persian.Digits(fmt.Sprintf("%d/%d", page+1, pages)), Data: t.data(valPage)})
			if page < pages-1 {
				nav = append(nav, Button{Text: "بعدی »", Data: t.data(valNext)})
			}
			rows = append(rows, nav)
		}
		if len(opts) == 0 && step.Search != nil {
			out.Text += "\n\n" + msgNothingFound
		}
		if step.Kind == InputMultiChoice {
			rows = append(rows, []Button{{Text: "تمام ✔️", Data: t.data(valDone)}})
		}
	case InputDate:
		rows = append(rows, []Button{{Text: "امروز", Data: t.data(valToday)}, {Text: "دیروز", Data: t.data(valYday)}})
	case InputPhoto:
		if a, ok := t.st.Answers[step.Key]; ok && len(a.Values) > 0 && !a.Skipped {
			rows = append(rows, []Button{{Text: "تمام ✔️", Data: t.data(valDone)}})
		}
	case InputPhone:
		out.Reply = [][]ReplyButton{{{Text: "📱 ارسال شمارهٔ من", RequestContact: true}}}
	case InputLocation:
		out.Reply = [][]ReplyButton{{{Text: "📍 ارسال موقعیت", RequestLocation: true}}}
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
		if t.hadReply() {
			t.outs = append(t.outs, Out{Text: "✔️", RemoveReply: true})
		}
	}
	t.outs = append(t.outs, out)
}

// hadReply reports whether the step before this one showed a reply keyboard
// that must now be taken away.
func (t *turn) hadReply() bool {
	f := t.e.flows[t.st.Flow]
	if f == nil || len(t.st.Trail) == 0 {
		return false
	}
	prev, _ := f.step(t.st.Trail[len(t.st.Trail)-1])
	return prev != nil && (prev.Kind == InputLocation || prev.Kind == InputPhone) && t.in.CallbackID == ""
}

func (t *turn) promptSummary(f *Flow, hint string) {
	text := summaryText(t, f) + "\n\n" + msgSummaryAsk
	if hint != "" {
		text = "⚠️ " + hint + "\n\n" + text
	}
	var rows [][]Button
	for _, s := range f.Steps {
		if s.Skip != nil && s.Skip(&t.st) {
			continue
		}
		rows = appendButton(rows, Button{Text: "✏️ " + s.Label, Data: t.data(editPrefix + s.Key)}, 2)
	}
	rows = append(rows, []Button{{Text: "✅ تأیید و ارسال", Data: t.data(valConfirm)}, {Text: "❌ لغو", Data: t.data(valCancel)}})
	if t.hadReply() {
		t.outs = append(t.outs, Out{Text: "✔️", RemoveReply: true})
	}
	t.outs = append(t.outs, Out{Text: text, Buttons: rows, Prompt: true})
}

func summaryText(t *turn, f *Flow) string {
	var b strings.Builder
	b.WriteString("📋 خلاصهٔ «" + f.Title + "»\n")
	for _, s := range f.Steps {
		if s.Skip != nil && s.Skip(&t.st) {
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
	return append(rows, []Button{b})
}

func (t *turn) options(step *Step) ([]Option, error) {
	if q, ok := t.st.Answers[step.Key+"_q"]; ok && step.Search == nil {
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

// read turns the input into an answer for step. It returns a hint (and no
// answer) when the input is not what the step takes, and (nil, "", nil) when
// it handled the input in place.
func (t *turn) read(f *Flow, step *Step, pressed string) (*Answer, string, error) {
	in := t.in
	text := in.Text
	switch step.Kind {
	case InputText, InputTextOrVoice:
		if step.Kind == InputTextOrVoice && in.Voice != "" {
			return &Answer{Values: []string{in.Voice}}, "", nil
		}
		if text == "" || in.Photo != "" || in.Voice != "" || in.Other != "" || in.Document != "" || in.Location != nil || in.Contact != nil || pressed != "" {
			return nil, expectHint(step), nil
		}
		n := utf8.RuneCountInString(text)
		if step.MinLen > 0 && n < step.MinLen || step.MaxLen > 0 && n > step.MaxLen {
			return nil, fmt.Sprintf(msgTextLength, persian.Digits(fmt.Sprint(step.MinLen)), persian.Digits(fmt.Sprint(step.MaxLen)), persian.Digits(fmt.Sprint(n))), nil
		}
		return &Answer{Text: text}, "", nil

	case InputNumber:
		if text == "" {
			return nil, expectHint(step), nil
		}
		n, err := persian.ParseNumber(text)
		if err != nil {
			return nil, expectHint(step), nil
		}
		if n < step.Min || (step.Max > step.Min && n > step.Max) {
			return nil, fmt.Sprintf(msgNumberRange, persian.FormatNumber(step.Min), persian.FormatNumber(step.Max)), nil
		}
		return &Answer{Number: n}, "", nil

	case InputChoice, InputMultiChoice:
		if pressed == "" {
			if text != "" {
				// A typed label counts as pressing its button.
				opts, err := t.options(step)
				if err != nil {
					return nil, "", fmt.Errorf("conversations: options of %s: %w", step.Key, err)
				}
				for _, o := range opts {
					if persian.Normalize(o.Label) == text {
						pressed = o.Value
					}
				}
			}
			if pressed == "" && step.Search != nil && text != "" && in.Other == "" {
				return t.search(f, step, text)
			}
			if pressed == "" {
				return nil, msgPressButton, nil
			}
		}
		if pressed == valNext || pressed == valPrev || pressed == valPage {
			a := t.st.Answers[step.Key+"_p"]
			switch pressed {
			case valNext:
				a.Number++
			case valPrev:
				a.Number--
			default:
				t.answer("")
				return nil, "", nil
			}
			t.setAnswer(step.Key+"_p", a)
			t.answer("")
			t.redraw(f)
			return nil, "", nil
		}
		if step.Kind == InputMultiChoice && pressed == valDone {
			a := t.st.Answers[step.Key]
			a.Skipped = false
			return &a, "", nil
		}
		opts, err := t.options(step)
		if err != nil {
			return nil, "", err
		}
		for _, o := range opts {
			if o.Value != pressed {
				continue
			}
			if step.Kind == InputChoice {
				return &Answer{Values: []string{o.Value}, Text: o.Label}, "", nil
			}
			t.toggle(f, step, o)
			return nil, "", nil
		}
		return nil, msgOldButtonLong, nil

	case InputDate:
		var d time.Time
		switch pressed {
		case valToday:
			d = startOfDay(t.now)
		case valYday:
			d = startOfDay(t.now).AddDate(0, 0, -1)
		case "":
			if text == "" {
				return nil, expectHint(step), nil
			}
			var err error
			d, err = persian.ParseDate(text, t.now)
			if err != nil {
				return nil, expectHint(step), nil
			}
		default:
			return nil, msgOldButtonLong, nil
		}
		today := startOfDay(t.now)
		if !step.AllowFuture && d.After(today) {
			return nil, msgDateFuture, nil
		}
		if step.PastDays > 0 && d.Before(today.AddDate(0, 0, -step.PastDays)) {
			return nil, fmt.Sprintf(msgDatePast, persian.Digits(fmt.Sprint(step.PastDays))), nil
		}
		return &Answer{Time: d.Unix()}, "", nil

	case InputPhone:
		if in.Contact != nil {
			if in.Contact.UserID != in.SenderID {
				return nil, msgNotYourContact, nil
			}
			p, err := persian.NormalizePhone(in.Contact.Phone)
			if err != nil {
				return nil, msgBadPhone, nil
			}
			return &Answer{Text: p}, "", nil
		}
		if text == "" || step.ContactOnly {
			if step.ContactOnly && text != "" {
				return nil, msgContactOnly, nil
			}
			return nil, expectHint(step), nil
		}
		p, err := persian.ParseMobile(text)
		if errors.Is(err, persian.ErrNotMobile) || err != nil {
			return nil, msgBadPhone, nil
		}
		return &Answer{Text: p}, "", nil

	case InputLocation:
		if in.Location == nil {
			return nil, expectHint(step), nil
		}
		return &Answer{Lat: in.Location.Lat, Lon: in.Location.Lon}, "", nil

	case InputPhoto:
		a := t.st.Answers[step.Key]
		if pressed == valDone && len(a.Values) > 0 && !a.Skipped {
			return &a, "", nil
		}
		if in.Photo == "" {
			return nil, expectHint(step), nil
		}
		return t.photo(f, step, a)

	case InputVoice:
		if in.Voice == "" {
			return nil, expectHint(step), nil
		}
		return &Answer{Values: []string{in.Voice}}, "", nil

	case InputDocument:
		if in.Document == "" {
			return nil, expectHint(step), nil
		}
		return &Answer{Values: []string{in.Document}}, "", nil
	}
	return nil, expectHint(step), nil
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
	page = int(t.st.Answers[step.Key+"_p"].Number)
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
	rev, err := f.Review(t.ctx, t.submission())
	if err != nil {
		return fmt.Errorf("conversations: review %s: %w", f.Name, err)
	}
	if rev != nil {
		for _, o := range rev.Options {
			if o.Value == pressed {
				t.closeReview()
				t.setAnswer(keyReview, Answer{Values: []string{o.Value}})
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
	switch s.Kind {
	case InputText:
		return msgExpectText
	case InputTextOrVoice:
		return msgExpectTextOrVoice
	case InputNumber:
		return msgExpectNumber
	case InputChoice, InputMultiChoice:
		return msgPressButton
	case InputDate:
		return msgExpectDate
	case InputPhone:
		return msgExpectPhone
	case InputLocation:
		return msgExpectLocation
	case InputPhoto:
		return msgExpectPhoto
	case InputVoice:
		return msgExpectVoice
	case InputDocument:
		return msgExpectDocument
	}
	return msgPressButton
}

// startOfDay is midnight, Asia/Tehran, of the day t falls on there: dates
// are stored as that instant.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.In(persian.Tehran).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, persian.Tehran)
}
