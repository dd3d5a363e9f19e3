package modelstest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Fresh returns where a process under test should keep its data, without
// opening anything: with TEST_DATABASE_URL set, a DATABASE_URL for a new
// empty schema of its own (dropped when the test ends) and an empty data
// dir; otherwise no URL and a fresh directory for the SQLite file.
func Fresh(t testing.TB) (databaseURL, dataDir string) {
	t.Helper()
	dsn := os.Getenv(EnvDatabaseURL)
	if dsn == "" {
		return "", t.TempDir()
	}
	return freshSchema(t, dsn), t.TempDir()
}

// freshSchema creates an empty schema "t_<random>" on the server of dsn,
// drops it when the test ends, and returns dsn with search_path set to it,
// so parallel tests and processes never share tables.
func freshSchema(t testing.TB, dsn string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	schema := "t_" + randomHex(t, 8)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("modelstest: connect to %s: %v", EnvDatabaseURL, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("modelstest: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("modelstest: drop schema: %v", err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("modelstest: drop schema: %v", err)
		}
	})
	u, err := withSearchPath(dsn, schema)
	if err != nil {
		t.Fatalf("modelstest: %s: %v", EnvDatabaseURL, err)
	}
	return u
}
