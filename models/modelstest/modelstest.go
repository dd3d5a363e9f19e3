// Package modelstest opens a fresh, migrated and seeded [models.Store] for a
// test: on the PostgreSQL server named by TEST_DATABASE_URL, in a schema of
// its own, or, when that variable is unset, in an SQLite file in the test's
// temporary directory.
package modelstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/models"
)

// EnvDatabaseURL names the variable holding the PostgreSQL URL of the test
// server. Tests must fail, not skip, when it is set and the server is down.
const EnvDatabaseURL = "TEST_DATABASE_URL"

// timeout bounds every setup and cleanup step.
const timeout = 30 * time.Second

// Open returns a store migrated to the latest schema and seeded with
// [models.SeedFS] and the demo places ([models.Store.SeedDemo]). It fails the test if that is not possible. The database is
// dropped (PostgreSQL) or removed (SQLite) and the store closed when the test
// ends.
func Open(t testing.TB) *models.Store {
	t.Helper()
	s := OpenEmpty(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("modelstest: %v", err)
	}
	if err := s.SeedDemo(ctx); err != nil {
		t.Fatalf("modelstest: %v", err)
	}
	return s
}

// OpenEmpty returns a store on a fresh, empty database: not migrated, not
// seeded. With TEST_DATABASE_URL set it creates a schema "t_<random>" and
// opens the store with search_path set to it, so parallel tests and
// processes never share tables; otherwise it opens an SQLite file in
// t.TempDir(). Both are cleaned up when the test ends.
func OpenEmpty(t testing.TB) *models.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))

	dsn := os.Getenv(EnvDatabaseURL)
	if dsn == "" {
		s, err := models.Open(ctx, "", t.TempDir(), logger)
		if err != nil {
			t.Fatalf("modelstest: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("modelstest: %v", err)
			}
		})
		return s
	}

	schemaDSN := freshSchema(t, dsn)
	s, err := models.Open(ctx, schemaDSN, "", logger)
	if err != nil {
		t.Fatalf("modelstest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("modelstest: %v", err)
		}
	})
	return s
}

// withSearchPath returns dsn with the session's search_path set to schema,
// for both URL ("postgres://…") and key=value DSNs.
func withSearchPath(dsn, schema string) (string, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("modelstest: %v", err)
	}
	return hex.EncodeToString(b)
}
