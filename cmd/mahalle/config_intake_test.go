package main

import (
	"errors"
	"testing"
	"time"
)

// TestConfigIntakeSettings checks the settings of intake and operations:
// each bad value is refused naming its variable, good ones are taken.
func TestConfigIntakeSettings(t *testing.T) {
	dir := t.TempDir()
	base := func(extra map[string]string) map[string]string {
		env := map[string]string{"TELEGRAM_TOKEN": goodToken, "DATA_DIR": dir}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	const secret = "webhook-secret_0123456789"
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"handler timeout not a duration", map[string]string{"HANDLER_TIMEOUT": "ten"}, "HANDLER_TIMEOUT"},
		{"handler timeout too short", map[string]string{"HANDLER_TIMEOUT": "1ms"}, "HANDLER_TIMEOUT"},
		{"pprof not a flag", map[string]string{"PPROF": "yes please"}, "PPROF"},
		{"metrics token too short", map[string]string{"METRICS_TOKEN": "short"}, "METRICS_TOKEN"},
		{"public addr without a metrics token", map[string]string{"HTTP_ADDR": "0.0.0.0:8080"}, "METRICS_TOKEN"},
		{"webhook url not a url", map[string]string{"WEBHOOK_URL": "bot.example.ir", "WEBHOOK_SECRET": secret}, "WEBHOOK_URL"},
		{"webhook without a secret", map[string]string{"WEBHOOK_URL": "https://bot.example.ir/hook"}, "WEBHOOK_SECRET"},
		{"webhook secret with bad characters", map[string]string{"WEBHOOK_URL": "https://bot.example.ir/hook", "WEBHOOK_SECRET": "secret/with/slashes0123"}, "WEBHOOK_SECRET"},
		{"webhook addr not host:port", map[string]string{"WEBHOOK_URL": "https://bot.example.ir/hook", "WEBHOOK_SECRET": secret, "WEBHOOK_ADDR": "8443"}, "WEBHOOK_ADDR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(mapEnv(base(tt.env)), true)
			var ce *configError
			if !errors.As(err, &ce) || ce.Var != tt.want {
				t.Errorf("loadConfig = %v, want an error naming %s", err, tt.want)
			}
		})
	}

	c, err := loadConfig(mapEnv(base(map[string]string{
		"HANDLER_TIMEOUT": "3s", "PPROF": "1", "HTTP_ADDR": ":9090", "METRICS_TOKEN": "metrics-token-0123456789",
		"WEBHOOK_URL": "https://bot.example.ir/hook/", "WEBHOOK_SECRET": secret, "INSTANCE_ID": "replica-7",
	})), true)
	if err != nil {
		t.Fatal(err)
	}
	if c.HandlerTimeout != 3*time.Second || !c.Pprof || !c.HTTPPublic || c.MetricsToken == "" ||
		c.WebhookURL != "https://bot.example.ir/hook" || c.WebhookSecret != secret || c.WebhookAddr != ":8443" ||
		c.InstanceID != "replica-7" {
		t.Errorf("config = %+v", c)
	}
	d, err := loadConfig(mapEnv(base(nil)), true)
	if err != nil {
		t.Fatal(err)
	}
	if d.HandlerTimeout != 10*time.Second || d.Pprof || d.HTTPPublic || d.WebhookURL != "" || d.InstanceID == "" {
		t.Errorf("defaults = %+v", d)
	}
}
