package coordinator

import (
	"context"
	"fmt"

	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
)

// FlowPlaces is «محله‌های تازه»: the places residents typed in, for the
// county's coordinators to confirm, rename or merge.
const FlowPlaces = "places"

// PlaceModeration is what the places flow reads and decides.
type PlaceModeration interface {
	UnconfirmedPlaces(ctx context.Context, v models.Viewer) ([]models.PlaceMatch, error)
	ModeratePlace(ctx context.Context, v models.Viewer, placeID uint, decision, name string, intoID uint) (models.PlaceMatch, error)
	Place(ctx context.Context, id uint) (models.PlaceMatch, error)
	Places(ctx context.Context, countyID uint) ([]models.Place, error)
}

// places lists the unconfirmed places in the coordinator's scope, oldest
// first; one is confirmed as it is, renamed (a typo), or merged into the
// place of the county it duplicates (its suggestions and councils move).
func (c *Flows) places() *conversations.Flow {
	unless := func(d string) func(*conversations.State) bool {
		return func(st *conversations.State) bool { return st.Answers["do"].First() != d }
	}
	return &conversations.Flow{
		Name: FlowPlaces, Version: 1, Title: titlePlaces,
		Menu: titlePlaces, Order: 35, Roles: staffRoles, Help: helpPlaces,
		Allowed: func(ctx context.Context, v models.Viewer, _ string) (string, error) {
			if !v.IsStaff() {
				return msgStaffOnly, nil
			}
			ps, err := c.Places.UnconfirmedPlaces(ctx, v)
			if err != nil || len(ps) > 0 {
				return "", err
			}
			return msgNoNewPlaces, nil
		},
		Prefill: func(_ context.Context, v models.Viewer, _ string) (conversations.Prefilled, error) {
			return conversations.Prefilled{Hidden: viewerHidden(v)}, nil
		},
		Depends: map[string][]string{"do": {"place"}, "name": {"do"}, "into": {"do", "place"}},
		Steps: []*conversations.Step{
			{
				Key: "place", Label: "محله", Kind: conversations.InputChoice, Columns: 1, PageSize: 10,
				Prompt: promptNewPlace,
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					v, err := c.viewerOf(ctx, st)
					if err != nil {
						return nil, err
					}
					ps, err := c.Places.UnconfirmedPlaces(ctx, v)
					opts := make([]conversations.Option, len(ps))
					for i, p := range ps {
						opts[i] = choice(conversations.FormatID(p.ID), fmt.Sprintf("%s (%s، %s)", p.Name, p.CountyName, p.ProvinceName))
					}
					return opts, err
				},
			},
			{
				Key: "do", Label: "تصمیم", Kind: conversations.InputChoice, Columns: 1,
				Prompt: promptPlaceDo,
				Options: func(context.Context, *conversations.State) ([]conversations.Option, error) {
					return []conversations.Option{
						choice(models.PlaceConfirm, labelPlaceConfirm),
						choice(models.PlaceRename, labelPlaceRename),
						choice(models.PlaceMerge, labelPlaceMerge),
					}, nil
				},
			},
			{
				Key: "name", Label: "نام درست", Kind: conversations.InputText, MinLen: 2, MaxLen: 60,
				Prompt: promptPlaceName, Skip: unless(models.PlaceRename),
			},
			{
				Key: "into", Label: "یکی شود با", Kind: conversations.InputChoice, Columns: 1, PageSize: 10,
				Prompt: promptPlaceInto, Skip: unless(models.PlaceMerge),
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					from, err := c.Places.Place(ctx, conversations.AnswerID(st.Answers, "place"))
					if err != nil {
						return nil, err
					}
					ps, err := c.Places.Places(ctx, from.CountyID)
					var opts []conversations.Option
					for _, p := range ps {
						if p.ID != from.ID {
							opts = append(opts, choice(conversations.FormatID(p.ID), p.Name))
						}
					}
					return opts, err
				},
			},
		},
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			a := sub.Answers
			id := conversations.AnswerID(a, "place")
			before, err := c.Places.Place(ctx, id)
			if err != nil {
				return "", refused(err, msgPlaceGone)
			}
			after, err := c.Places.ModeratePlace(ctx, sub.Viewer, id, a["do"].First(), a["name"].Text, conversations.AnswerID(a, "into"))
			if err != nil {
				return "", refused(err, msgPlaceGone)
			}
			switch a["do"].First() {
			case models.PlaceRename:
				return fmt.Sprintf(msgPlaceRenamed, before.Name, after.Name), nil
			case models.PlaceMerge:
				return fmt.Sprintf(msgPlaceMerged, before.Name, after.Name), nil
			}
			return fmt.Sprintf(msgPlaceConfirmed, after.Name, after.CountyName), nil
		},
		Links: func(conversations.Submission) []conversations.MenuItem {
			return []conversations.MenuItem{{Label: linkMorePlaces, Flow: FlowPlaces}}
		},
	}
}
