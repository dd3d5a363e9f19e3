package main

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// redisMetrics counts Redis round trips and commands: the conversation
// engine's budget is two round trips per update, and this is how an
// operator (and the benchmark) sees whether it holds.
type redisMetrics struct {
	roundTrips prometheus.Counter
	commands   prometheus.Counter
}

var _ redis.Hook = (*redisMetrics)(nil)

func newRedisMetrics(reg prometheus.Registerer) *redisMetrics {
	m := &redisMetrics{
		roundTrips: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mahalle_redis_roundtrips_total", Help: "Round trips to Redis (a pipeline is one).",
		}),
		commands: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mahalle_redis_commands_total", Help: "Commands sent to Redis.",
		}),
	}
	reg.MustRegister(m.roundTrips, m.commands)
	return m
}

func (m *redisMetrics) DialHook(next redis.DialHook) redis.DialHook { return next }

func (m *redisMetrics) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		m.roundTrips.Inc()
		m.commands.Inc()
		return next(ctx, cmd)
	}
}

func (m *redisMetrics) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		m.roundTrips.Inc()
		m.commands.Add(float64(len(cmds)))
		return next(ctx, cmds)
	}
}
