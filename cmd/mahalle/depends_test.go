package main

import (
	"context"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/models"
)

// Answers that depend on answers: each case of issue 7 ends with a
// consistent row.
func TestDependentAnswersEndConsistent(t *testing.T) {
	t.Run("county changed in the summary asks the place again", func(t *testing.T) {
		h := newHarness(t)
		h.start()
		p := h.person(4201)
		p.say("/start")
		p.toTopic()
		p.press("محیط زیست")
		p.say("جوی آب کوچه اصلی پر از زباله است")
		p.say("رد کردن")
		p.press("رد کردن")
		expect(t, p.press("بی‌نام"), "خلاصهٔ", "محله نمونه ۱ اراک")
		p.press("✏️ شهرستان")
		expect(t, p.press("ساوه"), "محله یا روستای خود")
		expect(t, p.press("محله نمونه ۲ ساوه"), "موضوع پیشنهاد شما") // the topic depends on the place (its province's committees)
		got := p.press("محیط زیست")
		expect(t, got, "خلاصهٔ", "شهرستان: ساوه", "محله نمونه ۲ ساوه")
		if strings.Contains(lastText(got), "اراک") {
			t.Errorf("the summary still names Arak:\n%s", lastText(got))
		}
		got = p.press("تأیید و ارسال")
		code := codePattern.FindString(lastTextWith(got, "کد پیگیری"))
		store := h.openStore()
		ctx := context.Background()
		sg, err := store.SuggestionByCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		pm, err := store.Place(ctx, sg.PlaceID)
		if err != nil || pm.Place.Name != "محله نمونه ۲ ساوه" || pm.CountyName != "ساوه" {
			t.Errorf("stored place = %+v, %v; want محله نمونه ۲ ساوه in ساوه", pm, err)
		}
	})

	t.Run("anonymous changed to named asks the name", func(t *testing.T) {
		h := newHarness(t)
		h.start()
		p := h.person(4202)
		p.say("/start")
		p.toTopic()
		p.press("امور فرهنگی")
		p.say("جوی آب کوچه اصلی پر از زباله است")
		p.say("رد کردن")
		p.press("رد کردن")
		p.press("بی‌نام")
		p.press("✏️ فرستنده")
		expect(t, p.press("با نام من"), "نام خود")
		expect(t, p.say("مریم رضایی"), "خلاصهٔ", "نام: مریم رضایی")
		got := p.press("تأیید و ارسال")
		expect(t, got, "کد پیگیری")
		code := codePattern.FindString(lastTextWith(got, "کد پیگیری"))
		sg, err := h.openStore().SuggestionByCode(context.Background(), code)
		if err != nil {
			t.Fatal(err)
		}
		if sg.Anonymous || sg.SenderName != "مریم رضایی" {
			t.Errorf("stored anonymous=%v sender=%q; want named «مریم رضایی»", sg.Anonymous, sg.SenderName)
		}
	})

	t.Run("cost skipped then edited asks the unit", func(t *testing.T) {
		h := memberHarness(t)
		m := h.person(4203)
		m.register("09121111111")
		m.say("/start")
		expect(t, m.toActionSummary("نصب چراغ در کوچهٔ سوم", "چهار چراغ نصب شد."), "هزینه: —")
		m.press("✏️ هزینه")
		expect(t, m.say("۳۰۰۰۰۰۰"), "تومان است یا ریال")
		expect(t, m.press("ریال"), "خلاصهٔ", "واحد هزینه: ریال")
		got := m.press("تأیید و ارسال")
		code := actionCode.FindString(lastTextWith(got, "کد پیگیری"))
		a, err := h.openStore().ActionByCode(context.Background(), code)
		if err != nil {
			t.Fatal(err)
		}
		if a.Cost == nil || *a.Cost != 3_000_000 || a.CostUnit != models.CostRial {
			t.Errorf("stored cost %v %q; want 3,000,000 rial", a.Cost, a.CostUnit)
		}
	})

	t.Run("same work keeps what was typed", func(t *testing.T) {
		h := memberHarness(t)
		m := h.person(4204)
		m.register("09121111111")
		m.say("/start")
		m.toActionSummary("لایروبی جوی آب خیابان شهید بهشتی", "جوی آب لایروبی شد.")
		got := m.press("تأیید و ارسال")
		code := actionCode.FindString(lastTextWith(got, "کد پیگیری"))
		// The same work again, with figures this time.
		m.press("گزارش اقدام")
		m.press("کارگروه شما")
		m.press("تمام")
		m.say("لایروبی جوی آب خیابان شهید بهشتی")
		m.say("جوی آب خیابان بهشتی دوباره لایروبی شد.")
		m.press("امروز")
		m.wait(h.srv.SendLocation(m.chat, m.user, 34.09, 49.69))
		m.press("رد کردن")
		m.say("۸۰")
		m.say("۲۰۰۰۰۰")
		m.press("تومان")
		m.say("رد کردن")
		expect(t, m.press("تأیید و ارسال"), "شبیه کارهایی است", code)
		expect(t, m.press("همان کار "+code), "به‌روزرسانی اقدام "+code)
		store := h.openStore()
		a, err := store.ActionByCode(context.Background(), code)
		if err != nil {
			t.Fatal(err)
		}
		_, updates, err := store.Action(context.Background(), a.ID)
		if err != nil || len(updates) != 1 {
			t.Fatalf("updates = %v, %v; want one", updates, err)
		}
		for _, want := range []string{"بهره‌مندان: ۸۰ نفر", "هزینه: ۲۰۰٬۰۰۰ تومان", "موقعیت: ۳۴٫۰۹۰۰۰", "تاریخ: "} {
			if !strings.Contains(updates[0].Note, want) {
				t.Errorf("the update's note lost %q:\n%s", want, updates[0].Note)
			}
		}
	})
}
