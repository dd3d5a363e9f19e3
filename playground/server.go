package playground

import (
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
)

//go:embed web
var webFiles embed.FS

// maxEvents bounds the transcript a page replays when it (re)connects.
const maxEvents = 5000

// maxUpload bounds one uploaded photo or voice message.
const maxUpload = 10 << 20

// Server serves the page and relays between it and the Bot API server:
// what a person does on the page becomes an update, and every message the
// bot sends, edits or deletes becomes an event on the page.
type Server struct {
	api  *bottest.Server
	log  *slog.Logger
	now  func() time.Time
	done chan struct{}
	stop sync.Once

	mu     sync.Mutex
	events [][]byte // JSON, oldest first
	subs   map[chan []byte]struct{}
	album  int
}

// New relays for api; it installs api's OnSend hook. now stamps events.
func New(api *bottest.Server, log *slog.Logger, now func() time.Time) *Server {
	s := &Server{api: api, log: log, now: now, done: make(chan struct{}), subs: map[chan []byte]struct{}{}}
	api.OnSend(s.botCall)
	return s
}

// Close ends the live streams, so an http.Server can shut down.
func (s *Server) Close() { s.stop.Do(func() { close(s.done) }) }

// Event is what the page receives. Keys are "b<message id>" for the bot's
// messages and "u<update id>" for the person's.
type Event struct {
	Type     string             `json:"type"` // msg, del, keyboard, toast
	Chat     int64              `json:"chat"`
	Key      string             `json:"key,omitempty"`
	From     string             `json:"from,omitempty"` // bot or user
	Kind     string             `json:"kind,omitempty"` // text, photo, document, voice, location, contact
	Text     string             `json:"text,omitempty"`
	File     string             `json:"file,omitempty"` // URL on the page's server
	Name     string             `json:"name,omitempty"` // a document's file name
	Group    string             `json:"group,omitempty"`
	Edited   bool               `json:"edited,omitempty"`
	Inline   [][]inlineButton   `json:"inline,omitempty"`
	Keyboard [][]keyboardButton `json:"keyboard,omitempty"`
	Remove   bool               `json:"remove,omitempty"`
	At       int64              `json:"at"` // Unix milliseconds
}

type inlineButton struct {
	Text string `json:"text"`
	Data string `json:"data,omitempty"`
	URL  string `json:"url,omitempty"`
}

type keyboardButton struct {
	Text     string `json:"text"`
	Contact  bool   `json:"contact,omitempty"`
	Location bool   `json:"location,omitempty"`
}

// botCall turns a call the bot made into events. It runs in the Bot API
// server's request goroutine, after the call is stored.
func (s *Server) botCall(c bottest.Sent) {
	switch c.Method {
	case "sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageCaption", "editMessageReplyMarkup":
		m, ok := s.api.Message(c.ChatID, c.MessageID)
		if !ok {
			return
		}
		e := Event{Type: "msg", Chat: c.ChatID, Key: "b" + strconv.Itoa(m.MessageID), From: "bot", Kind: "text", Text: m.Text, Edited: m.Edits > 0}
		for _, row := range m.Inline {
			var r []inlineButton
			for _, b := range row {
				r = append(r, inlineButton{Text: b.Text, Data: b.CallbackData, URL: b.URL})
			}
			e.Inline = append(e.Inline, r)
		}
		switch m.Method {
		case "sendPhoto":
			e.Kind, e.File = "photo", fileURL(m.FileID)
		case "sendDocument":
			e.Kind, e.File = "document", fileURL(m.FileID)
			if f, ok := s.api.File(m.FileID); ok {
				e.Name = f.Name
			}
		}
		s.publish(e)
		if c.Keyboard != nil || c.RemoveKeyboard {
			k := Event{Type: "keyboard", Chat: c.ChatID, Remove: c.RemoveKeyboard}
			for _, row := range c.Keyboard {
				var r []keyboardButton
				for _, b := range row {
					r = append(r, keyboardButton{Text: b.Text, Contact: b.RequestContact, Location: b.RequestLocation})
				}
				k.Keyboard = append(k.Keyboard, r)
			}
			s.publish(k)
		}
	case "deleteMessage":
		s.publish(Event{Type: "del", Chat: c.ChatID, Key: "b" + strconv.Itoa(c.MessageID)})
	case "answerCallbackQuery":
		if c.Text != "" {
			s.publish(Event{Type: "toast", Chat: c.ChatID, Text: c.Text})
		}
	}
}

func fileURL(id string) string {
	if id == "" {
		return ""
	}
	return "/file/" + id
}

// publish appends e to the transcript and hands it to every live stream.
// A stream too slow to keep up is dropped; its page reconnects and replays.
func (s *Server) publish(e Event) {
	e.At = s.now().UnixMilli()
	b, err := json.Marshal(e)
	if err != nil {
		s.log.Error("playground: event", slog.Any("err", err))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.events) >= maxEvents {
		s.events = append(s.events[:0], s.events[len(s.events)-maxEvents/2:]...)
	}
	s.events = append(s.events, b)
	for ch := range s.subs {
		select {
		case ch <- b:
		default:
			delete(s.subs, ch)
			close(ch)
		}
	}
}

// Handler serves the page, its assets, the live stream and the actions.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	web, _ := fs.Sub(webFiles, "web") // fixed at build time
	mux.Handle("GET /", http.FileServerFS(web))
	mux.HandleFunc("GET /api/setup", s.setup)
	mux.HandleFunc("GET /api/events", s.stream)
	mux.HandleFunc("GET /file/{id}", s.file)
	mux.HandleFunc("POST /api/{persona}/text", s.act(s.text))
	mux.HandleFunc("POST /api/{persona}/press", s.act(s.press))
	mux.HandleFunc("POST /api/{persona}/contact", s.act(s.contact))
	mux.HandleFunc("POST /api/{persona}/location", s.act(s.location))
	mux.HandleFunc("POST /api/{persona}/photos", s.act(s.photos))
	mux.HandleFunc("POST /api/{persona}/voice", s.act(s.voice))
	return mux
}

func (s *Server) setup(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"personas": Personas, "places": DemoPlaces, "bot": s.api.Bot().Username})
}

// stream is the Server-Sent Events stream of every chat: a "reset", the
// transcript so far, then live events.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "پخش زنده پشتیبانی نمی‌شود", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	ch := make(chan []byte, 256)
	s.mu.Lock()
	past := append([][]byte(nil), s.events...)
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if _, ok := s.subs[ch]; ok {
			delete(s.subs, ch)
			close(ch)
		}
		s.mu.Unlock()
	}()
	fmt.Fprint(w, "event: reset\ndata: {}\n\n")
	for _, b := range past {
		fmt.Fprintf(w, "data: %s\n\n", b)
	}
	fmt.Fprint(w, "event: live\ndata: {}\n\n")
	fl.Flush()
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		select {
		case b, ok := <-ch:
			if !ok {
				return
			}
			fmt.Fprintf(w, "data: %s\n\n", b)
			fl.Flush()
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			fl.Flush()
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}

func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	f, ok := s.api.File(r.PathValue("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	typ := f.MIME
	if typ == "" {
		typ = http.DetectContentType(f.Data)
	}
	w.Header().Set("Content-Type", typ)
	if f.Name != "" {
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	}
	_, _ = w.Write(f.Data)
}

// act resolves the persona in the path and runs fn as them; fn's error
// is a Persian sentence for the page.
func (s *Server) act(fn func(r *http.Request, p Persona, chat bottest.Chat, from bottest.User) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := PersonaByKey(r.PathValue("persona"))
		if !ok {
			http.Error(w, "چنین شخصیتی در زمین بازی نیست.", http.StatusNotFound)
			return
		}
		chat, from := bottest.Private(p.UserID)
		from.FirstName = p.Name
		if err := fn(r, p, chat, from); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// userErr is a Persian message for the page.
type userErr string

func (e userErr) Error() string { return string(e) }

func readJSON(r *http.Request, v any) error {
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil {
		return userErr("درخواست خوانا نبود.")
	}
	return nil
}

func (s *Server) text(r *http.Request, p Persona, chat bottest.Chat, from bottest.User) error {
	var in struct{ Text string }
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Text) == "" {
		return userErr("پیام خالی است.")
	}
	id := s.api.SendText(chat, from, in.Text)
	s.publish(Event{Type: "msg", Chat: chat.ID, Key: "u" + strconv.Itoa(id), From: "user", Kind: "text", Text: in.Text})
	return nil
}

func (s *Server) press(r *http.Request, p Persona, chat bottest.Chat, from bottest.User) error {
	var in struct {
		Key  string
		Data string
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	id, err := strconv.Atoi(strings.TrimPrefix(in.Key, "b"))
	if err != nil || !strings.HasPrefix(in.Key, "b") {
		return userErr("این دکمه از پیام ربات نیست.")
	}
	s.api.PressButton(chat, from, id, in.Data)
	return nil
}

func (s *Server) contact(r *http.Request, p Persona, chat bottest.Chat, from bottest.User) error {
	id := s.api.SendContact(chat, from, p.Phone, p.UserID)
	s.publish(Event{Type: "msg", Chat: chat.ID, Key: "u" + strconv.Itoa(id), From: "user", Kind: "contact", Text: p.Name + " · " + p.Phone})
	return nil
}

func (s *Server) location(r *http.Request, p Persona, chat bottest.Chat, from bottest.User) error {
	var in struct {
		Lat, Lon float64
		Name     string
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if in.Lat < -90 || in.Lat > 90 || in.Lon < -180 || in.Lon > 180 || (in.Lat == 0 && in.Lon == 0) {
		return userErr("عرض جغرافیایی باید بین ۹۰- و ۹۰ و طول بین ۱۸۰- و ۱۸۰ باشد.")
	}
	id := s.api.SendLocation(chat, from, in.Lat, in.Lon)
	text := strconv.FormatFloat(in.Lat, 'f', 5, 64) + "، " + strconv.FormatFloat(in.Lon, 'f', 5, 64)
	if in.Name != "" {
		text = in.Name + " · " + text
	}
	s.publish(Event{Type: "msg", Chat: chat.ID, Key: "u" + strconv.Itoa(id), From: "user", Kind: "location", Text: text})
	return nil
}

// photos sends the uploaded images, several as one album.
func (s *Server) photos(r *http.Request, p Persona, chat bottest.Chat, from bottest.User) error {
	if err := r.ParseMultipartForm(maxUpload); err != nil {
		return userErr("عکس‌ها خوانده نشد؛ حجم هر بار بارگذاری حداکثر ۱۰ مگابایت است.")
	}
	files := r.MultipartForm.File["photo"]
	if len(files) == 0 || len(files) > 10 {
		return userErr("یک تا ده عکس انتخاب کنید.")
	}
	group := ""
	if len(files) > 1 {
		s.mu.Lock()
		s.album++
		group = "album-" + strconv.Itoa(s.album)
		s.mu.Unlock()
	}
	caption := r.FormValue("caption")
	for i, fh := range files {
		f, err := fh.Open()
		if err != nil {
			return userErr("عکس خوانده نشد.")
		}
		data, err := io.ReadAll(io.LimitReader(f, maxUpload))
		_ = f.Close()
		if err != nil {
			return userErr("عکس خوانده نشد.")
		}
		typ := http.DetectContentType(data)
		if !strings.HasPrefix(typ, "image/") {
			return userErr("این پرونده عکس نیست.")
		}
		c := ""
		if i == 0 {
			c = caption
		}
		id := s.api.SendPhotoData(chat, from, data, typ, c, group)
		s.publish(Event{Type: "msg", Chat: chat.ID, Key: "u" + strconv.Itoa(id), From: "user", Kind: "photo", Text: c, File: fileURL(s.api.FileID(id)), Group: group})
	}
	return nil
}

func (s *Server) voice(r *http.Request, p Persona, chat bottest.Chat, from bottest.User) error {
	if err := r.ParseMultipartForm(maxUpload); err != nil {
		return userErr("پیام صوتی خوانده نشد؛ حداکثر ۱۰ مگابایت.")
	}
	f, fh, err := r.FormFile("voice")
	if err != nil {
		return userErr("پیام صوتی فرستاده نشد.")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUpload))
	if err != nil || len(data) == 0 {
		return userErr("پیام صوتی خالی است.")
	}
	seconds, _ := strconv.Atoi(r.FormValue("seconds"))
	typ := fh.Header.Get("Content-Type")
	if typ == "" || typ == "application/octet-stream" {
		typ = "audio/ogg"
	}
	id := s.api.SendVoiceData(chat, from, data, typ, max(seconds, 1))
	s.publish(Event{Type: "msg", Chat: chat.ID, Key: "u" + strconv.Itoa(id), From: "user", Kind: "voice", File: fileURL(s.api.FileID(id)), Text: strconv.Itoa(max(seconds, 1))})
	return nil
}
