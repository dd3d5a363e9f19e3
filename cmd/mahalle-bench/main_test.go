package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the whole benchmark with five residents for one round: the
// bot is built and run as a subprocess against the fake Bot API, on the
// embedded backends, or on TEST_DATABASE_URL / TEST_REDIS_URL when set.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bot")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	args := []string{"-residents", "5", "-rounds", "1", "-warmup", "0", "-photo-every", "2", "-open", "5",
		"-database-url", os.Getenv("TEST_DATABASE_URL"), "-redis-url", os.Getenv("TEST_REDIS_URL")}
	var stdout, stderr bytes.Buffer
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	t.Log(out)
	rows := regexp.MustCompile(`rows written\s+(\d+) \(completed flows: (\d+)\)`).FindStringSubmatch(out)
	if rows == nil {
		t.Fatalf("no rows written line in:\n%s", out)
	}
	if got, want := rows[1], "5"; got != want {
		t.Errorf("rows written = %s, want %s (one per resident)\n%s", got, want, out)
	}
	if got, want := rows[2], "5"; got != want {
		t.Errorf("completed flows = %s, want %s\n%s", got, want, out)
	}
	for _, want := range []string{
		"updates handled per second", "latency p50 / p95 / p99 / max", "Redis round trips per update",
		"Redis commands per update", "allocations per update (bot process)", "Redis memory per open conversation",
		"CPU per update: bot", "latency by step", "confirm", "machine:", "default send limits", "grammY",
		"issue 12: bot CPU per update", "issue 12: Bot API calls per update", "issue 12: 429s the bot caused",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	// 5 residents × 1 flow × 12 or 11 updates (every other resident sends a photo).
	if m := regexp.MustCompile(`measured: (\d+) updates`).FindStringSubmatch(out); m == nil || m[1] != "58" {
		t.Errorf("measured updates = %v, want 58:\n%s", m, out)
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP mahalle_updates_handled_total Updates handled without error.
# TYPE mahalle_updates_handled_total counter
mahalle_updates_handled_total{kind="message",platform="tg"} 10
mahalle_updates_handled_total{kind="callback_query",platform="tg"} 5.5
# HELP mahalle_updates_failed_total Updates that failed.
# TYPE mahalle_updates_failed_total counter
mahalle_updates_failed_total{kind="message",platform="tg",reason="retry_error"} 3
mahalle_updates_failed_total{kind="message",platform="tg",reason="panic"} 1
# HELP go_memstats_mallocs_total Total number of heap objects allocated.
go_memstats_mallocs_total 1.234e+06
mahalle_redis_roundtrips_total 7
`
	got, err := parseMetrics(strings.NewReader(text), []string{mUpdatesHandled, mUpdatesFailed, mMallocs, mRoundTrips, mCPU})
	if err != nil {
		t.Fatal(err)
	}
	want := metrics{mUpdatesHandled: 15.5, mUpdatesFailed: 1, mUpdatesRetried: 3, mMallocs: 1234000, mRoundTrips: 7}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got[mCPU]; ok {
		t.Errorf("%s present, want absent", mCPU)
	}
	if err := got.missing(mCPU); err == nil {
		t.Errorf("missing(%s) = nil, want an error", mCPU)
	}
	if _, err := parseMetrics(strings.NewReader("mahalle_redis_roundtrips_total{a=\"b\"}\n"), []string{mRoundTrips}); err == nil {
		t.Errorf("a line without a value parsed")
	}
}

func TestQuantile(t *testing.T) {
	l := latencies{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		q    float64
		want time.Duration
	}{{0.5, 5}, {0.95, 10}, {0.99, 10}, {1, 10}, {0.1, 1}, {0, 1}}
	for _, tt := range tests {
		if got := l.quantile(tt.q); got != tt.want {
			t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := latencies(nil).quantile(0.5); got != 0 {
		t.Errorf("empty quantile = %v, want 0", got)
	}
}

func TestKeyChat(t *testing.T) {
	tests := []struct {
		key      string
		wantID   int64
		wantOK   bool
		wantKind string
	}{
		{"bench1:{tg:5000000001}:s:5000000001", 5000000001, true, "s"},
		{"bench1:{tg:5000000001}:u:42", 5000000001, true, "u"},
		{"bench1:{tg:-100}:b", -100, true, "other"},
		{"bench1:global", 0, false, "other"},
		{"bench1:{tg:x}:s:1", 0, false, "s"},
	}
	for _, tt := range tests {
		id, ok := keyChat(tt.key)
		if id != tt.wantID || ok != tt.wantOK {
			t.Errorf("keyChat(%q) = %d, %v; want %d, %v", tt.key, id, ok, tt.wantID, tt.wantOK)
		}
		if got := keyKind(tt.key); got != tt.wantKind {
			t.Errorf("keyKind(%q) = %q, want %q", tt.key, got, tt.wantKind)
		}
	}
}

func TestFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"rounds and duration", []string{"-rounds", "2", "-duration", "5s"}, "not both"},
		{"no residents", []string{"-residents", "0"}, "-residents"},
		{"zero rounds", []string{"-rounds", "0"}, "-rounds"},
		{"negative think", []string{"-think", "-1s"}, "negative"},
		{"stray argument", []string{"now"}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(context.Background(), tt.args, &stdout, &stderr); got != 2 {
				t.Fatalf("exit code = %d, want 2; stderr: %s", got, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr = %q, want it to mention %q", stderr.String(), tt.want)
			}
		})
	}
}

func TestThousands(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{0, "0"}, {999.4, "999"}, {1000, "1,000"}, {1234567.8, "1,234,568"}, {-1500, "-1,500"}}
	for _, tt := range tests {
		if got := thousands(tt.in); got != tt.want {
			t.Errorf("thousands(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"-residents", "-residents"},
		{"", "''"},
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'"},
		{"it's", `'it'\''s'`},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
