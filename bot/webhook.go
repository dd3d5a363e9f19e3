package bot

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// WebhookConfig configures a Webhook. Zero values take the defaults in brackets.
type WebhookConfig struct {
	Platform Platform
	Token    string
	Endpoint string // Bot API URL format "…/bot%s/%s" [tgbotapi.APIEndpoint]
	// URL is the public HTTPS address the Bot API posts updates to, given to
	// setWebhook (https://core.telegram.org/bots/api#setwebhook).
	URL string
	// Secret is sent by the Bot API in X-Telegram-Bot-Api-Secret-Token with
	// every update; a request without it is refused with 401. 1-256 of
	// A-Z, a-z, 0-9, _ and -.
	Secret     string
	HTTPClient *http.Client // makes the setWebhook call [10s timeout]
	Logger     *slog.Logger // [slog.Default()]
	Metrics    *Metrics     // may be nil
	Backoff    Backoff      // between failed setWebhook calls and handler retries [{500ms, 30s}]
	Wait       func(ctx context.Context, d time.Duration) error
	Grace      time.Duration // as PollerConfig.Grace [20s]
	// Apologizer, when set, is told about an update that cannot be queued
	// (its answer is then 503 and the Bot API posts it again).
	Apologizer Apologizer
	Dispatch   DispatchConfig // its Queue must be shared by every replica
}

// Webhook receives updates posted by the Bot API and writes each to its
// chat's queue before answering 200, so that any number of replicas behind a
// load balancer share the work through one Redis: a chat is handled by one
// replica at a time, in order (see Queue).
type Webhook struct {
	cfg  WebhookConfig
	log  *slog.Logger
	disp *dispatcher
}

// webhookMaxBody bounds one posted update.
const webhookMaxBody = 1 << 20

// NewWebhook checks cfg and returns a Webhook. It returns an error when the
// platform, token, URL or secret is missing or malformed.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	switch {
	case cfg.Platform == "":
		return nil, errors.New("bot: new webhook: no platform")
	case cfg.Token == "":
		return nil, fmt.Errorf("bot: new webhook %s: empty token", cfg.Platform)
	case !strings.HasPrefix(cfg.URL, "https://") && !strings.HasPrefix(cfg.URL, "http://"):
		return nil, fmt.Errorf("bot: new webhook %s: URL %q is not http(s)", cfg.Platform, cfg.URL)
	case !validSecret(cfg.Secret):
		return nil, fmt.Errorf("bot: new webhook %s: the secret must be 1-256 of A-Z, a-z, 0-9, _ and -", cfg.Platform)
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = tgbotapi.APIEndpoint
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Backoff.Min <= 0 {
		cfg.Backoff.Min = 500 * time.Millisecond
	}
	if cfg.Backoff.Max <= 0 {
		cfg.Backoff.Max = 30 * time.Second
	}
	if cfg.Wait == nil {
		cfg.Wait = sleep
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 20 * time.Second
	}
	log := cfg.Logger.With(slog.String("platform", string(cfg.Platform)))
	return &Webhook{cfg: cfg, log: log,
		disp: newDispatcher(cfg.Platform, cfg.Dispatch, cfg.Backoff, cfg.Wait, log, cfg.Metrics)}, nil
}

func validSecret(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ServeHTTP takes one posted update: 401 without the secret (nothing is
// read or queued), 400 for a body that is not an update, 200 once the
// update is queued (or is of a kind Mahalle ignores), and 503 when the
// queue cannot take it, so that the Bot API posts it again.
func (wh *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	platform := string(wh.cfg.Platform)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if subtle.ConstantTimeCompare([]byte(got), []byte(wh.cfg.Secret)) != 1 {
		pollInc(wh.cfg.Metrics, func(m *Metrics) *prometheus.CounterVec { return m.PollErrors }, platform, "webhook_secret")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, webhookMaxBody))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	u, err := ConvertUpdate(wh.cfg.Platform, raw)
	if err != nil {
		wh.log.Error("bot: undecodable update skipped", slog.Int("update_id", peekUpdateID(raw)),
			slog.Int("bytes", len(raw)), slog.Any("err", err))
		pollInc(wh.cfg.Metrics, func(m *Metrics) *prometheus.CounterVec { return m.UpdatesFailed }, platform, peekKind(raw), "undecodable")
		// 200: posting it again would not make it decodable.
		w.WriteHeader(http.StatusOK)
		return
	}
	kind := string(u.Kind)
	if u.Kind == "" {
		kind = "other"
	}
	pollInc(wh.cfg.Metrics, func(m *Metrics) *prometheus.CounterVec { return m.UpdatesReceived }, platform, kind)
	if u.Kind == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := wh.disp.acceptAll(r.Context(), []Update{u}, [][]byte{raw}); err != nil {
		wh.log.Error("bot: cannot queue a posted update; the Bot API will post it again",
			slog.Int("update_id", u.ID), slog.Any("err", err))
		pollInc(wh.cfg.Metrics, func(m *Metrics) *prometheus.CounterVec { return m.PollErrors }, platform, "queue")
		if wh.cfg.Apologizer != nil {
			wh.cfg.Apologizer.Unavailable(r.Context(), u)
		}
		http.Error(w, "queue unavailable", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Run registers the webhook with setWebhook (retrying with backoff until it
// succeeds or ctx is done) and runs the workers until ctx is done; then it
// lets the updates being handled finish for up to Grace. Updates posted
// before Run starts are queued and handled once it does. It returns an
// error matching ErrUnauthorized when the Bot API refuses the token.
func (wh *Webhook) Run(ctx context.Context, h Handler) error {
	if h == nil {
		return fmt.Errorf("bot: %s webhook: nil handler", wh.cfg.Platform)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		wh.disp.run(ctx, h, wh.cfg.Grace)
	}()
	err := wh.register(ctx)
	if err != nil {
		cancel()
	}
	<-done
	return err
}

// register calls setWebhook until it succeeds.
func (wh *Webhook) register(ctx context.Context) error {
	params := tgbotapi.Params{}
	params["url"] = wh.cfg.URL
	params["secret_token"] = wh.cfg.Secret
	if err := params.AddInterface("allowed_updates", pollAllowedUpdates); err != nil {
		return fmt.Errorf("bot: %s setWebhook: %w", wh.cfg.Platform, err)
	}
	api := &tgbotapi.BotAPI{Token: wh.cfg.Token, Buffer: 100}
	api.SetAPIEndpoint(wh.cfg.Endpoint)
	for attempt := 0; ; attempt++ {
		doer := &pollDoer{ctx: ctx, client: wh.cfg.HTTPClient, token: wh.cfg.Token}
		api.Client = doer
		_, err := api.MakeRequest("setWebhook", params)
		if err == nil {
			wh.log.Info("bot: webhook set", slog.String("url", redactWebhookURL(wh.cfg.URL)))
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		var apiErr *tgbotapi.Error
		if errors.As(err, &apiErr) && (apiErr.Code == http.StatusUnauthorized || apiErr.Code == http.StatusNotFound) {
			return fmt.Errorf("bot: %s setWebhook: the bot token was refused: %w", wh.cfg.Platform, ErrUnauthorized)
		}
		d := wh.cfg.Backoff.delay(attempt)
		wh.log.Warn("bot: setWebhook failed; retrying", slog.String("err", strings.ReplaceAll(err.Error(), wh.cfg.Token, "<token>")),
			slog.Duration("backoff", d))
		if wh.cfg.Wait(ctx, d) != nil {
			return nil
		}
	}
}

// redactWebhookURL keeps the scheme and host of a webhook URL for logs.
func redactWebhookURL(u string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host + "/…"
}
