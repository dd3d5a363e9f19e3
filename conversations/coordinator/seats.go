package coordinator

import (
	"context"
	"fmt"
	"strings"

	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
)

// FlowSeats is «پایان عضویت یک عضو»: the chair ends a member's seat, with a
// reason the member reads; the membership's history is kept.
const FlowSeats = "seats"

func (c *Flows) seats() *conversations.Flow {
	return &conversations.Flow{
		Name: FlowSeats, Version: 1, Title: titleSeats,
		Menu: titleSeats, Order: 25, Roles: []models.Role{models.RoleChair}, Help: helpSeats,
		Allowed: func(ctx context.Context, v models.Viewer, _ string) (string, error) {
			if !chairs(v) {
				return msgChairOnly, nil
			}
			ss, err := c.Requests.Seats(ctx, v)
			if err != nil || len(ss) > 0 {
				return "", err
			}
			return msgNoSeats, nil
		},
		Prefill: func(_ context.Context, v models.Viewer, _ string) (conversations.Prefilled, error) {
			return conversations.Prefilled{Hidden: viewerHidden(v)}, nil
		},
		Steps: []*conversations.Step{
			{
				Key: "seat", Label: "عضو", Kind: conversations.InputChoice, Columns: 1, PageSize: 10,
				Prompt: promptSeat,
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					v, err := c.viewerOf(ctx, st)
					if err != nil {
						return nil, err
					}
					ss, err := c.Requests.Seats(ctx, v)
					opts := make([]conversations.Option, len(ss))
					for i, s := range ss {
						opts[i] = choice(conversations.FormatID(s.ID), fmt.Sprintf("%s · %s · %s", s.PersonName, models.PositionName(s.Position), s.CommitteeName))
					}
					return opts, err
				},
			},
			{Key: "reason", Label: "دلیل", Kind: conversations.InputText, MinLen: 5, MaxLen: 500, Prompt: promptSeatReason},
		},
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			err := c.Requests.EndSeat(ctx, sub.Viewer, conversations.AnswerID(sub.Answers, "seat"), sub.Answers["reason"].Text)
			if err != nil {
				return "", refused(err, msgSeatGone)
			}
			name, _, _ := strings.Cut(sub.Answers["seat"].Text, " · ") // the label: name · position · committee
			return fmt.Sprintf(doneSeatEnded, name), nil
		},
	}
}
