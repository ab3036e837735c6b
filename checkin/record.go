package checkin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/schedule"
	"github.com/stilstaan/stilstaan/storage"
)

// afterTurn is the feature's hook: it finishes a turn the Scheduler started,
// records a finished check-in or exercise, and offers check-ins after a
// person's first exercise.
func (f *Feature) afterTurn(ctx context.Context, t *conversation.Turn) error {
	if p := planFrom(ctx); p != nil && p.person == t.Tx.Person().ID && p.job != jobWeekly {
		if err := f.afterScheduled(ctx, t, p); err != nil {
			return err
		}
	}
	e := t.Out.Ended
	if e == nil {
		return nil
	}
	switch e.Exercise {
	case ScriptCheckin:
		return f.recordCheckin(ctx, t, e.StartedAt, e.EndedAt, e.Scales, e.Options, e.Texts)
	case ScriptEvening:
		return nil // the answer is in the transcript (with consent), like any other
	}
	if err := f.recordRun(ctx, t, e); err != nil {
		return err
	}
	if t.State.Done == 1 {
		return f.offer(ctx, t)
	}
	return nil
}

const (
	sqlInsertCheckin = `INSERT INTO checkins (person_id, local_day, mood, feeling, note, theme, at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`
	sqlInsertRun = `INSERT INTO exercise_runs (person_id, exercise, started_at, ended_at, scales)
VALUES ($1, $2, $3, $4, $5)`
	sqlZone = `SELECT zone FROM checkin_schedules WHERE person_id = $1`
)

// zoneOf reads the person's time zone inside the turn.
func (f *Feature) zoneOf(t *conversation.Turn) (*time.Location, error) {
	var zone string
	err := t.Tx.QueryRow(sqlZone, t.Tx.Person().ID).Scan(&zone)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		zone = f.defaultZone
	case err != nil:
		return nil, fmt.Errorf("checkin: read zone: %w", err)
	}
	return f.location(zone), nil
}

// recordCheckin stores a check-in's answers. The local day is the day the
// check-in started, in the person's zone.
func (f *Feature) recordCheckin(ctx context.Context, t *conversation.Turn, started, ended time.Time,
	scales map[string]int, options map[string][]string, texts map[string]string) error {
	loc, err := f.zoneOf(t)
	if err != nil {
		return err
	}
	if ended.IsZero() {
		ended = t.Now
	}
	if started.IsZero() {
		started = ended
	}
	day := schedule.LocalDay(started, loc)
	var mood *int
	if v, ok := scales[StepMood]; ok && v >= 1 && v <= 5 {
		mood = &v
	}
	var feeling *string
	if o := options[StepFeeling]; len(o) > 0 {
		feeling = &o[0]
	}
	var note []byte // NULL when skipped, or withheld without consent
	if s := texts[StepNote]; s != "" {
		if note, err = t.Tx.Seal([]byte(s)); err != nil {
			return fmt.Errorf("checkin: record: %w", err)
		}
	}
	person := t.Tx.Person().ID
	if err := t.Tx.Exec(ctx, sqlInsertCheckin, person, day, mood, feeling, note, ThemeFor(person, day).ID, ended); err != nil {
		return fmt.Errorf("checkin: record: %w", err)
	}
	return nil
}

// recordRun stores a finished exercise's scale answers (numbers only).
func (f *Feature) recordRun(ctx context.Context, t *conversation.Turn, e *dialogs.RunSummary) error {
	scales := e.Scales
	if scales == nil {
		scales = map[string]int{}
	}
	raw, err := json.Marshal(scales)
	if err != nil {
		return fmt.Errorf("checkin: record run: %w", err)
	}
	ended := e.EndedAt
	if ended.IsZero() {
		ended = t.Now
	}
	started := e.StartedAt
	if started.IsZero() {
		started = ended
	}
	if err := t.Tx.Exec(ctx, sqlInsertRun, t.Tx.Person().ID, e.Exercise, started, ended, string(raw)); err != nil {
		return fmt.Errorf("checkin: record run: %w", err)
	}
	return nil
}

// sqlOffered marks that check-ins were offered, creating the person's row
// (off) when there is none.
const sqlOffered = `INSERT INTO checkin_schedules (person_id, enabled, hour, minute, zone, offered_at, updated_at)
VALUES ($1, false, $2, $3, $4, $5, $5)
ON CONFLICT (person_id) DO UPDATE SET offered_at = EXCLUDED.offered_at`

// offer asks, once, whether the person would like a daily check-in. It is
// not asked of someone who already chose (a settings row exists).
func (f *Feature) offer(ctx context.Context, t *conversation.Turn) error {
	s, err := f.load(t)
	if err != nil {
		return err
	}
	if s.stored {
		return nil
	}
	if err := t.Tx.Exec(ctx, sqlOffered, t.Tx.Person().ID, s.Hour, s.Minute, s.Zone, t.Tx.Now()); err != nil {
		return fmt.Errorf("checkin: offer: %w", err)
	}
	lang := t.Lang()
	return t.Send(conversation.Envelope{Text: say(lang, "offer.text"), Buttons: [][]dialogs.Button{
		{{Label: say(lang, "offer.yes"), Data: ButtonPrefix + ":offer:yes"}},
		{{Label: say(lang, "offer.no"), Data: ButtonPrefix + ":offer:no"}},
	}, Choice: true}, t.Priority())
}

const (
	// sqlDailyDone records that the check-in of a local day was started (or
	// could not be, because another exercise was running). The next due time
	// is only set when the settings did not change since the scheduler read
	// them; a change computed its own.
	sqlDailyDone = `UPDATE checkin_schedules SET last_local_day = $2, attempt = 0,
    next_due_at = CASE WHEN version = $3 THEN $4 ELSE next_due_at END
WHERE person_id = $1`
	// sqlDailyRetry makes the check-in due again at once, as a second attempt.
	sqlDailyRetry = `UPDATE checkin_schedules SET attempt = 1,
    next_due_at = CASE WHEN version = $2 THEN $3 ELSE next_due_at END
WHERE person_id = $1`
	sqlEveningDone = `UPDATE checkin_schedules SET evening_last_day = $2,
    evening_due_at = CASE WHEN version = $3 THEN $4 ELSE evening_due_at END
WHERE person_id = $1`
	sqlWeeklyDone = `UPDATE checkin_schedules SET weekly_last_day = $2,
    weekly_due_at = CASE WHEN version = $3 THEN $4 ELSE weekly_due_at END
WHERE person_id = $1`
)

// afterScheduled moves the schedule row on in the same transaction as the
// turn that started a check-in or evening question, so that the start and the
// bookkeeping commit together.
func (f *Feature) afterScheduled(ctx context.Context, t *conversation.Turn, p *plan) error {
	id := t.Tx.Person().ID
	var err error
	switch p.job {
	case jobDaily:
		switch {
		case t.Out.Started == ScriptCheckin:
			p.outcome = outcomeStarted
			err = t.Tx.Exec(ctx, sqlDailyDone, id, p.day, p.version, p.next)
		case t.Out.Busy && p.attempt == 0 && f.stale(t.Before.Run, p):
			// Yesterday's check-in, never answered, must not block today's:
			// keep what was answered of it, clear it, and start again.
			if err := f.recordStale(ctx, t, t.Before.Run); err != nil {
				return err
			}
			t.State.Run = nil
			p.outcome = outcomeRetry
			err = t.Tx.Exec(ctx, sqlDailyRetry, id, p.version, p.retryAt)
		default:
			// Busy with an exercise, or not onboarded yet: today is skipped.
			p.outcome = outcomeBusy
			err = t.Tx.Exec(ctx, sqlDailyDone, id, p.day, p.version, p.next)
		}
	case jobEvening:
		p.outcome = outcomeBusy
		if t.Out.Started == ScriptEvening {
			p.outcome = outcomeStarted
		}
		err = t.Tx.Exec(ctx, sqlEveningDone, id, p.day, p.version, p.next)
	}
	if err != nil {
		return fmt.Errorf("checkin: after scheduled turn: %w", err)
	}
	return nil
}

// stale reports whether run is a check-in or evening question from an
// earlier day than the one p starts.
func (f *Feature) stale(run *dialogs.Run, p *plan) bool {
	if run == nil || (run.Exercise != ScriptCheckin && run.Exercise != ScriptEvening) {
		return false
	}
	return run.StartedAt.IsZero() || schedule.LocalDay(run.StartedAt, p.loc) < p.day
}

// recordStale keeps the answers of an unfinished check-in that is cleared,
// when its mood was given.
func (f *Feature) recordStale(ctx context.Context, t *conversation.Turn, run *dialogs.Run) error {
	if run.Exercise != ScriptCheckin {
		return nil
	}
	if a, ok := run.Answers[StepMood]; !ok || a.Value == nil {
		return nil
	}
	scales, options, texts := map[string]int{}, map[string][]string{}, map[string]string{}
	for id, a := range run.Answers {
		switch {
		case a.Value != nil:
			scales[id] = *a.Value
		case len(a.Options) > 0:
			options[id] = a.Options
		case a.Text != "":
			texts[id] = a.Text
		}
	}
	return f.recordCheckin(ctx, t, run.StartedAt, t.Now, scales, options, texts)
}
