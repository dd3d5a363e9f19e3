package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/models"
)

// TestCouncilInboxLoop: a resident suggests, the chair opens it from the
// council inbox, hands it to a committee, a member answers, and the
// suggestion's history and status are what the resident will be told.
func TestCouncilInboxLoop(t *testing.T) {
	h := memberHarness(t)
	ctx := context.Background()
	chair := h.person(7301)
	chair.register("+989121111111")
	zahra := h.person(7302) // member of the same council, civil works
	zahra.register("+989123333333")

	resident := h.person(7303)
	resident.say("/start")
	resident.toTopic()
	resident.press("امور فرهنگی")
	resident.say("کتابخانهٔ محله ساعت کاری کوتاهی دارد")
	resident.say("رد کردن") // the location step's reply keyboard
	resident.press("رد کردن")
	resident.press("بی‌نام")
	got := resident.press("تأیید و ارسال")
	expect(t, got, "پیشنهاد شما ثبت شد و به شورای محله می‌رسد.")
	code := codePattern.FindString(lastTextWith(got, "کد پیگیری"))

	if !hasLabel(chair.say("/start"), "پیشنهادهای رسیده (۱)") {
		t.Errorf("the chair's menu does not count the open suggestion:\n%s", dump(h.srv.SentTo(chair.chat.ID)))
	}
	got = chair.press("پیشنهادهای رسیده")
	expect(t, got, "کدام پیشنهاد")
	got = chair.press("کتابخانهٔ محله")
	expect(t, got, "پیشنهاد "+code, "فرستنده: بی‌نام", "کتابخانهٔ محله ساعت کاری کوتاهی دارد", "چه می‌کنید")
	hasButton(t, got, "سپردن به کارگروه")
	chair.press("سپردن به کارگروه")
	expect(t, chair.press("عمران و خدمات محلی"), "به کارگروه سپرده شد")

	// Zahra is a plain member: she answers, but may not assign.
	zahra.say("/start")
	zahra.press("پیشنهادهای رسیده")
	got = zahra.press("کتابخانهٔ محله")
	if hasLabel(got, "سپردن به کارگروه") {
		t.Errorf("a plain member is offered «سپردن به کارگروه»:\n%s", dump(got))
	}
	zahra.press("پاسخ به فرستنده")
	zahra.say("از ماه آینده کتابخانه تا ساعت ۲۰ باز است")
	zahra.press("رد کردن")
	expect(t, zahra.press("رد کردن"), "پاسخ داده شده", "به فرستنده خبر داده می‌شود")

	store := h.openStore()
	sg, err := store.SuggestionByCode(ctx, code)
	if err != nil || sg.Status != models.StatusAnswered {
		t.Fatalf("suggestion after the answer = %+v, %v", sg, err)
	}
	evs, err := store.SuggestionHistory(ctx, sg.ID)
	if err != nil || len(evs) != 2 || evs[0].Kind != models.EventAssign || evs[1].Text != "از ماه آینده کتابخانه تا ساعت ۲۰ باز است" ||
		evs[1].ByRole != "عضو شورا" {
		t.Errorf("history = %+v, %v", evs, err)
	}

	// Open by its code: a wrong code is asked again; the right one shows
	// the suggestion with what can still be done.
	chair.say("/start")
	expect(t, chair.press("باز کردن با کد"), "کد اقدام یا پیشنهاد")
	expect(t, chair.say("S-ZZZZZ"), "چیزی با این کد در حوزهٔ شما پیدا نشد")
	got = chair.say(code)
	expect(t, got, "پیشنهاد "+code, "پاسخ داده شده", "از ماه آینده کتابخانه")
	hasButton(t, got, "بستن")
	expect(t, chair.press("بستن"), "بسته شد")
	outsider := h.person(7304)
	outsider.register("+989122222222") // the secretary of arak 2
	outsider.say("/start")
	outsider.press("باز کردن با کد")
	expect(t, outsider.say(code), "چیزی با این کد در حوزهٔ شما پیدا نشد")

	noEnglish(t, h.srv.SentTo(chair.chat.ID))
	noEnglish(t, h.srv.SentTo(zahra.chat.ID))
}

// TestChairApprovesRequest: someone off the roster asks to join; the chair
// approves it in the chat and the person becomes a member.
func TestChairApprovesRequest(t *testing.T) {
	h := memberHarness(t)
	chair := h.person(7401)
	chair.register("+989121111111")

	newcomer := h.person(7402)
	newcomer.register("+989126543210")
	newcomer.say("رضا نوری")
	newcomer.say("نمونه ۱ اراک")
	newcomer.press("محله نمونه ۱ اراک")
	newcomer.press("عضو")
	newcomer.press("محیط زیست")
	newcomer.press("تأیید و ارسال")

	outsider := h.person(7403)
	outsider.say("/start")
	if hasLabel(h.srv.SentTo(outsider.chat.ID), "درخواست‌های عضویت") {
		t.Error("a resident is offered «درخواست‌های عضویت»")
	}
	expect(t, outsider.wait(h.srv.PressButton(outsider.chat, outsider.user, 0, FlowMenu("requests"))), "ویژهٔ هماهنگ‌کنندگان و رئیس شوراست")

	chair.say("/start")
	got := chair.press("درخواست‌های عضویت")
	if testing.Verbose() {
		t.Log(dump(h.srv.SentTo(chair.chat.ID)))
	}
	expect(t, got, "کدام درخواست")
	chair.press("رضا نوری")
	expect(t, chair.press("پذیرفتن"), "عضویت رضا نوری در شورای محله نمونه ۱ اراک پذیرفته شد")

	store := h.openStore()
	v, err := store.Viewer(context.Background(), "tg", newcomer.user.ID)
	if err != nil || !v.Has(models.RoleMember) {
		t.Fatalf("the newcomer after approval: %+v, %v", v, err)
	}
	newcomer.say("/start")
	hasButton(t, h.srv.SentTo(newcomer.chat.ID), "گزارش اقدام")
}

// hasLabel reports whether a message among sent carries a button whose
// label contains label.
func hasLabel(sent []bottest.Sent, label string) bool {
	for _, s := range sent {
		for _, row := range s.Inline {
			for _, b := range row {
				if strings.Contains(b.Text, label) {
					return true
				}
			}
		}
	}
	return false
}

// TestAnonymousStaysAnonymous: an anonymous suggestion's sender shows in no
// view, no log line and no export.
func TestAnonymousStaysAnonymous(t *testing.T) {
	h := newHarness(t)
	if code, out, errOut := runRoster(t, h.env, "import", writeRoster(t, testRoster)); code != exitOK {
		t.Fatalf("roster import exit %d:\n%s\n%s", code, out, errOut)
	}
	run := h.start()
	chair := h.person(7501)
	chair.register("+989121111111")
	resident := h.person(7502)
	resident.user.FirstName, resident.user.LastName = "نرگس", "صالحی"
	resident.say("/start")
	resident.toTopic()
	resident.press("امنیت عمومی")
	resident.say("همسایهٔ طبقهٔ بالا شب‌ها سروصدا می‌کند")
	resident.say("رد کردن")
	resident.press("رد کردن")
	resident.press("بی‌نام")
	code := codePattern.FindString(lastTextWith(resident.press("تأیید و ارسال"), "کد پیگیری"))

	chair.say("/start")
	chair.press("پیشنهادهای رسیده")
	seen := chair.press("همسایهٔ طبقهٔ بالا")
	expect(t, seen, code, "فرستنده: بی‌نام")
	id := fmt.Sprint(resident.user.ID)
	for _, s := range h.srv.SentTo(chair.chat.ID) {
		if strings.Contains(s.Text, "نرگس") || strings.Contains(s.Text, "صالحی") || strings.Contains(s.Text, id) {
			t.Errorf("the chair was shown who sent it: %q", s.Text)
		}
	}
	for _, line := range strings.Split(run.logs.String(), "\n") {
		if strings.Contains(line, "نرگس") || strings.Contains(line, "صالحی") || (strings.Contains(line, code) && strings.Contains(line, id)) {
			t.Errorf("a log line ties the suggestion to its sender: %s", line)
		}
	}
	var csv bytes.Buffer
	if exit := run2(t, h.env, &csv, "export", "suggestions"); exit != exitOK || !strings.Contains(csv.String(), code) ||
		strings.Contains(csv.String(), "نرگس") || strings.Contains(csv.String(), id) {
		t.Errorf("export (exit %d):\n%s", exit, csv.String())
	}
}

// run2 runs a mahalle command against the harness's backends and returns
// its exit code, its standard output going to stdout.
func run2(t *testing.T, env map[string]string, stdout io.Writer, args ...string) int {
	t.Helper()
	var errOut bytes.Buffer
	code := run(context.Background(), args, system{Getenv: mapEnv(env), Stdout: stdout, Stderr: &errOut, Now: time.Now})
	if code != exitOK {
		t.Logf("mahalle %v: %s", args, errOut.String())
	}
	return code
}

// TestChatCommandsFollowRoles: a resident keeps the default command list; a
// member who registers gets one of their own with /report.
func TestChatCommandsFollowRoles(t *testing.T) {
	h := memberHarness(t)
	resident := h.person(7601)
	resident.say("/start")
	if cmds, ok := h.srv.ChatCommands(resident.chat.ID); ok {
		t.Errorf("a resident's chat got its own command list: %s", cmds)
	}
	member := h.person(7602)
	member.register("+989121111111")
	cmds, ok := h.srv.ChatCommands(member.chat.ID)
	if !ok || !strings.Contains(cmds, `"report"`) || !strings.Contains(cmds, `"actions"`) {
		t.Fatalf("the member's command list = %s (%v), want /report and /actions", cmds, ok)
	}
	// A resident who joins later is told apart the same way: the list
	// follows the roles, not the chat.
	other := h.person(7603)
	other.say("/start")
	if cmds, ok := h.srv.ChatCommands(other.chat.ID); ok {
		t.Errorf("another resident got a list of their own: %s", cmds)
	}
}
