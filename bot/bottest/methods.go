package bottest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
)

// Limits Telegram enforces, in UTF-16 code units.
const (
	maxTextLen         = 4096
	maxCaptionLen      = 1024
	maxCallbackDataLen = 64 // bytes
	maxAnswerTextLen   = 200
)

// markup is a parsed reply_markup parameter.
type markup struct {
	raw      json.RawMessage
	inline   [][]InlineButton
	keyboard [][]KeyboardButton
	remove   bool
}

type wireMarkup struct {
	InlineKeyboard [][]wireInlineButton `json:"inline_keyboard"`
	Keyboard       [][]wireKeyButton    `json:"keyboard"`
	RemoveKeyboard bool                 `json:"remove_keyboard"`
	ForceReply     bool                 `json:"force_reply"`
}

type wireInlineButton struct {
	Text                         *string         `json:"text"`
	CallbackData                 *string         `json:"callback_data"`
	URL                          *string         `json:"url"`
	SwitchInlineQuery            *string         `json:"switch_inline_query"`
	SwitchInlineQueryCurrentChat *string         `json:"switch_inline_query_current_chat"`
	LoginURL                     json.RawMessage `json:"login_url"`
	WebApp                       json.RawMessage `json:"web_app"`
	CopyText                     json.RawMessage `json:"copy_text"`
	CallbackGame                 json.RawMessage `json:"callback_game"`
	Pay                          bool            `json:"pay"`
}

type wireKeyButton struct {
	Text            string `json:"text"`
	RequestContact  bool   `json:"request_contact"`
	RequestLocation bool   `json:"request_location"`
}

// UnmarshalJSON accepts a plain string for a text-only button, as Telegram does.
func (k *wireKeyButton) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &k.Text)
	}
	type plain wireKeyButton
	return json.Unmarshal(b, (*plain)(k))
}

// markupCache remembers parsed reply_markup values: a bot sends the same
// keyboards over and over, and decoding JSON is the costliest step of a
// send. Parsed markups are shared and never modified.
var markupCache = struct {
	sync.Mutex
	m map[string]parsedMarkup
}{m: make(map[string]parsedMarkup)}

type parsedMarkup struct {
	mk   markup
	desc string
}

const markupCacheSize = 4096

// parseMarkup validates a reply_markup parameter; desc is Telegram's error
// description when it is not acceptable.
func parseMarkup(raw string) (markup, string) {
	if raw == "" {
		return markup{}, ""
	}
	markupCache.Lock()
	pm, ok := markupCache.m[raw]
	markupCache.Unlock()
	if ok {
		return pm.mk, pm.desc
	}
	mk, desc := decodeMarkup(raw)
	markupCache.Lock()
	if len(markupCache.m) >= markupCacheSize {
		clear(markupCache.m)
	}
	markupCache.m[raw] = parsedMarkup{mk, desc}
	markupCache.Unlock()
	return mk, desc
}

func decodeMarkup(raw string) (mk markup, desc string) {
	var w wireMarkup
	if err := json.Unmarshal([]byte(raw), &w); err != nil {
		return mk, DescMarkupJSON
	}
	mk.raw = json.RawMessage(raw)
	mk.remove = w.RemoveKeyboard
	for _, row := range w.InlineKeyboard {
		out := make([]InlineButton, 0, len(row))
		for _, b := range row {
			if b.Text == nil || *b.Text == "" {
				return markup{}, `Bad Request: can't parse inline keyboard button: Can't find field "text"`
			}
			btn := InlineButton{Text: *b.Text}
			switch {
			case b.CallbackData != nil:
				if n := len(*b.CallbackData); n < 1 || n > maxCallbackDataLen {
					return markup{}, DescButtonData
				}
				btn.CallbackData = *b.CallbackData
			case b.URL != nil:
				if u, err := url.Parse(*b.URL); err != nil || u.Scheme == "" {
					return markup{}, "Bad Request: BUTTON_URL_INVALID"
				}
				btn.URL = *b.URL
			case b.SwitchInlineQuery != nil, b.SwitchInlineQueryCurrentChat != nil, b.LoginURL != nil,
				b.WebApp != nil, b.CopyText != nil, b.CallbackGame != nil, b.Pay:
			default:
				return markup{}, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
			}
			out = append(out, btn)
		}
		mk.inline = append(mk.inline, out)
	}
	for _, row := range w.Keyboard {
		out := make([]KeyboardButton, 0, len(row))
		for _, b := range row {
			if b.Text == "" {
				return markup{}, `Bad Request: can't parse keyboard button: Can't find field "text"`
			}
			out = append(out, KeyboardButton(b))
		}
		mk.keyboard = append(mk.keyboard, out)
	}
	return mk, ""
}

func sameInline(a, b [][]InlineButton) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

// checkText validates a message text or caption.
func checkText(text string, limit int, emptyDesc, longDesc string) string {
	if emptyDesc != "" && strings.TrimSpace(text) == "" {
		return emptyDesc
	}
	if utf16Len(strings.TrimSpace(text)) > limit {
		return longDesc
	}
	return ""
}

// chatIDParam reads chat_id; desc is the error description when it is
// missing or not a numeric id (channel usernames are not supported).
func chatIDParam(p url.Values) (int64, string) {
	v := p.Get("chat_id")
	if v == "" {
		return 0, DescChatIDEmpty
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id == 0 {
		return 0, DescChatNotFound
	}
	return id, ""
}

// target returns the chat a send goes to, or the error to answer. s.mu
// must be held.
func (s *Server) target(chatID int64) (*chatState, int, string) {
	cs := s.chats[chatID]
	if s.cfg.knownChatsOnly && (cs == nil || !cs.known) {
		return nil, http.StatusBadRequest, DescChatNotFound
	}
	if cs == nil {
		cs = s.chat(chatID)
	}
	if cs.blocked {
		return nil, http.StatusForbidden, DescBlocked
	}
	return cs, 0, ""
}

// applyKeyboard tracks the reply keyboard the user sees. s.mu must be held.
func applyKeyboard(cs *chatState, mk markup) {
	switch {
	case mk.keyboard != nil:
		cs.keyboard = mk.keyboard
	case mk.remove:
		cs.keyboard = nil
	}
}

func (s *Server) bad(w http.ResponseWriter, desc string) {
	s.writeError(w, http.StatusBadRequest, desc, 0)
}

// answerMessage records sent and answers with message m. It unlocks s.mu.
func (s *Server) answerMessage(w http.ResponseWriter, cs *chatState, m *botMsg, sent Sent) {
	sent = s.record(sent, cs)
	bp := s.getBuf()
	b := append(*bp, `{"ok":true,"result":`...)
	b = s.appendBotMessage(b, cs, m)
	*bp = append(b, '}')
	s.mu.Unlock()
	s.observe(sent)
	s.writeJSON(w, http.StatusOK, *bp)
	s.putBuf(bp)
}

// sendMessage serves https://core.telegram.org/bots/api#sendmessage.
func (s *Server) sendMessage(w http.ResponseWriter, _ *http.Request, p url.Values) {
	chatID, desc := chatIDParam(p)
	if desc != "" {
		s.bad(w, desc)
		return
	}
	text := p.Get("text")
	if desc := checkText(text, maxTextLen, DescTextEmpty, DescTextTooLong); desc != "" {
		s.bad(w, desc)
		return
	}
	mk, desc := parseMarkup(p.Get("reply_markup"))
	if desc != "" {
		s.bad(w, desc)
		return
	}

	s.mu.Lock()
	cs, code, desc := s.target(chatID)
	if code != 0 {
		s.mu.Unlock()
		s.writeError(w, code, desc, 0)
		return
	}
	cs.lastMsgID++
	m := &botMsg{
		Message: Message{ChatID: chatID, MessageID: cs.lastMsgID, Method: "sendMessage", Text: text, Inline: mk.inline},
		date:    s.cfg.now().Unix(),
	}
	s.storeMsg(cs, m)
	applyKeyboard(cs, mk)
	s.answerMessage(w, cs, m, Sent{
		Method: "sendMessage", ChatID: chatID, MessageID: m.MessageID, Text: text,
		ReplyMarkup: mk.raw, Inline: mk.inline, Keyboard: mk.keyboard, RemoveKeyboard: mk.remove,
		Params: p,
	})
}

// upload is a file a send call carries.
type upload struct {
	fileID string // an existing file
	url    string // a file Telegram would fetch
	name   string
	data   []byte
	ok     bool
}

// readUpload finds the file of field: a multipart part, "attach://<part>",
// a URL or a file_id.
func readUpload(r *http.Request, p url.Values, field string) (upload, error) {
	part := field
	v := p.Get(field)
	if name, ok := strings.CutPrefix(v, "attach://"); ok {
		part, v = name, ""
	}
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File[part]; len(fhs) > 0 {
			f, err := fhs[0].Open()
			if err != nil {
				return upload{}, err
			}
			defer f.Close()
			data, err := io.ReadAll(f)
			if err != nil {
				return upload{}, err
			}
			return upload{name: fhs[0].Filename, data: data, ok: true}, nil
		}
	}
	switch {
	case v == "":
		return upload{}, nil
	case strings.HasPrefix(v, "http://"), strings.HasPrefix(v, "https://"):
		return upload{url: v, name: path.Base(v), ok: true}, nil
	}
	return upload{fileID: v, ok: true}, nil
}

// sendMedia serves https://core.telegram.org/bots/api#sendphoto and
// https://core.telegram.org/bots/api#senddocument.
func (s *Server) sendMedia(w http.ResponseWriter, r *http.Request, p url.Values) {
	method := canonical(methodOf(r))
	field := "photo"
	if method == "sendDocument" {
		field = "document"
	}
	chatID, desc := chatIDParam(p)
	if desc != "" {
		s.bad(w, desc)
		return
	}
	caption := p.Get("caption")
	if desc := checkText(caption, maxCaptionLen, "", DescCaptionTooLong); desc != "" {
		s.bad(w, desc)
		return
	}
	mk, desc := parseMarkup(p.Get("reply_markup"))
	if desc != "" {
		s.bad(w, desc)
		return
	}
	up, err := readUpload(r, p, field)
	if err != nil {
		s.bad(w, "Bad Request: can't read the uploaded file")
		return
	}
	if !up.ok {
		s.bad(w, "Bad Request: there is no "+field+" in the request")
		return
	}

	s.mu.Lock()
	var f *file
	if up.fileID != "" {
		if f = s.files[up.fileID]; f == nil {
			s.mu.Unlock()
			s.bad(w, DescWrongFile)
			return
		}
	}
	cs, code, desc := s.target(chatID)
	if code != 0 {
		s.mu.Unlock()
		s.writeError(w, code, desc, 0)
		return
	}
	switch {
	case f != nil:
	case field == "photo":
		f = s.newFile("photos", ".jpg", up.name, "image/jpeg", up.data)
	default:
		typ := mime.TypeByExtension(path.Ext(up.name))
		if typ == "" {
			typ = "application/octet-stream"
		}
		f = s.newFile("documents", path.Ext(up.name), up.name, typ, up.data)
	}
	var media []byte
	if field == "photo" {
		media = appendPhotoSizes(nil, []*file{f}, photoDims[2:])
	} else {
		media = append(media, `"document":{`...)
		media = appendFileFields(media, f)
		name := f.name
		if name == "" {
			name = path.Base(f.path)
		}
		media = appendField(media, "file_name", name)
		media = appendField(media, "mime_type", f.mime)
		media = append(media, '}')
	}
	cs.lastMsgID++
	m := &botMsg{
		Message: Message{ChatID: chatID, MessageID: cs.lastMsgID, Method: method, Text: caption, Inline: mk.inline, FileID: f.id},
		date:    s.cfg.now().Unix(),
		media:   media,
	}
	s.storeMsg(cs, m)
	applyKeyboard(cs, mk)
	s.answerMessage(w, cs, m, Sent{
		Method: method, ChatID: chatID, MessageID: m.MessageID, Text: caption, FileID: f.id,
		ReplyMarkup: mk.raw, Inline: mk.inline, Keyboard: mk.keyboard, RemoveKeyboard: mk.remove,
		Params: p,
	})
}

// sendChatAction serves https://core.telegram.org/bots/api#sendchataction.
// It is recorded but not counted for the chat.
func (s *Server) sendChatAction(w http.ResponseWriter, _ *http.Request, p url.Values) {
	chatID, desc := chatIDParam(p)
	if desc != "" {
		s.bad(w, desc)
		return
	}
	if p.Get("action") == "" {
		s.bad(w, "Bad Request: wrong parameter action in request")
		return
	}
	s.mu.Lock()
	_, code, desc := s.target(chatID)
	if code != 0 {
		s.mu.Unlock()
		s.writeError(w, code, desc, 0)
		return
	}
	sent := s.record(Sent{Method: "sendChatAction", ChatID: chatID, Text: p.Get("action"), Params: p}, nil)
	s.mu.Unlock()
	s.observe(sent)
	s.writeOK(w, trueResult)
}

// editMessage serves https://core.telegram.org/bots/api#editmessagetext,
// #editmessagecaption and #editmessagereplymarkup. As on Telegram, an edit
// without reply_markup removes the inline keyboard.
func (s *Server) editMessage(w http.ResponseWriter, r *http.Request, p url.Values) {
	method := canonical(methodOf(r))
	if p.Get("inline_message_id") != "" {
		s.bad(w, DescEditNotFound) // inline-mode messages are not modelled
		return
	}
	chatID, desc := chatIDParam(p)
	if desc != "" {
		s.bad(w, desc)
		return
	}
	messageID, err := strconv.Atoi(p.Get("message_id"))
	if err != nil || messageID <= 0 {
		s.bad(w, "Bad Request: message identifier is not specified")
		return
	}
	text := p.Get("text")
	switch method {
	case "editMessageText":
		desc = checkText(text, maxTextLen, DescTextEmpty, DescTextTooLong)
	case "editMessageCaption":
		text = p.Get("caption")
		desc = checkText(text, maxCaptionLen, "", DescCaptionTooLong)
	}
	if desc != "" {
		s.bad(w, desc)
		return
	}
	mk, desc := parseMarkup(p.Get("reply_markup"))
	if desc != "" {
		s.bad(w, desc)
		return
	}
	if mk.keyboard != nil || mk.remove {
		s.bad(w, "Bad Request: inline keyboard expected")
		return
	}

	s.mu.Lock()
	cs, code, desc := s.target(chatID)
	if code != 0 {
		s.mu.Unlock()
		s.writeError(w, code, desc, 0)
		return
	}
	m := cs.msgs[messageID]
	if m == nil && !s.cfg.record && messageID <= cs.forgotten {
		// Evicted WithoutRecording: accept the edit rather than fail the benchmark.
		m = &botMsg{Message: Message{ChatID: chatID, MessageID: messageID, Method: "sendMessage"}, date: s.cfg.now().Unix()}
		s.storeMsg(cs, m)
	}
	switch {
	case m == nil || m.Deleted:
		desc = DescEditNotFound
	case method == "editMessageText" && m.media != nil:
		desc = "Bad Request: there is no text in the message to edit"
	case method == "editMessageCaption" && m.media == nil:
		desc = "Bad Request: there is no caption in the message to edit"
	case method == "editMessageReplyMarkup" && sameInline(m.Inline, mk.inline),
		method != "editMessageReplyMarkup" && m.Text == text && sameInline(m.Inline, mk.inline):
		desc = DescNotModified
	}
	if desc != "" {
		s.mu.Unlock()
		s.bad(w, desc)
		return
	}
	if method != "editMessageReplyMarkup" {
		m.Text = text
	}
	m.Inline = mk.inline
	m.Edits++
	m.editDate = s.cfg.now().Unix()
	s.answerMessage(w, cs, m, Sent{
		Method: method, ChatID: chatID, MessageID: messageID, Text: m.Text,
		ReplyMarkup: mk.raw, Inline: mk.inline, FileID: m.FileID, Params: p,
	})
}

// deleteMessage serves https://core.telegram.org/bots/api#deletemessage.
// Messages of users are not stored: deleting one (an id the chat has seen)
// always succeeds.
func (s *Server) deleteMessage(w http.ResponseWriter, _ *http.Request, p url.Values) {
	chatID, desc := chatIDParam(p)
	if desc != "" {
		s.bad(w, desc)
		return
	}
	messageID, err := strconv.Atoi(p.Get("message_id"))
	if err != nil || messageID <= 0 {
		s.bad(w, "Bad Request: message identifier is not specified")
		return
	}
	s.mu.Lock()
	cs, code, desc := s.target(chatID)
	if code != 0 {
		s.mu.Unlock()
		s.writeError(w, code, desc, 0)
		return
	}
	m := cs.msgs[messageID]
	switch {
	case m != nil && !m.Deleted:
		m.Deleted = true
	case m == nil && messageID <= cs.lastMsgID:
	default:
		s.mu.Unlock()
		s.bad(w, DescDeleteNotFound)
		return
	}
	sent := s.record(Sent{Method: "deleteMessage", ChatID: chatID, MessageID: messageID, Params: p}, cs)
	s.mu.Unlock()
	s.observe(sent)
	s.writeOK(w, trueResult)
}

// answerCallbackQuery serves https://core.telegram.org/bots/api#answercallbackquery.
// A query can be answered once; WithoutRecording an answered query is then
// forgotten.
func (s *Server) answerCallbackQuery(w http.ResponseWriter, _ *http.Request, p url.Values) {
	qid := p.Get("callback_query_id")
	text := p.Get("text")
	if utf16Len(text) > maxAnswerTextLen {
		s.bad(w, "Bad Request: MESSAGE_TOO_LONG")
		return
	}
	alert, _ := strconv.ParseBool(p.Get("show_alert"))
	s.mu.Lock()
	q := s.queries[qid]
	if q == nil || q.answer.Answered {
		s.mu.Unlock()
		s.bad(w, DescQueryTooOld)
		return
	}
	q.answer = CallbackAnswer{Answered: true, Text: text, ShowAlert: alert, URL: p.Get("url")}
	if !s.cfg.record {
		delete(s.queries, qid)
	}
	sent := s.record(Sent{
		Method: "answerCallbackQuery", ChatID: q.chatID, MessageID: q.messageID, Text: text,
		CallbackQueryID: qid, ShowAlert: alert, Params: p,
	}, nil)
	s.mu.Unlock()
	s.observe(sent)
	s.writeOK(w, trueResult)
}

// getFile serves https://core.telegram.org/bots/api#getfile.
func (s *Server) getFile(w http.ResponseWriter, _ *http.Request, p url.Values) {
	s.mu.Lock()
	f := s.files[p.Get("file_id")]
	s.mu.Unlock()
	if f == nil {
		s.bad(w, DescInvalidFileID)
		return
	}
	b := []byte(`{`)
	b = appendFileFields(b, f)
	b = appendField(b, "file_path", f.path)
	s.writeOK(w, append(b, '}'))
}

// serveFile serves a download, /file/bot<token>/<file_path>.
func (s *Server) serveFile(w http.ResponseWriter, filePath string) {
	s.mu.Lock()
	f := s.filePaths[filePath]
	s.mu.Unlock()
	if f == nil {
		s.writeError(w, http.StatusNotFound, DescNotFound, 0)
		return
	}
	typ := f.mime
	if typ == "" {
		typ = "application/octet-stream"
	}
	w.Header().Set("Content-Type", typ)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(f.data)
}

// sendMediaGroup serves https://core.telegram.org/bots/api#sendmediagroup
// for albums of 2-10 photos given by file_id or uploaded ("attach://<part>"
// of a multipart request). Each photo becomes a message and is recorded as
// a call of its own (Method "sendMediaGroup").
func (s *Server) sendMediaGroup(w http.ResponseWriter, r *http.Request, p url.Values) {
	chatID, desc := chatIDParam(p)
	if desc != "" {
		s.bad(w, desc)
		return
	}
	var media []struct {
		Type    string `json:"type"`
		Media   string `json:"media"`
		Caption string `json:"caption"`
	}
	if err := json.Unmarshal([]byte(p.Get("media")), &media); err != nil {
		s.bad(w, "Bad Request: can't parse media JSON object")
		return
	}
	if len(media) < 2 || len(media) > 10 {
		s.bad(w, "Bad Request: wrong number of media in the album: must include 2-10 items")
		return
	}
	for _, m := range media {
		if m.Type != "photo" {
			s.bad(w, "Bad Request: only photo albums are modelled")
			return
		}
		if desc := checkText(m.Caption, maxCaptionLen, "", DescCaptionTooLong); desc != "" {
			s.bad(w, desc)
			return
		}
	}

	uploads := make([]upload, len(media))
	for i, m := range media {
		if !strings.HasPrefix(m.Media, "attach://") {
			continue
		}
		up, err := readUpload(r, url.Values{"media": {m.Media}}, "media")
		if err != nil || up.data == nil {
			s.bad(w, "Bad Request: can't read the uploaded file")
			return
		}
		uploads[i] = up
	}

	s.mu.Lock()
	files := make([]*file, len(media))
	for i, m := range media {
		if uploads[i].data != nil {
			files[i] = s.newFile("photos", ".jpg", uploads[i].name, "image/jpeg", uploads[i].data)
			continue
		}
		if files[i] = s.files[m.Media]; files[i] == nil {
			s.mu.Unlock()
			s.bad(w, DescWrongFile)
			return
		}
	}
	cs, code, desc := s.target(chatID)
	if code != 0 {
		s.mu.Unlock()
		s.writeError(w, code, desc, 0)
		return
	}
	group := "album" + strconv.Itoa(cs.lastMsgID+1)
	out := []byte(`{"ok":true,"result":[`)
	var sents []Sent
	for i, m := range media {
		cs.lastMsgID++
		bm := &botMsg{
			Message: Message{ChatID: chatID, MessageID: cs.lastMsgID, Method: "sendMediaGroup", Text: m.Caption, FileID: files[i].id},
			date:    s.cfg.now().Unix(),
			media:   append(appendPhotoSizes(nil, []*file{files[i]}, photoDims[2:]), `,"media_group_id":"`+group+`"`...),
		}
		s.storeMsg(cs, bm)
		sents = append(sents, s.record(Sent{Method: "sendMediaGroup", ChatID: chatID, MessageID: bm.MessageID,
			Text: m.Caption, FileID: files[i].id, Params: p}, cs))
		if i > 0 {
			out = append(out, ',')
		}
		out = s.appendBotMessage(out, cs, bm)
	}
	s.mu.Unlock()
	for _, sent := range sents {
		s.observe(sent)
	}
	s.writeJSON(w, http.StatusOK, append(out, "]}"...))
}
