// Command mahalle runs the Mahalle bot.
//
//	mahalle            run the bot (configuration from the environment; see README.md);
//	                   with no bot token, open the playground in a browser instead
//	mahalle migrate    apply database migrations and exit
//	mahalle seed [--demo] [DIR] load reference data (embedded, or the CSV files in DIR), with --demo
//	                   the demo places («نمونه») too, and exit
//	mahalle roster import FILE.csv [--skip-invalid]
//	                   import a council roster and exit
//	mahalle export suggestions|actions
//	                   write them as CSV to standard output and exit
//	mahalle staff add|remove PHONE ROLE [PLACE], mahalle staff list [--all]
//	                   give or take a coordinator or admin role, or list them
//	mahalle outbox [STATUS] print the notices' delivery report
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

func main() {
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], system{Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now})
	stop()
	os.Exit(code)
}

// gcPercent is the bot's GOGC unless the environment sets one. The bot's
// live heap is small (10–15 MB under load) and its garbage short-lived:
// letting the heap grow twice as far before a collection collects half as
// often, for about 13 MB more memory (BENCHMARKS.md, session 6).
const gcPercent = 200

// tuneGC sets the collector's target to gcPercent, unless GOGC is set.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

// Exit codes.
const (
	exitOK     = 0
	exitFail   = 1 // a fault at run time (a backend down, the token refused)
	exitConfig = 2 // a missing or invalid setting, or bad usage
)

// system is what run takes from the process: tests pass their own.
type system struct {
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	Now    func() time.Time
}

// run is main without the process: tests call it with their own environment,
// output and clock. Configuration errors print one line naming the variable.
func run(ctx context.Context, args []string, sys system) int {
	getenv, stdout, stderr := sys.Getenv, sys.Stdout, sys.Stderr
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	if strings.HasPrefix(cmd, "-playground-addr") || strings.HasPrefix(cmd, "--playground-addr") {
		cmd, args = "run", append([]string{"run"}, args...)
	}
	switch cmd {
	case "", "run", "migrate", "seed", "roster", "export", "staff", "outbox":
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "mahalle: unknown command %q\n%s\n", cmd, usage)
		return exitConfig
	}
	if cmd == "roster" {
		// Usage is answered before anything is opened: asking for help
		// must not create a database.
		if wantsHelp(args[1:]) {
			fmt.Fprintln(stdout, rosterUsage)
			return exitOK
		}
		if _, _, ok := parseRosterArgs(args[1:]); !ok {
			fmt.Fprintln(stderr, rosterUsage)
			return exitConfig
		}
	}
	if cmd == "" || cmd == "run" {
		var runArgs []string
		if len(args) > 1 {
			runArgs = args[1:]
		}
		addr, err := parseRunArgs(runArgs)
		if err != nil {
			fmt.Fprintf(stderr, "mahalle: %v\n%s\n", err, usage)
			return exitConfig
		}
		if noToken(getenv) && getenv("DATABASE_URL") == "" && getenv("REDIS_URL") == "" {
			return runPlayground(ctx, sys, addr)
		}
	}
	cfg, err := loadConfig(getenv, cmd == "" || cmd == "run")
	if err != nil {
		fmt.Fprintln(stderr, "mahalle: "+err.Error())
		return exitConfig
	}
	log := newLogger(cfg, stderr)
	app, err := open(ctx, cfg, log, sys.Now)
	if err != nil {
		log.Error("cannot start", slog.Any("err", err))
		return exitFail
	}
	defer app.close()

	switch cmd {
	case "migrate":
		log.Info("migrations applied")
		return exitOK
	case "seed":
		dir, demo := "", false
		for _, a := range args[1:] {
			if a == "--demo" || a == "-demo" {
				demo = true
			} else {
				dir = a
			}
		}
		if err := app.seed(ctx, dir, demo); err != nil {
			log.Error("seed failed", slog.Any("err", err))
			return exitFail
		}
		log.Info("reference data loaded")
		return exitOK
	case "roster":
		return app.roster(ctx, args[1:], stdout, stderr)
	case "export":
		return app.export(ctx, args[1:], stdout, stderr)
	case "staff":
		return app.staff(ctx, args[1:], stdout, stderr)
	case "outbox":
		return app.outbox(ctx, args[1:], stdout, stderr)
	}
	if err := app.serve(ctx); err != nil {
		if errors.Is(err, errUnauthorized) {
			fmt.Fprintln(stderr, "mahalle: "+err.Error())
		} else {
			log.Error("stopped", slog.Any("err", err))
		}
		return exitFail
	}
	return exitOK
}

const usage = `usage: mahalle [command]

commands:
  (none), run [-playground-addr HOST:PORT]
                run the bot; with no TELEGRAM_TOKEN or BALE_TOKEN, open the
                playground (a local chat in the browser, demo data, no
                internet) on PLAYGROUND_ADDR, default 127.0.0.1:8088
  migrate       apply database migrations and exit
  seed [--demo] [DIR]
                load reference data (the embedded lists, or the CSV files in DIR) and exit;
                --demo adds demo places («نمونه») for trying the bot, never for a real install
  roster import FILE.csv [--skip-invalid]
                import a council roster and exit
  export suggestions|actions
                write every suggestion or action as CSV to standard output and exit
  staff add|remove PHONE ROLE [PLACE], staff list [--all]
                give or take a county/province coordinator or admin role, or list them
  outbox [STATUS]
                print the notices' delivery report

Configuration comes from the environment; see README.md.`

func newLogger(cfg *config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
