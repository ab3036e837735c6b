package reflection

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stilstaan/stilstaan/llm"
)

// fallbackReasons are the values of the reason label of the fallbacks
// counter: every way a reflection can end with the scripted text.
var fallbackReasons = []string{
	llm.ReasonTimeout, llm.ReasonRateLimited, llm.ReasonServerError, llm.ReasonBadResponse,
	llm.ReasonGuardRejected, ReasonExpired, ReasonSuperseded, ReasonPrompt, ReasonGaveUp,
}

// Metrics are the Prometheus metrics of answered reflections. A nil
// *Metrics records nothing. The llm package counts the requests themselves
// (llm.Metrics); these count what the person got.
type Metrics struct {
	answers   *prometheus.CounterVec
	fallbacks *prometheus.CounterVec
	wait      prometheus.Histogram
}

// NewMetrics creates the metrics and registers them with reg (when reg is
// not nil). Metrics already registered there by an earlier call are reused,
// so building the services twice in one process is fine:
//
//	stilstaan_reflection_answers_total{source}     reflections answered, source llm or script
//	stilstaan_reflection_fallbacks_total{reason}   scripted reflections, by why the model's reply was not used:
//	                                               timeout, rate_limited, server_error, bad_response,
//	                                               guard_rejected, expired, superseded, prompt_error, gave_up
//	stilstaan_reflection_wait_seconds              from the person's answer to the reflection's turn
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stilstaan_reflection_answers_total",
			Help: "Reflections answered, by source: llm (the model's reply) or script (the scripted fallback).",
		}, []string{"source"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stilstaan_reflection_fallbacks_total",
			Help: "Reflections answered with the scripted text, by the reason the model's reply was not used.",
		}, []string{"reason"}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "stilstaan_reflection_wait_seconds",
			Help:    "Time from a person's answer to the turn that showed the reflection.",
			Buckets: []float64{0.25, 0.5, 1, 2, 3, 4, 6, 8, 10, 15, 30, 60},
		}),
	}
	for _, s := range []string{"llm", "script"} {
		m.answers.WithLabelValues(s)
	}
	for _, r := range fallbackReasons {
		m.fallbacks.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.answers, err = register(reg, m.answers)
	if err != nil {
		return nil, err
	}
	if m.fallbacks, err = register(reg, m.fallbacks); err != nil {
		return nil, err
	}
	if m.wait, err = register(reg, m.wait); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector registered before it.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	if err != nil {
		var zero C
		return zero, fmt.Errorf("reflection: register metrics: %w", err)
	}
	return c, nil
}

// answered records one reflection that reached the person's conversation.
func (m *Metrics) answered(reason string, wait time.Duration) {
	if m == nil {
		return
	}
	if reason == "" {
		m.answers.WithLabelValues("llm").Inc()
	} else {
		m.answers.WithLabelValues("script").Inc()
		if strings.HasPrefix(reason, llm.ReasonGuardRejected) {
			reason = llm.ReasonGuardRejected
		}
		m.fallbacks.WithLabelValues(reason).Inc()
	}
	if wait >= 0 && reason != ReasonSuperseded { // nobody waited for a superseded one
		m.wait.Observe(wait.Seconds())
	}
}
