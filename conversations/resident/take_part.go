package resident

import (
	"context"
	"fmt"
	"strconv"

	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// prefillAction starts a run about the verified action given as arg.
func (f *Flows) prefillAction(ctx context.Context, v models.Viewer, arg string) (conversations.Prefilled, error) {
	id, err := strconv.ParseUint(arg, 10, 64)
	if err != nil || id == 0 {
		return conversations.Prefilled{}, models.Errorf(models.ENOTFOUND, "%s", msgNoAction)
	}
	it, _, err := f.Feeds.PublicAction(ctx, uint(id))
	if models.ErrorCode(err) == models.ENOTFOUND {
		return conversations.Prefilled{}, models.Errorf(models.ENOTFOUND, "%s", msgNoAction)
	} else if err != nil {
		return conversations.Prefilled{}, err
	}
	return conversations.Prefilled{Hidden: map[string]conversations.Answer{
		keyMe:    me(v),
		keyAct:   {Number: int64(it.ID)},
		keyPlace: {Number: int64(it.PlaceID)},
	}}, nil
}

// actionIntro names the action a step is about.
func (f *Flows) actionIntro(ctx context.Context, st *conversations.State) (string, error) {
	it, _, err := f.Feeds.PublicAction(ctx, conversations.HiddenID(st.Hidden, keyAct))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(msgActionOf, it.Title, it.PlaceName, persian.FormatDate(it.Date)), nil
}

func backToFeed(sub conversations.Submission) []conversations.MenuItem {
	return []conversations.MenuItem{{Label: linkBackFeed, Flow: FlowFeed + ":" + conversations.FormatID(placeOf(&conversations.State{Answers: sub.Answers, Hidden: sub.Hidden}))}}
}

// confirm asks whether a verified action happened: yes, partly or no, with
// an optional photo. A new answer replaces the person's earlier one.
func (f *Flows) confirm() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowConfirm, Version: 1, Title: titleConfirm, NoSummary: true,
		Limit:   f.Limited,
		Prefill: f.prefillAction,
		Steps: []*conversations.Step{
			{
				Key: "ans", Label: "پاسخ", Kind: conversations.InputChoice, Columns: 3,
				Prompt:  msgConfirmAsk,
				Display: display(f.actionIntro),
				Options: func(context.Context, *conversations.State) ([]conversations.Option, error) {
					return choice(models.ConfirmYes, optYes, models.ConfirmPartly, optPartly, models.ConfirmNo, optNo), nil
				},
			},
			{
				Key: "photo", Label: "عکس", Kind: conversations.InputPhoto, Optional: true, MaxFiles: 1,
				Prompt: msgConfirmPhoto,
			},
		},
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			c := models.Confirmation{
				ActionID: conversations.HiddenID(sub.Hidden, keyAct),
				Platform: sub.Key.Platform, UserID: sub.Key.UserID,
				Answer: sub.Answers["ans"].First(),
			}
			if p := sub.Answers["photo"]; !p.Skipped {
				c.Photo = p.First()
			}
			if err := f.Part.Confirm(ctx, &c); err != nil {
				return "", err
			}
			it, _, err := f.Feeds.PublicAction(ctx, c.ActionID)
			if err != nil {
				return "", err
			}
			msg := fmt.Sprintf(msgConfirmed, confirmations(it.Confirmed))
			if line := msgConfirmNoReaches[c.Reach]; line != "" {
				msg += "\n" + line
			}
			return msg, nil
		},
		Links: backToFeed,
	}
}

// comment takes a resident's comment (2–1000 characters) on a verified action.
func (f *Flows) comment() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowComment, Version: 1, Title: titleComment, NoSummary: true,
		Limit:   f.Limited,
		Prefill: f.prefillAction,
		Steps: []*conversations.Step{{
			Key: "text", Label: "نظر", Kind: conversations.InputText, MinLen: 2, MaxLen: 1000,
			Prompt:  msgCommentAsk,
			Display: display(f.actionIntro),
		}},
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			c := models.Comment{
				Key:      "cm:" + sub.Run,
				ActionID: conversations.HiddenID(sub.Hidden, keyAct),
				Platform: sub.Key.Platform, UserID: sub.Key.UserID,
				Text: sub.Answers["text"].Text,
			}
			if err := f.Part.AddComment(ctx, &c); err != nil {
				return "", err
			}
			it, _, err := f.Feeds.PublicAction(ctx, c.ActionID)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf(msgCommented, it.Title), nil
		},
		Links: backToFeed,
	}
}
