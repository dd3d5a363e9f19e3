package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// council is the seeded council of «محله نمونه ۱ اراک»: its chair and what
// a test needs to record its work.
type council struct {
	chair      models.MembershipView
	health     uint // committee «بهداشت و درمان»
	civil      uint // committee «عمران و خدمات محلی»
	programme  string
	place2     uint // «محله نمونه ۲ اراک», another place of the county
	countyName string
	photos     []string // the file ids an added action carries [ph-1, ph-2]
}

func seedCouncil(t *testing.T, store *models.Store) council {
	t.Helper()
	ctx := context.Background()
	ms, err := store.MembershipsByPhone(ctx, "+989121111111")
	if err != nil || len(ms) != 1 {
		t.Fatalf("chair = %+v, %v", ms, err)
	}
	c := council{chair: ms[0], countyName: ms[0].CountyName, photos: []string{"ph-1", "ph-2"}}
	cs, err := store.Committees(ctx, ms[0].ProvinceID)
	if err != nil {
		t.Fatal(err)
	}
	for _, cm := range cs {
		switch cm.Name {
		case "بهداشت و درمان":
			c.health = cm.ID
		case "عمران و خدمات محلی":
			c.civil = cm.ID
		}
	}
	ps, err := store.Programmes(ctx)
	if err != nil || len(ps) == 0 {
		t.Fatalf("programmes = %v, %v", ps, err)
	}
	c.programme = ps[0].Code
	m2, err := store.MembershipsByPhone(ctx, "+989122222222")
	if err != nil || len(m2) != 1 {
		t.Fatalf("secretary of place 2 = %+v, %v", m2, err)
	}
	c.place2 = m2[0].PlaceID
	return c
}

// addAction records an action of the chair's council, days ago, and
// verifies it unless verified is false.
func (c council) addAction(t *testing.T, store *models.Store, title string, committee uint, daysAgo int, verified bool) models.Action {
	t.Helper()
	ctx := context.Background()
	actor := models.Actor{Platform: "tg", UserID: 1}
	lat, lon := 34.09, 49.69
	a := models.Action{
		Key: "test:" + title, PlaceID: c.chair.PlaceID, CommitteeID: committee, Title: title,
		Description: "شرح " + title, Date: time.Now().AddDate(0, 0, -daysAgo), ReporterPersonID: c.chair.PersonID,
		Programmes: []string{c.programme}, Photos: c.photos, Lat: &lat, Lon: &lon,
	}
	if err := store.CreateAction(ctx, actor, &a); err != nil {
		t.Fatal(err)
	}
	if verified {
		if _, err := store.SetActionStatus(ctx, actor, a.ID, models.ActionVerified, ""); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// tap presses a button that opens value from the main menu or from under a
// notice ("resolve:S-…:no", "unsub:3"), as the notifier's buttons do.
func (p *person) tap(value string) []bottest.Sent {
	p.t.Helper()
	data, err := conversations.EncodeCallback(conversations.CallbackData{Nonce: "m", Step: "menu", Value: value})
	if err != nil {
		p.t.Fatal(err)
	}
	all := p.srv.SentTo(p.chat.ID)
	if len(all) == 0 {
		p.t.Fatal("no message to press a button on")
	}
	return p.wait(p.srv.PressButton(p.chat, p.user, all[len(all)-1].MessageID, data))
}

// walkToPlace answers the place steps by browsing to «محله نمونه N اراک».
func (p *person) walkToPlace(n int) []bottest.Sent {
	p.t.Helper()
	p.press("مرکزی")
	p.press("اراک")
	return p.press(fmt.Sprintf("محله نمونه %s اراک", []string{"", "۱", "۲"}[n]))
}

func TestResidentFeed(t *testing.T) {
	h := memberHarness(t)
	store := h.openStore()
	ctx := context.Background()
	c := seedCouncil(t, store)
	// Oldest first: «جشن محله» is the newest.
	titles := []string{"لایروبی جوی", "کاشت درخت", "واکسیناسیون", "تعمیر چراغ", "رنگ آمیزی مدرسه", "نظافت پارک", "جشن محله"}
	var acts []models.Action
	for i, title := range titles {
		committee := c.civil
		if i == 2 {
			committee = c.health
		}
		acts = append(acts, c.addAction(t, store, title, committee, 9-i, true))
	}
	c.addAction(t, store, "کار بررسی‌نشده", c.civil, 0, false)

	p := h.person(5001)
	p.say("/start")
	// No «محلهٔ من» yet: the place is asked once, and remembered.
	expect(t, p.press("کارهای شورای محله"), "کدام استان")
	got := p.walkToPlace(1)
	expect(t, got, "محله: محله نمونه ۱ اراک", "کدام کارها")
	if home, err := store.HomePlace(ctx, "tg", 5001); err != nil || home.ID != c.chair.PlaceID {
		t.Fatalf("home place = %+v, %v", home, err)
	}

	// The first page: five, newest first, with what residents need.
	got = p.press("کارهای همین محله")
	page := lastText(got)
	for _, want := range []string{"۷ کار", "۱. جشن محله", "۵. واکسیناسیون", "کارگروه: عمران و خدمات محلی", "کارگروه: بهداشت و درمان",
		"پیشرفت: ۰٪", "هنوز کسی انجام آن را تأیید نکرده است", "برنامه‌ها: "} {
		if !strings.Contains(page, want) {
			t.Errorf("first page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "کاشت درخت") || strings.Contains(page, "بررسی‌نشده") {
		t.Errorf("first page shows more than its five verified actions:\n%s", page)
	}
	// The next page edits the same message.
	msgID, _ := p.button("بعدی")
	got = p.press("بعدی")
	edited := false
	for _, s := range got {
		if s.Method == "editMessageText" && s.MessageID == msgID && strings.Contains(s.Text, "۶. کاشت درخت") && strings.Contains(s.Text, "۷. لایروبی جوی") {
			edited = true
		}
		if s.Method == "sendMessage" {
			t.Errorf("paging sent a new message: %s", s.String())
		}
	}
	if !edited {
		t.Fatalf("the second page did not replace the first:\n%s", dump(got))
	}

	// Details, then confirm and comment from its links.
	got = p.press("۷. لایروبی جوی")
	expect(t, got, "کار «لایروبی جوی» با کد A-", "محله: محله نمونه ۱ اراک", "شرح: شرح لایروبی جوی", "عکس‌ها: ۲ عکس", "موقعیت: ۳۴٫۰۹", "تأیید ساکنان")
	expect(t, p.press("تأیید انجام این کار"), "کار «لایروبی جوی»", "آیا این کار واقعاً انجام شده است؟")
	expect(t, p.press("بله، انجام شده"), "عکس")
	expect(t, p.press("رد کردن"), "سپاس! پاسخ شما ثبت شد", "۱ نفر تأیید کرده‌اند")
	counts, err := store.Confirmations(ctx, []uint{acts[0].ID})
	if err != nil || counts[acts[0].ID].Yes != 1 {
		t.Fatalf("confirmations = %+v, %v", counts, err)
	}
	// A second confirmation from the same person replaces the first.
	p.press("تأیید انجام این کار")
	p.press("تا حدی")
	expect(t, p.wait(h.srv.SendPhoto(p.chat, p.user, "", "")), "سپاس! پاسخ شما ثبت شد", "تا اکنون ۱ نفر گفته‌اند تا حدی انجام شده")

	expect(t, p.press("نوشتن نظر"), "نظر خود را")
	expect(t, p.say("خ"), "دست‌کم ۲")
	expect(t, p.say("کار خوبی بود، سپاس"), "نظر شما دربارهٔ «لایروبی جوی» ثبت شد")
	cs, err := store.Comments(ctx, acts[0].ID, 10)
	if err != nil || len(cs) != 1 || cs[0].Text != "کار خوبی بود، سپاس" || cs[0].UserID != 5001 {
		t.Fatalf("comments = %+v, %v", cs, err)
	}

	// Back to the feed from the link: «محلهٔ من» is not asked again.
	expect(t, p.press("بازگشت به کارهای شورا"), "کدام کارها")
	expect(t, p.press("کارهای همهٔ شهرستان"), "شوراهای شهرستان اراک: ۷ کار", "محله: محله نمونه ۱ اراک")
	// Counts show on the action in the list.
	expect(t, p.press("بعدی"), "۷. لایروبی جوی", "۱ نفر گفته‌اند تا حدی انجام شده · ۱ نظر")
	expect(t, p.press("کارهای شورای محله"), "کدام کارها")
	p.press("کارهای یک کارگروه")
	expect(t, p.press("بهداشت و درمان"), "کارگروه «بهداشت و درمان» در محله نمونه ۱ اراک: ۱ کار", "۱. واکسیناسیون")
	// Pressed again while the run is open, the menu button goes on with it.
	expect(t, p.press("کارهای شورای محله"), "بهداشت و درمان", "۱. واکسیناسیون")
	p.say("/cancel")
	expect(t, p.press("کارهای شورای محله"), "کدام کارها")
	p.press("کارهای یک کارگروه")
	expect(t, p.press("محیط زیست"), "کارگروه «محیط زیست» در محله نمونه ۱ اراک هنوز کار تأییدشده‌ای ندارد")

	// A council with nothing verified says so, and points to a suggestion.
	expect(t, p.tap("feed:"+strconv.Itoa(int(c.place2))), "محله: محله نمونه ۲ اراک")
	got = p.press("کارهای همین محله")
	expect(t, got, "شورای پیشرفت محله نمونه ۲ اراک هنوز کار تأییدشده‌ای ندارد", "ارسال پیشنهاد")
	hasButton(t, got, "ارسال پیشنهاد")
	// A place's deep link («start=p<id>», opened as feed:p<id>) makes it «محلهٔ من».
	expect(t, p.tap("feed:p"+strconv.Itoa(int(c.place2))), "محله: محله نمونه ۲ اراک", "کدام کارها")
	if home, err := store.HomePlace(ctx, "tg", 5001); err != nil || home.ID != c.place2 {
		t.Errorf("after the deep link home = %+v, %v", home, err)
	}
	expect(t, p.tap("feed:p999999"), "این محله پیدا نشد")
	// An action not verified cannot be opened, even by a forged link.
	expect(t, p.tap("confirm:999999"), "این کار پیدا نشد یا هنوز تأیید نشده است")
	noEnglish(t, h.srv.SentTo(p.chat.ID))
}

var phoneLike = regexp.MustCompile(`(09|\+98|۰۹|\+۹۸)[0-9۰-۹]{6,}`)

func TestResidentRoster(t *testing.T) {
	h := memberHarness(t)
	p := h.person(5002)
	p.say("/start")
	expect(t, p.press("اعضای شورا"), "کدام استان")
	got := p.walkToPlace(1)
	expect(t, got, "اعضای شورای پیشرفت محله نمونه ۱ اراک", "مریم احمدی، رئیس، کارگروه بهداشت و درمان", "زهرا کریمی، عضو، کارگروه عمران و خدمات محلی")
	if strings.Contains(lastTextWith(got, "اعضای شورای پیشرفت"), "علی رضایی") {
		t.Errorf("the roster shows a member of another council")
	}
	// Chair first, then secretary, then members.
	roster := lastTextWith(got, "اعضای شورای پیشرفت")
	if strings.Index(roster, "مریم احمدی") > strings.Index(roster, "زهرا کریمی") {
		t.Errorf("the chair is not listed first:\n%s", roster)
	}
	// The place is now «محلهٔ من»: asked which, not where.
	expect(t, p.press("اعضای شورا"), "اعضای شورای کدام محله")
	expect(t, p.press("محلهٔ من: محله نمونه ۱ اراک"), "مریم احمدی")
	expect(t, p.press("اعضای شورا"), "اعضای شورای کدام محله")
	p.press("محله‌ای دیگر")
	expect(t, p.walkToPlace(2), "علی رضایی، دبیر")

	for _, s := range h.srv.SentTo(p.chat.ID) {
		if phoneLike.MatchString(s.Text) {
			t.Errorf("a phone number reached a resident: %q", s.Text)
		}
	}
	noEnglish(t, h.srv.SentTo(p.chat.ID))
}

func TestResidentHomeAndDigest(t *testing.T) {
	h := memberHarness(t)
	store := h.openStore()
	ctx := context.Background()
	c := seedCouncil(t, store)
	p := h.person(5003)
	p.say("/start")
	expect(t, p.press("محلهٔ من"), "کدام استان")
	got := p.walkToPlace(1)
	expect(t, got, "محلهٔ من شد: محله نمونه ۱ اراک")
	hasButton(t, got, "📋 کارهای شورای محله")

	expect(t, p.press("محلهٔ من"), "محلهٔ من: محله نمونه ۱ اراک (شهرستان اراک، استان مرکزی)", "خبر کارهای تازهٔ شورا: فرستاده نمی‌شود")
	expect(t, p.press("خبر کارهای تازه را بفرست"), "از این پس هر روزی که شورای محله نمونه ۱ اراک")
	if ok, err := store.Subscribed(ctx, "tg", 5003, c.chair.PlaceID); err != nil || !ok {
		t.Fatalf("subscribed = %v, %v", ok, err)
	}
	expect(t, p.press("محلهٔ من"), "روزی یک بار برایتان فرستاده می‌شود")

	// One tap under a digest stops it; one more undoes that.
	expect(t, p.tap("unsub:"+strconv.Itoa(int(c.chair.PlaceID))), "دیگر خبر کارهای تازهٔ شورای محله نمونه ۱ اراک برایتان فرستاده نمی‌شود")
	if ok, err := store.Subscribed(ctx, "tg", 5003, c.chair.PlaceID); err != nil || ok {
		t.Fatalf("after unsub subscribed = %v, %v", ok, err)
	}
	p.press("دوباره بفرست")
	if ok, err := store.Subscribed(ctx, "tg", 5003, c.chair.PlaceID); err != nil || !ok {
		t.Fatalf("after undo subscribed = %v, %v", ok, err)
	}

	// Changing «محلهٔ من».
	p.press("محلهٔ من")
	p.press("تغییر محلهٔ من")
	expect(t, p.walkToPlace(2), "محلهٔ من شد: محله نمونه ۲ اراک")
	if home, err := store.HomePlace(ctx, "tg", 5003); err != nil || home.ID != c.place2 {
		t.Fatalf("home = %+v, %v", home, err)
	}
	noEnglish(t, h.srv.SentTo(p.chat.ID))
}

func TestResidentSuggestionLoop(t *testing.T) {
	h := memberHarness(t)
	store := h.openStore()
	ctx := context.Background()
	c := seedCouncil(t, store)
	chair := models.Viewer{Platform: "tg", UserID: 1, PersonID: c.chair.PersonID, Memberships: []models.MembershipView{c.chair}}

	p := h.person(5004)
	p.say("/start")
	expect(t, p.press("پیشنهادهای من"), "هنوز پیشنهادی نفرستاده‌اید")

	var sgs []models.Suggestion
	for i, text := range []string{"جوی آب کوچه پر از زباله است", "چراغ کوچه شب‌ها خاموش است"} {
		sg := models.Suggestion{Key: "test-sg-" + strconv.Itoa(i), Platform: "tg", UserID: 5004, PlaceID: c.chair.PlaceID, CommitteeID: c.civil, Text: text}
		if err := store.CreateSuggestion(ctx, &sg); err != nil {
			t.Fatal(err)
		}
		sgs = append(sgs, sg)
	}
	water, light := sgs[0], sgs[1]

	// The list, newest first; one opened can be withdrawn while unanswered.
	got := p.press("پیشنهادهای من")
	expect(t, got, "پیشنهادهای شما: ۲ پیشنهاد", "۱. پیشنهاد "+light.Code, "۲. پیشنهاد "+water.Code, "وضعیت: ثبت شده، در انتظار بررسی")
	got = p.press("پیشنهاد " + light.Code)
	expect(t, got, "پیشنهاد با کد پیگیری "+light.Code, "موضوع: عمران و خدمات محلی", "متن: چراغ کوچه شب‌ها خاموش است")
	hasButton(t, got, "پس گرفتن پیشنهاد")
	expect(t, p.press("پس گرفتن پیشنهاد"), "پیشنهاد "+light.Code+" پس گرفته شد")
	if sg, _ := store.SuggestionByCode(ctx, light.Code); sg.Status != models.StatusWithdrawn {
		t.Errorf("withdrawn suggestion has status %q", sg.Status)
	}

	// The council answers; «حل نشد» from the answer's button asks a note
	// and reopens it, and the council hears of it.
	if _, err := store.ChangeSuggestion(ctx, chair, water.ID, models.SuggestionChange{Answer: "شهرداری فردا جوی را لایروبی می‌کند."}); err != nil {
		t.Fatal(err)
	}
	got = p.tap("resolve:" + water.Code + ":no")
	expect(t, got, "پاسخ شورا: شهرداری فردا جوی را لایروبی می‌کند.", "چه چیزی هنوز حل نشده است؟")
	expect(t, p.say("هنوز آب در کوچه جمع می‌شود"), "پیشنهاد "+water.Code+" دوباره باز شد")
	sg, err := store.SuggestionByCode(ctx, water.Code)
	if err != nil || sg.Status != models.StatusReopened {
		t.Fatalf("after «حل نشد» = %+v, %v", sg, err)
	}
	evs, err := store.SuggestionHistory(ctx, water.ID)
	if err != nil || evs[len(evs)-1].Kind != models.EventReopen || evs[len(evs)-1].Text != "هنوز آب در کوچه جمع می‌شود" {
		t.Fatalf("history = %+v, %v", evs, err)
	}
	inbox, _, err := store.Inbox(ctx, chair, 0, 10)
	if err != nil || len(inbox) != 1 || inbox[0].ID != water.ID {
		t.Fatalf("the council's inbox = %+v, %v", inbox, err)
	}

	// Answered again; «حل شد» closes it with one tap, and a second tap is harmless.
	if _, err := store.ChangeSuggestion(ctx, chair, water.ID, models.SuggestionChange{Answer: "جوی لایروبی شد."}); err != nil {
		t.Fatal(err)
	}
	expect(t, p.tap("resolve:"+water.Code+":yes"), "سپاس از پاسخ شما! پیشنهاد "+water.Code+" بسته شد", "فرستنده گفت مشکل حل نشده است")
	if sg, _ := store.SuggestionByCode(ctx, water.Code); sg.Status != models.StatusClosed {
		t.Errorf("after «حل شد» status = %q", sg.Status)
	}
	expect(t, p.tap("resolve:"+water.Code+":yes"), "بسته شد")
	expect(t, p.tap("resolve:"+water.Code+":no"), "در وضعیت «بسته شده» است")

	// Tracking by code shows the history and the answer, to anyone with the code.
	other := h.person(5005)
	other.say("/start")
	other.press("پیگیری پیشنهاد")
	got = other.say(strings.ToLower(water.Code))
	expect(t, got, "پیشنهاد با کد پیگیری "+water.Code, "روند رسیدگی", "رئیس شورا پاسخ داد", "پاسخ شورا: جوی لایروبی شد.", "وضعیت: بسته شده")
	// Someone else's suggestion cannot be acted on.
	expect(t, other.tap("resolve:"+water.Code+":no"), "این پیشنهاد در فهرست پیشنهادهای شما نیست")
	expect(t, other.tap("mysg:"+water.Code), "این پیشنهاد در فهرست پیشنهادهای شما نیست")
	noEnglish(t, h.srv.SentTo(p.chat.ID))
	noEnglish(t, h.srv.SentTo(other.chat.ID))
}

var persianClock = regexp.MustCompile(`ساعت [۰-۹]{2}:[۰-۹]{2}`)

func TestResidentLimits(t *testing.T) {
	h := memberHarness(t)
	store := h.openStore()
	ctx := context.Background()
	c := seedCouncil(t, store)
	act := c.addAction(t, store, "کار تأییدشده", c.civil, 1, true)
	// A suggestion begun under the limit and sent past it (others sent
	// meanwhile, from another chat of the same account) is held back at
	// the end, with the same reason, and nothing is stored.
	p := h.person(5006)
	p.say("/start")
	p.toTopic()
	p.press("محیط زیست")
	expect(t, p.say("جوی آب کوچه اصلی پر از زباله است"), "موقعیت")
	expect(t, p.say("رد کردن"), "عکس")
	expect(t, p.press("رد کردن"), "با نام شما")
	expect(t, p.press("بی‌نام"), "خلاصهٔ «ارسال پیشنهاد»")
	for i := 0; i < models.SubmissionsPerHour; i++ {
		sg := models.Suggestion{Key: "limit-" + strconv.Itoa(i), Platform: "tg", UserID: 5006, PlaceID: c.chair.PlaceID, CommitteeID: c.civil, Text: "پیشنهادی برای محله"}
		if err := store.CreateSuggestion(ctx, &sg); err != nil {
			t.Fatal(err)
		}
	}
	got := p.press("تأیید و ارسال")
	expect(t, got, "در هر ساعت تا ۵ و در هر روز تا ۲۰", "دوباره می‌توانید بفرستید")
	if strings.Contains(dump(got), "کد پیگیری") {
		t.Errorf("a suggestion past the limit was stored:\n%s", dump(got))
	}
	if n, err := store.CountSuggestions(ctx); err != nil || n != models.SubmissionsPerHour {
		t.Errorf("suggestions stored = %d, %v; want %d", n, err, models.SubmissionsPerHour)
	}
	for _, open := range []string{"suggest", "confirm:" + strconv.Itoa(int(act.ID)), "comment:" + strconv.Itoa(int(act.ID))} {
		got := p.tap(open)
		expect(t, got, "در هر ساعت تا ۵ و در هر روز تا ۲۰", "دوباره می‌توانید بفرستید")
		if !persianClock.MatchString(lastTextWith(got, "دوباره می‌توانید")) {
			t.Errorf("%s: the time to send again is not a Persian clock time:\n%s", open, dump(got))
		}
	}
	// An hour later they may send again.
	h.clock.Advance(61 * time.Minute)
	expect(t, p.tap("confirm:"+strconv.Itoa(int(act.ID))), "آیا این کار واقعاً انجام شده است؟")
	p.press("نه، انجام نشده")
	expect(t, p.wait(h.srv.SendPhoto(p.chat, p.user, "", "")), "سپاس! پاسخ شما ثبت شد", "۱ نفر گفته‌اند انجام نشده",
		"به نخستین هماهنگ‌کننده یا مدیر سامانه‌ای که تعیین شود هم می‌رسد") // nobody is appointed here
	counts, err := store.Confirmations(ctx, []uint{act.ID})
	if err != nil || counts[act.ID].No != 1 {
		t.Errorf("confirmations = %+v, %v", counts, err)
	}
	noEnglish(t, h.srv.SentTo(p.chat.ID))
}

var helpItem = regexp.MustCompile(`(?m)^• «([^»]+)»:`)

// TestWelcomeAndHelpMatchTheMenu holds /help to the menu a resident has:
// every feature it names is a button there, and every button is explained.
func TestWelcomeAndHelpMatchTheMenu(t *testing.T) {
	h := newHarness(t)
	h.start()
	p := h.person(5007)
	got := p.say("/start")
	expect(t, got, "کارهای تأییدشدهٔ شورای پیشرفت محلهٔ خود", "«عضو شورا هستم»")
	var menu []string
	for _, s := range got {
		for _, row := range s.Inline {
			for _, b := range row {
				menu = append(menu, b.Text)
			}
		}
	}
	help := lastText(p.say("/help"))
	items := helpItem.FindAllStringSubmatch(help, -1)
	named := map[string]bool{}
	for _, it := range items {
		named[it[1]] = true
		if !slices.Contains(menu, it[1]) {
			t.Errorf("/help explains «%s», which is not in the menu %q", it[1], menu)
		}
	}
	for _, label := range menu {
		if !named[label] && label != "راهنما" && label != "عضو شورا هستم" {
			t.Errorf("the menu button «%s» is not explained in /help", label)
		}
	}
	limits := fmt.Sprintf("در هر ساعت تا %s و در هر روز تا %s", persian.Digits(strconv.Itoa(models.SubmissionsPerHour)), persian.Digits(strconv.Itoa(models.SubmissionsPerDay)))
	if !strings.Contains(help, limits) {
		t.Errorf("/help does not state the limits %q:\n%s", limits, help)
	}
	for _, line := range strings.Split(help, "\n") {
		if line != "" && (line[0] == '/' || line[0] < 128 && line[0] != ' ') {
			t.Errorf("a line of /help starts with a Latin character: %q", line)
		}
	}
	noEnglish(t, h.srv.SentTo(p.chat.ID))
}
