package bot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	gojson "github.com/goccy/go-json"
)

// ConvertUpdate decodes one Bot API Update object (as getUpdates returns it)
// into Mahalle's Update. Messages, edited messages, callback queries and
// my_chat_member updates are converted; an update of any other kind (for
// example channel_post) converts with Kind "" and only its ID set.
//
// It returns an error when raw is not a JSON Update object, has no positive
// update_id, or carries a message without a chat. It never panics, whatever
// raw holds (see FuzzConvertUpdate).
func ConvertUpdate(p Platform, raw json.RawMessage) (Update, error) {
	if bytes.Contains(raw, callbackKey) {
		if u, ok := convertCallbackOnly(p, raw); ok {
			return u, nil
		}
	}
	return convertFull(p, raw)
}

// unmarshal decodes an update: goccy/go-json reads them several times
// faster than encoding/json, with its semantics (FuzzConvertUpdate compares
// the two).
var unmarshal = gojson.Unmarshal

// decode is unmarshal, and encoding/json when unmarshal panics: an update
// is decoded outside any handler's recover, and a panic there would stop
// the bot at the same update after every restart (goccy/go-json has
// panicked on malformed input before).
func decode(raw []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			reflect.ValueOf(v).Elem().SetZero()
			err = json.Unmarshal(raw, v)
		}
	}()
	return unmarshal(raw, v)
}

// convertFull is ConvertUpdate through tgbotapi's whole Update.
func convertFull(p Platform, raw json.RawMessage) (Update, error) {
	var tu tgbotapi.Update
	if err := decode(raw, &tu); err != nil {
		return Update{}, fmt.Errorf("bot: decode update: %w", err)
	}
	if tu.UpdateID <= 0 {
		return Update{}, errors.New("bot: decode update: no update_id")
	}
	u := Update{Platform: p, ID: tu.UpdateID}
	switch {
	case tu.Message != nil:
		u.Kind = KindMessage
		if err := convertMessage(&u, tu.Message); err != nil {
			return Update{}, err
		}
		forwardOrigin(&u, raw, "message")
	case tu.EditedMessage != nil:
		u.Kind = KindEditedMessage
		if err := convertMessage(&u, tu.EditedMessage); err != nil {
			return Update{}, err
		}
		// Editing an old message into "/cancel" must not run a command.
		u.Command, u.CommandArgs = "", ""
		forwardOrigin(&u, raw, "edited_message")
	case tu.CallbackQuery != nil:
		convertCallback(&u, tu.CallbackQuery)
	case tu.MyChatMember != nil:
		m := tu.MyChatMember
		u.Kind = KindMyChatMember
		u.ChatID = m.Chat.ID
		u.ChatType = ChatType(m.Chat.Type)
		u.From = convertUser(&m.From)
		u.MemberStatus = m.NewChatMember.Status
	}
	return u, nil
}

var callbackKey = []byte(`"callback_query"`)

// callbackUpdate is what a callback query's update needs. Decoding only
// this skips the message the button sits on (its text and keyboard), which
// the full decode builds field by field: most updates are button presses.
type callbackUpdate struct {
	UpdateID      int             `json:"update_id"`
	Message       json.RawMessage `json:"message"`
	EditedMessage json.RawMessage `json:"edited_message"`
	CallbackQuery *struct {
		ID      string         `json:"id"`
		From    *tgbotapi.User `json:"from"`
		Data    string         `json:"data"`
		Message *struct {
			MessageID int `json:"message_id"`
			Chat      *struct {
				ID   int64  `json:"id"`
				Type string `json:"type"`
			} `json:"chat"`
		} `json:"message"`
	} `json:"callback_query"`
}

// convertCallbackOnly converts a callback query's update as ConvertUpdate
// does; ok is false when raw is anything else (or not decodable this way),
// and the full decode then decides.
func convertCallbackOnly(p Platform, raw json.RawMessage) (Update, bool) {
	var cu callbackUpdate
	if err := decode(raw, &cu); err != nil || cu.UpdateID <= 0 || cu.CallbackQuery == nil ||
		cu.Message != nil || cu.EditedMessage != nil {
		return Update{}, false
	}
	q := cu.CallbackQuery
	u := Update{Platform: p, ID: cu.UpdateID, Kind: KindCallback, From: convertUser(q.From),
		Callback: &Callback{ID: q.ID, Data: q.Data}}
	if q.Message != nil {
		u.MessageID = q.Message.MessageID
		if q.Message.Chat != nil {
			u.ChatID = q.Message.Chat.ID
			u.ChatType = ChatType(q.Message.Chat.Type)
		}
	}
	return u, true
}

// convertMessage fills u from a message or an edited message.
func convertMessage(u *Update, m *tgbotapi.Message) error {
	if m.Chat == nil {
		return fmt.Errorf("bot: decode update %d: message without chat", u.ID)
	}
	u.ChatID = m.Chat.ID
	u.ChatType = ChatType(m.Chat.Type)
	u.From = convertUser(m.From)
	u.MessageID = m.MessageID
	u.MediaGroupID = m.MediaGroupID
	u.Forwarded = m.ForwardDate != 0 || m.ForwardFrom != nil || m.ForwardFromChat != nil || m.ForwardSenderName != ""
	if m.ForwardFrom != nil {
		u.ForwardFrom = m.ForwardFrom.ID
	}

	u.Text = m.Text
	if u.Text == "" {
		u.Text = m.Caption
	} else {
		u.Command, u.CommandArgs = convertCommand(m.Text, m.Entities)
	}

	switch {
	case m.Contact != nil:
		u.Contact = &Contact{
			PhoneNumber: m.Contact.PhoneNumber,
			FirstName:   m.Contact.FirstName,
			LastName:    m.Contact.LastName,
			UserID:      m.Contact.UserID,
		}
	case m.Venue != nil:
		// A venue is a place with a name; for Mahalle the place is what counts.
		u.Location = &Location{Latitude: m.Venue.Location.Latitude, Longitude: m.Venue.Location.Longitude}
	case m.Location != nil:
		u.Location = &Location{Latitude: m.Location.Latitude, Longitude: m.Location.Longitude}
	case len(m.Photo) > 0:
		u.Photo = largestPhoto(m.Photo)
	case m.Voice != nil:
		u.Voice = &File{
			FileID:       m.Voice.FileID,
			FileUniqueID: m.Voice.FileUniqueID,
			FileSize:     m.Voice.FileSize,
			MimeType:     m.Voice.MimeType,
			Duration:     m.Voice.Duration,
		}
	case m.Animation != nil:
		// Checked before Document: an animation also carries a document field.
		u.Other = "animation"
	case m.Document != nil:
		u.Document = &File{
			FileID:       m.Document.FileID,
			FileUniqueID: m.Document.FileUniqueID,
			FileSize:     m.Document.FileSize,
			MimeType:     m.Document.MimeType,
		}
	default:
		u.Other = otherContent(m)
	}
	return nil
}

// otherContent names a message content Mahalle does not take, "" for a plain
// text message, or "unknown" for a message carrying nothing tgbotapi knows
// (a content kind newer than the library).
func otherContent(m *tgbotapi.Message) string {
	switch {
	case m.Sticker != nil:
		return "sticker"
	case m.Video != nil:
		return "video"
	case m.VideoNote != nil:
		return "video_note"
	case m.Audio != nil:
		return "audio"
	case m.Poll != nil:
		return "poll"
	case m.Dice != nil:
		return "dice"
	case m.Game != nil:
		return "game"
	case m.Invoice != nil, m.SuccessfulPayment != nil:
		return "payment"
	case m.PassportData != nil:
		return "passport"
	case len(m.NewChatMembers) > 0, m.LeftChatMember != nil, m.NewChatTitle != "", len(m.NewChatPhoto) > 0,
		m.DeleteChatPhoto, m.GroupChatCreated, m.SuperGroupChatCreated, m.ChannelChatCreated,
		m.MigrateToChatID != 0, m.MigrateFromChatID != 0, m.PinnedMessage != nil,
		m.MessageAutoDeleteTimerChanged != nil, m.ProximityAlertTriggered != nil,
		m.VoiceChatScheduled != nil, m.VoiceChatStarted != nil, m.VoiceChatEnded != nil,
		m.VoiceChatParticipantsInvited != nil:
		return "service"
	case m.Text != "":
		return ""
	}
	return "unknown"
}

// convertCallback fills u from a callback query. The chat and message are
// those of the message the button sits on; a button on an inline-mode message
// has neither, and the poller then orders the update by its sender.
func convertCallback(u *Update, q *tgbotapi.CallbackQuery) {
	u.Kind = KindCallback
	u.From = convertUser(q.From)
	u.Callback = &Callback{ID: q.ID, Data: q.Data}
	if q.Message != nil {
		u.MessageID = q.Message.MessageID
		if q.Message.Chat != nil {
			u.ChatID = q.Message.Chat.ID
			u.ChatType = ChatType(q.Message.Chat.Type)
		}
	}
}

// convertUser converts a possibly absent sender.
func convertUser(tu *tgbotapi.User) User {
	if tu == nil {
		return User{}
	}
	return User{
		ID:           tu.ID,
		FirstName:    tu.FirstName,
		LastName:     tu.LastName,
		Username:     tu.UserName,
		LanguageCode: tu.LanguageCode,
	}
}

// largestPhoto picks the size with the most pixels; the Bot API lists sizes
// smallest first, so on a tie (or missing dimensions) the later one wins.
func largestPhoto(sizes []tgbotapi.PhotoSize) *File {
	best := 0
	for i, s := range sizes {
		if s.Width*s.Height >= sizes[best].Width*sizes[best].Height {
			best = i
		}
	}
	s := sizes[best]
	return &File{FileID: s.FileID, FileUniqueID: s.FileUniqueID, FileSize: s.FileSize}
}

// convertCommand returns the command ("start", lower-cased, @botname
// stripped) and its arguments when text begins with a bot_command entity.
//
// tgbotapi's Message.Command slices the text with the entity's length as a
// byte count, but the Bot API counts UTF-16 code units, and a malformed
// entity makes it panic; so the entity is measured here in UTF-16.
// When a message has no entities at all (some Bot API implementations do not
// send them), a leading "/word" is taken as a command.
func convertCommand(text string, entities []tgbotapi.MessageEntity) (command, args string) {
	var head string
	switch {
	case len(entities) == 0:
		if !strings.HasPrefix(text, "/") {
			return "", ""
		}
		head, _, _ = strings.Cut(text, " ")
		head, _, _ = strings.Cut(head, "\n")
		if !validCommand(head[1:]) {
			return "", ""
		}
	case entities[0].Type == "bot_command" && entities[0].Offset == 0:
		units := utf16.Encode([]rune(text))
		n := entities[0].Length
		if n < 2 || n > len(units) {
			return "", ""
		}
		head = string(utf16.Decode(units[:n]))
		if !strings.HasPrefix(head, "/") || len(head) > len(text) || text[:len(head)] != head {
			return "", ""
		}
	default:
		return "", ""
	}
	name, _, _ := strings.Cut(head[1:], "@")
	if name == "" {
		return "", ""
	}
	return strings.ToLower(name), strings.TrimSpace(text[len(head):])
}

// CommandTarget returns the bot a command names ("mahalle_bot" for
// "/start@mahalle_bot"), or "" when it names none. In a group, a command
// for another bot is not ours to answer.
func CommandTarget(text string) string {
	head, _, _ := strings.Cut(text, " ")
	head, _, _ = strings.Cut(head, "\n")
	if !strings.HasPrefix(head, "/") {
		return ""
	}
	_, target, _ := strings.Cut(head, "@")
	return target
}

// validCommand reports whether s ("start" or "start@mahalle_bot") looks like a
// Bot API command: 1-32 letters, digits or underscores, then an optional @bot.
func validCommand(s string) bool {
	name, bot, hasBot := strings.Cut(s, "@")
	if name == "" || len(name) > 32 || (hasBot && bot == "") {
		return false
	}
	for _, r := range name + bot {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// forwardOrigin reads the forward_origin of the message under key (Bot API
// 7.0 and later), which tgbotapi v5 does not know: any origin marks the
// update forwarded, and an origin of type "user" names who wrote it.
func forwardOrigin(u *Update, raw json.RawMessage, key string) {
	if !bytes.Contains(raw, []byte(`"forward_origin"`)) {
		return
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return
	}
	var msg struct {
		ForwardOrigin *struct {
			Type       string `json:"type"`
			SenderUser *struct {
				ID int64 `json:"id"`
			} `json:"sender_user"`
		} `json:"forward_origin"`
	}
	if err := json.Unmarshal(top[key], &msg); err != nil || msg.ForwardOrigin == nil {
		return
	}
	u.Forwarded = true
	if o := msg.ForwardOrigin; o.Type == "user" && o.SenderUser != nil && u.ForwardFrom == 0 {
		u.ForwardFrom = o.SenderUser.ID
	}
}
