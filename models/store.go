// Package models holds Mahalle's domain types and the store that keeps them:
// GORM over PostgreSQL in production, or over an SQLite file when no database
// URL is given. GORM stays inside this package; callers see plain structs,
// methods that take a context first, and *Error values with codes.
package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"
)

// Backend names returned by [Store.Backend].
const (
	BackendPostgres = "postgres"
	BackendSQLite   = "sqlite"
)

// slowQuery is the duration past which GORM logs a query at warn level.
const slowQuery = 200 * time.Millisecond

// quietTrace is GORM's logger, asked for a query's SQL only when it writes
// a line about it (an error, or a query slower than slowQuery). GORM's own
// builds the SQL for every query, with regular expressions, to drop it
// unless it is slow: 4 % of the bot's CPU under load.
type quietTrace struct{ gormlogger.Interface }

// LogMode implements gormlogger.Interface.
func (q quietTrace) LogMode(l gormlogger.LogLevel) gormlogger.Interface {
	return quietTrace{q.Interface.LogMode(l)}
}

// Trace implements gormlogger.Interface.
func (q quietTrace) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if (err == nil || errors.Is(err, gorm.ErrRecordNotFound)) && time.Since(begin) <= slowQuery {
		return
	}
	q.Interface.Trace(ctx, begin, fc, err)
}

// ParamsFilter implements gorm.ParamsFilter: queries are logged without
// their parameters, which may hold personal data.
func (q quietTrace) ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any) {
	if f, ok := q.Interface.(gorm.ParamsFilter); ok {
		return f.ParamsFilter(ctx, sql, params...)
	}
	return sql, nil
}

// GORM's Scan traces its query through a recorder of its own, which fills
// the parameters into the SQL it hands to quietTrace; drop them there too.
// The recorder also builds the SQL's text (with regular expressions) on
// every call, logged or not: queries on the path of every update read with
// Find, which does not record.
func init() {
	gormlogger.RecorderParamsFilter = func(_ context.Context, sql string, _ ...any) (string, []any) {
		return sql, nil
	}
}

// Store is Mahalle's database. It is safe for concurrent use.
type Store struct {
	// Now returns the current time; it stamps CreatedAt, UpdatedAt, audit
	// entries and block marks. Defaults to [time.Now]. Set it before use.
	Now func() time.Time

	db      *gorm.DB
	backend string

	refs refCache // reference data read recently

	adminPhones []string // ADMIN_PHONES, E.164

	// newCode generates a suggestion tracking code; tests replace it to
	// force collisions.
	newCode func() (string, error)
}

// Open opens the database: PostgreSQL when dsn is non-empty (a
// "postgres://…" URL or a key=value DSN), else an SQLite file
// filepath.Join(dataDir, "mahalle.db"), creating dataDir if needed. SQLite
// runs in WAL mode with a busy timeout and foreign keys on, through a single
// connection, so writers never contend. Open does not migrate: call
// [Store.Migrate]. GORM's own log lines go to logger at warn level (slow
// queries over 200ms, SQL errors) without query parameters, which may hold
// personal data. A nil logger discards them.
func Open(ctx context.Context, dsn, dataDir string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{Now: time.Now, newCode: newSuggestionCode}
	cfg := &gorm.Config{
		Logger: quietTrace{gormlogger.NewSlogLogger(logger, gormlogger.Config{
			LogLevel:                  gormlogger.Warn,
			SlowThreshold:             slowQuery,
			IgnoreRecordNotFoundError: true,
			ParameterizedQueries:      true,
		})},
		NowFunc:                s.now,
		SkipDefaultTransaction: true,
		TranslateError:         true,
	}

	var dialector gorm.Dialector
	if dsn != "" {
		s.backend = BackendPostgres
		dialector = postgres.Open(withConnectTimeout(dsn))
	} else {
		s.backend = BackendSQLite
		if dataDir != "" {
			if err := os.MkdirAll(dataDir, 0o750); err != nil {
				return nil, fmt.Errorf("models: open: %w", err)
			}
		}
		dialector = sqlite.Open(sqliteDSN(filepath.Join(dataDir, "mahalle.db")))
	}

	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		// The DSN may hold a password: name the backend, never the DSN.
		return nil, fmt.Errorf("models: open %s: %w", s.backend, err)
	}
	s.db = db
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("models: open %s: %w", s.backend, err)
	}
	if s.backend == BackendSQLite {
		// One connection: SQLite has one writer anyway, and a single
		// connection turns lock contention (SQLITE_BUSY) into queueing.
		sqlDB.SetMaxOpenConns(1)
	} else {
		// As many idle as open: with fewer, the bot's concurrent handlers
		// closed and reopened connections all the time, and PostgreSQL spent
		// more CPU on new backends than on the queries (BENCHMARKS.md).
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		// A connection that lived through a hung server is replaced in time.
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("models: open %s: %w", s.backend, err)
	}
	return s, nil
}

// connectTimeout bounds opening one PostgreSQL connection; queries are
// bounded by their context (every handler has a deadline).
const connectTimeout = "5"

// withConnectTimeout adds connect_timeout (seconds) to a PostgreSQL DSN, URL
// or key=value form, unless it sets one.
func withConnectTimeout(dsn string) string {
	if strings.Contains(dsn, "connect_timeout") {
		return dsn
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + "connect_timeout=" + connectTimeout
	}
	return dsn + " connect_timeout=" + connectTimeout
}

// sqliteDSN returns the driver DSN for the SQLite file at path.
func sqliteDSN(path string) string {
	params := []string{
		"_pragma=journal_mode(WAL)",
		"_pragma=busy_timeout(10000)",
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(NORMAL)",
		"_txlock=immediate",
	}
	return "file:" + path + "?" + strings.Join(params, "&")
}

// Backend returns BackendPostgres ("postgres") or BackendSQLite ("sqlite").
func (s *Store) Backend() string { return s.backend }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("models: ping: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("models: ping: %w", err)
	}
	return nil
}

// Close closes the database. The Store must not be used afterwards.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("models: close: %w", err)
	}
	if err := sqlDB.Close(); err != nil {
		return fmt.Errorf("models: close: %w", err)
	}
	return nil
}

// now is the store's clock in UTC, at microsecond precision so that times
// read back from either backend equal the times written.
func (s *Store) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return now().UTC().Truncate(time.Microsecond)
}

// notFound reports whether err is GORM's "record not found".
func notFound(err error) bool {
	return errors.Is(err, gorm.ErrRecordNotFound)
}
