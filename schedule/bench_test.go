package schedule

import (
	"testing"
	"time"
)

func BenchmarkDailyDue(b *testing.B) {
	loc := mustZone(b, "Europe/Amsterdam")
	d := Daily{Hour: 20, Minute: 30, Location: loc}
	now := time.Date(2026, 5, 4, 20, 35, 0, 0, loc)
	last := now.AddDate(0, 0, -1)
	for b.Loop() {
		d.Due(now, last, 10*time.Minute)
	}
}

func BenchmarkDailyNextAfterOnClockChangeDay(b *testing.B) {
	loc := mustZone(b, "Europe/Amsterdam")
	d := Daily{Hour: 2, Minute: 30, Location: loc}
	t := time.Date(2026, 3, 28, 12, 0, 0, 0, loc)
	for b.Loop() {
		d.NextAfter(t)
	}
}
