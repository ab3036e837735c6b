package checkin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/schedule"
	"github.com/stilstaan/stilstaan/storage"
)

// Settings are one person's check-in choices.
type Settings struct {
	Enabled      bool
	Hour, Minute int
	Zone         string    // IANA name
	PausedUntil  time.Time // zero: not paused
	Evening      bool      // the evening question about the theme
	Weekly       bool      // the weekly summary picture

	stored     bool       // a row exists
	daily      *time.Time // due times as stored
	eveningDue *time.Time
	weeklyDue  *time.Time
}

// defaults are the settings of a person who has not chosen yet: off.
func (f *Feature) defaults() Settings {
	return Settings{Hour: defaultHour, Minute: defaultMinute, Zone: f.defaultZone, Weekly: true}
}

// location returns the settings' zone; a zone that no longer loads (a name
// dropped from the time zone database) falls back to the default.
func (f *Feature) location(zone string) *time.Location {
	if loc, err := schedule.LoadZone(zone); err == nil {
		return loc
	}
	loc, _ := schedule.LoadZone(f.defaultZone) // checked by New
	return loc
}

const sqlLoadSettings = `SELECT enabled, hour, minute, zone, paused_until, evening, weekly,
       next_due_at, evening_due_at, weekly_due_at
FROM checkin_schedules WHERE person_id = $1`

// load reads the person's settings inside the turn (under the person's lock).
func (f *Feature) load(t *conversation.Turn) (Settings, error) {
	s := f.defaults()
	var paused *time.Time
	var hour, minute int16
	err := t.Tx.QueryRow(sqlLoadSettings, t.Tx.Person().ID).Scan(&s.Enabled, &hour, &minute, &s.Zone,
		&paused, &s.Evening, &s.Weekly, &s.daily, &s.eveningDue, &s.weeklyDue)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return s, nil
	case err != nil:
		return Settings{}, fmt.Errorf("checkin: load settings: %w", err)
	}
	s.Hour, s.Minute, s.stored = int(hour), int(minute), true
	if paused != nil {
		s.PausedUntil = *paused
	}
	return s, nil
}

// sqlSaveSettings writes the settings and their due times. A change releases
// a scheduler's claim on the row and bumps the version, so that a scheduler
// working on the row meanwhile does not overwrite the new due times.
const sqlSaveSettings = `INSERT INTO checkin_schedules AS s (person_id, enabled, hour, minute, zone, paused_until,
    evening, weekly, next_due_at, evening_due_at, weekly_due_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (person_id) DO UPDATE SET
    enabled = EXCLUDED.enabled, hour = EXCLUDED.hour, minute = EXCLUDED.minute, zone = EXCLUDED.zone,
    paused_until = EXCLUDED.paused_until, evening = EXCLUDED.evening, weekly = EXCLUDED.weekly,
    next_due_at = EXCLUDED.next_due_at, evening_due_at = EXCLUDED.evening_due_at,
    weekly_due_at = EXCLUDED.weekly_due_at, version = s.version + 1, attempt = 0,
    claimed_until = NULL, claim = NULL, updated_at = EXCLUDED.updated_at`

// save writes new settings in the turn, with due times computed from old
// (what load returned) and now.
func (f *Feature) save(ctx context.Context, t *conversation.Turn, old, s Settings) error {
	daily, evening, weekly := f.dueTimes(old, s, t.Now)
	var paused *time.Time
	if !s.PausedUntil.IsZero() {
		paused = &s.PausedUntil
	}
	err := t.Tx.Exec(ctx, sqlSaveSettings, t.Tx.Person().ID, s.Enabled, s.Hour, s.Minute, s.Zone, paused,
		s.Evening, s.Weekly, daily, evening, weekly, t.Tx.Now())
	if err != nil {
		return fmt.Errorf("checkin: save settings: %w", err)
	}
	return nil
}

// dueTimes computes when the daily check-in, the evening question and the
// weekly summary of s are next due after now: nil for what is off. While a
// pause lasts, nothing is due before it ends. A due time that has come but
// was not served yet is kept when its timing did not change, so that a
// change of another setting at that very moment does not cancel it.
func (f *Feature) dueTimes(old, s Settings, now time.Time) (daily, evening, weekly *time.Time) {
	if !s.Enabled {
		return nil, nil, nil
	}
	loc := f.location(s.Zone)
	from := now
	if s.PausedUntil.After(now) {
		from = s.PausedUntil.Add(-time.Nanosecond) // a check-in at the very end of the pause still comes
	}
	sameZone := old.Enabled && old.Zone == s.Zone && old.PausedUntil.Equal(s.PausedUntil)
	keep := func(prev *time.Time, same bool, next time.Time) *time.Time {
		if same && prev != nil && !prev.After(now) {
			return prev
		}
		return &next
	}
	daily = keep(old.daily, sameZone && old.Hour == s.Hour && old.Minute == s.Minute,
		schedule.Daily{Hour: s.Hour, Minute: s.Minute, Location: loc}.NextAfter(from))
	if s.Evening {
		evening = keep(old.eveningDue, sameZone && old.Evening,
			schedule.Daily{Hour: f.evening.hour, Minute: f.evening.minute, Location: loc}.NextAfter(from))
	}
	if s.Weekly {
		weekly = keep(old.weeklyDue, sameZone && old.Weekly,
			f.weeklyOf(loc).NextAfter(from))
	}
	return daily, evening, weekly
}

func (f *Feature) weeklyOf(loc *time.Location) schedule.Weekly {
	return schedule.Weekly{Weekday: f.weekly.day, Hour: f.weekly.hour, Minute: f.weekly.minute, Location: loc}
}

// nextDaily is when the daily check-in of s comes next after now, taking a
// pause into account.
func (f *Feature) nextDaily(s Settings, now time.Time) time.Time {
	from := now
	if s.PausedUntil.After(now) {
		from = s.PausedUntil.Add(-time.Nanosecond)
	}
	return schedule.Daily{Hour: s.Hour, Minute: s.Minute, Location: f.location(s.Zone)}.NextAfter(from)
}
