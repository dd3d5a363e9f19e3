package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// FeedQuery selects the verified actions residents read: of one place, or
// of a whole county, optionally of one committee.
type FeedQuery struct {
	PlaceID     uint
	CountyID    uint
	CommitteeID uint
	Offset      int
	Limit       int
}

// FeedItem is a verified action in a resident's feed, with how many
// residents confirmed it.
type FeedItem struct {
	ActionView
	Confirmed ConfirmationCounts
	Comments  int64
}

// Feed returns a page of verified actions, newest first, and how many there
// are in all. Returns EINVALID when neither a place nor a county is given.
func (s *Store) Feed(ctx context.Context, q FeedQuery) ([]FeedItem, int64, error) {
	if q.PlaceID == 0 && q.CountyID == 0 {
		return nil, 0, fmt.Errorf("models: feed: %w", Errorf(EINVALID, "a place or a county is needed"))
	}
	db := s.db.WithContext(ctx)
	base := func(tx *gorm.DB) *gorm.DB {
		tx = tx.Where("actions.status = ?", ActionVerified)
		if q.PlaceID != 0 {
			tx = tx.Where("actions.place_id = ?", q.PlaceID)
		} else {
			tx = tx.Where("places.county_id = ?", q.CountyID)
		}
		if q.CommitteeID != 0 {
			tx = tx.Where("actions.committee_id = ?", q.CommitteeID)
		}
		return tx
	}
	var total int64
	if err := base(db.Table("actions").Joins("JOIN places ON places.id = actions.place_id")).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("models: feed: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 5
	}
	var views []ActionView
	// Newest first by the day of the work, then by id (SQLite keeps times
	// as text, so ids break ties within a day).
	if err := base(actionViews(db)).Order("actions.date DESC").Order("actions.id DESC").
		Offset(max(q.Offset, 0)).Limit(min(limit, maxPageSize)).Scan(&views).Error; err != nil {
		return nil, 0, fmt.Errorf("models: feed: %w", err)
	}
	ids := make([]uint, len(views))
	for i, v := range views {
		ids[i] = v.ID
	}
	counts, err := s.Confirmations(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	var cc []struct {
		ActionID uint
		N        int64
	}
	if len(ids) > 0 {
		if err := db.Model(&Comment{}).Select("action_id, COUNT(*) AS n").Where("action_id IN ? AND hidden = ?", ids, false).
			Group("action_id").Scan(&cc).Error; err != nil {
			return nil, 0, fmt.Errorf("models: feed: %w", err)
		}
	}
	comments := map[uint]int64{}
	for _, c := range cc {
		comments[c.ActionID] = c.N
	}
	out := make([]FeedItem, len(views))
	for i, v := range views {
		out[i] = FeedItem{ActionView: v, Confirmed: counts[v.ID], Comments: comments[v.ID]}
	}
	return out, total, nil
}

// PublicAction returns a verified action with its timeline, as residents
// may read it. Returns ENOTFOUND for an action that is not verified.
func (s *Store) PublicAction(ctx context.Context, id uint) (FeedItem, []ActionUpdate, error) {
	av, err := s.ActionView(ctx, id)
	if err != nil {
		return FeedItem{}, nil, err
	}
	if av.Status != ActionVerified {
		return FeedItem{}, nil, fmt.Errorf("models: public action %d: %w", id, Errorf(ENOTFOUND, "not verified"))
	}
	_, ups, err := s.Action(ctx, id)
	if err != nil {
		return FeedItem{}, nil, err
	}
	counts, err := s.Confirmations(ctx, []uint{id})
	if err != nil {
		return FeedItem{}, nil, err
	}
	return FeedItem{ActionView: av, Confirmed: counts[id]}, ups, nil
}

// RosterEntry is one seat of a council as residents see it: never a phone.
type RosterEntry struct {
	Name          string
	Position      string
	CommitteeName string
}

// Roster returns the active members of the council of place, chair and
// secretary first.
func (s *Store) Roster(ctx context.Context, placeID uint) ([]RosterEntry, error) {
	var vs []MembershipView
	err := membershipViews(s.db.WithContext(ctx)).
		Where("councils.place_id = ? AND memberships.status = ?", placeID, MembershipActive).
		Order("memberships.id").Scan(&vs).Error
	if err != nil {
		return nil, fmt.Errorf("models: roster: %w", err)
	}
	rank := map[string]int{PositionChair: 0, PositionSecretary: 1, PositionMember: 2}
	out := make([]RosterEntry, 0, len(vs))
	for _, p := range []int{0, 1, 2} {
		for _, v := range vs {
			if rank[v.Position] == p {
				out = append(out, RosterEntry{Name: v.PersonName, Position: v.Position, CommitteeName: v.CommitteeName})
			}
		}
	}
	return out, nil
}
