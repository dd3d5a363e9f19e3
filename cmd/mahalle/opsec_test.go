package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mahalle/mahalle/bot/bottest"
)

// TestPublicHTTPAddrNeedsMetricsToken: a non-loopback HTTP_ADDR without
// METRICS_TOKEN is refused at start with one line naming the variable.
func TestPublicHTTPAddrNeedsMetricsToken(t *testing.T) {
	var stdout, stderr bytes.Buffer
	env := map[string]string{"TELEGRAM_TOKEN": goodToken, "DATA_DIR": t.TempDir(), "HTTP_ADDR": ":8080"}
	if code := run(context.Background(), nil, testSystem(env, &stdout, &stderr)); code != exitConfig {
		t.Fatalf("exit code = %d, want %d; stderr %q", code, exitConfig, stderr.String())
	}
	out := strings.TrimSpace(stderr.String())
	if strings.Count(out, "\n") != 0 || !strings.HasPrefix(out, "mahalle: METRICS_TOKEN:") {
		t.Errorf("stderr = %q, want one line naming METRICS_TOKEN", out)
	}
	for _, addr := range []string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080"} {
		env["HTTP_ADDR"] = addr
		if _, err := loadConfig(mapEnv(env), true); err != nil {
			t.Errorf("HTTP_ADDR=%s refused without a token: %v", addr, err)
		}
	}
}

// localURL turns the ops listener's logged address into a URL on 127.0.0.1.
func localURL(t *testing.T, r *running) string {
	t.Helper()
	m := addrPattern.FindStringSubmatch(r.logs.String())
	if m == nil {
		t.Fatalf("no listen address in the logs:\n%s", r.logs.String())
	}
	_, port, err := net.SplitHostPort(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return "http://127.0.0.1:" + port
}

func getAuth(t *testing.T, url, auth string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestOpsListenerOnAllInterfaces: on 0.0.0.0 the bot warns, /metrics needs
// the bearer token, and pprof is off unless PPROF=1.
func TestOpsListenerOnAllInterfaces(t *testing.T) {
	const token = "metrics-token-0123456789"
	for _, pprofOn := range []bool{false, true} {
		h := newHarness(t)
		h.env["HTTP_ADDR"] = "0.0.0.0:0"
		h.env["METRICS_TOKEN"] = token
		if pprofOn {
			h.env["PPROF"] = "1"
		}
		r := h.start()
		base := localURL(t, r)
		if !strings.Contains(r.logs.String(), "HTTP_ADDR listens beyond this machine") {
			t.Errorf("no warning about a public HTTP_ADDR:\n%s", r.logs.String())
		}
		if got := getAuth(t, base+"/metrics", ""); got != http.StatusUnauthorized {
			t.Errorf("/metrics without a token = %d, want 401", got)
		}
		if got := getAuth(t, base+"/metrics", "Bearer wrong-token-0123456789"); got != http.StatusUnauthorized {
			t.Errorf("/metrics with a wrong token = %d, want 401", got)
		}
		if got := getAuth(t, base+"/metrics", "Bearer "+token); got != http.StatusOK {
			t.Errorf("/metrics with the token = %d, want 200", got)
		}
		want := http.StatusNotFound
		if pprofOn {
			want = http.StatusOK
		}
		if got := getAuth(t, base+"/debug/pprof/", ""); got != want {
			t.Errorf("PPROF=%v: /debug/pprof/ = %d, want %d", pprofOn, got, want)
		}
		r.stop(t)
	}
}

// TestReadyzReflectsPolling: while getUpdates keeps failing /readyz says
// 503, and 200 again once it works.
func TestReadyzReflectsPolling(t *testing.T) {
	h := newHarness(t)
	r := h.start()
	base := opsBase(t, r)
	waitStatus := func(want int) {
		t.Helper()
		deadline := time.Now().Add(waitTimeout)
		for {
			code, _ := get(t, base+"/readyz")
			if code == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz stayed %d, want %d", code, want)
			}
			<-time.After(20 * time.Millisecond)
		}
	}
	waitStatus(200)
	h.srv.FailNext("getUpdates", 4, bottest.Fault{Code: 502})
	// Wake the long poll so that the failures come at once.
	p := h.person(6401)
	id := h.srv.SendText(p.chat, p.user, "/start")
	start := time.Now()
	waitStatus(503)
	t.Logf("503 after %v", time.Since(start))
	waitStatus(200)
	t.Logf("200 after %v", time.Since(start))
	expect(t, p.wait(id), "خوش آمدید")
}

// TestRedisPersistenceChecked: at start the bot reads Redis's persistence
// settings and warns when neither AOF nor RDB is on (the real Redis of CI
// runs without); an in-process Redis that does not know CONFIG is noted.
func TestRedisPersistenceChecked(t *testing.T) {
	h := newHarness(t)
	r := h.start()
	logs := r.logs.String()
	if os.Getenv("TEST_REDIS_URL") != "" {
		if !strings.Contains(logs, "Redis has no persistence") && !strings.Contains(logs, "cannot read the Redis persistence") {
			// A Redis with persistence on says nothing: check it has.
			out := h.redis().ConfigGet(context.Background(), "appendonly").Val()
			save := h.redis().ConfigGet(context.Background(), "save").Val()
			if out["appendonly"] != "yes" && strings.TrimSpace(save["save"]) == "" {
				t.Errorf("Redis has no persistence and the bot did not warn:\n%s", logs)
			}
		}
		return
	}
	if !strings.Contains(logs, "cannot read the Redis persistence settings") {
		t.Errorf("no note about the Redis persistence settings:\n%s", logs)
	}
}
