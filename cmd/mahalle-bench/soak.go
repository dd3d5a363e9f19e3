package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// The soak run of issue 10: many residents for a long time under Telegram-like
// 429s and injected 5xx. A resident whose reply does not come within the step
// timeout is counted as stuck and starts over (/cancel, then a new flow)
// instead of stopping the run; the report says how many were stuck, whether
// every completed flow left exactly one row, and how the bot's memory,
// goroutines and Redis memory moved between the start and the end.

// errStuck ends a flow whose reply did not come within the step timeout,
// in a soak run.
var errStuck = errors.New("stuck")

// applySoakDefaults fills what -soak implies and the command line left out:
// 500 residents for 10 minutes, -tglimits, 5 % 5xx, and a run timeout that
// fits the duration.
func applySoakDefaults(o *options, set map[string]bool) {
	if !o.soak {
		return
	}
	if !set["residents"] {
		o.residents = 500
	}
	if !set["duration"] && !set["rounds"] {
		o.duration = 10 * time.Minute
	}
	if !set["fail5xx"] {
		o.fail5xx = 0.05
	}
	if !set["open"] {
		o.open = 0 // the soak measures Redis memory per chat of every resident instead
	}
	o.tgLimits = true
	if !set["timeout"] {
		o.timeout = o.warmup + o.duration + 5*time.Minute
	}
}

// soakStats is what the residents of a soak run share.
type soakStats struct {
	mu      sync.Mutex
	events  int            // steps whose reply did not come in time
	users   map[int]int    // stuck events by resident
	byStep  map[string]int // stuck events by step
	samples []string       // what the first few stuck residents had seen
}

func newSoakStats() *soakStats {
	return &soakStats{users: map[int]int{}, byStep: map[string]int{}}
}

// stuck records that resident r got no reply at step within the timeout;
// desc says what the chat had seen.
func (s *soakStats) stuck(idx int, step string, desc error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events++
	s.users[idx]++
	s.byStep[step]++
	if s.byStep[step] == 1 && len(s.samples) < 4 { // the first of each step

		d := []rune(desc.Error())
		if len(d) > 700 {
			d = append(d[:700], '…')
		}
		s.samples = append(s.samples, string(d))
	}
}

// soakSample is one look at the bot and Redis during a soak run.
type soakSample struct {
	at         time.Duration // since the measured phase began
	rss        int64         // the bot's VmRSS, bytes
	rssAnon    int64         // RssAnon: the part of rss that is the process's own memory (heap, stacks)
	rssFile    int64         // RssFile: the part that is the binary's pages read from disk (code, tables), shared with the page cache
	goroutines int           // go_goroutines from the bot's /metrics
	heapInuse  int64         // go_memstats_heap_inuse_bytes: what the Go heap holds, garbage not yet swept included
	heapObj    int64         // go_memstats_heap_objects: objects on the heap
	gcGoal     int64         // go_memstats_next_gc_bytes: the heap size that starts the next GC, about twice the heap live after the last one (GOGC=100)
	retained   int64         // go_memstats_sys_bytes − go_memstats_heap_released_bytes: what the Go runtime holds from the OS (RSS less the binary and C)
	stacks     int64         // go_memstats_stack_inuse_bytes
	redisMem   int64         // INFO memory used_memory (-1: in-process Redis)
	confirmed  int           // updates the fake Bot API saw confirmed
	load       string        // /proc/loadavg, first three fields
}

// soakResult is the soak part of a result.
type soakResult struct {
	samples      []soakSample
	stuckEvents  int
	stuckUsers   int
	stuckByStep  map[string]int
	stuckSamples []string
	fail5xx      int // 5xx the fake Bot API injected over the whole run

	rowsChecked bool  // rows were matched to flows one by one (PostgreSQL)
	lost        int   // completed flows without their row
	doubled     int   // rows beyond the first of a flow
	abandoned   int   // flows given up after «تأیید و ارسال» was pressed
	abandonRows int   // rows of those (the bot did store them)
	stray       int   // rows matching no completed or abandoned flow
	completed   int64 // completed flows, whole run

	chats    int      // residents' chats whose keys were measured
	keyUsage keyUsage // MEMORY USAGE of their keys at the end
}

// sampler looks at the bot every d until stop is closed, and once more then.
func (b *bench) sampler(ctx context.Context, pid int, base string, rds *benchRedis, start time.Time,
	d time.Duration, stop <-chan struct{}) []soakSample {
	var out []soakSample
	take := func() {
		s := soakSample{at: time.Since(start).Round(time.Second), rss: procRSS(pid), redisMem: -1,
			rssAnon: procStatus(pid, "RssAnon:"), rssFile: procStatus(pid, "RssFile:"),
			confirmed: b.srv.Confirmed(), load: loadAvg()}
		if m, err := scrapeSeries(ctx, base+"/metrics", "go_goroutines", "go_memstats_heap_inuse_bytes", "go_memstats_heap_objects", "go_memstats_next_gc_bytes",
			"go_memstats_sys_bytes", "go_memstats_heap_released_bytes", "go_memstats_stack_inuse_bytes"); err == nil {
			s.goroutines = int(m["go_goroutines"])
			s.heapInuse, s.heapObj = int64(m["go_memstats_heap_inuse_bytes"]), int64(m["go_memstats_heap_objects"])
			s.gcGoal = int64(m["go_memstats_next_gc_bytes"])
			s.retained = int64(m["go_memstats_sys_bytes"] - m["go_memstats_heap_released_bytes"])
			s.stacks = int64(m["go_memstats_stack_inuse_bytes"])
		}
		if dir := b.opts.botHeapDir; dir != "" {
			path := filepath.Join(dir, fmt.Sprintf("heap-%05d.pb.gz", int(s.at.Seconds())))
			if err := fetchPprof(ctx, base, "heap", path); err != nil {
				b.logf("soak %s: heap profile: %v", s.at, err)
			}
		}
		if rds != nil {
			if n, err := rds.usedMemory(ctx); err == nil {
				s.redisMem = n
			}
		}
		out = append(out, s)
		b.logf("soak %s: rss %.1f MB (anonymous %.1f, binary pages %.1f; Go runtime holds %.1f), heap in use %.1f MB in %d objects, GC goal %.1f MB, stacks %.1f MB, %d goroutines, %d updates confirmed, %d stuck so far, load %s",
			s.at, mb(s.rss), mb(s.rssAnon), mb(s.rssFile), mb(s.retained), mb(s.heapInuse), s.heapObj, mb(s.gcGoal), mb(s.stacks), s.goroutines, s.confirmed, b.soak.eventsNow(), s.load)
	}
	take()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			take()
		case <-stop:
			take()
			return out
		case <-ctx.Done():
			return out
		}
	}
}

func (s *soakStats) eventsNow() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events
}

// scrapeSeries reads some series of the bot's /metrics.
func scrapeSeries(ctx context.Context, url string, names ...string) (metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	return parseMetrics(resp.Body, names)
}

// procRSS is VmRSS of pid in bytes (0 when unreadable).
func procRSS(pid int) int64 { return procStatus(pid, "VmRSS:") }

// procStatus is the field of /proc/pid/status named name (a size in kB),
// in bytes; 0 when unreadable.
func procStatus(pid int, name string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, name); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// walkFlows keeps r walking flow after flow until the run stops it. In a
// soak run a stuck flow is given up: the resident sends /cancel until it
// sees the menu, then starts a new flow.
func (b *bench) walkFlows(ctx context.Context, r *resident) error {
	for {
		err := r.nextFlow(ctx)
		for errors.Is(err, errStuck) {
			_, err = r.step(ctx, "/cancel", r.say("/cancel"), prompt(nil, labelSuggest))
		}
		switch {
		case errors.Is(err, errStopped):
			return nil
		case err != nil:
			return err
		}
	}
}

// soakEnd measures, before the bot stops, the Redis keys of the residents'
// chats.
func (b *bench) soakEnd(ctx context.Context, rds *benchRedis, res *result) error {
	sr := res.soak
	b.soakStuck(res)
	if rds == nil {
		return nil
	}
	n := int64(b.opts.residents)
	use, err := rds.usage(ctx, func(id int64) bool { return id >= chatBase && residentOf(id) < n })
	if err != nil {
		return err
	}
	chats := 0 // every identity the residents used
	for _, r := range b.residents[:n] {
		chats += r.gen + 1
	}
	sr.chats, sr.keyUsage = chats, use
	return nil
}

// soakRows matches the rows in the database to the residents' flows: the
// text of each flow names its resident and round. Without PostgreSQL only
// the counts are compared.
func (b *bench) soakRows(ctx context.Context, dsn string, res *result) error {
	sr := res.soak
	sr.completed = res.allFlows
	type flowKey struct{ idx, round int }
	done := map[flowKey]bool{}
	gaveUp := map[flowKey]bool{}
	for _, r := range b.residents[:b.opts.residents] {
		for _, k := range r.done {
			done[flowKey{r.idx, k}] = true
		}
		for _, k := range r.gaveUp {
			gaveUp[flowKey{r.idx, k}] = true
		}
	}
	sr.abandoned = len(gaveUp)
	if dsn == "" {
		return nil
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("soak rows: %w", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "SELECT text FROM suggestions")
	if err != nil {
		return fmt.Errorf("soak rows: %w", err)
	}
	seen := map[flowKey]int{}
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return fmt.Errorf("soak rows: %w", err)
		}
		idx, round, ok := flowOfText(text)
		if !ok {
			sr.stray++
			continue
		}
		seen[flowKey{idx, round}]++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("soak rows: %w", err)
	}
	for k, n := range seen {
		switch {
		case done[k]:
			sr.doubled += n - 1
		case gaveUp[k]:
			sr.abandonRows += n
			sr.doubled += n - 1
		default:
			sr.stray += n
		}
	}
	for k := range done {
		if seen[k] == 0 {
			sr.lost++
		}
	}
	sr.rowsChecked = true
	return nil
}

// flowOfText reads the resident and round out of a flow's text («… شمارهٔ
// <idx> … (دور <round>)»): the first and the last number in it.
func flowOfText(text string) (idx, round int, ok bool) {
	var nums []int
	cur, in := 0, false
	for _, c := range text + " " {
		d := -1
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case c >= '۰' && c <= '۹':
			d = int(c - '۰')
		}
		if d >= 0 {
			cur, in = cur*10+d, true
			continue
		}
		if in {
			nums = append(nums, cur)
			cur, in = 0, false
		}
	}
	if len(nums) < 2 {
		return 0, 0, false
	}
	return nums[0], nums[len(nums)-1], true
}

// soakOK reports whether no completed flow lost its row or got two.
func (s *soakResult) rowsOK(rows, flows int64) bool {
	if s.rowsChecked {
		return s.lost == 0 && s.doubled == 0 && s.stray == 0
	}
	return rows >= flows && rows <= flows+int64(s.abandoned)
}

// lines is the soak part of the report.
func (r *result) soakLines() []string {
	s := r.soak
	var out []string
	out = append(out, fmt.Sprintf("stuck users (no reply within %s): %d of %d residents, %d stuck steps (target 0) — %s",
		r.opts.stepTimeout, s.stuckUsers, r.opts.residents, s.stuckEvents, verdict(s.stuckUsers == 0)))
	if len(s.stuckByStep) > 0 {
		var parts []string
		for _, name := range append(slices.Clone(stepNames), "/cancel") {
			if n := s.stuckByStep[name]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", name, n))
			}
		}
		out = append(out, "stuck steps by step: "+strings.Join(parts, ", "))
	}
	if s.rowsChecked {
		out = append(out, fmt.Sprintf("rows vs completed flows: %s flows completed, %d lost, %d doubled, %d stray (target 0) — %s; %d flows given up after confirm (%d of them stored)",
			thousands(float64(s.completed)), s.lost, s.doubled, s.stray, verdict(s.rowsOK(r.rows, r.allFlows)), s.abandoned, s.abandonRows))
	} else {
		out = append(out, fmt.Sprintf("rows vs completed flows: %d rows for %d completed flows and %d given up after confirm (counts only, not matched one by one without PostgreSQL) — %s",
			r.rows, s.completed, s.abandoned, verdict(s.rowsOK(r.rows, r.allFlows))))
	}
	out = append(out, fmt.Sprintf("injected: %s 5xx answers (share %.0f %%), %s 429s from the per-chat limits over the measured phase",
		thousands(float64(s.fail5xx)), r.opts.fail5xx*100, thousands(float64(r.tooMany))))
	if n := len(s.samples); n > 0 {
		first, last := s.samples[0], s.samples[n-1]
		maxRSS, maxG := int64(0), 0
		for _, x := range s.samples {
			maxRSS, maxG = max(maxRSS, x.rss), max(maxG, x.goroutines)
		}
		out = append(out, fmt.Sprintf("bot RSS start %.1f MB, end %.1f MB, max %.1f MB; goroutines start %d, end %d, max %d",
			mb(first.rss), mb(last.rss), mb(maxRSS), first.goroutines, last.goroutines, maxG))
		out = append(out, fmt.Sprintf("bot RSS split: anonymous (heap, stacks) start %.1f MB, end %.1f MB; the binary's pages read from disk start %.1f MB, end %.1f MB; Go runtime holds from the OS start %.1f MB, end %.1f MB",
			mb(first.rssAnon), mb(last.rssAnon), mb(first.rssFile), mb(last.rssFile), mb(first.retained), mb(last.retained)))
		out = append(out, fmt.Sprintf("bot Go heap in use start %.1f MB (%s objects), end %.1f MB (%s objects); GC goal (about twice the live heap) start %.1f MB, end %.1f MB",
			mb(first.heapInuse), thousands(float64(first.heapObj)), mb(last.heapInuse), thousands(float64(last.heapObj)), mb(first.gcGoal), mb(last.gcGoal)))
		if first.redisMem >= 0 {
			out = append(out, fmt.Sprintf("Redis used_memory start %.1f MB, end %.1f MB (the whole server: other users of it included)",
				mb(first.redisMem), mb(last.redisMem)))
		}
		out = append(out, fmt.Sprintf("load average (1, 5, 15 min) start %s, end %s", first.load, last.load))
		var series []string
		for _, x := range s.samples {
			series = append(series, fmt.Sprintf("%s %.0f/%.0f/%.0f MB/%d", x.at, mb(x.rss), mb(x.rssAnon), mb(x.heapInuse), x.goroutines))
		}
		out = append(out, "RSS/anonymous/heap in use/goroutines over the run: "+strings.Join(series, ", "))
	}
	if s.chats > 0 {
		u := s.keyUsage
		var sum int64
		for _, n := range u.bytes {
			sum += n
		}
		per := func(kind string) string {
			return fmt.Sprintf("%s B in %.2f keys", thousands(float64(u.bytes[kind])/float64(s.chats)), float64(u.keys[kind])/float64(s.chats))
		}
		out = append(out, fmt.Sprintf("Redis memory per chat at the end (MEMORY USAGE of the chat's keys, %d chats): %s B — state %s, dedup marks %s, other %s",
			s.chats, thousands(float64(sum)/float64(s.chats)), per("s"), per("u"), per("other")))
	}
	for i, d := range s.stuckSamples {
		out = append(out, fmt.Sprintf("stuck example %d: %s", i+1, strings.ReplaceAll(d, "\n", " | ")))
	}
	return out
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// soakCollect puts the samples into res.
func (b *bench) soakCollect(res *result, samples []soakSample) {
	res.soak.samples = samples
}

// soakStuck puts the stuck figures, once every resident stopped, into res.
func (b *bench) soakStuck(res *result) {
	sr, st := res.soak, b.soak
	sr.fail5xx = b.srv.ServerErrorCount()
	st.mu.Lock()
	defer st.mu.Unlock()
	sr.stuckEvents, sr.stuckUsers = st.events, len(st.users)
	sr.stuckByStep = maps.Clone(st.byStep)
	sr.stuckSamples = slices.Clone(st.samples)
}
