package playground

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/models/modelstest"
)

const waitTimeout = 20 * time.Second

// rig is the page's server in front of a fake Bot API, with one live
// event stream open.
type rig struct {
	t      *testing.T
	api    *bottest.Server
	page   *httptest.Server
	events chan Event
}

func newRig(t *testing.T) *rig {
	t.Helper()
	api := bottest.New(t)
	s := New(api, slog.New(slog.DiscardHandler), time.Now)
	page := httptest.NewServer(s.Handler())
	t.Cleanup(func() { s.Close(); page.Close() })
	r := &rig{t: t, api: api, page: page, events: make(chan Event, 100)}
	resp, err := http.Get(page.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events Content-Type = %q", ct)
	}
	live := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(resp.Body)
		kind := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				kind = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && kind == "live":
				close(live)
				kind = ""
			case strings.HasPrefix(line, "data: ") && kind == "":
				var e Event
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e) == nil {
					r.events <- e
				}
			case line == "":
				kind = ""
			}
		}
	}()
	select {
	case <-live:
	case <-time.After(waitTimeout):
		t.Fatal("no live marker on the event stream")
	}
	return r
}

// next returns the next event, failing after waitTimeout.
func (r *rig) next() Event {
	r.t.Helper()
	select {
	case e := <-r.events:
		return e
	case <-time.After(waitTimeout):
		r.t.Fatal("no event")
	}
	return Event{}
}

// bot calls a Bot API method as the bot would, form-encoded.
func (r *rig) bot(method string, p url.Values) map[string]any {
	r.t.Helper()
	resp, err := http.PostForm(r.api.URL()+"/bot"+r.api.Token()+"/"+method, p)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out["ok"] != true {
		r.t.Fatalf("%s: %v %v", method, out, err)
	}
	return out
}

func (r *rig) post(path, contentType string, body io.Reader) (int, string) {
	r.t.Helper()
	resp, err := http.Post(r.page.URL+path, contentType, body)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// updates reads the queued updates as the bot's poller would.
func (r *rig) updates() []map[string]any {
	r.t.Helper()
	resp, err := http.Get(r.api.URL() + "/bot" + r.api.Token() + "/getUpdates?timeout=0")
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Result []map[string]any }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		r.t.Fatal(err)
	}
	return out.Result
}

func TestBotMessagesBecomeEvents(t *testing.T) {
	r := newRig(t)
	chat := "1001"
	r.api.SendText(bottest.Chat{ID: 1001, Type: "private"}, bottest.User{ID: 1001, FirstName: "نرگس"}, "/start") // the chat exists

	sent := r.bot("sendMessage", url.Values{"chat_id": {chat}, "text": {"سلام"},
		"reply_markup": {`{"inline_keyboard":[[{"text":"ارسال پیشنهاد","callback_data":"m|s"},{"text":"سایت","url":"https://example.org"}]]}`}})
	id := int(sent["result"].(map[string]any)["message_id"].(float64))
	e := r.next()
	if e.Type != "msg" || e.From != "bot" || e.Text != "سلام" || e.Chat != 1001 || len(e.Inline) != 1 || len(e.Inline[0]) != 2 ||
		e.Inline[0][0].Data != "m|s" || e.Inline[0][1].URL != "https://example.org" {
		t.Fatalf("sendMessage event = %+v", e)
	}
	key := e.Key

	r.bot("editMessageText", url.Values{"chat_id": {chat}, "message_id": {strconv.Itoa(id)}, "text": {"سلام دوباره"}})
	if e := r.next(); e.Key != key || !e.Edited || e.Text != "سلام دوباره" || e.Inline != nil {
		t.Errorf("edit event = %+v, want the same key, edited, no buttons", e)
	}

	r.bot("sendMessage", url.Values{"chat_id": {chat}, "text": {"شماره را بفرستید"},
		"reply_markup": {`{"keyboard":[[{"text":"ارسال شمارهٔ من","request_contact":true}],[{"text":"موقعیت","request_location":true}]],"resize_keyboard":true}`}})
	r.next()
	if k := r.next(); k.Type != "keyboard" || len(k.Keyboard) != 2 || !k.Keyboard[0][0].Contact || !k.Keyboard[1][0].Location {
		t.Errorf("keyboard event = %+v", k)
	}
	r.bot("sendMessage", url.Values{"chat_id": {chat}, "text": {"ممنون"}, "reply_markup": {`{"remove_keyboard":true}`}})
	r.next()
	if k := r.next(); k.Type != "keyboard" || !k.Remove {
		t.Errorf("remove keyboard event = %+v", k)
	}

	r.bot("deleteMessage", url.Values{"chat_id": {chat}, "message_id": {strconv.Itoa(id)}})
	if e := r.next(); e.Type != "del" || e.Key != key {
		t.Errorf("delete event = %+v, want del of %s", e, key)
	}

	// A document the bot uploads is downloadable under its name.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("chat_id", chat)
	fw, _ := mw.CreateFormFile("document", "گزارش.csv")
	_, _ = fw.Write([]byte("کد,عنوان\n"))
	_ = mw.Close()
	resp, err := http.Post(r.api.URL()+"/bot"+r.api.Token()+"/sendDocument", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	doc := r.next()
	if doc.Kind != "document" || doc.Name != "گزارش.csv" || !strings.HasPrefix(doc.File, "/file/") {
		t.Fatalf("document event = %+v", doc)
	}
	dl, err := http.Get(r.page.URL + doc.File)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(dl.Body)
	dl.Body.Close()
	if string(got) != "کد,عنوان\n" || !strings.Contains(dl.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("download = %q, Content-Disposition %q", got, dl.Header.Get("Content-Disposition"))
	}
}

func TestPageActionsBecomeUpdates(t *testing.T) {
	r := newRig(t)
	if code, _ := r.post("/api/resident/text", "application/json", strings.NewReader(`{"text":"سلام ربات"}`)); code != http.StatusNoContent {
		t.Fatalf("text: %d", code)
	}
	if e := r.next(); e.From != "user" || e.Text != "سلام ربات" || e.Chat != 1001 {
		t.Errorf("text event = %+v", e)
	}
	r.post("/api/member/contact", "application/json", nil)
	r.next()
	r.post("/api/resident/location", "application/json", strings.NewReader(`{"lat":34.094,"lon":49.694,"name":"محله نمونه ۱ اراک"}`))
	r.next()
	code, msg := r.post("/api/resident/location", "application/json", strings.NewReader(`{"lat":134,"lon":49}`))
	if code != http.StatusBadRequest || !strings.HasPrefix(msg, "عرض جغرافیایی") {
		t.Errorf("a bad location: %d %q, want 400 and a Persian reason", code, msg)
	}
	if code, _ := r.post("/api/nobody/text", "application/json", strings.NewReader(`{"text":"x"}`)); code != http.StatusNotFound {
		t.Errorf("an unknown persona: %d, want 404", code)
	}

	// Two photos at once are an album.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, name := range []string{"a.png", "b.png"} {
		fw, _ := mw.CreateFormFile("photo", name)
		_, _ = fw.Write(demoPNG(1))
	}
	_ = mw.WriteField("caption", "جوی آب")
	_ = mw.Close()
	if code, msg := r.post("/api/resident/photos", mw.FormDataContentType(), &body); code != http.StatusNoContent {
		t.Fatalf("photos: %d %s", code, msg)
	}
	p1, p2 := r.next(), r.next()
	if p1.Kind != "photo" || p1.Group == "" || p1.Group != p2.Group || p1.Text != "جوی آب" {
		t.Errorf("album events = %+v %+v", p1, p2)
	}
	img, err := http.Get(r.page.URL + p2.File)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(img.Body); err != nil {
		t.Errorf("the uploaded photo does not come back as a PNG: %v", err)
	}
	img.Body.Close()

	ups := r.updates()
	if len(ups) != 5 { // text, contact, location, two photos; the refused calls queue nothing
		t.Fatalf("%d updates queued, want 5", len(ups))
	}
	msg0 := ups[0]["message"].(map[string]any)
	if msg0["text"] != "سلام ربات" || msg0["from"].(map[string]any)["id"].(float64) != 1001 {
		t.Errorf("text update = %v", msg0)
	}
	contact := ups[1]["message"].(map[string]any)["contact"].(map[string]any)
	if contact["phone_number"] != "09120001002" || contact["user_id"].(float64) != 1002 {
		t.Errorf("contact = %v, want the member's own phone and id", contact)
	}
	if loc := ups[2]["message"].(map[string]any)["location"].(map[string]any); loc["latitude"].(float64) != 34.094 {
		t.Errorf("location = %v", loc)
	}
	a, b := ups[3]["message"].(map[string]any), ups[4]["message"].(map[string]any)
	if a["media_group_id"] == nil || a["media_group_id"] != b["media_group_id"] {
		t.Errorf("album updates do not share a media_group_id: %v / %v", a["media_group_id"], b["media_group_id"])
	}
}

// A page that connects later sees what happened before, in order.
func TestLatePageReplaysTheChat(t *testing.T) {
	r := newRig(t)
	r.post("/api/chair/text", "application/json", strings.NewReader(`{"text":"اول"}`))
	r.next()
	late := newRigOn(t, r)
	if e := late.next(); e.Text != "اول" || e.Chat != 1003 {
		t.Errorf("replayed event = %+v", e)
	}
}

// newRigOn opens a second event stream on r's page.
func newRigOn(t *testing.T, r *rig) *rig {
	t.Helper()
	resp, err := http.Get(r.page.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	late := &rig{t: t, api: r.api, page: r.page, events: make(chan Event, 100)}
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var e Event
				if json.Unmarshal([]byte(line), &e) == nil && e.Type != "" {
					late.events <- e
				}
			}
		}
	}()
	return late
}

func TestSeedDemo(t *testing.T) {
	st := modelstest.Open(t)
	api := bottest.New(t)
	ctx := context.Background()
	var granted []string
	grant := func(_ context.Context, p Persona, county string) error {
		granted = append(granted, p.Key+"@"+county)
		return nil
	}
	if err := Seed(ctx, st, api, time.Now(), grant); err != nil {
		t.Fatal(err)
	}
	if len(granted) != 1 || granted[0] != "coordinator@اراک" {
		t.Errorf("coordinator grants = %v", granted)
	}
	member, _ := PersonaByKey(Member)
	ms, err := st.MembershipsByPhone(ctx, member.Phone)
	if err != nil || len(ms) != 1 || ms[0].PlaceName != demoPlace1 || ms[0].Status != models.MembershipActive ||
		!strings.Contains(ms[0].PersonName, "نمونه") {
		t.Fatalf("the member persona's roster entry = %+v, %v", ms, err)
	}
	acts, err := st.ActionsByCouncil(ctx, ms[0].CouncilID, 0, 10)
	if err != nil || len(acts) != len(demoActions) {
		t.Fatalf("demo actions = %d, %v", len(acts), err)
	}
	verified := 0
	for _, a := range acts {
		if !strings.HasPrefix(a.Title, "نمونه") {
			t.Errorf("action %q is not marked as an example", a.Title)
		}
		if a.Status == models.ActionVerified {
			verified++
		}
		for _, id := range a.Photos {
			data, ok := api.FileData(id)
			if _, err := png.Decode(bytes.NewReader(data)); !ok || err != nil {
				t.Errorf("photo %s of %q is not a stored PNG: %v", id, a.Title, err)
			}
		}
	}
	if verified != 2 {
		t.Errorf("%d verified demo actions, want 2", verified)
	}
	// Seeding twice would be a bug in the wiring, but it must not duplicate.
	if err := Seed(ctx, st, api, time.Now(), nil); err != nil {
		t.Fatalf("second seed: %v", err)
	}
	if again, _ := st.ActionsByCouncil(ctx, ms[0].CouncilID, 0, 10); len(again) != len(demoActions) {
		t.Errorf("after a second seed: %d actions", len(again))
	}
}
