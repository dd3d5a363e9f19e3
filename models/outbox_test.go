package models_test

import (
	"slices"
	"testing"

	"github.com/mahalle/mahalle/models"
)

// noticesOf returns the outbox rows of the kinds, oldest first.
func noticesOf(t *testing.T, s *models.Store, kinds ...string) []models.Notice {
	t.Helper()
	var out []models.Notice
	for _, k := range kinds {
		ns, err := s.Notices(t.Context(), models.NoticeFilter{Kind: k, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ns...)
	}
	slices.SortFunc(out, func(a, b models.Notice) int { return int(a.ID) - int(b.ID) })
	return out
}
