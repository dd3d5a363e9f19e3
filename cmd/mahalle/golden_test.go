package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/models"
)

// update rewrites the golden transcripts: go test ./cmd/mahalle -run TestGolden -update
var update = flag.Bool("update", false, "rewrite the golden transcripts under testdata/golden")

// TestGolden plays each transcript under testdata/golden, as RapidPro's
// flow tests do: the lines starting with "> " are what a person does, the
// rest is exactly what the bot did in the chat, with its buttons. A wording
// change shows up in review as a change of these files; -update rewrites
// them from what the bot does now.
//
// What a person can do:
//
//	> /start                a text or a command
//	> press LABEL           press the newest live button whose label contains LABEL
//	> contact PHONE         share their own contact
//	> location LAT LON      share a location
//	> photo [ALBUM]         send a photo, in album ALBUM when given
//	> voice | sticker       send a voice message or a sticker
//	> forward hidden|ID     forward a message from a hidden sender, or from user ID
//	> later DURATION        the clock moves on (expiry)
//	> code TITLE            type the tracking code of the action titled TITLE
//	> answer TEXT           the council's chair answers the person's newest suggestion ("# roster")
//	> resolve yes|no        the person taps «حل شد»/«حل نشد» under that answer's notice
//
// A file whose first line is "# roster" runs with the test roster imported;
// a line "# verified TITLE" there adds a verified action of the chair's
// council, "# submitted TITLE" one waiting for review, "# comment TEXT" a
// resident's comment on the newest of them, "# request NAME PHONE" a
// membership request to that council, and "# staff PHONE ROLE AREA" a
// staff assignment (as `mahalle staff add`).
// Every line the bot shows must start with a Persian word (or a
// right-to-left mark): one that starts with a Latin letter is laid out left
// to right.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			t.Parallel()
			playGolden(t, file)
		})
	}
}

func playGolden(t *testing.T, file string) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want := string(raw)
	var h *harness
	// Notices (the outbox) reach a chat on the notifier's clock, not the
	// person's: a transcript records what the person's own actions bring,
	// so the notifier's first round (at start, empty) is its only one
	// within a transcript. Their delivery has its own tests.
	noticesOff := func(h *harness) { h.env["NOTICE_INTERVAL"] = "1m" }
	if strings.HasPrefix(want, "# roster") {
		h = memberHarnessWith(t, noticesOff)
		// "# verified TITLE": a verified action of the chair's council
		// («محله نمونه ۱ اراک»), for the residents' feed and taking part.
		requests := 0
		for _, line := range strings.Split(want, "\n") {
			title, verified := strings.CutPrefix(line, "# verified ")
			submitted, waiting := strings.CutPrefix(line, "# submitted ")
			if verified || waiting {
				store := h.openStore()
				c := seedCouncil(t, store)
				c.photos = []string{h.srv.PutFile("a.jpg", []byte("photo a")), h.srv.PutFile("b.jpg", []byte("photo b"))}
				if waiting {
					title = submitted
				}
				c.addAction(t, store, title, c.civil, 1, verified)
			}
			if text, ok := strings.CutPrefix(line, "# comment "); ok {
				// A resident's comment on the newest verified action.
				store := h.openStore()
				c := seedCouncil(t, store)
				as, err := store.ActionsByCouncil(context.Background(), c.chair.CouncilID, 0, 1)
				if err != nil || len(as) == 0 {
					t.Fatalf("# comment: no action of the chair's council: %v", err)
				}
				cm := models.Comment{Key: "golden:" + text, ActionID: as[0].ID, Platform: "tg", UserID: 8801, Text: text}
				if err := store.AddComment(context.Background(), &cm); err != nil {
					t.Fatal(err)
				}
			}
			if req, ok := strings.CutPrefix(line, "# request "); ok {
				// A membership request to the chair's council: "NAME… PHONE".
				f := strings.Fields(req)
				store := h.openStore()
				c := seedCouncil(t, store)
				requests++
				_, err := store.RequestMembership(context.Background(), models.MembershipRequest{Platform: "tg", UserID: int64(8700 + requests),
					Name: strings.Join(f[:len(f)-1], " "), Phone: f[len(f)-1], PlaceID: c.chair.PlaceID, CommitteeID: c.civil})
				if err != nil {
					t.Fatalf("# request %s: %v", req, err)
				}
			}
			if staff, ok := strings.CutPrefix(line, "# staff "); ok {
				if code, out, errOut := runStaff(t, h.env, append([]string{"add"}, strings.Fields(staff)...)...); code != exitOK {
					t.Fatalf("staff add %s: exit %d:\n%s\n%s", staff, code, out, errOut)
				}
			}
		}
	} else {
		h = newHarness(t)
		noticesOff(h)
		h.start()
	}
	// The notifier's first round must be over before the person acts, or
	// a notice their action queues goes out with it, mid-transcript.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := h.run.logs.waitFor(ctx, "notifier: first round done"); err != nil {
		t.Fatal(err)
	}
	p := h.person(7001)
	var out strings.Builder
	for _, line := range strings.Split(strings.TrimRight(want, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
			out.WriteString(line + "\n")
			continue
		case !strings.HasPrefix(line, "> "):
			continue
		}
		out.WriteString(line + "\n")
		for _, s := range p.act(h, strings.TrimPrefix(line, "> ")) {
			writeSent(t, &out, h, s)
		}
	}
	got := out.String()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			g, w := at(gl, i), at(wl, i)
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update to accept)\nwhole transcript:\n%s", file, i+1, g, w, got)
			}
		}
	}
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end)"
}

// act does one scripted thing and returns what the bot did.
func (p *person) act(h *harness, cmd string) []bottest.Sent {
	p.t.Helper()
	verb, rest, _ := strings.Cut(cmd, " ")
	switch verb {
	case "press":
		return p.press(rest)
	case "contact":
		return p.wait(h.srv.SendContact(p.chat, p.user, rest, p.user.ID))
	case "location":
		f := strings.Fields(rest)
		lat, _ := strconv.ParseFloat(f[0], 64)
		lon, _ := strconv.ParseFloat(f[1], 64)
		return p.wait(h.srv.SendLocation(p.chat, p.user, lat, lon))
	case "photo":
		return p.wait(h.srv.SendPhoto(p.chat, p.user, "", rest))
	case "voice":
		return p.wait(h.srv.SendVoice(p.chat, p.user, 3))
	case "sticker":
		return p.wait(h.srv.SendSticker(p.chat, p.user))
	case "forward":
		// A message forwarded from someone whose privacy settings hide them
		// ("forward hidden"), or from a user id.
		if rest == "hidden" {
			return p.wait(h.srv.ForwardTextFrom(p.chat, p.user, nil, "سلام"))
		}
		id, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			p.t.Fatalf("forward %q: want hidden or a user id", rest)
		}
		return p.wait(h.srv.ForwardTextFrom(p.chat, p.user, &bottest.User{ID: id, FirstName: "فرستنده"}, "سلام"))
	case "answer", "resolve":
		// The council answers the person's newest suggestion (as its
		// chair), or the person taps «حل شد»/«حل نشد» under the answer's
		// notice ("resolve yes|no").
		store := h.openStore()
		ctx := context.Background()
		sgs, _, err := store.MySuggestions(ctx, "tg", p.user.ID, 0, 1)
		if err != nil || len(sgs) == 0 {
			p.t.Fatalf("%s: no suggestion of the person: %v", verb, err)
		}
		if verb == "resolve" {
			return p.tap("resolve:" + sgs[0].Code + ":" + rest)
		}
		c := seedCouncil(p.t, store)
		chair := models.Viewer{Platform: "tg", UserID: 1, PersonID: c.chair.PersonID, Memberships: []models.MembershipView{c.chair}}
		if _, err := store.ChangeSuggestion(ctx, chair, sgs[0].ID, models.SuggestionChange{Answer: rest}); err != nil {
			p.t.Fatal(err)
		}
		return nil
	case "code":
		// The person types the tracking code of the action titled rest.
		store := h.openStore()
		as, err := store.ActionsByCouncil(context.Background(), seedCouncil(p.t, store).chair.CouncilID, 0, 100)
		if err != nil {
			p.t.Fatal(err)
		}
		for _, a := range as {
			if a.Title == rest {
				return p.say(a.Code)
			}
		}
		p.t.Fatalf("code %s: no such action of the chair's council", rest)
		return nil
	case "later":
		d, err := time.ParseDuration(rest)
		if err != nil {
			p.t.Fatal(err)
		}
		h.clock.Advance(d)
		return nil
	}
	return p.say(cmd)
}

// Things that differ from run to run: codes, dates and times.
var (
	goldenCode = regexp.MustCompile(`\b([SA])-[23456789ACDEFGHJKMNPQRTUVWXYZ]{5}\b`)
	goldenDate = regexp.MustCompile(`[۰-۹]{1,2} (فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند) [۰-۹]{4}`)
	goldenTime = regexp.MustCompile(`ساعت [۰-۹]{2}:[۰-۹]{2}`)
)

func stable(s string) string {
	s = goldenCode.ReplaceAllString(s, "$1-XXXXX")
	s = goldenDate.ReplaceAllString(s, "‹تاریخ›")
	return goldenTime.ReplaceAllString(s, "ساعت ‹زمان›")
}

// writeSent writes one call the bot made, and checks that every line a
// person reads starts right to left.
func writeSent(t *testing.T, b *strings.Builder, h *harness, s bottest.Sent) {
	t.Helper()
	switch s.Method {
	case "answerCallbackQuery":
		if s.Text != "" {
			fmt.Fprintf(b, "  ↳ toast: %s\n", stable(s.Text))
			rtl(t, s.Text)
		} else {
			b.WriteString("  ↳ answered\n")
		}
		return
	case "editMessageReplyMarkup":
		fmt.Fprintf(b, "< %s #%d", s.Method, s.MessageID)
		if len(s.Inline) == 0 {
			b.WriteString(" (buttons removed)")
		}
		b.WriteString("\n")
		return
	default:
		fmt.Fprintf(b, "< %s #%d\n", s.Method, s.MessageID)
	}
	if s.Text != "" {
		for _, l := range strings.Split(stable(s.Text), "\n") {
			b.WriteString("  | " + l + "\n")
			rtl(t, l)
		}
	}
	for _, row := range s.Inline {
		b.WriteString("  ")
		for _, btn := range row {
			fmt.Fprintf(b, "[%s] ", stable(btn.Text))
			rtl(t, btn.Text)
		}
		b.WriteString("\n")
	}
	for _, row := range s.Keyboard {
		b.WriteString("  ⌨ ")
		for _, btn := range row {
			fmt.Fprintf(b, "(%s) ", btn.Text)
		}
		b.WriteString("\n")
	}
	if s.RemoveKeyboard {
		b.WriteString("  ⌨ removed\n")
	}
}

// rtl fails when the first letter of line is not in the Arabic script (and
// the line does not start with a right-to-left mark): Telegram would lay it
// out left to right.
func rtl(t *testing.T, line string) {
	t.Helper()
	if strings.HasPrefix(line, "\u200f") {
		return
	}
	for _, r := range line {
		if unicode.IsLetter(r) {
			if !unicode.Is(unicode.Arabic, r) {
				t.Errorf("a line starts with the Latin %q, so it is laid out left to right: %q", string(r), line)
			}
			return
		}
	}
}
