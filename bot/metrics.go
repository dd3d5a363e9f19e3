package bot

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the Prometheus collectors of the bot runtime. A nil *Metrics is
// valid everywhere and records nothing.
type Metrics struct {
	UpdatesReceived *prometheus.CounterVec   // platform, kind
	UpdatesHandled  *prometheus.CounterVec   // platform, kind
	UpdatesFailed   *prometheus.CounterVec   // platform, kind, reason (error, panic, undecodable)
	HandleSeconds   *prometheus.HistogramVec // platform
	Sends           *prometheus.CounterVec   // platform, method, result (ok, retry, blocked, bad_request, error)
	TooManyRequests *prometheus.CounterVec   // platform, method
	Retries         *prometheus.CounterVec   // platform, method
	PollErrors      *prometheus.CounterVec   // platform, reason (conflict, network, server)
}

// NewMetrics creates the collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		UpdatesReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mahalle_updates_received_total", Help: "Updates received from the Bot API.",
		}, []string{"platform", "kind"}),
		UpdatesHandled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mahalle_updates_handled_total", Help: "Updates handled without error.",
		}, []string{"platform", "kind"}),
		UpdatesFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mahalle_updates_failed_total", Help: "Updates that failed: handler error, panic, or undecodable.",
		}, []string{"platform", "kind", "reason"}),
		HandleSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mahalle_update_handle_seconds",
			Help:    "Time from an update's arrival to the end of its handling.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"platform"}),
		Sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mahalle_sends_total", Help: "Outgoing Bot API calls by method and result.",
		}, []string{"platform", "method", "result"}),
		TooManyRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mahalle_send_429_total", Help: "429 Too Many Requests answers.",
		}, []string{"platform", "method"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mahalle_send_retries_total", Help: "Retried outgoing calls.",
		}, []string{"platform", "method"}),
		PollErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mahalle_poll_errors_total", Help: "getUpdates failures by reason.",
		}, []string{"platform", "reason"}),
	}
	reg.MustRegister(m.UpdatesReceived, m.UpdatesHandled, m.UpdatesFailed, m.HandleSeconds,
		m.Sends, m.TooManyRequests, m.Retries, m.PollErrors)
	return m
}
