package main

import (
	"context"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/models"
)

// TestPlaceModerationInChat: places residents typed in reach the county's
// coordinator in «محله‌های تازه»: one is confirmed, one renamed, one merged
// into the place it duplicates (its suggestion moves with it). A
// coordinator of another county sees none of them, and a resident has no
// such entry.
func TestPlaceModerationInChat(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{{"add", "09350000002", "county", "اراک"}, {"add", "09350000003", "county", "ساوه"}} {
		if code, out, errOut := runStaff(t, h.env, args...); code != exitOK {
			t.Fatalf("staff add exit %d:\n%s\n%s", code, out, errOut)
		}
	}
	h.start()
	store := h.openStore()
	ctx := context.Background()
	arak, err := store.FindPlaces(ctx, "محله نمونه ۱ اراک", 0, 1)
	if err != nil || len(arak.Matches) != 1 {
		t.Fatalf("Arak place = %+v, %v", arak, err)
	}
	county := arak.Matches[0].CountyID
	resident := models.Actor{Platform: "tg", UserID: 8901}
	created := map[string]uint{}
	for _, name := range []string{"کوی گلستان", "شهرک ولیعصر", "محله نمونه یک اراک"} {
		p, _, err := store.CreatePlace(ctx, resident, county, name)
		if err != nil {
			t.Fatal(err)
		}
		created[name] = p.ID
	}
	sg := models.Suggestion{Key: "mod-1", Platform: "tg", UserID: 8901, PlaceID: created["محله نمونه یک اراک"],
		CommitteeID: 1, Text: "پیشنهادی برای محله‌ای که دو بار ثبت شده است", Anonymous: true}
	if err := store.CreateSuggestion(ctx, &sg); err != nil {
		t.Fatal(err)
	}

	other := h.person(8902)
	other.register("+989350000003")
	expect(t, other.press("محله‌های تازه"), "هیچ محلهٔ تأییدنشده‌ای در حوزهٔ شما نیست")

	res := h.person(8903)
	res.say("/start")
	if _, _, ok := findButton(h.srv, res.chat.ID, "محله‌های تازه"); ok {
		t.Fatal("a resident's menu offers «محله‌های تازه»")
	}

	c := h.person(8904)
	c.register("+989350000002")
	got := c.press("محله‌های تازه")
	hasButton(t, got, "کوی گلستان (اراک، مرکزی)")
	c.press("کوی گلستان")
	c.press("تأیید همین نام")
	expect(t, c.press("تأیید و ارسال"), "«کوی گلستان» در شهرستان اراک تأیید شد")

	c.press("محله‌های تازهٔ دیگر")
	c.press("شهرک ولیعصر")
	c.press("اصلاح نام")
	c.say("شهرک ولی‌عصر")
	expect(t, c.press("تأیید و ارسال"), "نام «شهرک ولیعصر» به «شهرک ولی‌عصر» اصلاح و تأیید شد")

	c.press("محله‌های تازهٔ دیگر")
	c.press("محله نمونه یک اراک")
	c.press("یکی شود")
	c.press("محله نمونه ۱ اراک")
	expect(t, c.press("تأیید و ارسال"), "«محله نمونه یک اراک» با «محله نمونه ۱ اراک» یکی شد")

	store = h.openStore() // a fresh reader: the test's store cached the places before the bot changed them
	for name, id := range created {
		p, err := store.Place(ctx, id)
		switch {
		case name == "محله نمونه یک اراک" && models.ErrorCode(err) != models.ENOTFOUND:
			t.Errorf("the merged place is still there: %+v, %v", p, err)
		case name != "محله نمونه یک اراک" && (err != nil || !p.Confirmed):
			t.Errorf("%s = %+v, %v; want confirmed", name, p, err)
		}
	}
	moved, err := store.SuggestionByCode(ctx, sg.Code)
	if err != nil || moved.PlaceID != arak.Matches[0].ID {
		t.Errorf("the suggestion's place = %d, %v; want the place it was merged into, %d", moved.PlaceID, err, arak.Matches[0].ID)
	}
	expect(t, c.press("محله‌های تازه"), "هیچ محلهٔ تأییدنشده‌ای در حوزهٔ شما نیست")
}

// TestHideCommentInChat: a county coordinator opens a verified action by its
// code and hides a resident's comment with a reason; residents no longer
// see it. A coordinator of another county is not offered it.
func TestHideCommentInChat(t *testing.T) {
	h := memberHarness(t)
	for _, args := range [][]string{{"add", "09350000002", "county", "اراک"}, {"add", "09350000003", "county", "ساوه"}} {
		if code, out, errOut := runStaff(t, h.env, args...); code != exitOK {
			t.Fatalf("staff add exit %d:\n%s\n%s", code, out, errOut)
		}
	}
	store := h.openStore()
	ctx := context.Background()
	c := seedCouncil(t, store)
	a := c.addAction(t, store, "کاشت درخت در بوستان", c.civil, 1, true)
	for i, text := range []string{"کار خوبی بود", "متنی توهین‌آمیز به اعضای شورا"} {
		if err := store.AddComment(ctx, &models.Comment{Key: "hide-" + string(rune('a'+i)), ActionID: a.ID, Platform: "tg", UserID: int64(8950 + i), Text: text}); err != nil {
			t.Fatal(err)
		}
	}

	other := h.person(8961)
	other.register("+989350000003")
	other.press("باز کردن با کد")
	got := other.say(a.Code)
	if strings.Contains(dump(got), "پنهان کردن یک نظر") {
		t.Fatalf("a coordinator of another county is offered to hide a comment:\n%s", dump(got))
	}

	coord := h.person(8962)
	coord.register("+989350000002")
	coord.press("باز کردن با کد")
	coord.say(a.Code)
	got = coord.press("پنهان کردن یک نظر")
	hasButton(t, got, "متنی توهین‌آمیز به اعضای شورا")
	coord.press("متنی توهین‌آمیز")
	expect(t, coord.say("بد"), "⚠️")
	expect(t, coord.say("توهین به اعضای شورا"), "نظر پنهان شد")

	cs, err := h.openStore().Comments(ctx, a.ID, 10)
	if err != nil || len(cs) != 1 || cs[0].Text != "کار خوبی بود" {
		t.Fatalf("visible comments = %+v, %v; want only the first", cs, err)
	}
}
