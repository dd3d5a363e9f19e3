package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// A photo's file id is valid only for the bot that received it: a photo
// received on Telegram is shown on Bale by downloading it there and
// uploading it here. MediaFile records which platform received each photo;
// MediaCopy keeps the file id of its upload to each other platform, so a
// photo is uploaded once per platform.

// MediaFile is a photo as received: its file id and the platform whose bot
// received it.
type MediaFile struct {
	FileID     string `gorm:"primaryKey"`
	Platform   string
	ReceivedAt time.Time
}

// TableName pins the table name for GORM.
func (MediaFile) TableName() string { return "media_files" }

// MediaCopy is a received photo uploaded to another platform: the file id
// the other platform's bot knows it by.
type MediaCopy struct {
	FileID     string `gorm:"primaryKey"`
	Platform   string `gorm:"primaryKey"`
	CopyFileID string
	CreatedAt  time.Time
}

// TableName pins the table name for GORM.
func (MediaCopy) TableName() string { return "media_copies" }

// RecordPhoto notes that platform's bot received the photo fileID. Noting
// it again changes nothing.
func (s *Store) RecordPhoto(ctx context.Context, platform, fileID string) error {
	if fileID == "" {
		return nil
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&MediaFile{FileID: fileID, Platform: platform, ReceivedAt: s.now()}).Error
	if err != nil {
		return fmt.Errorf("models: record photo: %w", err)
	}
	return nil
}

// PhotoOrigins returns the platform that received each of fileIDs that was
// recorded; a photo not recorded (received before records were kept) is
// left out.
func (s *Store) PhotoOrigins(ctx context.Context, fileIDs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(fileIDs) == 0 {
		return out, nil
	}
	var rows []MediaFile
	if err := s.db.WithContext(ctx).Where("file_id IN ?", fileIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: photo origins: %w", err)
	}
	for _, r := range rows {
		out[r.FileID] = r.Platform
	}
	return out, nil
}

// PhotoCopies returns, for each of fileIDs already uploaded to platform,
// the file id it has there.
func (s *Store) PhotoCopies(ctx context.Context, platform string, fileIDs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(fileIDs) == 0 {
		return out, nil
	}
	var rows []MediaCopy
	if err := s.db.WithContext(ctx).Where("platform = ? AND file_id IN ?", platform, fileIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: photo copies: %w", err)
	}
	for _, r := range rows {
		out[r.FileID] = r.CopyFileID
	}
	return out, nil
}

// SavePhotoCopy records that fileID was uploaded to platform as copyID. A
// copy already recorded (two viewers at once) is kept: either works.
func (s *Store) SavePhotoCopy(ctx context.Context, fileID, platform, copyID string) error {
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&MediaCopy{FileID: fileID, Platform: platform, CopyFileID: copyID, CreatedAt: s.now()}).Error
	if err != nil {
		return fmt.Errorf("models: save photo copy: %w", err)
	}
	return nil
}
