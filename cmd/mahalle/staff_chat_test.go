package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/conversations/coordinator"
	"github.com/mahalle/mahalle/models"
)

// TestAssignStaffInChat: an admin names a county coordinator by phone in
// «کادر هماهنگی»; the role waits until that person opens the bot and shares
// the number, and then both are told and the coordinator's menu changes.
// The admin names a province coordinator by forwarding a message from her;
// she, in her province only, ends the county coordinator's role, who is
// told and loses the coordinator's menu. Wrong inputs get Persian answers,
// and someone who manages no staff is refused.
func TestAssignStaffInChat(t *testing.T) {
	h := memberHarnessWith(t, func(h *harness) {
		h.env["ADMIN_PHONES"] = "09350000000"
		h.env["NOTICE_INTERVAL"] = "20ms"
		h.env["QUIET_HOURS"] = "none"
	})
	admin := h.person(7601)
	expect(t, admin.register("+989350000000"), "شما مدیر سامانه هستید")
	got := admin.press("کادر هماهنگی")
	expect(t, got, "هنوز هماهنگ‌کننده‌ای در حوزهٔ شما منصوب نشده است", "چه کاری انجام شود؟")
	if strings.Contains(dump(got), "پایان دادن") {
		t.Errorf("nobody to end, yet «پایان دادن به یک انتصاب» is offered:\n%s", dump(got))
	}
	admin.press("انتصاب هماهنگ‌کنندهٔ شهرستان")
	hasButton(t, admin.press("مرکزی"), "اراک")
	expect(t, admin.press("اراک"), "شمارهٔ همراه کسی را که منصوب می‌کنید")
	expect(t, admin.say("12345"), "شمارهٔ همراه معتبری نیست")
	expect(t, admin.wait(h.srv.ForwardTextFrom(admin.chat, admin.user, nil, "سلام")), "معلوم نیست چه کسی آن را نوشته است")
	stranger := bottest.User{ID: 999111, FirstName: "ناشناس"}
	expect(t, admin.wait(h.srv.ForwardTextFrom(admin.chat, admin.user, &stranger, "سلام")), "هنوز شماره‌اش را در ربات نفرستاده است")
	expect(t, admin.say("09129999999"), "هماهنگ‌کنندهٔ شهرستان", "اراک", "۰۹۱۲۹۹۹۹۹۹۹")
	expect(t, admin.press("تأیید و ارسال"),
		"نقش «هماهنگ‌کنندهٔ شهرستان اراک» برای شمارهٔ ۰۹۱۲۹۹۹۹۹۹۹ ثبت شد", "«عضو شورا هستم» را بزند")
	expect(t, admin.press("کادر هماهنگی"), "هماهنگ‌کنندهٔ شهرستان اراک: ۰۹۱۲•••۹۹۹۹ (در انتظار پیوستن به ربات)")
	admin.say("/cancel")

	coord := h.person(7602)
	expect(t, coord.register("+989129999999"), "شما هماهنگ‌کنندهٔ شوراهای پیشرفت محله هستید")
	waitNotice(t, h.srv, coord.chat.ID, "شما هماهنگ‌کنندهٔ شهرستان اراک شدید")
	waitNotice(t, h.srv, admin.chat.ID, "انتصاب شما انجام شد: دارندهٔ شمارهٔ")
	hasButton(t, coord.say("/start"), "بررسی اقدام‌ها")
	if _, _, ok := findButton(h.srv, coord.chat.ID, "کادر هماهنگی"); ok {
		t.Error("a county coordinator's menu offers «کادر هماهنگی»")
	}
	forged, err := conversations.MenuCallback(coordinator.FlowStaff)
	if err != nil {
		t.Fatal(err)
	}
	last := h.srv.SentTo(coord.chat.ID)
	expect(t, coord.wait(h.srv.PressButton(coord.chat, coord.user, last[len(last)-1].MessageID, forged)),
		"این بخش ویژهٔ مدیر سامانه و هماهنگ‌کنندگان استان است")

	maryam := h.person(7603)
	expect(t, maryam.register("+989121111111"), "سلام مریم احمدی")
	admin.press("کادر هماهنگی")
	admin.press("انتصاب هماهنگ‌کنندهٔ استان")
	admin.press("مرکزی")
	got = admin.wait(h.srv.ForwardTextFrom(admin.chat, admin.user, &maryam.user, "پیام مریم"))
	if expect(t, got, "شمارهٔ همراه: ۰۹۱۲•••۱۱۱۱"); strings.Contains(dump(got), "۰۹۱۲۱۱۱۱۱۱۱") {
		t.Errorf("a phone learnt from a forwarded message is shown whole:\n%s", dump(got))
	}
	expect(t, admin.press("تأیید و ارسال"), "مریم احمدی اکنون هماهنگ‌کنندهٔ استان مرکزی است؛ به او هم خبر می‌دهیم")
	waitNotice(t, h.srv, maryam.chat.ID, "شما هماهنگ‌کنندهٔ استان مرکزی شدید")

	hasButton(t, maryam.press("منوی تازهٔ شما"), "کادر هماهنگی")
	got = maryam.press("کادر هماهنگی")
	expect(t, got, "هماهنگ‌کنندهٔ استان مرکزی: مریم احمدی", "هماهنگ‌کنندهٔ شهرستان اراک: ۰۹۱۲•••۹۹۹۹")
	got = maryam.press("انتصاب هماهنگ‌کنندهٔ شهرستان")
	if hasButton(t, got, "مرکزی"); strings.Contains(dump(got), "تهران") {
		t.Errorf("a province coordinator of مرکزی is offered other provinces:\n%s", dump(got))
	}
	maryam.say("/cancel")
	maryam.press("کادر هماهنگی")
	got = maryam.press("پایان دادن به یک انتصاب")
	hasButton(t, got, "هماهنگ‌کنندهٔ شهرستان اراک — ۰۹۱۲•••۹۹۹۹")
	if strings.Contains(dump(got), "— مریم احمدی") {
		t.Errorf("she is offered to end her own role:\n%s", dump(got))
	}
	maryam.press("هماهنگ‌کنندهٔ شهرستان اراک")
	expect(t, maryam.press("تأیید و ارسال"), "نقش «هماهنگ‌کنندهٔ شهرستان اراک» از ۰۹۱۲•••۹۹۹۹ برداشته شد؛ به او هم خبر می‌دهیم")
	waitNotice(t, h.srv, coord.chat.ID, "نقش شما به‌عنوان هماهنگ‌کنندهٔ شهرستان اراک پایان یافت")
	got = coord.say("/start")
	if strings.Contains(dump(got), "بررسی اقدام‌ها") {
		t.Errorf("the ended coordinator still has the coordinator's menu:\n%s", dump(got))
	}

	store := h.openStore()
	all, err := store.Staff(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, s := range all {
		status[string(s.Role)+" "+s.Phone] = s.Status
	}
	want := map[string]string{"admin +989350000000": models.StaffActive, "county +989129999999": models.StaffEnded,
		"province +989121111111": models.StaffActive}
	for k, v := range want {
		if status[k] != v {
			t.Errorf("staff %s = %q, want %q (all: %v)", k, status[k], v, status)
		}
	}
	// The admin was told once that a role was taken up: for the one that
	// waited; the one active at once was said in the chat.
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"outbox"}, testSystem(h.env, &out, &errOut)); code != exitOK {
		t.Fatalf("outbox: exit %d\n%s", code, errOut.String())
	}
	if n := strings.Count(out.String(), "\t"+models.KindStaffAssignedBy+"\t"); n != 1 {
		t.Errorf("%d «انتصاب شما انجام شد» notices, want 1:\n%s", n, out.String())
	}
	for _, p := range []*person{admin, coord, maryam} {
		noEnglish(t, h.srv.SentTo(p.chat.ID))
	}
}

// TestWithdrawRequestAndEndSeatInChat: a person whose request waits sees
// when they sent it in place of «عضو شورا هستم» and takes it back; the chair
// ends a member's seat with a reason (too short first), the member is told
// and loses the member's menu. Only the chair is offered it, and only for
// the other members of their own council.
func TestWithdrawRequestAndEndSeatInChat(t *testing.T) {
	h := memberHarnessWith(t, func(h *harness) {
		h.env["NOTICE_INTERVAL"] = "20ms"
		h.env["QUIET_HOURS"] = "none"
	})
	asker := h.person(7701)
	expect(t, asker.register("+989125555555"), "نام و نام خانوادگی")
	asker.requestJoin("حمید نوری", "نمونه ۱ اراک")
	got := asker.say("/start")
	if !strings.Contains(dump(got), "[درخواست شما در انتظار تأیید است (فرستاده در ") {
		t.Errorf("the menu does not say when the request was sent:\n%s", dump(got))
	}
	if strings.Contains(dump(got), "[عضو شورا هستم") {
		t.Errorf("a person whose request waits is offered «عضو شورا هستم»:\n%s", dump(got))
	}
	expect(t, asker.press("درخواست شما در انتظار تأیید است"), "اگر منصرف شده‌اید")
	got = asker.press("پس گرفتن درخواست عضویت")
	expect(t, got, "درخواست عضویت شما پس گرفته شد")
	hasButton(t, got, "عضو شورا هستم")
	store := h.openStore()
	ms, err := store.MembershipsByPhone(context.Background(), "+989125555555")
	if err != nil || len(ms) != 1 || ms[0].Status != models.MembershipWithdrawn {
		t.Errorf("the request = %+v, %v; want withdrawn", ms, err)
	}

	zahra := h.person(7702)
	expect(t, zahra.register("+989123333333"), "سلام زهرا کریمی")
	if _, _, ok := findButton(h.srv, zahra.chat.ID, "پایان عضویت یک عضو"); ok {
		t.Error("a member who is not the chair is offered «پایان عضویت یک عضو»")
	}
	maryam := h.person(7703)
	maryam.register("+989121111111")
	got = maryam.press("پایان عضویت یک عضو")
	hasButton(t, got, "زهرا کریمی · عضو · عمران و خدمات محلی")
	if d := dump(got); strings.Contains(d, "مریم احمدی ·") || strings.Contains(d, "علی رضایی") {
		t.Errorf("the chair is offered herself or a member of another council:\n%s", d)
	}
	maryam.press("زهرا کریمی")
	expect(t, maryam.say("کم"), "⚠️")
	maryam.say("سه ماه در جلسه‌ها شرکت نکرده است")
	expect(t, maryam.press("تأیید و ارسال"), "عضویت زهرا کریمی پایان یافت")
	n := waitNotice(t, h.srv, zahra.chat.ID, "عضویت شما در شورای پیشرفت محله نمونه ۱ اراک (شهرستان اراک) پایان یافت.\nدلیل: سه ماه در جلسه‌ها شرکت نکرده است")
	if len(n.Inline) != 1 || !strings.Contains(n.Inline[0][0].Text, "منوی تازهٔ شما") {
		t.Errorf("the notice's buttons = %+v", n.Inline)
	}
	if got := zahra.press("منوی تازهٔ شما"); strings.Contains(dump(got), "گزارش اقدام") {
		t.Errorf("the former member still has the member's menu:\n%s", dump(got))
	}
	ms, err = store.MembershipsByPhone(context.Background(), "+989123333333")
	if err != nil || len(ms) != 1 || ms[0].Status != models.MembershipEnded || ms[0].Until == nil {
		t.Errorf("the seat = %+v, %v; want ended, with its date kept", ms, err)
	}
	for _, p := range []*person{asker, zahra, maryam} {
		noEnglish(t, h.srv.SentTo(p.chat.ID))
	}
}
