package models

import (
	"context"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"
)

// SetCodeGenerator replaces the tracking-code generator of s, so a test can
// force collisions.
func SetCodeGenerator(s *Store, f func() (string, error)) { s.newCode = f }

// DB exposes the store's GORM handle to tests that must write rows in an
// older schema (the upgrade test).
func DB(s *Store) *gorm.DB { return s.db }

// NewSuggestionCode exposes the tracking-code generator.
var NewSuggestionCode = newSuggestionCode

// ComparePersian exposes the Persian collation.
var ComparePersian = comparePersian

// QueuedNotices returns every row of the outbox, oldest first.
func QueuedNotices(s *Store) []Notice {
	var ns []Notice
	if err := s.db.Order("id").Find(&ns).Error; err != nil {
		panic(err)
	}
	return ns
}

// CreateSuggestionInTransaction is CreateSuggestion through its
// transactional path (SQLite's), on either backend, for comparing the two.
func CreateSuggestionInTransaction(ctx context.Context, s *Store, sg *Suggestion) error {
	return s.createSuggestion(ctx, sg, false)
}

// CountStatements counts, from now on, the statements s sends, as GORM
// traces them (BEGIN and COMMIT are not). Call it before s is shared.
func CountStatements(s *Store) *atomic.Int64 {
	n := new(atomic.Int64)
	s.db.Logger = countingTrace{s.db.Logger, n}
	return n
}

type countingTrace struct {
	gormlogger.Interface
	n *atomic.Int64
}

func (c countingTrace) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	c.n.Add(1)
	c.Interface.Trace(ctx, begin, fc, err)
}
