package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/models"
)

const testRoster = `province,county,place,full_name,phone,position,committee
مرکزی,اراک,محله نمونه ۱ اراک,مریم احمدی,09121111111,رئیس,بهداشت و درمان
مرکزی,اراک,محله نمونه ۲ اراک,علی رضایی,09122222222,دبیر,امور فرهنگی
مرکزی,اراک,محله نمونه ۱ اراک,زهرا کریمی,09123333333,عضو,عمران و خدمات محلی
`

var actionCode = regexp.MustCompile(`A-[23456789ACDEFGHJKMNPQRTUVWXYZ]{5}`)

// memberHarness starts the bot with the test roster imported.
func memberHarness(t *testing.T) *harness {
	t.Helper()
	return memberHarnessWith(t, func(*harness) {})
}

// memberHarnessWith is memberHarness with env set by setup before the bot
// starts.
func memberHarnessWith(t *testing.T, setup func(*harness)) *harness {
	t.Helper()
	h := newHarness(t)
	setup(h)
	if code, out, errOut := runRoster(t, h.env, "import", writeRoster(t, testRoster)); code != exitOK {
		t.Fatalf("roster import exit %d:\n%s\n%s", code, out, errOut)
	}
	r := h.start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bot log:\n%s", r.logs.String())
		}
	})
	return h
}

// register shares the person's own contact through «عضو شورا هستم».
func (p *person) register(phone string) []bottest.Sent {
	p.t.Helper()
	p.say("/start")
	expect(p.t, p.press("عضو شورا هستم"), "ارسال شمارهٔ من")
	return p.wait(p.srv.SendContact(p.chat, p.user, phone, p.user.ID))
}

// requestJoin answers the membership request that follows an unknown
// phone (register): name, the place by search, «عضو», «محیط زیست», and
// confirms it.
func (p *person) requestJoin(name, place string) {
	p.t.Helper()
	p.say(name)
	p.say(place)
	p.press(place)
	p.press("عضو")
	p.press("محیط زیست")
	expect(p.t, p.press("تأیید و ارسال"), "درخواست عضویت شما ثبت شد")
}

func TestRegistration(t *testing.T) {
	h := memberHarness(t)

	// A roster member shares their contact: linked and greeted.
	maryam := h.person(7001)
	got := maryam.register("+989121111111")
	expect(t, got, "سلام مریم احمدی", "رئیس", "محله نمونه ۱ اراک", "بهداشت و درمان")
	expect(t, maryam.say("/start"), "خوش آمدید")
	hasButton(t, h.srv.SentTo(maryam.chat.ID)[len(h.srv.SentTo(maryam.chat.ID))-1:], "گزارش اقدام")

	// Someone else's contact, or a typed number, is refused.
	other := h.person(7002)
	other.say("/start")
	other.press("عضو شورا هستم")
	expect(t, other.wait(h.srv.SendContact(other.chat, other.user, "+989121111111", 999)), "فقط شمارهٔ خودتان")
	expect(t, other.say("09121111111"), "فقط با دکمهٔ «ارسال شمارهٔ من»")

	// An unknown phone: a short registration creates a pending request and an alert.
	got = other.wait(h.srv.SendContact(other.chat, other.user, "+989129999999", other.user.ID))
	expect(t, got, "در فهرست اعضای شوراها نیست", "نام و نام خانوادگی")
	other.requestJoin("حمید نوری", "نمونه ۲ ساوه")
	store := h.openStore()
	ms, err := store.MembershipsByPhone(context.Background(), "+989129999999")
	if err != nil || len(ms) != 1 || ms[0].Status != models.MembershipPending || ms[0].PlaceName != "محله نمونه ۲ ساوه" {
		t.Fatalf("memberships of the new phone = %+v, %v", ms, err)
	}
	alerts, err := store.Notices(context.Background(), models.NoticeFilter{Kind: models.KindMembershipRequest})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range alerts {
		found = found || a.EntityID == ms[0].ID
	}
	if !found {
		t.Errorf("no membership_request notice for the county: %+v", alerts)
	}
	// While pending, the menu says so instead of «عضو شورا هستم», and
	// pressing it asks nothing more.
	other.say("/start")
	other.button("درخواست شما در انتظار تأیید است (فرستاده در ") // with the day it was sent
	expect(t, other.press("درخواست شما در انتظار تأیید است"), "در انتظار تأیید هماهنگ‌کنندهٔ شهرستان")
	noEnglish(t, h.srv.SentTo(other.chat.ID))
}

func TestReportActionEndToEnd(t *testing.T) {
	h := memberHarness(t)
	m := h.person(7101)
	m.register("09121111111")
	m.say("/start")
	expect(t, m.press("گزارش اقدام"), "در کدام کارگروه", "مرحله ۱ از ۱۱")
	hasButton(t, h.srv.SentTo(m.chat.ID), "بهداشت و درمان (کارگروه شما)")
	m.press("کارگروه شما")
	m.press("کرامت")
	m.press("سلام بهزیستی")
	m.press("کرامت") // toggled off again
	expect(t, m.press("تمام"), "عنوان کوتاه")
	m.say("لایروبی جوی آب خیابان شهید بهشتی")
	expect(t, m.say("/back"), "پاسخ فعلی: لایروبی جوی آب")
	m.say("لایروبی جوی آب خیابان شهید بهشتی")
	m.say("جوی آب با کمک شهرداری و اهالی لایروبی شد.")
	expect(t, m.say("۱۴۱۰/۱/۱"), "بعد از امروز")
	m.press("امروز")
	m.say("رد کردن")
	// An album of three photos, then «تمام».
	m.wait(h.srv.SendPhoto(m.chat, m.user, "", "g1"))
	m.wait(h.srv.SendPhoto(m.chat, m.user, "", "g1"))
	m.wait(h.srv.SendPhoto(m.chat, m.user, "", "g1"))
	m.press("تمام")
	m.say("۱۲۰")
	m.say("۱۲٬۵۰۰٬۰۰۰")
	m.press("تومان")
	got := m.say("شهرداری منطقه")
	expect(t, got, "خلاصهٔ «گزارش اقدام»", "۳ عکس", "۱۲٬۵۰۰٬۰۰۰", "۱ برنامه")
	// Edit from the summary.
	m.press("✏️ بهره‌مندان")
	expect(t, m.say("۱۵۰"), "خلاصهٔ «گزارش اقدام»", "۱۵۰")
	got = m.press("تأیید و ارسال")
	expect(t, got, "کد پیگیری")
	code := actionCode.FindString(lastTextWith(got, "کد پیگیری"))
	store := h.openStore()
	ctx := context.Background()
	a, err := store.ActionByCode(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "لایروبی جوی آب خیابان شهید بهشتی" || len(a.Photos) != 3 || a.Beneficiaries == nil || *a.Beneficiaries != 150 ||
		a.Cost == nil || *a.Cost != 12_500_000 || a.CostUnit != models.CostToman || a.Status != models.ActionSubmitted ||
		len(a.Programmes) != 1 || a.Programmes[0] != "salam-behzisti" || a.DuplicateWarned {
		t.Errorf("stored action = %+v", a)
	}
	if audits, err := store.AuditEntries(ctx, models.EntityAction, a.ID); err != nil || len(audits) == 0 {
		t.Errorf("no audit entry for the action: %v %v", audits, err)
	}

	// The same work reported again: the duplicate warning, each choice.
	for _, c := range []struct{ press, want string }{
		{"لغو گزارش", "چیزی ثبت نشد"},
		{"همان کار " + code, "به‌روزرسانی اقدام " + code},
		{"کار دیگری است", "کد پیگیری"},
	} {
		expect(t, m.toActionSummary("پاکسازی جوی آب خیابان شهید بهشتی", "جوی‌های خیابان بهشتی دوباره تمیز شد."), "خلاصهٔ")
		got := m.press("تأیید و ارسال")
		expect(t, got, "شبیه کارهایی است", code)
		expect(t, m.press(c.press), c.want)
	}
	acts, err := store.ActionsByCouncil(ctx, a.CouncilID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 2 || acts[0].DuplicateChoice != models.DuplicateNew || !acts[0].DuplicateWarned {
		t.Errorf("actions after the three choices = %+v", acts)
	}
	_, updates, err := store.Action(ctx, a.ID)
	if err != nil || len(updates) != 1 {
		t.Errorf("timeline of %s = %v, %v; want the «same work» report as one update", code, updates, err)
	}

	// My actions: list, open, add progress.
	expect(t, m.press("اقدام‌های شورا"), "تازه‌ترین اول")
	got = m.press(code)
	expect(t, got, code, "لایروبی جوی آب", "روند کار")
	m.press("افزودن پیشرفت")
	m.say("۶۰")
	m.say("نیمی از مسیر انجام شد")
	m.press("رد کردن")
	expect(t, m.press("تأیید و ارسال"), "پیشرفت ثبت شد: ۶۰٪")
	a, updates, err = store.Action(ctx, a.ID)
	if err != nil || a.Progress != 60 || len(updates) != 2 {
		t.Errorf("after progress: %d%%, %d updates, %v", a.Progress, len(updates), err)
	}
	// Editing while submitted: opens at the summary with the answers.
	m.press("اقدام‌های شورا")
	m.press(code)
	expect(t, m.press("ویرایش"), "خلاصهٔ «ویرایش اقدام»", "لایروبی جوی آب")
	m.press("✏️ همکاران")
	m.say("شهرداری و بسیج محله")
	expect(t, m.press("تأیید و ارسال"), "ویرایش شد")
	a, _, _ = store.Action(ctx, a.ID)
	if a.Partners != "شهرداری و بسیج محله" {
		t.Errorf("partners after edit = %q", a.Partners)
	}
	noEnglish(t, h.srv.SentTo(m.chat.ID))
}

// Who may use member features: only active members, only for their own council.
func TestMemberPermissions(t *testing.T) {
	h := memberHarness(t)
	ctx := context.Background()
	store := h.openStore()

	// An action of council 1 to aim at.
	maryam := h.person(7201)
	maryam.register("09121111111")
	actionID := reportQuick(t, h, maryam, "نصب چراغ در کوچهٔ سوم")

	resident := h.person(7202)
	resident.say("/start")

	pending := h.person(7203)
	pending.register("+989128888888")
	pending.say("منیژه صالحی")
	pending.say("نمونه ۲ ساوه")
	pending.press("نمونه ۲ ساوه")
	pending.press("عضو")
	pending.press("محیط زیست")
	pending.press("تأیید و ارسال")

	ended := h.person(7204)
	ended.register("09123333333")
	v, _, err := store.MemberOf(ctx, "tg", ended.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EndMembership(ctx, models.ActorCLI, v.ID); err != nil {
		t.Fatal(err)
	}

	otherCouncil := h.person(7205)
	otherCouncil.register("09122222222")

	features := []string{FlowMenu("report"), FlowMenu("mine"), FlowMenu("progress:" + actionID), FlowMenu("editaction:" + actionID)}
	cases := []struct {
		who  *person
		name string
		want string // the refusal
	}{
		{resident, "resident", "ویژهٔ اعضای فعال"},
		{pending, "pending member", "در انتظار تأیید"},
		{ended, "ended member", "ویژهٔ اعضای فعال"},
	}
	for _, c := range cases {
		for _, f := range features {
			got := c.who.wait(h.srv.PressButton(c.who.chat, c.who.user, lastBotMessage(h, c.who), f))
			expect(t, got, c.want)
		}
	}
	// A member of another council: may report for their own, not touch council 1's action.
	for _, f := range features[2:] {
		got := otherCouncil.wait(h.srv.PressButton(otherCouncil.chat, otherCouncil.user, lastBotMessage(h, otherCouncil), f))
		expect(t, got, "مال شورای شما نیست")
	}
	// A forged callback does nothing but say so.
	id := h.srv.PressButton(resident.chat, resident.user, lastBotMessage(h, resident), "m|menu|nosuchflow")
	resident.wait(id)
	if ans := h.srv.CallbackAnswer(id); !ans.Answered || !strings.Contains(ans.Text, "دیگر کار نمی‌کند") {
		t.Errorf("forged press answered %+v", ans)
	}
	mv, _, err := store.MemberOf(ctx, "tg", maryam.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	acts, err := store.ActionsByCouncil(ctx, mv.CouncilID, 0, 10)
	if err != nil || len(acts) != 1 {
		t.Errorf("council 1 has %d actions (%v), want only the one Maryam reported", len(acts), err)
	}
	_, updates, err := store.Action(ctx, acts[0].ID)
	if err != nil || len(updates) != 0 {
		t.Errorf("the action got %d updates from people who may not add them (%v)", len(updates), err)
	}
}

// FlowMenu is the callback data of a menu button for flow (with argument).
func FlowMenu(flow string) string { return "m|menu|" + flow }

func lastBotMessage(h *harness, p *person) int {
	all := h.srv.SentTo(p.chat.ID)
	return all[len(all)-1].MessageID
}

// reportQuick reports a minimal action and returns its id.
func reportQuick(t *testing.T, h *harness, m *person, title string) string {
	t.Helper()
	m.say("/start")
	m.toActionSummary(title, "شرح کوتاه این اقدام برای آزمون")
	got := m.press("تأیید و ارسال")
	code := actionCode.FindString(lastTextWith(got, "کد پیگیری"))
	if code == "" {
		t.Fatalf("no action code:\n%s", dump(got))
	}
	a, err := h.openStore().ActionByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatUint(uint64(a.ID), 10)
}

// toActionSummary starts a report in the member's own committee, answers
// title and description, today, and skips every optional step; it returns
// what the bot sent for the last answer (the summary).
func (p *person) toActionSummary(title, description string) []bottest.Sent {
	p.t.Helper()
	p.press("گزارش اقدام")
	p.press("کارگروه شما")
	p.press("تمام")
	p.say(title)
	p.say(description)
	p.press("امروز")
	p.say("رد کردن")        // location
	p.press("رد کردن")      // photos
	p.say("رد کردن")        // beneficiaries
	p.say("رد کردن")        // cost
	return p.say("رد کردن") // partners
}
