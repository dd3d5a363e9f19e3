package main

import (
	"context"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/models"
)

// dupRoster has a member in Arak, one in Ashtian (whose boundary touches
// Arak's) and one in Saveh (same province, not touching Arak).
const dupRoster = `province,county,place,full_name,phone,position,committee
مرکزی,اراک,محله نمونه ۱ اراک,مریم احمدی,09121111111,رئیس,عمران و خدمات محلی
مرکزی,آشتیان,محله نمونه ۱ آشتیان,حسن موسوی,09124444444,عضو,عمران و خدمات محلی
مرکزی,ساوه,محله نمونه ۱ ساوه,رضا صادقی,09125555555,عضو,عمران و خدمات محلی
`

// TestDuplicateAcrossCountiesEndToEnd: a member in Ashtian reports work
// that Arak's council reported, is warned of it (the counties touch), says
// it is the same work; the alert with both actions reaches the province's
// coordinators, not the county's. The same work reported in Saveh, which
// does not touch Arak, raises no warning.
func TestDuplicateAcrossCountiesEndToEnd(t *testing.T) {
	h := newHarness(t)
	h.env["NOTICE_INTERVAL"] = "20ms"
	h.env["QUIET_HOURS"] = "none"
	if code, out, errOut := runRoster(t, h.env, "import", writeRoster(t, dupRoster)); code != exitOK {
		t.Fatalf("roster import exit %d:\n%s\n%s", code, out, errOut)
	}
	for _, args := range [][]string{
		{"add", "09350000001", "county", "آشتیان"},
		{"add", "09350000002", "county", "اراک"},
		{"add", "09350000003", "province", "مرکزی"},
	} {
		if code, out, errOut := runStaff(t, h.env, args...); code != exitOK {
			t.Fatalf("staff %v exit %d:\n%s\n%s", args, code, out, errOut)
		}
	}
	r := h.start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bot log:\n%s", r.logs.String())
		}
	})
	ashtianCoord, arakCoord, province := h.person(7601), h.person(7602), h.person(7603)
	ashtianCoord.register("+989350000001")
	arakCoord.register("+989350000002")
	province.register("+989350000003")

	arak := h.person(7611)
	arak.register("09121111111")
	arakCode := strings.TrimSpace(actionCodeOf(t, h, arak, "لایروبی جوی آب خیابان شهید بهشتی"))

	ashtian := h.person(7612)
	ashtian.register("09124444444")
	ashtian.say("/start")
	expect(t, ashtian.toActionSummary("پاکسازی جوی‌های خیابان بهشتی", "جوی‌ها تمیز شد."), "خلاصهٔ")
	got := ashtian.press("تأیید و ارسال")
	expect(t, got, "شبیه کارهایی است", "شهرستان‌های همسایه", arakCode, "محله نمونه ۱ اراک")
	got = ashtian.press("همان کار " + arakCode)
	expect(t, got, "کد پیگیری")
	ashtianCode := actionCode.FindString(lastTextWith(got, "کد پیگیری"))

	n := waitNotice(t, h.srv, province.chat.ID, "احتمال کار تکراری")
	for _, want := range []string{ashtianCode, arakCode, "شهرستان آشتیان", "شهرستان اراک"} {
		if !strings.Contains(n.Text, want) {
			t.Errorf("the province's alert %q lacks %q", n.Text, want)
		}
	}
	if len(n.Inline) != 1 || n.Inline[0][0].Text != "بررسی اقدام" {
		t.Errorf("the alert's buttons = %+v", n.Inline)
	}
	// The county's coordinator gets the action to review, not the duplicate alert.
	waitNotice(t, h.srv, ashtianCoord.chat.ID, "اقدام تازه برای بررسی: «پاکسازی")
	store := h.openStore()
	ctx := context.Background()
	dups, err := store.Notices(ctx, models.NoticeFilter{Kind: models.KindDuplicateWarning})
	if err != nil {
		t.Fatal(err)
	}
	if len(dups) != 1 || dups[0].PersonID == nil {
		t.Errorf("duplicate notices = %+v, want one, to the province's coordinator", dups)
	}
	for _, c := range []*person{ashtianCoord, arakCoord} {
		if strings.Contains(dump(h.srv.SentTo(c.chat.ID)), "احتمال کار تکراری") {
			t.Errorf("a county's coordinator got the cross-county alert:\n%s", dump(h.srv.SentTo(c.chat.ID)))
		}
	}

	// Saveh does not touch Arak or Ashtian: no warning, a plain report.
	saveh := h.person(7613)
	saveh.register("09125555555")
	saveh.say("/start")
	saveh.toActionSummary("لایروبی جوی آب خیابان شهید بهشتی", "جوی آب لایروبی شد.")
	got = saveh.press("تأیید و ارسال")
	if strings.Contains(dump(got), "شبیه کارهایی است") {
		t.Errorf("Saveh was warned of a far county's work:\n%s", dump(got))
	}
	expect(t, got, "کد پیگیری")
	noEnglish(t, h.srv.SentTo(province.chat.ID))
	noEnglish(t, h.srv.SentTo(ashtian.chat.ID))
}

// actionCodeOf reports a minimal action and returns its tracking code.
func actionCodeOf(t *testing.T, h *harness, m *person, title string) string {
	t.Helper()
	m.say("/start")
	m.toActionSummary(title, "شرح کوتاه این اقدام برای آزمون")
	got := m.press("تأیید و ارسال")
	code := actionCode.FindString(lastTextWith(got, "کد پیگیری"))
	if code == "" {
		t.Fatalf("no action code:\n%s", dump(got))
	}
	return code
}
