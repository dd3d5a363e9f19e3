package resident

import (
	"context"
	"errors"
	"fmt"

	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// Geography is what the place-finding steps read.
type Geography interface {
	Provinces(ctx context.Context) ([]models.Province, error)
	Counties(ctx context.Context, provinceID uint) ([]models.County, error)
	Places(ctx context.Context, countyID uint) ([]models.Place, error)
	Search(ctx context.Context, query string, opts models.SearchOptions) (models.SearchResult, error)
	CountyAt(ctx context.Context, lat, lon float64) (models.County, error)
	NearestPlaces(ctx context.Context, countyID uint, lat, lon float64, limit int) ([]models.NearPlace, error)
	CreatePlace(ctx context.Context, actor models.Actor, countyID uint, name string) (models.PlaceMatch, bool, error)
}

// Suggestions is what the suggestion flow stores into.
type Suggestions interface {
	Place(ctx context.Context, id uint) (models.PlaceMatch, error)
	Committees(ctx context.Context, provinceID uint) ([]models.Committee, error)
	CreateSuggestion(ctx context.Context, sg *models.Suggestion) error
}

// Trackers looks suggestions up by their tracking code.
type Trackers interface {
	SuggestionByCode(ctx context.Context, code string) (models.Suggestion, error)
}

// conversations.Flow names.
const (
	FlowSuggest = "suggest"
	FlowTrack   = "track"
)

const searchLimit = 8

// TopicOther is the topic of a suggestion that fits no committee, and the
// code of the committee that holds such suggestions when the province's list
// has one: the council sorts them.
const TopicOther = "other"

// otherCommittee is the committee that holds «سایر / نمی‌دانم» suggestions in
// the place's province; EINVALID when the list has none.
func otherCommittee(ctx context.Context, store Suggestions, placeID uint) (uint, error) {
	pm, err := store.Place(ctx, placeID)
	if err != nil {
		return 0, err
	}
	cs, err := store.Committees(ctx, pm.ProvinceID)
	if err != nil {
		return 0, err
	}
	for _, c := range cs {
		if c.Code == TopicOther {
			return c.ID, nil
		}
	}
	return 0, models.Errorf(models.EINVALID, "%s", msgNoOtherTopic)
}

// SuggestionFlow is a resident's suggestion, complaint or comment: the
// neighborhood (browsed or searched), the topic, the text or a voice
// message, an optional photo and location, and whether to send it with a name.
func SuggestionFlow(geo Geography, store Suggestions, platform func(conversations.Key) string) *conversations.Flow {
	return &conversations.Flow{
		Name:    FlowSuggest,
		Version: 2, // 2: the location before the photos (a shared location needs its own message; this way only one step does)
		Title:   "ارسال پیشنهاد",
		// Storing a suggestion holds it back past the per-person limits
		// (the Limit the caller sets is asked at the start).
		SubmitLimits: true,
		Menu:         "ارسال پیشنهاد", Order: 10, Command: "suggest", Help: msgHelpSuggest,
		Counter: true,
		Depends: map[string][]string{
			"cnty":  {"prov"},
			"place": {"prov", "cnty"},
			"topic": {"place"},
			"name":  {"anon"},
		},
		Steps: append(PlaceSteps(geo), []*conversations.Step{
			{
				Key: "topic", Label: "موضوع", Kind: conversations.InputChoice,
				Prompt: msgAskTopic,
				Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
					pm, err := store.Place(ctx, conversations.AnswerID(st.Answers, "place"))
					if err != nil {
						return nil, err
					}
					cs, err := store.Committees(ctx, pm.ProvinceID)
					var opts []conversations.Option
					other := false
					for _, c := range cs {
						switch {
						case c.Code == TopicOther:
							other = true
						case !c.Crisis:
							opts = append(opts, conversations.Option{Value: conversations.FormatID(c.ID), Label: c.Name})
						}
					}
					if other {
						// Offered only when the list has a committee to hold it:
						// a suggestion is always stored under a committee.
						opts = append(opts, conversations.Option{Value: TopicOther, Label: msgTopicOther})
					}
					return opts, err
				},
			},
			{
				Key: "body", Label: "متن", Kind: conversations.InputTextOrVoice, MinLen: 10, MaxLen: 2000,
				Prompt: msgAskBody,
			},
			{
				Key: "loc", Label: "موقعیت", Kind: conversations.InputLocation, Optional: true,
				Prompt: msgAskLocation,
			},
			{
				Key: "photo", Label: "عکس", Kind: conversations.InputPhoto, Optional: true, MaxFiles: 3,
				Prompt: msgAskPhoto,
			},
			{
				Key: "anon", Label: "فرستنده", Kind: conversations.InputChoice,
				Prompt: msgAskAnon,
				Options: func(context.Context, *conversations.State) ([]conversations.Option, error) {
					return []conversations.Option{{Value: "named", Label: "با نام من"}, {Value: "anon", Label: "بی‌نام"}}, nil
				},
			},
			{
				Key: "name", Label: "نام", Kind: conversations.InputText, MinLen: 2, MaxLen: 60,
				Prompt: msgAskName,
				Skip: func(st *conversations.State) bool {
					return st.Answers["anon"].First() != "named"
				},
			},
		}...),
		Submit: func(ctx context.Context, sub conversations.Submission) (string, error) {
			a := sub.Answers
			committee := conversations.AnswerID(a, "topic")
			if a["topic"].First() == TopicOther {
				id, err := otherCommittee(ctx, store, conversations.AnswerID(a, "place"))
				if err != nil {
					return "", err
				}
				committee = id
			}
			sg := models.Suggestion{
				Key:         "sg:" + sub.Run,
				Platform:    platform(sub.Key),
				UserID:      sub.Key.UserID,
				PlaceID:     conversations.AnswerID(a, "place"),
				CommitteeID: committee,
				Anonymous:   a["anon"].First() != "named",
			}
			if b := a["body"]; b.Text != "" {
				sg.Text = b.Text
			} else {
				sg.VoiceFileID = b.First()
			}
			if p := a["photo"]; !p.Skipped {
				sg.PhotoFileIDs = p.Values
			}
			if l, ok := a["loc"]; ok && !l.Skipped {
				sg.Lat, sg.Lon = &l.Lat, &l.Lon
			}
			if !sg.Anonymous {
				sg.SenderName = a["name"].Text
			}
			var limited *models.LimitedError
			if err := store.CreateSuggestion(ctx, &sg); errors.As(err, &limited) {
				return "", models.Errorf(models.EFORBIDDEN, "%s", limitedText(limited.Until))
			} else if err != nil {
				return "", err
			}
			return msgReaches[sg.Reach] + "\n" + fmt.Sprintf(msgSuggestionCode, sg.Code), nil
		},
	}
}

// PlaceSteps find a neighborhood or village: province, county, place. A
// name typed at the first two steps is searched (tolerant of how Persian is
// typed, and saying how many more were found than shown); a location shared
// there picks the county by its boundary and lists its places nearest
// first; a place missing from the county's list is typed in and created,
// unconfirmed, usable at once.
func PlaceSteps(geo Geography) []*conversations.Step {
	searched := func(st *conversations.State) bool {
		_, q := st.Hidden["place.q"]
		return q
	}
	search := func(ctx context.Context, st *conversations.State, query string) ([]conversations.Option, error) {
		found, err := geo.Search(ctx, query, models.SearchOptions{Kinds: []string{models.MatchPlace}, Limit: searchLimit})
		if models.ErrorCode(err) == models.EINVALID {
			return nil, nil // no letter in it: «nothing found»
		}
		if err != nil {
			return nil, err
		}
		opts := make([]conversations.Option, len(found.Matches))
		for i, m := range found.Matches {
			opts[i] = conversations.Option{Value: conversations.FormatID(m.ID),
				Label: markUnconfirmed(m.Name, m.Confirmed) + " (" + m.CountyName + "، " + m.ProvinceName + ")"}
		}
		return opts, nil
	}
	locate := func(ctx context.Context, st *conversations.State, lat, lon float64) (map[string]conversations.Answer, error) {
		c, err := geo.CountyAt(ctx, lat, lon)
		if code := models.ErrorCode(err); code == models.ENOTFOUND || code == models.EINVALID {
			return nil, models.Errorf(models.ENOTFOUND, "%s", msgLocationOutside)
		} else if err != nil {
			return nil, err
		}
		ps, err := geo.Provinces(ctx)
		if err != nil {
			return nil, err
		}
		prov := conversations.Answer{Values: []string{conversations.FormatID(c.ProvinceID)}}
		for _, p := range ps {
			if p.ID == c.ProvinceID {
				prov.Text = p.Name
			}
		}
		return map[string]conversations.Answer{
			"prov": prov,
			"cnty": {Values: []string{conversations.FormatID(c.ID)}, Text: c.Name},
		}, nil
	}
	return []*conversations.Step{
		{
			Key: "prov", Label: "استان", Kind: conversations.InputChoice, Columns: 3,
			Prompt: msgAskProvince,
			Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
				ps, err := geo.Provinces(ctx)
				opts := make([]conversations.Option, len(ps))
				for i, p := range ps {
					opts[i] = conversations.Option{Value: conversations.FormatID(p.ID), Label: p.Name}
				}
				return opts, err
			},
			Search: search, Jump: "place", Locate: locate,
			Skip: func(st *conversations.State) bool {
				_, answered := st.Answers["prov"]
				return searched(st) && !answered
			},
		},
		{
			Key: "cnty", Label: "شهرستان", Kind: conversations.InputChoice, Columns: 3,
			Prompt: msgAskCounty,
			Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
				cs, err := geo.Counties(ctx, conversations.AnswerID(st.Answers, "prov"))
				opts := make([]conversations.Option, len(cs))
				for i, c := range cs {
					opts[i] = conversations.Option{Value: conversations.FormatID(c.ID), Label: c.Name}
				}
				return opts, err
			},
			Search: search, Jump: "place", Locate: locate, Skip: searched,
		},
		{
			Key: "place", Label: "محله یا روستا", Kind: conversations.InputChoice, PageSize: 10,
			Prompt: msgAskPlace,
			Display: func(ctx context.Context, st *conversations.State) (conversations.Display, error) {
				return placeNote(ctx, geo, st)
			},
			Options: func(ctx context.Context, st *conversations.State) ([]conversations.Option, error) {
				return placeOptions(ctx, geo, st)
			},
			Other: optPlaceMissing, OtherPrompt: msgAskNewPlace,
			Create: func(ctx context.Context, k conversations.Key, st *conversations.State, text string) (conversations.Option, error) {
				county := conversations.AnswerID(st.Answers, "cnty")
				if county == 0 {
					// Reached by a search: the county is not known yet.
					return conversations.Option{}, models.Errorf(models.EINVALID, "%s", msgNewPlaceNeedsCounty)
				}
				pm, created, err := geo.CreatePlace(ctx, models.Actor{Platform: k.Platform, UserID: k.UserID}, county, text)
				if err != nil {
					return conversations.Option{}, err
				}
				return conversations.Option{Value: conversations.FormatID(pm.ID), Label: placeName(pm), Created: created}, nil
			},
		},
	}
}

// placeOptions lists the county's places (nearest first when a location
// chose the county), unconfirmed ones marked.
func placeOptions(ctx context.Context, geo Geography, st *conversations.State) ([]conversations.Option, error) {
	county := conversations.AnswerID(st.Answers, "cnty")
	ps, err := geo.Places(ctx, county)
	if err != nil {
		return nil, err
	}
	if lat, lon, ok := st.Located(); ok {
		near, err := geo.NearestPlaces(ctx, county, lat, lon, len(ps))
		if err != nil {
			return nil, err
		}
		first := make(map[uint]bool, len(near))
		sorted := make([]models.Place, 0, len(ps))
		for _, n := range near {
			first[n.ID] = true
			sorted = append(sorted, n.Place)
		}
		for _, p := range ps {
			if !first[p.ID] {
				sorted = append(sorted, p)
			}
		}
		ps = sorted
	}
	opts := make([]conversations.Option, len(ps))
	for i, p := range ps {
		opts[i] = conversations.Option{Value: conversations.FormatID(p.ID), Label: markUnconfirmed(p.Name, p.Confirmed)}
	}
	return opts, nil
}

// placeNote is what the place step says above its list: how many a search
// found beyond those shown, or the county a shared location fell in.
func placeNote(ctx context.Context, geo Geography, st *conversations.State) (conversations.Display, error) {
	if q, ok := st.Hidden["place.q"]; ok {
		found, err := geo.Search(ctx, q.Text, models.SearchOptions{Kinds: []string{models.MatchPlace}, Limit: searchLimit})
		if err != nil || found.Total <= len(found.Matches) {
			return conversations.Display{}, nil // nothing more to say; the list says the rest
		}
		return conversations.Display{Text: fmt.Sprintf(msgSearchMore, persian.Digits(fmt.Sprint(found.Total-len(found.Matches))))}, nil
	}
	if _, _, ok := st.Located(); ok {
		return conversations.Display{Text: fmt.Sprintf(msgLocatedIn, st.Answers["cnty"].Text, st.Answers["prov"].Text)}, nil
	}
	return conversations.Display{}, nil
}

// markUnconfirmed is a place's name as residents read it: one a resident
// typed in, not yet confirmed by the county, is marked.
func markUnconfirmed(name string, confirmed bool) string {
	if confirmed {
		return name
	}
	return name + " " + markNotConfirmed
}

func statusName(s string) string {
	switch s {
	case "new":
		return "ثبت شده، در انتظار بررسی"
	case "seen":
		return "دیده شده توسط شورا"
	case "in_progress":
		return "در دست پیگیری"
	case "answered":
		return "پاسخ داده شده"
	case "closed":
		return "بسته شده"
	}
	return "نامشخص"
}
