package charts

import (
	"time"

	"gonum.org/v1/plot"
)

// maxDateLabels is how many dates fit under the mood panel at a readable size.
const maxDateLabels = 7

// dateTicks marks days on a time axis (unix seconds) in the person's
// location and language. Up to about a week it labels every day with its
// weekday ("ma 4 mei"); up to two weeks every other day; beyond that the
// Mondays, every week or every few weeks so that at most maxDateLabels show.
// Ticks sit at noon so a day's label is under the middle of that day.
type dateTicks struct {
	tx       *texts
	loc      *time.Location
	from, to time.Time
}

// Ticks implements plot.Ticker.
func (d dateTicks) Ticks(_, _ float64) []plot.Tick {
	from, to := d.from.In(d.loc), d.to.In(d.loc)
	days := to.Sub(from).Hours() / 24
	first := time.Date(from.Year(), from.Month(), from.Day(), 12, 0, 0, 0, d.loc)
	if first.Before(from) {
		first = first.AddDate(0, 0, 1)
	}
	var ticks []plot.Tick
	step, label := 1, d.tx.weekdayDay
	switch {
	case days <= 8.5:
	case days <= 15:
		step, label = 2, d.tx.day
	default:
		label = d.tx.day
		for first.Weekday() != time.Monday {
			first = first.AddDate(0, 0, 1)
		}
		weeks := 1
		for int(days/float64(7*weeks))+1 > maxDateLabels {
			weeks++
		}
		step = 7 * weeks
	}
	for t := first; !t.After(to); t = t.AddDate(0, 0, step) {
		ticks = append(ticks, plot.Tick{Value: unix(t), Label: label(t)})
	}
	return ticks
}
