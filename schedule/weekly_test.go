package schedule

import (
	"testing"
	"time"
)

func TestWeeklyNextAfter(t *testing.T) {
	tests := []struct {
		name  string
		zone  string
		w     Weekly
		after string
		want  string
	}{
		// All six 2026 clock changes of the three zones fall on a Sunday.
		{name: "ams sunday spring", zone: "Europe/Amsterdam", w: Weekly{Weekday: time.Sunday, Hour: 2, Minute: 30}, after: "2026-03-23T00:00:00Z", want: "2026-03-29T01:00:00Z"},
		{name: "ams sunday fall", zone: "Europe/Amsterdam", w: Weekly{Weekday: time.Sunday, Hour: 2, Minute: 30}, after: "2026-10-19T00:00:00Z", want: "2026-10-25T00:30:00Z"},
		{name: "ams fall repeated hour is next week", zone: "Europe/Amsterdam", w: Weekly{Weekday: time.Sunday, Hour: 2, Minute: 30}, after: "2026-10-25T00:30:00Z", want: "2026-11-01T01:30:00Z"},
		{name: "nyc sunday spring", zone: "America/New_York", w: Weekly{Weekday: time.Sunday, Hour: 2, Minute: 30}, after: "2026-03-02T00:00:00Z", want: "2026-03-08T07:00:00Z"},
		{name: "nyc sunday fall", zone: "America/New_York", w: Weekly{Weekday: time.Sunday, Hour: 1, Minute: 30}, after: "2026-10-26T00:00:00Z", want: "2026-11-01T05:30:00Z"},
		{name: "akl sunday fall", zone: "Pacific/Auckland", w: Weekly{Weekday: time.Sunday, Hour: 2, Minute: 30}, after: "2026-03-30T00:00:00Z", want: "2026-04-04T13:30:00Z"},
		{name: "akl sunday spring", zone: "Pacific/Auckland", w: Weekly{Weekday: time.Sunday, Hour: 2, Minute: 30}, after: "2026-09-21T00:00:00Z", want: "2026-09-26T14:00:00Z"},
		{name: "later the same day", zone: "Europe/Amsterdam", w: Weekly{Weekday: time.Monday, Hour: 19}, after: "2026-05-04T10:00:00Z", want: "2026-05-04T17:00:00Z"},
		{name: "strictly after", zone: "Europe/Amsterdam", w: Weekly{Weekday: time.Monday, Hour: 19}, after: "2026-05-04T17:00:00Z", want: "2026-05-11T17:00:00Z"},
		{name: "weekday in auckland is not the UTC weekday", zone: "Pacific/Auckland", w: Weekly{Weekday: time.Monday, Hour: 8}, after: "2026-05-03T12:00:00Z", want: "2026-05-03T20:00:00Z"},
		{name: "weekday taken modulo 7", zone: "", w: Weekly{Weekday: 8, Hour: 8}, after: "2026-05-01T00:00:00Z", want: "2026-05-04T08:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.w
			if tt.zone != "" {
				w.Location = mustZone(t, tt.zone)
			}
			got := w.NextAfter(utc(tt.after))
			if !got.Equal(utc(tt.want)) {
				t.Fatalf("NextAfter = %s (%s), want %s", got.UTC().Format(time.RFC3339), got.Format(time.RFC3339), tt.want)
			}
			if got.In(orUTC(w.Location)).Weekday() != w.Weekday%7 {
				t.Fatalf("fires on a %s", got.Weekday())
			}
		})
	}
}

func TestWeeklyOncePerWeekForAYear(t *testing.T) {
	loc := mustZone(t, "Pacific/Auckland")
	w := Weekly{Weekday: time.Sunday, Hour: 2, Minute: 30, Location: loc}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	n := 0
	for {
		next := w.NextAfter(at)
		if next.Year() != 2026 {
			break
		}
		if gap := next.Sub(at); n > 0 && (gap < 7*24*time.Hour-time.Hour || gap > 7*24*time.Hour+time.Hour) {
			t.Fatalf("%s follows %s after %s", next, at, gap)
		}
		at = next
		n++
	}
	if n != 52 {
		t.Fatalf("%d Sundays fired in 2026, want 52", n)
	}
}

func TestWeeklyValidate(t *testing.T) {
	if err := (Weekly{Weekday: time.Saturday, Hour: 23, Minute: 59}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, w := range []Weekly{{Weekday: 7}, {Weekday: -1}, {Hour: 24}, {Minute: 60}} {
		if w.Validate() == nil {
			t.Errorf("Validate accepts %+v", w)
		}
	}
}
