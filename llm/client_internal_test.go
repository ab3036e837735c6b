package llm

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
		ok     bool
	}{
		{name: "none", header: nil},
		{name: "seconds", header: map[string]string{"Retry-After": "2"}, want: 2 * time.Second, ok: true},
		{name: "fractional seconds", header: map[string]string{"Retry-After": "0.25"}, want: 250 * time.Millisecond, ok: true},
		{name: "milliseconds win", header: map[string]string{"Retry-After": "20", "retry-after-ms": "150"}, want: 150 * time.Millisecond, ok: true},
		{name: "http date", header: map[string]string{"Retry-After": now.Add(3 * time.Second).Format(http.TimeFormat)}, want: 3 * time.Second, ok: true},
		{name: "date in the past", header: map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, want: 0, ok: true},
		{name: "garbage", header: map[string]string{"Retry-After": "soon"}},
		{name: "negative", header: map[string]string{"Retry-After": "-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			got, ok := parseRetryAfter(h, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseRetryAfter = (%v, %v), want (%v, %v)", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCleanReply(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "trim", in: "\n  Dat mag er zijn.  \n", want: "Dat mag er zijn."},
		{name: "think block", in: "<think>plan\nmore</think>\nDat mag er zijn.", want: "Dat mag er zijn."},
		{name: "think only at the start", in: "Dat mag er zijn. <think>x</think>", want: "Dat mag er zijn. <think>x</think>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cleanReply(tt.in); got != tt.want {
				t.Errorf("cleanReply(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{name: "status and attempts", err: &Error{Reason: ReasonServerError, Status: 502, Attempts: 2}, want: "llm: reflect: server_error (status 502, attempts 2)"},
		{name: "no status", err: &Error{Reason: ReasonDisabled}, want: "llm: reflect: disabled (attempts 0)"},
		{name: "cause", err: &Error{Reason: ReasonTimeout, Attempts: 1, cause: errTimeoutForTest}, want: "llm: reflect: timeout (attempts 1): deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

type testErr string

func (e testErr) Error() string { return string(e) }

const errTimeoutForTest = testErr("deadline")
