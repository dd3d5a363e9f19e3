package models

import "gorm.io/gorm"

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
