package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

const goodToken = "123456:AAFakeTokenForTests_abc-123"

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(goodToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"TELEGRAM_TOKEN": goodToken, "DATA_DIR": dir}
	tests := []struct {
		name string
		env  map[string]string
		want string // the variable the one line must name
	}{
		{"no token with a database", map[string]string{"TELEGRAM_TOKEN": "", "DATABASE_URL": "postgres://u@db:5432/m"}, "TELEGRAM_TOKEN"},
		{"no token with a redis", map[string]string{"TELEGRAM_TOKEN": "", "REDIS_URL": "redis://cache:6379/0"}, "TELEGRAM_TOKEN"},
		{"malformed telegram token", map[string]string{"TELEGRAM_TOKEN": "not a token"}, "TELEGRAM_TOKEN"},
		{"malformed bale token", map[string]string{"BALE_TOKEN": "12:x y"}, "BALE_TOKEN"},
		{"token and token file", map[string]string{"TELEGRAM_TOKEN_FILE": tokenFile}, "TELEGRAM_TOKEN"},
		{"missing token file", map[string]string{"TELEGRAM_TOKEN": "", "TELEGRAM_TOKEN_FILE": filepath.Join(dir, "nope")}, "TELEGRAM_TOKEN_FILE"},
		{"empty token file", map[string]string{"TELEGRAM_TOKEN": "", "BALE_TOKEN_FILE": emptyFile}, "BALE_TOKEN_FILE"},
		{"endpoint without placeholders", map[string]string{"TELEGRAM_API_ENDPOINT": "https://example.org/bot"}, "TELEGRAM_API_ENDPOINT"},
		{"endpoint not http", map[string]string{"BALE_API_ENDPOINT": "ftp://x/bot%s/%s"}, "BALE_API_ENDPOINT"},
		{"database url not postgres", map[string]string{"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL"},
		{"data dir missing", map[string]string{"DATA_DIR": filepath.Join(dir, "missing")}, "DATA_DIR"},
		{"redis url bad", map[string]string{"REDIS_URL": "http://localhost:6379"}, "REDIS_URL"},
		{"redis prefix bad", map[string]string{"REDIS_KEY_PREFIX": "a b"}, "REDIS_KEY_PREFIX"},
		{"http addr bad", map[string]string{"HTTP_ADDR": "8080"}, "HTTP_ADDR"},
		{"log level bad", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{"log format bad", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		{"admin phone bad", map[string]string{"ADMIN_PHONES": "09121234567,12345"}, "ADMIN_PHONES"},
		{"conversation ttl bad", map[string]string{"CONVERSATION_TTL": "soon"}, "CONVERSATION_TTL"},
		{"notice rate bad", map[string]string{"NOTICE_RATE": "-1"}, "NOTICE_RATE"},
		{"send rate per chat bad", map[string]string{"SEND_RATE_PER_CHAT": "fast"}, "SEND_RATE_PER_CHAT"},
		{"escalation days not three", map[string]string{"ESCALATION_DAYS": "3,7"}, "ESCALATION_DAYS"},
		{"escalation to the province before the county", map[string]string{"ESCALATION_DAYS": "7,3,5"}, "ESCALATION_DAYS"},
		{"quiet hours bad", map[string]string{"QUIET_HOURS": "22:00-07:00"}, "QUIET_HOURS"},
		{"notice interval bad", map[string]string{"NOTICE_INTERVAL": "2h"}, "NOTICE_INTERVAL"},
		{"notice lease bad", map[string]string{"NOTICE_LEASE": "soon"}, "NOTICE_LEASE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			var stdout, stderr bytes.Buffer
			got := run(context.Background(), nil, testSystem(env, &stdout, &stderr))
			if got != exitConfig {
				t.Fatalf("exit code = %d, want %d; stderr: %s", got, exitConfig, stderr.String())
			}
			out := stderr.String()
			if lines := strings.Count(strings.TrimRight(out, "\n"), "\n") + 1; lines != 1 {
				t.Errorf("stderr has %d lines, want 1:\n%s", lines, out)
			}
			if !strings.HasPrefix(out, "mahalle: "+tt.want) {
				t.Errorf("stderr = %q, want it to start with %q", out, "mahalle: "+tt.want)
			}
			if strings.Contains(out, goodToken) || strings.Contains(out, "AAFakeToken") {
				t.Errorf("the token leaked into the error: %q", out)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(mapEnv(map[string]string{"TELEGRAM_TOKEN": goodToken}), true)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TelegramEndpoint != telegramEndpoint || cfg.BaleEndpoint != baleEndpoint {
		t.Errorf("endpoints = %q, %q", cfg.TelegramEndpoint, cfg.BaleEndpoint)
	}
	if cfg.DatabaseURL != "" || cfg.Redis != nil || cfg.DataDir != "." || cfg.HTTPAddr != "127.0.0.1:8080" {
		t.Errorf("backend defaults = %+v", cfg)
	}
	if cfg.RedisPrefix != "mh" || cfg.NoticeRate != 25 || cfg.ConversationTTL.Hours() != 24 {
		t.Errorf("defaults = %+v", cfg)
	}
}

func TestConfigAccepts(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "bale")
	if err := os.WriteFile(tokenFile, []byte(goodToken), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(mapEnv(map[string]string{
		"BALE_TOKEN_FILE":  tokenFile,
		"DATABASE_URL":     "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"REDIS_URL":        "redis://127.0.0.1:6379?addr=127.0.0.1:6380",
		"ADMIN_PHONES":     "۰۹۱۲۱۲۳۴۵۶۷, +98 935 123 4567",
		"LOG_LEVEL":        "debug",
		"LOG_FORMAT":       "json",
		"CONVERSATION_TTL": "2h",
	}), true)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaleToken != goodToken || cfg.TelegramToken != "" {
		t.Errorf("tokens not read from the file")
	}
	if got, want := strings.Join(cfg.AdminPhones, ","), "+989121234567,+989351234567"; got != want {
		t.Errorf("AdminPhones = %q, want %q", got, want)
	}
	if got := len(cfg.Redis.Addrs); got != 2 {
		t.Errorf("cluster addrs = %d, want 2", got)
	}
	if !cfg.LogJSON || cfg.LogLevel.String() != "DEBUG" {
		t.Errorf("logging = %v %v", cfg.LogJSON, cfg.LogLevel)
	}
}

func TestUnknownCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if got := run(context.Background(), []string{"frobnicate"}, testSystem(nil, &stdout, &stderr)); got != exitConfig {
		t.Errorf("exit = %d, want %d", got, exitConfig)
	}
	if !strings.Contains(stderr.String(), "unknown command") {
		t.Errorf("stderr = %q", stderr.String())
	}
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func testSystem(env map[string]string, stdout, stderr io.Writer) system {
	return system{Getenv: mapEnv(env), Stdout: stdout, Stderr: stderr, Now: time.Now}
}

// TestTuneGC: the bot collects at 200 % unless GOGC says otherwise.
func TestTuneGC(t *testing.T) {
	saved := debug.SetGCPercent(100)
	defer debug.SetGCPercent(saved)
	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("GOGC unset: collector target %d %%, want %d", got, gcPercent)
	}
	tuneGC(func(k string) string {
		if k == "GOGC" {
			return "50"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: collector target changed to %d %%, want it left alone", got)
	}
}
