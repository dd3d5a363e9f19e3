package models_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/models"
)

// TestCouncilDigest: residents' comments and confirmations on a council's
// actions reach its chair and secretary as one message a day, with the
// counts and the oldest items first; hidden comments and other councils'
// actions stay out; a second run, or a run within the day, queues nothing;
// a person reading a daily digest gets it at their hour.
func TestCouncilDigest(t *testing.T) {
	t.Parallel()
	c := newCouncil(t)
	s, ctx, people := c.s, t.Context(), c.cast(t) // the chair can be reached; the secretary has not opened the bot
	verified := func(key, title string, place models.PlaceMatch, reporter uint, committee string) models.Action {
		t.Helper()
		a := c.newAction(t, key)
		a.Title, a.PlaceID, a.ReporterPersonID, a.CommitteeID = title, place.ID, reporter, c.committees[committee].ID
		if err := s.CreateAction(ctx, models.Actor{Platform: "tg", UserID: 1}, &a); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DecideAction(ctx, people.county, a.ID, models.DecideVerify, ""); err != nil {
			t.Fatal(err)
		}
		return a
	}
	park := verified("park", "تعمیر نیمکت‌های پارک", c.arak1, c.maryam, "health")
	clinic := verified("clinic", "غربالگری فشار خون", c.arak1, c.maryam, "health")
	theirs := verified("theirs", "لایروبی جوی آب", c.arak2, c.zahra, "civil")
	step := func(d time.Duration) { *c.now = c.now.Add(d) }
	comment := func(key string, a models.Action, text string) models.Comment {
		t.Helper()
		step(10 * time.Minute)
		cm := models.Comment{Key: key, ActionID: a.ID, Platform: "tg", UserID: 500, Text: text}
		if err := s.AddComment(ctx, &cm); err != nil {
			t.Fatal(err)
		}
		return cm
	}
	confirm := func(a models.Action, user int64, answer string) {
		t.Helper()
		step(10 * time.Minute)
		if err := s.Confirm(ctx, &models.Confirmation{ActionID: a.ID, Platform: "tg", UserID: user, Answer: answer}); err != nil {
			t.Fatal(err)
		}
	}
	comment("c1", park, "نیمکت‌ها خیلی خوب شد")
	confirm(clinic, 501, models.ConfirmYes)
	hidden := comment("c2", park, "متن نامناسب برای پنهان کردن")
	if err := s.HideComment(ctx, people.county, hidden.ID, "توهین به دیگران"); err != nil {
		t.Fatal(err)
	}
	comment("c3", theirs, "جوی آب هنوز پر است")
	confirm(park, 502, models.ConfirmPartly)
	comment("c4", clinic, "ممنون از خانه بهداشت")

	digests := func() []models.Notice {
		var out []models.Notice
		for _, n := range models.QueuedNotices(s) {
			if n.Kind == models.KindCouncilDigest {
				out = append(out, n)
			}
		}
		return out
	}
	send := func(want int) {
		t.Helper()
		n, err := s.SendCouncilDigests(ctx)
		if err != nil || n != want {
			t.Fatalf("SendCouncilDigests = %d, %v; want %d", n, err, want)
		}
	}
	send(1) // arak 1; arak 2 has no chair or secretary to receive it: it waits
	got := digests()
	if len(got) != 1 || got[0].PersonID == nil || *got[0].PersonID != c.maryam || got[0].EntityID != park.CouncilID || got[0].Urgent {
		t.Fatalf("council digests = %+v, want one to the chair of arak 1", got)
	}
	text := got[0].Text
	if !strings.HasPrefix(text, "خلاصهٔ روزانهٔ شورای پیشرفت محله نمونه ۱ اراک: ۲ نظر و ۲ تأیید ساکنان") ||
		!strings.Contains(text, "(۱ «انجام شد»، ۱ «تا حدی»)") {
		t.Errorf("digest heading = %q", text)
	}
	first := strings.Index(text, "نیمکت‌ها خیلی خوب شد")
	second := strings.Index(text, "تأیید «انجام شد» برای «غربالگری فشار خون»")
	third := strings.Index(text, "تأیید «تا حدی» برای «تعمیر نیمکت‌های پارک»")
	fourth := strings.Index(text, "ممنون از خانه بهداشت")
	if first < 0 || second < first || third < second || fourth < third {
		t.Errorf("digest items not all there, oldest first:\n%s", text)
	}
	if strings.Contains(text, "نامناسب") || strings.Contains(text, "جوی آب") {
		t.Errorf("the digest holds a hidden comment or another council's:\n%s", text)
	}
	for _, line := range strings.Split(text, "\n") {
		if line != "" && !strings.HasPrefix(line, "• ") && !strings.HasPrefix(line, "خلاصهٔ") {
			t.Errorf("line %q does not start with a Persian word", line)
		}
	}
	if len(got[0].Buttons) != 1 || got[0].Buttons[0].Data != "mine" {
		t.Errorf("digest buttons = %+v", got[0].Buttons)
	}

	// Again at once, and within the day: nothing more.
	send(0)
	comment("c5", park, "کاش سایبان هم بگذارید")
	step(time.Hour)
	send(0)
	// A day after the first: only what came since.
	step(24 * time.Hour)
	send(1)
	got = digests()
	if len(got) != 2 || !strings.Contains(got[1].Text, "۱ نظر و ۰ تأیید") || !strings.Contains(got[1].Text, "کاش سایبان") ||
		strings.Contains(got[1].Text, "نیمکت‌ها خیلی خوب شد") {
		t.Fatalf("second digest = %+v", got)
	}

	// The secretary opens the bot, and a plain member of arak 2: the next
	// digest reaches the chair and the secretary, never a plain member. The
	// chair reads a daily digest at 20:00: theirs waits for it.
	c.viewerOf(t, c.ali)
	c.viewerOf(t, c.zahra)
	claim(t, s) // what was due so far
	comment("c6", clinic, "فشار خون من را هم گرفتند")
	step(24 * time.Hour)
	if err := s.SetPrefs(ctx, models.NoticePrefs{PersonID: c.maryam, Mode: models.NoticeDigest, DigestHour: 20}); err != nil {
		t.Fatal(err)
	}
	send(1)
	if got = digests(); len(got) != 4 || *got[2].PersonID != c.maryam || *got[3].PersonID != c.ali {
		t.Fatalf("third digest rows = %+v, want the chair's and the secretary's", got)
	}
	for _, n := range digests() {
		if *n.PersonID == c.zahra || n.EntityID == theirs.CouncilID {
			t.Errorf("a digest went to a plain member, or to arak 2 with nobody to read it: %+v", n)
		}
	}
	toSecretary := false
	for _, b := range claim(t, s) {
		for _, n := range b.Notices {
			if n.Kind == models.KindCouncilDigest && b.PersonID == c.maryam {
				t.Errorf("the council digest went to a digest reader before their hour: %+v", b)
			}
			toSecretary = toSecretary || n.Kind == models.KindCouncilDigest && b.PersonID == c.ali
		}
	}
	if !toSecretary {
		t.Errorf("the secretary, who reads each notice as it comes, did not get the digest at once")
	}
	tehran, _ := time.LoadLocation("Asia/Tehran")
	lt := c.now.In(tehran)
	*c.now = time.Date(lt.Year(), lt.Month(), lt.Day(), 20, 0, 0, 0, tehran).AddDate(0, 0, 1).UTC()
	found := false
	for _, b := range claim(t, s) {
		for _, n := range b.Notices {
			if n.Kind == models.KindCouncilDigest && b.PersonID == c.maryam && strings.Contains(n.Text, "فشار خون من") {
				found = b.Digest
			}
		}
	}
	if !found {
		t.Errorf("the council digest did not come in the chair's daily digest at 20:00")
	}
}

// claim claims every due notice and marks it delivered.
func claim(t *testing.T, s *models.Store) []models.Batch {
	t.Helper()
	bs, err := s.ClaimNotices(t.Context(), models.ClaimOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		var ids []uint
		for _, n := range b.Notices {
			ids = append(ids, n.ID)
		}
		if err := s.NoticesDelivered(t.Context(), ids, b.Platform, 1); err != nil {
			t.Fatal(err)
		}
	}
	return bs
}
