// Package bottest is a fake Telegram Bot API server for tests and the
// benchmark. It speaks the Bot API the way
// github.com/go-telegram-bot-api/telegram-bot-api/v5 sends it (form-encoded or
// multipart POSTs, also JSON bodies and GET query strings), plays the users
// (SendText, PressButton, SendContact, ...), records every call the bot makes
// and injects faults (429 with retry_after, 5xx, dropped connections, blocked
// users, getUpdates conflicts, latency).
//
// Point the bot at it with Endpoint (the TELEGRAM_API_ENDPOINT format,
// URL()+"/bot%s/%s"); files are served at URL()+"/file/bot<token>/<file_path>".
//
// Texts are measured in UTF-16 code units, as Telegram does (Persian letters
// are one unit each), after trimming surrounding white space. Markup of
// parse_mode is not stripped before counting, so an HTML message is held to a
// slightly stricter limit than Telegram's.
package bottest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// DefaultToken is the token a Server accepts unless WithToken says otherwise.
const DefaultToken = "123:TEST"

// Descriptions Telegram answers with; tests may compare against them.
const (
	DescUnauthorized   = "Unauthorized"
	DescNotFound       = "Not Found"
	DescConflict       = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	DescBlocked        = "Forbidden: bot was blocked by the user"
	DescTextEmpty      = "Bad Request: message text is empty"
	DescTextTooLong    = "Bad Request: message is too long"
	DescCaptionTooLong = "Bad Request: message caption is too long"
	DescButtonData     = "Bad Request: BUTTON_DATA_INVALID"
	DescNotModified    = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
	DescEditNotFound   = "Bad Request: message to edit not found"
	DescDeleteNotFound = "Bad Request: message to delete not found"
	DescQueryTooOld    = "Bad Request: query is too old and response timeout expired or query ID is invalid"
	DescChatNotFound   = "Bad Request: chat not found"
	DescChatIDEmpty    = "Bad Request: chat_id is empty"
	DescWrongFile      = "Bad Request: wrong file identifier/HTTP URL specified"
	DescInvalidFileID  = "Bad Request: invalid file_id"
	DescMarkupJSON     = "Bad Request: can't parse reply keyboard markup JSON object"
)

// Fault is an injected failure of one call (see FailNext). A zero Code with
// no DropConnection and no RawBody only delays the call by Latency and then
// serves it normally.
type Fault struct {
	Code           int           // HTTP status and error_code: 429, 500, 502, 403, 400, 409, ...
	Description    string        // empty: Telegram's usual text for Code
	RetryAfter     int           // seconds, sent as parameters.retry_after
	Latency        time.Duration // delay before the fault (or the normal answer)
	DropConnection bool          // close the TCP connection without answering
	RawBody        string        // answer this body (status Code, or 200) instead of JSON
}

// Option configures a Server.
type Option func(*config)

type config struct {
	token          string
	bot            User
	longPollCap    time.Duration
	firstUpdateID  int
	record         bool
	keepMessages   int
	now            func() time.Time
	onSend         func(Sent)
	knownChatsOnly bool
	chatLimits     *ChatLimits
	serverErrors   *serverErrors
}

// WithToken sets the only token the server accepts; any other gets 401.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithBotUser sets the bot's user id and username returned by getMe.
func WithBotUser(id int64, username string) Option {
	return func(c *config) { c.bot.ID, c.bot.Username = id, username }
}

// WithLongPollCap caps the timeout getUpdates honours, so a test's poller
// comes back quickly. Zero (the default) honours the client's timeout.
func WithLongPollCap(d time.Duration) Option { return func(c *config) { c.longPollCap = d } }

// WithFirstUpdateID sets the update_id of the first queued update (default 1).
func WithFirstUpdateID(id int) Option { return func(c *config) { c.firstUpdateID = id } }

// WithoutRecording stops keeping the list of sent calls, so memory stays
// bounded under the benchmark. Per-chat counters (SentCount, WaitSent), Calls,
// the OnSend hook and the last few messages of each chat (for edits and
// callbacks) are still kept; Sent, SentTo and WaitFor then see nothing.
func WithoutRecording() Option { return func(c *config) { c.record = false } }

// WithNow sets the clock used for message dates and Sent.At.
func WithNow(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithOnSend installs a hook called for every recorded call; see OnSend.
func WithOnSend(fn func(Sent)) Option { return func(c *config) { c.onSend = fn } }

// WithKnownChatsOnly makes sends to a chat no user has written from fail
// with 400 "Bad Request: chat not found", as Telegram does for a user who
// never started the bot.
func WithKnownChatsOnly() Option { return func(c *config) { c.knownChatsOnly = true } }

// Server is a fake Bot API server. It is safe for concurrent use.
//
// Users act through its methods (SendText, PressButton, ...), each queueing
// one update with the next update_id. getUpdates hands them out in order;
// an offset N forgets every update below N. Every successful call the bot
// makes, except the read-only ones, is recorded (see Sent) before the bot
// gets its answer, so after a Send returns the call is visible. Message ids
// are counted per chat and shared by the users' and the bot's messages.
type Server struct {
	cfg     config
	hs      *httptest.Server
	botJSON []byte
	getMe   []byte
	done    chan struct{}
	closing sync.Once
	onSend  atomic.Pointer[func(Sent)]
	bufs    sync.Pool

	mu sync.Mutex
	// updates
	nextUpdateID   int
	lastUpdateID   int
	queue          []queued
	confirmed      int
	allowed        map[string]bool // nil: Telegram's default set
	allowedList    []string
	polling        bool
	conflict       bool
	updWake        chan struct{}
	queries        map[string]*query
	lastPollParams url.Values
	// files
	files       map[string]*file
	updateFiles map[int]string
	filePaths   map[string]*file
	nextFile    int
	// chats and recording
	chats    map[int64]*chatState
	sent     []Sent
	seq      int64
	calls    map[string]int
	faults   map[string][]Fault
	latency  map[string]time.Duration
	changed  chan struct{}
	commands map[string]string // by scope key ("" for the default scope, "chat:<id>")
	// per-chat 429s
	chatFaults map[int64][]Fault
	buckets    map[int64]*bucket
	tooMany    int
}

// New starts a Server on a loopback port. When t is not nil the server is
// closed by t.Cleanup; with a nil t (benchmarks) the caller must Close it.
func New(t testing.TB, opts ...Option) *Server {
	s := NewServer(opts...)
	if t != nil {
		t.Cleanup(s.Close)
	}
	return s
}

// NewServer starts a Server on a loopback port; the caller must Close it.
func NewServer(opts ...Option) *Server {
	cfg := config{
		token:         DefaultToken,
		bot:           User{ID: 123, FirstName: "محله", Username: "mahalle_bot"},
		firstUpdateID: 1,
		record:        true,
		keepMessages:  32,
		now:           time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.firstUpdateID < 1 {
		cfg.firstUpdateID = 1
	}
	s := &Server{
		cfg:          cfg,
		done:         make(chan struct{}),
		nextUpdateID: cfg.firstUpdateID,
		lastUpdateID: cfg.firstUpdateID - 1,
		confirmed:    cfg.firstUpdateID - 1,
		queries:      make(map[string]*query),
		files:        make(map[string]*file),
		filePaths:    make(map[string]*file),
		chats:        make(map[int64]*chatState),
		calls:        make(map[string]int),
		faults:       make(map[string][]Fault),
		latency:      make(map[string]time.Duration),
		chatFaults:   make(map[int64][]Fault),
		commands:     make(map[string]string),
		buckets:      make(map[int64]*bucket),
	}
	s.bufs.New = func() any { b := make([]byte, 0, 1024); return &b }
	if cfg.onSend != nil {
		s.onSend.Store(&cfg.onSend)
	}
	s.botJSON = appendUser(nil, cfg.bot, true)
	me := append([]byte(nil), s.botJSON[:len(s.botJSON)-1]...)
	me = append(me, `,"can_join_groups":true,"can_read_all_group_messages":false,"supports_inline_queries":false}`...)
	s.getMe = appendOK(nil, me)
	s.hs = httptest.NewServer(s)
	return s
}

// Close stops the server: pending long polls and waits return at once. It
// is safe to call more than once.
func (s *Server) Close() {
	s.closing.Do(func() {
		close(s.done)
		s.hs.Close()
	})
}

// URL is the server's base URL, like "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.hs.URL }

// Endpoint is the API endpoint format for clients: URL()+"/bot%s/%s", the
// value of TELEGRAM_API_ENDPOINT and of tgbotapi.NewBotAPIWithAPIEndpoint.
func (s *Server) Endpoint() string { return s.hs.URL + "/bot%s/%s" }

// FileEndpoint is the file download format: URL()+"/file/bot%s/%s".
func (s *Server) FileEndpoint() string { return s.hs.URL + "/file/bot%s/%s" }

// Token is the only token the server accepts.
func (s *Server) Token() string { return s.cfg.token }

// Bot is the bot's own user, as getMe returns it.
func (s *Server) Bot() User { return s.cfg.bot }

// OnSend installs fn to observe every recorded call (those Sent lists, also
// without recording). fn runs in the request's goroutine before the bot gets
// its answer, possibly concurrently with itself; it must not block for long.
// A nil fn removes the hook.
func (s *Server) OnSend(fn func(Sent)) {
	if fn == nil {
		s.onSend.Store(nil)
		return
	}
	s.onSend.Store(&fn)
}

// FailNext makes the next n calls of method (as named in the URL, e.g.
// "sendMessage", "getUpdates", or "file" for downloads) fail with f. Faults
// queue up: a second FailNext applies after the first is used.
func (s *Server) FailNext(method string, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := canonical(method)
	for range n {
		s.faults[name] = append(s.faults[name], f)
	}
}

// SetLatency delays every call of method by d (zero removes the delay).
func (s *Server) SetLatency(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := canonical(method)
	if d <= 0 {
		delete(s.latency, name)
		return
	}
	s.latency[name] = d
}

// Block makes every later send, edit or chat action to chatID fail with 403
// "Forbidden: bot was blocked by the user". It queues no update; use
// BotRemoved for the my_chat_member update Telegram also sends.
func (s *Server) Block(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chat(chatID).blocked = true
}

// Unblock undoes Block.
func (s *Server) Unblock(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chat(chatID).blocked = false
}

// SimulateConflict, while on, answers every getUpdates with 409 Conflict, as
// when another instance of the bot is polling elsewhere.
func (s *Server) SimulateConflict(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conflict = on
}

// Calls counts the calls of a method received so far, including failed and
// fault-injected ones ("file" counts downloads).
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[canonical(method)]
}

// methods maps every method the server knows, by lower-case name, to its
// canonical name; the Bot API treats method names case-insensitively.
var methods = func() map[string]string {
	m := make(map[string]string)
	for _, name := range []string{
		"getMe", "getUpdates", "deleteWebhook", "setWebhook", "getWebhookInfo", "logOut", "close",
		"setMyCommands", "getMyCommands", "deleteMyCommands",
		"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "sendChatAction",
		"editMessageText", "editMessageCaption", "editMessageReplyMarkup", "deleteMessage",
		"answerCallbackQuery", "getFile", "file",
	} {
		m[strings.ToLower(name)] = name
	}
	return m
}()

func canonical(method string) string {
	if name, ok := methods[method]; ok { // already lower case ("close", "file")
		return name
	}
	if name, ok := methods[strings.ToLower(method)]; ok {
		return name
	}
	return method
}

// ServeHTTP routes /bot<token>/<method> and /file/bot<token>/<path>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/bot"); ok {
		token, method, _ := strings.Cut(rest, "/")
		if token != s.cfg.token {
			s.writeError(w, http.StatusUnauthorized, DescUnauthorized, 0)
			return
		}
		s.serveMethod(w, r, canonical(method))
		return
	}
	if rest, ok := strings.CutPrefix(path, "/file/bot"); ok {
		token, filePath, _ := strings.Cut(rest, "/")
		if token != s.cfg.token {
			s.writeError(w, http.StatusUnauthorized, DescUnauthorized, 0)
			return
		}
		if !s.admit(w, r, "file") {
			return
		}
		s.serveFile(w, filePath)
		return
	}
	s.writeError(w, http.StatusNotFound, DescNotFound, 0)
}

// admit counts a call and applies latency and injected faults. It reports
// whether the call should be served normally.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, method string) bool {
	s.mu.Lock()
	s.calls[method]++
	var f *Fault
	if q := s.faults[method]; len(q) > 0 {
		f = &q[0]
		if len(q) == 1 {
			delete(s.faults, method)
		} else {
			s.faults[method] = q[1:]
		}
	} else if code := s.drawServerError(method); code != 0 {
		f = &Fault{Code: code}
	}
	lat := s.latency[method]
	s.mu.Unlock()

	if lat > 0 && !s.pause(r.Context(), lat) {
		return false
	}
	if f == nil {
		return true
	}
	if f.Latency > 0 && !s.pause(r.Context(), f.Latency) {
		return false
	}
	switch {
	case f.DropConnection:
		dropConnection(w)
		return false
	case f.RawBody != "":
		code := f.Code
		if code == 0 {
			code = http.StatusOK
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(f.RawBody))
		return false
	case f.Code != 0:
		if f.Code == http.StatusTooManyRequests {
			s.mu.Lock()
			s.tooMany++
			s.mu.Unlock()
		}
		desc := f.Description
		if desc == "" {
			desc = defaultDescription(f.Code, f.RetryAfter)
		}
		s.writeError(w, f.Code, desc, f.RetryAfter)
		return false
	}
	return true
}

func defaultDescription(code, retryAfter int) string {
	switch code {
	case http.StatusTooManyRequests:
		return "Too Many Requests: retry after " + strconv.Itoa(retryAfter)
	case http.StatusForbidden:
		return DescBlocked
	case http.StatusConflict:
		return DescConflict
	case http.StatusBadRequest:
		return "Bad Request"
	case http.StatusUnauthorized:
		return DescUnauthorized
	case http.StatusNotFound:
		return DescNotFound
	case http.StatusBadGateway:
		return "Bad Gateway"
	case http.StatusInternalServerError:
		return "Internal Server Error"
	}
	return http.StatusText(code)
}

func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // reset, like a proxy dying mid-request
	}
	_ = conn.Close()
}

// pause waits d, or less when the request is cancelled or the server
// closes; it reports whether the full delay passed.
func (s *Server) pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

type handler func(s *Server, w http.ResponseWriter, r *http.Request, p url.Values)

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"getMe":                  (*Server).getMeHandler,
		"getUpdates":             (*Server).getUpdates,
		"deleteWebhook":          (*Server).trueHandler,
		"setWebhook":             (*Server).trueHandler,
		"logOut":                 (*Server).trueHandler,
		"close":                  (*Server).trueHandler,
		"getWebhookInfo":         (*Server).getWebhookInfo,
		"setMyCommands":          (*Server).setMyCommands,
		"deleteMyCommands":       (*Server).setMyCommands,
		"getMyCommands":          (*Server).getMyCommands,
		"sendMessage":            (*Server).sendMessage,
		"sendPhoto":              (*Server).sendMedia,
		"sendDocument":           (*Server).sendMedia,
		"sendMediaGroup":         (*Server).sendMediaGroup,
		"sendChatAction":         (*Server).sendChatAction,
		"editMessageText":        (*Server).editMessage,
		"editMessageCaption":     (*Server).editMessage,
		"editMessageReplyMarkup": (*Server).editMessage,
		"deleteMessage":          (*Server).deleteMessage,
		"answerCallbackQuery":    (*Server).answerCallbackQuery,
		"getFile":                (*Server).getFile,
	}
}

func (s *Server) serveMethod(w http.ResponseWriter, r *http.Request, method string) {
	if !s.admit(w, r, method) {
		return
	}
	h, ok := handlers[method]
	if !ok {
		s.writeError(w, http.StatusNotFound, DescNotFound, 0)
		return
	}
	p, err := readParams(r)
	if err != nil {
		s.writeError(w, http.StatusBadRequest, "Bad Request: "+err.Error(), 0)
		return
	}
	if !s.admitChat(w, method, p) {
		return
	}
	h(s, w, r, p)
}

// readParams reads a call's parameters from the query string and a
// form-encoded, multipart or JSON body.
func readParams(r *http.Request) (url.Values, error) {
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "multipart/form-data"):
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return nil, fmt.Errorf("can't parse multipart body: %w", err)
		}
		return r.Form, nil
	case strings.HasPrefix(ct, "application/json"):
		var body map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return nil, fmt.Errorf("can't parse JSON body: %w", err)
		}
		p := r.URL.Query()
		for k, v := range body {
			var str string
			if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &str) == nil {
				p.Set(k, str)
			} else if string(v) != "null" {
				p.Set(k, string(v))
			}
		}
		return p, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("can't parse form body: %w", err)
	}
	return r.Form, nil
}

func (s *Server) getBuf() *[]byte { return s.bufs.Get().(*[]byte) }

func (s *Server) putBuf(b *[]byte) {
	if cap(*b) > 64<<10 {
		return
	}
	*b = (*b)[:0]
	s.bufs.Put(b)
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeOK answers {"ok":true,"result":result}.
func (s *Server) writeOK(w http.ResponseWriter, result []byte) {
	bp := s.getBuf()
	*bp = appendOK(*bp, result)
	s.writeJSON(w, http.StatusOK, *bp)
	s.putBuf(bp)
}

func (s *Server) writeError(w http.ResponseWriter, code int, desc string, retryAfter int) {
	bp := s.getBuf()
	*bp = appendError(*bp, code, desc, retryAfter)
	s.writeJSON(w, code, *bp)
	s.putBuf(bp)
}

var trueResult = []byte("true")

func (s *Server) getMeHandler(w http.ResponseWriter, _ *http.Request, _ url.Values) {
	s.writeJSON(w, http.StatusOK, s.getMe)
}

// trueHandler serves the methods that only answer true (deleteWebhook,
// setWebhook, logOut, close); they are recorded.
func (s *Server) trueHandler(w http.ResponseWriter, r *http.Request, p url.Values) {
	s.mu.Lock()
	sent := s.record(Sent{Method: canonical(methodOf(r)), Params: p}, nil)
	s.mu.Unlock()
	s.observe(sent)
	s.writeOK(w, trueResult)
}

func (s *Server) getWebhookInfo(w http.ResponseWriter, _ *http.Request, _ url.Values) {
	s.mu.Lock()
	n := len(s.queue)
	s.mu.Unlock()
	b := []byte(`{"url":"","has_custom_certificate":false,"pending_update_count":`)
	b = strconv.AppendInt(b, int64(n), 10)
	s.writeOK(w, append(b, '}'))
}

// scopeKey is the key of a BotCommandScope parameter: "" for the default
// scope, "chat:<id>" for one chat, else the scope's type.
func scopeKey(raw string) (string, bool) {
	if raw == "" {
		return "", true
	}
	var sc struct {
		Type   string          `json:"type"`
		ChatID json.RawMessage `json:"chat_id"`
	}
	if err := json.Unmarshal([]byte(raw), &sc); err != nil || sc.Type == "" {
		return "", false
	}
	switch sc.Type {
	case "default":
		return "", true
	case "chat", "chat_administrators":
		id, err := strconv.ParseInt(strings.Trim(string(sc.ChatID), `"`), 10, 64)
		if err != nil || id == 0 {
			return "", false
		}
		return sc.Type + ":" + strconv.FormatInt(id, 10), true
	}
	return sc.Type, true
}

// ChatCommands returns the commands (the JSON array as sent) set for one
// chat's scope (BotCommandScopeChat), and whether any are.
func (s *Server) ChatCommands(chatID int64) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.commands["chat:"+strconv.FormatInt(chatID, 10)]
	return c, ok
}

func (s *Server) setMyCommands(w http.ResponseWriter, r *http.Request, p url.Values) {
	method := canonical(methodOf(r))
	key, ok := scopeKey(p.Get("scope"))
	if !ok {
		s.bad(w, "Bad Request: can't parse BotCommandScope JSON object")
		return
	}
	if method == "setMyCommands" && !json.Valid([]byte(p.Get("commands"))) {
		s.bad(w, "Bad Request: can't parse commands JSON object")
		return
	}
	s.mu.Lock()
	if method == "setMyCommands" {
		s.commands[key] = p.Get("commands")
	} else {
		delete(s.commands, key)
	}
	sent := s.record(Sent{Method: method, Params: p}, nil)
	s.mu.Unlock()
	s.observe(sent)
	s.writeOK(w, trueResult)
}

func (s *Server) getMyCommands(w http.ResponseWriter, _ *http.Request, p url.Values) {
	key, ok := scopeKey(p.Get("scope"))
	if !ok {
		s.bad(w, "Bad Request: can't parse BotCommandScope JSON object")
		return
	}
	s.mu.Lock()
	cmds := s.commands[key]
	s.mu.Unlock()
	if cmds == "" || !json.Valid([]byte(cmds)) {
		cmds = "[]"
	}
	s.writeOK(w, []byte(cmds))
}

// methodOf is the method name in a request's path.
func methodOf(r *http.Request) string {
	_, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	return rest
}
