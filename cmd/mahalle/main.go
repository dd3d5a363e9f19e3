// Command mahalle runs the Mahalle bot.
//
//	mahalle            run the bot (configuration from the environment; see README.md)
//	mahalle migrate    apply database migrations and exit
//	mahalle seed [DIR] load reference data (embedded, or the CSV files in DIR) and exit
//	mahalle roster import FILE.csv [--skip-invalid]
//	                   import a council roster and exit
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
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], system{Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now})
	stop()
	os.Exit(code)
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
	switch cmd {
	case "", "run", "migrate", "seed", "roster", "staff", "outbox":
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "mahalle: unknown command %q\n%s\n", cmd, usage)
		return exitConfig
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
		dir := ""
		if len(args) > 1 {
			dir = args[1]
		}
		if err := app.seed(ctx, dir); err != nil {
			log.Error("seed failed", slog.Any("err", err))
			return exitFail
		}
		log.Info("reference data loaded")
		return exitOK
	case "roster":
		return app.roster(ctx, args[1:], stdout, stderr)
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
  (none), run   run the bot
  migrate       apply database migrations and exit
  seed [DIR]    load reference data (the embedded lists, or the CSV files in DIR) and exit
  roster import FILE.csv [--skip-invalid]
                import a council roster and exit
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
