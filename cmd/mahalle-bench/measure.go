package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// counter and maxInt are shared by the residents' goroutines.
type counter struct{ n atomic.Int64 }

func (c *counter) add(d int64) { c.n.Add(d) }
func (c *counter) load() int64 { return c.n.Load() }

type maxInt struct{ n atomic.Int64 }

func (m *maxInt) raise(v int) {
	for {
		old := m.n.Load()
		if int64(v) <= old || m.n.CompareAndSwap(old, int64(v)) {
			return
		}
	}
}

func (m *maxInt) load() int { return int(m.n.Load()) }

// The bot's Prometheus series the bench reads, summed over their labels.
const (
	mUpdatesHandled = "mahalle_updates_handled_total"
	mUpdatesFailed  = "mahalle_updates_failed_total"
	// mUpdatesRetried is the part of mUpdatesFailed with reason retry_*: an
	// attempt that failed and was tried again (the update was not lost).
	mUpdatesRetried = "mahalle_updates_failed_total:retried"
	mRoundTrips     = "mahalle_redis_roundtrips_total"
	mCommands       = "mahalle_redis_commands_total"
	mSends          = "mahalle_sends_total"
	mRetries        = "mahalle_send_retries_total"
	m429            = "mahalle_send_429_total"
	mMallocs        = "go_memstats_mallocs_total"
	mCPU            = "process_cpu_seconds_total"
)

var scraped = []string{mUpdatesHandled, mUpdatesFailed, mRoundTrips, mCommands, mSends, mRetries, m429, mMallocs, mCPU}

// metrics are the values of one scrape of the bot's /metrics.
type metrics map[string]float64

// scrape reads the bot's /metrics (Prometheus text format) and sums each
// series of interest over its labels. A series missing from the answer is
// an error: the bot's metrics changed and the figures would be wrong.
func scrape(ctx context.Context, url string) (metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	return parseMetrics(resp.Body, scraped)
}

// parseMetrics sums the samples of each wanted metric over their labels.
// A series with a HELP line and no sample counts as 0; a series not in the
// answer at all is left out of the map.
func parseMetrics(r io.Reader, want []string) (metrics, error) {
	m := metrics{}
	known := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, _, _ := strings.Cut(rest, " ")
			known[name] = true
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		if !slices.Contains(want, name) {
			continue
		}
		if strings.HasPrefix(rest, "{") {
			end := strings.LastIndexByte(rest, '}')
			if end < 0 {
				return nil, fmt.Errorf("metrics: bad line %q", line)
			}
			if name == mUpdatesFailed && strings.Contains(rest[:end], `reason="retry_`) {
				name = mUpdatesRetried
			}
			rest = rest[end+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("metrics: no value in %q", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: bad value in %q: %w", line, err)
		}
		m[name] += v
		known[name] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	for _, name := range want {
		if _, ok := m[name]; !ok && known[name] {
			m[name] = 0
		}
	}
	return m, nil
}

// missing names the wanted series absent from m. A vector nobody has
// incremented yet is absent too, so this is checked only after updates.
func (m metrics) missing(want ...string) error {
	for _, name := range want {
		if _, ok := m[name]; !ok {
			return fmt.Errorf("metrics: the bot does not export %s", name)
		}
	}
	return nil
}

// delta is after minus before, per series.
func (m metrics) delta(before metrics) metrics {
	d := metrics{}
	for k, v := range m {
		d[k] = v - before[k]
	}
	return d
}

// clockTick is USER_HZ, the unit of /proc's CPU times; 100 on every Linux
// the bench runs on (it is fixed in the kernel's ABI for x86 and arm64).
const clockTick = 100

// cpuSample is the CPU time, in seconds, used so far by the processes that
// share the machine during a run.
type cpuSample struct {
	ok       bool
	bot      float64 // the bot process
	bench    float64 // this process: the fake Bot API and the residents
	redis    float64 // every redis-server process
	postgres float64 // every postgres process (server and backends)
	busy     float64 // the whole machine, all CPUs: neither idle nor stolen
	steal    float64 // the whole machine: time the hypervisor gave to other guests
	total    float64 // the whole machine, all CPUs
}

// sub is s minus before.
func (s cpuSample) sub(before cpuSample) cpuSample {
	return cpuSample{
		ok:  s.ok && before.ok,
		bot: s.bot - before.bot, bench: s.bench - before.bench,
		redis: s.redis - before.redis, postgres: s.postgres - before.postgres,
		busy: s.busy - before.busy, steal: s.steal - before.steal, total: s.total - before.total,
	}
}

// sampleCPU reads /proc. redis-server and postgres are counted whoever they
// work for: on a machine shared with other users of the same servers the
// figures include those. A postgres backend that ends between two samples
// is counted through the postmaster's reaped-children time; one that starts
// and ends is counted whole.
func sampleCPU(botPID int) cpuSample {
	var s cpuSample
	var err error
	if s.bot, err = procCPU(strconv.Itoa(botPID)); err != nil {
		return s
	}
	if s.bench, err = procCPU("self"); err != nil {
		return s
	}
	if s.busy, s.steal, s.total, err = machineCPU(); err != nil {
		return s
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		comm, err := os.ReadFile(filepath.Join(d, "comm"))
		if err != nil {
			continue // gone already
		}
		switch strings.TrimSpace(string(comm)) {
		case "redis-server":
			if v, err := procCPU(filepath.Base(d)); err == nil {
				s.redis += v
			}
		case "postgres":
			// The postmaster forks a backend per connection and reaps it:
			// the time of backends gone is in its children's time.
			if v, err := procCPUWithChildren(filepath.Base(d)); err == nil {
				s.postgres += v
			}
		}
	}
	s.ok = true
	return s
}

// procCPU is a process's user plus system time, from /proc/<pid>/stat.
func procCPU(pid string) (float64, error) {
	f, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	return (f[0] + f[1]) / clockTick, nil
}

// procCPUWithChildren adds the time of the children it has reaped.
func procCPUWithChildren(pid string) (float64, error) {
	f, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	return (f[0] + f[1] + f[2] + f[3]) / clockTick, nil
}

// procStat reads utime, stime, cutime and cstime from /proc/<pid>/stat.
func procStat(pid string) ([4]float64, error) {
	var t [4]float64
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return t, err
	}
	// The command name may hold spaces and parentheses: fields start after the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return t, errors.New("proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return t, errors.New("proc stat: short line")
	}
	for j := range t {
		// utime is field 14 of the whole line, the 12th after the name.
		if t[j], err = strconv.ParseFloat(f[11+j], 64); err != nil {
			return t, errors.New("proc stat: bad times")
		}
	}
	return t, nil
}

// machineCPU returns the busy, stolen and total CPU time of all CPUs, from
// /proc/stat.
func machineCPU() (busy, steal, total float64, err error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0, 0, 0, err
	}
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, 0, 0, errors.New("proc stat: no cpu line")
	}
	// user nice system idle iowait irq softirq steal (guest time is inside user)
	for i, v := range fields[1:9] {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, 0, 0, err
		}
		total += n
		switch i {
		case 3, 4: // idle, iowait
		case 7:
			steal += n
		default:
			busy += n
		}
	}
	return busy / clockTick, steal / clockTick, total / clockTick, nil
}

// machine describes where the bench ran.
type machine struct {
	CPUs     int
	CPUModel string
	Kernel   string
	Go       string
	Database string
	Redis    string
	Tuning   string // GOGC, GOMAXPROCS... passed to the bot
}

func machineFacts() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), CPUModel: "unknown", Kernel: runtime.GOOS}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

// latencies are the measured reply times, sorted.
type latencies []time.Duration

// quantile is the q-quantile (nearest rank); 0 when empty.
func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	i := int(float64(len(l))*q+0.999999) - 1
	return l[min(max(i, 0), len(l)-1)]
}
