package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// pollAllowedUpdates are the update kinds the poller asks getUpdates for.
var pollAllowedUpdates = []string{
	string(KindMessage), string(KindEditedMessage), string(KindCallback), string(KindMyChatMember),
}

// pollAllowedJSON is pollAllowedUpdates as getUpdates takes it, encoded once.
var pollAllowedJSON = func() string {
	b, err := json.Marshal(pollAllowedUpdates)
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// Backoff is an exponential backoff with full jitter: the wait before retry n
// (counting from 0) is uniform in [0, min(Max, Min·2ⁿ)].
type Backoff struct {
	Min time.Duration
	Max time.Duration
}

// delay returns the wait before retry number attempt (0 for the first).
func (b Backoff) delay(attempt int) time.Duration {
	ceil := b.Min
	for i := 0; i < attempt && ceil < b.Max; i++ {
		ceil *= 2
	}
	ceil = min(ceil, b.Max)
	if ceil <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// PollerConfig configures a Poller. Zero values take the defaults in brackets.
type PollerConfig struct {
	Platform Platform
	Token    string
	Endpoint string // Bot API URL format "…/bot%s/%s" [tgbotapi.APIEndpoint]
	// HTTPClient makes the getUpdates calls. Its Timeout must exceed
	// PollTimeout, or a long poll would always time out. [PollTimeout + 10s]
	HTTPClient *http.Client
	// PollTimeout is the long-poll timeout sent to getUpdates, in whole
	// seconds (rounded up). [30s]
	PollTimeout time.Duration
	Limit       int          // updates per getUpdates, 1-100 [100]
	Logger      *slog.Logger // [slog.Default()]
	Metrics     *Metrics     // may be nil
	Backoff     Backoff      // between failed polls and handler retries [{500ms, 30s}]
	// Wait waits d or until ctx is done (then it returns ctx.Err()). Tests
	// inject one to record the waits. [a timer honouring ctx]
	Wait func(ctx context.Context, d time.Duration) error
	// Grace is how long updates already being handled may run after
	// shutdown starts; then their context is cancelled. [20s]
	Grace time.Duration
	// Apologizer, when set, is told once about an update that cannot be
	// queued (the queue's backend is down), so that the person hears why
	// no answer comes; polling waits until the queue takes it.
	Apologizer Apologizer
	// Dispatch configures the per-chat queues and their workers; its Queue
	// should be durable (Redis) in production.
	Dispatch DispatchConfig
}

// Poller receives updates by long polling getUpdates
// (https://core.telegram.org/bots/api#getupdates) and hands them to a Handler.
//
// It never waits for handling: each update is written to its chat's queue
// (PollerConfig.Dispatch.Queue) before its offset is confirmed, and workers
// take the updates from there, each chat in order. With a durable queue a
// crash loses nothing: the queued updates are resumed at the next start, and
// those not yet queued are delivered again by the Bot API (handlers
// deduplicate by update id).
type Poller struct {
	cfg      PollerConfig
	url      string // getUpdates, with the token
	log      *slog.Logger
	disp     *dispatcher
	running  atomic.Bool
	lastOK   atomic.Int64 // unix ms of the last successful getUpdates
	failures atomic.Int64 // failed getUpdates calls since the last success
	inFlight atomic.Int64 // unix ms when the getUpdates under way started; 0 when none is

	offset int // the next offset: every update below it is queued
	sent   int // the last offset the Bot API accepted, so confirmed there
}

// NewPoller checks cfg, fills in its defaults and returns a Poller. It does
// not call the network. It returns an error when the token or platform is
// empty, the endpoint is not a "…%s…%s" format, or HTTPClient's Timeout does
// not exceed PollTimeout.
func NewPoller(cfg PollerConfig) (*Poller, error) {
	if cfg.Platform == "" {
		return nil, errors.New("bot: new poller: no platform")
	}
	if cfg.Token == "" {
		return nil, fmt.Errorf("bot: new poller %s: empty token", cfg.Platform)
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = tgbotapi.APIEndpoint
	}
	if strings.Count(cfg.Endpoint, "%s") != 2 {
		return nil, fmt.Errorf("bot: new poller %s: endpoint %q must hold two %%s (token, method)", cfg.Platform, cfg.Endpoint)
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = 30 * time.Second
	}
	cfg.PollTimeout = (cfg.PollTimeout + time.Second - 1).Truncate(time.Second)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.PollTimeout + 10*time.Second}
	}
	if cfg.HTTPClient.Timeout <= cfg.PollTimeout {
		return nil, fmt.Errorf("bot: new poller %s: HTTP client timeout %s must exceed the poll timeout %s (0, no timeout, is refused too)",
			cfg.Platform, cfg.HTTPClient.Timeout, cfg.PollTimeout)
	}
	if cfg.Limit <= 0 || cfg.Limit > 100 {
		cfg.Limit = 100
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
	cfg.Backoff.Max = max(cfg.Backoff.Max, cfg.Backoff.Min)
	if cfg.Wait == nil {
		cfg.Wait = sleep
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 20 * time.Second
	}

	log := cfg.Logger.With(slog.String("platform", string(cfg.Platform)))
	return &Poller{
		cfg:  cfg,
		url:  fmt.Sprintf(cfg.Endpoint, cfg.Token, "getUpdates"),
		log:  log,
		disp: newDispatcher(cfg.Platform, cfg.Dispatch, cfg.Backoff, cfg.Wait, log, cfg.Metrics),
	}, nil
}

// PollHealth returns nil while polling works, and an error once the last
// three getUpdates calls in a row failed (unless the Bot API has been holding
// the current long poll for two seconds: it answers again) or none has
// succeeded for twice the poll timeout plus a minute.
func (p *Poller) PollHealth() error {
	if n := p.failures.Load(); n >= 3 {
		since := p.inFlight.Load()
		if since == 0 || time.Since(time.UnixMilli(since)) < 2*time.Second {
			return fmt.Errorf("getUpdates failed %d times in a row", n)
		}
	}
	if last := p.LastPoll(); !last.IsZero() && time.Since(last) > 2*p.cfg.PollTimeout+time.Minute {
		return fmt.Errorf("no successful getUpdates since %s", last.UTC().Format(time.RFC3339))
	}
	return nil
}

// LastPoll returns when getUpdates last succeeded (the zero time before the
// first), for readiness checks.
func (p *Poller) LastPoll() time.Time {
	ms := p.lastOK.Load()
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// Run polls until ctx is done and hands every update to h (see Handler)
// through the per-chat queues.
//
// When ctx is done it stops polling at once (a long poll is interrupted),
// confirms what was queued with one last getUpdates, lets the updates already
// being handled finish (their context is not cancelled by ctx, only when
// PollerConfig.Grace has passed), starts no further update, and returns nil.
// What was queued but not handled stays queued for the next start.
//
// Failed polls (network, 5xx, an undecodable answer, 409 Conflict) are logged
// and retried with backoff; 429 waits retry_after. Run returns an error
// matching ErrUnauthorized when the Bot API refuses the token (401, or 404 as
// Telegram answers a malformed token). Run must not be called concurrently.
func (p *Poller) Run(ctx context.Context, h Handler) error {
	if h == nil {
		return fmt.Errorf("bot: %s poller: nil handler", p.cfg.Platform)
	}
	if !p.running.CompareAndSwap(false, true) {
		return fmt.Errorf("bot: %s poller: already running", p.cfg.Platform)
	}
	defer p.running.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	dispDone := make(chan struct{})
	go func() {
		defer close(dispDone)
		p.disp.run(ctx, h, p.cfg.Grace)
	}()

	p.log.Info("bot: polling started", slog.Int("offset", p.offset))
	err := p.poll(ctx)
	if err != nil {
		cancel() // the token was refused: stop the workers too
	}
	p.confirm(ctx)
	<-dispDone
	p.log.Info("bot: polling stopped", slog.Int("offset", p.offset))
	return err
}

// poll runs getUpdates until ctx is done or the token is refused, queueing
// every update before the offset moves past it.
func (p *Poller) poll(ctx context.Context) error {
	failures := 0
	for ctx.Err() == nil {
		p.inFlight.Store(time.Now().UnixMilli())
		raws, err := p.getUpdates(ctx, p.offset, p.cfg.Limit, p.cfg.PollTimeout)
		p.inFlight.Store(0)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			d, fatal := p.pollFailed(err, failures)
			if fatal != nil {
				return fatal
			}
			failures++
			p.failures.Store(int64(failures))
			if p.cfg.Wait(ctx, d) != nil {
				break
			}
			continue
		}
		failures = 0
		p.failures.Store(0)
		p.sent = p.offset
		p.lastOK.Store(time.Now().UnixMilli())
		if _, ok := p.disp.cfg.Queue.(BatchQueue); ok {
			id, ok := p.queueAll(ctx, raws)
			if !ok {
				return nil // shutdown before they were queued: they come again
			}
			p.offset = max(p.offset, id+1)
			continue
		}
		for _, raw := range raws {
			id, ok := p.queue(ctx, raw)
			if !ok {
				return nil // shutdown before it was queued: it comes again
			}
			p.offset = max(p.offset, id+1)
		}
	}
	return nil
}

// queueAll decodes a batch of updates and writes them to their chats'
// queues in one round trip (BatchQueue). It returns the highest update id
// to confirm (0 when none can be read) and false only on shutdown.
func (p *Poller) queueAll(ctx context.Context, raws []json.RawMessage) (int, bool) {
	last := 0
	us := make([]Update, 0, len(raws))
	keep := make([][]byte, 0, len(raws))
	for _, raw := range raws {
		u, id, ok := p.decode(raw)
		last = max(last, id)
		if ok {
			us = append(us, u)
			keep = append(keep, raw)
		}
	}
	if len(us) == 0 {
		return last, true
	}
	if !p.retryQueue(ctx, us, func(qctx context.Context) error { return p.disp.acceptAll(qctx, us, keep) }) {
		return 0, false
	}
	return last, true
}

// queue decodes one update and writes it to its chat's queue. It returns
// the update id to confirm (0 when even that cannot be read) and false only
// on shutdown.
func (p *Poller) queue(ctx context.Context, raw json.RawMessage) (int, bool) {
	u, id, ok := p.decode(raw)
	if !ok {
		return id, true
	}
	if !p.retryQueue(ctx, []Update{u}, func(qctx context.Context) error { return p.disp.accept(qctx, u, raw) }) {
		return 0, false
	}
	return id, true
}

// decode reads one update and counts it. ok is false for an undecodable
// update or a kind Mahalle does not handle, which are logged or counted and
// passed over; id is the update id to confirm either way (0 when even that
// cannot be read).
func (p *Poller) decode(raw json.RawMessage) (u Update, id int, ok bool) {
	platform := string(p.cfg.Platform)
	u, err := ConvertUpdate(p.cfg.Platform, raw)
	if err != nil {
		id := peekUpdateID(raw)
		p.log.Error("bot: undecodable update skipped", slog.Int("update_id", id),
			slog.Int("bytes", len(raw)), slog.Any("err", err))
		pollInc(p.cfg.Metrics, func(m *Metrics) *prometheus.CounterVec { return m.UpdatesFailed },
			platform, peekKind(raw), "undecodable")
		return Update{}, id, false
	}
	kind := string(u.Kind)
	if u.Kind == "" {
		kind = "other"
	}
	pollInc(p.cfg.Metrics, func(m *Metrics) *prometheus.CounterVec { return m.UpdatesReceived }, platform, kind)
	return u, u.ID, u.Kind != ""
}

// retryQueue runs put (writing us to their queues) until it succeeds,
// with backoff, telling each sender once, at the first failure, that the
// bot is unavailable. It returns false only on shutdown.
func (p *Poller) retryQueue(ctx context.Context, us []Update, put func(context.Context) error) bool {
	for attempt := 0; ; attempt++ {
		qctx, cancel := context.WithTimeout(ctx, p.disp.cfg.HandlerTimeout)
		err := put(qctx)
		cancel()
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		d := p.cfg.Backoff.delay(attempt)
		p.log.Error("bot: cannot queue updates; polling waits", slog.Int("update_id", us[0].ID),
			slog.Int("updates", len(us)), slog.Any("err", err), slog.Duration("backoff", d))
		pollInc(p.cfg.Metrics, func(m *Metrics) *prometheus.CounterVec { return m.PollErrors }, string(p.cfg.Platform), "queue")
		if attempt == 0 && p.cfg.Apologizer != nil {
			told := map[ChatKey]bool{}
			for _, u := range us {
				if k := chatKeyOf(u); !told[k] {
					told[k] = true
					p.cfg.Apologizer.Unavailable(ctx, u)
				}
			}
		}
		if p.cfg.Wait(ctx, d) != nil {
			return false
		}
	}
}

// confirm tells the Bot API that every update below p.offset is handled, with
// getUpdates(offset, limit=1, timeout=0), unless it already knows. The long
// poll that shutdown interrupted may still hold the server's getUpdates slot
// for a moment and make this call a 409, so it is retried for a few seconds,
// on a real timer: the injected Wait belongs to the running poller. When it
// cannot confirm it only logs: unconfirmed updates are delivered again, which
// handlers tolerate.
func (p *Poller) confirm(parent context.Context) {
	if p.offset <= p.sent {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), pollConfirmTimeout)
	defer cancel()
	delay := 20 * time.Millisecond
	for {
		_, err := p.getUpdates(ctx, p.offset, 1, 0)
		if err == nil {
			p.sent = p.offset
			p.log.Info("bot: offset confirmed", slog.Int("offset", p.offset))
			return
		}
		var pe *pollError
		if (errors.As(err, &pe) && pe.httpCode() == http.StatusUnauthorized) || sleep(ctx, delay) != nil {
			p.log.Warn("bot: could not confirm the offset; those updates will be delivered again",
				slog.Int("offset", p.offset), p.errAttr(err))
			return
		}
		delay = min(2*delay, time.Second)
	}
}

// pollConfirmTimeout bounds the final confirmation at shutdown.
const pollConfirmTimeout = 5 * time.Second

// pollError is a failed getUpdates call: the Bot API's error code (0 when
// the call did not get a Bot API answer), the HTTP status and what went wrong.
type pollError struct {
	code       int
	status     int
	retryAfter int
	err        error
}

// Error returns the wrapped error's text.
func (e *pollError) Error() string { return e.err.Error() }

// Unwrap returns the wrapped error.
func (e *pollError) Unwrap() error { return e.err }

// httpCode is the Bot API's error code, or the HTTP status of an answer that
// was not Bot API JSON (a proxy's error page), or 0 without an answer.
func (e *pollError) httpCode() int {
	if e.code != 0 {
		return e.code
	}
	return e.status
}

// pollFailed logs and counts a failed poll and returns how long to wait
// before the next, or the error Run must return.
func (p *Poller) pollFailed(err error, failures int) (time.Duration, error) {
	platform := string(p.cfg.Platform)
	var pe *pollError
	if !errors.As(err, &pe) {
		pe = &pollError{err: err}
	}
	code := pe.httpCode()
	count := func(reason string) {
		pollInc(p.cfg.Metrics, func(m *Metrics) *prometheus.CounterVec { return m.PollErrors }, platform, reason)
	}
	switch {
	case code == http.StatusUnauthorized || code == http.StatusNotFound:
		p.log.Error("bot: the Bot API refused the bot token; polling stopped", slog.Int("code", code))
		return 0, fmt.Errorf("bot: %s getUpdates: the bot token was refused (HTTP %d); check the token: %w",
			platform, code, ErrUnauthorized)
	case code == http.StatusConflict:
		count("conflict")
		d := p.cfg.Backoff.delay(failures)
		p.log.Error("bot: getUpdates conflict: another process is polling with this bot token, "+
			"or a webhook is set for it (remove it with deleteWebhook); retrying",
			p.errAttr(err), slog.Duration("backoff", d))
		return d, nil
	case code == http.StatusTooManyRequests:
		count("too_many_requests")
		d := time.Duration(pe.retryAfter) * time.Second
		if d <= 0 {
			d = p.cfg.Backoff.delay(failures)
		}
		p.log.Warn("bot: getUpdates rate limited; waiting", slog.Duration("retry_after", d))
		return d, nil
	case code >= 500 || (pe.code == 0 && pe.status != 0):
		// Also an answer whose body is not what the Bot API sends.
		count("server")
	case code != 0:
		count("api")
	default:
		count("network")
	}
	d := p.cfg.Backoff.delay(failures)
	p.log.Warn("bot: getUpdates failed; retrying", p.errAttr(err), slog.Int("code", code),
		slog.Duration("backoff", d))
	return d, nil
}

// getUpdates calls getUpdates once, with ctx, and returns the raw updates.
// Its error is a *pollError and never contains the token.
func (p *Poller) getUpdates(ctx context.Context, offset, limit int, timeout time.Duration) ([]json.RawMessage, error) {
	form := url.Values{"allowed_updates": {pollAllowedJSON}}
	if offset != 0 {
		form.Set("offset", strconv.Itoa(offset))
	}
	if limit != 0 {
		form.Set("limit", strconv.Itoa(limit))
	}
	if secs := int(timeout / time.Second); secs != 0 {
		form.Set("timeout", strconv.Itoa(secs))
	}
	fail := func(status int, err error) error {
		return &pollError{status: status, err: fmt.Errorf("bot: %s getUpdates: %w", p.cfg.Platform, err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fail(0, redactToken(err, p.cfg.Token))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fail(0, redactToken(err, p.cfg.Token))
	}
	defer resp.Body.Close()
	body, err := readAll(resp)
	if err != nil {
		return nil, fail(resp.StatusCode, redactToken(err, p.cfg.Token))
	}
	// The batch is split, not decoded: each update is decoded as it is
	// queued, and walking the batch with encoding/json first (which checks
	// and copies every update) cost as much again.
	var a pollAnswer
	if !splitUpdates(body, &a) {
		a = pollAnswer{}
		if err := json.Unmarshal(body, &a.full); err != nil {
			return nil, fail(resp.StatusCode, redactToken(err, p.cfg.Token))
		}
		a.OK, a.Result, a.ErrorCode, a.Description = a.full.OK, a.full.Result, a.full.ErrorCode, a.full.Description
		if a.full.Parameters != nil {
			a.RetryAfter = a.full.Parameters.RetryAfter
		}
	}
	if !a.OK {
		pe := fail(resp.StatusCode, &tgbotapi.Error{Code: a.ErrorCode, Message: a.Description}).(*pollError)
		pe.code = a.ErrorCode
		pe.retryAfter = a.RetryAfter
		return nil, pe
	}
	return a.Result, nil
}

// pollAnswer is getUpdates' answer with its updates left raw.
type pollAnswer struct {
	OK          bool
	Result      []json.RawMessage
	ErrorCode   int
	Description string
	RetryAfter  int
	// full is the answer as encoding/json reads it, for what splitUpdates
	// cannot walk.
	full struct {
		OK          bool                         `json:"ok"`
		Result      []json.RawMessage            `json:"result"`
		ErrorCode   int                          `json:"error_code"`
		Description string                       `json:"description"`
		Parameters  *tgbotapi.ResponseParameters `json:"parameters"`
	}
}

// pollMaxAnswer bounds getUpdates' answer: 100 updates of at most a few
// kilobytes each.
const pollMaxAnswer = 16 << 20

// readAll reads a whole answer, in one allocation when its length is known.
func readAll(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > pollMaxAnswer {
		return nil, fmt.Errorf("answer of %d bytes is over %d", n, pollMaxAnswer)
	} else if n > 0 {
		b := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, pollMaxAnswer+1))
	if err == nil && len(b) > pollMaxAnswer {
		err = fmt.Errorf("answer is over %d bytes", pollMaxAnswer)
	}
	return b, err
}

// errAttr is err as a log attribute, with the token masked as a last defence.
func (p *Poller) errAttr(err error) slog.Attr {
	if err == nil {
		return slog.String("err", "")
	}
	return slog.String("err", strings.ReplaceAll(err.Error(), p.cfg.Token, "<token>"))
}

// pollDoer is the tgbotapi.HTTPClient of one call: it binds ctx to the
// request, remembers the HTTP status and keeps the token out of errors.
type pollDoer struct {
	ctx    context.Context
	client *http.Client
	token  string
	status int
}

// Do sends req with the doer's context.
func (d *pollDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.client.Do(req.WithContext(d.ctx))
	if err != nil {
		return nil, redactToken(err, d.token)
	}
	d.status = resp.StatusCode
	return resp, nil
}

// redactToken returns err without the token. net/http's *url.Error quotes the
// request URL, and the Bot API URL holds the token.
func redactToken(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	mask := func(s string) string {
		s = strings.ReplaceAll(s, token, "<token>")
		return strings.ReplaceAll(s, url.PathEscape(token), "<token>")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		clean := &url.Error{Op: ue.Op, URL: mask(ue.URL), Err: ue.Err}
		if !strings.Contains(clean.Error(), token) {
			return clean
		}
	}
	return errors.New(mask(err.Error()))
}

// peekUpdateID reads update_id from an update that does not decode as a
// whole; 0 when even that fails.
func peekUpdateID(raw json.RawMessage) int {
	var v struct {
		UpdateID int `json:"update_id"`
	}
	if json.Unmarshal(raw, &v) != nil || v.UpdateID < 0 {
		return 0
	}
	return v.UpdateID
}

// peekKind names the kind of an update that does not decode, for metrics.
func peekKind(raw json.RawMessage) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) == nil {
		for _, k := range pollAllowedUpdates {
			if _, ok := top[k]; ok {
				return k
			}
		}
	}
	return "unknown"
}
