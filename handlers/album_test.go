package handlers

import (
	"context"
	"testing"

	"github.com/mahalle/mahalle/bot"
	"github.com/mahalle/mahalle/conversations"
)

// albumRecorder is a sender that can send albums.
type albumRecorder struct {
	recorder
	albums [][]string
}

func (a *albumRecorder) SendAlbum(_ context.Context, _ int64, ids []string) error {
	a.albums = append(a.albums, ids)
	a.sent = append(a.sent, bot.Message{Text: "(album)"})
	return nil
}

// A live prompt's photos go first as one album; the question with its
// buttons is its own message after it.
func TestAlbumBeforeQuestion(t *testing.T) {
	outs := []conversations.Out{
		{Album: []string{"p1", "p2", "p3"}},
		{Text: "اقدام «پاکسازی بوستان»\n\nتأیید می‌کنید؟", Buttons: [][]conversations.Button{{{Text: "تأیید", Data: "n|s|ok"}}}, Prompt: true},
	}
	s := &albumRecorder{}
	r := NewRouter(Config{Senders: map[bot.Platform]Sender{bot.Telegram: s}, Conversations: &scripted{outs: outs}})
	if err := r.Handle(context.Background(), private("x")); err != nil {
		t.Fatal(err)
	}
	if len(s.albums) != 1 || len(s.albums[0]) != 3 {
		t.Fatalf("albums = %v, want one of 3 photos", s.albums)
	}
	if len(s.sent) != 2 || s.sent[0].Text != "(album)" || len(s.sent[1].Inline) != 1 {
		t.Errorf("sent = %+v, want the album, then the question with its button", s.sent)
	}

	// A sender without albums sends a lone photo as a photo.
	plain := &recorder{}
	r = NewRouter(Config{Senders: map[bot.Platform]Sender{bot.Telegram: plain}, Conversations: &scripted{outs: []conversations.Out{
		{Album: []string{"p1"}}, {Text: "پرسش"}}}})
	if err := r.Handle(context.Background(), private("x")); err != nil {
		t.Fatal(err)
	}
	if len(plain.sent) != 2 || plain.sent[0].Photo == nil || plain.sent[0].Photo.FileID != "p1" {
		t.Errorf("sent = %+v, want the photo, then the question", plain.sent)
	}
}
