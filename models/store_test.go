package models_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/models/modelstest"
)

func TestOpenSQLiteCreatesDataDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	s, err := models.Open(t.Context(), "", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := s.Backend(), models.BackendSQLite; got != want {
		t.Errorf("Backend() = %q, want %q", got, want)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "mahalle.db")); err != nil {
		t.Errorf("database file: %v", err)
	}
}

func TestOpenPostgresUnreachable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := models.Open(ctx, "postgres://postgres:secret@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", "", nil)
	if err == nil {
		s.Close()
		t.Fatal("Open of an unreachable server succeeded")
	}
}

func TestBackend(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	want := models.BackendSQLite
	if os.Getenv(modelstest.EnvDatabaseURL) != "" {
		want = models.BackendPostgres
	}
	if got := s.Backend(); got != want {
		t.Errorf("Backend() = %q, want %q", got, want)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	t.Parallel()
	s := modelstest.Open(t)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	empty, err := s.Empty(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if empty {
		t.Error("Empty() = true after seeding")
	}
}

func TestMigrateToUnknownID(t *testing.T) {
	t.Parallel()
	s := modelstest.OpenEmpty(t)
	err := s.MigrateTo(t.Context(), "209901010001_nothing")
	if got, want := models.ErrorCode(err), models.EINVALID; got != want {
		t.Errorf("MigrateTo(unknown) code = %q, want %q (err %v)", got, want, err)
	}
}

func TestEmptyBeforeSeed(t *testing.T) {
	t.Parallel()
	s := modelstest.OpenEmpty(t)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	empty, err := s.Empty(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !empty {
		t.Error("Empty() = false on a fresh database")
	}
}

// TestUpgradeKeepsData fills a database left at the first migrations with
// rows written in that schema, migrates it to the latest, and checks that
// every row is still there and usable.
func TestUpgradeKeepsData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := modelstest.OpenEmpty(t)
	db := models.DB(s).WithContext(ctx)
	exec := func(sql string, args ...any) {
		t.Helper()
		if err := db.Exec(sql, args...).Error; err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	if err := s.MigrateTo(ctx, models.MigrationReference); err != nil {
		t.Fatal(err)
	}
	exec(`INSERT INTO provinces (code, name, name_en) VALUES ('old-province', 'استان قدیمی', 'Old province')`)
	exec(`INSERT INTO counties (province_id, code, name, name_en) SELECT id, 'old-county', 'شهرستان قدیمی', 'Old county' FROM provinces WHERE code = 'old-province'`)
	exec(`INSERT INTO places (county_id, kind, name, search_key, lat, lon, example) SELECT id, 'village', 'روستای نمونه قدیمی', 'روستاینمونهقدیمی', 35.5, 51.25, true FROM counties WHERE code = 'old-county'`)
	exec(`INSERT INTO committees (province_id, code, name, name_en, crisis, position) VALUES (NULL, 'old-committee', 'کمیته قدیمی', 'Old committee', false, 1)`)
	exec(`INSERT INTO programmes (code, name, name_en) VALUES ('old-programme', 'برنامه قدیمی', 'Old programme')`)

	if err := s.MigrateTo(ctx, models.MigrationPeople); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 1, 8, 30, 0, 0, time.UTC)
	exec(`INSERT INTO people (name, phone, created_at) VALUES ('مریم', '+989121234567', ?)`, created)
	exec(`INSERT INTO identities (person_id, platform, user_id, chat_id, username, language_code, created_at, updated_at)
		SELECT id, 'tg', 4242, 4242, 'maryam', 'fa', ?, ? FROM people WHERE name = 'مریم'`, created, created)

	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate after filling: %v", err)
	}

	ps, err := s.Provinces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Code != "old-province" || ps[0].Name != "استان قدیمی" || ps[0].NameEn != "Old province" {
		t.Fatalf("provinces after upgrade = %+v", ps)
	}
	cs, err := s.Counties(ctx, ps[0].ID)
	if err != nil || len(cs) != 1 || cs[0].Name != "شهرستان قدیمی" {
		t.Fatalf("counties after upgrade = %+v, %v", cs, err)
	}
	places, err := s.Places(ctx, cs[0].ID)
	if err != nil || len(places) != 1 {
		t.Fatalf("places after upgrade = %+v, %v", places, err)
	}
	p := places[0]
	if p.Name != "روستای نمونه قدیمی" || p.Kind != models.KindVillage || !p.Example || p.Lat == nil || *p.Lat != 35.5 || p.Lon == nil || *p.Lon != 51.25 {
		t.Errorf("place after upgrade = %+v", p)
	}
	committees, err := s.Committees(ctx, ps[0].ID)
	if err != nil || len(committees) != 1 || committees[0].Code != "old-committee" {
		t.Fatalf("committees after upgrade = %+v, %v", committees, err)
	}
	programmes, err := s.Programmes(ctx)
	if err != nil || len(programmes) != 1 || programmes[0].Code != "old-programme" {
		t.Errorf("programmes after upgrade = %+v, %v", programmes, err)
	}
	id, err := s.Identity(ctx, "tg", 4242)
	if err != nil {
		t.Fatal(err)
	}
	if id.PersonID == nil || id.Username != "maryam" || id.LanguageCode != "fa" || !id.CreatedAt.Equal(created) {
		t.Errorf("identity after upgrade = %+v", id)
	}

	// The old rows work with the new tables.
	sg := models.Suggestion{Key: "upgrade-1", Platform: "tg", UserID: 4242, PlaceID: p.ID, CommitteeID: committees[0].ID, Text: "سلام"}
	if err := s.CreateSuggestion(ctx, &sg); err != nil {
		t.Fatalf("CreateSuggestion on upgraded data: %v", err)
	}
	// Seeding an upgraded database adds the reference data beside the old rows.
	if err := s.Seed(ctx, models.SeedFS()); err != nil {
		t.Fatalf("Seed on upgraded data: %v", err)
	}
	if ps, err = s.Provinces(ctx); err != nil || len(ps) != 32 {
		t.Errorf("provinces after seeding = %d, %v; want 32", len(ps), err)
	}
}

// TestConcurrentMigrateAndSeed starts several migrations and seeds at once,
// as several processes starting together would.
func TestConcurrentMigrateAndSeed(t *testing.T) {
	t.Parallel()
	s := modelstest.OpenEmpty(t)
	const n = 4
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { errs <- s.Migrate(t.Context()) })
	}
	wg.Wait()
	for range n {
		wg.Go(func() { errs <- s.Seed(t.Context(), models.SeedFS()) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	ps, err := s.Provinces(t.Context())
	if err != nil || len(ps) != 31 {
		t.Errorf("provinces = %d, %v; want 31", len(ps), err)
	}
}
