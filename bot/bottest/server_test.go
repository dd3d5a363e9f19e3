package bottest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// newBot starts a server and a tgbotapi client talking to it.
func newBot(t *testing.T, opts ...Option) (*Server, *tgbotapi.BotAPI) {
	t.Helper()
	s := New(t, opts...)
	bot, err := tgbotapi.NewBotAPIWithAPIEndpoint(s.Token(), s.Endpoint())
	if err != nil {
		t.Fatalf("NewBotAPIWithAPIEndpoint: %v", err)
	}
	return s, bot
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func getUpdates(t *testing.T, bot *tgbotapi.BotAPI, cfg tgbotapi.UpdateConfig) []tgbotapi.Update {
	t.Helper()
	got, err := bot.GetUpdates(cfg)
	if err != nil {
		t.Fatalf("GetUpdates(%+v): %v", cfg, err)
	}
	return got
}

func ids(us []tgbotapi.Update) []int {
	out := make([]int, len(us))
	for i, u := range us {
		out[i] = u.UpdateID
	}
	return out
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// apiError extracts a Bot API error and fails when err is not one.
func apiError(t *testing.T, err error) *tgbotapi.Error {
	t.Helper()
	var e *tgbotapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want a *tgbotapi.Error", err, err)
	}
	return e
}

// call makes a raw form-encoded call and decodes the answer.
func call(t *testing.T, ctx context.Context, s *Server, method string, p url.Values) (int, tgbotapi.APIResponse) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf(s.Endpoint(), s.Token(), method), strings.NewReader(p.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	var got tgbotapi.APIResponse
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("%s: decode: %v", method, err)
	}
	return resp.StatusCode, got
}

func TestGetMeAndToken(t *testing.T) {
	s, bot := newBot(t, WithBotUser(777, "council_bot"))
	if got, want := bot.Self.ID, int64(777); got != want {
		t.Errorf("Self.ID = %d, want %d", got, want)
	}
	if got, want := bot.Self.UserName, "council_bot"; got != want {
		t.Errorf("Self.UserName = %q, want %q", got, want)
	}
	if !bot.Self.IsBot {
		t.Error("Self.IsBot = false, want true")
	}

	_, err := tgbotapi.NewBotAPIWithAPIEndpoint("999:WRONG", s.Endpoint())
	e := apiError(t, err)
	if e.Code != http.StatusUnauthorized || e.Message != DescUnauthorized {
		t.Errorf("wrong token: got %d %q, want 401 %q", e.Code, e.Message, DescUnauthorized)
	}
}

func TestUnknownMethodAndCase(t *testing.T) {
	s := New(t)
	ctx := ctxT(t)
	code, got := call(t, ctx, s, "sendTelepathy", nil)
	if code != http.StatusNotFound || got.Ok || got.ErrorCode != 404 || got.Description != DescNotFound {
		t.Errorf("unknown method: got %d %+v, want 404 Not Found", code, got)
	}
	if got := s.Calls("sendTelepathy"); got != 1 {
		t.Errorf("Calls(sendTelepathy) = %d, want 1", got)
	}
	// Method names are case-insensitive on the Bot API.
	code, got = call(t, ctx, s, "GETME", nil)
	if code != http.StatusOK || !got.Ok {
		t.Errorf("GETME: got %d %+v, want ok", code, got)
	}
	if got := s.Calls("getMe"); got != 1 {
		t.Errorf("Calls(getMe) = %d, want 1", got)
	}
}

func TestGetUpdatesOffsets(t *testing.T) {
	s, bot := newBot(t)
	chat, user := Private(42)
	for i := range 5 {
		if got, want := s.SendText(chat, user, fmt.Sprint("پیام ", i)), i+1; got != want {
			t.Fatalf("SendText returned %d, want %d", got, want)
		}
	}

	tests := []struct {
		name          string
		cfg           tgbotapi.UpdateConfig
		want          []int
		wantConfirmed int
		wantPending   int
	}{
		{"no offset returns all", tgbotapi.UpdateConfig{}, []int{1, 2, 3, 4, 5}, 0, 5},
		{"limit", tgbotapi.UpdateConfig{Limit: 2}, []int{1, 2}, 0, 5},
		{"offset confirms earlier", tgbotapi.UpdateConfig{Offset: 3}, []int{3, 4, 5}, 2, 3},
		{"confirmed are gone", tgbotapi.UpdateConfig{Offset: 1}, []int{3, 4, 5}, 2, 3},
		{"negative offset keeps the last", tgbotapi.UpdateConfig{Offset: -1}, []int{5}, 4, 1},
		{"offset past the end", tgbotapi.UpdateConfig{Offset: 6}, []int{}, 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(getUpdates(t, bot, tt.cfg))
			if !equalInts(got, tt.want) {
				t.Errorf("ids = %v, want %v", got, tt.want)
			}
			if got := s.Confirmed(); got != tt.wantConfirmed {
				t.Errorf("Confirmed = %d, want %d", got, tt.wantConfirmed)
			}
			if got := s.Pending(); got != tt.wantPending {
				t.Errorf("Pending = %d, want %d", got, tt.wantPending)
			}
		})
	}
	if err := s.WaitConfirmed(ctxT(t), 5); err != nil {
		t.Errorf("WaitConfirmed(5): %v", err)
	}
	if got := s.Calls("getUpdates"); got != len(tests) {
		t.Errorf("Calls(getUpdates) = %d, want %d", got, len(tests))
	}
}

func TestFirstUpdateID(t *testing.T) {
	s := New(t, WithFirstUpdateID(1000))
	chat, user := Private(1)
	if got := s.SendText(chat, user, "a"); got != 1000 {
		t.Errorf("first update id = %d, want 1000", got)
	}
	if got := s.Confirmed(); got != 999 {
		t.Errorf("Confirmed = %d, want 999", got)
	}
}

func TestLongPollWakesOnUpdate(t *testing.T) {
	s, bot := newBot(t)
	ctx := ctxT(t)
	type result struct {
		updates []tgbotapi.Update
		err     error
		took    time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		us, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 60})
		done <- result{us, err, time.Since(start)}
	}()
	if err := s.WaitPolling(ctx); err != nil {
		t.Fatal(err)
	}
	chat, user := Private(7)
	id := s.SendText(chat, user, "بیدار شو")
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("GetUpdates: %v", r.err)
		}
		if got := ids(r.updates); !equalInts(got, []int{id}) {
			t.Errorf("ids = %v, want [%d]", got, id)
		}
		if r.took > 30*time.Second {
			t.Errorf("long poll took %v, want a prompt wake-up", r.took)
		}
	case <-ctx.Done():
		t.Fatal("long poll did not wake up on a new update")
	}
}

func TestLongPollTimesOutEmpty(t *testing.T) {
	_, bot := newBot(t, WithLongPollCap(20*time.Millisecond))
	got := getUpdates(t, bot, tgbotapi.UpdateConfig{Timeout: 60})
	if len(got) != 0 {
		t.Errorf("got %d updates, want none", len(got))
	}
}

func TestOverlappingPollsConflict(t *testing.T) {
	s, bot := newBot(t)
	ctx := ctxT(t)
	first := make(chan error, 1)
	go func() {
		_, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 60})
		first <- err
	}()
	if err := s.WaitPolling(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	e := apiError(t, err)
	if e.Code != http.StatusConflict || e.Message != DescConflict {
		t.Errorf("second poll: got %d %q, want 409 %q", e.Code, e.Message, DescConflict)
	}
	chat, user := Private(1)
	s.SendText(chat, user, "x")
	if err := <-first; err != nil {
		t.Errorf("first poll: %v", err)
	}
	// Polls in sequence never conflict.
	for range 3 {
		getUpdates(t, bot, tgbotapi.UpdateConfig{Offset: 2})
	}
}

func TestCancelledPollReleases(t *testing.T) {
	s := New(t)
	ctx := ctxT(t)
	pollCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(pollCtx, http.MethodPost,
			fmt.Sprintf(s.Endpoint(), s.Token(), "getUpdates"), strings.NewReader("timeout=60"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	if err := s.WaitPolling(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	// The server notices the closed connection asynchronously: poll with a
	// deadline until a new getUpdates is no longer a conflict.
	for {
		code, got := call(t, ctx, s, "getUpdates", nil)
		if code == http.StatusOK && got.Ok {
			break
		}
		if code != http.StatusConflict {
			t.Fatalf("getUpdates: %d %+v", code, got)
		}
		select {
		case <-ctx.Done():
			t.Fatal("cancelled long poll was never released")
		case <-time.After(time.Millisecond):
		}
	}
}

func TestSimulateConflict(t *testing.T) {
	s, bot := newBot(t)
	s.SimulateConflict(true)
	_, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	if e := apiError(t, err); e.Code != http.StatusConflict {
		t.Errorf("Code = %d, want 409", e.Code)
	}
	s.SimulateConflict(false)
	getUpdates(t, bot, tgbotapi.UpdateConfig{})
}

func TestAllowedUpdates(t *testing.T) {
	s, bot := newBot(t)
	ctx := ctxT(t)
	chat, user := Private(5)
	if got := s.AllowedUpdates(); got != nil {
		t.Errorf("AllowedUpdates before any = %v, want nil", got)
	}
	msg := s.SendText(chat, user, "a")
	edited := s.EditText(chat, user, 1, "b")
	member := s.SendRaw(json.RawMessage(`{"chat_member":{}}`))
	press := s.PressButton(chat, user, 99, "x")

	// The default set leaves out chat_member.
	got := ids(getUpdates(t, bot, tgbotapi.UpdateConfig{}))
	if want := []int{msg, edited, press}; !equalInts(got, want) {
		t.Errorf("default allowed: ids = %v, want %v", got, want)
	}
	if err := s.WaitConfirmed(ctx, member); err != nil {
		t.Errorf("dropped update not reported done: %v", err)
	}

	allowed := []string{"message", "callback_query"}
	got = ids(getUpdates(t, bot, tgbotapi.UpdateConfig{AllowedUpdates: allowed}))
	if want := []int{msg, press}; !equalInts(got, want) {
		t.Errorf("allowed %v: ids = %v, want %v", allowed, got, want)
	}
	if got := s.AllowedUpdates(); strings.Join(got, ",") != "message,callback_query" {
		t.Errorf("AllowedUpdates = %v, want %v", got, allowed)
	}
	// Not sent again: the previous setting stays.
	getUpdates(t, bot, tgbotapi.UpdateConfig{Limit: 7})
	if got := s.AllowedUpdates(); len(got) != 2 {
		t.Errorf("AllowedUpdates after a call without it = %v, want %v", got, allowed)
	}
	if err := s.WaitConfirmed(ctx, edited); err != nil {
		t.Errorf("filtered edited_message: %v", err)
	}
	if got := s.LastPoll().Get("limit"); got != "7" {
		t.Errorf("LastPoll limit = %q, want 7", got)
	}
}

func TestUserActionsDecode(t *testing.T) {
	now := time.Date(2025, 3, 21, 8, 30, 0, 0, time.UTC)
	chat, user := Private(1001)
	user.Username = "ali"
	group := Group(-5001, "شورای محله")

	tests := []struct {
		name  string
		act   func(s *Server, bot *tgbotapi.BotAPI) int
		check func(t *testing.T, s *Server, u tgbotapi.Update)
	}{
		{
			name: "text",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.SendText(chat, user, "سلام \"دنیا\"\n") },
			check: func(t *testing.T, _ *Server, u tgbotapi.Update) {
				m := u.Message
				if m.Text != "سلام \"دنیا\"\n" || m.IsCommand() {
					t.Errorf("Text = %q, IsCommand = %v", m.Text, m.IsCommand())
				}
				if m.From.ID != user.ID || m.From.UserName != "ali" || m.From.LanguageCode != "fa" || m.From.IsBot {
					t.Errorf("From = %+v", m.From)
				}
				if m.Chat.ID != chat.ID || m.Chat.Type != "private" || !m.Chat.IsPrivate() {
					t.Errorf("Chat = %+v", m.Chat)
				}
				if m.Date != int(now.Unix()) || m.MessageID != 1 {
					t.Errorf("Date, MessageID = %d, %d; want %d, 1", m.Date, m.MessageID, now.Unix())
				}
			},
		},
		{
			name: "command",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.SendText(chat, user, "/start ref_42") },
			check: func(t *testing.T, _ *Server, u tgbotapi.Update) {
				m := u.Message
				if !m.IsCommand() || m.Command() != "start" || m.CommandArguments() != "ref_42" {
					t.Errorf("command = %v %q %q", m.IsCommand(), m.Command(), m.CommandArguments())
				}
			},
		},
		{
			name: "command with bot name in a group",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.SendText(group, user, "/help@mahalle_bot") },
			check: func(t *testing.T, _ *Server, u tgbotapi.Update) {
				m := u.Message
				if m.Command() != "help" || m.CommandWithAt() != "help@mahalle_bot" {
					t.Errorf("Command = %q, CommandWithAt = %q", m.Command(), m.CommandWithAt())
				}
				if m.Chat.Type != "group" || m.Chat.Title != "شورای محله" || m.Chat.ID != group.ID {
					t.Errorf("Chat = %+v", m.Chat)
				}
			},
		},
		{
			name: "contact",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.SendContact(chat, user, "+989121234567", user.ID) },
			check: func(t *testing.T, _ *Server, u tgbotapi.Update) {
				c := u.Message.Contact
				if c == nil || c.PhoneNumber != "+989121234567" || c.UserID != user.ID || c.FirstName != user.FirstName {
					t.Errorf("Contact = %+v", c)
				}
			},
		},
		{
			name: "location",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.SendLocation(chat, user, 35.6892, 51.389) },
			check: func(t *testing.T, _ *Server, u tgbotapi.Update) {
				l := u.Message.Location
				if l == nil || l.Latitude != 35.6892 || l.Longitude != 51.389 {
					t.Errorf("Location = %+v", l)
				}
			},
		},
		{
			name: "photo",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.SendPhoto(chat, user, "عکس", "album-1") },
			check: func(t *testing.T, s *Server, u tgbotapi.Update) {
				m := u.Message
				if len(m.Photo) != 3 || m.Caption != "عکس" || m.MediaGroupID != "album-1" {
					t.Fatalf("Photo = %+v, Caption = %q, MediaGroupID = %q", m.Photo, m.Caption, m.MediaGroupID)
				}
				if got, want := m.Photo[2].FileID, s.FileID(u.UpdateID); got != want || got == "" {
					t.Errorf("largest FileID = %q, want %q", got, want)
				}
				if m.Photo[2].Width <= m.Photo[0].Width {
					t.Errorf("sizes not increasing: %+v", m.Photo)
				}
			},
		},
		{
			name: "voice",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.SendVoice(chat, user, 12) },
			check: func(t *testing.T, s *Server, u tgbotapi.Update) {
				v := u.Message.Voice
				if v == nil || v.Duration != 12 || v.MimeType != "audio/ogg" || v.FileID != s.FileID(u.UpdateID) {
					t.Errorf("Voice = %+v", v)
				}
			},
		},
		{
			name: "document",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.SendDocument(chat, user, "گزارش.pdf") },
			check: func(t *testing.T, _ *Server, u tgbotapi.Update) {
				d := u.Message.Document
				if d == nil || d.FileName != "گزارش.pdf" || d.MimeType != "application/pdf" || d.FileSize == 0 {
					t.Errorf("Document = %+v", d)
				}
			},
		},
		{
			name: "sticker",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.SendSticker(chat, user) },
			check: func(t *testing.T, _ *Server, u tgbotapi.Update) {
				if u.Message.Sticker == nil || u.Message.Sticker.FileID == "" {
					t.Errorf("Sticker = %+v", u.Message.Sticker)
				}
			},
		},
		{
			name: "animation also carries a document",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.SendAnimation(chat, user) },
			check: func(t *testing.T, _ *Server, u tgbotapi.Update) {
				m := u.Message
				if m.Animation == nil || m.Document == nil || m.Animation.FileID != m.Document.FileID {
					t.Errorf("Animation = %+v, Document = %+v", m.Animation, m.Document)
				}
			},
		},
		{
			name: "video",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.SendVideo(chat, user) },
			check: func(t *testing.T, _ *Server, u tgbotapi.Update) {
				if u.Message.Video == nil || u.Message.Video.Duration == 0 {
					t.Errorf("Video = %+v", u.Message.Video)
				}
			},
		},
		{
			name: "edited message",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.EditText(chat, user, 3, "ویرایش") },
			check: func(t *testing.T, _ *Server, u tgbotapi.Update) {
				m := u.EditedMessage
				if u.Message != nil || m == nil || m.MessageID != 3 || m.Text != "ویرایش" || m.EditDate == 0 {
					t.Errorf("EditedMessage = %+v, Message = %+v", m, u.Message)
				}
			},
		},
		{
			name: "forwarded",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.ForwardText(chat, user, "خبر") },
			check: func(t *testing.T, _ *Server, u tgbotapi.Update) {
				m := u.Message
				if m.ForwardFrom == nil || m.ForwardDate == 0 || m.Text != "خبر" {
					t.Errorf("ForwardFrom = %+v, ForwardDate = %d, Text = %q", m.ForwardFrom, m.ForwardDate, m.Text)
				}
			},
		},
		{
			name: "bot added to a group",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.BotAdded(group, user) },
			check: func(t *testing.T, s *Server, u tgbotapi.Update) {
				c := u.MyChatMember
				if c == nil || c.OldChatMember.Status != "left" || c.NewChatMember.Status != "member" ||
					c.NewChatMember.User.ID != s.Bot().ID || c.Chat.ID != group.ID || c.From.ID != user.ID {
					t.Errorf("MyChatMember = %+v", c)
				}
			},
		},
		{
			name: "bot blocked",
			act:  func(s *Server, _ *tgbotapi.BotAPI) int { return s.BotRemoved(chat, user) },
			check: func(t *testing.T, _ *Server, u tgbotapi.Update) {
				if c := u.MyChatMember; c == nil || c.NewChatMember.Status != "kicked" {
					t.Errorf("MyChatMember = %+v", c)
				}
			},
		},
		{
			name: "button press",
			act: func(s *Server, bot *tgbotapi.BotAPI) int {
				msg := tgbotapi.NewMessage(chat.ID, "کدام کمیته؟")
				msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
					tgbotapi.NewInlineKeyboardButtonData("بهداشت", "committee:health")))
				sent, err := bot.Send(msg)
				if err != nil {
					panic(err)
				}
				return s.PressButton(chat, user, sent.MessageID, "committee:health")
			},
			check: func(t *testing.T, s *Server, u tgbotapi.Update) {
				q := u.CallbackQuery
				if q == nil || q.ID != CallbackQueryID(u.UpdateID) || q.Data != "committee:health" || q.From.ID != user.ID || q.ChatInstance == "" {
					t.Fatalf("CallbackQuery = %+v", q)
				}
				m := q.Message
				if m == nil || m.Text != "کدام کمیته؟" || m.Chat.ID != chat.ID || m.From.ID != s.Bot().ID || m.ReplyMarkup == nil ||
					*m.ReplyMarkup.InlineKeyboard[0][0].CallbackData != "committee:health" {
					t.Errorf("CallbackQuery.Message = %+v", m)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, bot := newBot(t, WithNow(func() time.Time { return now }))
			id := tt.act(s, bot)
			got := getUpdates(t, bot, tgbotapi.UpdateConfig{})
			if len(got) != 1 || got[0].UpdateID != id {
				t.Fatalf("updates = %v, want [%d]", ids(got), id)
			}
			tt.check(t, s, got[0])
		})
	}
}

func TestMessageIDsPerChat(t *testing.T) {
	s, bot := newBot(t)
	a, ua := Private(1)
	b, ub := Private(2)
	s.SendText(a, ua, "1")
	s.SendText(a, ua, "2")
	s.SendText(b, ub, "1")
	sent, err := bot.Send(tgbotapi.NewMessage(a.ID, "پاسخ"))
	if err != nil {
		t.Fatal(err)
	}
	if sent.MessageID != 3 {
		t.Errorf("bot message id in chat a = %d, want 3 (ids are shared by the chat)", sent.MessageID)
	}
	sent, err = bot.Send(tgbotapi.NewMessage(b.ID, "پاسخ"))
	if err != nil {
		t.Fatal(err)
	}
	if sent.MessageID != 2 {
		t.Errorf("bot message id in chat b = %d, want 2", sent.MessageID)
	}
}

func TestSendRaw(t *testing.T) {
	s, bot := newBot(t)
	ctx := ctxT(t)
	good := s.SendRaw(json.RawMessage(`{"update_id":999,"message":{"message_id":1,"date":1,"chat":{"id":3,"type":"private"},"text":"hi"}}`))
	us := getUpdates(t, bot, tgbotapi.UpdateConfig{})
	if len(us) != 1 || us[0].UpdateID != good || us[0].Message.Text != "hi" {
		t.Fatalf("updates = %+v, want one with id %d", us, good)
	}
	bad := s.SendRaw(json.RawMessage(`{"message":{"message_id":"not a number"}}`))
	_, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: good + 1})
	if err == nil {
		t.Fatal("tgbotapi decoded an undecodable update")
	}
	_, resp := call(t, ctx, s, "getUpdates", url.Values{"offset": {fmt.Sprint(good + 1)}})
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(resp.Result, &raw); err != nil || len(raw) != 1 {
		t.Fatalf("raw result %s: %v", resp.Result, err)
	}
	if got := string(raw[0]["update_id"]); got != fmt.Sprint(bad) {
		t.Errorf("update_id = %s, want %d", got, bad)
	}

	defer func() {
		if recover() == nil {
			t.Error("SendRaw of a non-object did not panic")
		}
	}()
	s.SendRaw(json.RawMessage(`[1,2]`))
}

func inline(rows ...[]tgbotapi.InlineKeyboardButton) tgbotapi.InlineKeyboardMarkup {
	return tgbotapi.NewInlineKeyboardMarkup(rows...)
}

func TestSendMessageValidation(t *testing.T) {
	s, bot := newBot(t)
	chat, _ := Private(10)
	s.Block(666)
	tests := []struct {
		name     string
		msg      tgbotapi.MessageConfig
		wantCode int
		wantDesc string
	}{
		{"plain", tgbotapi.NewMessage(chat.ID, "سلام"), 0, ""},
		{"empty", tgbotapi.NewMessage(chat.ID, ""), 400, DescTextEmpty},
		{"blank", tgbotapi.NewMessage(chat.ID, " \n "), 400, DescTextEmpty},
		{"4096 Persian letters", tgbotapi.NewMessage(chat.ID, strings.Repeat("س", 4096)), 0, ""},
		{"4097 Persian letters", tgbotapi.NewMessage(chat.ID, strings.Repeat("س", 4097)), 400, DescTextTooLong},
		{"2048 emoji are 4096 UTF-16 units", tgbotapi.NewMessage(chat.ID, strings.Repeat("😀", 2048)), 0, ""},
		{"2049 emoji", tgbotapi.NewMessage(chat.ID, strings.Repeat("😀", 2049)), 400, DescTextTooLong},
		{"no chat", tgbotapi.NewMessage(0, "x"), 400, DescChatIDEmpty},
		{"blocked", tgbotapi.NewMessage(666, "x"), 403, DescBlocked},
	}
	markups := []struct {
		name     string
		markup   any
		wantCode int
		wantDesc string
	}{
		{"64-byte data", inline(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("a", strings.Repeat("ی", 32)))), 0, ""},
		{"65-byte data", inline(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("a", strings.Repeat("ی", 32)+"x"))), 400, DescButtonData},
		{"empty data", inline(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("a", ""))), 400, DescButtonData},
		{"url button", inline(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonURL("a", "https://example.org"))), 0, ""},
		{"text-only button", inline(tgbotapi.NewInlineKeyboardRow(tgbotapi.InlineKeyboardButton{Text: "a"})), 400,
			"Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"},
		{"contact keyboard", tgbotapi.NewReplyKeyboard(tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButtonContact("ارسال شماره"))), 0, ""},
		{"remove keyboard", tgbotapi.NewRemoveKeyboard(false), 0, ""},
		{"not JSON", "{", 400, DescMarkupJSON},
	}
	for _, m := range markups {
		msg := tgbotapi.NewMessage(chat.ID, "دکمه‌ها")
		msg.ReplyMarkup = m.markup
		tests = append(tests, struct {
			name     string
			msg      tgbotapi.MessageConfig
			wantCode int
			wantDesc string
		}{"markup " + m.name, msg, m.wantCode, m.wantDesc})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.SentCount(chat.ID)
			got, err := bot.Send(tt.msg)
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if got.Text != tt.msg.Text || got.Chat.ID != chat.ID || got.From.ID != s.Bot().ID || got.MessageID == 0 {
					t.Errorf("result = %+v", got)
				}
				if s.SentCount(chat.ID) != before+1 {
					t.Errorf("SentCount did not grow")
				}
				return
			}
			e := apiError(t, err)
			if e.Code != tt.wantCode || e.Message != tt.wantDesc {
				t.Errorf("error = %d %q, want %d %q", e.Code, e.Message, tt.wantCode, tt.wantDesc)
			}
		})
	}
}

func TestSentRecording(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s, bot := newBot(t, WithNow(func() time.Time { return now }))
	chat, user := Private(20)

	msg := tgbotapi.NewMessage(chat.ID, "شماره‌تان را بفرستید")
	msg.ReplyMarkup = tgbotapi.NewReplyKeyboard(tgbotapi.NewKeyboardButtonRow(
		tgbotapi.NewKeyboardButtonContact("ارسال شماره"), tgbotapi.NewKeyboardButtonLocation("مکان")))
	if _, err := bot.Send(msg); err != nil {
		t.Fatal(err)
	}
	kb := s.Keyboard(chat.ID)
	if len(kb) != 1 || len(kb[0]) != 2 || !kb[0][0].RequestContact || !kb[0][1].RequestLocation {
		t.Errorf("Keyboard = %+v", kb)
	}
	msg = tgbotapi.NewMessage(chat.ID, "ممنون")
	msg.ReplyMarkup = tgbotapi.NewRemoveKeyboard(false)
	if _, err := bot.Send(msg); err != nil {
		t.Fatal(err)
	}
	if kb := s.Keyboard(chat.ID); kb != nil {
		t.Errorf("Keyboard after remove = %+v, want nil", kb)
	}
	if _, err := bot.Request(tgbotapi.NewChatAction(chat.ID, tgbotapi.ChatTyping)); err != nil {
		t.Fatal(err)
	}
	if _, err := bot.Request(tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "start", Description: "شروع"})); err != nil {
		t.Fatal(err)
	}
	s.SendText(chat, user, "x") // a user action is not a call

	all := s.Sent()
	var methods []string
	for i, x := range all {
		methods = append(methods, x.Method)
		if x.Seq != int64(i+1) || !x.At.Equal(now) {
			t.Errorf("Sent[%d] Seq=%d At=%v", i, x.Seq, x.At)
		}
	}
	if got, want := strings.Join(methods, ","), "sendMessage,sendMessage,sendChatAction,setMyCommands"; got != want {
		t.Errorf("Sent methods = %s, want %s", got, want)
	}
	first := all[0]
	if first.ChatID != chat.ID || first.MessageID != 1 || first.Text != "شماره‌تان را بفرستید" ||
		len(first.Keyboard) != 1 || first.ReplyMarkup == nil || first.Params.Get("chat_id") != "20" {
		t.Errorf("Sent[0] = %+v", first)
	}
	if !all[1].RemoveKeyboard {
		t.Errorf("Sent[1].RemoveKeyboard = false")
	}
	to := s.SentTo(chat.ID)
	if len(to) != 2 || to[0].Seq != 1 || to[1].Seq != 2 {
		t.Errorf("SentTo = %v, want the two messages (not the chat action)", to)
	}
	if got := s.SentCount(chat.ID); got != 2 {
		t.Errorf("SentCount = %d, want 2", got)
	}
	if got, _ := bot.GetMyCommands(); len(got) != 1 || got[0].Command != "start" {
		t.Errorf("GetMyCommands = %+v", got)
	}
	if m, ok := s.LastMessage(chat.ID); !ok || m.Text != "ممنون" {
		t.Errorf("LastMessage = %+v, %v", m, ok)
	}
}

func TestEditAndDelete(t *testing.T) {
	s, bot := newBot(t)
	chat, _ := Private(30)
	kb := inline(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("تایید", "ok")))
	msg := tgbotapi.NewMessage(chat.ID, "پیش‌نویس")
	msg.ReplyMarkup = kb
	sent, err := bot.Send(msg)
	if err != nil {
		t.Fatal(err)
	}
	id := sent.MessageID
	kb2 := inline(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("لغو", "cancel")))

	steps := []struct {
		name       string
		c          tgbotapi.Chattable
		wantDesc   string
		wantText   string
		wantInline string // callback data of the first button, "" for none
	}{
		{"same text and keyboard", tgbotapi.NewEditMessageTextAndMarkup(chat.ID, id, "پیش‌نویس", kb), DescNotModified, "پیش‌نویس", "ok"},
		{"new text keeps keyboard", tgbotapi.NewEditMessageTextAndMarkup(chat.ID, id, "نهایی", kb), "", "نهایی", "ok"},
		{"same markup", tgbotapi.NewEditMessageReplyMarkup(chat.ID, id, kb), DescNotModified, "نهایی", "ok"},
		{"new markup", tgbotapi.NewEditMessageReplyMarkup(chat.ID, id, kb2), "", "نهایی", "cancel"},
		{"text without markup drops keyboard", tgbotapi.NewEditMessageText(chat.ID, id, "نهایی"), "", "نهایی", ""},
		{"empty text", tgbotapi.NewEditMessageText(chat.ID, id, ""), DescTextEmpty, "نهایی", ""},
		{"caption of a text message", tgbotapi.NewEditMessageCaption(chat.ID, id, "x"),
			"Bad Request: there is no caption in the message to edit", "نهایی", ""},
		{"unknown message", tgbotapi.NewEditMessageText(chat.ID, id+10, "x"), DescEditNotFound, "نهایی", ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			_, err := bot.Request(st.c)
			if st.wantDesc == "" && err != nil {
				t.Fatalf("edit: %v", err)
			}
			if st.wantDesc != "" {
				if e := apiError(t, err); e.Code != 400 || e.Message != st.wantDesc {
					t.Errorf("error = %d %q, want 400 %q", e.Code, e.Message, st.wantDesc)
				}
			}
			m, ok := s.Message(chat.ID, id)
			if !ok {
				t.Fatal("Message not found")
			}
			data := ""
			if len(m.Inline) > 0 {
				data = m.Inline[0][0].CallbackData
			}
			if m.Text != st.wantText || data != st.wantInline {
				t.Errorf("Message = %q [%s], want %q [%s]", m.Text, data, st.wantText, st.wantInline)
			}
		})
	}
	if m, _ := s.Message(chat.ID, id); m.Edits != 3 {
		t.Errorf("Edits = %d, want 3", m.Edits)
	}

	if _, err := bot.Request(tgbotapi.NewDeleteMessage(chat.ID, id)); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if m, _ := s.Message(chat.ID, id); !m.Deleted {
		t.Error("Deleted = false after deleteMessage")
	}
	_, err = bot.Request(tgbotapi.NewDeleteMessage(chat.ID, id))
	if e := apiError(t, err); e.Message != DescDeleteNotFound {
		t.Errorf("second delete: %q, want %q", e.Message, DescDeleteNotFound)
	}
	_, err = bot.Request(tgbotapi.NewEditMessageText(chat.ID, id, "x"))
	if e := apiError(t, err); e.Message != DescEditNotFound {
		t.Errorf("edit of a deleted message: %q, want %q", e.Message, DescEditNotFound)
	}
	to := s.SentTo(chat.ID)
	var methods []string
	for _, x := range to {
		methods = append(methods, x.Method)
	}
	if got, want := strings.Join(methods, ","), "sendMessage,editMessageText,editMessageReplyMarkup,editMessageText,deleteMessage"; got != want {
		t.Errorf("SentTo methods = %s, want %s", got, want)
	}
}

func TestCallbackQueries(t *testing.T) {
	s, bot := newBot(t)
	chat, user := Private(40)
	msg := tgbotapi.NewMessage(chat.ID, "انتخاب کنید")
	msg.ReplyMarkup = inline(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("بله", "yes"), tgbotapi.NewInlineKeyboardButtonData("خیر", "no")))
	sent, err := bot.Send(msg)
	if err != nil {
		t.Fatal(err)
	}
	upd, err := s.PressButtonText(chat, user, sent.MessageID, "خیر")
	if err != nil {
		t.Fatal(err)
	}
	us := getUpdates(t, bot, tgbotapi.UpdateConfig{})
	if len(us) != 1 || us[0].CallbackQuery == nil || us[0].CallbackQuery.Data != "no" {
		t.Fatalf("updates = %+v", us)
	}
	if _, err := s.PressButtonText(chat, user, sent.MessageID, "شاید"); err == nil {
		t.Error("PressButtonText of a missing button: no error")
	}

	_, err = bot.Request(tgbotapi.NewCallback("bogus", ""))
	if e := apiError(t, err); e.Code != 400 || e.Message != DescQueryTooOld {
		t.Errorf("unknown query: %d %q", e.Code, e.Message)
	}
	if _, err := bot.Request(tgbotapi.NewCallbackWithAlert(us[0].CallbackQuery.ID, "ثبت شد")); err != nil {
		t.Fatalf("answer: %v", err)
	}
	if got, want := s.CallbackAnswer(upd), (CallbackAnswer{Answered: true, Text: "ثبت شد", ShowAlert: true}); got != want {
		t.Errorf("CallbackAnswer = %+v, want %+v", got, want)
	}
	_, err = bot.Request(tgbotapi.NewCallback(us[0].CallbackQuery.ID, ""))
	if e := apiError(t, err); e.Message != DescQueryTooOld {
		t.Errorf("second answer: %q, want %q", e.Message, DescQueryTooOld)
	}
	got, err := s.WaitFor(ctxT(t), func(x Sent) bool { return x.Method == "answerCallbackQuery" })
	if err != nil {
		t.Fatal(err)
	}
	if got.CallbackQueryID != CallbackQueryID(upd) || got.ChatID != chat.ID || got.MessageID != sent.MessageID || !got.ShowAlert {
		t.Errorf("recorded answer = %+v", got)
	}
	if n := len(s.SentTo(chat.ID)); n != 1 {
		t.Errorf("SentTo has %d calls, want 1 (answers are not per-chat calls)", n)
	}
}

func TestFaults(t *testing.T) {
	s, bot := newBot(t)
	chat, _ := Private(50)
	send := func() error {
		_, err := bot.Send(tgbotapi.NewMessage(chat.ID, "x"))
		return err
	}

	s.FailNext("sendMessage", 2, Fault{Code: 429, RetryAfter: 3})
	for range 2 {
		e := apiError(t, send())
		if e.Code != 429 || e.RetryAfter != 3 || e.Message != "Too Many Requests: retry after 3" {
			t.Errorf("429 fault = %+v", e)
		}
	}
	if err := send(); err != nil {
		t.Errorf("after the faults: %v", err)
	}

	tests := []struct {
		fault    Fault
		wantCode int
		wantDesc string
	}{
		{Fault{Code: 500}, 500, "Internal Server Error"},
		{Fault{Code: 502}, 502, "Bad Gateway"},
		{Fault{Code: 403}, 403, DescBlocked},
		{Fault{Code: 400, Description: "Bad Request: PEER_ID_INVALID"}, 400, "Bad Request: PEER_ID_INVALID"},
	}
	for _, tt := range tests {
		s.FailNext("sendmessage", 1, tt.fault)
		e := apiError(t, send())
		if e.Code != tt.wantCode || e.Message != tt.wantDesc {
			t.Errorf("fault %+v: got %d %q", tt.fault, e.Code, e.Message)
		}
	}

	s.FailNext("sendMessage", 1, Fault{DropConnection: true})
	if err := send(); err == nil {
		t.Error("dropped connection: no error")
	} else if errors.As(err, new(*tgbotapi.Error)) {
		t.Errorf("dropped connection gave an API error: %v", err)
	}
	s.FailNext("sendMessage", 1, Fault{RawBody: "<html>502 Bad Gateway</html>", Code: 502})
	if err := send(); err == nil || errors.As(err, new(*tgbotapi.Error)) {
		t.Errorf("raw body fault: err = %v, want a decode error", err)
	}

	const d = 30 * time.Millisecond
	s.FailNext("sendMessage", 1, Fault{Latency: d})
	start := time.Now()
	if err := send(); err != nil {
		t.Errorf("latency-only fault: %v", err)
	}
	if took := time.Since(start); took < d {
		t.Errorf("latency-only fault took %v, want >= %v", took, d)
	}
	s.SetLatency("sendMessage", d)
	start = time.Now()
	if err := send(); err != nil {
		t.Error(err)
	}
	if took := time.Since(start); took < d {
		t.Errorf("SetLatency call took %v, want >= %v", took, d)
	}
	s.SetLatency("sendMessage", 0)

	if got, want := s.Calls("sendMessage"), 2+1+len(tests)+2+2; got != want {
		t.Errorf("Calls(sendMessage) = %d, want %d", got, want)
	}
	if got, want := s.SentCount(chat.ID), 3; got != want {
		t.Errorf("SentCount = %d, want %d (only successes)", got, want)
	}

	s.Block(chat.ID)
	if e := apiError(t, send()); e.Code != 403 || e.Message != DescBlocked {
		t.Errorf("blocked: %d %q", e.Code, e.Message)
	}
	_, err := bot.Request(tgbotapi.NewChatAction(chat.ID, tgbotapi.ChatTyping))
	if e := apiError(t, err); e.Code != 403 {
		t.Errorf("chat action to a blocked chat: %d", e.Code)
	}
	s.Unblock(chat.ID)
	if err := send(); err != nil {
		t.Errorf("after Unblock: %v", err)
	}

	s.FailNext("getUpdates", 1, Fault{Code: 502})
	if _, err := bot.GetUpdates(tgbotapi.UpdateConfig{}); apiError(t, err).Code != 502 {
		t.Errorf("getUpdates fault not applied")
	}
}

func TestKnownChatsOnly(t *testing.T) {
	s, bot := newBot(t, WithKnownChatsOnly())
	chat, user := Private(60)
	_, err := bot.Send(tgbotapi.NewMessage(chat.ID, "x"))
	if e := apiError(t, err); e.Code != 400 || e.Message != DescChatNotFound {
		t.Errorf("unknown chat: %d %q", e.Code, e.Message)
	}
	s.SendText(chat, user, "/start")
	if _, err := bot.Send(tgbotapi.NewMessage(chat.ID, "x")); err != nil {
		t.Errorf("after the user wrote: %v", err)
	}
}

func TestFiles(t *testing.T) {
	s, bot := newBot(t)
	ctx := ctxT(t)
	chat, user := Private(70)
	download := func(filePath string) []byte {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf(s.FileEndpoint(), s.Token(), filePath), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("download %s: status %d", filePath, resp.StatusCode)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// A photo a user sent: getFile and download.
	upd := s.SendPhoto(chat, user, "", "")
	f, err := bot.GetFile(tgbotapi.FileConfig{FileID: s.FileID(upd)})
	if err != nil {
		t.Fatalf("GetFile: %v", err)
	}
	want, _ := s.FileData(s.FileID(upd))
	if got := download(f.FilePath); string(got) != string(want) || f.FileSize != len(want) || len(want) == 0 {
		t.Errorf("downloaded %d bytes, want %d (FileSize %d)", len(got), len(want), f.FileSize)
	}
	if got := s.Calls("file"); got != 1 {
		t.Errorf("Calls(file) = %d, want 1", got)
	}

	// The bot uploads a photo (multipart), then re-sends it by file_id.
	data := []byte("\xff\xd8\xff\xe0 a council meeting")
	cfg := tgbotapi.NewPhoto(chat.ID, tgbotapi.FileBytes{Name: "meeting.jpg", Bytes: data})
	cfg.Caption = "جلسه"
	m, err := bot.Send(cfg)
	if err != nil {
		t.Fatalf("sendPhoto upload: %v", err)
	}
	if len(m.Photo) == 0 || m.Caption != "جلسه" {
		t.Fatalf("sendPhoto result = %+v", m)
	}
	id := m.Photo[len(m.Photo)-1].FileID
	if got, ok := s.FileData(id); !ok || string(got) != string(data) {
		t.Errorf("uploaded bytes = %q, want %q", got, data)
	}
	if _, err := bot.Send(tgbotapi.NewPhoto(chat.ID, tgbotapi.FileID(s.FileID(upd)))); err != nil {
		t.Errorf("sendPhoto by file_id: %v", err)
	}
	_, err = bot.Send(tgbotapi.NewPhoto(chat.ID, tgbotapi.FileID("no-such-file")))
	if e := apiError(t, err); e.Message != DescWrongFile {
		t.Errorf("unknown file_id: %q, want %q", e.Message, DescWrongFile)
	}
	if _, err := bot.Send(tgbotapi.NewPhoto(chat.ID, tgbotapi.FileURL("https://example.org/a.jpg"))); err != nil {
		t.Errorf("sendPhoto by URL: %v", err)
	}

	doc := s.PutFile("export.csv", []byte("a,b\n1,2\n"))
	dm, err := bot.Send(tgbotapi.NewDocument(chat.ID, tgbotapi.FileID(doc)))
	if err != nil {
		t.Fatalf("sendDocument: %v", err)
	}
	if dm.Document == nil || dm.Document.FileID != doc || dm.Document.FileName != "export.csv" {
		t.Errorf("sendDocument result = %+v", dm.Document)
	}
	up, err := bot.Send(tgbotapi.NewDocument(chat.ID, tgbotapi.FileBytes{Name: "r.pdf", Bytes: []byte("%PDF-1.4")}))
	if err != nil {
		t.Fatalf("sendDocument upload: %v", err)
	}
	if up.Document == nil || up.Document.MimeType != "application/pdf" {
		t.Errorf("uploaded document = %+v", up.Document)
	}

	edit := tgbotapi.NewEditMessageCaption(chat.ID, m.MessageID, "جلسه دوم")
	if _, err := bot.Request(edit); err != nil {
		t.Errorf("editMessageCaption: %v", err)
	}
	if got, _ := s.Message(chat.ID, m.MessageID); got.Text != "جلسه دوم" || got.FileID != id || got.Method != "sendPhoto" {
		t.Errorf("photo message = %+v", got)
	}
	if _, err := bot.Request(tgbotapi.NewEditMessageText(chat.ID, m.MessageID, "x")); err == nil {
		t.Error("editMessageText of a photo: no error")
	}

	if _, err := bot.GetFile(tgbotapi.FileConfig{FileID: "nope"}); apiError(t, err).Message != DescInvalidFileID {
		t.Errorf("getFile of an unknown id: %v", err)
	}
	resp, err := http.Get(fmt.Sprintf(s.FileEndpoint(), s.Token(), "photos/nope.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown file path: status %d, want 404", resp.StatusCode)
	}
	resp, err = http.Get(fmt.Sprintf(s.FileEndpoint(), "1:BAD", f.FilePath))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("download with a wrong token: status %d, want 401", resp.StatusCode)
	}
}

func TestJSONBody(t *testing.T) {
	s := New(t)
	body := `{"chat_id":80,"text":"از JSON","reply_markup":{"inline_keyboard":[[{"text":"الف","callback_data":"a"}]]}}`
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf(s.Endpoint(), s.Token(), "sendMessage"), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got tgbotapi.APIResponse
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || !got.Ok {
		t.Fatalf("JSON sendMessage: %+v %v", got, err)
	}
	m, ok := s.Message(80, 1)
	if !ok || m.Text != "از JSON" || len(m.Inline) != 1 || m.Inline[0][0].CallbackData != "a" {
		t.Errorf("Message = %+v", m)
	}
}

func TestWaitSent(t *testing.T) {
	s, bot := newBot(t)
	ctx := ctxT(t)
	chat, _ := Private(90)
	go func() {
		for i := range 3 {
			_, _ = bot.Send(tgbotapi.NewMessage(chat.ID, fmt.Sprint("پیام ", i)))
		}
	}()
	got, err := s.WaitSent(ctx, chat.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Text != "پیام 2" {
		t.Errorf("WaitSent = %v", got)
	}

	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	got, err = s.WaitSent(short, chat.ID, 4)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || len(got) != 3 || !strings.Contains(err.Error(), "پیام 1") {
		t.Errorf("WaitSent past the deadline: %v, %d calls", err, len(got))
	}
	_, err = s.WaitFor(short, func(x Sent) bool { return x.Method == "deleteMessage" })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFor past the deadline: %v", err)
	}
}

func TestWaitForFuture(t *testing.T) {
	s, bot := newBot(t)
	ctx := ctxT(t)
	go func() {
		_, _ = bot.Send(tgbotapi.NewMessage(1, "نه این"))
		_, _ = bot.Send(tgbotapi.NewMessage(2, "این"))
	}()
	got, err := s.WaitFor(ctx, func(x Sent) bool { return x.ChatID == 2 })
	if err != nil || got.Text != "این" {
		t.Errorf("WaitFor = %+v, %v", got, err)
	}
}

func TestCloseReleasesWaiters(t *testing.T) {
	s, bot := newBot(t)
	ctx := ctxT(t)
	polled := make(chan error, 1)
	go func() {
		_, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 600})
		polled <- err
	}()
	if err := s.WaitPolling(ctx); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		_, err := s.WaitSent(ctx, 1, 1)
		waited <- err
	}()
	s.Close()
	s.Close() // idempotent
	if err := <-waited; !errors.Is(err, ErrClosed) {
		t.Errorf("WaitSent after Close: %v, want ErrClosed", err)
	}
	select {
	case <-polled:
	case <-ctx.Done():
		t.Fatal("long poll outlived Close")
	}
}

func TestWithoutRecording(t *testing.T) {
	var mu sync.Mutex
	var hooked []Sent
	s, bot := newBot(t, WithoutRecording(), WithOnSend(func(x Sent) {
		mu.Lock()
		hooked = append(hooked, x)
		mu.Unlock()
	}))
	chat, user := Private(100)
	var first int
	for i := range 40 {
		m, err := bot.Send(tgbotapi.NewMessage(chat.ID, fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = m.MessageID
		}
	}
	if got := s.Sent(); len(got) != 0 {
		t.Errorf("Sent has %d calls WithoutRecording, want 0", len(got))
	}
	if got := s.SentCount(chat.ID); got != 40 {
		t.Errorf("SentCount = %d, want 40", got)
	}
	if _, err := s.WaitSent(ctxT(t), chat.ID, 40); err != nil {
		t.Errorf("WaitSent: %v", err)
	}
	mu.Lock()
	if len(hooked) != 40 {
		t.Errorf("OnSend saw %d calls, want 40", len(hooked))
	}
	mu.Unlock()
	if _, ok := s.Message(chat.ID, first); ok {
		t.Error("the oldest message is still kept")
	}
	// An edit of a forgotten message is accepted rather than failing.
	if _, err := bot.Request(tgbotapi.NewEditMessageText(chat.ID, first, "ویرایش")); err != nil {
		t.Errorf("edit of a forgotten message: %v", err)
	}
	if _, err := s.WaitFor(ctxT(t), func(Sent) bool { return true }); err == nil {
		t.Error("WaitFor WithoutRecording: no error")
	}
	upd := s.PressButton(chat, user, 40, "x")
	if _, err := bot.Request(tgbotapi.NewCallback(CallbackQueryID(upd), "")); err != nil {
		t.Errorf("answer: %v", err)
	}
	s.OnSend(nil)
}

// TestConcurrentUse drives sends, user actions and a poller at once; run
// with -race.
func TestConcurrentUse(t *testing.T) {
	s, bot := newBot(t)
	ctx := ctxT(t)
	const chats, perChat, actions = 8, 50, 400
	var wg sync.WaitGroup
	for c := range chats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perChat {
				if _, err := bot.Send(tgbotapi.NewMessage(int64(c+1), fmt.Sprint(i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range actions {
			chat, user := Private(int64(1000 + i%10))
			s.SendText(chat, user, "x")
		}
	}()
	seen := 0
	offset := 0
	for seen < actions {
		us, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: offset, Timeout: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			if u.UpdateID != offset && offset != 0 {
				t.Fatalf("update %d after offset %d: gap or reorder", u.UpdateID, offset)
			}
			offset = u.UpdateID + 1
			seen++
		}
	}
	wg.Wait()
	getUpdates(t, bot, tgbotapi.UpdateConfig{Offset: offset})
	if s.Pending() != 0 || s.Confirmed() != actions {
		t.Errorf("Pending = %d, Confirmed = %d; want 0, %d", s.Pending(), s.Confirmed(), actions)
	}
	for c := range chats {
		got, err := s.WaitSent(ctx, int64(c+1), perChat)
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range got {
			if x.MessageID != i+1 {
				t.Fatalf("chat %d: message ids %d at %d", c+1, x.MessageID, i)
			}
		}
	}
	all := s.Sent()
	for i := 1; i < len(all); i++ {
		if all[i].Seq != all[i-1].Seq+1 {
			t.Fatalf("Seq not consecutive at %d", i)
		}
	}
}

func TestAppendString(t *testing.T) {
	tests := []string{"", "ساده", "quote\" back\\slash", "ctl\x00\x1f\t\r\n", "bad \xff utf8", "sep\u2028\u2029", "😀 emoji", "<html>&"}
	for _, in := range tests {
		checkAppendString(t, in)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "سلام", "\x00\"\\", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(checkAppendString)
}

func checkAppendString(t *testing.T, in string) {
	t.Helper()
	b := appendString(nil, in)
	var got string
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("appendString(%q) = %s: not JSON: %v", in, b, err)
	}
	want, _ := json.Marshal(in)
	var wantStr string
	_ = json.Unmarshal(want, &wantStr)
	if got != wantStr {
		t.Errorf("appendString(%q) decodes to %q, want %q", in, got, wantStr)
	}
}

func BenchmarkSendMessage(b *testing.B) {
	s := New(nil, WithoutRecording())
	defer s.Close()
	endpoint := fmt.Sprintf(s.Endpoint(), s.Token(), "sendMessage")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	body := url.Values{"chat_id": {"1"}, "text": {"سلام، گزارش شما ثبت شد."},
		"reply_markup": {`{"inline_keyboard":[[{"text":"بعدی","callback_data":"next"}]]}`}}.Encode()
	b.ReportAllocs()
	b.SetParallelism(16) // many chats in flight, as the bot's sender has
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(endpoint, "application/x-www-form-urlencoded", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

func BenchmarkSendTextAndPoll(b *testing.B) {
	s := New(nil, WithoutRecording())
	defer s.Close()
	chat, user := Private(1)
	endpoint := fmt.Sprintf(s.Endpoint(), s.Token(), "getUpdates")
	b.ReportAllocs()
	offset := 0
	for i := 0; i < b.N; i += 100 {
		for j := 0; j < 100 && i+j < b.N; j++ {
			offset = s.SendText(chat, user, "سلام")
		}
		resp, err := http.PostForm(endpoint, url.Values{"offset": {fmt.Sprint(offset)}})
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
