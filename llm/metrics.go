package llm

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// results are the values of the result label, one per outcome of Reflect
// that sent a request.
var results = []string{"ok", ReasonTimeout, ReasonRateLimited, ReasonServerError, ReasonBadResponse, ReasonGuardRejected}

var guardRules = []string{RuleEmpty, RuleCrisis, RuleTooLong, RuleLink, RulePhone, RuleDiagnosis, RuleMedication, RuleHumanClaim, RuleLanguage}

// Metrics are the Prometheus metrics of Reflect calls. A nil *Metrics
// records nothing.
type Metrics struct {
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	tokens     *prometheus.CounterVec
	retries    *prometheus.CounterVec
	rejections *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg (when reg is
// not nil); it panics when they are already registered there, as
// prometheus.MustRegister does:
//
//	stilstaan_llm_requests_total{result}            Reflect calls that sent a request, by result:
//	                                                ok, timeout, rate_limited, server_error,
//	                                                bad_response, guard_rejected
//	stilstaan_llm_request_duration_seconds{result}  time a Reflect call took, retries included
//	stilstaan_llm_tokens_total{kind}                tokens the endpoint reported, kind prompt or completion
//	stilstaan_llm_retries_total{reason}             second attempts, by the reason of the first
//	stilstaan_llm_guard_rejections_total{rule}      replies the Guard rejected, by rule
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stilstaan_llm_requests_total",
			Help: "Reflection requests to the LLM, by result.",
		}, []string{"result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stilstaan_llm_request_duration_seconds",
			Help:    "Time a reflection request took, retries included, by result.",
			Buckets: []float64{0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 10, 15, 30},
		}, []string{"result"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stilstaan_llm_tokens_total",
			Help: "Tokens used by reflection requests as the endpoint reported them, by kind (prompt or completion).",
		}, []string{"kind"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stilstaan_llm_retries_total",
			Help: "Reflection requests sent a second time, by the reason the first failed.",
		}, []string{"reason"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stilstaan_llm_guard_rejections_total",
			Help: "LLM replies the guard rejected, by rule.",
		}, []string{"rule"}),
	}
	// Create every series up front so rates start at zero, not at the
	// first failure.
	for _, r := range results {
		m.requests.WithLabelValues(r)
		m.latency.WithLabelValues(r)
	}
	for _, k := range []string{"prompt", "completion"} {
		m.tokens.WithLabelValues(k)
	}
	for _, r := range []string{ReasonRateLimited, ReasonServerError, ReasonBadResponse} {
		m.retries.WithLabelValues(r)
	}
	for _, r := range guardRules {
		m.rejections.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.tokens, m.retries, m.rejections)
	}
	return m
}

func (m *Metrics) observe(reason string, d time.Duration) {
	if m == nil {
		return
	}
	r := "ok"
	if reason != "" {
		r = result(reason)
	}
	m.requests.WithLabelValues(r).Inc()
	m.latency.WithLabelValues(r).Observe(d.Seconds())
	if rule, ok := cutRule(reason); ok {
		m.rejections.WithLabelValues(rule).Inc()
	}
}

func (m *Metrics) addTokens(prompt, completion int) {
	if m == nil {
		return
	}
	if prompt > 0 {
		m.tokens.WithLabelValues("prompt").Add(float64(prompt))
	}
	if completion > 0 {
		m.tokens.WithLabelValues("completion").Add(float64(completion))
	}
}

func (m *Metrics) retry(reason string) {
	if m == nil {
		return
	}
	m.retries.WithLabelValues(reason).Inc()
}
