package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/bot/bottest"
)

// albumOf returns the file ids of the photos the bot sent to chat since
// from (sendMediaGroup and sendPhoto calls), in order.
func albumOf(srv *bottest.Server, chat int64, from int) []string {
	var ids []string
	for _, s := range srv.SentTo(chat)[from:] {
		if (s.Method == "sendMediaGroup" || s.Method == "sendPhoto") && s.FileID != "" {
			ids = append(ids, s.FileID)
		}
	}
	return ids
}

// TestPhotosAcrossPlatforms: the bot runs on Telegram and Bale in one
// process. A member reports an action on Telegram with two photos; the
// county's coordinator, on Bale, opens the review queue and gets an album
// of the same bytes, uploaded with Bale's bot (Telegram's file ids mean
// nothing there). Opening it again sends the copies by their Bale file
// ids: each photo is uploaded once per platform.
func TestPhotosAcrossPlatforms(t *testing.T) {
	h := newHarness(t)
	bale := bottest.New(t, bottest.WithToken(goodToken), bottest.WithBotUser(8000, "mahalle_bale_bot"))
	h.env["BALE_TOKEN"] = goodToken
	h.env["BALE_API_ENDPOINT"] = bale.Endpoint()
	h.env["NOTICE_INTERVAL"] = "20ms"
	h.env["QUIET_HOURS"] = "none"
	if code, out, errOut := runRoster(t, h.env, "import", writeRoster(t, testRoster)); code != exitOK {
		t.Fatalf("roster import exit %d:\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := runStaff(t, h.env, "add", "09350000002", "county", "اراک"); code != exitOK {
		t.Fatalf("staff add exit %d:\n%s\n%s", code, out, errOut)
	}
	r := h.start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bot log:\n%s", r.logs.String())
		}
	})
	if err := waitPolling(bale); err != nil {
		t.Fatalf("the Bale bot never polled: %v", err)
	}
	hb := *h // the same bot, seen from Bale
	hb.srv = bale
	coord := hb.person(8101)
	expect(t, coord.register("+989350000002"), "هماهنگ‌کننده")

	// On Telegram: a report with an album of two photos.
	photos := [][]byte{[]byte("\xff\xd8\xff first photo of the channel"), []byte("\xff\xd8\xff second photo, after")}
	m := h.person(8102)
	m.register("09121111111")
	m.say("/start")
	m.press("گزارش اقدام")
	m.press("کارگروه شما")
	m.press("تمام")
	m.say("لایروبی جوی آب خیابان شهید بهشتی")
	m.say("جوی آب با کمک شهرداری لایروبی شد.")
	m.press("امروز")
	m.say("رد کردن")
	for _, p := range photos {
		m.wait(h.srv.SendPhotoData(m.chat, m.user, p, "image/jpeg", "", "album-1"))
	}
	m.press("تمام")
	m.say("رد کردن")
	m.say("رد کردن")
	expect(t, m.say("رد کردن"), "خلاصهٔ «گزارش اقدام»", "۲ عکس")
	code := actionCode.FindString(lastTextWith(m.press("تأیید و ارسال"), "کد پیگیری"))
	store := h.openStore()
	ctx := context.Background()
	a, err := store.ActionByCode(ctx, code)
	if err != nil || len(a.Photos) != 2 {
		t.Fatalf("stored action = %+v, %v", a, err)
	}
	for i, id := range a.Photos {
		if f, ok := h.srv.File(id); !ok || !bytes.Equal(f.Data, photos[i]) {
			t.Fatalf("photo %d is not Telegram's file %q", i, id)
		}
	}

	// On Bale: the review queue shows the album, uploaded from Telegram's bytes.
	coord.say("/start")
	before := len(bale.SentTo(coord.chat.ID))
	got := coord.press("بررسی اقدام‌ها")
	expect(t, got, code, "لایروبی جوی آب")
	first := albumOf(bale, coord.chat.ID, before)
	if len(first) != 2 {
		t.Fatalf("the coordinator got %d photos, want an album of 2:\n%s", len(first), dump(bale.SentTo(coord.chat.ID)))
	}
	for i, id := range first {
		f, ok := bale.File(id)
		if !ok || !bytes.Equal(f.Data, photos[i]) {
			t.Errorf("Bale photo %d = %q, want the bytes received on Telegram", i, f.Data)
		}
		if slices.Contains(a.Photos, id) {
			t.Errorf("Bale was sent Telegram's file id %q", id)
		}
	}
	for _, s := range bale.SentTo(coord.chat.ID)[before:] {
		if s.Method == "sendMediaGroup" && !strings.Contains(s.Params.Get("media"), "attach://") {
			t.Errorf("the first album was not uploaded: %s", s.Params.Get("media"))
		}
	}

	// Seen again: the same Bale copies, by file id, with no upload.
	coord.say("/cancel")
	coord.say("/start")
	before = len(bale.SentTo(coord.chat.ID))
	coord.press("بررسی اقدام‌ها")
	again := albumOf(bale, coord.chat.ID, before)
	if !slices.Equal(again, first) {
		t.Errorf("second album = %v, want the first's copies %v", again, first)
	}
	for _, s := range bale.SentTo(coord.chat.ID)[before:] {
		if strings.Contains(s.Params.Get("media"), "attach://") {
			t.Errorf("a photo was uploaded to Bale a second time")
		}
	}
	copies, err := store.PhotoCopies(ctx, "bale", a.Photos)
	if err != nil || len(copies) != 2 {
		t.Errorf("photo copies for Bale = %v, %v; want 2", copies, err)
	}
	origins, err := store.PhotoOrigins(ctx, a.Photos)
	if err != nil || origins[a.Photos[0]] != "tg" || origins[a.Photos[1]] != "tg" {
		t.Errorf("photo origins = %v, %v; want both Telegram", origins, err)
	}
	noEnglish(t, bale.SentTo(coord.chat.ID))
}

// waitPolling waits until the bot polls srv.
func waitPolling(srv *bottest.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	return srv.WaitPolling(ctx)
}
