package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/models"
)

// firstPlaceButton is the label of the first button of the newest prompt
// that lists places: what a person sees at the top of the list.
func firstPlaceButton(t *testing.T, p *person) string {
	t.Helper()
	all := p.srv.SentTo(p.chat.ID)
	for i := len(all) - 1; i >= 0; i-- {
		m, ok := p.srv.Message(p.chat.ID, all[i].MessageID)
		if ok && !m.Deleted && len(m.Inline) > 0 && strings.Contains(m.Text, "محله یا روستای خود") {
			return m.Inline[0][0].Text
		}
	}
	t.Fatalf("no list of places in chat:\n%s", dump(all))
	return ""
}

// TestFindPlaceByLocation: a shared location picks the county by its
// boundary and lists the county's places nearest first; a point on a
// county border still gives one county; a point abroad is refused in
// Persian and the browse stays.
func TestFindPlaceByLocation(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(6101)
	p.say("/start")
	p.press("ارسال پیشنهاد")

	// Outside Iran (Paris): a plain answer, and the provinces again.
	got := p.wait(p.srv.SendLocation(p.chat, p.user, 48.8566, 2.3522))
	expect(t, got, "در هیچ شهرستانی از ایران نیست", "کدام استان")

	// Beside «روستای نمونه ۱ اراک»: Arak, with the village first.
	got = p.wait(p.srv.SendLocation(p.chat, p.user, 34.141, 49.641))
	expect(t, got, "موقعیت شما در شهرستان اراک (استان مرکزی) است", "محله یا روستای خود")
	if first := firstPlaceButton(t, p); first != "روستای نمونه ۱ اراک" {
		t.Errorf("first place = %q, want the village beside the point", first)
	}
	// Beside «محله نمونه ۲ اراک»: now it comes first. A location at the
	// place step is read by going back to the county step.
	p.say("/back")
	got = p.wait(p.srv.SendLocation(p.chat, p.user, 34.0861, 49.6861))
	expect(t, got, "شهرستان اراک")
	if first := firstPlaceButton(t, p); first != "محله نمونه ۲ اراک" {
		t.Errorf("first place = %q, want «محله نمونه ۲ اراک»", first)
	}

	// A vertex of the Arak–Khondab border: one of the two, and the flow goes on.
	p.say("/back")
	got = p.wait(p.srv.SendLocation(p.chat, p.user, 34.1988, 49.4692))
	expect(t, got, "موقعیت شما در شهرستان اراک")
	got = p.press("محله نمونه ۱ اراک")
	expect(t, got, "محله یا روستا: محله نمونه ۱ اراک", "موضوع")
}

// TestSearchSaysHowManyMore: a search tolerant of how Persian is typed
// shows the first eight and says how many more it found.
func TestSearchSaysHowManyMore(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(6102)
	p.say("/start")
	p.press("ارسال پیشنهاد")
	// Arabic ي/ك and a missing letter still find «محله نمونه ۱ اراک».
	got := p.say("محله نمونه ۱ اراك")
	hasButton(t, got, "محله نمونه ۱ اراک (اراک، مرکزی)")
	// «نمونه» is in every demo place: eight shown, the rest counted.
	p.say("/back")
	got = p.say("نمونه")
	expect(t, got, "مورد دیگر هم پیدا شد", "چند حرف بیشتر")
	var buttons int
	m, ok := p.srv.Message(p.chat.ID, got[len(got)-1].MessageID)
	if !ok {
		t.Fatalf("no prompt:\n%s", dump(got))
	}
	for _, row := range m.Inline {
		buttons += len(row)
	}
	if buttons != 8 {
		t.Errorf("a search shows %d buttons, want 8:\n%s", buttons, m.Text)
	}
	if strings.Contains(dump(got), "محلهٔ من در فهرست نیست") {
		t.Errorf("a search's list offers «not in the list», which needs a county:\n%s", dump(got))
	}
	// A typo of one letter in a longer name.
	p.say("/back")
	hasButton(t, p.say("روستای نمونه ۱ اراگ"), "روستای نمونه ۱ اراک (اراک، مرکزی)")
}

// TestMissingPlaceCreatedAndUsed: a resident whose neighborhood is missing
// types its name; it is created unconfirmed under the county, shown
// «تأییدنشده», usable at once for a suggestion, and found by the next
// resident.
func TestMissingPlaceCreatedAndUsed(t *testing.T) {
	h := newHarness(t)
	h.start()
	store := h.openStore()
	ctx := context.Background()
	p := h.person(6103)
	p.say("/start")
	p.press("ارسال پیشنهاد")
	p.press("مرکزی")
	p.press("اراک")
	expect(t, p.press("محلهٔ من در فهرست نیست"), "نام محله یا روستای خود را بنویسید")
	expect(t, p.say("ک"), "⚠️")                                   // too short: asked again
	hasButton(t, p.press("بازگشت به فهرست"), "محله نمونه ۱ اراک") // the list again
	p.press("محلهٔ من در فهرست نیست")
	expect(t, p.say("کوی گلستان"), "موضوع")
	p.press("عمران")
	p.say("کوچهٔ ما چراغ ندارد و شب‌ها تاریک است.")
	p.say("رد کردن") // the location step's reply keyboard
	p.press("رد کردن")
	expect(t, p.press("بی‌نام"), "محله یا روستا: کوی گلستان (تأییدنشده)")
	got := p.press("تأیید و ارسال")
	expect(t, got, "ثبت شد")

	ms, err := store.FindPlaces(ctx, "کوي گلستان", 0, 5)
	if err != nil || len(ms.Matches) != 1 || ms.Matches[0].Confirmed || ms.Matches[0].CountyName != "اراک" {
		t.Fatalf("the new place = %+v, %v; want one unconfirmed place in Arak", ms, err)
	}
	sgs, _, err := store.MySuggestions(ctx, "tg", 6103, 0, 10)
	if err != nil || len(sgs) != 1 || sgs[0].PlaceID != ms.Matches[0].ID {
		t.Fatalf("suggestions = %+v, %v; want one at the new place %d", sgs, err, ms.Matches[0].ID)
	}

	// The next resident finds it, marked, and typing it again creates nothing.
	q := h.person(6104)
	q.say("/start")
	q.press("ارسال پیشنهاد")
	hasButton(t, q.say("کوی گلستان"), "کوی گلستان (تأییدنشده) (اراک، مرکزی)")
	q.say("/back")
	q.press("مرکزی")
	q.press("اراک")
	q.press("محلهٔ من در فهرست نیست")
	expect(t, q.say("كوي‌گلستان"), "موضوع") // the same place, not a second one
	if again, err := store.FindPlaces(ctx, "گلستان", 0, 5); err != nil || again.Total != 1 {
		t.Fatalf("after a second resident typed it: %+v, %v; want still one place", again, err)
	}
	// They typed a place that was there already: cancelling records nothing.
	expect(t, q.say("/cancel"), "لغو شد. چیزی ثبت نشد.")

	// Cancelled after typing a new place in: nothing sent, and it says the
	// place stays (it is not «nothing recorded»).
	r := h.person(6105)
	r.say("/start")
	r.press("ارسال پیشنهاد")
	r.press("مرکزی")
	r.press("اراک")
	r.press("محلهٔ من در فهرست نیست")
	expect(t, r.say("شهرک بهار"), "موضوع")
	expect(t, r.say("/cancel"), "لغو شد و چیزی فرستاده نشد؛ «شهرک بهار (تأییدنشده)» که افزودید در فهرست می‌ماند.")
	expect(t, r.say("/cancel"), "گفتگویی در جریان نیست که لغو شود")
}

// TestPlaceDeepLink: t.me/<bot>?start=p<id> makes the place «محلهٔ من» and
// shows its feed; a link to no place says so in Persian.
func TestPlaceDeepLink(t *testing.T) {
	h := newHarness(t)
	h.start()
	store := h.openStore()
	ctx := context.Background()
	found, err := store.FindPlaces(ctx, "محله نمونه ۲ اراک", 0, 1)
	if err != nil || len(found.Matches) != 1 {
		t.Fatalf("place = %+v, %v", found, err)
	}
	id := found.Matches[0].ID
	p := h.person(6105)
	got := p.say("/start " + models.PlaceStartParam(id))
	expect(t, got, "محله نمونه ۲ اراک", "اراک")
	if home, err := store.HomePlace(ctx, "tg", 6105); err != nil || home.ID != id {
		t.Fatalf("home = %+v, %v; want place %d", home, err, id)
	}
	got = p.say("/start p999999")
	expect(t, got, "این محله پیدا نشد")
	// Any other payload is a plain /start.
	expect(t, p.say("/start ref_12"), "از منوی زیر")
}

// TestPlaceQRCard: from «محلهٔ من» a resident gets the place's printable QR
// card: a PNG photo, and its deep link, which opens the place's feed.
func TestPlaceQRCard(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(6106)
	p.say("/start")
	p.press("محلهٔ من")
	p.walkToPlace(2)
	got := p.press("کارت QR محله")
	var photo *bottest.Sent
	for i := range got {
		if got[i].Method == "sendPhoto" {
			photo = &got[i]
		}
	}
	if photo == nil {
		t.Fatalf("no photo sent:\n%s", dump(got))
	}
	data, ok := p.srv.FileData(photo.FileID)
	if !ok || len(data) < 8 || string(data[1:4]) != "PNG" {
		t.Fatalf("the card is not a PNG (%d bytes)", len(data))
	}
	expect(t, got, "کارت QR «محله نمونه ۲ اراک» آماده است", "https://t.me/mahalle_test_bot?start=p")
	link := regexp.MustCompile(`start=(p\d+)`).FindStringSubmatch(dump(got))
	if link == nil {
		t.Fatalf("no deep link in:\n%s", dump(got))
	}
	q := h.person(6107)
	expect(t, q.say("/start "+link[1]), "محله نمونه ۲ اراک")
}

// TestTopicOther: «سایر / نمی‌دانم» is a topic a resident can pick; the
// suggestion is stored under the seeded committee «other», which the
// council's chair and secretary receive (models TestSuggestionRecipients).
func TestTopicOther(t *testing.T) {
	h := newHarness(t)
	h.start()
	store := h.openStore()
	p := h.person(6108)
	p.say("/start")
	p.press("ارسال پیشنهاد")
	p.walkToPlace(1)
	p.press("سایر / نمی‌دانم")
	p.say("نمی‌دانم این کار با کدام کارگروه است، ولی پل کوچه شکسته است.")
	p.say("رد کردن")
	p.press("رد کردن")
	p.press("بی‌نام")
	got := p.press("تأیید و ارسال")
	code := codePattern.FindString(lastTextWith(got, "کد پیگیری"))
	if code == "" {
		t.Fatalf("no tracking code:\n%s", dump(got))
	}
	sg, err := store.SuggestionByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := store.Committees(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, cm := range cs {
		if cm.ID == sg.CommitteeID && cm.Code != models.CommitteeOther {
			t.Fatalf("stored under %q, want «other»", cm.Code)
		}
		if cm.ID == sg.CommitteeID {
			return
		}
	}
	t.Fatalf("committee %d is not in the default list %+v", sg.CommitteeID, cs)
}
