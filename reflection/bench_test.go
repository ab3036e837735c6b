package reflection_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/llm/llmtest"
)

// BenchmarkFallbackAtDeadline measures, with a model that never answers and
// a 200ms deadline, the time from the person's answer committed to the typing indicator, and to the turn with the scripted
// reflection committed. It reports medians and the worst case; ns/op is the
// whole round, setup of the person excluded.
//
//	go test -run '^$' -bench FallbackAtDeadline -benchtime 30x ./reflection/
func BenchmarkFallbackAtDeadline(b *testing.B) {
	const timeout = 200 * time.Millisecond
	ctx := context.Background()
	e := newEnv(b, envOptions{timeout: timeout}, llmtest.Hang())
	e.start(b)

	var toTyping, toFallback []time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		chatID := int64(10_000 + i)
		e.reachWhat(b, ctx, chatID)
		drain(e.notified)
		drain(e.typed)
		b.StartTimer()

		res := e.answer(b, ctx, chatID, "Hij heeft al twee dagen niets van zich laten horen.")
		// The answer's own turn notified right after its commit, before
		// Handle returned.
		committed := <-e.notified
		wait := time.NewTimer(5 * time.Second)
		select {
		case c := <-e.typed:
			toTyping = append(toTyping, c.at.Sub(committed))
		case <-wait.C:
			b.Fatal("no typing indicator")
		}
		select {
		case at := <-e.notified:
			toFallback = append(toFallback, at.Sub(committed))
		case <-wait.C:
			b.Fatal("no fallback")
		}
		wait.Stop()
		if res.Reflect == nil {
			b.Fatal("no reflection asked for")
		}
	}
	b.StopTimer()
	report(b, "typing", toTyping)
	report(b, "fallback", toFallback)
}

func report(b *testing.B, name string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	b.ReportMetric(float64(s[len(s)/2])/float64(time.Millisecond), "ms-to-"+name+"-p50")
	b.ReportMetric(float64(s[len(s)-1])/float64(time.Millisecond), "ms-to-"+name+"-max")
}

func drain[T any](ch chan T) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}
