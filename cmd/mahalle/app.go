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
	"path/filepath"
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
	"github.com/mahalle/mahalle/bot/sharedlimits"
	"github.com/mahalle/mahalle/conversations"
	"github.com/mahalle/mahalle/conversations/coordinator"
	"github.com/mahalle/mahalle/conversations/member"
	residentflows "github.com/mahalle/mahalle/conversations/resident"
	"github.com/mahalle/mahalle/handlers"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/qrcard"
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
	store.Now = now // limits, history and digests follow the same clock as conversations
	store.SetAdminPhones(cfg.AdminPhones)
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
		n, err := loadSnapshot(a.mini, cfg.DataDir, now())
		if err != nil {
			a.close()
			return nil, err
		}
		log.Info("in-process redis restored", slog.String("file", filepath.Join(cfg.DataDir, snapshotFile)), slog.Int("keys", n))
		opts = &redis.UniversalOptions{Addrs: []string{a.mini.Addr()}}
	}
	// Every Redis call and connection has a deadline: a hung Redis makes
	// calls fail within seconds instead of holding every handler.
	o := *opts
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = redisTimeout, redisTimeout, redisTimeout, redisTimeout
	o.ContextTimeoutEnabled = true
	// RESP2: the bot reads no server push (RESP3's pub/sub and tracking
	// messages), and with RESP3 go-redis looks for one before every reply.
	o.Protocol = 2
	if o.TLSConfig == nil && o.Dialer == nil {
		o.Dialer = plainRedisDial
	}
	a.rdb = redis.NewUniversalClient(&o)
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		a.close()
		return nil, fmt.Errorf("redis: %w", err)
	}
	return a, nil
}

// plainRedisDial dials Redis over TCP and hides the socket from go-redis's
// pool, which otherwise peeks at it with a system call before every command
// to see whether the server closed it. A connection closed meanwhile (a
// Redis restart, an idle timeout) then fails at its next command, which
// go-redis retries on a fresh connection: the server never saw it.
func plainRedisDial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: redisTimeout, KeepAlive: 5 * time.Minute} // as go-redis's own dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return opaqueConn{c}, nil
}

// opaqueConn is a net.Conn without SyscallConn.
type opaqueConn struct{ net.Conn }

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
		if err := saveSnapshot(a.mini, a.cfg.DataDir, a.now()); err != nil {
			a.log.Error("save the in-process redis", slog.Any("err", err))
		}
		a.mini.Close()
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			a.log.Warn("close database", slog.Any("err", err))
		}
	}
}

// seed loads reference data from dir, or the embedded lists when dir is "",
// and with demo the demo places too («نمونه», never for a real install).
func (a *app) seed(ctx context.Context, dir string, demo bool) error {
	if dir != "" {
		if err := a.store.Seed(ctx, os.DirFS(dir)); err != nil {
			return err
		}
	}
	if demo {
		return a.store.SeedDemo(ctx)
	}
	if dir == "" {
		_, err := a.store.SeedIfStale(ctx)
		return err
	}
	return nil
}

// serve runs the bot until ctx is done.
func (a *app) serve(ctx context.Context) error {
	log, cfg := a.log, a.cfg
	dbKind, redisKind := "PostgreSQL", "Redis at "+redactURL(cfg.RedisURL)
	if cfg.DatabaseURL == "" {
		dbKind = "embedded SQLite " + cfg.DataDir + "/mahalle.db"
	}
	if a.mini != nil {
		redisKind = "in-process Redis (kept in " + filepath.Join(cfg.DataDir, snapshotFile) + " every minute and at shutdown)"
	}
	log.Info("backends", slog.String("database", dbKind), slog.String("redis", redisKind))
	if cfg.DatabaseURL == "" || a.mini != nil {
		log.Warn("embedded backends are for trying Mahalle out and for single small installs; set DATABASE_URL and REDIS_URL for production")
	}
	if a.mini == nil {
		a.checkRedisPersistence(ctx)
	}
	// A new database, or one seeded by an older release, gets the embedded
	// reference data (every county of Iran); demo places are never loaded here.
	if seeded, err := a.store.SeedIfStale(ctx); err != nil {
		return fmt.Errorf("seed: %w", err)
	} else if seeded {
		log.Info("loaded the embedded reference data (counties © OpenStreetMap contributors, ODbL)")
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := bot.NewMetrics(reg)
	a.rdb.AddHook(newRedisMetrics(reg))

	conv := conversations.NewStore(a.rdb, conversations.StoreConfig{Prefix: cfg.RedisPrefix, Now: a.now})
	members := &member.Flows{
		Members: a.store, Actions: a.store, Finder: a.store, Catalog: a.store, Geo: a.store, Staff: a.store,
	}
	overdue := cfg.Escalation.SuggestionCounty
	if overdue == 0 {
		overdue = 3
	}
	coord := &coordinator.Flows{Viewers: a.store, Reviews: a.store, Requests: a.store, Inbox: a.store, Catalog: a.store, Counter: a.store, Mute: a.store, Places: a.store, Comments: a.store, Staff: a.store, Regions: a.store,
		OverdueAfter: time.Duration(overdue) * 24 * time.Hour}
	names := map[bot.Platform]string{}
	residents := &residentflows.Flows{
		Geo: a.store, Catalog: a.store, Feeds: a.store, Homes: a.store, Subs: a.store,
		Inbox: a.store, Track: a.store, Part: a.store,
		// The bots' names are known once each platform answered getMe,
		// before the first update is handled.
		Link: func(platform, param string) string {
			return placeLink(bot.Platform(platform), names[bot.Platform(platform)], param)
		},
		Card: func(link, title, subtitle string) ([]byte, error) {
			return qrcard.PNG(qrcard.Card{Link: link, Title: title, Subtitle: subtitle})
		},
	}
	suggest := residentflows.SuggestionFlow(a.store, a.store, func(k conversations.Key) string { return k.Platform })
	suggest.Limit = residents.Limited
	engine, err := conversations.NewEngine(conv, conversations.Config{
		Flows:        append(append(append([]*conversations.Flow{suggest}, residents.Flows()...), members.Flows()...), coord.All()...),
		ChatCommands: true,
		Viewer: func(ctx context.Context, k conversations.Key) (models.Viewer, error) {
			return a.store.Viewer(ctx, k.Platform, k.UserID)
		},
		Welcome:   msgWelcome,
		StartLink: residentflows.StartLink,
		Help:      msgHelp,
		TTL:       cfg.ConversationTTL,
		Now:       a.now,
		Logger:    log,
		Shared:    cfg.WebhookURL != "",
		// Every update ends with the queue's Done (botQueue), which writes
		// the transitions and the prompt ids.
		DeferWrites: true,
	})
	if err != nil {
		return fmt.Errorf("flows: %w", err)
	}
	reach := reachability{store: a.store, conv: conv}
	queue := botQueue{q: conversations.NewQueue(a.rdb, conversations.QueueConfig{Prefix: cfg.RedisPrefix, Now: a.now}), engine: engine}

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
	notifiers := map[bot.Platform]handlers.Notifier{}
	pollers := map[bot.Platform]*bot.Poller{}
	for _, pl := range platforms {

		limits := bot.Limits{Notice: rate.Limit(cfg.NoticeRate), PerChat: rate.Limit(cfg.SendRatePerChat)}
		if cfg.SharedLimits {
			shared, err := sharedlimits.New(ctx, a.rdb, sharedlimits.Config{Prefix: cfg.RedisPrefix, Platform: pl.p, Logger: log})
			if err != nil {
				return fmt.Errorf("SEND_LIMITS=shared: %w", err)
			}
			defer func() { _ = shared.Close() }()
			limits.Shared = shared
		}
		client, err := bot.NewClient(bot.Config{
			Platform: pl.p, Token: pl.token, Endpoint: pl.endpoint, Logger: log, Metrics: metrics,
			Limits: limits, Blocked: reach,
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
		notifiers[pl.p] = client // its notice lane yields to replies
		// Every chat's command list until a person's roles give them their own.
		var defaults []bot.Command
		for _, c := range engine.Commands(models.Viewer{}) {
			defaults = append(defaults, bot.Command{Name: c.Command, Description: c.Description})
		}
		if err := client.SetDefaultCommands(ctx, defaults); err != nil {
			log.Warn("set the default command list", slog.String("platform", string(pl.p)), slog.Any("err", err))
		}
	}
	router := handlers.NewRouter(handlers.Config{
		Senders: senders, BotUsernames: names, Conversations: engine, Reachability: reach, Photos: a.store, Logger: log,
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
	sched := &handlers.Scheduler{Work: a.store, Escalation: cfg.Escalation, Logger: log}
	var schedDone sync.WaitGroup
	schedDone.Add(1)
	go func() {
		defer schedDone.Done()
		sched.Run(ctx)
	}()
	defer func() {
		cancel() // the scheduler stops with the pollers
		schedDone.Wait()
	}()
	if a.mini != nil {
		go func() {
			tick := time.NewTicker(snapshotEvery)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					if err := saveSnapshot(a.mini, cfg.DataDir, a.now()); err != nil {
						log.Error("save the in-process redis", slog.Any("err", err))
					}
				}
			}
		}()
	}
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
	notices := handlers.NewNotices(handlers.NotifierConfig{
		Outbox: a.store, Notifiers: notifiers, Quiet: cfg.QuietHours,
		Interval: cfg.NoticeInterval, Lease: cfg.NoticeLease, Logger: log,
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := notices.Run(ctx); err != nil {
			log.Error("notifier stopped", slog.Any("err", err))
		}
	}()
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

// What the bot says on /start and /help: exactly what a resident can do
// (each item is a menu button), and where members and coordinators start.
const (
	msgWelcome = "سلام! به «محله» خوش آمدید. 🏡\n" +
		"اینجا می‌توانید کارهای تأییدشدهٔ شورای پیشرفت محلهٔ خود و اعضای آن را ببینید، " +
		"پیشنهاد، شکایت یا نظرتان را برای شورا بفرستید و پاسخ آن را همین‌جا بگیرید، " +
		"و بگویید کاری که شورا گزارش کرده واقعاً انجام شده است یا نه.\n" +
		"اعضای شورا و هماهنگ‌کنندگان شهرستان و استان: «عضو شورا هستم» را بزنید و شمارهٔ همراه خود را بفرستید."
	msgHelp = "راهنمای «محله»: آنچه می‌توانید انجام دهید.\n" +
		"هر نفر در هر ساعت تا ۵ و در هر روز تا ۲۰ پیشنهاد، نظر یا تأیید می‌فرستد."
)

// Compile-time checks that the store and the engine are what the consumers
// declare they need.
var (
	_ handlers.Sender             = (*bot.Client)(nil)
	_ handlers.PairSender         = (*bot.Client)(nil)
	_ handlers.Conversations      = (*conversations.Engine)(nil)
	_ residentflows.Geography     = (*models.Store)(nil)
	_ residentflows.Suggestions   = (*models.Store)(nil)
	_ residentflows.Trackers      = (*models.Store)(nil)
	_ residentflows.Catalog       = (*models.Store)(nil)
	_ residentflows.Feeds         = (*models.Store)(nil)
	_ residentflows.Homes         = (*models.Store)(nil)
	_ residentflows.Subscriptions = (*models.Store)(nil)
	_ residentflows.Inbox         = (*models.Store)(nil)
	_ residentflows.Participation = (*models.Store)(nil)
	_ member.Members              = (*models.Store)(nil)
	_ member.Actions              = (*models.Store)(nil)
	_ member.ActionFinder         = (*models.Store)(nil)
	_ member.Catalog              = (*models.Store)(nil)
	_ member.StaffRoles           = (*models.Store)(nil)
	_ handlers.Outbox             = (*models.Store)(nil)
	_ handlers.Notifier           = (*bot.Client)(nil)
	_ handlers.CommandSetter      = (*bot.Client)(nil)
)

// placeLink is a place's deep link on a platform: opening it starts the
// bot with "/start <param>". "" when the bot's name is not known.
func placeLink(p bot.Platform, botName, param string) string {
	switch {
	case botName == "":
		return ""
	case p == bot.Bale:
		return "https://ble.ir/" + botName + "?start=" + param
	}
	return "https://t.me/" + botName + "?start=" + param
}
