package schedule

import "time"

// Weekly is a check-in at the same local time on one day of the week, for
// example the Sunday evening look back. A nil Location means UTC.
type Weekly struct {
	Weekday      time.Weekday
	Hour, Minute int
	Location     *time.Location
}

// Validate reports whether the weekday and the time of day are valid.
func (w Weekly) Validate() error {
	if w.Weekday < time.Sunday || w.Weekday > time.Saturday {
		return errBadWeekday
	}
	return validateClock(w.Hour, w.Minute)
}

// NextAfter returns the next instant strictly after t at which the weekly
// check-in fires, with the same clock-change rules as Daily. An out-of-range
// Weekday is taken modulo 7.
func (w Weekly) NextAfter(t time.Time) time.Time {
	loc := orUTC(w.Location)
	hh, mm := clampClock(w.Hour, w.Minute)
	want := time.Weekday((int(w.Weekday)%7 + 7) % 7)
	y, m, day := t.In(loc).Date()
	for i := -1; i <= maxSearchDays; i++ {
		date := time.Date(y, m, day+i, 12, 0, 0, 0, time.UTC)
		if date.Weekday() != want {
			continue
		}
		if at, ok := fireOn(loc, date.Year(), date.Month(), date.Day(), hh, mm); ok && at.After(t) {
			return at
		}
	}
	panic("schedule: no weekly check-in time found") // unreachable with real zone data
}
