package bottest

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Chat is a chat a user acts in. An empty Type means "private".
type Chat struct {
	ID    int64
	Type  string // "private", "group", "supergroup" or "channel"
	Title string
}

func (c Chat) typ() string {
	if c.Type == "" {
		return "private"
	}
	return c.Type
}

// User is a person acting through the server.
type User struct {
	ID           int64
	FirstName    string
	LastName     string
	Username     string
	LanguageCode string
}

// Private returns a user and their private chat with the bot; as on
// Telegram, the chat id equals the user id.
func Private(userID int64) (Chat, User) {
	return Chat{ID: userID, Type: "private"},
		User{ID: userID, FirstName: "کاربر", LastName: strconv.FormatInt(userID, 10), LanguageCode: "fa"}
}

// Group returns a group chat with the given id (use a negative id, as
// Telegram does) and title.
func Group(id int64, title string) Chat {
	return Chat{ID: id, Type: "group", Title: title}
}

// queued is an update waiting to be confirmed.
type queued struct {
	id   int
	kind string // "message", "callback_query", ...; empty when unknown (SendRaw)
	data []byte // the whole update object
}

// query is a callback query the server issued.
type query struct {
	updateID  int
	chatID    int64
	messageID int
	answer    CallbackAnswer
}

// file is a file in the server's store.
type file struct {
	id, unique, path string
	name, mime       string
	data             []byte
}

// forwardOrigin is the user ForwardText messages claim to come from.
var forwardOrigin = User{ID: 987654321, FirstName: "فرستنده اصلی"}

// CallbackQueryID is the id of the callback query queued as updateID.
func CallbackQueryID(updateID int) string {
	return "cbq" + strconv.Itoa(updateID)
}

// beginUpdate starts `{"update_id":N,"kind":`.
func beginUpdate(id int, kind string) []byte {
	b := make([]byte, 0, 384)
	b = append(b, `{"update_id":`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, ',', '"')
	b = append(b, kind...)
	return append(b, '"', ':')
}

// beginUserMessage appends the opening fields of a message a user sends;
// the caller appends its content and the closing brace.
func (s *Server) beginUserMessage(b []byte, cs *chatState, from User, messageID int) []byte {
	b = append(b, `{"message_id":`...)
	b = strconv.AppendInt(b, int64(messageID), 10)
	b = append(b, `,"from":`...)
	b = appendUser(b, from, false)
	b = append(b, `,"chat":`...)
	b = appendChat(b, cs.chat, cs.owner)
	return appendIntField(b, "date", s.cfg.now().Unix())
}

// appendBotMessage appends a Message object for a message the bot sent.
func (s *Server) appendBotMessage(b []byte, cs *chatState, m *botMsg) []byte {
	b = append(b, `{"message_id":`...)
	b = strconv.AppendInt(b, int64(m.MessageID), 10)
	b = append(b, `,"from":`...)
	b = append(b, s.botJSON...)
	b = append(b, `,"chat":`...)
	b = appendChat(b, cs.chat, cs.owner)
	b = appendIntField(b, "date", m.date)
	if m.editDate != 0 {
		b = appendIntField(b, "edit_date", m.editDate)
	}
	if m.media != nil {
		b = append(b, ',')
		b = append(b, m.media...)
		b = appendField(b, "caption", m.Text)
	} else {
		b = appendField(b, "text", m.Text)
	}
	if len(m.Inline) > 0 {
		b = append(b, `,"reply_markup":`...)
		b = appendInline(b, m.Inline)
	}
	return append(b, '}')
}

// push queues an update. s.mu must be held.
func (s *Server) push(id int, kind string, data []byte) int {
	s.nextUpdateID = id + 1
	s.lastUpdateID = id
	s.queue = append(s.queue, queued{id: id, kind: kind, data: data})
	if s.updWake != nil {
		close(s.updWake)
		s.updWake = nil
	}
	s.notify()
	return id
}

// userMessage queues a "message" (or kind) update whose content content
// appends. It returns the update id.
func (s *Server) userMessage(kind string, chat Chat, from User, content func(b []byte, id int) []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.userChat(chat, from)
	cs.lastMsgID++
	id := s.nextUpdateID
	b := beginUpdate(id, kind)
	b = s.beginUserMessage(b, cs, from, cs.lastMsgID)
	b = content(b, id)
	b = append(b, '}', '}')
	return s.push(id, kind, b)
}

// commandLength is the length, in UTF-16 units, of the bot command text
// starts with ("/start" or "/start@bot"), or 0.
func commandLength(text string) int {
	if len(text) < 2 || text[0] != '/' {
		return 0
	}
	n := 1
	for n < len(text) && isCommandByte(text[n]) {
		n++
	}
	if n == 1 {
		return 0
	}
	if n < len(text) && text[n] == '@' {
		m := n + 1
		for m < len(text) && isCommandByte(text[m]) {
			m++
		}
		if m > n+1 {
			n = m
		}
	}
	return n // ASCII only, so bytes are UTF-16 units
}

func isCommandByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func appendText(b []byte, text string) []byte {
	b = append(b, `,"text":`...)
	b = appendString(b, text)
	if n := commandLength(text); n > 0 {
		b = append(b, `,"entities":[{"offset":0,"length":`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `,"type":"bot_command"}]`...)
	}
	return b
}

// SendText queues a text message from the user; a text starting with a
// command ("/start", "/start@bot") carries a bot_command entity at offset 0.
// It returns the update id.
func (s *Server) SendText(chat Chat, from User, text string) int {
	return s.userMessage("message", chat, from, func(b []byte, _ int) []byte {
		return appendText(b, text)
	})
}

// ForwardText queues a text message the user forwarded from someone else
// (forward_origin, and the older forward_from / forward_date, are set).
func (s *Server) ForwardText(chat Chat, from User, text string) int {
	return s.ForwardTextFrom(chat, from, &forwardOrigin, text)
}

// ForwardTextFrom queues a text message the user forwarded from origin. A
// nil origin is someone whose privacy settings hide them: the forward
// carries only a name (forward_origin of type "hidden_user").
func (s *Server) ForwardTextFrom(chat Chat, from User, origin *User, text string) int {
	date := s.cfg.now().Add(-time.Hour).Unix()
	return s.userMessage("message", chat, from, func(b []byte, _ int) []byte {
		if origin == nil {
			b = append(b, `,"forward_origin":{"type":"hidden_user","sender_user_name":"کاربر پنهان"`...)
			b = appendIntField(b, "date", date)
			b = append(b, `},"forward_sender_name":"کاربر پنهان"`...)
		} else {
			b = append(b, `,"forward_origin":{"type":"user","sender_user":`...)
			b = appendUser(b, *origin, false)
			b = appendIntField(b, "date", date)
			b = append(b, `},"forward_from":`...)
			b = appendUser(b, *origin, false)
		}
		b = appendIntField(b, "forward_date", date)
		return appendText(b, text)
	})
}

// EditText queues an edited_message: the user changed the text of their
// message messageID.
func (s *Server) EditText(chat Chat, from User, messageID int, text string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.userChat(chat, from)
	id := s.nextUpdateID
	now := s.cfg.now().Unix()
	b := beginUpdate(id, "edited_message")
	b = append(b, `{"message_id":`...)
	b = strconv.AppendInt(b, int64(messageID), 10)
	b = append(b, `,"from":`...)
	b = appendUser(b, from, false)
	b = append(b, `,"chat":`...)
	b = appendChat(b, cs.chat, cs.owner)
	b = appendIntField(b, "date", now-60)
	b = appendIntField(b, "edit_date", now)
	b = appendText(b, text)
	b = append(b, '}', '}')
	return s.push(id, "edited_message", b)
}

// SendContact queues a shared contact. contactUserID is the Telegram user
// the contact belongs to (the sender's own id when they share themselves,
// 0 for a phone-book contact). The contact carries the sender's names.
func (s *Server) SendContact(chat Chat, from User, phone string, contactUserID int64) int {
	return s.userMessage("message", chat, from, func(b []byte, _ int) []byte {
		b = append(b, `,"contact":{"phone_number":`...)
		b = appendString(b, phone)
		b = append(b, `,"first_name":`...)
		b = appendString(b, from.FirstName)
		b = appendField(b, "last_name", from.LastName)
		if contactUserID != 0 {
			b = appendIntField(b, "user_id", contactUserID)
		}
		return append(b, '}')
	})
}

// SendLocation queues a shared location.
func (s *Server) SendLocation(chat Chat, from User, lat, lon float64) int {
	return s.userMessage("message", chat, from, func(b []byte, _ int) []byte {
		b = append(b, `,"location":{"latitude":`...)
		b = appendFloat(b, lat)
		b = append(b, `,"longitude":`...)
		b = appendFloat(b, lon)
		return append(b, '}')
	})
}

// newFile puts a file in the store. s.mu must be held.
func (s *Server) newFile(dir, ext, name, mimeType string, data []byte) *file {
	s.nextFile++
	n := strconv.Itoa(s.nextFile)
	f := &file{
		id:     "BQAC" + dir + "-" + n,
		unique: "AgAD" + n,
		path:   dir + "/file_" + n + ext,
		name:   name,
		mime:   mimeType,
		data:   data,
	}
	s.files[f.id] = f
	s.filePaths[f.path] = f
	return f
}

// fakeBytes is the content of a file a fake user sends: a recognisable
// header and the id, so a test can tell files apart.
func fakeBytes(magic string, id int, size int) []byte {
	b := make([]byte, 0, size)
	b = append(b, magic...)
	b = append(b, "bottest file "...)
	b = strconv.AppendInt(b, int64(id), 10)
	for len(b) < size {
		b = append(b, byte(len(b)))
	}
	return b
}

func appendFileFields(b []byte, f *file) []byte {
	b = append(b, `"file_id":`...)
	b = appendString(b, f.id)
	b = append(b, `,"file_unique_id":`...)
	b = appendString(b, f.unique)
	return appendIntField(b, "file_size", int64(len(f.data)))
}

func appendPhotoSizes(b []byte, sizes []*file, dims [][2]int) []byte {
	b = append(b, `"photo":[`...)
	for i, f := range sizes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = appendFileFields(b, f)
		b = appendIntField(b, "width", int64(dims[i][0]))
		b = appendIntField(b, "height", int64(dims[i][1]))
		b = append(b, '}')
	}
	return append(b, ']')
}

var photoDims = [][2]int{{90, 68}, {320, 240}, {1280, 960}}

// SendPhoto queues a photo with an optional caption; messages sharing a
// mediaGroupID form an album. Three sizes are put in the file store (getFile
// and downloads work); FileID(updateID) is the largest.
func (s *Server) SendPhoto(chat Chat, from User, caption, mediaGroupID string) int {
	return s.userMessage("message", chat, from, func(b []byte, id int) []byte {
		sizes := make([]*file, len(photoDims))
		for i := range sizes {
			sizes[i] = s.newFile("photos", ".jpg", "", "image/jpeg", fakeBytes("\xff\xd8\xff\xe0", id, 256<<i))
		}
		s.setUpdateFile(id, sizes[len(sizes)-1])
		b = append(b, ',')
		b = appendPhotoSizes(b, sizes, photoDims)
		b = appendField(b, "caption", caption)
		return appendField(b, "media_group_id", mediaGroupID)
	})
}

// SendVoice queues a voice message lasting seconds.
func (s *Server) SendVoice(chat Chat, from User, seconds int) int {
	return s.userMessage("message", chat, from, func(b []byte, id int) []byte {
		f := s.newFile("voice", ".oga", "", "audio/ogg", fakeBytes("OggS", id, 512))
		s.setUpdateFile(id, f)
		b = append(b, `,"voice":{`...)
		b = appendFileFields(b, f)
		b = appendIntField(b, "duration", int64(seconds))
		b = appendField(b, "mime_type", f.mime)
		return append(b, '}')
	})
}

// SendDocument queues a document called name; its MIME type follows the
// extension.
func (s *Server) SendDocument(chat Chat, from User, name string) int {
	return s.userMessage("message", chat, from, func(b []byte, id int) []byte {
		ext := path.Ext(name)
		typ := mime.TypeByExtension(ext)
		if typ == "" {
			typ = "application/octet-stream"
		}
		f := s.newFile("documents", ext, name, typ, fakeBytes("%PDF", id, 1024))
		s.setUpdateFile(id, f)
		b = append(b, `,"document":{`...)
		b = appendFileFields(b, f)
		b = appendField(b, "file_name", name)
		b = appendField(b, "mime_type", typ)
		return append(b, '}')
	})
}

// SendSticker queues a sticker.
func (s *Server) SendSticker(chat Chat, from User) int {
	return s.userMessage("message", chat, from, func(b []byte, id int) []byte {
		f := s.newFile("stickers", ".webp", "", "image/webp", fakeBytes("RIFF", id, 256))
		s.setUpdateFile(id, f)
		b = append(b, `,"sticker":{`...)
		b = appendFileFields(b, f)
		b = append(b, `,"width":512,"height":512,"is_animated":false,"is_video":false,"type":"regular","emoji":"👍"}`...)
		return b
	})
}

// SendAnimation queues a GIF animation. As on Telegram, the message also
// carries a document field describing the same file.
func (s *Server) SendAnimation(chat Chat, from User) int {
	return s.userMessage("message", chat, from, func(b []byte, id int) []byte {
		f := s.newFile("animations", ".mp4", "animation.gif.mp4", "video/mp4", fakeBytes("\x00\x00\x00\x18ftyp", id, 512))
		s.setUpdateFile(id, f)
		b = append(b, `,"animation":{`...)
		b = appendFileFields(b, f)
		b = append(b, `,"width":320,"height":240,"duration":3,"file_name":"animation.gif.mp4","mime_type":"video/mp4"}`...)
		b = append(b, `,"document":{`...)
		b = appendFileFields(b, f)
		b = append(b, `,"file_name":"animation.gif.mp4","mime_type":"video/mp4"}`...)
		return b
	})
}

// SendVideo queues a video.
func (s *Server) SendVideo(chat Chat, from User) int {
	return s.userMessage("message", chat, from, func(b []byte, id int) []byte {
		f := s.newFile("videos", ".mp4", "", "video/mp4", fakeBytes("\x00\x00\x00\x18ftyp", id, 1024))
		s.setUpdateFile(id, f)
		b = append(b, `,"video":{`...)
		b = appendFileFields(b, f)
		b = append(b, `,"width":640,"height":360,"duration":10,"mime_type":"video/mp4"}`...)
		return b
	})
}

// setUpdateFile remembers the main file of an update. s.mu must be held.
func (s *Server) setUpdateFile(updateID int, f *file) {
	if s.updateFiles == nil {
		s.updateFiles = make(map[int]string)
	}
	s.updateFiles[updateID] = f.id
}

// FileID returns the file_id of the media the update updateID carries
// (the largest size of a photo); "" when it carries none.
func (s *Server) FileID(updateID int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updateFiles[updateID]
}

// FileData returns the bytes stored under fileID: a file a fake user sent or
// one the bot uploaded.
func (s *Server) FileData(fileID string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[fileID]
	if f == nil {
		return nil, false
	}
	return f.data, true
}

// PutFile stores data as a file named name and returns its file_id, for
// tests that need a file_id the bot can send or download.
func (s *Server) PutFile(name string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	typ := mime.TypeByExtension(path.Ext(name))
	return s.newFile("documents", path.Ext(name), name, typ, data).id
}

// PressButton queues a callback_query: the user pressed the inline button
// with callback data data under the bot's message messageID. The query's id
// is CallbackQueryID(update id); answer it with answerCallbackQuery. The
// message in the query is the bot's message as it is now (a message the
// server does not know is sent as inaccessible, with date 0).
func (s *Server) PressButton(chat Chat, from User, messageID int, data string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pressLocked(chat, from, messageID, data)
}

func (s *Server) pressLocked(chat Chat, from User, messageID int, data string) int {
	cs := s.userChat(chat, from)
	id := s.nextUpdateID
	qid := CallbackQueryID(id)
	s.queries[qid] = &query{updateID: id, chatID: chat.ID, messageID: messageID}
	b := beginUpdate(id, "callback_query")
	b = append(b, `{"id":`...)
	b = appendString(b, qid)
	b = append(b, `,"from":`...)
	b = appendUser(b, from, false)
	b = append(b, `,"message":`...)
	if m := cs.msgs[messageID]; m != nil {
		b = s.appendBotMessage(b, cs, m)
	} else {
		b = append(b, `{"message_id":`...)
		b = strconv.AppendInt(b, int64(messageID), 10)
		b = append(b, `,"chat":`...)
		b = appendChat(b, cs.chat, cs.owner)
		b = append(b, `,"date":0}`...)
	}
	b = append(b, `,"chat_instance":`...)
	b = appendString(b, "ci"+strconv.FormatInt(chat.ID, 10))
	b = append(b, `,"data":`...)
	b = appendString(b, data)
	b = append(b, '}', '}')
	return s.push(id, "callback_query", b)
}

// PressButtonText presses the inline button labelled text under the bot's
// message messageID, as it is now. It fails when the message is unknown,
// deleted, or has no such callback button.
func (s *Server) PressButtonText(chat Chat, from User, messageID int, text string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chat.ID]
	if cs == nil || cs.msgs[messageID] == nil {
		return 0, fmt.Errorf("bottest: chat %d has no bot message %d", chat.ID, messageID)
	}
	m := cs.msgs[messageID]
	if m.Deleted {
		return 0, fmt.Errorf("bottest: message %d of chat %d is deleted", messageID, chat.ID)
	}
	var labels []string
	for _, row := range m.Inline {
		for _, btn := range row {
			if btn.Text == text && btn.CallbackData != "" {
				return s.pressLocked(chat, from, messageID, btn.CallbackData), nil
			}
			labels = append(labels, btn.Text)
		}
	}
	return 0, fmt.Errorf("bottest: message %d of chat %d has no button %q (buttons: %q)", messageID, chat.ID, text, labels)
}

// memberUpdate queues a my_chat_member update moving the bot from oldStatus
// to newStatus.
func (s *Server) memberUpdate(chat Chat, from User, oldStatus, newStatus string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.userChat(chat, from)
	id := s.nextUpdateID
	b := beginUpdate(id, "my_chat_member")
	b = append(b, `{"chat":`...)
	b = appendChat(b, cs.chat, cs.owner)
	b = append(b, `,"from":`...)
	b = appendUser(b, from, false)
	b = appendIntField(b, "date", s.cfg.now().Unix())
	b = append(b, `,"old_chat_member":{"user":`...)
	b = append(b, s.botJSON...)
	b = append(b, `,"status":`...)
	b = appendString(b, oldStatus)
	b = append(b, `},"new_chat_member":{"user":`...)
	b = append(b, s.botJSON...)
	b = append(b, `,"status":`...)
	b = appendString(b, newStatus)
	b = append(b, '}', '}', '}')
	return s.push(id, "my_chat_member", b)
}

// BotAdded queues a my_chat_member update: from added the bot to chat (its
// status goes from "left" to "member").
func (s *Server) BotAdded(chat Chat, from User) int {
	return s.memberUpdate(chat, from, "left", "member")
}

// BotRemoved queues a my_chat_member update: the user blocked the bot in a
// private chat (status "kicked") or removed it from a group ("left"). It
// does not Block the chat.
func (s *Server) BotRemoved(chat Chat, from User) int {
	if chat.typ() == "private" {
		return s.memberUpdate(chat, from, "member", "kicked")
	}
	return s.memberUpdate(chat, from, "member", "left")
}

// updateKinds are the update fields allowed_updates can name.
var updateKinds = map[string]bool{
	"message": true, "edited_message": true, "channel_post": true, "edited_channel_post": true,
	"business_connection": true, "business_message": true, "edited_business_message": true,
	"deleted_business_messages": true, "message_reaction": true, "message_reaction_count": true,
	"inline_query": true, "chosen_inline_result": true, "callback_query": true, "shipping_query": true,
	"pre_checkout_query": true, "purchased_paid_media": true, "poll": true, "poll_answer": true,
	"my_chat_member": true, "chat_member": true, "chat_join_request": true, "chat_boost": true,
	"removed_chat_boost": true,
}

// SendRaw queues an arbitrary update object, which may be one the bot
// cannot decode; its update_id is set (replaced) by the server. raw must be
// a JSON object, else SendRaw panics: the getUpdates answer must stay valid
// JSON.
func (s *Server) SendRaw(raw json.RawMessage) int {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		panic(fmt.Sprintf("bottest: SendRaw needs a JSON object: %v", err))
	}
	kind := ""
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if updateKinds[k] {
			kind = k
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextUpdateID
	fields["update_id"] = json.RawMessage(strconv.Itoa(id))
	b, err := json.Marshal(fields)
	if err != nil {
		panic(fmt.Sprintf("bottest: SendRaw: %v", err))
	}
	return s.push(id, kind, b)
}

// Confirmed is the highest update_id the bot confirmed with an offset (or
// dropped with a negative offset); firstUpdateID-1 before any.
func (s *Server) Confirmed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.confirmed
}

// Pending is the number of updates queued and not yet confirmed.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// AllowedUpdates is the allowed_updates list of the last getUpdates that
// sent one; nil when none did.
func (s *Server) AllowedUpdates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.allowedList...)
}

// LastPoll returns the parameters of the last getUpdates call served.
func (s *Server) LastPoll() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPollParams
}

// WaitPolling blocks until a getUpdates call is being served, typically a
// long poll waiting for updates: the bot under test has started polling.
func (s *Server) WaitPolling(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.polling {
			s.mu.Unlock()
			return nil
		}
		ch := s.waitChange()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-s.done:
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("bottest: no getUpdates in progress: %w", ctx.Err())
		}
	}
}

// inQueue reports whether update id is still queued. s.mu must be held.
func (s *Server) inQueue(id int) bool {
	i := sort.Search(len(s.queue), func(i int) bool { return s.queue[i].id >= id })
	return i < len(s.queue) && s.queue[i].id == id
}

// WaitConfirmed blocks until update updateID has been queued and is no
// longer pending: the bot confirmed it with an offset, or it was dropped
// because allowed_updates excludes its type.
func (s *Server) WaitConfirmed(ctx context.Context, updateID int) error {
	for {
		s.mu.Lock()
		if updateID <= s.lastUpdateID && !s.inQueue(updateID) {
			s.mu.Unlock()
			return nil
		}
		confirmed, pending := s.confirmed, len(s.queue)
		ch := s.waitChange()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-s.done:
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("bottest: update %d not confirmed (confirmed up to %d, %d pending): %w",
				updateID, confirmed, pending, ctx.Err())
		}
	}
}

// confirm applies a getUpdates offset. s.mu must be held.
func (s *Server) confirm(offset int) {
	drop := 0
	switch {
	case offset > 0:
		drop = sort.Search(len(s.queue), func(i int) bool { return s.queue[i].id >= offset })
		s.confirmed = max(s.confirmed, min(offset-1, s.lastUpdateID))
	case offset < 0:
		if keep := -offset; len(s.queue) > keep {
			drop = len(s.queue) - keep
			s.confirmed = max(s.confirmed, s.queue[drop-1].id)
		}
	}
	if drop == 0 {
		return
	}
	n := copy(s.queue, s.queue[drop:])
	clear(s.queue[n:])
	s.queue = s.queue[:n]
	s.notify()
}

// wanted reports whether allowed_updates lets an update kind through.
// s.mu must be held.
func (s *Server) wanted(kind string) bool {
	if kind == "" {
		return true
	}
	if s.allowed == nil {
		return kind != "chat_member" && kind != "message_reaction" && kind != "message_reaction_count"
	}
	return s.allowed[kind]
}

// collect gathers up to limit deliverable updates, dropping the ones
// allowed_updates excludes on the way. s.mu must be held.
func (s *Server) collect(limit int, out [][]byte) [][]byte {
	dropped := false
	for i := 0; i < len(s.queue) && len(out) < limit; i++ {
		q := s.queue[i]
		if s.wanted(q.kind) {
			out = append(out, q.data)
			continue
		}
		copy(s.queue[i:], s.queue[i+1:])
		s.queue[len(s.queue)-1] = queued{}
		s.queue = s.queue[:len(s.queue)-1]
		i--
		dropped = true
	}
	if dropped {
		s.notify()
	}
	return out
}

// getUpdates serves https://core.telegram.org/bots/api#getupdates.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, p url.Values) {
	offset, err1 := intParam(p, "offset", 0)
	limit, err2 := intParam(p, "limit", 100)
	timeout, err3 := intParam(p, "timeout", 0)
	if err1 != nil || err2 != nil || err3 != nil {
		s.writeError(w, http.StatusBadRequest, "Bad Request: invalid offset, limit or timeout", 0)
		return
	}
	limit = min(max(limit, 1), 100)
	wait := time.Duration(max(timeout, 0)) * time.Second
	if s.cfg.longPollCap > 0 && wait > s.cfg.longPollCap {
		wait = s.cfg.longPollCap
	}
	var allowed []string
	// tgbotapi sends "null" when no list is set: that keeps the previous one.
	rawAllowed := p.Get("allowed_updates")
	setAllowed := rawAllowed != "" && rawAllowed != "null"
	if setAllowed {
		if err := json.Unmarshal([]byte(rawAllowed), &allowed); err != nil {
			s.writeError(w, http.StatusBadRequest, "Bad Request: can't parse allowed updates", 0)
			return
		}
	}

	s.mu.Lock()
	if s.conflict || s.polling {
		s.mu.Unlock()
		s.writeError(w, http.StatusConflict, DescConflict, 0)
		return
	}
	s.lastPollParams = p
	if setAllowed {
		s.allowedList = allowed
		s.allowed = nil
		if len(allowed) > 0 {
			s.allowed = make(map[string]bool, len(allowed))
			for _, k := range allowed {
				s.allowed[k] = true
			}
		}
	}
	s.confirm(offset)
	s.polling = true
	s.notify()
	var timer *time.Timer
	var batch [][]byte
	for {
		batch = s.collect(limit, batch[:0])
		if len(batch) > 0 || wait <= 0 {
			break
		}
		ch := s.updWake
		if ch == nil {
			ch = make(chan struct{})
			s.updWake = ch
		}
		s.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		select {
		case <-ch:
		case <-timer.C:
			wait = 0
		case <-r.Context().Done():
			s.mu.Lock()
			s.polling = false
			s.mu.Unlock()
			return
		case <-s.done:
			wait = 0
		}
		s.mu.Lock()
	}
	// Clear the flag before answering: a client that polls again as soon as
	// it reads this answer must not meet its own request as a conflict.
	s.polling = false
	s.mu.Unlock()

	bp := s.getBuf()
	b := append(*bp, `{"ok":true,"result":[`...)
	for i, u := range batch {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, u...)
	}
	b = append(b, ']', '}')
	*bp = b
	s.writeJSON(w, http.StatusOK, b)
	s.putBuf(bp)
}

// intParam reads an integer parameter, def when absent.
func intParam(p url.Values, key string, def int) (int, error) {
	v := p.Get(key)
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(strings.TrimSpace(v))
}

// utf16Len counts UTF-16 code units, Telegram's measure of text length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}
