package models

import (
	"context"
	"fmt"
)

// UnconfirmedPlaces returns the places residents typed in that no
// coordinator has confirmed yet, in the counties v supervises, oldest first.
func (s *Store) UnconfirmedPlaces(ctx context.Context, v Viewer) ([]PlaceMatch, error) {
	var ms []PlaceMatch
	if err := s.placeMatches(ctx).Where("places.confirmed = ?", false).Order("places.id").Scan(&ms).Error; err != nil {
		return nil, fmt.Errorf("models: unconfirmed places: %w", err)
	}
	out := ms[:0]
	for _, m := range ms {
		if v.Supervises(m.ProvinceID, m.CountyID) {
			out = append(out, m)
		}
	}
	return out, nil
}

// ModeratePlace confirms a place, renames it, or merges it into another
// place of its county, as v decides: the one way a chat reaches
// ConfirmPlace, RenamePlace and MergePlaces, so the scope is checked here.
// decision is PlaceConfirm, PlaceRename (with name) or PlaceMerge (with
// intoID). Returns EFORBIDDEN when v does not supervise the place's county,
// EINVALID for an unknown decision or a merge across counties, and the
// errors of the store method it calls.
func (s *Store) ModeratePlace(ctx context.Context, v Viewer, placeID uint, decision, name string, intoID uint) (PlaceMatch, error) {
	p, err := s.Place(ctx, placeID)
	if err != nil {
		return PlaceMatch{}, err
	}
	if !v.Supervises(p.ProvinceID, p.CountyID) {
		return PlaceMatch{}, fmt.Errorf("models: moderate place: %w", Errorf(EFORBIDDEN, "این محله در حوزهٔ شما نیست."))
	}
	actor := Actor{Platform: v.Platform, UserID: v.UserID}
	switch decision {
	case PlaceConfirm:
		if err := s.ConfirmPlace(ctx, actor, placeID); err != nil {
			return PlaceMatch{}, err
		}
		return s.Place(ctx, placeID)
	case PlaceRename:
		// A name a coordinator corrected is a name they checked.
		if _, err := s.RenamePlace(ctx, actor, placeID, name); err != nil {
			return PlaceMatch{}, err
		}
		if err := s.ConfirmPlace(ctx, actor, placeID); err != nil {
			return PlaceMatch{}, err
		}
		return s.Place(ctx, placeID)
	case PlaceMerge:
		into, err := s.Place(ctx, intoID)
		if err != nil {
			return PlaceMatch{}, err
		}
		if into.CountyID != p.CountyID {
			return PlaceMatch{}, fmt.Errorf("models: moderate place: %w", Errorf(EINVALID, "دو محله در یک شهرستان نیستند."))
		}
		if err := s.MergePlaces(ctx, actor, placeID, intoID); err != nil {
			return PlaceMatch{}, err
		}
		return into, nil
	}
	return PlaceMatch{}, fmt.Errorf("models: moderate place: %w", Errorf(EINVALID, "decision %q", decision))
}

// Decisions on a place a resident typed in.
const (
	PlaceConfirm = "confirm"
	PlaceRename  = "rename"
	PlaceMerge   = "merge"
)
