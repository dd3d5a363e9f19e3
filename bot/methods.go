package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Command is one entry of a bot's command menu: Name without the slash
// (1-32 of a-z, 0-9, _), Description 1-256 characters.
type Command struct {
	Name        string
	Description string
}

// SetDefaultCommands sets the command menu every chat without its own
// sees (https://core.telegram.org/bots/api#setmycommands, default scope).
func (c *Client) SetDefaultCommands(ctx context.Context, cmds []Command) error {
	list := make([]tgbotapi.BotCommand, len(cmds))
	for i, cmd := range cmds {
		list[i] = tgbotapi.BotCommand{Command: cmd.Name, Description: cmd.Description}
	}
	_, err := c.do(ctx, c.viaLib("setMyCommands", 0, laneReply, limitNone, tgbotapi.NewSetMyCommands(list...)))
	return err
}

// SetChatCommands sets the command menu one chat sees
// (https://core.telegram.org/bots/api#setmycommands with a
// BotCommandScopeChat), for instance after a person's roles changed. Errors
// are those of Send; a malformed command gives ErrBadRequest.
func (c *Client) SetChatCommands(ctx context.Context, chatID int64, cmds []Command) error {
	if chatID == 0 {
		return errors.New("bot: setMyCommands: no chat id")
	}
	list := make([]tgbotapi.BotCommand, len(cmds))
	for i, cmd := range cmds {
		list[i] = tgbotapi.BotCommand{Command: cmd.Name, Description: cmd.Description}
	}
	cfg := tgbotapi.NewSetMyCommandsWithScope(tgbotapi.NewBotCommandScopeChat(chatID), list...)
	_, err := c.do(ctx, c.viaLib("setMyCommands", chatID, laneReply, limitNone, cfg))
	return err
}

// DeleteChatCommands removes the command menu of one chat
// (https://core.telegram.org/bots/api#deletemycommands with a
// BotCommandScopeChat), so the chat falls back to the default menu.
func (c *Client) DeleteChatCommands(ctx context.Context, chatID int64) error {
	if chatID == 0 {
		return errors.New("bot: deleteMyCommands: no chat id")
	}
	cfg := tgbotapi.NewDeleteMyCommandsWithScope(tgbotapi.NewBotCommandScopeChat(chatID))
	_, err := c.do(ctx, c.viaLib("deleteMyCommands", chatID, laneReply, limitNone, cfg))
	return err
}

// maxAlbum is the most photos one sendMediaGroup carries.
const maxAlbum = 10

// SendAlbum sends photos (platform file ids) to chatID as albums
// (https://core.telegram.org/bots/api#sendmediagroup) of up to ten, with
// caption under the first photo; a single photo goes by sendPhoto. It returns
// the ids of the messages made, in order. A caption over 1024 UTF-16 units
// is sent as a text after the photos. Errors are those of Send; when a later
// album fails, the earlier ones were delivered.
func (c *Client) SendAlbum(ctx context.Context, chatID int64, fileIDs []string, caption string) ([]int, error) {
	return c.sendAlbum(ctx, chatID, fileIDs, caption, laneReply)
}

// NotifyAlbum is SendAlbum in the notice lane (see Notify).
func (c *Client) NotifyAlbum(ctx context.Context, chatID int64, fileIDs []string, caption string) ([]int, error) {
	ids, err := c.sendAlbum(ctx, chatID, fileIDs, caption, laneNotice)
	c.countNotice(err)
	return ids, err
}

func (c *Client) sendAlbum(ctx context.Context, chatID int64, fileIDs []string, caption string, ln lane) ([]int, error) {
	switch {
	case chatID == 0:
		return nil, errors.New("bot: sendMediaGroup: no chat id")
	case len(fileIDs) == 0:
		return nil, errors.New("bot: sendMediaGroup: no photo")
	}
	longCaption := utf16Units(caption) > maxCaptionUnits
	first := caption
	if longCaption {
		first = ""
	}
	var ids []int
	for start := 0; start < len(fileIDs); start += maxAlbum {
		chunk := fileIDs[start:min(start+maxAlbum, len(fileIDs))]
		capt := ""
		if start == 0 {
			capt = first
		}
		if len(chunk) == 1 {
			id, err := c.send(ctx, Message{ChatID: chatID, Text: capt, Photo: &File{FileID: chunk[0]}}, ln)
			if err != nil {
				return ids, err
			}
			ids = append(ids, id)
			continue
		}
		media := make([]any, len(chunk))
		for i, id := range chunk {
			p := tgbotapi.NewInputMediaPhoto(tgbotapi.FileID(id))
			if i == 0 {
				p.Caption = capt
			}
			media[i] = p
		}
		call := c.viaLib("sendMediaGroup", chatID, ln, limitChat, tgbotapi.NewMediaGroup(chatID, media))
		call.messages = len(chunk)
		ans, err := c.do(ctx, call)
		if err != nil {
			return ids, err
		}
		var msgs []struct {
			MessageID int `json:"message_id"`
		}
		if err := json.Unmarshal(ans.result, &msgs); err != nil {
			return ids, fmt.Errorf("bot: sendMediaGroup: decode result: %w", err)
		}
		for _, m := range msgs {
			ids = append(ids, m.MessageID)
		}
	}
	if longCaption {
		id, err := c.send(ctx, Message{ChatID: chatID, Text: caption}, ln)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Download fetches a file by its platform file id: getFile
// (https://core.telegram.org/bots/api#getfile), then the file itself, for
// instance to re-send a photo on the other platform. A file larger than max
// bytes gives an error (bots may download up to 20 MB). Errors of getFile are
// those of FileURL; a download answered with a non-200 status gives an
// *APIError with that code.
func (c *Client) Download(ctx context.Context, fileID string, max int64) ([]byte, error) {
	u, err := c.FileURL(ctx, fileID)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, c.redact(fmt.Errorf("bot: download: %w", err))
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, c.redact(fmt.Errorf("bot: download: %w", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &APIError{Method: "download", Code: resp.StatusCode}
	}
	if resp.ContentLength > max {
		return nil, fmt.Errorf("bot: download: file of %d bytes is over %d", resp.ContentLength, max)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, c.redact(fmt.Errorf("bot: download: %w", err))
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("bot: download: file is over %d bytes", max)
	}
	return data, nil
}

// Photo is one photo to send: by the file id this bot knows it by, or, when
// Data is set, by uploading its bytes (a photo received by another bot,
// whose file id means nothing here).
type Photo struct {
	FileID string
	Data   []byte
}

// SendPhotos sends photos to chatID as albums of up to ten
// (https://core.telegram.org/bots/api#sendmediagroup; a lone photo by
// https://core.telegram.org/bots/api#sendphoto), uploading those given by
// their bytes in the same call. It returns, in order, the file id this bot
// now knows each photo by: the one given, or the upload's, to send it by
// next time without uploading again. Errors are those of Send; when a later
// album fails, the earlier ones were delivered and their ids are returned.
func (c *Client) SendPhotos(ctx context.Context, chatID int64, photos []Photo) ([]string, error) {
	switch {
	case chatID == 0:
		return nil, errors.New("bot: sendMediaGroup: no chat id")
	case len(photos) == 0:
		return nil, errors.New("bot: sendMediaGroup: no photo")
	}
	requestFile := func(i int, p Photo) tgbotapi.RequestFileData {
		if p.Data != nil {
			return tgbotapi.FileBytes{Name: fmt.Sprintf("photo%d.jpg", i+1), Bytes: p.Data}
		}
		return tgbotapi.FileID(p.FileID)
	}
	var ids []string
	for start := 0; start < len(photos); start += maxAlbum {
		chunk := photos[start:min(start+maxAlbum, len(photos))]
		if len(chunk) == 1 {
			call := c.viaLib("sendPhoto", chatID, laneReply, limitChat, tgbotapi.NewPhoto(chatID, requestFile(start, chunk[0])))
			ans, err := c.do(ctx, call)
			if err != nil {
				return ids, err
			}
			var msg sentPhoto
			if err := json.Unmarshal(ans.result, &msg); err != nil {
				return ids, fmt.Errorf("bot: sendPhoto: decode result: %w", err)
			}
			ids = append(ids, msg.fileID(chunk[0].FileID))
			continue
		}
		media := make([]any, len(chunk))
		for i, p := range chunk {
			media[i] = tgbotapi.NewInputMediaPhoto(requestFile(start+i, p))
		}
		call := c.viaLib("sendMediaGroup", chatID, laneReply, limitChat, tgbotapi.NewMediaGroup(chatID, media))
		call.messages = len(chunk)
		ans, err := c.do(ctx, call)
		if err != nil {
			return ids, err
		}
		var msgs []sentPhoto
		if err := json.Unmarshal(ans.result, &msgs); err != nil {
			return ids, fmt.Errorf("bot: sendMediaGroup: decode result: %w", err)
		}
		for i, p := range chunk {
			id := p.FileID
			if i < len(msgs) {
				id = msgs[i].fileID(p.FileID)
			}
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// sentPhoto is the part of a sent photo message SendPhotos reads.
type sentPhoto struct {
	Photo []struct {
		FileID   string `json:"file_id"`
		FileSize int    `json:"file_size"`
		Width    int    `json:"width"`
	} `json:"photo"`
}

// fileID returns the file id of the largest size, or def when there is none.
func (m sentPhoto) fileID(def string) string {
	best, width := def, -1
	for _, s := range m.Photo {
		if s.Width > width {
			best, width = s.FileID, s.Width
		}
	}
	return best
}
