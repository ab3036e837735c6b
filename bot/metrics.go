package bot

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Results of one send attempt, the values of the "result" label of
// stilstaan_telegram_sends_total.
const (
	sendResultSent         = "sent"          // Telegram confirmed it (edits included)
	sendResultRetry429     = "retry_429"     // Telegram asked to slow down; tried again after retry_after
	sendResultRetry5xx     = "retry_5xx"     // server error or an answer that was not JSON; tried again
	sendResultRetryNetwork = "retry_network" // timeout or dropped connection; tried again
	sendResultFailed       = "failed"        // 400, an unrenderable message, or out of retries
	sendResultDropped403   = "dropped_403"   // the person blocked the bot; their queue was dropped
)

// Metrics are the Prometheus collectors of outgoing delivery. The receiving
// side keeps its own collectors beside these.
type Metrics struct {
	// Sends counts send attempts by result.
	Sends *prometheus.CounterVec
	// Retries counts attempts that will be tried again, by error class
	// ("rate_limited", "server_error", "timeout", "network", ...).
	Retries *prometheus.CounterVec
	// Latency is the duration of one Bot API call, by method.
	Latency *prometheus.HistogramVec
	// OutboxDepth is the number of pending outbox messages, updated by the
	// delivery loop.
	OutboxDepth prometheus.Gauge
	// Leased is the number of chats this process holds a lease on.
	Leased prometheus.Gauge
}

// NewMetrics creates the delivery collectors and registers them on reg; a nil
// reg leaves them unregistered (for tests and tools). It panics if they are
// registered on reg already, as prometheus.MustRegister does.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "stilstaan", Subsystem: "telegram", Name: "sends_total",
			Help: "Attempts to deliver an outbox message to Telegram, by result.",
		}, []string{"result"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "stilstaan", Subsystem: "telegram", Name: "send_retries_total",
			Help: "Send attempts that failed and will be tried again, by error class.",
		}, []string{"reason"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "stilstaan", Subsystem: "telegram", Name: "send_duration_seconds",
			Help:    "Duration of one Bot API call made by delivery, by method.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method"}),
		OutboxDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "stilstaan", Name: "outbox_depth",
			Help: "Outbox messages waiting to be delivered (all replicas).",
		}),
		Leased: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "stilstaan", Subsystem: "telegram", Name: "leased_chats",
			Help: "Chats whose outbox this process holds a lease on.",
		}),
	}
	// Zero series, so dashboards show 0 rather than nothing before the first
	// event.
	for _, r := range []string{sendResultSent, sendResultRetry429, sendResultRetry5xx, sendResultRetryNetwork, sendResultFailed, sendResultDropped403} {
		m.Sends.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.Sends, m.Retries, m.Latency, m.OutboxDepth, m.Leased)
	}
	return m
}
