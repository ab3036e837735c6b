package checkin

import (
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/storage"
)

// BenchmarkRunOnce measures the fan-out: one RunOnce over 10,000 people whose
// check-in is due, each started as a real conversation turn (engine, theme,
// outbox, schedule row moved on) against the real Postgres.
func BenchmarkRunOnce(b *testing.B) {
	ams := mustZone(b, "Europe/Amsterdam")
	now := time.Date(2026, 5, 4, 20, 31, 0, 0, ams)
	e := newEnv(b, now, withStorage(storage.WithMaxConns(16)))
	s := e.scheduler(WithBatch(200), WithWorkers(8))
	const n = 10000
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		e.seedDue(n, i*n+1, "Europe/Amsterdam", 20, 30, now.Add(-time.Minute))
		b.StartTimer()
		sent, err := s.RunOnce(e.ctx, now)
		if err != nil || sent != n {
			b.Fatalf("RunOnce: sent %d, %v", sent, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "checkins/s")
}
