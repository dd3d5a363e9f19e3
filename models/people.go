package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Person is someone Mahalle knows by name: a council member or a coordinator.
// A resident who only sends suggestions has an Identity and no Person.
type Person struct {
	ID        uint
	Name      string
	Phone     *string // E.164, verified by a shared contact; unique when set
	CreatedAt time.Time
}

// TableName pins the table name for GORM.
func (Person) TableName() string { return "people" }

// Identity is an account on a messaging platform: who wrote to the bot, where
// to reach them, and whether they have blocked the bot.
type Identity struct {
	ID           uint
	PersonID     *uint  // nil until the account is tied to a registered Person
	Platform     string // "tg" or "bale"
	UserID       int64  // the platform's user id; unique per platform
	ChatID       int64  // the private chat with the bot
	Username     string
	LanguageCode string
	BlockedAt    *time.Time // when a send failed with 403 (the bot is blocked); nil when reachable
	LastSeenAt   *time.Time // when the person last wrote from this account (kept to the minute); notices go to the latest
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// TableName pins the table name for GORM.
func (Identity) TableName() string { return "identities" }

// identityConflict is the unique key an identity is upserted on.
var identityConflict = []clause.Column{{Name: "platform"}, {Name: "user_id"}}

// TouchIdentity records that id.Platform/id.UserID was seen: it inserts the
// identity or updates its Username and LanguageCode, and its ChatID and
// PersonID when set, and returns the stored row. A new identity without a
// ChatID gets the user id, as for a private chat. It does not clear BlockedAt; a handler that
// hears from a blocked person calls [Store.ClearBlocked]. Returns EINVALID
// when Platform or UserID is missing.
func (s *Store) TouchIdentity(ctx context.Context, id Identity) (Identity, error) {
	if id.Platform == "" || id.UserID == 0 {
		return Identity{}, fmt.Errorf("models: touch identity: %w", Errorf(EINVALID, "identity without platform or user id"))
	}
	updates := []string{"username", "language_code", "updated_at"}
	if id.ChatID != 0 {
		updates = append(updates, "chat_id")
	} else {
		id.ChatID = id.UserID // a private chat's id is the user's id
	}
	if id.PersonID != nil {
		updates = append(updates, "person_id")
	}
	row := Identity{
		PersonID:     id.PersonID,
		Platform:     id.Platform,
		UserID:       id.UserID,
		ChatID:       id.ChatID,
		Username:     id.Username,
		LanguageCode: id.LanguageCode,
	}
	var got Identity
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{
			Columns:   identityConflict,
			DoUpdates: clause.AssignmentColumns(updates),
		}).Create(&row).Error
		if err != nil {
			return err
		}
		return tx.Where("platform = ? AND user_id = ?", id.Platform, id.UserID).Take(&got).Error
	})
	if err != nil {
		return Identity{}, fmt.Errorf("models: touch identity: %w", err)
	}
	return got, nil
}

// MarkBlocked records that the person blocked the bot (a send failed with
// 403), creating the identity if Mahalle never saw it (its ChatID is then the
// user id, as for a private chat). Returns EINVALID when platform or userID is
// missing.
func (s *Store) MarkBlocked(ctx context.Context, platform string, userID int64) error {
	if platform == "" || userID == 0 {
		return fmt.Errorf("models: mark blocked: %w", Errorf(EINVALID, "identity without platform or user id"))
	}
	now := s.now()
	row := Identity{Platform: platform, UserID: userID, ChatID: userID, BlockedAt: &now}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   identityConflict,
		DoUpdates: clause.AssignmentColumns([]string{"blocked_at", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("models: mark blocked: %w", err)
	}
	return nil
}

// ClearBlocked records that the person can be reached again. It does nothing
// when the identity does not exist or is not blocked.
func (s *Store) ClearBlocked(ctx context.Context, platform string, userID int64) error {
	err := s.db.WithContext(ctx).Model(&Identity{}).
		Where("platform = ? AND user_id = ? AND blocked_at IS NOT NULL", platform, userID).
		Updates(map[string]any{"blocked_at": nil, "updated_at": s.now()}).Error
	if err != nil {
		return fmt.Errorf("models: clear blocked: %w", err)
	}
	return nil
}

// Identity returns the identity of userID on platform. Returns ENOTFOUND when
// Mahalle has never seen it.
func (s *Store) Identity(ctx context.Context, platform string, userID int64) (Identity, error) {
	var id Identity
	err := s.db.WithContext(ctx).Where("platform = ? AND user_id = ?", platform, userID).Take(&id).Error
	if notFound(err) {
		return Identity{}, fmt.Errorf("models: identity: %w", Errorf(ENOTFOUND, "identity %s:%d not found", platform, userID))
	} else if err != nil {
		return Identity{}, fmt.Errorf("models: identity: %w", err)
	}
	return id, nil
}
