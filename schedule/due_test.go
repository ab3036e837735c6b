package schedule

import (
	"testing"
	"time"
)

func TestDailyDue(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	at := func(s string) time.Time { // Amsterdam wall time
		t, err := time.ParseInLocation("2006-01-02 15:04", s, ams)
		if err != nil {
			panic(err)
		}
		return t
	}
	evening := Daily{Hour: 20, Minute: 30, Location: ams}
	late := Daily{Hour: 23, Minute: 50, Location: ams}
	night := Daily{Hour: 2, Minute: 30, Location: ams}
	tests := []struct {
		name          string
		d             Daily
		now, lastSent string // Amsterdam wall time; lastSent "" = never
		window        time.Duration
		wantDue       bool
		wantScheduled time.Time
	}{
		{name: "never sent, on time", d: evening, now: "2026-05-04 20:30", window: 15 * time.Minute, wantDue: true, wantScheduled: at("2026-05-04 20:30")},
		{name: "never sent, a little late", d: evening, now: "2026-05-04 20:44", window: 15 * time.Minute, wantDue: true, wantScheduled: at("2026-05-04 20:30")},
		{name: "at the edge of the window", d: evening, now: "2026-05-04 20:45", window: 15 * time.Minute, wantDue: true, wantScheduled: at("2026-05-04 20:30")},
		{name: "too late is skipped", d: evening, now: "2026-05-04 20:46", window: 15 * time.Minute, wantDue: false, wantScheduled: at("2026-05-04 20:30")},
		{name: "before the time refers to yesterday", d: evening, now: "2026-05-04 20:29", lastSent: "2026-05-03 20:30", window: 15 * time.Minute, wantDue: false, wantScheduled: at("2026-05-03 20:30")},
		{name: "yesterday sent, today due", d: evening, now: "2026-05-04 20:30", lastSent: "2026-05-03 20:31", window: 15 * time.Minute, wantDue: true, wantScheduled: at("2026-05-04 20:30")},
		{name: "already sent this one", d: evening, now: "2026-05-04 20:35", lastSent: "2026-05-04 20:30", window: 15 * time.Minute, wantDue: false, wantScheduled: at("2026-05-04 20:30")},
		{name: "after a week of outage only today's, and only if fresh", d: evening, now: "2026-05-11 20:40", lastSent: "2026-05-04 20:30", window: 15 * time.Minute, wantDue: true, wantScheduled: at("2026-05-11 20:30")},
		{name: "time moved later after today's went out", d: Daily{Hour: 21, Location: ams}, now: "2026-05-04 21:00", lastSent: "2026-05-04 20:00", window: 15 * time.Minute, wantDue: false, wantScheduled: at("2026-05-04 21:00")},
		{name: "time moved earlier after today's went out", d: Daily{Hour: 19, Location: ams}, now: "2026-05-05 19:00", lastSent: "2026-05-04 20:00", window: 15 * time.Minute, wantDue: true, wantScheduled: at("2026-05-05 19:00")},
		{name: "late send after midnight counts for the evening before", d: late, now: "2026-05-05 23:50", lastSent: "2026-05-05 00:05", window: 30 * time.Minute, wantDue: true, wantScheduled: at("2026-05-05 23:50")},
		{name: "late send after midnight is allowed", d: late, now: "2026-05-05 00:05", lastSent: "2026-05-03 23:50", window: 30 * time.Minute, wantDue: true, wantScheduled: at("2026-05-04 23:50")},
		{name: "zero window means exactly on time", d: evening, now: "2026-05-04 20:30", window: 0, wantDue: true, wantScheduled: at("2026-05-04 20:30")},
		{name: "zero window, a minute late", d: evening, now: "2026-05-04 20:31", window: 0, wantDue: false, wantScheduled: at("2026-05-04 20:30")},
		{name: "negative window counts as zero", d: evening, now: "2026-05-04 20:30", window: -time.Hour, wantDue: true, wantScheduled: at("2026-05-04 20:30")},
		{name: "spring forward fires at 03:00", d: night, now: "2026-03-29 03:00", lastSent: "2026-03-28 02:30", window: 10 * time.Minute, wantDue: true, wantScheduled: at("2026-03-29 03:00")},
		{name: "spring forward, 03:30 is too late for 03:00", d: night, now: "2026-03-29 03:30", lastSent: "2026-03-28 02:30", window: 10 * time.Minute, wantDue: false, wantScheduled: at("2026-03-29 03:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var last time.Time
			if tt.lastSent != "" {
				last = at(tt.lastSent)
			}
			due, scheduled := tt.d.Due(at(tt.now), last, tt.window)
			if due != tt.wantDue || !scheduled.Equal(tt.wantScheduled) {
				t.Fatalf("Due = %v, %s; want %v, %s", due, scheduled, tt.wantDue, tt.wantScheduled)
			}
		})
	}
}

func TestDailyDueRepeatedHourOnlyOnce(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	d := Daily{Hour: 2, Minute: 30, Location: ams}
	first := utc("2026-10-25T00:30:00Z")  // 02:30 CEST
	second := utc("2026-10-25T01:30:00Z") // 02:30 CET, the clock shows 02:30 again
	due, scheduled := d.Due(first, utc("2026-10-24T00:30:00Z"), 10*time.Minute)
	if !due || !scheduled.Equal(first) {
		t.Fatalf("first 02:30: Due = %v, %s; want true, %s", due, scheduled, first)
	}
	due, scheduled = d.Due(second, first, 10*time.Minute)
	if due || !scheduled.Equal(first) {
		t.Fatalf("second 02:30: Due = %v, %s; want false, %s", due, scheduled, first)
	}
	// Even a sender that missed the first one does not send at the second:
	// it is an hour late.
	due, _ = d.Due(second, utc("2026-10-24T00:30:00Z"), 10*time.Minute)
	if due {
		t.Fatal("second 02:30 fired after the first was missed")
	}
}

// fakeClock is the injected time source of the simulated sender.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

// TestDailyDueOneCheckInPerLocalDayForAYear runs a sender that asks Due every
// minute of 2026 and checks that it sends exactly one check-in per local day,
// at the time NextAfter predicts, through both clock changes of each zone.
func TestDailyDueOneCheckInPerLocalDayForAYear(t *testing.T) {
	clocks := [][2]int{{0, 0}, {1, 30}, {2, 0}, {2, 30}, {3, 0}, {20, 30}}
	for _, zone := range []string{"Europe/Amsterdam", "America/New_York", "Pacific/Auckland"} {
		for _, c := range clocks {
			t.Run(zone+"/"+time.Date(0, 1, 1, c[0], c[1], 0, 0, time.UTC).Format("15:04"), func(t *testing.T) {
				t.Parallel()
				loc := mustZone(t, zone)
				d := Daily{Hour: c[0], Minute: c[1], Location: loc}
				start := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
				end := time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
				clock := &fakeClock{now: start}
				var lastSent time.Time
				perScheduledDay := map[string]int{}
				perSendDay := map[string]int{}
				expect := d.NextAfter(start.Add(-time.Nanosecond))
				for ; clock.Now().Before(end); clock.Advance(time.Minute) {
					now := clock.Now()
					due, scheduled := d.Due(now, lastSent, 10*time.Minute)
					if !due {
						continue
					}
					if !now.Equal(expect) || !scheduled.Equal(expect) {
						t.Fatalf("sent at %s for %s, NextAfter predicted %s", now, scheduled, expect)
					}
					lastSent = now
					perScheduledDay[LocalDay(scheduled, loc)]++
					perSendDay[LocalDay(now, loc)]++
					expect = d.NextAfter(now)
				}
				days := 0
				for day := start; day.Before(end); day = day.AddDate(0, 0, 1) {
					key := LocalDay(day, loc)
					if perScheduledDay[key] != 1 || perSendDay[key] != 1 {
						t.Errorf("%s: %d check-ins for the day, %d sent that day; want 1 and 1", key, perScheduledDay[key], perSendDay[key])
					}
					days++
				}
				if days != 365 || len(perSendDay) != 365 {
					t.Fatalf("simulated %d days, sent on %d; want 365", days, len(perSendDay))
				}
			})
		}
	}
}

func TestDailyDueSenderWithGaps(t *testing.T) {
	// A sender that polls every 7 minutes, and is down for 3 hours every
	// fifth day, still sends at most one check-in per local day, never more
	// than the late window after its time, and misses only the outage days.
	loc := mustZone(t, "Europe/Amsterdam")
	d := Daily{Hour: 23, Minute: 55, Location: loc}
	const window = 20 * time.Minute
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	end := time.Date(2026, 4, 1, 0, 0, 0, 0, loc)
	clock := &fakeClock{now: start}
	var lastSent time.Time
	perDay := map[string]int{}
	for ; clock.Now().Before(end); clock.Advance(7 * time.Minute) {
		now := clock.Now()
		local := now.In(loc)
		if local.YearDay()%5 == 0 && local.Hour() >= 22 || local.YearDay()%5 == 1 && local.Hour() < 1 {
			continue // down
		}
		due, scheduled := d.Due(now, lastSent, window)
		if !due {
			continue
		}
		if late := now.Sub(scheduled); late < 0 || late > window {
			t.Fatalf("sent %s after its time", late)
		}
		lastSent = now
		perDay[LocalDay(scheduled, loc)]++
	}
	for day := start; day.Before(end); day = day.AddDate(0, 0, 1) {
		key := LocalDay(day, loc)
		want := 1
		if day.YearDay()%5 == 0 {
			want = 0
		}
		if perDay[key] != want {
			t.Errorf("%s: %d check-ins, want %d", key, perDay[key], want)
		}
	}
}
