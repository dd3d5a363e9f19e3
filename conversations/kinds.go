package conversations

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// kind is everything the engine knows about one input kind, in one place:
// what it says when the input is of the wrong kind, how the answer reads
// in the summary, how the input is read, and the buttons of its prompt.
type kind struct {
	hint string
	// show is how an answer reads in the summary and on an answered prompt.
	show func(a Answer) string
	// read turns the input into an answer; see turn.read.
	read func(t *turn, f *Flow, step *Step, pressed string) (*Answer, string, error)
	// keys, when set, gives the prompt's inline buttons (or sets out.Reply).
	keys func(t *turn, f *Flow, step *Step, out *Out) [][]Button
}

// kinds is the table of input kinds. A step of a kind not in it is refused
// by NewEngine.
var kinds map[InputKind]kind

func init() {
	text := func(a Answer) string { return a.Text }
	kinds = map[InputKind]kind{
		InputText:        {hint: msgExpectText, show: text, read: readText},
		InputTextOrVoice: {hint: msgExpectTextOrVoice, show: showTextOrVoice, read: readText},
		InputNumber:      {hint: msgExpectNumber, show: func(a Answer) string { return persian.FormatNumber(a.Number) }, read: readNumber},
		InputChoice:      {hint: msgPressButton, show: text, read: readChoice, keys: choiceKeys},
		InputMultiChoice: {hint: msgPressButton, show: showMulti, read: readChoice, keys: choiceKeys},
		InputDate:        {hint: msgExpectDate, show: func(a Answer) string { return persian.FormatDate(time.Unix(a.Time, 0)) }, read: readDate, keys: dateKeys},
		InputPhone: {hint: msgExpectPhone, show: showPhone, read: readPhone,
			keys: func(t *turn, f *Flow, step *Step, out *Out) [][]Button {
				if !step.Others {
					out.Reply = [][]ReplyButton{{{Text: "📱 ارسال شمارهٔ من", RequestContact: true}}}
				}
				return nil
			}},
		InputLocation: {hint: msgExpectLocation, show: func(Answer) string { return "📍 موقعیت ثبت شد" }, read: readLocation,
			keys: func(t *turn, f *Flow, step *Step, out *Out) [][]Button {
				out.Reply = [][]ReplyButton{{{Text: "📍 ارسال موقعیت", RequestLocation: true}}}
				return nil
			}},
		InputPhoto: {hint: msgExpectPhoto, show: func(a Answer) string { return persian.Digits(fmt.Sprint(len(a.Values))) + " عکس" }, read: readPhoto,
			keys: func(t *turn, f *Flow, step *Step, out *Out) [][]Button {
				if a, ok := t.st.Answers[step.Key]; ok && len(a.Values) > 0 && !a.Skipped {
					return [][]Button{{{Text: "تمام ✔️", Data: t.data(valDone)}}}
				}
				return nil
			}},
		InputVoice:    {hint: msgExpectVoice, show: func(Answer) string { return "🎤 پیام صوتی" }, read: readFile(func(in Input) string { return in.Voice })},
		InputDocument: {hint: msgExpectDocument, show: func(Answer) string { return "📎 فایل" }, read: readFile(func(in Input) string { return in.Document })},
		InputNone: {hint: msgPressButton, show: func(Answer) string { return "دیده شد" },
			read: func(t *turn, _ *Flow, step *Step, pressed string) (*Answer, string, error) {
				if pressed == valDone {
					return &Answer{}, "", nil
				}
				return nil, msgPressButton, nil
			},
			keys: func(t *turn, _ *Flow, _ *Step, _ *Out) [][]Button {
				return [][]Button{{{Text: "ادامه ⬅️", Data: t.data(valDone)}}}
			}},
	}
}

// show is how an answer reads in the summary and in the record left on a
// pressed prompt: the step's own Show, else its kind's.
func show(s *Step, a Answer) string {
	if a.Skipped {
		return "—"
	}
	if s.Show != nil {
		return s.Show(a)
	}
	return kinds[s.Kind].show(a)
}

func showTextOrVoice(a Answer) string {
	if a.Text == "" && len(a.Values) > 0 {
		return "🎤 پیام صوتی"
	}
	return a.Text
}

func showMulti(a Answer) string {
	if a.Text != "" {
		return a.Text
	}
	return persian.Digits(fmt.Sprint(len(a.Values))) + " مورد"
}

func readText(t *turn, _ *Flow, step *Step, pressed string) (*Answer, string, error) {
	in, text := t.in, t.in.Text
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
}

func readNumber(t *turn, _ *Flow, step *Step, _ string) (*Answer, string, error) {
	text := t.in.Text
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
}

func readChoice(t *turn, f *Flow, step *Step, pressed string) (*Answer, string, error) {
	in, text := t.in, t.in.Text
	if pressed == "" && in.Location != nil && step.Locate != nil {
		return t.locate(f, step, *in.Location)
	}
	if step.Create != nil {
		if a, hint, handled, err := t.other(f, step, pressed); handled {
			return a, hint, err
		}
	}
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
		a := t.st.Hidden[step.Key+pageSuffix]
		switch pressed {
		case valNext:
			a.Number++
		case valPrev:
			a.Number--
		default:
			t.answer("")
			return nil, "", nil
		}
		t.setHidden(step.Key+pageSuffix, a)
		t.answer("")
		t.redraw(f)
		return nil, "", nil
	}
	if step.Kind == InputMultiChoice && pressed == valDone {
		a := t.st.Answers[step.Key]
		a.Skipped = false
		a.Text = ""
		if opts, err := t.options(step); err == nil && len(a.Values) > 0 {
			a.Text = joinLabels(opts, a.Values)
		}
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
}

// joinLabels names the chosen options, in the options' order.
func joinLabels(opts []Option, values []string) string {
	chosen := map[string]bool{}
	for _, v := range values {
		chosen[v] = true
	}
	s := ""
	for _, o := range opts {
		if chosen[o.Value] {
			if s != "" {
				s += "، "
			}
			s += o.Label
		}
	}
	return s
}

func choiceKeys(t *turn, f *Flow, step *Step, out *Out) [][]Button {
	opts, err := t.options(step)
	cols, shown := columns(step), len(opts)
	if step.PageSize > 0 {
		shown = min(shown, step.PageSize)
	}
	rows := make([][]Button, 0, (shown+cols-1)/cols+3) // the options, then paging, «done» and «other»
	add := func(label, value string) {
		rows = appendButton(rows, Button{Text: label, Data: t.data(value)}, cols)
	}
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
	if _, searched := t.st.Hidden[step.Key+querySuffix]; step.Create != nil && step.Other != "" && !searched {
		// «not in the list» of a county's list; a search's list is
		// answered by typing more, or by browsing to the county.
		rows = append(rows, []Button{{Text: step.Other, Data: t.data(valOther)}})
	}
	return rows
}

func dateKeys(t *turn, _ *Flow, _ *Step, _ *Out) [][]Button {
	return [][]Button{{{Text: "امروز", Data: t.data(valToday)}, {Text: "دیروز", Data: t.data(valYday)}}}
}

func readDate(t *turn, _ *Flow, step *Step, pressed string) (*Answer, string, error) {
	var d time.Time
	switch pressed {
	case valToday:
		d = startOfDay(t.now)
	case valYday:
		d = startOfDay(t.now).AddDate(0, 0, -1)
	case "":
		if t.in.Text == "" {
			return nil, expectHint(step), nil
		}
		var err error
		d, err = persian.ParseDate(t.in.Text, t.now)
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
}

// showPhone is a phone as a person reads it; one resolved from a forwarded
// message is masked: the person asking never gave it.
func showPhone(a Answer) string {
	if a.Number != 0 {
		return persian.MaskMobile(a.Text)
	}
	return persian.FormatMobile(a.Text)
}

func readPhone(t *turn, _ *Flow, step *Step, _ string) (*Answer, string, error) {
	in, text := t.in, t.in.Text
	if in.Forwarded && in.Contact == nil { // only a step with Forward gets here; a forwarded contact card names its contact
		if in.ForwardFrom == 0 {
			return nil, msgForwardHidden, nil
		}
		p, err := step.Forward(t.ctx, t.key, in.ForwardFrom)
		switch models.ErrorCode(err) {
		case models.EINVALID, models.ENOTFOUND:
			return nil, userMessage(err, msgForwardHidden), nil
		case "":
			// Number keeps whose account the phone came from: the phone was
			// not given by the person asking, so it is shown masked.
			return &Answer{Text: p, Number: in.ForwardFrom}, "", nil
		}
		return nil, "", fmt.Errorf("conversations: forward at %s: %w", step.Key, err)
	}
	if in.Contact != nil {
		if in.Contact.UserID != in.SenderID && !step.Others {
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
}

func readLocation(t *turn, _ *Flow, step *Step, _ string) (*Answer, string, error) {
	if t.in.Location == nil {
		return nil, expectHint(step), nil
	}
	return &Answer{Lat: t.in.Location.Lat, Lon: t.in.Location.Lon}, "", nil
}

func readPhoto(t *turn, f *Flow, step *Step, pressed string) (*Answer, string, error) {
	a := t.st.Answers[step.Key]
	if pressed == valDone && len(a.Values) > 0 && !a.Skipped {
		return &a, "", nil
	}
	if t.in.Photo == "" {
		return nil, expectHint(step), nil
	}
	return t.photo(f, step, a)
}

func readFile(of func(Input) string) func(t *turn, _ *Flow, step *Step, _ string) (*Answer, string, error) {
	return func(t *turn, _ *Flow, step *Step, _ string) (*Answer, string, error) {
		id := of(t.in)
		if id == "" {
			return nil, expectHint(step), nil
		}
		return &Answer{Values: []string{id}}, "", nil
	}
}
