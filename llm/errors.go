package llm

import (
	"errors"
	"fmt"
	"strings"
)

// Reasons a Reflect call fell back. They are stable strings, meant for a
// fallback_reason column and a metric label. A guard rejection is
// ReasonGuardRejected followed by ":" and the Guard rule, e.g.
// "guard_rejected:link".
const (
	ReasonTimeout       = "timeout"        // the deadline passed (or the caller cancelled)
	ReasonRateLimited   = "rate_limited"   // HTTP 429, also after the one retry
	ReasonServerError   = "server_error"   // HTTP 5xx or the endpoint could not be reached
	ReasonBadResponse   = "bad_response"   // a body that is not a usable chat completion, or another 4xx
	ReasonGuardRejected = "guard_rejected" // the Guard rejected the reply; see Error.Rule
	ReasonDisabled      = "disabled"       // no API key configured
)

// Error is the only error Reflect returns. Its message holds the reason,
// the HTTP status and the number of attempts; never the prompt, the reply,
// a response body or the key. It deliberately does not wrap go-openai's
// errors, which can carry a response body; it unwraps to
// context.DeadlineExceeded or context.Canceled for a timeout.
type Error struct {
	// Reason is one of the Reason constants, or "guard_rejected:<rule>".
	Reason string
	// Status is the HTTP status of the last attempt; 0 when there was no
	// HTTP response.
	Status int
	// Attempts is how many requests were sent (0, 1 or 2).
	Attempts int

	cause error
	retry bool // whether a second attempt may help
}

func (e *Error) Error() string {
	s := "llm: reflect: " + e.Reason + " ("
	if e.Status != 0 {
		s += fmt.Sprintf("status %d, ", e.Status)
	}
	s += fmt.Sprintf("attempts %d)", e.Attempts)
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap returns the context error behind a timeout, or nil.
func (e *Error) Unwrap() error { return e.cause }

// Rule returns the Guard rule behind a guard rejection, or "".
func (e *Error) Rule() string {
	rule, _ := cutRule(e.Reason)
	return rule
}

func cutRule(reason string) (string, bool) {
	return strings.CutPrefix(reason, ReasonGuardRejected+":")
}

// ReasonOf returns the reason of an *Error in err's chain, "" for nil, and
// ReasonBadResponse for any other error.
func ReasonOf(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonBadResponse
}

// result maps a reason to the value of the metrics' result label, which
// does not carry the guard rule.
func result(reason string) string {
	if strings.HasPrefix(reason, ReasonGuardRejected) {
		return ReasonGuardRejected
	}
	return reason
}
