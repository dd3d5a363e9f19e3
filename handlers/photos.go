package handlers

import (
	"context"
	"log/slog"

	"github.com/mahalle/mahalle/bot"
)

// A photo's file id is valid only for the bot that received it. The bot can
// run on Telegram and Bale in one process, so a photo received on one is
// shown on the other by downloading it with the receiving bot and uploading
// it with the viewer's; the upload's file id is kept so each photo is
// uploaded once per platform.

// PhotoStore records which platform received each photo, and the copies
// uploaded to the other platforms.
type PhotoStore interface {
	RecordPhoto(ctx context.Context, platform, fileID string) error
	PhotoOrigins(ctx context.Context, fileIDs []string) (map[string]string, error)
	PhotoCopies(ctx context.Context, platform string, fileIDs []string) (map[string]string, error)
	SavePhotoCopy(ctx context.Context, fileID, platform, copyID string) error
}

// PhotoSender sends photos as albums, some by file id and some uploaded,
// and says what file id each has now (see bot.Client.SendPhotos).
type PhotoSender interface {
	SendPhotos(ctx context.Context, chatID int64, photos []bot.Photo) ([]string, error)
}

// Downloader fetches a file the platform's bot received, at most max bytes
// (see bot.Client.Download).
type Downloader interface {
	Download(ctx context.Context, fileID string, max int64) ([]byte, error)
}

var (
	_ PhotoSender = (*bot.Client)(nil)
	_ Downloader  = (*bot.Client)(nil)
)

// maxPhotoBytes caps a photo downloaded to be sent on the other platform:
// the Bot API uploads photos of up to 10 MB.
const maxPhotoBytes = 10 << 20

// recordPhoto notes the platform that received u's photo. A failure is
// logged: the photo is still taken, and is shown as it is on its own
// platform.
func (r *Router) recordPhoto(ctx context.Context, u bot.Update) {
	if r.photos == nil || u.Photo == nil || u.Photo.FileID == "" {
		return
	}
	if err := r.photos.RecordPhoto(ctx, string(u.Platform), u.Photo.FileID); err != nil {
		r.log.Warn("handlers: record photo", slog.String("platform", string(u.Platform)), slog.Int("update_id", u.ID), slog.Any("err", err))
	}
}

// photosFor returns the photos to send on platform for ids: each by the
// file id the platform's bot knows it by, or, for one received on another
// platform and not yet uploaded here, its bytes. uploaded[i] is the original
// id of photos[i] when photos[i] is an upload. A photo that cannot be
// fetched is left out (logged): the person gets the others.
func (r *Router) photosFor(ctx context.Context, platform bot.Platform, ids []string) (photos []bot.Photo, uploaded []string, err error) {
	origins, err := r.photos.PhotoOrigins(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	var foreign []string
	for _, id := range ids {
		if o, ok := origins[id]; ok && o != string(platform) {
			foreign = append(foreign, id)
		}
	}
	copies, err := r.photos.PhotoCopies(ctx, string(platform), foreign)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		o, ok := origins[id]
		if !ok || o == string(platform) {
			photos, uploaded = append(photos, bot.Photo{FileID: id}), append(uploaded, "")
			continue
		}
		if c, ok := copies[id]; ok {
			photos, uploaded = append(photos, bot.Photo{FileID: c}), append(uploaded, "")
			continue
		}
		d, ok := r.senders[bot.Platform(o)].(Downloader)
		if !ok {
			r.log.Warn("handlers: a photo of a platform not running here", slog.String("platform", o))
			continue
		}
		data, err := d.Download(ctx, id, maxPhotoBytes)
		if err != nil {
			r.log.Warn("handlers: download a photo for the other platform", slog.String("from", o),
				slog.String("to", string(platform)), slog.Any("err", err))
			continue
		}
		photos, uploaded = append(photos, bot.Photo{Data: data}), append(uploaded, id)
	}
	return photos, uploaded, nil
}

// sendPhotos sends ids to chatID on platform as albums through ps,
// uploading photos received on another platform and remembering their new
// file ids.
func (r *Router) sendPhotos(ctx context.Context, ps PhotoSender, platform bot.Platform, chatID int64, ids []string) error {
	photos, uploaded := make([]bot.Photo, len(ids)), make([]string, len(ids))
	for i, id := range ids {
		photos[i] = bot.Photo{FileID: id}
	}
	if r.photos != nil {
		var err error
		if photos, uploaded, err = r.photosFor(ctx, platform, ids); err != nil {
			return err
		}
	}
	if len(photos) == 0 {
		return nil
	}
	got, err := ps.SendPhotos(ctx, chatID, photos)
	for i, id := range got {
		if i < len(uploaded) && uploaded[i] != "" && id != "" {
			if err := r.photos.SavePhotoCopy(ctx, uploaded[i], string(platform), id); err != nil {
				r.log.Warn("handlers: remember an uploaded photo", slog.Any("err", err))
			}
		}
	}
	return err
}
