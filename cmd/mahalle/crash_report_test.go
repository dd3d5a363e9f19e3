package main

import (
	"context"
	"strings"
	"testing"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/models"
)

// The action report at every point between the summary and the final
// reply, with the real bot process killed -9 there: the insert done or
// not, the reply sent or not, the update's acknowledgement (which stores
// the conversation's transition) done or not. After the restart there is
// one record (or none, when nothing was inserted) and the member is told
// the truth.

// reportProc starts the bot as a process with the test roster imported and
// walks a registered member to the summary of a report.
func reportProc(t *testing.T, h *harness, id int64) (*proc, *person) {
	t.Helper()
	if code, out, errOut := runRoster(t, h.env, "import", writeRoster(t, testRoster)); code != exitOK {
		t.Fatalf("roster import exit %d:\n%s\n%s", code, out, errOut)
	}
	pr := h.startProc()
	m := h.person(id)
	m.register("09121111111")
	expect(t, m.toActionSummary("نصب چراغ در کوچهٔ سوم", "چهار چراغ در کوچهٔ سوم نصب شد."), "خلاصهٔ «گزارش اقدام»")
	return pr, m
}

// oneAction checks the database holds exactly want actions of the member's
// council, and returns the newest.
func oneAction(t *testing.T, h *harness, want int) models.Action {
	t.Helper()
	store := h.openStore()
	ctx := context.Background()
	ms, err := store.MembershipsByPhone(ctx, "+989121111111")
	if err != nil || len(ms) == 0 {
		t.Fatalf("memberships: %v %v", ms, err)
	}
	acts, err := store.ActionsByCouncil(ctx, ms[0].CouncilID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != want {
		t.Fatalf("actions = %d, want %d: %+v", len(acts), want, acts)
	}
	if want == 0 {
		return models.Action{}
	}
	return acts[0]
}

func TestCrashReportReplySentBeforeConfirm(t *testing.T) {
	h := newHarness(t)
	pr, m := reportProc(t, h, 7301)
	// Killed the moment the closing message with the code reaches the chat:
	// inserted, replied, not acknowledged.
	armed := h.killOnSend(pr, func(s bottest.Sent) bool {
		return s.ChatID == m.chat.ID && actionCode.MatchString(s.Text)
	})
	id := m.pressID("تأیید و ارسال")
	notice := h.awaitKill(armed, pr, id)
	code := actionCode.FindString(notice.Text)
	h.startProc()
	got := m.wait(id)
	expect(t, got, "اقدام ثبت شد", code)
	if a := oneAction(t, h, 1); a.Code != code {
		t.Errorf("stored %s, told %s", a.Code, code)
	}
}

func TestCrashReportInsertedBeforeCommit(t *testing.T) {
	h := newHarness(t)
	gate := newRedisGate(t, h)
	pr, m := reportProc(t, h, 7302)
	// The action is inserted and the member told; the acknowledgement that
	// stores the conversation's transition is held.
	gate.arm()
	id := m.pressID("تأیید و ارسال")
	gate.waitHeld()
	a := oneAction(t, h, 1)
	pr.mustKill9(t)
	h.unconfirmed(id)
	if st := h.convState(m); st.Flow == "" {
		t.Fatalf("the conversation closed before the acknowledgement")
	}
	h.startProc()
	got := m.wait(id)
	// Handled again, the run finds its own action by its key: no
	// duplicate warning listing it, the same code, one row.
	if containsAny(got, "شبیه کارهایی است") {
		t.Errorf("the second attempt warned of a duplicate of the member's own report:\n%s", dump(got))
	}
	codes := actionCode.FindAllString(dump(got), -1)
	if len(codes) == 0 || oneAction(t, h, 1).Code != a.Code {
		t.Errorf("told %v, stored %s:\n%s", codes, a.Code, dump(got))
	}
	for _, code := range codes {
		if code != a.Code {
			t.Errorf("told %s, stored %s", code, a.Code)
		}
	}
	if st := h.convState(m); st.Flow != "" {
		t.Errorf("state after the second attempt = flow %q; want closed", st.Flow)
	}
}

func TestCrashReportCommittedReplyNotSent(t *testing.T) {
	h := newHarness(t)
	pr, m := reportProc(t, h, 7303)
	// Inserted; the first reply (the callback answer) hangs and the bot
	// dies: the member saw nothing. The second attempt says it once.
	n := h.srv.Calls("answerCallbackQuery")
	h.srv.FailNext("answerCallbackQuery", 1, bottest.Fault{Latency: hang})
	id := m.pressID("تأیید و ارسال")
	h.waitCalls("answerCallbackQuery", n)
	pr.mustKill9(t)
	h.unconfirmed(id)
	h.startProc()
	got := m.wait(id)
	code := actionCode.FindString(lastTextWith(got, "کد پیگیری"))
	if a := oneAction(t, h, 1); code == "" || a.Code != code {
		t.Errorf("told %q, stored %s:\n%s", code, a.Code, dump(got))
	}
	if n := countSent(h.srv.SentTo(m.chat.ID), code); n != 1 {
		t.Errorf("the code was said %d times, want 1", n)
	}
}

// The same work reported again, killed after the update's insert and its
// reply, before the acknowledgement: the second attempt recognises the
// update by its key and says so.
func TestCrashReportSameWorkBeforeCommit(t *testing.T) {
	h := newHarness(t)
	gate := newRedisGate(t, h)
	pr, m := reportProc(t, h, 7304)
	got := m.press("تأیید و ارسال")
	code := actionCode.FindString(lastTextWith(got, "کد پیگیری"))
	m.toActionSummary("نصب چراغ در کوچهٔ سوم", "چهار چراغ دیگر در کوچهٔ سوم نصب شد.")
	expect(t, m.press("تأیید و ارسال"), "شبیه کارهایی است", code)
	gate.arm()
	id := m.pressID("همان کار " + code)
	gate.waitHeld()
	pr.mustKill9(t)
	h.unconfirmed(id)
	h.startProc()
	got = m.wait(id)
	expect(t, got, "به‌روزرسانی اقدام "+code)
	a := oneAction(t, h, 1)
	_, updates, err := h.openStore().Action(context.Background(), a.ID)
	if err != nil || len(updates) != 1 {
		t.Errorf("updates of %s = %d, %v; want 1", code, len(updates), err)
	}
	for _, s := range got {
		// Removing the question's buttons asks nothing.
		if s.Method != "editMessageReplyMarkup" && strings.Contains(s.Text, "شبیه کارهایی است") {
			t.Errorf("the second attempt asked the duplicate question again:\n%s", dump(got))
		}
	}
}
