package bot

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/mahalle/mahalle/bot/bottest"
)

// waitRecorder is a Config.Wait that records the waits asked for and returns
// at once (or with ctx's error), so tests never sleep.
type waitRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (w *waitRecorder) wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waits = append(w.waits, d)
	return nil
}

func (w *waitRecorder) got() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.waits...)
}

// blockRecorder is a BlockRecorder remembering the chats it was told of.
type blockRecorder struct {
	mu    sync.Mutex
	chats []int64
	plat  []Platform
}

func (b *blockRecorder) MarkBlocked(_ context.Context, p Platform, chatID int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.chats = append(b.chats, chatID)
	b.plat = append(b.plat, p)
	return nil
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is a Client talking to a fake Bot API server, with its waits, logs,
// blocked chats and metrics observable.
type fixture struct {
	srv     *bottest.Server
	client  *Client
	waits   *waitRecorder
	logs    *syncBuffer
	blocked *blockRecorder
	metrics *Metrics
}

// newFixture starts a fake server and a Client on it; edit changes the
// Config before the Client is built. Rate limits are off unless edit sets them.
func newFixture(t *testing.T, edit func(*Config)) *fixture {
	t.Helper()
	f := &fixture{
		srv:     bottest.New(t),
		waits:   &waitRecorder{},
		logs:    &syncBuffer{},
		blocked: &blockRecorder{},
		metrics: NewMetrics(prometheus.NewRegistry()),
	}
	cfg := Config{
		Platform: Telegram,
		Token:    f.srv.Token(),
		Endpoint: f.srv.Endpoint(),
		Logger:   slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics:  f.metrics,
		Limits:   Limits{Disabled: true},
		Blocked:  f.blocked,
		Wait:     f.waits.wait,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	f.client = c
	return f
}

// counter reads a counter of the fixture's metrics.
func counter(t *testing.T, vec *prometheus.CounterVec, labels ...string) float64 {
	t.Helper()
	var m dto.Metric
	if err := vec.WithLabelValues(labels...).Write(&m); err != nil {
		t.Fatalf("read metric: %v", err)
	}
	return m.GetCounter().GetValue()
}

func TestNewClientValidates(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"defaults", Config{Platform: Telegram, Token: "1:A"}, false},
		{"bale", Config{Platform: Bale, Token: "1:A", Endpoint: "https://tapi.bale.ai/bot%s/%s"}, false},
		{"no platform", Config{Token: "1:A"}, true},
		{"no token", Config{Platform: Telegram}, true},
		{"token with slash", Config{Platform: Telegram, Token: "1/A"}, true},
		{"endpoint without format", Config{Platform: Telegram, Token: "1:A", Endpoint: "https://api.telegram.org/"}, true},
		{"endpoint not http", Config{Platform: Telegram, Token: "1:A", Endpoint: "ftp://x/bot%s/%s"}, true},
		{"negative attempts", Config{Platform: Telegram, Token: "1:A", MaxAttempts: -1}, true},
		{"negative limit", Config{Platform: Telegram, Token: "1:A", Limits: Limits{Notice: -1}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewClient() error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && c.Platform() != tt.cfg.Platform {
				t.Errorf("Platform() = %q, want %q", c.Platform(), tt.cfg.Platform)
			}
		})
	}
}

func TestAPIErrorIs(t *testing.T) {
	tests := []struct {
		code   int
		target error
		want   bool
	}{
		{403, ErrBlocked, true},
		{400, ErrBadRequest, true},
		{401, ErrUnauthorized, true},
		{429, ErrTooManyRequests, true},
		{400, ErrBlocked, false},
		{500, ErrBadRequest, false},
	}
	for _, tt := range tests {
		err := error(&APIError{Method: "sendMessage", Code: tt.code, Description: "x"})
		wrapped := errors.Join(errors.New("context"), err)
		if got := errors.Is(wrapped, tt.target); got != tt.want {
			t.Errorf("errors.Is(APIError{%d}, %v) = %v, want %v", tt.code, tt.target, got, tt.want)
		}
	}
}

func TestUTF16Units(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"سلام", 4},
		{"نیم‌فاصله", 9}, // ZWNJ is one unit
		{"😀", 2},
		{"a😀b", 4},
	}
	for _, tt := range tests {
		if got := utf16Units(tt.in); got != tt.want {
			t.Errorf("utf16Units(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// persianLines returns a multi-line Persian text of at least n UTF-16 units.
func persianLines(n int) string {
	var b strings.Builder
	for i := 0; utf16Units(b.String()) < n; i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.Repeat("گزارش اقدام شورای محله در بهداشت ", 1+i%4))
	}
	return b.String()
}

func TestSplitText(t *testing.T) {
	longLine := strings.Repeat("کلمه ", 2000) // 10,000 units, spaces only
	noSpaces := strings.Repeat("ب", 5000)     // one 5,000-unit word
	emoji := strings.Repeat("😀", 3000)        // 6,000 units, 2 each
	tests := []struct {
		name      string
		in        string
		wantParts int
		joinWith  string // parts joined with this give back the input ("" to skip)
	}{
		{"short", "سلام", 1, "\n"},
		{"exactly the limit", strings.Repeat("ا", 4096), 1, "\n"},
		{"blank", " \n ", 0, ""},
		{"empty", "", 0, ""},
		{"9000 multi-line Persian", persianLines(9000), 3, "\n"},
		{"one long line cut at spaces", longLine, 3, " "},
		{"one word hard-cut", noSpaces, 2, ""},
		{"surrogate pairs never cut", emoji, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitText(tt.in, maxTextUnits)
			if len(got) != tt.wantParts {
				t.Fatalf("splitText gave %d parts, want %d", len(got), tt.wantParts)
			}
			for i, p := range got {
				if n := utf16Units(p); n > maxTextUnits {
					t.Errorf("part %d has %d units, over %d", i, n, maxTextUnits)
				}
				if !utf8.ValidString(p) {
					t.Errorf("part %d is not valid UTF-8: a rune was cut", i)
				}
				if strings.TrimSpace(p) == "" {
					t.Errorf("part %d is blank", i)
				}
			}
			if tt.joinWith != "" && len(got) > 0 {
				if joined := strings.Join(got, tt.joinWith); strings.TrimRight(joined, " ") != strings.TrimRight(tt.in, " ") {
					t.Errorf("parts joined with %q differ from the input", tt.joinWith)
				}
			}
			if tt.name == "one word hard-cut" || tt.name == "surrogate pairs never cut" {
				if joined := strings.Join(got, ""); joined != tt.in {
					t.Errorf("hard-cut parts do not concatenate back to the input")
				}
			}
		})
	}
}

func TestGetMe(t *testing.T) {
	f := newFixture(t, nil)
	got, err := f.client.GetMe(context.Background())
	if err != nil {
		t.Fatalf("GetMe: %v", err)
	}
	want := f.srv.Bot()
	if got.ID != want.ID || got.Username != want.Username {
		t.Errorf("GetMe = %+v, want id %d username %q", got, want.ID, want.Username)
	}
}

func TestSendText(t *testing.T) {
	f := newFixture(t, nil)
	id, err := f.client.Send(context.Background(), Message{ChatID: 42, Text: "سلام محله"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	sent := f.srv.SentTo(42)
	if len(sent) != 1 {
		t.Fatalf("server recorded %d calls to chat 42, want 1: %v", len(sent), sent)
	}
	if got := sent[0]; got.Method != "sendMessage" || got.Text != "سلام محله" || got.MessageID != id {
		t.Errorf("recorded %v, want sendMessage %q with id %d", got, "سلام محله", id)
	}
	if got := counter(t, f.metrics.Sends, "tg", "sendMessage", "ok"); got != 1 {
		t.Errorf("sends ok = %v, want 1", got)
	}
}

func TestSendKeyboards(t *testing.T) {
	tests := []struct {
		name       string
		msg        Message
		wantInline [][]bottest.InlineButton
		wantKb     [][]bottest.KeyboardButton
		wantRemove bool
	}{
		{
			name: "inline",
			msg: Message{Text: "انتخاب کنید", Inline: [][]Button{
				{{Text: "بهداشت", Data: "c:health"}, {Text: "فرهنگی", Data: "c:culture"}},
				{{Text: "سایت", URL: "https://example.ir/a?b=1"}},
			}},
			wantInline: [][]bottest.InlineButton{
				{{Text: "بهداشت", CallbackData: "c:health"}, {Text: "فرهنگی", CallbackData: "c:culture"}},
				{{Text: "سایت", URL: "https://example.ir/a?b=1"}},
			},
		},
		{
			name: "reply with contact and location",
			msg: Message{Text: "شماره را بفرستید", Reply: [][]ReplyButton{
				{{Text: "ارسال شماره", RequestContact: true}},
				{{Text: "ارسال مکان", RequestLocation: true}, {Text: "انصراف"}},
			}},
			wantKb: [][]bottest.KeyboardButton{
				{{Text: "ارسال شماره", RequestContact: true}},
				{{Text: "ارسال مکان", RequestLocation: true}, {Text: "انصراف"}},
			},
		},
		{
			name:       "remove",
			msg:        Message{Text: "ثبت شد", RemoveReply: true},
			wantRemove: true,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			chat := int64(100 + i)
			tt.msg.ChatID = chat
			if _, err := f.client.Send(context.Background(), tt.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			sent := f.srv.SentTo(chat)
			if len(sent) != 1 {
				t.Fatalf("recorded %d calls, want 1", len(sent))
			}
			got := sent[0]
			if !equalRows(got.Inline, tt.wantInline) {
				t.Errorf("inline = %v, want %v", got.Inline, tt.wantInline)
			}
			if !equalRows(got.Keyboard, tt.wantKb) {
				t.Errorf("keyboard = %v, want %v", got.Keyboard, tt.wantKb)
			}
			if got.RemoveKeyboard != tt.wantRemove {
				t.Errorf("remove keyboard = %v, want %v", got.RemoveKeyboard, tt.wantRemove)
			}
		})
	}
}

func equalRows[T comparable](a, b [][]T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func TestSendSplitsLongText(t *testing.T) {
	f := newFixture(t, nil)
	text := persianLines(9000)
	kb := [][]Button{{{Text: "تایید", Data: "ok"}}}
	id, err := f.client.Send(context.Background(), Message{ChatID: 7, Text: text, Inline: kb})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	sent := f.srv.SentTo(7)
	if len(sent) < 3 {
		t.Fatalf("recorded %d messages, want at least 3", len(sent))
	}
	var parts []string
	for i, s := range sent {
		if n := utf16Units(s.Text); n > maxTextUnits {
			t.Errorf("part %d has %d UTF-16 units", i, n)
		}
		last := i == len(sent)-1
		if hasKb := len(s.Inline) > 0; hasKb != last {
			t.Errorf("part %d of %d has keyboard %v", i, len(sent), hasKb)
		}
		parts = append(parts, s.Text)
	}
	if strings.Join(parts, "\n") != text {
		t.Error("parts joined with newlines differ from the text")
	}
	if want := sent[len(sent)-1].MessageID; id != want {
		t.Errorf("Send returned id %d, want the last part's %d", id, want)
	}
}

func TestSendPhoto(t *testing.T) {
	f := newFixture(t, nil)
	fileID := f.srv.PutFile("photo.jpg", []byte("\xff\xd8\xff jpeg"))
	tests := []struct {
		name      string
		caption   string
		wantCalls []string
	}{
		{"with caption", "عکس اقدام", []string{"sendPhoto"}},
		{"caption too long goes as text", persianLines(1500), []string{"sendPhoto", "sendMessage"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chat := int64(300 + i)
			id, err := f.client.Send(context.Background(), Message{ChatID: chat, Text: tt.caption,
				Photo: &File{FileID: fileID}, Inline: [][]Button{{{Text: "بعدی", Data: "n"}}}})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			sent := f.srv.SentTo(chat)
			var methods []string
			for _, s := range sent {
				methods = append(methods, s.Method)
			}
			if strings.Join(methods, ",") != strings.Join(tt.wantCalls, ",") {
				t.Fatalf("calls = %v, want %v", methods, tt.wantCalls)
			}
			if sent[0].FileID != fileID {
				t.Errorf("photo file id = %q, want %q", sent[0].FileID, fileID)
			}
			last := sent[len(sent)-1]
			if last.Text != tt.caption || len(last.Inline) != 1 || id != last.MessageID {
				t.Errorf("last call %v: want text = caption, the keyboard, id %d", last, id)
			}
		})
	}
}

func TestSendEdits(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	id, err := f.client.Send(ctx, Message{ChatID: 5, Text: "مرحله ۱", Inline: [][]Button{{{Text: "بعدی", Data: "n"}}}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}

	edited := Message{ChatID: 5, EditMessageID: id, Text: "مرحله ۲", Inline: [][]Button{{{Text: "تمام", Data: "d"}}}}
	gotID, err := f.client.Send(ctx, edited)
	if err != nil || gotID != id {
		t.Fatalf("edit text: id %d, err %v; want id %d", gotID, err, id)
	}
	m, ok := f.srv.Message(5, id)
	if !ok || m.Text != "مرحله ۲" || len(m.Inline) != 1 || m.Inline[0][0].CallbackData != "d" {
		t.Errorf("after the edit the message is %+v", m)
	}

	// The same edit again: Telegram answers "message is not modified", a success for us.
	f.srv.FailNext("editMessageText", 1, bottest.Fault{Code: 400, Description: bottest.DescNotModified})
	if gotID, err := f.client.Send(ctx, edited); err != nil || gotID != id {
		t.Errorf("not-modified edit: id %d, err %v; want id %d, nil", gotID, err, id)
	}
	if strings.Contains(f.logs.String(), "level=WARN") {
		t.Errorf("not-modified edit logged a warning:\n%s", f.logs)
	}

	// Text over the limit: the message becomes the first part, the rest follows.
	long := persianLines(5000)
	lastID, err := f.client.Send(ctx, Message{ChatID: 5, EditMessageID: id, Text: long,
		Inline: [][]Button{{{Text: "تمام", Data: "d"}}}})
	if err != nil {
		t.Fatalf("long edit: %v", err)
	}
	sent := f.srv.SentTo(5)
	tail := sent[len(sent)-2:]
	if tail[0].Method != "editMessageText" || len(tail[0].Inline) != 0 ||
		tail[1].Method != "sendMessage" || len(tail[1].Inline) != 1 || tail[1].MessageID != lastID ||
		tail[0].Text+"\n"+tail[1].Text != long {
		t.Errorf("long edit made %v, want an edit to the first part then the rest with the keyboard", tail)
	}
	if _, err := f.client.Send(ctx, Message{ChatID: 5, EditMessageID: id, Text: "مرحله ۲",
		Inline: [][]Button{{{Text: "تمام", Data: "d"}}}}); err != nil {
		t.Fatal(err)
	}

	// Text empty: only the keyboard changes (here: removed).
	if gotID, err := f.client.Send(ctx, Message{ChatID: 5, EditMessageID: id}); err != nil || gotID != id {
		t.Fatalf("edit markup: id %d, err %v", gotID, err)
	}
	sent = f.srv.SentTo(5)
	if last := sent[len(sent)-1]; last.Method != "editMessageReplyMarkup" || len(last.Inline) != 0 {
		t.Errorf("last call %v, want editMessageReplyMarkup without keyboard", last)
	}
	if m, _ := f.srv.Message(5, id); len(m.Inline) != 0 || m.Text != "مرحله ۲" {
		t.Errorf("after removing the keyboard the message is %+v", m)
	}
}

func TestAnswerCallbackAndDelete(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	chat, user := bottest.Private(77)
	id, err := f.client.Send(ctx, Message{ChatID: chat.ID, Text: "؟", Inline: [][]Button{{{Text: "بله", Data: "y"}}}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	upd := f.srv.PressButton(chat, user, id, "y")
	if err := f.client.AnswerCallback(ctx, bottest.CallbackQueryID(upd), "ثبت شد"); err != nil {
		t.Fatalf("AnswerCallback: %v", err)
	}
	if got := f.srv.CallbackAnswer(upd); !got.Answered || got.Text != "ثبت شد" {
		t.Errorf("callback answer = %+v", got)
	}

	if err := f.client.Delete(ctx, chat.ID, id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if m, _ := f.srv.Message(chat.ID, id); !m.Deleted {
		t.Errorf("message %d not deleted", id)
	}
	if err := f.client.Delete(ctx, chat.ID, id+100); !errors.Is(err, ErrBadRequest) {
		t.Errorf("Delete(unknown) = %v, want ErrBadRequest", err)
	}
}

func TestFileURLUsesEndpointHost(t *testing.T) {
	f := newFixture(t, nil)
	data := []byte("voice bytes")
	fileID := f.srv.PutFile("note.ogg", data)
	got, err := f.client.FileURL(context.Background(), fileID)
	if err != nil {
		t.Fatalf("FileURL: %v", err)
	}
	prefix := f.srv.URL() + "/file/bot" + f.srv.Token() + "/"
	if !strings.HasPrefix(got, prefix) {
		t.Fatalf("FileURL = %q, want prefix %q", got, prefix)
	}
	resp, err := http.Get(got)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatalf("read download: %v", err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body.Bytes(), data) {
		t.Errorf("download: status %d, body %q; want 200 %q", resp.StatusCode, body.Bytes(), data)
	}

	bale, err := NewClient(Config{Platform: Bale, Token: "9:B", Endpoint: "https://tapi.bale.ai/bot%s/%s"})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if want := "https://tapi.bale.ai/file/bot%s/%s"; bale.fileFormat != want {
		t.Errorf("bale file format = %q, want %q", bale.fileFormat, want)
	}
}

func TestSendRetries(t *testing.T) {
	tests := []struct {
		name      string
		fault     bottest.Fault
		n         int
		wantCalls int
		wantWaits []time.Duration // nil: only the count is checked
		wantRetry float64         // Metrics.Retries
		want429   float64         // Metrics.TooManyRequests
	}{
		{"429 waits retry_after", bottest.Fault{Code: 429, RetryAfter: 7}, 1, 2,
			[]time.Duration{7 * time.Second}, 0, 1},
		{"429 without retry_after waits 1s", bottest.Fault{Code: 429}, 1, 2, []time.Duration{time.Second}, 0, 1},
		{"5xx twice", bottest.Fault{Code: 500}, 2, 3, nil, 2, 0},
		{"502 with an HTML body", bottest.Fault{Code: 502, RawBody: "<html>Bad Gateway</html>"}, 1, 2, nil, 1, 0},
		{"dropped connection", bottest.Fault{DropConnection: true}, 1, 2, nil, 1, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			chat := int64(400 + i)
			f.srv.FailNext("sendMessage", tt.n, tt.fault)
			id, err := f.client.Send(context.Background(), Message{ChatID: chat, Text: "پیام"})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			sent := f.srv.SentTo(chat)
			if len(sent) != 1 || sent[0].MessageID != id {
				t.Fatalf("delivered %d times (%v), want exactly once with id %d", len(sent), sent, id)
			}
			if got := f.srv.Calls("sendMessage"); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			waits := f.waits.got()
			if tt.wantWaits != nil && !equalDurations(waits, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", waits, tt.wantWaits)
			}
			if len(waits) != tt.wantCalls-1 {
				t.Errorf("waited %d times, want %d", len(waits), tt.wantCalls-1)
			}
			for _, w := range waits {
				if w <= 0 || w > backoffCap+time.Millisecond {
					t.Errorf("wait %v out of (0, %v]", w, backoffCap)
				}
			}
			if got := counter(t, f.metrics.Retries, "tg", "sendMessage"); got != tt.wantRetry {
				t.Errorf("retries metric = %v, want %v", got, tt.wantRetry)
			}
			if got := counter(t, f.metrics.TooManyRequests, "tg", "sendMessage"); got != tt.want429 {
				t.Errorf("429 metric = %v, want %v", got, tt.want429)
			}
		})
	}
}

func TestSendGivesUp(t *testing.T) {
	tests := []struct {
		name      string
		fault     bottest.Fault
		wantCalls int
		wantIs    error
	}{
		{"5xx beyond MaxAttempts", bottest.Fault{Code: 502}, 3, nil},
		{"429 ten times in a row", bottest.Fault{Code: 429, RetryAfter: 1}, maxTooManyInARow, ErrTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.MaxAttempts = 3 })
			f.srv.FailNext("sendMessage", 50, tt.fault)
			_, err := f.client.Send(context.Background(), Message{ChatID: 1, Text: "x"})
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Code != tt.fault.Code {
				t.Fatalf("Send = %v, want an APIError with code %d", err, tt.fault.Code)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Send = %v, want it to match %v", err, tt.wantIs)
			}
			if got := f.srv.Calls("sendMessage"); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if got := len(f.srv.SentTo(1)); got != 0 {
				t.Errorf("delivered %d, want 0", got)
			}
			if got := counter(t, f.metrics.Sends, "tg", "sendMessage", "error"); got != 1 {
				t.Errorf("sends error = %v, want 1", got)
			}
		})
	}
}

func TestSendBlocked(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.Block(-100500)
	_, err := f.client.Send(context.Background(), Message{ChatID: -100500, Text: "سلام"})
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("Send = %v, want ErrBlocked", err)
	}
	if got := f.srv.Calls("sendMessage"); got != 1 {
		t.Errorf("calls = %d, want 1 (no retry)", got)
	}
	if len(f.blocked.chats) != 1 || f.blocked.chats[0] != -100500 || f.blocked.plat[0] != Telegram {
		t.Errorf("MarkBlocked got chats %v platforms %v, want [-100500] [tg]", f.blocked.chats, f.blocked.plat)
	}
	if got := counter(t, f.metrics.Sends, "tg", "sendMessage", "blocked"); got != 1 {
		t.Errorf("sends blocked = %v, want 1", got)
	}
	if len(f.waits.got()) != 0 {
		t.Errorf("waited %v, want no wait", f.waits.got())
	}
}

func TestSendBadRequest(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.FailNext("sendMessage", 1, bottest.Fault{Code: 400, Description: bottest.DescChatNotFound})
	_, err := f.client.Send(context.Background(), Message{ChatID: 3, Text: "x"})
	if !errors.Is(err, ErrBadRequest) || errors.Is(err, ErrBlocked) {
		t.Fatalf("Send = %v, want ErrBadRequest only", err)
	}
	if got := f.srv.Calls("sendMessage"); got != 1 {
		t.Errorf("calls = %d, want 1 (no retry)", got)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "method=sendMessage") ||
		!strings.Contains(logs, "chat not found") || !strings.Contains(logs, "chat_id=3") {
		t.Errorf("want a warning with method, chat and description; logs:\n%s", logs)
	}
	if len(f.blocked.chats) != 0 {
		t.Errorf("MarkBlocked called for a 400: %v", f.blocked.chats)
	}
}

func TestSendRefusesEmpty(t *testing.T) {
	f := newFixture(t, nil)
	for _, m := range []Message{{ChatID: 1, Text: "  "}, {Text: "x"}, {ChatID: 1, Photo: &File{}}} {
		if _, err := f.client.Send(context.Background(), m); err == nil {
			t.Errorf("Send(%+v) = nil error, want one", m)
		}
	}
	if n := len(f.srv.Sent()); n != 0 {
		t.Errorf("server recorded %d calls, want 0", n)
	}
}

func TestTokenNeverLeaks(t *testing.T) {
	const secret = "424242:SECRET-token_value"
	// A closed port: every call fails with a *url.Error embedding the URL.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *Config) {
		c.Token = secret
		c.MaxAttempts = 2
	})
	dead := newFixture(t, func(c *Config) {
		c.Token = secret
		c.Endpoint = deadURL + "/bot%s/%s"
		c.MaxAttempts = 2
	})
	ctx := context.Background()

	var errs []error
	_, err = f.client.GetMe(ctx) // the server knows another token: 401
	if !errors.Is(err, ErrUnauthorized) {
		t.Errorf("GetMe with a wrong token = %v, want ErrUnauthorized", err)
	}
	errs = append(errs, err)
	_, err = dead.client.Send(ctx, Message{ChatID: 1, Text: "x"})
	errs = append(errs, err)
	_, err = dead.client.FileURL(ctx, "f")
	errs = append(errs, err)
	errs = append(errs, dead.client.AnswerCallback(ctx, "q", ""))

	for i, err := range errs {
		if err == nil {
			t.Fatalf("call %d succeeded, want an error", i)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %d holds the token: %v", i, err)
		}
	}
	if !strings.Contains(errs[1].Error(), "<token>") {
		t.Errorf("network error %q: want the URL kept with the token redacted", errs[1])
	}
	for _, logs := range []string{f.logs.String(), dead.logs.String()} {
		if logs == "" {
			t.Error("nothing logged")
		}
		if strings.Contains(logs, secret) {
			t.Errorf("logs hold the token:\n%s", logs)
		}
	}
}

func TestRedactKeepsIdentity(t *testing.T) {
	c := &Client{token: "1:T"}
	err := c.redact(errors.Join(errors.New("Post http://x/bot1:T/getMe"), context.DeadlineExceeded))
	if strings.Contains(err.Error(), "1:T") {
		t.Errorf("redact left the token: %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("redact lost the cause: %v", err)
	}
	plain := errors.New("no token here")
	if got := c.redact(plain); got != plain {
		t.Errorf("redact changed an error without the token")
	}
}

func TestSendRateLimited(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Limits = Limits{PerChat: 1, PerChatBurst: 3, PaceReplies: true}
		c.Now = func() time.Time { return t0 } // time stands still: queued sends must wait
	})
	ctx := context.Background()
	for i := range 4 {
		if _, err := f.client.Send(ctx, Message{ChatID: 11, Text: "پیام"}); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if want := []time.Duration{time.Second}; !equalDurations(f.waits.got(), want) {
		t.Errorf("waits = %v, want %v: the 4th message of a burst waits 1s", f.waits.got(), want)
	}
	// Another chat is not slowed by chat 11; a callback answer skips the chat limiter.
	if _, err := f.client.Send(ctx, Message{ChatID: 12, Text: "پیام"}); err != nil {
		t.Fatal(err)
	}
	if got := len(f.waits.got()); got != 1 {
		t.Errorf("chat 12 waited: waits %v", f.waits.got())
	}
	chat, user := bottest.Private(11)
	last, _ := f.srv.LastMessage(11)
	upd := f.srv.PressButton(chat, user, last.MessageID, "x")
	if err := f.client.AnswerCallback(ctx, bottest.CallbackQueryID(upd), ""); err != nil {
		t.Fatal(err)
	}
	if got := len(f.waits.got()); got != 1 {
		t.Errorf("the callback answer waited on chat 11's limiter: waits %v", f.waits.got())
	}
	if got := len(f.srv.SentTo(11)); got != 4 {
		t.Errorf("chat 11 got %d messages, want 4", got)
	}
	if !f.srv.CallbackAnswer(upd).Answered {
		t.Error("callback not answered")
	}
}

func TestSendConcurrent(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Limits = Limits{} // defaults, on a clock that stands still
		c.Now = func() time.Time { return t0 }
	})
	const chats, perChat = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, chats*perChat)
	for c := range chats {
		for range perChat {
			wg.Go(func() {
				_, err := f.client.Send(context.Background(), Message{ChatID: int64(c + 1), Text: "هم‌زمان"})
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Send: %v", err)
		}
	}
	for c := range chats {
		if got := len(f.srv.SentTo(int64(c + 1))); got != perChat {
			t.Errorf("chat %d got %d messages, want %d", c+1, got, perChat)
		}
	}
	// Replies to people are not pre-throttled (no 429 slowed any chat),
	// and have no global cap.
	if got := len(f.waits.got()); got != 0 {
		t.Errorf("waited %d times, want 0", got)
	}
}

func TestSendContextCancelledDuringWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFixture(t, func(c *Config) {
		c.Limits = Limits{PerChat: 1, PerChatBurst: 1, PaceReplies: true}
		c.Now = func() time.Time { return t0 }
		// The real timer, with the caller giving up while it runs.
		c.Wait = func(ctx context.Context, d time.Duration) error {
			cancel()
			return sleep(ctx, d)
		}
	})
	if _, err := f.client.Send(ctx, Message{ChatID: 8, Text: "یک"}); err != nil {
		t.Fatalf("first Send: %v", err)
	}
	_, err := f.client.Send(ctx, Message{ChatID: 8, Text: "دو"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("second Send = %v, want context.Canceled", err)
	}
	if got := f.srv.Calls("sendMessage"); got != 1 {
		t.Errorf("calls = %d, want 1: the cancelled send must not reach the server", got)
	}
}

func TestSendContextCancelledDuringRetryWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFixture(t, func(c *Config) {
		c.Wait = func(ctx context.Context, d time.Duration) error {
			cancel()
			return sleep(ctx, d)
		}
	})
	f.srv.FailNext("sendMessage", 1, bottest.Fault{Code: 429, RetryAfter: 3600})
	_, err := f.client.Send(ctx, Message{ChatID: 8, Text: "x"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Send = %v, want context.Canceled", err)
	}
	if got := f.srv.Calls("sendMessage"); got != 1 {
		t.Errorf("calls = %d, want 1", got)
	}
}

func TestNilMetricsAndLogger(t *testing.T) {
	srv := bottest.New(t)
	c, err := NewClient(Config{Platform: Bale, Token: srv.Token(), Endpoint: srv.Endpoint(),
		Limits: Limits{Disabled: true}, Wait: (&waitRecorder{}).wait})
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext("sendMessage", 1, bottest.Fault{Code: 500})
	srv.Block(2)
	if _, err := c.Send(context.Background(), Message{ChatID: 1, Text: "x"}); err != nil {
		t.Errorf("Send: %v", err)
	}
	if _, err := c.Send(context.Background(), Message{ChatID: 2, Text: "x"}); !errors.Is(err, ErrBlocked) {
		t.Errorf("Send to a blocked chat without a recorder = %v, want ErrBlocked", err)
	}
}
