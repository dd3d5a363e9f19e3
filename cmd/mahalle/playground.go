package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
	"github.com/mahalle/mahalle/models"
	"github.com/mahalle/mahalle/persian"
	"github.com/mahalle/mahalle/playground"
)

// defaultPlaygroundAddr is where the playground's page listens unless
// PLAYGROUND_ADDR or -playground-addr says otherwise.
const defaultPlaygroundAddr = "127.0.0.1:8088"

// playgroundToken is the token the in-process Bot API server accepts; it
// never leaves the process.
const playgroundToken = "100000001:playground-local-token"

// noToken reports whether no bot token is configured at all.
func noToken(getenv func(string) string) bool {
	for _, v := range []string{"TELEGRAM_TOKEN", "TELEGRAM_TOKEN_FILE", "BALE_TOKEN", "BALE_TOKEN_FILE"} {
		if getenv(v) != "" {
			return false
		}
	}
	return true
}

// parseRunArgs reads the flags of `mahalle run`: only -playground-addr.
func parseRunArgs(args []string) (string, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("playground-addr", "", "address of the playground's page")
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return *addr, nil
}

// wantsHelp reports whether args ask for usage.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help", "help":
			return true
		}
	}
	return false
}

// loopback reports whether host names this machine only.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// runPlayground runs the bot against a Bot API server inside the process,
// on a fresh SQLite file in a temporary directory and an in-process Redis,
// with demo data, and serves the page that plays its users. flagAddr
// (from -playground-addr) wins over PLAYGROUND_ADDR.
func runPlayground(ctx context.Context, sys system, flagAddr string) int {
	getenv, stderr := sys.Getenv, sys.Stderr
	cfg, err := loadConfig(getenv, false)
	if err != nil {
		fmt.Fprintln(stderr, "mahalle: "+err.Error())
		return exitConfig
	}
	addr, explicit := defaultPlaygroundAddr, false
	if v := getenv("PLAYGROUND_ADDR"); v != "" {
		addr, explicit = v, true
	}
	if flagAddr != "" {
		addr, explicit = flagAddr, true
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		fmt.Fprintf(stderr, "mahalle: PLAYGROUND_ADDR: %q is not host:port, e.g. %s\n", addr, defaultPlaygroundAddr)
		return exitConfig
	}
	log := newLogger(cfg, stderr)
	if explicit && !loopback(host) {
		log.Warn("PLAYGROUND: the page is reachable from other machines; anyone who can reach it can act as every demo user", slog.String("addr", addr))
	}

	// A fresh directory for each run, under DATA_DIR when it is set, so
	// the demo never touches a real mahalle.db.
	parent := ""
	if getenv("DATA_DIR") != "" {
		parent = cfg.DataDir
	}
	dir, err := os.MkdirTemp(parent, "mahalle-playground-")
	if err != nil {
		log.Error("cannot start the playground", slog.Any("err", err))
		return exitFail
	}
	defer os.RemoveAll(dir)
	api := bottest.NewServer(bottest.WithToken(playgroundToken), bottest.WithBotUser(100000001, "mahalle_playground_bot"))
	defer api.Close()
	cfg.DataDir = dir
	cfg.TelegramToken, cfg.TelegramEndpoint = playgroundToken, api.Endpoint()
	cfg.BaleToken = ""
	admin, _ := persian.ParseMobile(playground.AdminPhone()) // a fixed, valid number
	cfg.AdminPhones = append(cfg.AdminPhones, admin)
	// Quiet hours would hold alerts back at night: in the playground every
	// notice goes out at once.
	cfg.QuietHours = models.QuietHours{}

	app, err := open(ctx, cfg, log, sys.Now)
	if err != nil {
		log.Error("cannot start", slog.Any("err", err))
		return exitFail
	}
	defer app.close()
	if err := app.store.Seed(ctx, models.SeedFS()); err != nil {
		log.Error("playground: reference data", slog.Any("err", err))
		return exitFail
	}
	if err := playground.Seed(ctx, app.store, api, sys.Now(), grantCoordinator(app.store)); err != nil {
		log.Error("playground: demo data", slog.Any("err", err))
		return exitFail
	}

	page := playground.New(api, log, sys.Now)
	defer page.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("playground: cannot listen", slog.String("addr", addr), slog.Any("err", err))
		return exitFail
	}
	srv := &http.Server{Handler: page.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("playground page", slog.Any("err", err))
		}
	}()
	defer func() {
		page.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	url := "http://" + ln.Addr().String() + "/"
	log.Warn("PLAYGROUND: no TELEGRAM_TOKEN or BALE_TOKEN is set, so Mahalle runs against a Bot API server inside this process with demo data (deleted on exit); nothing reaches Telegram or Bale",
		slog.String("open", url))
	log.Warn("PLAYGROUND: to run for real, set a token: TELEGRAM_TOKEN=123456789:AA... go run ./cmd/mahalle (or BALE_TOKEN=...); see README.md")
	fmt.Fprintf(stderr, "\n  زمین بازی «محله» آماده است — playground ready: %s\n\n", url)

	if err := app.serve(ctx); err != nil {
		log.Error("stopped", slog.Any("err", err))
		return exitFail
	}
	return exitOK
}

// grantCoordinator makes a persona the coordinator of a county, active at
// once: the assignment, then the persona's account linked by its phone, as
// sharing their contact would.
func grantCoordinator(store *models.Store) playground.GrantCoordinator {
	return func(ctx context.Context, p playground.Persona, countyName string) error {
		provinces, err := store.Provinces(ctx)
		if err != nil {
			return err
		}
		for _, pr := range provinces {
			counties, err := store.Counties(ctx, pr.ID)
			if err != nil {
				return err
			}
			for _, c := range counties {
				if c.Name != countyName {
					continue
				}
				if _, err := store.AssignStaff(ctx, models.ActorCLI, models.StaffRequest{Phone: p.Phone, Role: models.RoleCounty, CountyID: c.ID}); err != nil {
					return err
				}
				_, _, err := store.LinkPhone(ctx, playground.Platform, p.UserID, p.UserID, p.Phone)
				return err
			}
		}
		return fmt.Errorf("playground: no county %q", countyName)
	}
}
