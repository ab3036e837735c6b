package bot

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stilstaan/stilstaan/storage"
)

// receiveMetrics are the receiving side's metrics.
type receiveMetrics struct {
	updates  *prometheus.CounterVec
	latency  prometheus.Histogram
	depth    prometheus.Gauge
	received *prometheus.CounterVec
}

// How an update was taken in, the "path" label of
// stilstaan_updates_received_total.
const (
	pathInbox  = "inbox"  // stored in the inbox, processed by a worker
	pathInline = "inline" // processed inside its webhook request
)

func newReceiveMetrics(reg prometheus.Registerer) *receiveMetrics {
	m := &receiveMetrics{
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stilstaan_updates_total",
			Help: "Telegram updates (and timer inputs) processed, by kind and result.",
		}, []string{"kind", "result"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "stilstaan_turn_latency_seconds",
			Help:    "Time from an update's arrival in the inbox to its turn's commit.",
			Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		depth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stilstaan_inbox_depth",
			Help: "Updates received and not yet processed (sampled every sweep).",
		}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stilstaan_updates_received_total",
			Help: "Updates taken in: processed inside their webhook request (inline) or newly stored in the inbox (redeliveries not counted).",
		}, []string{"path"}),
	}
	m.received.WithLabelValues(pathInbox)
	m.received.WithLabelValues(pathInline)
	reg.MustRegister(m.updates, m.latency, m.depth, m.received)
	return m
}

func (m *receiveMetrics) update(kind, result string) { m.updates.WithLabelValues(kind, result).Inc() }

// health serves /healthz (the process is up), /readyz (the database answers
// and its schema is the one this binary needs; 503 while shutting down) and
// /metrics.
type health struct {
	db       *storage.DB
	gatherer prometheus.Gatherer
	log      *slog.Logger
	stopping atomic.Bool
}

func (h *health) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", h.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(h.gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(h.log.Handler(), slog.LevelWarn)}))
	return mux
}

func (h *health) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if h.stopping.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := h.db.Ping(ctx); err != nil {
		h.log.WarnContext(ctx, "bot: not ready: database", slog.Any("error", err))
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	if err := h.db.CheckSchema(ctx); err != nil {
		h.log.WarnContext(ctx, "bot: not ready: schema", slog.Any("error", err))
		http.Error(w, "database schema does not match this binary", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}
