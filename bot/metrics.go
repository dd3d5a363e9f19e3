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
	// SendUnknown counts calls whose outcome was unknown (the request may
	// have reached the platform): platform, method, action (retried: an
	// idempotent call tried again; resent: a new message sent again, possibly
	// twice; gave_up: unknown again after the resend).
	SendUnknown *prometheus.CounterVec
	Floods      *prometheus.CounterVec // platform: floods of the whole bot inferred from 429s of many chats
	Notices     *prometheus.CounterVec // platform, result (ok, error): Client.Notify calls
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
		SendUnknown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mahalle_send_unknown_total", Help: "Calls whose outcome was unknown, by what was done about it.",
		}, []string{"platform", "method", "action"}),
		Floods: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mahalle_send_floods_total", Help: "Floods of the whole bot inferred from 429s of many chats at once.",
		}, []string{"platform"}),
		Notices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mahalle_notices_total", Help: "Notices sent through the notice lane, by result.",
		}, []string{"platform", "result"}),
	}
	reg.MustRegister(m.UpdatesReceived, m.UpdatesHandled, m.UpdatesFailed, m.HandleSeconds,
		m.Sends, m.TooManyRequests, m.Retries, m.PollErrors, m.SendUnknown, m.Floods, m.Notices)
	return m
}

// countSend, countTooMany, countRetry, countUnknown, countFlood and
// countNotice record metrics; Metrics may be nil.
func (c *Client) countSend(method, result string) {
	if c.metrics != nil && c.metrics.Sends != nil {
		c.metrics.Sends.WithLabelValues(string(c.platform), method, result).Inc()
	}
}

func (c *Client) countTooMany(method string) {
	if c.metrics != nil && c.metrics.TooManyRequests != nil {
		c.metrics.TooManyRequests.WithLabelValues(string(c.platform), method).Inc()
	}
}

func (c *Client) countRetry(method string) {
	if c.metrics != nil && c.metrics.Retries != nil {
		c.metrics.Retries.WithLabelValues(string(c.platform), method).Inc()
	}
}

func (c *Client) countUnknown(method, action string) {
	if c.metrics != nil && c.metrics.SendUnknown != nil {
		c.metrics.SendUnknown.WithLabelValues(string(c.platform), method, action).Inc()
	}
}

func (c *Client) countFlood() {
	if c.metrics != nil && c.metrics.Floods != nil {
		c.metrics.Floods.WithLabelValues(string(c.platform)).Inc()
	}
}

func (c *Client) countNotice(err error) {
	if c.metrics == nil || c.metrics.Notices == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	c.metrics.Notices.WithLabelValues(string(c.platform), result).Inc()
}
