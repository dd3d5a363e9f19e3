package models_test

import (
	"testing"
	"time"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/models/modelstest"
)

func TestTouchIdentity(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ctx := t.Context()
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	now := t0
	s.Now = func() time.Time { return now }

	first, err := s.TouchIdentity(ctx, models.Identity{Platform: "tg", UserID: 100, ChatID: 100, Username: "reza", LanguageCode: "fa"})
	if err != nil {
		t.Fatal(err)
	}
	if first.ID == 0 || first.Username != "reza" || first.LanguageCode != "fa" || first.ChatID != 100 ||
		!first.CreatedAt.Equal(t0) || !first.UpdatedAt.Equal(t0) || first.BlockedAt != nil || first.PersonID != nil {
		t.Errorf("first touch = %+v", first)
	}

	now = t0.Add(time.Hour)
	second, err := s.TouchIdentity(ctx, models.Identity{Platform: "tg", UserID: 100, ChatID: 100, Username: "reza_new", LanguageCode: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID || second.Username != "reza_new" || second.LanguageCode != "en" ||
		!second.CreatedAt.Equal(t0) || !second.UpdatedAt.Equal(now) {
		t.Errorf("second touch = %+v, want same id %d, new username, created %v, updated %v", second, first.ID, t0, now)
	}

	// Same user id on another platform is another identity.
	bale, err := s.TouchIdentity(ctx, models.Identity{Platform: "bale", UserID: 100, ChatID: 100})
	if err != nil {
		t.Fatal(err)
	}
	if bale.ID == first.ID {
		t.Error("bale and tg identities share an id")
	}

	for _, bad := range []models.Identity{{UserID: 1}, {Platform: "tg"}} {
		if _, err := s.TouchIdentity(ctx, bad); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("TouchIdentity(%+v) = %v, want EINVALID", bad, err)
		}
	}
}

func TestBlocked(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	ctx := t.Context()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }

	// Marking an identity Mahalle never saw creates it.
	if err := s.MarkBlocked(ctx, "tg", 200); err != nil {
		t.Fatal(err)
	}
	got, err := s.Identity(ctx, "tg", 200)
	if err != nil {
		t.Fatal(err)
	}
	if got.BlockedAt == nil || !got.BlockedAt.Equal(now) || got.ChatID != 200 {
		t.Errorf("after MarkBlocked = %+v, want blocked at %v", got, now)
	}

	// Marking a known identity keeps what was known about it.
	if _, err := s.TouchIdentity(ctx, models.Identity{Platform: "tg", UserID: 300, ChatID: 300, Username: "sara"}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // twice: idempotent
		if err := s.MarkBlocked(ctx, "tg", 300); err != nil {
			t.Fatal(err)
		}
	}
	got, err = s.Identity(ctx, "tg", 300)
	if err != nil {
		t.Fatal(err)
	}
	if got.BlockedAt == nil || got.Username != "sara" {
		t.Errorf("after MarkBlocked = %+v, want blocked and username kept", got)
	}

	if err := s.ClearBlocked(ctx, "tg", 300); err != nil {
		t.Fatal(err)
	}
	got, err = s.Identity(ctx, "tg", 300)
	if err != nil {
		t.Fatal(err)
	}
	if got.BlockedAt != nil {
		t.Errorf("after ClearBlocked BlockedAt = %v, want nil", got.BlockedAt)
	}
	// Clearing an unknown or unblocked identity is not an error.
	if err := s.ClearBlocked(ctx, "tg", 987654); err != nil {
		t.Errorf("ClearBlocked(unknown) = %v", err)
	}
	if err := s.ClearBlocked(ctx, "tg", 300); err != nil {
		t.Errorf("ClearBlocked(unblocked) = %v", err)
	}
	if err := s.MarkBlocked(ctx, "", 1); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("MarkBlocked without platform = %v, want EINVALID", err)
	}
}
