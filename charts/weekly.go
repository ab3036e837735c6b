package charts

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// MoodPoint is one mood check-in: 1 is heavy, 5 is light.
type MoodPoint struct {
	At   time.Time
	Mood int // 1-5
}

// IntensityPair is one exercise run: how strong the feeling was before and
// after, each 0-10. Exercise is the name shown under the bars.
type IntensityPair struct {
	At            time.Time
	Exercise      string
	Before, After int // 0-10
}

// Weekly is the input of the weekly picture. Lang is "nl" (the default) or
// "en". Data outside From..To is left out. Dates are shown in From's
// location (To's if From is zero), so pass both in the person's time zone.
// When From and To are both zero, the range is taken from the data, at
// least a week.
type Weekly struct {
	Lang        string
	Mood        []MoodPoint
	Intensities []IntensityPair
	From, To    time.Time
}

// ErrInvalid is wrapped by RenderWeekly for input it cannot draw: a mood
// outside 1-5, an intensity outside 0-10, or To before From.
var ErrInvalid = errors.New("charts: invalid input")

// maxRuns is how many exercise runs the bottom panel shows; more pairs of
// bars would not stay readable on a phone.
const maxRuns = 6

// prepared is a validated Weekly, sorted, clipped to its range and in one
// location.
type prepared struct {
	tx       *texts
	loc      *time.Location
	from, to time.Time
	mood     []MoodPoint
	runs     []IntensityPair
	runsLeft int // runs in range that are not shown
}

func prepare(w Weekly) (prepared, error) {
	for i, m := range w.Mood {
		if m.Mood < 1 || m.Mood > 5 {
			return prepared{}, fmt.Errorf("charts: mood point %d out of range 1-5: %w", i, ErrInvalid)
		}
	}
	for i, r := range w.Intensities {
		if r.Before < 0 || r.Before > 10 || r.After < 0 || r.After > 10 {
			return prepared{}, fmt.Errorf("charts: intensity pair %d out of range 0-10: %w", i, ErrInvalid)
		}
	}
	if !w.From.IsZero() && !w.To.IsZero() && w.To.Before(w.From) {
		return prepared{}, fmt.Errorf("charts: To is before From: %w", ErrInvalid)
	}

	p := prepared{tx: textsFor(w.Lang), from: w.From, to: w.To}
	switch {
	case !w.From.IsZero():
		p.loc = w.From.Location()
	case !w.To.IsZero():
		p.loc = w.To.Location()
	default:
		p.loc = dataLocation(w)
	}
	if p.from.IsZero() || p.to.IsZero() {
		first, last, ok := dataSpan(w)
		if !ok {
			return p, nil // nothing at all to draw
		}
		if p.to.IsZero() {
			p.to = endOfDay(last.In(p.loc))
		}
		if p.from.IsZero() {
			p.from = startOfDay(first.In(p.loc))
			if weekBefore := p.to.AddDate(0, 0, -7); weekBefore.Before(p.from) {
				p.from = weekBefore
			}
		}
	}
	p.from, p.to = p.from.In(p.loc), p.to.In(p.loc)

	inRange := func(t time.Time) bool { return !t.Before(p.from) && !t.After(p.to) }
	for _, m := range w.Mood {
		if inRange(m.At) {
			p.mood = append(p.mood, m)
		}
	}
	for _, r := range w.Intensities {
		if inRange(r.At) {
			p.runs = append(p.runs, r)
		}
	}
	// Stable sorts keep the input order for equal times, so equal input gives
	// an equal picture.
	slices.SortStableFunc(p.mood, func(a, b MoodPoint) int { return a.At.Compare(b.At) })
	slices.SortStableFunc(p.runs, func(a, b IntensityPair) int { return a.At.Compare(b.At) })
	if n := len(p.runs); n > maxRuns {
		p.runsLeft = n - maxRuns
		p.runs = p.runs[n-maxRuns:]
	}
	return p, nil
}

func (p prepared) empty() bool { return len(p.mood) == 0 && len(p.runs) == 0 }

// dataSpan returns the earliest and latest time in the data.
func dataSpan(w Weekly) (first, last time.Time, ok bool) {
	var ts []time.Time
	for _, m := range w.Mood {
		ts = append(ts, m.At)
	}
	for _, r := range w.Intensities {
		ts = append(ts, r.At)
	}
	if len(ts) == 0 {
		return time.Time{}, time.Time{}, false
	}
	return slices.MinFunc(ts, time.Time.Compare), slices.MaxFunc(ts, time.Time.Compare), true
}

// dataLocation is the location of the first data point, for input without a
// range.
func dataLocation(w Weekly) *time.Location {
	if len(w.Mood) > 0 {
		return w.Mood[0].At.Location()
	}
	if len(w.Intensities) > 0 {
		return w.Intensities[0].At.Location()
	}
	return time.UTC
}

func startOfDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

func endOfDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
}

// lastShownDay is the calendar day To belongs to for the title: a To at
// midnight ends the day before.
func (p prepared) lastShownDay() time.Time {
	if p.to.After(p.from) && p.to.Equal(startOfDay(p.to)) {
		return p.to.Add(-time.Nanosecond)
	}
	return p.to
}
