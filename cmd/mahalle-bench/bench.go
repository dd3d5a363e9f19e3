package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/models"
)

// bench is one run: the fake Bot API, the bot subprocess, the residents.
type bench struct {
	opts      *options
	progress  io.Writer
	srv       *bottest.Server
	residents []*resident
	rcfg      residentConfig
	queued    maxInt
	flows     counter
	measure   atomic.Bool
	stop      atomic.Bool
	profile   *os.File // the bench's CPU profile, while measuring
	botProf   chan error
	db        *benchDB    // nil with SQLite
	rds       *benchRedis // nil with the in-process Redis
	soak      *soakStats  // -soak or -replicas
	order     *orderCheck // -replicas
	lb        *balancer   // -replicas
	reps      []*replica  // -replicas
	kill      chan error  // -kill-one: the kill's outcome, once done
}

// onSend hands each call the bot makes to the resident of its chat.
func (b *bench) onSend(s bottest.Sent) {
	if s.ChatID < chatBase {
		return
	}
	i := residentOf(s.ChatID)
	if i >= int64(len(b.residents)) {
		return
	}
	if b.order != nil {
		b.order.see(i, s.Method, s.Text)
	}
	b.residents[i].observe(s)
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.progress, "mahalle-bench: "+format+"\n", args...)
}

// runBench does the whole run and returns its figures. Whatever happens, the
// bot is stopped and the run's database and Redis keys are removed.
func runBench(ctx context.Context, o *options, progress io.Writer) (res *result, err error) {
	b := &bench{opts: o, progress: progress}
	res = &result{opts: o, when: time.Now(), machine: machineFacts(), pgSessions: -1}
	res.machine.Tuning = tuning()

	tmp, err := os.MkdirTemp("", "mahalle-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	bin := o.bin
	if bin == "" {
		b.logf("building ./cmd/mahalle")
		root, err := moduleRoot(ctx)
		if err != nil {
			return nil, err
		}
		if bin, err = buildBot(ctx, root, tmp); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	// Clean-up must run even when ctx has ended.
	cleanCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	}

	vars := map[string]string{
		"HTTP_ADDR": "",
		"LOG_LEVEL": "warn",
		"PPROF":     "1", // /debug/pprof on the ops listener, to profile a run
	}
	res.machine.Database, res.machine.Redis = "embedded SQLite", "in-process Redis (miniredis)"
	if o.databaseURL != "" {
		db, err := createDB(ctx, o.databaseURL)
		if err != nil {
			return nil, err
		}
		defer func() {
			cctx, cancel := cleanCtx()
			defer cancel()
			err = errors.Join(err, db.drop(cctx))
		}()
		vars["DATABASE_URL"] = db.URL
		b.db = db
		res.machine.Database = db.Version
		res.database = db.name
	} else {
		vars["DATA_DIR"] = tmp
	}
	var rds *benchRedis
	if o.redisURL != "" {
		if rds, err = openRedis(ctx, o.redisURL); err != nil {
			return nil, err
		}
		defer func() {
			cctx, cancel := cleanCtx()
			defer cancel()
			_, cerr := rds.cleanup(cctx)
			err = errors.Join(err, cerr)
		}()
		vars["REDIS_URL"] = o.redisURL
		vars["REDIS_KEY_PREFIX"] = rds.Prefix
		res.machine.Redis = rds.Version
		res.redisPrefix = rds.Prefix
		b.rds = rds
	}

	token := strconv.Itoa(100000+rand.IntN(900000)) + ":bench" + randomHex(12)
	srvOpts := []bottest.Option{bottest.WithoutRecording(), bottest.WithToken(token),
		bottest.WithBotUser(7001, "mahalle_bench_bot"), bottest.WithOnSend(b.onSend)}
	if o.tgLimits {
		srvOpts = append(srvOpts, bottest.WithChatLimits(bottest.ChatLimits{}))
	}
	if o.fail5xx > 0 {
		srvOpts = append(srvOpts, bottest.WithServerErrors(bottest.ServerErrors{Share: o.fail5xx}))
	}
	if o.soak || o.replicas > 1 {
		b.soak = newSoakStats()
		res.soak = &soakResult{}
	}
	if o.replicas > 1 {
		b.order = newOrderCheck()
		res.replicas = &replicasResult{n: o.replicas}
	}
	b.srv = bottest.NewServer(srvOpts...)
	defer b.srv.Close()
	b.rcfg = residentConfig{photoEvery: o.photoEvery, think: o.think, jitter: o.jitter, stepTimeout: o.stepTimeout,
		queued: &b.queued, flows: &b.flows, measure: &b.measure, stop: &b.stop, soak: b.soak}
	b.residents = make([]*resident, o.residents+o.open)
	for i := range b.residents {
		b.residents[i] = newResident(i, b.srv, &b.rcfg)
	}

	port, err := freePort()
	if err != nil {
		return nil, err
	}
	vars["TELEGRAM_TOKEN"] = token
	vars["TELEGRAM_API_ENDPOINT"] = b.srv.Endpoint()
	vars["HTTP_ADDR"] = "127.0.0.1:" + port
	for _, kv := range o.botEnv {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	env := botEnv(vars)
	base := "http://127.0.0.1:" + port

	b.logf("seeding the database")
	if err := seedBot(ctx, bin, env); err != nil {
		return nil, err
	}
	var proc *botProc
	stopped := false
	if o.replicas > 1 {
		b.reps, err = startReplicas(ctx, bin, vars, o.replicas)
		defer func() {
			for _, r := range b.reps[min(1, len(b.reps)):] { // replica 0 is proc
				if !r.killed {
					_ = r.proc.stop(30 * time.Second)
				}
			}
		}()
		if err != nil {
			if len(b.reps) > 0 {
				_ = b.reps[0].proc.stop(30 * time.Second)
			}
			return nil, err
		}
		proc, base = b.reps[0].proc, b.reps[0].base
		b.startBalancer(ctx)
	} else if proc, err = startBot(bin, env); err != nil {
		return nil, err
	}
	defer func() {
		if stopped {
			return
		}
		if serr := proc.stop(30 * time.Second); serr != nil {
			err = errors.Join(err, fmt.Errorf("%w; its output:\n%s", serr, proc.logs.String()))
		}
	}()
	if err := proc.waitReady(ctx, func(ctx context.Context) error {
		rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if err := waitHTTP(rctx, base+"/healthz"); err != nil {
			return err
		}
		if o.replicas > 1 {
			return nil // the balancer posts the updates
		}
		return b.srv.WaitPolling(rctx)
	}); err != nil {
		return nil, err
	}

	defer func() {
		if b.profile != nil { // the run failed while measuring
			pprof.StopCPUProfile()
			b.profile.Close()
		}
	}()
	measured := b.residents[:o.residents]
	if o.rounds > 0 {
		err = b.rounds(ctx, measured, proc, base, res)
	} else {
		err = b.continuous(ctx, measured, proc, base, res)
	}
	if err != nil {
		return nil, err
	}
	if err := b.settle(ctx); err != nil {
		return nil, err
	}
	res.byStep = map[string]latencies{}
	for _, r := range measured {
		res.lat = append(res.lat, r.lat...)
		for i, name := range r.steps {
			res.byStep[name] = append(res.byStep[name], r.lat[i])
		}
	}
	slices.Sort(res.lat)
	for _, l := range res.byStep {
		slices.Sort(l)
	}

	// Residents left mid-flow, for the memory an open conversation holds.
	if rds != nil && o.open > 0 {
		b.logf("open conversations: %d residents stop at the text step", o.open)
		mem0, err := rds.usedMemory(ctx)
		if err != nil {
			return nil, err
		}
		b.stop.Store(false)
		open := b.residents[o.residents:]
		if err := b.runAll(ctx, open, func(ctx context.Context, r *resident) error {
			_, err := r.walkToText(ctx, 0)
			return err
		}); err != nil {
			return nil, fmt.Errorf("open conversations: %w", err)
		}
		if err := b.settle(ctx); err != nil {
			return nil, err
		}
		mem1, err := rds.usedMemory(ctx)
		if err != nil {
			return nil, err
		}
		lo, hi := int64(o.residents), int64(len(b.residents))
		use, err := rds.usage(ctx, func(id int64) bool {
			i := residentOf(id)
			return id >= chatBase && id-chatBase < identityStride && i >= lo && i < hi
		})
		if err != nil {
			return nil, err
		}
		res.open, res.memBefore, res.memAfter, res.keys = o.open, mem0, mem1, &use
	}

	if res.soak != nil {
		if err := b.soakEnd(ctx, rds, res); err != nil {
			return nil, err
		}
	}

	if err := b.endReplicas(res); err != nil {
		return nil, err
	}
	// Stop the bot, then count what it wrote.
	stopped = true
	if err := proc.stop(30 * time.Second); err != nil {
		return nil, fmt.Errorf("%w; its output:\n%s", err, proc.logs.String())
	}
	res.botLogLines = proc.logs.lines()
	if b.opts.botLog != "" {
		if err := os.WriteFile(b.opts.botLog, []byte(proc.logs.String()), 0o644); err != nil {
			return nil, fmt.Errorf("-bot-log: %w", err)
		}
	}
	res.allFlows = b.flows.load()
	if res.rows, err = countRows(ctx, vars["DATABASE_URL"], tmp); err != nil {
		return nil, err
	}
	if res.soak != nil {
		if err := b.soakRows(ctx, vars["DATABASE_URL"], res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// window is the start of a measured phase.
type window struct {
	at        time.Time
	sessions  int64 // connections opened to PostgreSQL so far (-1: unknown)
	metrics   metrics
	cpu       cpuSample
	confirmed int
	flows     int64
	tooMany   int // 429s the fake Bot API gave so far
	apiCalls  int // calls of the sending methods the fake Bot API got so far
}

// sendingMethods are the Bot API methods that count as calls per update.
var sendingMethods = []string{"sendMessage", "editMessageText", "editMessageReplyMarkup", "editMessageCaption",
	"answerCallbackQuery", "sendPhoto", "sendDocument", "sendMediaGroup", "deleteMessage", "sendChatAction",
	"setMyCommands", "deleteMyCommands"}

// apiCalls counts the calls of sendingMethods the fake Bot API received.
func (b *bench) apiCalls() int {
	n := 0
	for _, m := range sendingMethods {
		n += b.srv.Calls(m)
	}
	return n
}

// open starts measuring: it takes the figures the phase is compared to.
func (b *bench) open(ctx context.Context, proc *botProc, base string) (window, error) {
	m, err := scrape(ctx, base+"/metrics")
	if err != nil {
		return window{}, err
	}
	w := window{metrics: m, cpu: sampleCPU(proc.pid()), confirmed: b.srv.Confirmed(), flows: b.flows.load(), sessions: b.sessions(ctx),
		tooMany: b.srv.TooManyCount(), apiCalls: b.apiCalls()}
	if o := b.opts; o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return window{}, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return window{}, err
		}
		b.profile = f
	}
	if o := b.opts; o.botProfile != "" {
		b.botProf = make(chan error, 1)
		go func() { b.botProf <- fetchProfile(ctx, base, o.duration, o.botProfile) }()
	}
	w.at = time.Now()
	b.measure.Store(true)
	return w, nil
}

// fetchProfile writes the bot's CPU profile over d to path.
func fetchProfile(ctx context.Context, base string, d time.Duration, path string) error {
	return fetchPprof(ctx, base, "profile?seconds="+strconv.Itoa(max(1, int(d.Seconds()))), path)
}

// fetchPprof writes the bot's /debug/pprof/<what> to path.
func fetchPprof(ctx context.Context, base, what, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/debug/pprof/"+what, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /debug/pprof/%s: %s (is PPROF=1 honoured?)", what, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// sessions reads the PostgreSQL connection count; -1 without PostgreSQL or
// when it cannot be read (a figure missing is not worth failing the run).
func (b *bench) sessions(ctx context.Context) int64 {
	if b.db == nil {
		return -1
	}
	n, err := b.db.sessions(ctx)
	if err != nil {
		b.logf("%v", err)
		return -1
	}
	return n
}

// close stops measuring and puts the phase's figures into res.
func (b *bench) close(ctx context.Context, w window, proc *botProc, base string, res *result) error {
	b.measure.Store(false)
	res.wall = time.Since(w.at)
	res.updates = int64(b.srv.Confirmed() - w.confirmed)
	res.flows = b.flows.load() - w.flows
	res.cpu = sampleCPU(proc.pid()).sub(w.cpu)
	res.tooMany = b.srv.TooManyCount() - w.tooMany
	res.apiCalls = b.apiCalls() - w.apiCalls
	if n := b.sessions(ctx); n >= 0 && w.sessions >= 0 {
		res.pgSessions = n - w.sessions
	}
	if b.profile != nil {
		pprof.StopCPUProfile()
		if err := b.profile.Close(); err != nil {
			return err
		}
		b.profile = nil
	}
	if b.botProf != nil {
		if err := <-b.botProf; err != nil {
			return fmt.Errorf("the bot's CPU profile: %w", err)
		}
		b.botProf = nil
	}
	after, err := scrape(ctx, base+"/metrics")
	if err != nil {
		return err
	}
	if err := after.missing(mUpdatesHandled, mRoundTrips, mCommands, mSends, mMallocs, mCPU); err != nil {
		return err
	}
	res.bot = after.delta(w.metrics)
	return nil
}

// continuous keeps every resident walking flow after flow: a warm-up, then
// a window of -duration in which updates, latencies and CPU are measured;
// then residents stop after the step they are at.
func (b *bench) continuous(ctx context.Context, rs []*resident, proc *botProc, base string, res *result) error {
	o := b.opts
	done := make(chan error, 1)
	go func() {
		done <- b.runAll(ctx, rs, func(ctx context.Context, r *resident) error {
			// Starting together, residents would stay in lock-step: a wave
			// of 2,000 at the same step, each waiting behind the whole wave.
			// A start spread over half the warm-up mixes the steps as
			// people's would be.
			if spread := o.warmup / 2; spread > 0 {
				t := time.NewTimer(rand.N(spread))
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				}
			}
			return b.walkFlows(ctx, r)
		})
	}()
	// stopAll stops the residents and returns the first error of the run.
	stopAll := func() error {
		b.stop.Store(true)
		return <-done
	}
	b.logf("warm-up: %d residents for %s", o.residents, o.warmup)
	if err := b.pause(ctx, o.warmup, done); err != nil {
		return errors.Join(fmt.Errorf("warm-up: %w", err), stopAll())
	}
	w, err := b.open(ctx, proc, base)
	if err != nil {
		return errors.Join(err, stopAll())
	}
	b.startKill(ctx, w.at, res)
	b.logf("measuring: %d residents for %s", o.residents, o.duration)
	var samples chan []soakSample
	endSampling := make(chan struct{})
	if b.soak != nil {
		samples = make(chan []soakSample, 1)
		go func() {
			samples <- b.sampler(ctx, proc.pid(), base, b.rds, w.at, max(10*time.Second, o.duration/20), endSampling)
		}()
	}
	perr := b.pause(ctx, o.duration, done)
	close(endSampling)
	if samples != nil {
		b.soakCollect(res, <-samples)
	}
	if perr != nil {
		return errors.Join(fmt.Errorf("measured phase: %w", perr), stopAll())
	}
	cerr := b.close(ctx, w, proc, base, res)
	return errors.Join(cerr, stopAll())
}

// pause waits d; it returns early with an error when the residents stop
// (one of them failed) or ctx ends.
func (b *bench) pause(ctx context.Context, d time.Duration, done chan error) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case err := <-done:
		done <- err // stopAll reads it again
		if err == nil {
			err = errors.New("the residents stopped early")
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rounds has every resident complete whole flows during the warm-up, then
// -rounds whole flows each, measured.
func (b *bench) rounds(ctx context.Context, rs []*resident, proc *botProc, base string, res *result) error {
	o := b.opts
	if o.warmup > 0 {
		b.logf("warm-up: %d residents for %s, finishing their flows", o.residents, o.warmup)
		deadline := time.Now().Add(o.warmup)
		if err := b.runAll(ctx, rs, func(ctx context.Context, r *resident) error {
			for time.Now().Before(deadline) {
				if err := r.nextFlow(ctx); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		if err := b.settle(ctx); err != nil {
			return err
		}
	}
	w, err := b.open(ctx, proc, base)
	if err != nil {
		return err
	}
	b.logf("measuring: %d residents, %d round(s)", o.residents, o.rounds)
	if err := b.runAll(ctx, rs, func(ctx context.Context, r *resident) error {
		for range o.rounds {
			if err := r.nextFlow(ctx); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("measured phase: %w", err)
	}
	// The phase ends when the bot has confirmed its last update.
	if err := b.settle(ctx); err != nil {
		return err
	}
	return b.close(ctx, w, proc, base, res)
}

// settle waits until the bot has confirmed every update queued so far.
func (b *bench) settle(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, b.opts.stepTimeout)
	defer cancel()
	if id := b.queued.load(); id > 0 {
		if err := b.srv.WaitConfirmed(wctx, id); err != nil {
			return fmt.Errorf("waiting for the bot to confirm every update: %w", err)
		}
	}
	return nil
}

// runAll runs fn for every resident at once; the first error stops them all
// and is returned.
func (b *bench) runAll(ctx context.Context, rs []*resident, fn func(context.Context, *resident) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, r := range rs {
		wg.Go(func() {
			if err := fn(ctx, r); err != nil {
				once.Do(func() {
					first = err
					cancel()
				})
			}
		})
	}
	wg.Wait()
	return first
}

// countRows counts the suggestions in the bot's database.
func countRows(ctx context.Context, dsn, dataDir string) (int64, error) {
	store, err := models.Open(ctx, dsn, dataDir, slog.New(slog.DiscardHandler))
	if err != nil {
		return 0, fmt.Errorf("open the bot's database: %w", err)
	}
	defer store.Close()
	n, err := store.CountSuggestions(ctx)
	if err != nil {
		return 0, err
	}
	return n, nil
}
