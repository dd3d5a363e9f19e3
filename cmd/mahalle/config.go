package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
)

// Default Bot API endpoints, in the format tgbotapi expects.
const (
	telegramEndpoint = "https://api.telegram.org/bot%s/%s"
	baleEndpoint     = "https://tapi.bale.ai/bot%s/%s"
)

// config is everything read from the environment, parsed and checked once.
type config struct {
	TelegramToken    string
	TelegramEndpoint string
	BaleToken        string
	BaleEndpoint     string
	DatabaseURL      string // "" = SQLite under DataDir
	DataDir          string
	RedisURL         string // "" = an in-process Redis
	Redis            *redis.UniversalOptions
	RedisPrefix      string
	HTTPAddr         string
	LogLevel         slog.Level
	LogJSON          bool
	AdminPhones      []string // E.164
	ConversationTTL  time.Duration
	NoticeRate       float64 // notices (messages nobody asked for) per second, per platform
	SendRatePerChat  float64 // new messages per second to one chat
	SharedLimits     bool    // send limits kept in Redis for every replica (SEND_LIMITS=shared; the default with WEBHOOK_URL)
	Escalation       models.Escalation
	QuietHours       models.QuietHours // the install's default quiet hours, Tehran time
	NoticeInterval   time.Duration     // how often the notifier reads the outbox
	NoticeLease      time.Duration     // how long a notice being sent is held before it is sent again
	HandlerTimeout   time.Duration
	InstanceID       string // names this process in Redis claims; replicas differ [hostname]
	Pprof            bool   // serve /debug/pprof on the ops listener
	MetricsToken     string // bearer token /metrics needs; required when HTTP_ADDR is not loopback
	HTTPPublic       bool   // HTTP_ADDR listens beyond loopback
	WebhookURL       string // "" = long polling; else the public base URL the Bot API posts to
	WebhookSecret    string
	WebhookAddr      string // where the webhook listener listens
}

// configError names the variable that is wrong; its text is one line.
type configError struct {
	Var string
	Msg string
}

func (e *configError) Error() string { return e.Var + ": " + e.Msg }

// tokenPattern is the shape of Telegram and Bale bot tokens: "<bot id>:<secret>".
var tokenPattern = regexp.MustCompile(`^[0-9]{3,20}:[A-Za-z0-9_-]{10,100}$`)

var webhookSecretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,256}$`)

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// loadConfig reads the configuration through getenv (os.Getenv in main,
// a map in tests). Needing a token is checked only when requireToken is set:
// `mahalle migrate` and `mahalle seed` need none.
func loadConfig(getenv func(string) string, requireToken bool) (*config, error) {
	c := &config{
		DataDir:         ".",
		HTTPAddr:        "127.0.0.1:8080",
		LogLevel:        slog.LevelInfo,
		ConversationTTL: 24 * time.Hour,
		NoticeRate:      25,
		SendRatePerChat: 1,
		RedisPrefix:     "mh",
		QuietHours:      models.QuietHours{From: 22, To: 7, Set: true},
		NoticeInterval:  2 * time.Second,
		NoticeLease:     2 * time.Minute,
		HandlerTimeout:  10 * time.Second,
	}
	var err error
	if c.TelegramToken, err = secret(getenv, "TELEGRAM_TOKEN"); err != nil {
		return nil, err
	}
	if c.BaleToken, err = secret(getenv, "BALE_TOKEN"); err != nil {
		return nil, err
	}
	if requireToken && c.TelegramToken == "" && c.BaleToken == "" {
		return nil, &configError{"TELEGRAM_TOKEN", "no bot token: set TELEGRAM_TOKEN (or TELEGRAM_TOKEN_FILE) or BALE_TOKEN (or BALE_TOKEN_FILE) to run the bot, or unset DATABASE_URL and REDIS_URL to open the playground (demo data never goes into a real database)"}
	}
	if c.TelegramEndpoint, err = endpoint(getenv, "TELEGRAM_API_ENDPOINT", telegramEndpoint); err != nil {
		return nil, err
	}
	if c.BaleEndpoint, err = endpoint(getenv, "BALE_API_ENDPOINT", baleEndpoint); err != nil {
		return nil, err
	}

	if v := getenv("DATABASE_URL"); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return nil, &configError{"DATABASE_URL", "must be a PostgreSQL URL like postgres://user@host:5432/mahalle"}
		}
		c.DatabaseURL = v
	}
	if v := getenv("DATA_DIR"); v != "" {
		c.DataDir = v
	}
	if c.DatabaseURL == "" {
		if fi, err := os.Stat(c.DataDir); err != nil || !fi.IsDir() {
			return nil, &configError{"DATA_DIR", fmt.Sprintf("%q is not an existing directory (the SQLite file mahalle.db goes there)", c.DataDir)}
		}
	}

	if v := getenv("REDIS_URL"); v != "" {
		opts, err := redisOptions(v)
		if err != nil {
			return nil, &configError{"REDIS_URL", "must be a Redis URL like redis://host:6379/0 (or redis://host1:6379?addr=host2:6379 for a cluster): " + err.Error()}
		}
		c.RedisURL, c.Redis = v, opts
	}

	if v := getenv("REDIS_KEY_PREFIX"); v != "" {
		if !prefixPattern.MatchString(v) {
			return nil, &configError{"REDIS_KEY_PREFIX", fmt.Sprintf("%q must be 1-32 letters, digits, - or _", v)}
		}
		c.RedisPrefix = v
	}
	if v := getenv("HTTP_ADDR"); v != "" {
		if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
			return nil, &configError{"HTTP_ADDR", fmt.Sprintf("%q is not host:port, e.g. 127.0.0.1:8080", v)}
		}
		c.HTTPAddr = v
	}
	switch v := getenv("PPROF"); v {
	case "", "0", "false":
	case "1", "true":
		c.Pprof = true
	default:
		return nil, &configError{"PPROF", fmt.Sprintf("%q is not 1 or 0", v)}
	}
	if c.MetricsToken, err = plainSecret(getenv, "METRICS_TOKEN"); err != nil {
		return nil, err
	}
	c.HTTPPublic = !loopbackAddr(c.HTTPAddr)
	if c.HTTPPublic && c.MetricsToken == "" && requireToken {
		return nil, &configError{"METRICS_TOKEN", fmt.Sprintf("HTTP_ADDR %s listens beyond this machine: set METRICS_TOKEN (or METRICS_TOKEN_FILE), the bearer token /metrics will require, or use a loopback HTTP_ADDR like 127.0.0.1:8080", c.HTTPAddr)}
	}
	if v := getenv("WEBHOOK_URL"); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			return nil, &configError{"WEBHOOK_URL", fmt.Sprintf("%q must be the public https URL the Bot API posts updates to, e.g. https://bot.example.ir/mahalle (the platform is appended: …/tg, …/bale)", v)}
		}
		c.WebhookURL = strings.TrimSuffix(v, "/")
		if c.WebhookSecret, err = plainSecret(getenv, "WEBHOOK_SECRET"); err != nil {
			return nil, err
		}
		if c.WebhookSecret == "" || !webhookSecretPattern.MatchString(c.WebhookSecret) {
			return nil, &configError{"WEBHOOK_SECRET", "with WEBHOOK_URL set, WEBHOOK_SECRET (or WEBHOOK_SECRET_FILE) must be 16-256 of A-Z, a-z, 0-9, _ and -"}
		}
		c.WebhookAddr = ":8443"
		if v := getenv("WEBHOOK_ADDR"); v != "" {
			if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
				return nil, &configError{"WEBHOOK_ADDR", fmt.Sprintf("%q is not host:port, e.g. :8443", v)}
			}
			c.WebhookAddr = v
		}
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return nil, &configError{"LOG_LEVEL", fmt.Sprintf("%q is not one of debug, info, warn, error", v)}
		}
	}
	switch v := getenv("LOG_FORMAT"); v {
	case "", "text":
	case "json":
		c.LogJSON = true
	default:
		return nil, &configError{"LOG_FORMAT", fmt.Sprintf("%q is not text or json", v)}
	}
	if v := getenv("ADMIN_PHONES"); v != "" {
		for _, p := range strings.Split(v, ",") {
			e164, err := persian.ParseMobile(strings.TrimSpace(p))
			if err != nil {
				return nil, &configError{"ADMIN_PHONES", fmt.Sprintf("%q is not an Iranian mobile number; give a comma-separated list like 09121234567,+989351234567", strings.TrimSpace(p))}
			}
			c.AdminPhones = append(c.AdminPhones, e164)
		}
	}
	if v := getenv("CONVERSATION_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return nil, &configError{"CONVERSATION_TTL", fmt.Sprintf("%q is not a duration of at least 1m, e.g. 24h", v)}
		}
		c.ConversationTTL = d
	}
	// Replies have no global cap (only 429s slow them); SEND_RATE, which
	// capped every call, is gone.
	if v := getenv("NOTICE_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 {
			return nil, &configError{"NOTICE_RATE", fmt.Sprintf("%q is not a positive number of notices per second", v)}
		}
		c.NoticeRate = r
	}
	if v := getenv("SEND_RATE_PER_CHAT"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 {
			return nil, &configError{"SEND_RATE_PER_CHAT", fmt.Sprintf("%q is not a positive number of messages per second", v)}
		}
		c.SendRatePerChat = r
	}
	if v := getenv("ESCALATION_DAYS"); v != "" {
		var days [3]int
		parts := strings.Split(v, ",")
		ok := len(parts) == 3
		for i := 0; ok && i < 3; i++ {
			n, err := strconv.Atoi(strings.TrimSpace(parts[i]))
			ok = err == nil && n >= 1 && n <= 365
			days[i] = n
		}
		if !ok || days[1] <= days[0] {
			return nil, &configError{"ESCALATION_DAYS", fmt.Sprintf("%q must be three whole numbers of days, e.g. 3,7,5: a suggestion unanswered goes to the county, then (later) to the province; an action unreviewed is reminded", v)}
		}
		c.Escalation = models.Escalation{SuggestionCounty: days[0], SuggestionProvince: days[1], ActionReview: days[2]}
	}
	// QUIET_HOURS: unset means 22-07; "none" turns them off (an empty
	// value cannot be told from an unset one).
	if v := getenv("QUIET_HOURS"); v != "" {
		q, err := models.ParseQuietHours(strings.ToLower(v))
		if err != nil {
			return nil, &configError{"QUIET_HOURS", fmt.Sprintf("%q is not a span of Tehran hours like 22-07, or none", v)}
		}
		c.QuietHours = q
	}
	if err := durationVar(getenv, "NOTICE_INTERVAL", 10*time.Millisecond, time.Minute, "2s", &c.NoticeInterval); err != nil {
		return nil, err
	}
	if err := durationVar(getenv, "NOTICE_LEASE", time.Second, time.Hour, "2m", &c.NoticeLease); err != nil {
		return nil, err
	}
	c.InstanceID = getenv("INSTANCE_ID")
	if c.InstanceID == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "mahalle"
		}
		c.InstanceID = h
		if c.WebhookURL != "" {
			// Replicas may share a host; each must hold its own chats. A
			// restarted replica then waits out its old claims (seconds).
			c.InstanceID += "-" + rand.Text()[:8]
		}
	}
	if err := durationVar(getenv, "HANDLER_TIMEOUT", 100*time.Millisecond, 10*time.Minute, "10s", &c.HandlerTimeout); err != nil {
		return nil, err
	}
	// Replicas (webhook mode) share their send limits through Redis; one
	// poller keeps them in process and pays no round trip for them.
	switch v := getenv("SEND_LIMITS"); v {
	case "":
		c.SharedLimits = c.WebhookURL != ""
	case "shared":
		c.SharedLimits = true
	case "local":
	default:
		return nil, &configError{"SEND_LIMITS", fmt.Sprintf("%q is not shared (kept in Redis for every replica) or local (in this process)", v)}
	}
	return c, nil
}

// durationVar reads NAME as a duration between lo and hi into dst, left
// as it is when NAME is unset.
func durationVar(getenv func(string) string, name string, lo, hi time.Duration, example string, dst *time.Duration) error {
	v := getenv(name)
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return &configError{name, fmt.Sprintf("%q is not a duration between %s and %s, e.g. %s", v, lo, hi, example)}
	}
	*dst = d
	return nil
}

// readSecret reads NAME, or the file named by NAME_FILE; never both. It
// returns the value and the variable it came from, for errors that name it.
// The value itself never appears in an error.
func readSecret(getenv func(string) string, name string) (value, from string, err error) {
	v, file := getenv(name), getenv(name+"_FILE")
	switch {
	case v != "" && file != "":
		return "", name, &configError{name, fmt.Sprintf("set either %s or %s_FILE, not both", name, name)}
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", name + "_FILE", &configError{name + "_FILE", fmt.Sprintf("cannot read %q: %v", file, errors.Unwrap(err))}
		}
		v = strings.TrimSpace(string(b))
		if v == "" {
			return "", name + "_FILE", &configError{name + "_FILE", fmt.Sprintf("%q is empty", file)}
		}
		return v, name + "_FILE", nil
	}
	return v, name, nil
}

// secret reads a bot token from NAME or NAME_FILE (see readSecret).
func secret(getenv func(string) string, name string) (string, error) {
	v, name, err := readSecret(getenv, name)
	if err != nil {
		return "", err
	}
	if v != "" && !tokenPattern.MatchString(v) {
		return "", &configError{name, "does not look like a bot token: the bot id (3 to 20 digits), a colon, then the secret (10 to 100 letters, digits, - or _), e.g. 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}
	}
	return v, nil
}

// plainSecret reads NAME or the file named by NAME_FILE (not both), for
// secrets of our own choosing: at least 16 characters, no spaces.
func plainSecret(getenv func(string) string, name string) (string, error) {
	v, name, err := readSecret(getenv, name)
	if err != nil {
		return "", err
	}
	if v != "" && (len(v) < 16 || strings.ContainsAny(v, " \t\r\n")) {
		return "", &configError{name, "must be at least 16 characters without spaces"}
	}
	return v, nil
}

// loopbackAddr reports whether host:port listens on this machine only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && loopback(host)
}

func endpoint(getenv func(string) string, name, def string) (string, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	u, err := url.Parse(strings.ReplaceAll(v, "%s", "x"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Count(v, "%s") != 2 || strings.Count(v, "%") != 2 {
		return "", &configError{name, fmt.Sprintf("%q must be an http(s) URL format with two %%s (token, method), e.g. %s", v, def)}
	}
	return v, nil
}

// redisOptions accepts what go-redis accepts: a single-node URL, or a
// cluster URL carrying more nodes as addr= parameters.
func redisOptions(v string) (*redis.UniversalOptions, error) {
	if strings.Contains(v, "addr=") {
		o, err := redis.ParseClusterURL(v)
		if err != nil {
			return nil, err
		}
		return &redis.UniversalOptions{Addrs: o.Addrs, Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig}, nil
	}
	o, err := redis.ParseURL(v)
	if err != nil {
		return nil, err
	}
	return &redis.UniversalOptions{Addrs: []string{o.Addr}, DB: o.DB, Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig}, nil
}
