package handlers

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mahalle/mahalle/bot"
	"github.com/mahalle/mahalle/conversations"
)

// memPhotos is a PhotoStore in memory.
type memPhotos struct {
	origins map[string]string
	copies  map[string]string // platform + "/" + file id → copy
}

func (m *memPhotos) RecordPhoto(_ context.Context, platform, id string) error {
	m.origins[id] = platform
	return nil
}

func (m *memPhotos) PhotoOrigins(_ context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		if o, ok := m.origins[id]; ok {
			out[id] = o
		}
	}
	return out, nil
}

func (m *memPhotos) PhotoCopies(_ context.Context, platform string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		if c, ok := m.copies[platform+"/"+id]; ok {
			out[id] = c
		}
	}
	return out, nil
}

func (m *memPhotos) SavePhotoCopy(_ context.Context, id, platform, copyID string) error {
	m.copies[platform+"/"+id] = copyID
	return nil
}

// photoPlatform is a sender that sends photos and downloads files.
type photoPlatform struct {
	recorder
	files   map[string][]byte
	albums  [][]bot.Photo
	uploads int
}

func (p *photoPlatform) SendPhotos(_ context.Context, _ int64, photos []bot.Photo) ([]string, error) {
	p.albums = append(p.albums, photos)
	var ids []string
	for _, ph := range photos {
		if ph.Data != nil {
			p.uploads++
			ids = append(ids, "up-"+string(ph.Data))
			continue
		}
		ids = append(ids, ph.FileID)
	}
	return ids, nil
}

func (p *photoPlatform) Download(_ context.Context, id string, max int64) ([]byte, error) {
	d, ok := p.files[id]
	if !ok {
		return nil, errors.New("bot: getFile: 400")
	}
	return d, nil
}

// A photo received on Telegram is uploaded to Bale once and sent there by
// its copy afterwards; Bale's own photos and photos never recorded go by
// their ids; a photo that cannot be downloaded is left out of the album.
func TestAlbumAcrossPlatforms(t *testing.T) {
	tg := &photoPlatform{files: map[string][]byte{"tg-1": []byte("one"), "tg-2": []byte("two")}}
	bale := &photoPlatform{}
	store := &memPhotos{origins: map[string]string{"tg-1": "tg", "tg-2": "tg", "tg-gone": "tg", "bale-1": "bale"}, copies: map[string]string{}}
	eng := &scripted{outs: []conversations.Out{{Album: []string{"tg-1", "bale-1", "tg-gone", "old", "tg-2"}}, {Text: "پرسش"}}}
	r := NewRouter(Config{Senders: map[bot.Platform]Sender{bot.Telegram: tg, bot.Bale: bale}, Conversations: eng, Photos: store})
	u := private("x")
	u.Platform = bot.Bale
	for range 2 {
		if err := r.Handle(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	if len(bale.albums) != 2 {
		t.Fatalf("albums = %+v, want two", bale.albums)
	}
	want := []bot.Photo{{Data: []byte("one")}, {FileID: "bale-1"}, {FileID: "old"}, {Data: []byte("two")}}
	if !slices.EqualFunc(bale.albums[0], want, samePhoto) {
		t.Errorf("first album = %+v, want %+v", bale.albums[0], want)
	}
	want = []bot.Photo{{FileID: "up-one"}, {FileID: "bale-1"}, {FileID: "old"}, {FileID: "up-two"}}
	if !slices.EqualFunc(bale.albums[1], want, samePhoto) {
		t.Errorf("second album = %+v, want %+v (the copies, no upload)", bale.albums[1], want)
	}
	if bale.uploads != 2 {
		t.Errorf("uploads = %d, want 2 (once per photo)", bale.uploads)
	}
	// On Telegram the same album goes by Telegram's ids; Bale's photo,
	// which Bale's bot cannot download here, is left out.
	if err := r.Handle(context.Background(), private("x")); err != nil {
		t.Fatal(err)
	}
	want = []bot.Photo{{FileID: "tg-1"}, {FileID: "tg-gone"}, {FileID: "old"}, {FileID: "tg-2"}}
	if !slices.EqualFunc(tg.albums[0], want, samePhoto) {
		t.Errorf("Telegram album = %+v, want %+v", tg.albums[0], want)
	}
	// A photo received here is recorded with its platform.
	in := private("")
	in.Photo = &bot.File{FileID: "tg-new"}
	if err := r.Handle(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if store.origins["tg-new"] != "tg" {
		t.Errorf("origins = %v, want tg-new from tg", store.origins)
	}
}

func samePhoto(a, b bot.Photo) bool { return a.FileID == b.FileID && string(a.Data) == string(b.Data) }
