package main

import (
	"errors"
	"strings"
	"testing"
)

// TestSendLimitsSetting: replicas (webhook mode) share their send limits
// through Redis by default, one poller keeps them in process, and
// SEND_LIMITS says otherwise either way.
func TestSendLimitsSetting(t *testing.T) {
	webhook := map[string]string{"WEBHOOK_URL": "https://bot.example.ir/hook", "WEBHOOK_SECRET": webhookSecret}
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"polling", nil, false},
		{"webhook", webhook, true},
		{"polling shared", map[string]string{"SEND_LIMITS": "shared"}, true},
		{"webhook local", map[string]string{"WEBHOOK_URL": webhook["WEBHOOK_URL"], "WEBHOOK_SECRET": webhookSecret, "SEND_LIMITS": "local"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"TELEGRAM_TOKEN": goodToken}
			for k, v := range tt.env {
				env[k] = v
			}
			cfg, err := loadConfig(mapEnv(env), true)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.SharedLimits != tt.want {
				t.Errorf("SharedLimits = %v, want %v", cfg.SharedLimits, tt.want)
			}
		})
	}
	_, err := loadConfig(mapEnv(map[string]string{"TELEGRAM_TOKEN": goodToken, "SEND_LIMITS": "redis"}), true)
	var ce *configError
	if !errors.As(err, &ce) || ce.Var != "SEND_LIMITS" {
		t.Errorf("SEND_LIMITS=redis: err = %v, want a configError naming SEND_LIMITS", err)
	}
}

// TestSharedLimitsOnRedisCluster: with the limits in Redis, the bot answers
// on a 3-node Redis Cluster: each script touches one chat's slot or the
// bot's.
func TestSharedLimitsOnRedisCluster(t *testing.T) {
	h := newHarness(t)
	h.env["REDIS_URL"] = startRedisCluster(t)
	h.env["SEND_LIMITS"] = "shared"
	r := h.start()
	for _, id := range []int64{6601, 6602, 6603} {
		p := h.person(id)
		expect(t, p.say("/start"), "خوش آمدید")
		p.toTopic()
	}
	logs := r.logs.String()
	if !strings.Contains(logs, "send limits shared through Redis") {
		t.Errorf("the bot did not share its limits:\n%s", logs)
	}
	if strings.Contains(logs, "shared send limits unavailable") {
		t.Errorf("the shared limits failed on the cluster:\n%s", logs)
	}
}
