package bottest

import (
	"context"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// manualClock is a WithNow clock moved by the test.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestChatLimits(t *testing.T) {
	clock := &manualClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	s := New(t, WithChatLimits(ChatLimits{}), WithNow(clock.Now))
	ctx := context.Background()
	chat, user := Private(60)
	sendTo := func(id int64) (int, int) {
		code, got := call(t, ctx, s, "sendMessage", url.Values{"chat_id": {strconv.FormatInt(id, 10)}, "text": {"پیام"}})
		retry := 0
		if got.Parameters != nil {
			retry = got.Parameters.RetryAfter
		}
		return code, retry
	}

	// A burst of 3, then 429 with retry_after 1 (1 a second).
	for i := range 3 {
		if code, _ := sendTo(60); code != 200 {
			t.Fatalf("message %d of the burst: HTTP %d", i+1, code)
		}
	}
	if code, retry := sendTo(60); code != 429 || retry != 1 {
		t.Fatalf("4th message: HTTP %d retry_after %d, want 429 and 1", code, retry)
	}
	// Edits count too; callback answers do not.
	last, _ := s.LastMessage(60)
	code, _ := call(t, ctx, s, "editMessageText", url.Values{"chat_id": {"60"}, "message_id": {strconv.Itoa(last.MessageID)}, "text": {"ویرایش"}})
	if code != 429 {
		t.Errorf("an edit over the limit: HTTP %d, want 429", code)
	}
	upd := s.PressButton(chat, user, last.MessageID, "x")
	if code, _ := call(t, ctx, s, "answerCallbackQuery", url.Values{"callback_query_id": {CallbackQueryID(upd)}}); code != 200 {
		t.Errorf("a callback answer: HTTP %d, want 200 (not limited)", code)
	}
	// Another chat has its own bucket.
	if code, _ := sendTo(61); code != 200 {
		t.Errorf("another chat: HTTP %d, want 200", code)
	}
	// A second later one more message goes through.
	clock.Advance(time.Second)
	if code, _ := sendTo(60); code != 200 {
		t.Errorf("a second later: HTTP %d, want 200", code)
	}
	// Groups: 20 a minute, so a 4th message waits 3 s.
	for range 3 {
		sendTo(-100)
	}
	if code, retry := sendTo(-100); code != 429 || retry != 3 {
		t.Errorf("4th group message: HTTP %d retry_after %d, want 429 and 3", code, retry)
	}
	if got, want := s.TooManyCount(), 3; got != want {
		t.Errorf("TooManyCount = %d, want %d", got, want)
	}
}

func TestFailChat(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	s.FailChat(70, 1, Fault{Code: 429, RetryAfter: 9})
	code, got := call(t, ctx, s, "sendMessage", url.Values{"chat_id": {"71"}, "text": {"x"}})
	if code != 200 {
		t.Fatalf("chat 71: HTTP %d %s", code, got.Description)
	}
	code, got = call(t, ctx, s, "sendMessage", url.Values{"chat_id": {"70"}, "text": {"x"}})
	if code != 429 || got.Parameters == nil || got.Parameters.RetryAfter != 9 {
		t.Fatalf("chat 70: HTTP %d %+v, want 429 retry_after 9", code, got)
	}
	if code, _ = call(t, ctx, s, "sendMessage", url.Values{"chat_id": {"70"}, "text": {"x"}}); code != 200 {
		t.Errorf("chat 70 after its fault: HTTP %d", code)
	}
	if s.TooManyCount() != 1 {
		t.Errorf("TooManyCount = %d, want 1", s.TooManyCount())
	}
}

func TestCommandScopesAndAlbums(t *testing.T) {
	s := New(t)
	ctx := context.Background()
	cmds := `[{"command":"menu","description":"فهرست"}]`
	code, got := call(t, ctx, s, "setMyCommands", url.Values{"commands": {cmds}, "scope": {`{"type":"chat","chat_id":42}`}})
	if code != 200 {
		t.Fatalf("setMyCommands: HTTP %d %s", code, got.Description)
	}
	if c, ok := s.ChatCommands(42); !ok || c != cmds {
		t.Errorf("ChatCommands(42) = %q %v", c, ok)
	}
	_, got = call(t, ctx, s, "getMyCommands", url.Values{})
	if string(got.Result) != "[]" {
		t.Errorf("default scope commands = %s, want [] (the chat scope is apart)", got.Result)
	}
	if code, _ := call(t, ctx, s, "setMyCommands", url.Values{"commands": {cmds}, "scope": {`{"type":"chat"}`}}); code != 400 {
		t.Errorf("a chat scope without chat_id: HTTP %d, want 400", code)
	}

	chat, user := Private(43)
	a, b := s.FileID(s.SendPhoto(chat, user, "", "")), s.FileID(s.SendPhoto(chat, user, "", ""))
	media := `[{"type":"photo","media":"` + a + `","caption":"عکس‌ها"},{"type":"photo","media":"` + b + `"}]`
	code, got = call(t, ctx, s, "sendMediaGroup", url.Values{"chat_id": {"43"}, "media": {media}})
	if code != 200 {
		t.Fatalf("sendMediaGroup: HTTP %d %s", code, got.Description)
	}
	sent := s.SentTo(43)
	if len(sent) != 2 || sent[0].FileID != a || sent[1].FileID != b || sent[0].Text != "عکس‌ها" {
		t.Errorf("album recorded as %v", sent)
	}
	one := `[{"type":"photo","media":"` + a + `"}]`
	if code, _ := call(t, ctx, s, "sendMediaGroup", url.Values{"chat_id": {"43"}, "media": {one}}); code != 400 {
		t.Errorf("an album of one: HTTP %d, want 400", code)
	}
}
