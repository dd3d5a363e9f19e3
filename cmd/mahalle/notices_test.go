package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/models"
)

// waitNotice waits for a message to chatID containing want, sent by the
// notifier (not as a reply), and returns it.
func waitNotice(t *testing.T, srv *bottest.Server, chatID int64, want string) bottest.Sent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	s, err := srv.WaitFor(ctx, func(s bottest.Sent) bool {
		return s.ChatID == chatID && s.Method == "sendMessage" && strings.Contains(s.Text, want)
	})
	if err != nil {
		t.Fatalf("no notice %q to chat %d: %v", want, chatID, err)
	}
	return s
}

// waitDelivered waits until the outbox holds n delivered notices and, with
// only, nothing else; it fails the test after waitTimeout.
func waitDelivered(t *testing.T, store *models.Store, n int64, only bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		counts, err := store.NoticeCounts(ctx)
		if err == nil && counts[models.NoticeDelivered] == n && (!only || len(counts) == 1) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("outbox = %v (%v), want %d delivered", counts, err, n)
		case <-tick.C:
		}
	}
}

// TestStaffAndNoticesEndToEnd: an admin in ADMIN_PHONES shares their
// contact and is told they are admin; a coordinator named on the command
// line shares theirs and gets their appointment as a notice; a new
// membership request in their county reaches them with a button that opens
// it, and the person is told when the request is approved.
func TestStaffAndNoticesEndToEnd(t *testing.T) {
	h := newHarness(t)
	h.env["ADMIN_PHONES"] = "09350000000,09121111111"
	h.env["NOTICE_INTERVAL"] = "20ms"
	h.env["QUIET_HOURS"] = "none"
	if code, out, errOut := runRoster(t, h.env, "import", writeRoster(t, testRoster)); code != exitOK {
		t.Fatalf("roster import exit %d:\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := runStaff(t, h.env, "add", "09129999999", "county", "اراک"); code != exitOK {
		t.Fatalf("staff add exit %d:\n%s\n%s", code, out, errOut)
	}
	h.start()

	admin := h.person(7501)
	got := admin.register("+989350000000")
	expect(t, got, "شما مدیر سامانه هستید")
	if strings.Contains(lastText(got), "نام و نام خانوادگی") {
		t.Errorf("the admin was asked for a membership request: %q", lastText(got))
	}

	// A roster member who is also admin is greeted as both.
	expect(t, h.person(7504).register("+989121111111"), "سلام مریم احمدی", "رئیس", "شما مدیر سامانه هستید")

	coord := h.person(7502)
	expect(t, coord.register("+989129999999"), "شما هماهنگ‌کنندهٔ شوراهای پیشرفت محله هستید")
	waitNotice(t, h.srv, coord.chat.ID, "شما هماهنگ‌کنندهٔ شهرستان اراک شدید")

	asker := h.person(7503)
	expect(t, asker.register("+989125555555"), "نام و نام خانوادگی")
	asker.requestJoin("حمید نوری", "نمونه ۲ اراک")
	n := waitNotice(t, h.srv, coord.chat.ID, "درخواست عضویت تازه: حمید نوری، عضو شورای پیشرفت محله نمونه ۲ اراک (شهرستان اراک)")
	if len(n.Inline) != 1 || n.Inline[0][0].Text != "بررسی درخواست" || !strings.HasPrefix(n.Inline[0][0].CallbackData, "m|menu|requests:") {
		t.Errorf("the notice's buttons = %+v", n.Inline)
	}

	// A coordinator approves it (the review flow is another issue's: here the store does).
	store := h.openStore()
	ms, err := store.MembershipsByPhone(context.Background(), "+989125555555")
	if err != nil || len(ms) != 1 {
		t.Fatalf("memberships = %+v, %v", ms, err)
	}
	if err := store.ActivateMembership(context.Background(), models.Actor{Platform: "tg", UserID: 7502}, ms[0].ID); err != nil {
		t.Fatal(err)
	}
	waitNotice(t, h.srv, asker.chat.ID, "درخواست عضویت شما تأیید شد")
	noEnglish(t, h.srv.SentTo(coord.chat.ID))
	noEnglish(t, h.srv.SentTo(asker.chat.ID))

	// Every notice is marked delivered right after its send: the
	// coordinator's appointment, the request and the approval.
	waitDelivered(t, store, 3, true)
}
