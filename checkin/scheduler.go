package checkin

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/schedule"
	"github.com/stilstaan/stilstaan/storage"
)

// Scheduler starts the check-ins, evening questions and weekly summaries
// that are due. Any number of schedulers may run against one database (one
// per replica); each due one is started exactly once.
//
// A pass claims a batch of due rows in a short transaction (FOR UPDATE SKIP
// LOCKED), marking them with a lease so other schedulers leave them alone,
// and commits at once: no lock is held while the turns run, so a person
// changing their settings at that moment never waits for a scheduler, and a
// scheduler never waits for a person. Each start is then a conversation turn
// whose source names the person and the local day ("checkin:42:2026-03-29"):
// run it twice, from two replicas or after a crash, and the second is a
// no-op. The turn itself moves the row to its next due time. What is skipped
// (late, paused, inactive, done today) is moved on by the scheduler, and the
// lease released, in one batch per pass. A scheduler that dies leaves its
// rows to others once the lease runs out; one that is cancelled releases
// them at once.
type Scheduler struct {
	f       *Feature
	db      *storage.DB
	svc     *conversation.Service
	now     func() time.Time
	batch   int
	workers int
	lease   time.Duration
	log     *slog.Logger
	backlog int           // see WithBacklog
	pause   time.Duration // how often a held-back pass looks at the outbox again
}

// SchedulerOption configures a Scheduler.
type SchedulerOption func(*Scheduler)

// WithClock sets the clock of Run (RunOnce takes the time as an argument).
func WithClock(now func() time.Time) SchedulerOption { return func(s *Scheduler) { s.now = now } }

// WithBatch sets how many due rows one claim takes (default 200).
func WithBatch(n int) SchedulerOption { return func(s *Scheduler) { s.batch = max(n, 1) } }

// WithWorkers sets how many turns run at once (default 8). Keep it below the
// database pool size.
func WithWorkers(n int) SchedulerOption { return func(s *Scheduler) { s.workers = max(n, 1) } }

// WithLease sets how long claimed rows stay reserved for this scheduler
// (default 2 minutes): after a crash, others take them over once it ends.
func WithLease(d time.Duration) SchedulerOption {
	return func(s *Scheduler) {
		if d > 0 {
			s.lease = d
		}
	}
}

// WithBacklog holds a pass back, between two batches, while the outbox
// holds n or more messages still to send (0, the default: never). Starting
// check-ins faster than delivery can send them buys nobody an earlier
// message: the messages only queue, and the work of the starts takes the
// processor from delivery and from people's replies meanwhile. stilstaan
// run sets n to ten seconds of telegram.global_rate. A pass that waits
// keeps its check-ins' times: what is due at its start is still started
// unless checkin.late_window passes.
func WithBacklog(n int) SchedulerOption { return func(s *Scheduler) { s.backlog = max(n, 0) } }

// NewScheduler returns a scheduler that starts turns through svc, which must
// have the feature's Options.
func (f *Feature) NewScheduler(db *storage.DB, svc *conversation.Service, opts ...SchedulerOption) *Scheduler {
	s := &Scheduler{f: f, db: db, svc: svc, now: time.Now, batch: 200, workers: 8, lease: 2 * time.Minute, log: f.log,
		pause: 100 * time.Millisecond}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Run calls RunOnce every checkin.scan_interval until ctx ends. Errors are
// logged; the next pass tries again.
func (s *Scheduler) Run(ctx context.Context) error {
	tick := time.NewTicker(s.f.scan)
	defer tick.Stop()
	for {
		sent, err := s.RunOnce(ctx, s.now())
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.ErrorContext(ctx, "checkin: scheduler pass failed", slog.Int("sent", sent), slog.Any("error", err))
		case sent > 0:
			s.log.InfoContext(ctx, "checkin: scheduler pass", slog.Int("sent", sent))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// job is one of the things a schedule row makes due.
type job int

const (
	jobDaily job = iota
	jobEvening
	jobWeekly
)

type outcome int

const (
	outcomeNone    outcome = iota
	outcomeStarted         // the check-in, evening question or summary went out
	outcomeBusy            // another exercise was running (or the person is not onboarded): skipped today
	outcomeRetry           // an unanswered check-in of an earlier day was cleared: start again
	outcomeEmpty           // a weekly summary with nothing to show: skipped
)

// plan is what the scheduler decided for one job of one person. It travels
// to the feature's hook and /mood command through the context of the turn,
// which report the outcome in it.
type plan struct {
	person  int64
	job     job
	day     string // local day of the occurrence
	attempt int
	version int64
	next    time.Time // the job's next due time, unless the settings changed meanwhile
	retryAt time.Time
	loc     *time.Location
	outcome outcome
	dup     bool // the turn had run before (its source was processed)
}

type planKey struct{}

func withPlan(ctx context.Context, p *plan) context.Context {
	return context.WithValue(ctx, planKey{}, p)
}

func planFrom(ctx context.Context) *plan {
	p, _ := ctx.Value(planKey{}).(*plan)
	return p
}

// row is a claimed schedule row with its person.
type row struct {
	person      int64
	channel     string
	externalID  int64
	lang        string
	active      bool
	settings    Settings
	version     int64
	attempt     int
	lastDay     string
	eveningLast string
	weeklyLast  string
	settingsLoc *time.Location
}

const sqlClaim = `WITH due AS (
    SELECT person_id FROM checkin_schedules
    WHERE due_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
    ORDER BY due_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE checkin_schedules s SET claimed_until = $3, claim = $4
FROM due, people p
WHERE s.person_id = due.person_id AND p.id = s.person_id
RETURNING s.person_id, p.channel, p.external_id, p.lang, p.active, s.enabled, s.hour, s.minute, s.zone,
    s.paused_until, s.evening, s.weekly, s.version, s.attempt, s.next_due_at, COALESCE(s.last_local_day, ''),
    s.evening_due_at, COALESCE(s.evening_last_day, ''), s.weekly_due_at, COALESCE(s.weekly_last_day, '')`

// sqlRelease moves on what a pass skipped and releases the row, unless a
// change of the settings took it over meanwhile (claim reset). With keep,
// the claim stays until the lease ends (the start failed: try later).
const sqlRelease = `UPDATE checkin_schedules SET
    next_due_at      = CASE WHEN $3 THEN $4 ELSE next_due_at END,
    last_local_day   = CASE WHEN $3 AND $5 <> '' THEN $5 ELSE last_local_day END,
    attempt          = CASE WHEN $3 THEN 0 ELSE attempt END,
    evening_due_at   = CASE WHEN $6 THEN $7 ELSE evening_due_at END,
    evening_last_day = CASE WHEN $6 AND $8 <> '' THEN $8 ELSE evening_last_day END,
    weekly_due_at    = CASE WHEN $9 THEN $10 ELSE weekly_due_at END,
    weekly_last_day  = CASE WHEN $9 AND $11 <> '' THEN $11 ELSE weekly_last_day END,
    claimed_until    = CASE WHEN $12 THEN claimed_until END,
    claim            = CASE WHEN $12 THEN claim END
WHERE person_id = $1 AND claim = $2`

// RunOnce starts everything due at now, claiming batches until none is left,
// and returns how many check-ins, evening questions and weekly summaries it
// started. Several RunOnce calls (in one process or many) may run at once.
// When ctx ends it stops starting new turns, releases the rows it did not
// finish and returns ctx's error.
func (s *Scheduler) RunOnce(ctx context.Context, now time.Time) (sent int, err error) {
	claim := newClaim()
	var failed []error
	for {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		if err := s.waitForDelivery(ctx); err != nil {
			return sent, err
		}
		rows, err := s.claim(ctx, now, claim)
		if err != nil {
			return sent, err
		}
		if len(rows) == 0 {
			break
		}
		n, errs := s.fanOut(ctx, rows, now, claim)
		sent += n
		failed = append(failed, errs...)
		if err := ctx.Err(); err != nil {
			return sent, err
		}
	}
	if len(failed) > 0 {
		return sent, fmt.Errorf("checkin: %d starts failed (they are retried after the lease): %w", len(failed), failed[0])
	}
	return sent, nil
}

// waitForDelivery waits while the outbox holds s.backlog messages or more.
func (s *Scheduler) waitForDelivery(ctx context.Context) error {
	if s.backlog == 0 {
		return nil
	}
	for {
		behind, err := s.db.OutboxBacklog(ctx, s.backlog)
		if err != nil {
			return fmt.Errorf("checkin: outbox backlog: %w", err)
		}
		if !behind {
			return nil
		}
		t := time.NewTimer(s.pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func newClaim() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

func (s *Scheduler) claim(ctx context.Context, now time.Time, claim int64) ([]row, error) {
	rs, err := s.db.Pool().Query(ctx, sqlClaim, now, s.batch, now.Add(s.lease), claim)
	if err != nil {
		return nil, fmt.Errorf("checkin: claim: %w", err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var (
			r            row
			hour, minute int16
			attempt      int16
			paused       *time.Time
			st           = &r.settings
		)
		if err := rs.Scan(&r.person, &r.channel, &r.externalID, &r.lang, &r.active, &st.Enabled, &hour, &minute,
			&st.Zone, &paused, &st.Evening, &st.Weekly, &r.version, &attempt, &st.daily, &r.lastDay,
			&st.eveningDue, &r.eveningLast, &st.weeklyDue, &r.weeklyLast); err != nil {
			return nil, fmt.Errorf("checkin: claim: %w", err)
		}
		st.Hour, st.Minute, st.stored, r.attempt = int(hour), int(minute), true, int(attempt)
		if paused != nil {
			st.PausedUntil = *paused
		}
		r.settingsLoc = s.f.location(st.Zone)
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("checkin: claim: %w", err)
	}
	return out, nil
}

// result is what processing one row left for the release: the jobs to move
// on (skipped, or found done), and whether the row was finished at all.
type result struct {
	daily, evening, weekly *moveOn
	keep                   bool // a start failed: keep the claim until the lease ends
	started                int
	err                    error
}

// moveOn sets a job's next due time (nil: none) and, when day is set, its
// last served local day.
type moveOn struct {
	next *time.Time
	day  string
}

// fanOut processes rows with the scheduler's workers and then releases them
// in one batch.
func (s *Scheduler) fanOut(ctx context.Context, rows []row, now time.Time, claim int64) (int, []error) {
	results := make([]result, len(rows))
	done := make([]bool, len(rows))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(s.workers, len(rows)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = s.process(ctx, &rows[i], now)
				done[i] = ctx.Err() == nil
			}
		}()
	}
feed:
	for i := range rows {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()

	sent := 0
	var errs []error
	b := &pgx.Batch{}
	for i := range rows {
		r, res := &rows[i], results[i]
		sent += res.started // those turns committed, whatever happened next
		if !done[i] {
			// Not (surely) finished because ctx ended: release it for the
			// next scheduler; whatever did start is deduplicated then.
			res = result{}
		}
		if res.err != nil {
			errs = append(errs, res.err)
		}
		b.Queue(sqlRelease, r.person, claim,
			res.daily != nil, movedNext(res.daily), movedDay(res.daily),
			res.evening != nil, movedNext(res.evening), movedDay(res.evening),
			res.weekly != nil, movedNext(res.weekly), movedDay(res.weekly),
			res.keep && done[i])
	}
	// Release even when ctx ended, so that no row waits for its lease.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.db.Pool().SendBatch(rctx, b).Close(); err != nil {
		errs = append(errs, fmt.Errorf("checkin: release: %w", err))
	}
	return sent, errs
}

func movedNext(m *moveOn) *time.Time {
	if m == nil {
		return nil
	}
	return m.next
}

func movedDay(m *moveOn) string {
	if m == nil {
		return ""
	}
	return m.day
}

// process decides and starts the due jobs of one row: the daily check-in
// first, so that the evening question of the same pass knows about it.
func (s *Scheduler) process(ctx context.Context, r *row, now time.Time) result {
	var res result
	st := r.settings
	loc := r.settingsLoc
	from := now
	if st.PausedUntil.After(now) {
		from = st.PausedUntil.Add(-time.Nanosecond)
	}
	paused := func(at time.Time) bool { return at.Before(st.PausedUntil) }

	if st.daily != nil && !st.daily.After(now) {
		d := schedule.Daily{Hour: st.Hour, Minute: st.Minute, Location: loc}
		next := d.NextAfter(from)
		due, at := d.Due(now, time.Time{}, s.f.late)
		day := schedule.LocalDay(at, loc)
		switch {
		case !st.Enabled:
			res.daily = &moveOn{}
		case !due, !r.active, paused(at), r.lastDay == day:
			res.daily = &moveOn{next: &next}
		default:
			p := &plan{person: r.person, job: jobDaily, day: day, attempt: r.attempt, version: r.version,
				next: next, retryAt: now, loc: loc}
			source := "checkin:" + strconv.FormatInt(r.person, 10) + ":" + day
			if r.attempt > 0 {
				source += ":" + strconv.Itoa(r.attempt)
			}
			theme := say(r.lang, "theme.today", "{theme}", ThemeFor(r.person, day).Text(r.lang))
			if !s.start(ctx, r, p, source, dialogs.Input{Kind: dialogs.InputStart, Data: ScriptCheckin}, theme, &res) {
				return res
			}
			switch {
			case p.dup: // done before; the row was not moved on then
				res.daily = &moveOn{next: &next, day: day}
				r.lastDay = day
			case p.outcome == outcomeStarted:
				r.lastDay = day
			}
		}
	}

	if st.eveningDue != nil && !st.eveningDue.After(now) {
		e := schedule.Daily{Hour: s.f.evening.hour, Minute: s.f.evening.minute, Location: loc}
		next := e.NextAfter(from)
		due, at := e.Due(now, time.Time{}, s.f.late)
		day := schedule.LocalDay(at, loc)
		switch {
		case !st.Enabled || !st.Evening:
			res.evening = &moveOn{}
		case !due, !r.active, paused(at), r.eveningLast == day, r.lastDay != day:
			res.evening = &moveOn{next: &next}
		default:
			p := &plan{person: r.person, job: jobEvening, day: day, version: r.version, next: next, loc: loc}
			source := "checkin-evening:" + strconv.FormatInt(r.person, 10) + ":" + day
			theme := say(r.lang, "theme.evening", "{theme}", ThemeFor(r.person, day).Text(r.lang))
			if !s.start(ctx, r, p, source, dialogs.Input{Kind: dialogs.InputStart, Data: ScriptEvening}, theme, &res) {
				return res
			}
			if p.dup {
				res.evening = &moveOn{next: &next, day: day}
			}
		}
	}

	if st.weeklyDue != nil && !st.weeklyDue.After(now) {
		w := s.f.weeklyOf(loc)
		next := w.NextAfter(from)
		at := *st.weeklyDue
		for n := w.NextAfter(at); !n.After(now); n = w.NextAfter(n) {
			at = n // the latest occurrence, after downtime
		}
		day := schedule.LocalDay(at, loc)
		switch {
		case !st.Enabled || !st.Weekly:
			res.weekly = &moveOn{}
		case now.Sub(at) > s.f.late, !r.active, paused(at), r.weeklyLast == day:
			res.weekly = &moveOn{next: &next}
		case !s.hadWeek(ctx, r.person, at.In(loc)):
			// Nothing happened this week: no picture to push, and no turn
			// that would look like the person's own activity.
			res.weekly = &moveOn{next: &next, day: day}
		default:
			p := &plan{person: r.person, job: jobWeekly, day: day, version: r.version, next: next, loc: loc}
			source := "checkin-weekly:" + strconv.FormatInt(r.person, 10) + ":" + day
			if !s.start(ctx, r, p, source, dialogs.Input{Kind: dialogs.InputCommand, Command: "mood"}, "", &res) {
				return res
			}
			if p.dup {
				res.weekly = &moveOn{next: &next, day: day}
			}
		}
	}
	return res
}

// start runs one scheduled turn. It reports false when the row should not be
// processed further in this pass (the turn failed).
func (s *Scheduler) start(ctx context.Context, r *row, p *plan, source string, in dialogs.Input, preface string, res *result) bool {
	inc := conversation.Incoming{Channel: r.channel, ChatID: r.externalID, Source: source,
		Priority: conversation.PriorityScheduled, Input: in}
	if preface != "" {
		inc.Preface = []conversation.Envelope{{Text: preface}}
	}
	out, err := s.svc.Handle(withPlan(ctx, p), inc)
	if err != nil {
		res.keep = true
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			s.log.ErrorContext(ctx, "checkin: scheduled turn failed", slog.Int64("person_id", r.person), slog.Any("error", err))
			res.err = err
		}
		return false
	}
	if out.Duplicate {
		p.dup = true
		return true
	}
	if p.outcome == outcomeStarted {
		res.started++
	}
	return true
}

const sqlHadWeek = `SELECT EXISTS (SELECT 1 FROM checkins WHERE person_id = $1 AND at >= $2 AND mood IS NOT NULL)
    OR EXISTS (SELECT 1 FROM exercise_runs WHERE person_id = $1 AND ended_at >= $2)`

// hadWeek reports whether the person checked in or did an exercise in the
// seven local days up to at. On a database error it says yes: the summary's
// own turn looks again.
func (s *Scheduler) hadWeek(ctx context.Context, person int64, at time.Time) bool {
	since := time.Date(at.Year(), at.Month(), at.Day()-6, 0, 0, 0, 0, at.Location())
	var had bool
	if err := s.db.Pool().QueryRow(ctx, sqlHadWeek, person, since).Scan(&had); err != nil {
		return true
	}
	return had
}
