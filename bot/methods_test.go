package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mahalle/mahalle/bot/bottest"
)

func TestChatCommands(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	cmds := []Command{{Name: "menu", Description: "فهرست کارها"}, {Name: "review", Description: "بررسی گزارش‌ها"}}
	if err := f.client.SetChatCommands(ctx, 77, cmds); err != nil {
		t.Fatalf("SetChatCommands: %v", err)
	}
	raw, ok := f.srv.ChatCommands(77)
	if !ok {
		t.Fatal("no commands set for chat 77's scope")
	}
	var got []struct{ Command, Description string }
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("commands %q: %v", raw, err)
	}
	if len(got) != 2 || got[0].Command != "menu" || got[1].Description != "بررسی گزارش‌ها" {
		t.Errorf("commands = %+v, want menu and review", got)
	}
	if _, ok := f.srv.ChatCommands(78); ok {
		t.Error("chat 78 got chat 77's commands")
	}
	if err := f.client.DeleteChatCommands(ctx, 77); err != nil {
		t.Fatalf("DeleteChatCommands: %v", err)
	}
	if _, ok := f.srv.ChatCommands(77); ok {
		t.Error("chat 77 still has commands after DeleteChatCommands")
	}
}

func TestSendAlbum(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	chat, user := bottest.Private(90)
	var ids []string
	for range 12 {
		ids = append(ids, f.srv.FileID(f.srv.SendPhoto(chat, user, "", "g1")))
	}
	tests := []struct {
		name      string
		photos    []string
		caption   string
		wantMsgs  int
		wantCalls int // sendMediaGroup calls
	}{
		{"one photo goes by sendPhoto", ids[:1], "عکس کار", 1, 0},
		{"three photos, one album", ids[:3], "عکس‌های کار", 3, 1},
		{"twelve photos, two albums", ids, "", 12, 2},
		{"a long caption follows as text", ids[:2], strings.Repeat("ش", 1100), 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, calls := f.srv.SentCount(90), f.srv.Calls("sendMediaGroup")
			got, err := f.client.SendAlbum(ctx, 90, tt.photos, tt.caption)
			if err != nil {
				t.Fatalf("SendAlbum: %v", err)
			}
			if len(got) != tt.wantMsgs {
				t.Errorf("message ids = %v, want %d", got, tt.wantMsgs)
			}
			if n := f.srv.SentCount(90) - before; n != tt.wantMsgs {
				t.Errorf("chat got %d messages, want %d", n, tt.wantMsgs)
			}
			if n := f.srv.Calls("sendMediaGroup") - calls; n != tt.wantCalls {
				t.Errorf("sendMediaGroup calls = %d, want %d", n, tt.wantCalls)
			}
			sent := f.srv.SentTo(90)
			first := sent[before]
			if first.FileID != tt.photos[0] {
				t.Errorf("first message carries %q, want %q", first.FileID, tt.photos[0])
			}
			if utf16Units(tt.caption) <= maxCaptionUnits && first.Text != tt.caption {
				t.Errorf("caption = %q, want %q", first.Text, tt.caption)
			}
		})
	}
	if _, err := f.client.SendAlbum(ctx, 90, []string{ids[0], "no-such-file"}, ""); !errors.Is(err, ErrBadRequest) {
		t.Errorf("an unknown file id = %v, want ErrBadRequest", err)
	}
}

func TestDownload(t *testing.T) {
	f := newFixture(t, nil)
	chat, user := bottest.Private(91)
	id := f.srv.FileID(f.srv.SendPhoto(chat, user, "", ""))
	want, _ := f.srv.FileData(id)
	got, err := f.client.Download(context.Background(), id, 20<<20)
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("downloaded %d bytes, want the %d stored", len(got), len(want))
	}
	if _, err := f.client.Download(context.Background(), id, int64(len(want)-1)); err == nil {
		t.Error("Download over max succeeded")
	}
	if _, err := f.client.Download(context.Background(), "nope", 1<<20); !errors.Is(err, ErrBadRequest) {
		t.Errorf("Download of an unknown id = %v, want ErrBadRequest", err)
	}
	// Re-sent on the other side by file id after the download: the photo path works.
	if _, err := f.client.Send(context.Background(), Message{ChatID: 91, Text: "عکس", Photo: &File{FileID: id}}); err != nil {
		t.Errorf("Send photo: %v", err)
	}
}

func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "سلام", `"\`, "\x00\x1f\n\r\t", "\xff", "\u2028", "📱"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("appendJSONString(%q) = %s, not JSON: %v", s, b, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if utf8.ValidString(s) {
			want = s
		}
		// encoding/json turns each invalid byte into U+FFFD; ToValidUTF8 folds runs.
		var viaStd string
		std, _ := json.Marshal(s)
		_ = json.Unmarshal(std, &viaStd)
		if got != viaStd && got != want {
			t.Errorf("round trip of %q = %q, want %q", s, got, viaStd)
		}
	})
}

func TestMarkupJSONMatchesTheKeyboards(t *testing.T) {
	m := &Message{Inline: [][]Button{{{Text: "بله \"آری\"", Data: "y:1"}, {Text: "سایت", URL: "https://example.org/?a=1&b=2"}}}}
	var inline struct {
		InlineKeyboard [][]struct {
			Text         string  `json:"text"`
			CallbackData *string `json:"callback_data"`
			URL          string  `json:"url"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal(appendMarkupJSON(nil, m), &inline); err != nil {
		t.Fatal(err)
	}
	row := inline.InlineKeyboard[0]
	if row[0].Text != "بله \"آری\"" || row[0].CallbackData == nil || *row[0].CallbackData != "y:1" || row[1].URL != "https://example.org/?a=1&b=2" {
		t.Errorf("inline keyboard = %+v", inline)
	}
	reply := &Message{Reply: [][]ReplyButton{{{Text: "📱 شماره", RequestContact: true}}, {{Text: "📍 مکان", RequestLocation: true}}}}
	var kb struct {
		Keyboard [][]struct {
			Text            string `json:"text"`
			RequestContact  bool   `json:"request_contact"`
			RequestLocation bool   `json:"request_location"`
		} `json:"keyboard"`
		Resize bool `json:"resize_keyboard"`
	}
	if err := json.Unmarshal(appendMarkupJSON(nil, reply), &kb); err != nil {
		t.Fatal(err)
	}
	if len(kb.Keyboard) != 2 || !kb.Keyboard[0][0].RequestContact || !kb.Keyboard[1][0].RequestLocation || !kb.Resize {
		t.Errorf("reply keyboard = %+v", kb)
	}
	if got := string(appendMarkupJSON(nil, &Message{RemoveReply: true})); got != `{"remove_keyboard":true}` {
		t.Errorf("remove = %s", got)
	}
	if got := appendMarkupJSON(nil, &Message{}); len(got) != 0 {
		t.Errorf("no keyboard = %s, want nothing", got)
	}
}
