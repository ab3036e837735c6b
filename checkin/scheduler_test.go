package checkin

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/schedule"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestLocalTimeAcrossDST runs the scheduler every five simulated minutes over
// both 2026 clock changes of three zones, for one person whose check-in time
// the change skips or repeats and one at 20:30. The expected instants are
// worked out by hand from the zones' rules, not by the code under test.
func TestLocalTimeAcrossDST(t *testing.T) {
	tests := []struct {
		name   string
		zone   string
		day    string // the switch day, local
		tricky string // a time the change skips or repeats
		want   [3]string
		want20 [3]string // 20:30 on the day before, the day, the day after (UTC)
	}{
		{name: "Amsterdam spring forward", zone: "Europe/Amsterdam", day: "2026-03-29", tricky: "02:30",
			want:   [3]string{"2026-03-28 01:30", "2026-03-29 01:00", "2026-03-30 00:30"}, // 02:30 does not exist: at the jump, 03:00 CEST
			want20: [3]string{"2026-03-28 19:30", "2026-03-29 18:30", "2026-03-30 18:30"}},
		{name: "Amsterdam fall back", zone: "Europe/Amsterdam", day: "2026-10-25", tricky: "02:30",
			want:   [3]string{"2026-10-24 00:30", "2026-10-25 00:30", "2026-10-26 01:30"}, // 02:30 twice: the first
			want20: [3]string{"2026-10-24 18:30", "2026-10-25 19:30", "2026-10-26 19:30"}},
		{name: "New York spring forward", zone: "America/New_York", day: "2026-03-08", tricky: "02:30",
			want:   [3]string{"2026-03-07 07:30", "2026-03-08 07:00", "2026-03-09 06:30"},
			want20: [3]string{"2026-03-08 01:30", "2026-03-09 00:30", "2026-03-10 00:30"}},
		{name: "New York fall back", zone: "America/New_York", day: "2026-11-01", tricky: "01:30",
			want:   [3]string{"2026-10-31 05:30", "2026-11-01 05:30", "2026-11-02 06:30"},
			want20: [3]string{"2026-11-01 00:30", "2026-11-02 01:30", "2026-11-03 01:30"}},
		{name: "Auckland fall back", zone: "Pacific/Auckland", day: "2026-04-05", tricky: "02:30",
			want:   [3]string{"2026-04-03 13:30", "2026-04-04 13:30", "2026-04-05 14:30"},
			want20: [3]string{"2026-04-04 07:30", "2026-04-05 08:30", "2026-04-06 08:30"}},
		{name: "Auckland spring forward", zone: "Pacific/Auckland", day: "2026-09-27", tricky: "02:30",
			want:   [3]string{"2026-09-25 14:30", "2026-09-26 14:00", "2026-09-27 13:30"},
			want20: [3]string{"2026-09-26 08:30", "2026-09-27 07:30", "2026-09-28 07:30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loc := mustZone(t, tt.zone)
			day, err := time.ParseInLocation(time.DateOnly, tt.day, loc)
			if err != nil {
				t.Fatal(err)
			}
			begin := time.Date(day.Year(), day.Month(), day.Day()-1, 0, 0, 0, 0, loc)
			end := time.Date(day.Year(), day.Month(), day.Day()+2, 0, 0, 0, 0, loc)
			e := newEnv(t, begin.Add(-time.Hour))
			tricky, evening := e.onboard(1, "nl"), e.onboard(2, "en")
			for chat, at := range map[int64]string{1: tt.tricky, 2: "20:30"} {
				e.command(chat, "/checkin zone "+tt.zone)
				e.command(chat, "/checkin "+at)
			}
			s := e.scheduler()
			sent := 0
			for now := begin; now.Before(end); now = now.Add(5 * time.Minute) {
				e.clock.Set(now)
				n, err := s.RunOnce(e.ctx, now)
				if err != nil {
					t.Fatalf("RunOnce at %v: %v", now, err)
				}
				sent += n
			}
			starts := e.startsOf(ScriptCheckin)
			for person, want := range map[int64][3]string{tricky: tt.want, evening: tt.want20} {
				got := starts[person]
				if len(got) != 3 {
					t.Fatalf("person %d: %d check-ins %v, want 3 at %v", person, len(got), got, want)
				}
				days := map[string]bool{}
				for i, at := range got {
					if !at.Equal(utc(want[i])) {
						t.Errorf("person %d check-in %d at %v (local %v), want %s UTC", person, i+1, at.UTC(), at.In(loc), want[i])
					}
					d := schedule.LocalDay(at, loc)
					if days[d] {
						t.Errorf("person %d got two check-ins on %s", person, d)
					}
					days[d] = true
				}
			}
			if sent != 6 {
				t.Errorf("RunOnce reported %d sent, want 6", sent)
			}
		})
	}
}

// TestTwoSchedulersExactlyOnce lets two schedulers, each with its own
// service and connection pool use, start 1,000 due check-ins at the same time.
func TestTwoSchedulersExactlyOnce(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	now := time.Date(2026, 5, 4, 20, 31, 0, 0, ams)
	e := newEnv(t, now)
	const n = 1000
	e.seedDue(n, 1, "Europe/Amsterdam", 20, 30, now.Add(-time.Minute))

	a, b := e.scheduler(WithBatch(50), WithWorkers(4)), e.scheduler(WithBatch(50), WithWorkers(4))
	var wg sync.WaitGroup
	var sent [2]int
	for i, s := range []*Scheduler{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if sent[i], err = s.RunOnce(e.ctx, now); err != nil {
				t.Errorf("scheduler %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if sent[0]+sent[1] != n {
		t.Errorf("sent %d + %d, want %d in all", sent[0], sent[1], n)
	}
	if sent[0] == 0 || sent[1] == 0 {
		t.Logf("one scheduler did all the work: %v", sent)
	}
	e.checkExactlyOnce(n, "2026-05-04")
}

// checkExactlyOnce checks that each of the n bulk people got one check-in
// start for day and its three messages, at scheduled priority, and that
// their rows moved on to the next day and were released.
func (e *env) checkExactlyOnce(n int, day string) {
	e.t.Helper()
	if got := e.count(`SELECT count(*) FROM (
    SELECT p.id FROM people p JOIN inputs i ON i.person_id = p.id AND i.source = 'checkin:' || p.id || ':' || $1
    WHERE p.channel = 'bulk' GROUP BY p.id HAVING count(*) = 1) x`, day); got != n {
		e.t.Errorf("%d people have exactly one check-in input, want %d", got, n)
	}
	if got := e.count(`SELECT count(*) FROM inputs WHERE source LIKE 'checkin:%'`); got != n {
		e.t.Errorf("%d check-in inputs, want %d", got, n)
	}
	// The theme, the intro and the mood question: three messages each.
	if got := e.count(`SELECT count(*) FROM (
    SELECT o.person_id FROM outbox o GROUP BY o.person_id HAVING count(*) = 3 AND min(o.priority) = 10 AND max(o.priority) = 10) x`); got != n {
		e.t.Errorf("%d people have exactly three scheduled messages, want %d", got, n)
	}
	if got := len(e.startsOf(ScriptCheckin)); got != n {
		e.t.Errorf("the engine started %d check-ins, want %d", got, n)
	}
	for p, at := range e.startsOf(ScriptCheckin) {
		if len(at) != 1 {
			e.t.Errorf("person %d: %d starts", p, len(at))
		}
	}
	if got := e.count(`SELECT count(*) FROM checkin_schedules
WHERE last_local_day = $1 AND next_due_at > $2 AND claimed_until IS NULL AND attempt = 0`, day, e.clock.Now()); got != n {
		e.t.Errorf("%d rows moved on and released, want %d", got, n)
	}
}

// TestRestartMidFanOut cancels a scheduler half way through 1,000 check-ins;
// a new scheduler finishes them, nothing doubled, nothing missed. Then a
// scheduler that dies without releasing its claim (a crash) is taken over once
// its lease has run out.
func TestRestartMidFanOut(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	now := time.Date(2026, 5, 4, 20, 31, 0, 0, ams)
	var turns atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t, now, withService(conversation.WithHook(func(context.Context, *conversation.Turn) error {
		if turns.Add(1) == 400 {
			cancel() // the shutdown signal arrives in the middle of the fan-out
		}
		return nil
	})))
	const n = 1000
	e.seedDue(n, 1, "Europe/Amsterdam", 20, 30, now.Add(-time.Minute))

	first, err := e.scheduler(WithBatch(100), WithWorkers(8)).RunOnce(ctx, now)
	if err == nil || first == 0 || first >= n {
		t.Fatalf("the cancelled pass sent %d, err %v; want it stopped part way", first, err)
	}
	if got := e.count(`SELECT count(*) FROM checkin_schedules WHERE claimed_until IS NOT NULL`); got != 0 {
		t.Errorf("%d rows still claimed after a cancelled pass, want all released", got)
	}
	rest, err := e.scheduler(WithBatch(100), WithWorkers(8)).RunOnce(e.ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	// A turn that committed just as the context ended reports an error to
	// the first pass and a duplicate to the second: it counts in neither,
	// though it happened once (checked below).
	if first+rest > n || first+rest < n-8 {
		t.Errorf("sent %d + %d, want about %d", first, rest, n)
	}
	e.checkExactlyOnce(n, "2026-05-04")

	// A crash: a pass claims the next day's rows and dies before it runs a
	// single turn. Nobody else takes them until the lease ends.
	next := now.AddDate(0, 0, 1)
	e.clock.Set(next)
	crashed := e.scheduler(WithBatch(n), WithLease(2*time.Minute))
	if rows, err := crashed.claim(e.ctx, next, newClaim()); err != nil || len(rows) != n {
		t.Fatalf("claim: %d rows, %v", len(rows), err)
	}
	if sent, err := e.scheduler().RunOnce(e.ctx, next); err != nil || sent != 0 {
		t.Fatalf("during the lease another scheduler sent %d (%v), want 0", sent, err)
	}
	later := next.Add(3 * time.Minute)
	e.clock.Set(later)
	if sent, err := e.scheduler().RunOnce(e.ctx, later); err != nil || sent != n {
		t.Fatalf("after the lease another scheduler sent %d (%v), want %d", sent, err, n)
	}
	if got := e.count(`SELECT count(*) FROM inputs WHERE source LIKE 'checkin:%:2026-05-05%'`); got != 2*n {
		// yesterday's check-ins were never answered: each is cleared by a
		// first turn and started by a second one
		t.Errorf("%d inputs for the second day, want %d", got, 2*n)
	}
	for p, at := range e.startsOf(ScriptCheckin) {
		if len(at) != 2 {
			t.Fatalf("person %d: %d starts over two days, want 2", p, len(at))
		}
	}
}

func TestSkips(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	e := newEnv(t, time.Date(2026, 5, 4, 8, 0, 0, 0, ams)) // Monday 08:00
	fine, inactive, paused := e.onboard(1, "nl"), e.onboard(2, "nl"), e.onboard(3, "nl")
	for chat := int64(1); chat <= 3; chat++ {
		e.command(chat, "/checkin 09:00")
	}
	e.command(3, "/checkin pauze 3") // until Thursday 08:00
	e.exec(`UPDATE people SET active = false WHERE id = $1`, inactive)
	s := e.scheduler()
	run := func(at time.Time, want int) {
		t.Helper()
		e.clock.Set(at)
		n, err := s.RunOnce(e.ctx, at)
		if err != nil {
			t.Fatalf("RunOnce at %v: %v", at, err)
		}
		if n != want {
			t.Fatalf("RunOnce at %v sent %d, want %d", at, n, want)
		}
	}
	run(time.Date(2026, 5, 4, 9, 0, 0, 0, ams), 1) // only the fine person
	// Downtime: on Tuesday the scheduler first runs at 11:30, more than the
	// two-hour window after 09:00. Nothing is sent late.
	run(time.Date(2026, 5, 5, 11, 30, 0, 0, ams), 0)
	var next time.Time
	if err := e.db.Pool().QueryRow(e.ctx, `SELECT next_due_at FROM checkin_schedules WHERE person_id = $1`, fine).Scan(&next); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 5, 6, 9, 0, 0, 0, ams); !next.Equal(want) {
		t.Errorf("after the late skip the next check-in is due %v, want %v", next.In(ams), want)
	}
	// On Wednesday it runs at 10:30, within the window: sent, late.
	run(time.Date(2026, 5, 6, 10, 30, 0, 0, ams), 1)
	// On Thursday the pause has ended.
	run(time.Date(2026, 5, 7, 9, 0, 0, 0, ams), 2)

	got := e.startsOf(ScriptCheckin)
	if len(got[fine]) != 3 || len(got[inactive]) != 0 || len(got[paused]) != 1 {
		t.Errorf("starts: fine %v (want Mon, Wed, Thu), inactive %v (want none), paused %v (want Thu)",
			got[fine], got[inactive], got[paused])
	}
	if ps := got[paused]; len(ps) == 1 && !ps[0].Equal(time.Date(2026, 5, 7, 9, 0, 0, 0, ams)) {
		t.Errorf("the paused person's first check-in at %v, want Thursday 09:00", ps[0].In(ams))
	}
	for _, p := range []int64{inactive, paused} {
		if got := e.count(`SELECT count(*) FROM inputs WHERE person_id = $1 AND source LIKE 'checkin:%' AND processed_at < $2`,
			p, time.Date(2026, 5, 7, 0, 0, 0, 0, ams)); got != 0 {
			t.Errorf("person %d got %d scheduled turns while inactive or paused", p, got)
		}
	}
}

// A pass holds back between batches while the outbox is full, and goes on
// once delivery caught up.
func TestBacklogHoldsStartsBack(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	now := time.Date(2026, 5, 4, 20, 31, 0, 0, ams)
	e := newEnv(t, now)
	const n = 10
	e.seedDue(n, 1, "Europe/Amsterdam", 20, 30, now.Add(-time.Minute))
	started := func() int { return e.count(`SELECT count(*) FROM inputs WHERE source LIKE 'checkin:%'`) }
	s := e.scheduler(WithBatch(4), WithWorkers(2), WithBacklog(6))
	s.pause = 5 * time.Millisecond

	done := make(chan int, 1)
	go func() {
		sent, err := s.RunOnce(e.ctx, now)
		if err != nil {
			t.Errorf("RunOnce: %v", err)
		}
		done <- sent
	}()
	deadline := time.Now().Add(time.Minute)
	for started() < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("the first batch did not start: %d started", started())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Its 12 messages fill the outbox past 6: the pass waits.
	for range 30 {
		if got := started(); got != 4 {
			t.Fatalf("%d check-ins started while the outbox held %d messages, want 4", got,
				e.count(`SELECT count(*) FROM outbox WHERE status = 'pending'`))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Delivery catches up, batch after batch.
	for {
		e.exec(`UPDATE outbox SET status = 'sent' WHERE status = 'pending'`)
		select {
		case sent := <-done:
			if sent != n || started() != n {
				t.Fatalf("sent %d, started %d; want %d", sent, started(), n)
			}
			e.checkExactlyOnce(n, "2026-05-04")
			return
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pass did not finish: %d started", started())
		}
	}
}
