package schedule

import (
	"errors"
	"time"
)

// Daily is a check-in at the same local time every day.
// A nil Location means UTC.
type Daily struct {
	Hour, Minute int
	Location     *time.Location
}

// Validate reports whether Hour and Minute form a time of day. NextAfter and
// Due clamp out-of-range values rather than fail, so check settings with
// Validate (or ParseClock) when they are made.
func (d Daily) Validate() error { return validateClock(d.Hour, d.Minute) }

// NextAfter returns the next instant strictly after t at which the check-in
// fires (see the package comment for days with a clock change). The result is
// in d's location.
func (d Daily) NextAfter(t time.Time) time.Time {
	loc := orUTC(d.Location)
	hh, mm := clampClock(d.Hour, d.Minute)
	y, m, day := t.In(loc).Date()
	for i := -1; i <= maxSearchDays; i++ {
		if at, ok := fireOn(loc, y, m, day+i, hh, mm); ok && at.After(t) {
			return at
		}
	}
	panic("schedule: no daily check-in time found") // unreachable with real zone data
}

// lastAtOrBefore returns the latest instant at or before t at which the
// check-in fires.
func (d Daily) lastAtOrBefore(t time.Time) time.Time {
	loc := orUTC(d.Location)
	hh, mm := clampClock(d.Hour, d.Minute)
	y, m, day := t.In(loc).Date()
	for i := 1; i >= -maxSearchDays; i-- {
		if at, ok := fireOn(loc, y, m, day+i, hh, mm); ok && !at.After(t) {
			return at
		}
	}
	panic("schedule: no daily check-in time found") // unreachable with real zone data
}

// Due reports whether a check-in should be sent at now, given when the
// previous one was sent (lastSent; zero if never). scheduled is the latest
// check-in time at or before now, the one due refers to; its LocalDay is the
// key for "once per local day".
//
// A check-in is due when:
//   - its time has come and is at most lateWindow ago: after an outage, a
//     missed check-in is skipped rather than sent hours late, and several
//     missed days never arrive as a flood (a negative lateWindow counts as 0);
//   - nothing was sent at or after scheduled;
//   - the local day of scheduled has not been served yet. A send counts for
//     the local day it happened on, except a send at most lateWindow after a
//     check-in time, which counts for that check-in's day: a 23:50 check-in
//     sent at 00:05 belongs to the evening before, and does not cancel the
//     next evening's. So moving the time from 20:00 to 21:00 after the 20:00
//     check-in went out does not send another that day.
func (d Daily) Due(now, lastSent time.Time, lateWindow time.Duration) (due bool, scheduled time.Time) {
	loc := orUTC(d.Location)
	scheduled = d.lastAtOrBefore(now)
	if lateWindow < 0 {
		lateWindow = 0
	}
	if now.Sub(scheduled) > lateWindow {
		return false, scheduled
	}
	if lastSent.IsZero() {
		return true, scheduled
	}
	if !lastSent.Before(scheduled) {
		return false, scheduled
	}
	served := lastSent
	if prev := d.lastAtOrBefore(lastSent); lastSent.Sub(prev) <= lateWindow {
		served = prev
	}
	if sameDay(served, scheduled, loc) {
		return false, scheduled
	}
	return true, scheduled
}

// LocalDay returns t's calendar date in loc as "2006-01-02", the key for
// "once per local day". A nil loc means UTC.
func LocalDay(t time.Time, loc *time.Location) string {
	return t.In(orUTC(loc)).Format(time.DateOnly)
}

func sameDay(a, b time.Time, loc *time.Location) bool {
	ay, am, ad := a.In(loc).Date()
	by, bm, bd := b.In(loc).Date()
	return ay == by && am == bm && ad == bd
}

// maxSearchDays bounds the walk over calendar days. A day without a check-in
// is rare (a transition skipping the end of a day, or a whole day, as Samoa did
// in 2011), so the walk normally ends after one or two days; weekly schedules
// need a week.
const maxSearchDays = 16

// transitionReach is more than any UTC offset change ever made in one step
// (Samoa's was 24 hours), so a zone period that began longer ago than this
// cannot have an earlier occurrence or a gap at the wall time in question.
const transitionReach = 30 * time.Hour

// fireOn returns the instant at which a check-in set for hh:mm fires on the
// local calendar date y-m-d (day may overflow; it is normalised): the earliest
// instant whose wall clock in loc reads y-m-d hh:mm or later while the date is
// still y-m-d. ok is false when that date has no such instant.
func fireOn(loc *time.Location, y int, m time.Month, day, hh, mm int) (at time.Time, ok bool) {
	y, m, day = time.Date(y, m, day, 12, 0, 0, 0, time.UTC).Date()
	c := time.Date(y, m, day, hh, mm, 0, 0, loc)
	// Fast path: the wall time exists, and no transition happened recently
	// enough to have shown it earlier or jumped over it.
	if start, _ := c.ZoneBounds(); start.IsZero() || c.Sub(start) > transitionReach {
		if wallIs(c, loc, y, m, day, hh, mm) {
			return c, true
		}
	}
	return fireOnSlow(loc, y, m, day, hh, mm)
}

// fireOnSlow scans every zone period near the wall time: in each, the wall time
// occurs at most once (at wall - offset); at each forward transition, the clock
// may jump over it. The earliest of these crossings is the answer.
func fireOnSlow(loc *time.Location, y int, m time.Month, day, hh, mm int) (time.Time, bool) {
	// wall is the wanted clock reading, written as if it were a UTC instant.
	wall := time.Date(y, m, day, hh, mm, 0, 0, time.UTC)
	var best time.Time
	consider := func(t time.Time) {
		if best.IsZero() || t.Before(best) {
			best = t
		}
	}
	t := wall.Add(-transitionReach)
	limit := wall.Add(transitionReach)
	for {
		start, end := t.In(loc).ZoneBounds()
		_, off := t.In(loc).Zone()
		if c := wall.Add(-time.Duration(off) * time.Second); (start.IsZero() || !c.Before(start)) && (end.IsZero() || c.Before(end)) {
			consider(c)
		}
		if end.IsZero() || end.After(limit) {
			break
		}
		_, next := end.In(loc).Zone()
		// Just before end the clock reads end+off (exclusive); at end it reads
		// end+next. A forward jump skips the readings in between.
		before := end.Add(time.Duration(off) * time.Second).UTC()
		after := end.Add(time.Duration(next) * time.Second).UTC()
		if !wall.Before(before) && wall.Before(after) {
			consider(end)
		}
		t = end
	}
	if best.IsZero() {
		return time.Time{}, false
	}
	best = best.In(loc)
	if by, bm, bd := best.Date(); by != y || bm != m || bd != day {
		return time.Time{}, false
	}
	return best, true
}

func wallIs(t time.Time, loc *time.Location, y int, m time.Month, day, hh, mm int) bool {
	t = t.In(loc)
	ty, tm, td := t.Date()
	return ty == y && tm == m && td == day && t.Hour() == hh && t.Minute() == mm && t.Second() == 0
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

var (
	errBadHour    = errors.New("schedule: hour out of range 0-23")
	errBadMinute  = errors.New("schedule: minute out of range 0-59")
	errBadWeekday = errors.New("schedule: weekday out of range")
)

func validateClock(hh, mm int) error {
	if hh < 0 || hh > 23 {
		return errBadHour
	}
	if mm < 0 || mm > 59 {
		return errBadMinute
	}
	return nil
}

func clampClock(hh, mm int) (int, int) {
	return min(max(hh, 0), 23), min(max(mm, 0), 59)
}
