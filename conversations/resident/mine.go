package resident

import (
	"context"
	"fmt"
	"strings"

	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// What a resident may do with their own suggestion.
const (
	actWithdraw = "withdraw"
	actSolved   = "solved"
	actUnsolved = "unsolved"
	actMenu     = "menu"

	keyHow = "_how" // Text: "yes" or "no", the answer a resolve link carries

	mineMax = 100 // the list shows at most this many of a person's suggestions
)

// suggestion is one suggestion as its sender reads it.
type suggestion struct {
	sg     models.Suggestion
	place  models.PlaceMatch
	topic  string
	events []models.SuggestionEvent
}

// trackingCode reads a typed tracking code: Persian digits, spaces and
// lower case are forgiven.
func trackingCode(s string) string {
	return persian.KeyboardLatin(s)
}

func (f *Flows) loadSuggestion(ctx context.Context, code string) (suggestion, error) {
	sg, err := f.Track.SuggestionByCode(ctx, code)
	if err != nil {
		return suggestion{}, err
	}
	r := suggestion{sg: sg, topic: msgSgTopicNone}
	if r.place, err = f.Catalog.Place(ctx, sg.PlaceID); err != nil {
		return suggestion{}, err
	}
	if sg.CommitteeID != 0 {
		c, err := f.Catalog.Committee(ctx, sg.CommitteeID)
		if err != nil {
			return suggestion{}, err
		}
		r.topic = c.Name
	}
	if r.events, err = f.Inbox.SuggestionHistory(ctx, sg.ID); err != nil {
		return suggestion{}, err
	}
	return r, nil
}

func (r suggestion) ownedBy(platform string, userID int64) bool {
	return r.sg.Platform == platform && r.sg.UserID == userID
}

// text is the suggestion in full: place, topic, text, status, history and
// the council's last answer.
func (r suggestion) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, msgSgHead, r.sg.Code)
	b.WriteString("\n" + fmt.Sprintf(msgSgPlace, placeName(r.place)))
	b.WriteString("\n" + fmt.Sprintf(msgSgTopic, r.topic))
	if r.sg.Text != "" {
		b.WriteString("\n" + fmt.Sprintf(msgSgText, r.sg.Text))
	} else {
		b.WriteString("\n" + msgSgVoice)
	}
	b.WriteString("\n" + fmt.Sprintf(msgSgStatus, models.StatusLabel(r.sg.Status)))
	b.WriteString("\n" + fmt.Sprintf(msgSgSent, persian.FormatDateTime(r.sg.CreatedAt)))
	answer := ""
	if len(r.events) > 0 {
		b.WriteString("\n\n" + msgSgHistory)
		for _, ev := range r.events {
			fmt.Fprintf(&b, "\n• %s: %s", persian.FormatDate(ev.At), eventLine(ev))
			if ev.Kind == models.EventAnswer {
				answer = ev.Text
			}
		}
	}
	if answer != "" {
		b.WriteString("\n\n" + fmt.Sprintf(msgSgAnswer, answer))
	}
	return b.String()
}

func eventLine(ev models.SuggestionEvent) string {
	switch ev.Kind {
	case models.EventAnswer:
		return ev.ByRole + " پاسخ داد"
	case models.EventReopen:
		if ev.Text != "" {
			return evReopen + " («" + clip(ev.Text, 200) + "»)"
		}
		return evReopen
	case models.EventResolved:
		return evResolved
	case models.EventWithdraw:
		return evWithdraw
	case models.EventAssign:
		return evAssign
	}
	if ev.ByRole != "" {
		return models.StatusLabel(ev.Status) + " (" + ev.ByRole + ")"
	}
	return models.StatusLabel(ev.Status)
}

// codeOf is the tracking code a run is about.
func codeOf(hidden, a map[string]conversations.Answer) string {
	if c := hidden[keyCode].Text; c != "" {
		return c
	}
	if c := a["pick"].First(); c != "" {
		return c
	}
	return trackingCode(a["code"].Text)
}

// ownSuggestion starts a run on the person's suggestion with code, or
// says it is not theirs.
func (f *Flows) ownSuggestion(ctx context.Context, platform string, userID int64, code string) (suggestion, error) {
	r, err := f.loadSuggestion(ctx, trackingCode(code))
	if models.ErrorCode(err) == models.ENOTFOUND || (err == nil && !r.ownedBy(platform, userID)) {
		return suggestion{}, models.Errorf(models.ENOTFOUND, "%s", msgNotYours)
	}
	return r, err
}

// suggestionSteps show one of the person's suggestions with what they may
// do with it, and ask for a note when they say the problem is not solved.
func (f *Flows) suggestionSteps() []*conversations.Step {
	return []*conversations.Step{
		{
			Key: "act", Label: "کار", Kind: conversations.InputChoice, Columns: 1,
			Prompt: msgSgAsk,
			Skip:   func(st *conversations.State) bool { return st.Hidden[keyHow].Text == "no" },
			Display: display(func(ctx context.Context, st *conversations.State) (string, error) {
				r, err := f.loadSuggestion(ctx, codeOf(st.Hidden, st.Answers))
				if err != nil {
					return "", err
				}
				if st.Hidden[keyHow].Text == "yes" {
					return fmt.Sprintf(msgClosedThanks, r.sg.Code) + "\n\n" + r.text(), nil
				}
				return r.text(), nil
			}),
			Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
				r, err := f.loadSuggestion(ctx, codeOf(st.Hidden, st.Answers))
				if err != nil {
					return nil, err
				}
				var opts []conversations.Option
				if r.ownedBy(whoIs(st.Hidden)) {
					switch {
					case r.sg.Status == models.StatusAnswered:
						opts = choice(actSolved, optSolved, actUnsolved, optUnsolved)
					case models.SuggestionOpen(r.sg.Status):
						opts = choice(actWithdraw, optWithdraw)
					}
				}
				return append(opts, choice(actMenu, optMenu)...), nil
			},
		},
		{
			Key: "note", Label: "یادداشت", Kind: conversations.InputText, Optional: true, MinLen: 2, MaxLen: 1000,
			Prompt: msgNoteAsk,
			Skip: func(st *conversations.State) bool {
				return st.Answers["act"].First() != actUnsolved && st.Hidden[keyHow].Text != "no"
			},
			Display: display(func(ctx context.Context, st *conversations.State) (string, error) {
				if st.Hidden[keyHow].Text != "no" {
					return "", nil
				}
				r, err := f.loadSuggestion(ctx, codeOf(st.Hidden, st.Answers))
				if err != nil {
					return "", err
				}
				return r.text(), nil
			}),
		},
	}
}

// submitSuggestionAct does what the person chose for their suggestion.
func (f *Flows) submitSuggestionAct(ctx context.Context, sub conversations.Submission) (string, error) {
	a, k := sub.Answers, sub.Key
	r, err := f.ownSuggestion(ctx, k.Platform, k.UserID, codeOf(sub.Hidden, a))
	if err != nil {
		return "", err
	}
	switch act := a["act"].First(); {
	case act == actWithdraw:
		if _, err := f.Inbox.WithdrawSuggestion(ctx, k.Platform, k.UserID, r.sg.ID); err != nil {
			return "", err
		}
		return fmt.Sprintf(msgWithdrawn, r.sg.Code), nil
	case act == actSolved:
		// Already closed: this answer was stored by an earlier try of this
		// same submission (a lost race re-runs it), so it succeeded.
		if r.sg.Status != models.StatusClosed {
			if _, err := f.Inbox.ResolveSuggestion(ctx, k.Platform, k.UserID, r.sg.ID, true, ""); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf(msgClosedThanks, r.sg.Code), nil
	case act == actUnsolved || sub.Hidden[keyHow].Text == "no":
		if r.sg.Status != models.StatusReopened {
			if _, err := f.Inbox.ResolveSuggestion(ctx, k.Platform, k.UserID, r.sg.ID, false, a["note"].Text); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf(msgReopened, r.sg.Code), nil
	}
	return "", nil // «بازگشت به منو»: the menu follows
}

// mine is «پیشنهادهای من»: the person's suggestions with status and last
// change, five to a page; one opened shows place, topic, text, history and
// the answer, with withdraw (while unanswered) or «مشکل حل شد؟» (once
// answered). Started with a tracking code, it opens that suggestion.
func (f *Flows) mine() *conversations.Flow {
	pick := &conversations.Step{
		Key: "pick", Label: "پیشنهاد", Kind: conversations.InputChoice, Columns: 1, PageSize: feedPageSize,
		Prompt: msgMinePick,
		Skip:   func(st *conversations.State) bool { return st.Hidden[keyCode].Text != "" },
		Display: display(func(ctx context.Context, st *conversations.State) (string, error) {
			platform, user := whoIs(st.Hidden)
			page := st.Page("pick")
			items, total, err := f.Inbox.MySuggestions(ctx, platform, user, page*feedPageSize, feedPageSize)
			if err != nil {
				return "", err
			}
			var b strings.Builder
			fmt.Fprintf(&b, msgMineHead, num(total))
			for i, s := range items {
				b.WriteString("\n\n" + fmt.Sprintf(msgMineItem, num(int64(page*feedPageSize+i+1)), s.Code, s.PlaceName,
					models.StatusLabel(s.Status), persian.FormatDateTime(s.LastChange)))
			}
			return b.String(), nil
		}),
		Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
			platform, user := whoIs(st.Hidden)
			items, _, err := f.Inbox.MySuggestions(ctx, platform, user, 0, mineMax)
			opts := make([]conversations.Option, len(items))
			for i, s := range items {
				opts[i] = conversations.Option{Value: s.Code, Label: num(int64(i+1)) + ". پیشنهاد " + s.Code}
			}
			return opts, err
		},
	}
	return &conversations.Flow{
		Name: FlowMine, Version: 1, Title: titleMine, NoSummary: true,
		Allowed: func(ctx context.Context, v models.Viewer, arg string) (string, error) {
			if arg != "" {
				return "", nil
			}
			_, total, err := f.Inbox.MySuggestions(ctx, v.Platform, v.UserID, 0, 1)
			if err != nil || total > 0 {
				return "", err
			}
			return msgMineNone, nil
		},
		Prefill: func(ctx context.Context, v models.Viewer, arg string) (conversations.Prefilled, error) {
			pre := map[string]conversations.Answer{keyMe: me(v)}
			if arg == "" {
				return conversations.Prefilled{Hidden: pre}, nil
			}
			r, err := f.ownSuggestion(ctx, v.Platform, v.UserID, arg)
			if err != nil {
				return conversations.Prefilled{}, err
			}
			pre[keyCode] = conversations.Answer{Text: r.sg.Code}
			return conversations.Prefilled{Hidden: pre}, nil
		},
		Steps:  append([]*conversations.Step{pick}, f.suggestionSteps()...),
		Submit: f.submitSuggestionAct,
	}
}

// track shows a suggestion by its tracking code: place, topic, text,
// status history and the answer.
func (f *Flows) track() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowTrack, Version: 2, Title: titleTrack, NoSummary: true,
		Steps: []*conversations.Step{{
			Key: "code", Label: "کد پیگیری", Kind: conversations.InputText, MinLen: 3, MaxLen: 20,
			Prompt: msgTrackAsk,
			After: func(ctx context.Context, _ conversations.Key, _ *conversations.State, a conversations.Answer) (string, error) {
				_, err := f.Track.SuggestionByCode(ctx, trackingCode(a.Text))
				if models.ErrorCode(err) == models.ENOTFOUND {
					return "", models.Errorf(models.EINVALID, msgTrackNone, a.Text)
				}
				return "", err
			},
		}},
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			r, err := f.loadSuggestion(ctx, codeOf(sub.Hidden, sub.Answers))
			if models.ErrorCode(err) == models.ENOTFOUND {
				return "", models.Errorf(models.EINVALID, msgTrackNone, sub.Answers["code"].Text)
			} else if err != nil {
				return "", err
			}
			text := r.text()
			if r.ownedBy(sub.Key.Platform, sub.Key.UserID) && r.sg.Status != models.StatusClosed && r.sg.Status != models.StatusWithdrawn {
				text += "\n\n" + msgTrackMine
			}
			return text, nil
		},
	}
}

// resolve answers «مشکل حل شد؟» from the buttons under the council's
// answer ("resolve:<code>:yes" or ":no"): yes closes the suggestion at
// once; no asks for an optional note and reopens it.
func (f *Flows) resolve() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowResolve, Version: 1, Title: titleResolve, NoSummary: true,
		// A «yes» closes the suggestion with the tap itself: a second tap
		// finds it closed and only shows it.
		Prefill: func(ctx context.Context, v models.Viewer, arg string) (conversations.Prefilled, error) {
			code, how, _ := strings.Cut(arg, ":")
			if how != "yes" && how != "no" {
				return conversations.Prefilled{}, models.Errorf(models.ENOTFOUND, "%s", msgNotYours)
			}
			r, err := f.ownSuggestion(ctx, v.Platform, v.UserID, code)
			if err != nil {
				return conversations.Prefilled{}, err
			}
			switch st := r.sg.Status; {
			case how == "yes" && st == models.StatusAnswered:
				if _, err := f.Inbox.ResolveSuggestion(ctx, v.Platform, v.UserID, r.sg.ID, true, ""); err != nil {
					return conversations.Prefilled{}, err
				}
			case how == "yes" && st == models.StatusClosed:
			case st != models.StatusAnswered:
				return conversations.Prefilled{}, models.Errorf(models.EINVALID, msgResolveLate, models.StatusLabel(st))
			}
			return conversations.Prefilled{Hidden: map[string]conversations.Answer{
				keyMe:   me(v),
				keyCode: {Text: r.sg.Code},
				keyHow:  {Text: how},
			}}, nil
		},
		Steps:  f.suggestionSteps(),
		Submit: f.submitSuggestionAct,
	}
}
