// Command mahalle-bench measures the Mahalle bot end to end: it runs the bot
// as a subprocess against the fake Bot API server (bot/bottest) in its own
// process, and drives simulated residents through the whole suggestion flow.
//
//	go run ./cmd/mahalle-bench [flags]
//
// It prints updates handled per second, reply latency (p50/p95/p99/max),
// Redis round trips and commands per update, allocations per update in the
// bot, rows written, Redis memory per open conversation (real Redis only), the
// CPU each process used, and PASS/FAIL against the targets. With -record it
// also appends the figures to BENCHMARKS.md.
//
// Backends: -database-url (default $BENCH_DATABASE_URL) is a PostgreSQL URL
// through which a fresh database is created and dropped at the end;
// -redis-url (default $BENCH_REDIS_URL) a Redis the run shares under its own
// key prefix, deleted at the end. Unset, the bot uses its embedded SQLite
// and in-process Redis.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command's flags.
type options struct {
	residents   int
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	open        int
	photoEvery  int
	think       time.Duration
	jitter      float64
	tgLimits    bool
	soak        bool          // issue 10's soak run (soak.go)
	fail5xx     float64       // share of the bot's calls the fake Bot API fails with a 5xx
	replicas    int           // bots in webhook mode behind a balancer (replicas.go); 1: one poller
	killOne     time.Duration // kill one replica with SIGKILL this long into the measured phase (0: none)
	bin         string
	databaseURL string
	redisURL    string
	record      bool
	recordFile  string
	cpuProfile  string
	botProfile  string
	botHeapDir  string
	botLog      string
	botEnv      envList
	timeout     time.Duration
	stepTimeout time.Duration
	command     string // the command line, for the report
}

// parseFlags reads args; getenv supplies the BENCH_* defaults.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("mahalle-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.residents, "residents", 2000, "simulated residents walking the suggestion flow at once")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "measure a window this long while residents walk flow after flow")
	fs.IntVar(&o.rounds, "rounds", 0, "instead of -duration: every resident completes this many whole flows, all measured")
	fs.DurationVar(&o.warmup, "warmup", 5*time.Second, "warm-up before the measured phase, excluded from the figures (with -rounds, residents finish the flow they are in)")
	fs.IntVar(&o.open, "open", 500, "residents left mid-flow to measure Redis memory per open conversation, real Redis only (0: skip)")
	fs.IntVar(&o.photoEvery, "photo-every", 10, "every N-th resident sends one photo instead of skipping the photo step (0: none)")
	fs.DurationVar(&o.think, "think", 0, "pause between a reply and the resident's next answer (0: answer at once)")
	fs.Float64Var(&o.jitter, "think-jitter", 0, "with -think: each pause is drawn uniformly within ± this share of -think (0.5: 1 to 3 s for 2 s), as people differ; 0 keeps every resident in step")
	fs.BoolVar(&o.tgLimits, "tglimits", false, "the fake Bot API answers 429 as Telegram does for one chat: about 1 message/s with bursts of 3, edits included")
	fs.BoolVar(&o.soak, "soak", false, "issue 10's soak run: a resident with no reply within -step-timeout is counted as stuck and starts over instead of stopping the run; rows are matched to flows, the bot's RSS and goroutines and Redis memory per chat are reported; implies -tglimits and, unless given, -residents 500 -duration 10m -fail5xx 0.05")
	fs.Float64Var(&o.fail5xx, "fail5xx", 0, "share of the bot's calls (sends, edits, callback answers, getUpdates, getFile) the fake Bot API fails with 502/500/503, 0 to 1")
	fs.IntVar(&o.replicas, "replicas", 1, "run this many bots in webhook mode behind a balancer on the same PostgreSQL and Redis (needs both); rows are matched to flows and each chat's prompts checked for order")
	fs.DurationVar(&o.killOne, "kill-one", 0, "with -replicas: kill one replica with SIGKILL this long into the measured phase")
	fs.StringVar(&o.bin, "bin", "", "the mahalle binary to run (default: go build ./cmd/mahalle into a temporary folder)")
	fs.StringVar(&o.databaseURL, "database-url", getenv("BENCH_DATABASE_URL"), "PostgreSQL URL to create the run's database through (default $BENCH_DATABASE_URL; empty: embedded SQLite)")
	fs.StringVar(&o.redisURL, "redis-url", getenv("BENCH_REDIS_URL"), "Redis URL (default $BENCH_REDIS_URL; empty: the bot's in-process Redis)")
	fs.BoolVar(&o.record, "record", false, "append the figures to BENCHMARKS.md")
	fs.StringVar(&o.recordFile, "record-file", "", "where -record appends (default: BENCHMARKS.md at the module root)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the bench process (fake Bot API + residents) over the measured phase")
	fs.StringVar(&o.botProfile, "bot-cpuprofile", "", "write a CPU profile of the bot over the measured phase (-duration only), from its /debug/pprof (PPROF=1)")
	fs.StringVar(&o.botHeapDir, "bot-heapprofiles", "", "with -soak: write the bot's heap profile into this folder at every sample (heap-SECONDS.pb.gz)")
	fs.StringVar(&o.botLog, "bot-log", "", "write the bot's output (its last 64 KB: the lines at warn or error the report counts) into this file after the run")
	fs.Var(&o.botEnv, "bot-env", "KEY=VALUE added to the bot's environment, for a diagnostic run (repeatable; the report lists them)")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "stop the run after this long (the bot build is not counted)")
	fs.DurationVar(&o.stepTimeout, "step-timeout", 30*time.Second, "a reply later than this stops the run")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	applySoakDefaults(o, set)
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.residents < 1:
		return nil, errors.New("-residents must be at least 1")
	case set["rounds"] && set["duration"]:
		return nil, errors.New("give -rounds or -duration, not both")
	case set["rounds"] && o.rounds < 1:
		return nil, errors.New("-rounds must be at least 1")
	case o.rounds == 0 && o.duration <= 0:
		return nil, errors.New("-duration must be positive")
	case o.photoEvery < 0, o.think < 0, o.warmup < 0, o.duration < 0, o.open < 0:
		return nil, errors.New("-photo-every, -think, -warmup, -duration and -open cannot be negative")
	case o.replicas < 1:
		return nil, errors.New("-replicas must be at least 1")
	case o.killOne < 0 || o.killOne > 0 && o.replicas < 2:
		return nil, errNoReplicas
	case o.replicas > 1 && (o.databaseURL == "" || o.redisURL == ""):
		return nil, errors.New("-replicas needs -database-url and -redis-url: replicas share one PostgreSQL and one Redis")
	case o.replicas > 1 && o.rounds > 0:
		return nil, errors.New("-replicas runs for -duration, not -rounds")
	case o.jitter < 0 || o.jitter > 1 || o.jitter > 0 && o.think == 0:
		return nil, errors.New("-think-jitter is a share from 0 to 1, with -think")
	case o.fail5xx < 0 || o.fail5xx > 1:
		return nil, errors.New("-fail5xx is a share from 0 to 1")
	case o.soak && o.rounds > 0:
		return nil, errors.New("-soak runs for -duration, not -rounds")
	case o.timeout <= 0 || o.stepTimeout <= 0:
		return nil, errors.New("-timeout and -step-timeout must be positive")
	case o.botHeapDir != "" && !o.soak:
		return nil, errors.New("-bot-heapprofiles needs -soak")
	case o.botProfile != "" && o.rounds > 0:
		return nil, errors.New("-bot-cpuprofile needs -duration, not -rounds")
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	o.command = strings.TrimSpace("go run ./cmd/mahalle-bench " + strings.Join(quoted, " "))
	return o, nil
}

// run is main without the process; it returns the exit code: 0 when the
// run completed and every completed flow wrote one row (targets missed are
// reported, not an error), 1 when the run failed, 2 on bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, os.Getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		fmt.Fprintln(stderr, "mahalle-bench:", err)
		return 2
	}
	res, err := runBench(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "mahalle-bench:", err)
		return 1
	}
	res.writeText(stdout)
	code := 0
	if !res.rowsOK() {
		fmt.Fprintf(stderr, "mahalle-bench: %d rows written for %d completed flows\n", res.rows, res.allFlows)
		code = 1
	}
	if o.record {
		path := o.recordFile
		if path == "" {
			root, err := moduleRoot(ctx)
			if err != nil {
				fmt.Fprintln(stderr, "mahalle-bench: -record:", err)
				return 1
			}
			path = filepath.Join(root, "BENCHMARKS.md")
		}
		if err := res.appendRecord(path); err != nil {
			fmt.Fprintln(stderr, "mahalle-bench: -record:", err)
			return 1
		}
		fmt.Fprintln(stderr, "mahalle-bench: appended to", path)
	}
	return code
}

// envList is the value of -bot-env: KEY=VALUE pairs.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

// shellQuote quotes a for a POSIX shell when it needs it, so the command
// line in the report can be pasted back.
func shellQuote(a string) string {
	if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@,+%") == "" {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}
