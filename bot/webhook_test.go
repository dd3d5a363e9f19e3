package bot

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mahalle/mahalle/bot/bottest"
)

// TestWebhookIntake posts updates to a Webhook: without the secret they are
// refused with 401 and not queued; with it they are queued before 200, and
// the workers hand them to the handler once Run has set the webhook.
func TestWebhookIntake(t *testing.T) {
	srv := bottest.New(t)
	q := NewMemQueue()
	metrics := NewMetrics(prometheus.NewRegistry())
	const secret = "s3cret_value-123"
	wh, err := NewWebhook(WebhookConfig{Platform: Telegram, Token: srv.Token(), Endpoint: srv.Endpoint(),
		URL: "https://bot.example.ir/hook/tg", Secret: secret, Metrics: metrics, Dispatch: DispatchConfig{Queue: q}})
	if err != nil {
		t.Fatal(err)
	}
	update := `{"update_id":5,"message":{"message_id":1,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"a"},"text":"سلام"}}`
	post := func(secretHeader string) int {
		req := httptest.NewRequest(http.MethodPost, "/hook/tg", strings.NewReader(update))
		if secretHeader != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secretHeader)
		}
		rec := httptest.NewRecorder()
		wh.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, bad := range []string{"", "wrong", secret + "x"} {
		if got := post(bad); got != http.StatusUnauthorized {
			t.Errorf("post with secret %q = %d, want 401", bad, got)
		}
	}
	if n := q.Total(); n != 0 {
		t.Fatalf("%d updates queued by refused posts", n)
	}
	if got := ptCount(t, metrics.PollErrors, "tg", "webhook_secret"); got != 3 {
		t.Errorf("refused posts counted %v, want 3", got)
	}
	if got := post(secret); got != http.StatusOK {
		t.Fatalf("post with the secret = %d, want 200", got)
	}
	if n := q.Len(ChatKey{Telegram, 42}); n != 1 {
		t.Fatalf("queued = %d, want 1", n)
	}

	handled := make(chan Update, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- wh.Run(ctx, HandlerFunc(func(_ context.Context, u Update) error {
			handled <- u
			return nil
		}))
	}()
	select {
	case u := <-handled:
		if u.ID != 5 || u.Text != "سلام" || u.ChatID != 42 {
			t.Errorf("handled %+v", u)
		}
	case <-time.After(ptTimeout):
		t.Fatal("the posted update was never handled")
	}
	wctx, wcancel := context.WithTimeout(context.Background(), ptTimeout)
	defer wcancel()
	sent, err := srv.WaitFor(wctx, func(s bottest.Sent) bool { return s.Method == "setWebhook" })
	if err != nil || sent.Params.Get("url") != "https://bot.example.ir/hook/tg" || sent.Params.Get("secret_token") != secret {
		t.Errorf("setWebhook = %v, %v; want the URL and the secret", sent.Params, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}
