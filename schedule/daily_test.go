package schedule

import (
	"fmt"
	"testing"
	"time"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDailyNextAfter(t *testing.T) {
	tests := []struct {
		name   string
		zone   string
		hh, mm int
		after  string // UTC
		want   string // UTC
	}{
		// Europe/Amsterdam: 29 Mar 2026 02:00 CET -> 03:00 CEST; 25 Oct 2026 03:00 CEST -> 02:00 CET.
		{name: "ams ordinary day before spring", zone: "Europe/Amsterdam", hh: 2, mm: 30, after: "2026-03-27T12:00:00Z", want: "2026-03-28T01:30:00Z"},
		{name: "ams spring 02:30 is skipped, fires at 03:00 CEST", zone: "Europe/Amsterdam", hh: 2, mm: 30, after: "2026-03-28T12:00:00Z", want: "2026-03-29T01:00:00Z"},
		{name: "ams spring 02:00 fires at the jump", zone: "Europe/Amsterdam", hh: 2, mm: 0, after: "2026-03-28T12:00:00Z", want: "2026-03-29T01:00:00Z"},
		{name: "ams spring 01:59 just before the jump", zone: "Europe/Amsterdam", hh: 1, mm: 59, after: "2026-03-28T12:00:00Z", want: "2026-03-29T00:59:00Z"},
		{name: "ams spring 03:00 itself", zone: "Europe/Amsterdam", hh: 3, mm: 0, after: "2026-03-28T12:00:00Z", want: "2026-03-29T01:00:00Z"},
		{name: "ams spring strictly after the fire", zone: "Europe/Amsterdam", hh: 2, mm: 30, after: "2026-03-29T01:00:00Z", want: "2026-03-30T00:30:00Z"},
		{name: "ams spring evening in summer time", zone: "Europe/Amsterdam", hh: 20, mm: 30, after: "2026-03-29T00:00:00Z", want: "2026-03-29T18:30:00Z"},
		{name: "ams fall 02:30 first occurrence", zone: "Europe/Amsterdam", hh: 2, mm: 30, after: "2026-10-24T12:00:00Z", want: "2026-10-25T00:30:00Z"},
		{name: "ams fall not again in the repeated hour", zone: "Europe/Amsterdam", hh: 2, mm: 30, after: "2026-10-25T00:30:00Z", want: "2026-10-26T01:30:00Z"},
		{name: "ams fall from inside the repeated hour", zone: "Europe/Amsterdam", hh: 2, mm: 30, after: "2026-10-25T01:10:00Z", want: "2026-10-26T01:30:00Z"},
		{name: "ams fall 02:00 first occurrence", zone: "Europe/Amsterdam", hh: 2, mm: 0, after: "2026-10-24T12:00:00Z", want: "2026-10-25T00:00:00Z"},
		{name: "ams fall 03:00 after the repeat", zone: "Europe/Amsterdam", hh: 3, mm: 0, after: "2026-10-24T12:00:00Z", want: "2026-10-25T02:00:00Z"},
		{name: "ams fall evening in winter time", zone: "Europe/Amsterdam", hh: 20, mm: 30, after: "2026-10-25T00:00:00Z", want: "2026-10-25T19:30:00Z"},

		// America/New_York: 8 Mar 2026 02:00 EST -> 03:00 EDT; 1 Nov 2026 02:00 EDT -> 01:00 EST.
		{name: "nyc spring 02:30 fires at 03:00 EDT", zone: "America/New_York", hh: 2, mm: 30, after: "2026-03-07T17:00:00Z", want: "2026-03-08T07:00:00Z"},
		{name: "nyc spring next day", zone: "America/New_York", hh: 2, mm: 30, after: "2026-03-08T07:00:00Z", want: "2026-03-09T06:30:00Z"},
		{name: "nyc spring 01:30 before the jump", zone: "America/New_York", hh: 1, mm: 30, after: "2026-03-07T17:00:00Z", want: "2026-03-08T06:30:00Z"},
		{name: "nyc spring evening crosses UTC midnight", zone: "America/New_York", hh: 20, mm: 30, after: "2026-03-08T12:00:00Z", want: "2026-03-09T00:30:00Z"},
		{name: "nyc fall 01:30 first occurrence", zone: "America/New_York", hh: 1, mm: 30, after: "2026-10-31T17:00:00Z", want: "2026-11-01T05:30:00Z"},
		{name: "nyc fall not again in the repeated hour", zone: "America/New_York", hh: 1, mm: 30, after: "2026-11-01T05:30:00Z", want: "2026-11-02T06:30:00Z"},
		{name: "nyc fall from inside the repeated hour", zone: "America/New_York", hh: 1, mm: 30, after: "2026-11-01T06:15:00Z", want: "2026-11-02T06:30:00Z"},
		{name: "nyc fall 02:00 after the repeat", zone: "America/New_York", hh: 2, mm: 0, after: "2026-10-31T17:00:00Z", want: "2026-11-01T07:00:00Z"},

		// Pacific/Auckland: 5 Apr 2026 03:00 NZDT -> 02:00 NZST; 27 Sep 2026 02:00 NZST -> 03:00 NZDT.
		{name: "akl fall 02:30 first occurrence", zone: "Pacific/Auckland", hh: 2, mm: 30, after: "2026-04-04T00:00:00Z", want: "2026-04-04T13:30:00Z"},
		{name: "akl fall not again in the repeated hour", zone: "Pacific/Auckland", hh: 2, mm: 30, after: "2026-04-04T13:30:00Z", want: "2026-04-05T14:30:00Z"},
		{name: "akl fall from inside the repeated hour", zone: "Pacific/Auckland", hh: 2, mm: 30, after: "2026-04-04T14:20:00Z", want: "2026-04-05T14:30:00Z"},
		{name: "akl spring 02:30 fires at 03:00 NZDT", zone: "Pacific/Auckland", hh: 2, mm: 30, after: "2026-09-26T00:00:00Z", want: "2026-09-26T14:00:00Z"},
		{name: "akl spring next day", zone: "Pacific/Auckland", hh: 2, mm: 30, after: "2026-09-26T14:00:00Z", want: "2026-09-27T13:30:00Z"},
		{name: "akl spring evening", zone: "Pacific/Auckland", hh: 20, mm: 30, after: "2026-09-26T14:00:00Z", want: "2026-09-27T07:30:00Z"},

		// Samoa skipped 30 Dec 2011 entirely (UTC-10 -> UTC+14): no check-in that day.
		{name: "apia skipped day", zone: "Pacific/Apia", hh: 20, mm: 0, after: "2011-12-30T06:00:00Z", want: "2011-12-31T06:00:00Z"},
		{name: "utc nil location", zone: "", hh: 9, mm: 0, after: "2026-01-01T09:00:00Z", want: "2026-01-02T09:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var loc *time.Location
			if tt.zone != "" {
				loc = mustZone(t, tt.zone)
			}
			d := Daily{Hour: tt.hh, Minute: tt.mm, Location: loc}
			got := d.NextAfter(utc(tt.after))
			if !got.Equal(utc(tt.want)) {
				t.Fatalf("NextAfter(%s) = %s (%s), want %s", tt.after, got.UTC().Format(time.RFC3339), got.Format(time.RFC3339), tt.want)
			}
			if got.Location() != orUTC(loc) {
				t.Fatalf("result in %s, want %s", got.Location(), orUTC(loc))
			}
		})
	}
}

func TestDailyClampsOutOfRange(t *testing.T) {
	d := Daily{Hour: 25, Minute: -3, Location: time.UTC}
	if d.Validate() == nil {
		t.Fatal("Validate accepts 25:-3")
	}
	got := d.NextAfter(utc("2026-05-01T00:00:00Z"))
	if want := utc("2026-05-01T23:00:00Z"); !got.Equal(want) {
		t.Fatalf("NextAfter = %s, want %s", got, want)
	}
	if err := (Daily{Hour: 23, Minute: 59}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// oracleFire finds the check-in instant for a local date by brute force, one
// minute at a time: the first instant whose wall clock reads at least
// date hh:mm, if its date is still that date.
type wallScan struct {
	instants []time.Time
	walls    []time.Time // wall clock of instants[i], written as UTC
}

func scanDay(loc *time.Location, y int, m time.Month, d int) wallScan {
	from := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(-15 * time.Hour)
	to := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(40 * time.Hour)
	var s wallScan
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		l := t.In(loc)
		s.instants = append(s.instants, t)
		s.walls = append(s.walls, time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC))
	}
	return s
}

func TestFireOnMatchesBruteForceAroundTransitions(t *testing.T) {
	zones := []string{
		"Europe/Amsterdam", "America/New_York", "Pacific/Auckland",
		"Australia/Lord_Howe", // 30-minute shifts
		"America/Havana",      // changes at midnight
		"America/Santiago",    // changes at 24:00
		"Europe/Dublin",       // "negative" summer time in the data
		"Pacific/Apia",        // skipped a whole day in 2011
	}
	checked := 0
	for _, name := range zones {
		loc := mustZone(t, name)
		for _, date := range transitionDates(loc, 2011, 2027) {
			y, m, d := date.Date()
			scan := scanDay(loc, y, m, d)
			i := 0
			for minute := 0; minute < 24*60; minute += 5 {
				hh, mm := minute/60, minute%60
				wall := time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
				for i < len(scan.walls) && scan.walls[i].Before(wall) {
					i++
				}
				want, wantOK := time.Time{}, false
				if i < len(scan.walls) && scan.walls[i].Year() == y && scan.walls[i].Month() == m && scan.walls[i].Day() == d {
					want, wantOK = scan.instants[i], true
				}
				got, ok := fireOn(loc, y, m, d, hh, mm)
				if ok != wantOK || !got.Equal(want) {
					t.Fatalf("%s %04d-%02d-%02d %02d:%02d: fireOn = %s %v, brute force %s %v",
						name, y, m, d, hh, mm, got.UTC(), ok, want.UTC(), wantOK)
				}
				checked++
			}
		}
	}
	t.Logf("checked %d (zone, date, time) cases", checked)
}

// transitionDates returns the local dates, with a day either side, on which
// loc changes its offset between the given years.
func transitionDates(loc *time.Location, fromYear, toYear int) []time.Time {
	var dates []time.Time
	seen := map[string]bool{}
	t := time.Date(fromYear, 1, 1, 0, 0, 0, 0, loc)
	stop := time.Date(toYear, 1, 1, 0, 0, 0, 0, loc)
	for {
		_, end := t.ZoneBounds()
		if end.IsZero() || end.After(stop) {
			return dates
		}
		for _, shift := range []int{-1, 0, 1} {
			l := end.In(loc)
			date := time.Date(l.Year(), l.Month(), l.Day()+shift, 12, 0, 0, 0, time.UTC)
			if key := date.Format(time.DateOnly); !seen[key] {
				seen[key] = true
				dates = append(dates, date)
			}
		}
		t = end
	}
}

func TestFireOnFastPathAgreesWithSlowPath(t *testing.T) {
	for _, name := range []string{"Europe/Amsterdam", "America/New_York", "Pacific/Auckland", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"} {
		loc := mustZone(t, name)
		for day := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC); day.Year() == 2026; day = day.AddDate(0, 0, 1) {
			for _, c := range [][2]int{{0, 0}, {1, 30}, {2, 0}, {2, 30}, {3, 0}, {12, 0}, {20, 30}, {23, 59}} {
				fast, fastOK := fireOn(loc, day.Year(), day.Month(), day.Day(), c[0], c[1])
				slow, slowOK := fireOnSlow(loc, day.Year(), day.Month(), day.Day(), c[0], c[1])
				if fastOK != slowOK || !fast.Equal(slow) {
					t.Fatalf("%s %s %02d:%02d: fast %s %v, slow %s %v", name, day.Format(time.DateOnly), c[0], c[1], fast, fastOK, slow, slowOK)
				}
			}
		}
	}
}

func TestLocalDay(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	akl := mustZone(t, "Pacific/Auckland")
	tests := []struct {
		name string
		t    string
		loc  *time.Location
		want string
	}{
		{name: "amsterdam just after local midnight", t: "2026-03-28T23:30:00Z", loc: ams, want: "2026-03-29"},
		{name: "amsterdam before local midnight", t: "2026-03-28T22:59:00Z", loc: ams, want: "2026-03-28"},
		{name: "auckland is a day ahead", t: "2026-09-26T14:00:00Z", loc: akl, want: "2026-09-27"},
		{name: "nil location is UTC", t: "2026-09-26T14:00:00Z", loc: nil, want: "2026-09-26"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LocalDay(utc(tt.t), tt.loc); got != tt.want {
				t.Fatalf("LocalDay = %s, want %s", got, tt.want)
			}
		})
	}
}

func Example() {
	ams, _ := LoadZone("Europe/Amsterdam")
	hh, mm, _ := ParseClock("2u30")
	d := Daily{Hour: hh, Minute: mm, Location: ams}
	t := time.Date(2026, 3, 28, 12, 0, 0, 0, ams)
	for range 3 {
		t = d.NextAfter(t)
		fmt.Println(t.Format("Mon 2006-01-02 15:04 MST"))
	}
	// Output:
	// Sun 2026-03-29 03:00 CEST
	// Mon 2026-03-30 02:30 CEST
	// Tue 2026-03-31 02:30 CEST
}
