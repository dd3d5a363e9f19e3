package bottest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ErrClosed is returned by the Wait methods when the server closes first.
var ErrClosed = errors.New("bottest: server closed")

// Sent is one successful call the bot made, as the server recorded it.
type Sent struct {
	Method    string
	ChatID    int64  // chat_id; for answerCallbackQuery the chat of the query's message
	MessageID int    // the message sent, edited or deleted; the query's message for answerCallbackQuery
	Text      string // text, caption, or the callback answer's text

	ReplyMarkup    json.RawMessage    // reply_markup as sent, nil when absent
	Inline         [][]InlineButton   // parsed inline keyboard
	Keyboard       [][]KeyboardButton // parsed reply keyboard
	RemoveKeyboard bool               // reply_markup asked to remove the reply keyboard

	CallbackQueryID string // answerCallbackQuery
	ShowAlert       bool   // answerCallbackQuery
	FileID          string // the photo or document sent (the largest photo size)

	Params url.Values // every parameter as received; do not modify
	At     time.Time
	Seq    int64 // 1, 2, 3... across all recorded calls, in the order served
}

// String is a one-line summary used in wait errors.
func (s Sent) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s", s.Seq, s.Method)
	if s.ChatID != 0 {
		fmt.Fprintf(&b, " chat=%d", s.ChatID)
	}
	if s.MessageID != 0 {
		fmt.Fprintf(&b, " msg=%d", s.MessageID)
	}
	if s.Text != "" {
		fmt.Fprintf(&b, " %q", s.Text)
	}
	for _, row := range s.Inline {
		for _, btn := range row {
			fmt.Fprintf(&b, " [%s|%s%s]", btn.Text, btn.CallbackData, btn.URL)
		}
	}
	for _, row := range s.Keyboard {
		for _, btn := range row {
			fmt.Fprintf(&b, " (%s)", btn.Text)
		}
	}
	return b.String()
}

// InlineButton is a button of an inline keyboard.
type InlineButton struct {
	Text         string
	CallbackData string
	URL          string
}

// KeyboardButton is a button of a reply keyboard.
type KeyboardButton struct {
	Text            string
	RequestContact  bool
	RequestLocation bool
}

// Message is the current state of a message the bot sent.
type Message struct {
	ChatID    int64
	MessageID int
	Method    string // sendMessage, sendPhoto or sendDocument
	Text      string // text, or caption of a photo or document
	Inline    [][]InlineButton
	FileID    string // photo (largest size) or document
	Edits     int    // successful edits so far
	Deleted   bool
}

// CallbackAnswer is how the bot answered a callback query.
type CallbackAnswer struct {
	Answered  bool
	Text      string
	ShowAlert bool
	URL       string
}

// botMsg is a message the bot sent, with what its JSON needs.
type botMsg struct {
	Message
	date     int64
	editDate int64
	media    []byte // `"photo":[...]` or `"document":{...}`, without braces around
}

// chatState is everything the server knows about one chat.
type chatState struct {
	chat      Chat
	owner     User // the user of a private chat
	known     bool // a user wrote from this chat
	lastMsgID int  // message ids are per chat, shared by users and the bot
	msgs      map[int]*botMsg
	order     []int // bot message ids, oldest first (only without recording)
	forgotten int   // highest message id dropped from msgs (only without recording)
	sent      []int // indexes into Server.sent
	count     int   // recorded per-chat calls, also without recording
	keyboard  [][]KeyboardButton
	blocked   bool
}

// chat returns the state of a chat, creating it. s.mu must be held.
func (s *Server) chat(id int64) *chatState {
	cs := s.chats[id]
	if cs == nil {
		cs = &chatState{chat: Chat{ID: id}, msgs: make(map[int]*botMsg)}
		switch {
		case id > 0:
			cs.chat.Type = "private"
			cs.owner = User{ID: id}
		case id < -1_000_000_000_000:
			cs.chat.Type = "supergroup"
		default:
			cs.chat.Type = "group"
		}
		s.chats[id] = cs
	}
	return cs
}

// userChat registers a chat a user acts in. s.mu must be held.
func (s *Server) userChat(c Chat, from User) *chatState {
	cs := s.chat(c.ID)
	cs.known = true
	cs.chat.Type = c.typ()
	if c.Title != "" {
		cs.chat.Title = c.Title
	}
	if cs.chat.Type == "private" {
		cs.owner = from
	}
	return cs
}

// storeMsg keeps a message the bot sent. Without recording only the last
// few of each chat are kept. s.mu must be held.
func (s *Server) storeMsg(cs *chatState, m *botMsg) {
	cs.msgs[m.MessageID] = m
	if s.cfg.record {
		return
	}
	cs.order = append(cs.order, m.MessageID)
	if len(cs.order) > s.cfg.keepMessages {
		old := cs.order[0]
		delete(cs.msgs, old)
		cs.forgotten = max(cs.forgotten, old)
		n := copy(cs.order, cs.order[1:])
		cs.order = cs.order[:n]
	}
}

// record numbers a successful call, keeps it and wakes waiters. cs is the
// chat the call is counted for, nil when it is not a per-chat call. s.mu
// must be held.
func (s *Server) record(sent Sent, cs *chatState) Sent {
	s.seq++
	sent.Seq = s.seq
	sent.At = s.cfg.now()
	if cs != nil {
		cs.count++
	}
	if s.cfg.record {
		if cs != nil {
			cs.sent = append(cs.sent, len(s.sent))
		}
		s.sent = append(s.sent, sent)
	}
	s.notify()
	return sent
}

// observe runs the OnSend hook, outside the lock.
func (s *Server) observe(sent Sent) {
	if fn := s.onSend.Load(); fn != nil {
		(*fn)(sent)
	}
}

// notify wakes everyone waiting for a change. s.mu must be held.
func (s *Server) notify() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// waitChange returns a channel closed at the next change. s.mu must be held.
func (s *Server) waitChange() <-chan struct{} {
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

// Sent returns every recorded call in the order served: all successful calls
// except the read-only ones (getUpdates, getMe, getFile, getWebhookInfo,
// getMyCommands, downloads). Empty WithoutRecording.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// SentTo returns the recorded calls for one chat: sendMessage, sendPhoto,
// sendDocument, edits and deleteMessage (not sendChatAction, not
// answerCallbackQuery). Empty WithoutRecording.
func (s *Server) SentTo(chatID int64) []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentToLocked(chatID)
}

func (s *Server) sentToLocked(chatID int64) []Sent {
	cs := s.chats[chatID]
	if cs == nil {
		return nil
	}
	out := make([]Sent, len(cs.sent))
	for i, idx := range cs.sent {
		out[i] = s.sent[idx]
	}
	return out
}

// SentCount is the number of per-chat calls (those SentTo lists) recorded for
// chatID; it is kept also WithoutRecording.
func (s *Server) SentCount(chatID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.chats[chatID]; cs != nil {
		return cs.count
	}
	return 0
}

// WaitSent blocks until chatID has at least n per-chat calls recorded and
// returns them all (nil WithoutRecording). When ctx ends first it returns
// what arrived and an error listing it; ErrClosed when the server closes.
func (s *Server) WaitSent(ctx context.Context, chatID int64, n int) ([]Sent, error) {
	for {
		s.mu.Lock()
		count := 0
		if cs := s.chats[chatID]; cs != nil {
			count = cs.count
		}
		got := s.sentToLocked(chatID)
		if count >= n {
			s.mu.Unlock()
			return got, nil
		}
		ch := s.waitChange()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-s.done:
			return got, ErrClosed
		case <-ctx.Done():
			return got, fmt.Errorf("bottest: chat %d got %d of %d calls: %w%s", chatID, count, n, ctx.Err(), list(got))
		}
	}
}

func list(sent []Sent) string {
	var b strings.Builder
	for _, x := range sent {
		b.WriteString("\n\t")
		b.WriteString(x.String())
	}
	return b.String()
}

// WaitFor returns the first recorded call, past or future, for which pred
// is true. pred runs outside the server's lock. When ctx ends first the
// error lists the calls recorded; WithoutRecording it always fails.
func (s *Server) WaitFor(ctx context.Context, pred func(Sent) bool) (Sent, error) {
	if !s.cfg.record {
		return Sent{}, errors.New("bottest: WaitFor needs recording (server built WithoutRecording)")
	}
	next := 0
	for {
		s.mu.Lock()
		batch := s.sent[next:len(s.sent):len(s.sent)]
		next = len(s.sent)
		var ch <-chan struct{}
		if len(batch) == 0 {
			ch = s.waitChange()
		}
		s.mu.Unlock()
		for _, x := range batch {
			if pred(x) {
				return x, nil
			}
		}
		if ch == nil {
			continue
		}
		select {
		case <-ch:
		case <-s.done:
			return Sent{}, ErrClosed
		case <-ctx.Done():
			return Sent{}, fmt.Errorf("bottest: no matching call: %w%s", ctx.Err(), list(s.Sent()))
		}
	}
}

// Message returns the current state of a message the bot sent to chatID;
// false when the bot sent no such message (or, WithoutRecording, it is no
// longer among the chat's last few).
func (s *Server) Message(chatID int64, messageID int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chatID]
	if cs == nil {
		return Message{}, false
	}
	m := cs.msgs[messageID]
	if m == nil {
		return Message{}, false
	}
	return m.Message, true
}

// LastMessage returns the newest message the bot sent to chatID, deleted
// or not.
func (s *Server) LastMessage(chatID int64) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chats[chatID]
	if cs == nil {
		return Message{}, false
	}
	var last *botMsg
	for id, m := range cs.msgs {
		if last == nil || id > last.MessageID {
			last = m
		}
	}
	if last == nil {
		return Message{}, false
	}
	return last.Message, true
}

// Keyboard returns the reply keyboard the user of chatID currently sees:
// the last one the bot sent, nil after a remove_keyboard.
func (s *Server) Keyboard(chatID int64) [][]KeyboardButton {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.chats[chatID]; cs != nil {
		return cs.keyboard
	}
	return nil
}

// CallbackAnswer reports how the callback query queued as updateID (by
// PressButton) was answered.
func (s *Server) CallbackAnswer(updateID int) CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queries[CallbackQueryID(updateID)]; q != nil {
		return q.answer
	}
	return CallbackAnswer{}
}
