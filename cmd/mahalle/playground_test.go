package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPlaygroundRefusesRealBackends(t *testing.T) {
	for _, env := range []map[string]string{
		{"DATABASE_URL": "postgres://u@db:5432/m"},
		{"REDIS_URL": "redis://cache:6379/0"},
	} {
		var stdout, stderr bytes.Buffer
		if got := run(context.Background(), nil, testSystem(env, &stdout, &stderr)); got != exitConfig {
			t.Fatalf("%v: exit = %d, want %d\n%s", env, got, exitConfig, stderr.String())
		}
		out := stderr.String()
		for _, want := range []string{"mahalle: TELEGRAM_TOKEN", "BALE_TOKEN", "unset DATABASE_URL and REDIS_URL", "playground"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: stderr %q does not contain %q", env, out, want)
			}
		}
	}
}

func TestPlaygroundBadAddress(t *testing.T) {
	for _, args := range [][]string{nil, {"run"}, {"-playground-addr", "8088"}} {
		env := map[string]string{}
		if args == nil || len(args) == 1 {
			env["PLAYGROUND_ADDR"] = "8088"
		}
		var stdout, stderr bytes.Buffer
		if got := run(context.Background(), args, testSystem(env, &stdout, &stderr)); got != exitConfig || !strings.HasPrefix(stderr.String(), "mahalle: PLAYGROUND_ADDR") {
			t.Errorf("%q: exit %d, stderr %q; want %d naming PLAYGROUND_ADDR", args, got, stderr.String(), exitConfig)
		}
	}
	var stdout, stderr bytes.Buffer
	if got := run(context.Background(), []string{"run", "-playground-addr"}, testSystem(nil, &stdout, &stderr)); got != exitConfig {
		t.Errorf("a flag without its value: exit %d, want %d", got, exitConfig)
	}
}

func TestLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "localhost": true, "::1": true, "127.0.0.2": true,
		"0.0.0.0": false, "": false, "::": false, "192.168.1.5": false, "example.org": false,
	} {
		if got := loopback(host); got != want {
			t.Errorf("loopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// Asking for help answers at once, exits 0 and creates no database.
func TestRosterHelpCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, args := range [][]string{{"roster", "import", "--help"}, {"roster", "-h"}, {"roster", "import", "x.csv", "-help"}} {
		var stdout, stderr bytes.Buffer
		if got := run(context.Background(), args, testSystem(nil, &stdout, &stderr)); got != exitOK {
			t.Errorf("%q: exit %d, want 0; stderr %s", args, got, stderr.String())
		}
		for _, want := range []string{"usage: mahalle roster import", "عمران و خدمات محلی", "docs/roster-sample.csv", "DATA_DIR"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("%q: help does not mention %q:\n%s", args, want, stdout.String())
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("help left files behind: %v", entries)
	}
	// Bad usage is also answered before a database is opened.
	var stdout, stderr bytes.Buffer
	if got := run(context.Background(), []string{"roster", "import"}, testSystem(nil, &stdout, &stderr)); got != exitConfig {
		t.Errorf("roster import with no file: exit %d, want %d", got, exitConfig)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("bad usage left files behind: %v", entries)
	}
}

// The sample roster README.md points to imports cleanly.
func TestRosterSampleImports(t *testing.T) {
	env := backendEnv(t)
	if code, out, errOut := runRoster(t, env, "import", "../../docs/roster-sample.csv"); code != exitOK || !strings.Contains(out, "5 created") {
		t.Errorf("sample roster: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// The playground keeps its demo database in a fresh directory under
// DATA_DIR, never in DATA_DIR/mahalle.db, and removes it on exit.
func TestPlaygroundLeavesDataDirAlone(t *testing.T) {
	dataDir := t.TempDir()
	real := filepath.Join(dataDir, "mahalle.db")
	if err := os.WriteFile(real, []byte("not touched"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int, 1)
	env := map[string]string{"DATA_DIR": dataDir, "PLAYGROUND_ADDR": "127.0.0.1:0", "HTTP_ADDR": "127.0.0.1:0"}
	go func() { done <- run(ctx, nil, testSystem(env, &out, &out)) }()
	deadline := time.Now().Add(waitTimeout)
	for !strings.Contains(out.String(), "bot: polling started") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the playground did not start:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a log: nothing to wait on
	}
	dirs, _ := filepath.Glob(filepath.Join(dataDir, "mahalle-playground-*", "mahalle.db"))
	if len(dirs) != 1 {
		t.Errorf("demo databases under DATA_DIR = %v, want one in a fresh directory", dirs)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit = %d\n%s", code, out.String())
	}
	if b, err := os.ReadFile(real); err != nil || string(b) != "not touched" {
		t.Errorf("DATA_DIR/mahalle.db = %q, %v; want it untouched", b, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dataDir, "mahalle-playground-*")); len(left) != 0 {
		t.Errorf("the demo directory was not removed: %v", left)
	}
}
