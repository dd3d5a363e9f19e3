package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/mahalle/mahalle/bot"
	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/handlers"
	"github.com/mahalle/mahalle/models"
)

var errUnauthorized = bot.ErrUnauthorized

// app holds the open backends.
type app struct {
	cfg   *config
	log   *slog.Logger
	store *models.Store
	rdb   redis.UniversalClient
	mini  *miniredis.Miniredis // the in-process Redis, when REDIS_URL is unset
	now   func() time.Time
}

// open connects to the database (migrating it) and to Redis.
func open(ctx context.Context, cfg *config, log *slog.Logger, now func() time.Time) (*app, error) {
	a := &app{cfg: cfg, log: log, now: now}
	store, err := models.Open(ctx, cfg.DatabaseURL, cfg.DataDir, log)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	a.store = store
	if err := store.Migrate(ctx); err != nil {
		a.close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	opts := cfg.Redis
	if opts == nil {
		a.mini = miniredis.NewMiniRedis()
		if err := a.mini.StartAddr("127.0.0.1:0"); err != nil {
			a.close()
			return nil, fmt.Errorf("start in-process redis: %w", err)
		}
		opts = &redis.UniversalOptions{Addrs: []string{a.mini.Addr()}}
	}
	// Every Redis call and connection has a deadline: a hung Redis makes
	// calls fail within seconds instead of holding every handler.
	o := *opts
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = redisTimeout, redisTimeout, redisTimeout, redisTimeout
	o.ContextTimeoutEnabled = true
	a.rdb = redis.NewUniversalClient(&o)
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		a.close()
		return nil, fmt.Errorf("redis: %w", err)
	}
	return a, nil
}

// checkRedisPersistence warns when Redis keeps nothing on disk (neither AOF
// nor RDB snapshots): a Redis restart would then lose every draft and every
// queued update. A server that refuses CONFIG (managed Redis) is only noted.
func (a *app) checkRedisPersistence(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	aof, err := a.rdb.ConfigGet(ctx, "appendonly").Result()
	if err != nil {
		a.log.Info("cannot read the Redis persistence settings (CONFIG GET refused); make sure AOF or RDB is on", slog.Any("err", err))
		return
	}
	rdb, err := a.rdb.ConfigGet(ctx, "save").Result()
	if err != nil {
		a.log.Info("cannot read the Redis persistence settings (CONFIG GET refused); make sure AOF or RDB is on", slog.Any("err", err))
		return
	}
	if aof["appendonly"] != "yes" && strings.TrimSpace(rdb["save"]) == "" {
		a.log.Warn("Redis has no persistence (appendonly no, save \"\"): a Redis restart loses every draft and every queued update; turn on appendonly yes")
	}
}

// redisTimeout bounds dialing, each read and write, and the wait for a
// pooled connection.
const redisTimeout = 2 * time.Second

func (a *app) close() {
	if a.rdb != nil {
		_ = a.rdb.Close()
	}
	if a.mini != nil {
		a.mini.Close()
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			a.log.Warn("close database", slog.Any("err", err))
		}
	}
}

// seed loads reference data from dir, or the embedded lists when dir is "".
func (a *app) seed(ctx context.Context, dir string) error {
	fsys := models.SeedFS()
	if dir != "" {
		fsys = os.DirFS(dir)
	}
	return a.store.Seed(ctx, fsys)
}

// serve runs the bot until ctx is done.
func (a *app) serve(ctx context.Context) error {
	log, cfg := a.log, a.cfg
	dbKind, redisKind := "PostgreSQL", "Redis at "+redactURL(cfg.RedisURL)
	if cfg.DatabaseURL == "" {
		dbKind = "embedded SQLite " + cfg.DataDir + "/mahalle.db"
	}
	if a.mini != nil {
		redisKind = "in-process Redis (conversations are lost when the process stops)"
	}
	log.Info("backends", slog.String("database", dbKind), slog.String("redis", redisKind))
	if cfg.DatabaseURL == "" || a.mini != nil {
		log.Warn("embedded backends are for trying Mahalle out and for single small installs; set DATABASE_URL and REDIS_URL for production")
	}
	if a.mini == nil {
		a.checkRedisPersistence(ctx)
	}
	if empty, err := a.store.Empty(ctx); err != nil {
		return err
	} else if empty {
		log.Info("empty database: loading the embedded reference data")
		if err := a.store.Seed(ctx, models.SeedFS()); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := bot.NewMetrics(reg)
	a.rdb.AddHook(newRedisMetrics(reg))

	conv := conversations.NewStore(a.rdb, conversations.StoreConfig{Prefix: cfg.RedisPrefix, Now: a.now})
	members := &conversations.MemberFlows{
		Members: a.store, Actions: a.store, Finder: a.store, Catalog: a.store, Geo: a.store,
	}
	engine := conversations.NewEngine(conv, conversations.Config{
		Flows: append([]*conversations.Flow{
			conversations.SuggestionFlow(a.store, a.store, func(k conversations.Key) string { return k.Platform }),
			conversations.TrackFlow(a.store),
		}, members.Flows()...),
		MenuFor: members.Menu,
		// What everyone may use, when a member's menu cannot be read.
		Menu: []conversations.MenuItem{
			{Label: "ارسال پیشنهاد", Flow: conversations.FlowSuggest},
			{Label: "پیگیری پیشنهاد", Flow: conversations.FlowTrack},
		},
		Welcome: msgWelcome,
		Help:    msgHelp,
		TTL:     cfg.ConversationTTL,
		Now:     a.now,
		Logger:  log,
		Shared:  cfg.WebhookURL != "",
	})
	reach := reachability{store: a.store, conv: conv}
	queue := botQueue{conversations.NewQueue(a.rdb, conversations.QueueConfig{Prefix: cfg.RedisPrefix, Now: a.now})}

	type platform struct {
		p        bot.Platform
		token    string
		endpoint string
	}
	var platforms []platform
	if cfg.TelegramToken != "" {
		platforms = append(platforms, platform{bot.Telegram, cfg.TelegramToken, cfg.TelegramEndpoint})
	}
	if cfg.BaleToken != "" {
		platforms = append(platforms, platform{bot.Bale, cfg.BaleToken, cfg.BaleEndpoint})
	}
	senders := map[bot.Platform]handlers.Sender{}
	names := map[bot.Platform]string{}
	pollers := map[bot.Platform]*bot.Poller{}
	for _, pl := range platforms {

		client, err := bot.NewClient(bot.Config{
			Platform: pl.p, Token: pl.token, Endpoint: pl.endpoint, Logger: log, Metrics: metrics,
			Limits:  bot.Limits{Global: rate.Limit(cfg.SendRate), GlobalBurst: int(cfg.SendRate), PerChat: rate.Limit(cfg.SendRatePerChat)},
			Blocked: reach,
		})
		if err != nil {
			return err
		}
		me, err := client.GetMe(ctx)
		if errors.Is(err, bot.ErrUnauthorized) {
			return fmt.Errorf("%w: the %s bot token was refused (401); check %s", errUnauthorized, pl.p, tokenVar(pl.p))
		} else if err != nil {
			return fmt.Errorf("%s getMe: %w", pl.p, err)
		}
		log.Info("connected", slog.String("platform", string(pl.p)), slog.String("bot", me.Username))
		senders[pl.p], names[pl.p] = client, me.Username
	}
	router := handlers.NewRouter(handlers.Config{
		Senders: senders, BotUsernames: names, Conversations: engine, Reachability: reach, Logger: log,
	})
	webhooks := map[bot.Platform]*bot.Webhook{}
	for _, pl := range platforms {
		dispatch := bot.DispatchConfig{Queue: queue, HandlerTimeout: cfg.HandlerTimeout, Owner: cfg.InstanceID}
		if cfg.WebhookURL != "" {
			wh, err := bot.NewWebhook(bot.WebhookConfig{Platform: pl.p, Token: pl.token, Endpoint: pl.endpoint,
				URL: cfg.WebhookURL + "/" + string(pl.p), Secret: cfg.WebhookSecret, Logger: log, Metrics: metrics,
				Apologizer: router, Dispatch: dispatch})
			if err != nil {
				return err
			}
			webhooks[pl.p] = wh
			continue
		}
		poller, err := bot.NewPoller(bot.PollerConfig{Platform: pl.p, Token: pl.token, Endpoint: pl.endpoint, Logger: log, Metrics: metrics,
			Apologizer: router, Dispatch: dispatch})
		if err != nil {
			return err
		}
		pollers[pl.p] = poller
	}
	if len(webhooks) > 0 {
		stop, err := a.serveWebhooks(webhooks)
		if err != nil {
			return err
		}
		defer stop()
	}
	var polls []pollHealth
	for _, p := range pollers {
		polls = append(polls, p)
	}
	srv := &http.Server{Addr: cfg.HTTPAddr, Handler: opsMux(reg, a, polls), ReadHeaderTimeout: 5 * time.Second}
	if cfg.HTTPPublic {
		log.Warn("HTTP_ADDR listens beyond this machine: /metrics requires the METRICS_TOKEN bearer token; keep it behind a firewall",
			slog.String("addr", cfg.HTTPAddr))
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	log.Info("health and metrics", slog.String("addr", ln.Addr().String()))
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", slog.Any("err", err))
		}
	}()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(pollers)+len(webhooks))
	var wg sync.WaitGroup
	type runner interface {
		Run(ctx context.Context, h bot.Handler) error
	}
	runners := map[bot.Platform]runner{}
	for p, poller := range pollers {
		runners[p] = poller
	}
	for p, wh := range webhooks {
		runners[p] = wh
	}
	for p, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(ctx, router); err != nil {
				errs <- fmt.Errorf("%s: %w", p, err)
				cancel() // one platform's token refused: stop, loudly
			}
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

// serveWebhooks listens on WEBHOOK_ADDR, apart from the ops listener, and
// routes <WEBHOOK_URL path>/<platform> to each platform's webhook. The
// returned function stops the listener.
func (a *app) serveWebhooks(webhooks map[bot.Platform]*bot.Webhook) (func(), error) {
	base, err := url.Parse(a.cfg.WebhookURL)
	if err != nil {
		return nil, fmt.Errorf("WEBHOOK_URL: %w", err)
	}
	mux := http.NewServeMux()
	for p, wh := range webhooks {
		mux.Handle("POST "+strings.TrimSuffix(base.Path, "/")+"/"+string(p), wh)
	}
	srv := &http.Server{Addr: a.cfg.WebhookAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", a.cfg.WebhookAddr)
	if err != nil {
		return nil, fmt.Errorf("WEBHOOK_ADDR %s: %w", a.cfg.WebhookAddr, err)
	}
	a.log.Info("webhook listening", slog.String("addr", ln.Addr().String()), slog.String("path", base.Path))
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("webhook server", slog.Any("err", err))
		}
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}

func collect(ch <-chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}

func tokenVar(p bot.Platform) string {
	if p == bot.Bale {
		return "BALE_TOKEN"
	}
	return "TELEGRAM_TOKEN"
}

// opsMux serves /healthz (the process is up), /readyz (Redis and the
// database answer, and every poller's getUpdates works), /metrics (with a
// bearer token when METRICS_TOKEN is set) and, with PPROF=1, /debug/pprof.
func opsMux(reg *prometheus.Registry, a *app, polls []pollHealth) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.rdb.Ping(ctx).Err(); err != nil {
			http.Error(w, "redis: unavailable", http.StatusServiceUnavailable)
			return
		}
		if err := a.store.Ping(ctx); err != nil {
			http.Error(w, "database: unavailable", http.StatusServiceUnavailable)
			return
		}
		for _, p := range polls {
			if err := p.PollHealth(); err != nil {
				http.Error(w, "polling: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprintln(w, "ready")
	})
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	if tok := a.cfg.MetricsToken; tok != "" {
		want := []byte("Bearer " + tok)
		metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
				w.Header().Set("WWW-Authenticate", "Bearer")
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
		})
	}
	mux.Handle("GET /metrics", metrics)
	if a.cfg.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// pollHealth says whether a poller's getUpdates works.
type pollHealth interface {
	PollHealth() error
}

// reachability records that a person blocked the bot (the sender got 403,
// or Telegram said so) in the database and in Redis, and clears it.
type reachability struct {
	store *models.Store
	conv  *conversations.Store
}

var (
	_ bot.BlockRecorder     = reachability{}
	_ handlers.Reachability = reachability{}
)

// MarkBlocked implements bot.BlockRecorder. In a private chat the chat id is the user id.
func (r reachability) MarkBlocked(ctx context.Context, p bot.Platform, chatID int64) error {
	if err := r.conv.MarkBlocked(ctx, string(p), chatID); err != nil {
		return err
	}
	if chatID < 0 {
		return nil // a group: no person to mark
	}
	return r.store.MarkBlocked(ctx, string(p), chatID)
}

// SetBlocked implements handlers.Reachability.
func (r reachability) SetBlocked(ctx context.Context, platform string, userID int64, blocked bool) error {
	if blocked {
		return r.MarkBlocked(ctx, bot.Platform(platform), userID)
	}
	if err := r.conv.ClearBlocked(ctx, platform, userID); err != nil {
		return err
	}
	return r.store.ClearBlocked(ctx, platform, userID)
}

func redactURL(s string) string {
	if s == "" {
		return ""
	}
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// What the bot says on /start and /help.
const (
	msgWelcome = "سلام! به «محله» خوش آمدید. 🏡\nاینجا می‌توانید کارهای شورای پیشرفت محلهٔ خود را ببینید و پیشنهاد، شکایت یا نظرتان را برای شورا بفرستید."
	msgHelp    = "راهنمای «محله»:\n\n• «ارسال پیشنهاد»: محله یا روستای خود را پیدا کنید، موضوع را انتخاب کنید و پیشنهادتان را بنویسید یا پیام صوتی بفرستید؛ یک کد پیگیری می‌گیرید.\n• «پیگیری پیشنهاد»: با کد پیگیری، وضعیت پیشنهادتان را ببینید.\n\nدر میانهٔ هر گفتگو:\n/back بازگشت به مرحلهٔ قبل\n/cancel لغو\n/menu منوی اصلی (پیش‌نویس نگه داشته می‌شود)"
)

// Compile-time checks that the store and the engine are what the consumers
// declare they need.
var (
	_ handlers.Sender            = (*bot.Client)(nil)
	_ handlers.Conversations     = (*conversations.Engine)(nil)
	_ conversations.Geography    = (*models.Store)(nil)
	_ conversations.Suggestions  = (*models.Store)(nil)
	_ conversations.Trackers     = (*models.Store)(nil)
	_ conversations.Members      = (*models.Store)(nil)
	_ conversations.Actions      = (*models.Store)(nil)
	_ conversations.ActionFinder = (*models.Store)(nil)
	_ conversations.Catalog      = (*models.Store)(nil)
)
