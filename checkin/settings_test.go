package checkin

import (
	"strings"
	"testing"
	"time"
)

// scheduleRow is what a test checks of a person's checkin_schedules row.
type scheduleRow struct {
	Enabled      bool
	Hour, Minute int
	Zone         string
	Paused       time.Time // zero: NULL
	Evening      bool
	Weekly       bool
	NextDue      time.Time // zero: NULL
	Version      int64
}

func (e *env) row(person int64) (scheduleRow, bool) {
	e.t.Helper()
	var r scheduleRow
	var paused, next *time.Time
	err := e.db.Pool().QueryRow(e.ctx, `SELECT enabled, hour, minute, zone, paused_until, evening, weekly, next_due_at, version
FROM checkin_schedules WHERE person_id = $1`, person).Scan(&r.Enabled, &r.Hour, &r.Minute, &r.Zone, &paused,
		&r.Evening, &r.Weekly, &next, &r.Version)
	if err != nil {
		return scheduleRow{}, false
	}
	if paused != nil {
		r.Paused = paused.UTC()
	}
	if next != nil {
		r.NextDue = next.UTC()
	}
	return r, true
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name string
		args string
		want action
		bad  string
	}{
		{name: "nothing shows the settings", args: "", want: action{}},
		{name: "a time", args: "20:30", want: action{kind: "time", hour: 20, minute: 30}},
		{name: "a time with a dot", args: "20.30", want: action{kind: "time", hour: 20, minute: 30}},
		{name: "four digits", args: "2030", want: action{kind: "time", hour: 20, minute: 30}},
		{name: "Dutch u", args: "20u30", want: action{kind: "time", hour: 20, minute: 30}},
		{name: "am/pm", args: "8 pm", want: action{kind: "time", hour: 20}},
		{name: "on", args: "on", want: action{kind: "on"}},
		{name: "aan", args: "Aan", want: action{kind: "on"}},
		{name: "uit", args: "uit", want: action{kind: "off"}},
		{name: "zone", args: "zone America/New_York", want: action{kind: "zone", zone: "America/New_York"}},
		{name: "zone by city", args: "tijdzone new york", want: action{kind: "zone", zone: "America/New_York"}},
		{name: "zone lower case", args: "zone europe/zurich", want: action{kind: "zone", zone: "Europe/Zurich"}},
		{name: "pause", args: "pause 3", want: action{kind: "pause", days: 3}},
		{name: "pauze in days", args: "pauze 7 dagen", want: action{kind: "pause", days: 7}},
		{name: "pause without days", args: "pauze", want: action{kind: "pause", days: 1}},
		{name: "pause off", args: "pause off", want: action{kind: "resume"}},
		{name: "resume", args: "hervat", want: action{kind: "resume"}},
		{name: "evening on", args: "avond aan", want: action{kind: "evening", on: true}},
		{name: "weekly off", args: "weekly off", want: action{kind: "weekly"}},
		{name: "no such hour", args: "25:99", bad: "bad.clock"},
		{name: "words", args: "whenever", bad: "bad.clock"},
		{name: "unknown zone", args: "zone Mars/Olympus", bad: "bad.zone"},
		{name: "zone without a name", args: "zone", bad: "bad.zone"},
		{name: "local is no zone", args: "zone Local", bad: "bad.zone"},
		{name: "pause too long", args: "pause 99", bad: "bad.pause"},
		{name: "pause nonsense", args: "pause soon", bad: "bad.pause"},
		{name: "evening what", args: "evening maybe", bad: "bad.switch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseArgs(tt.args)
			if tt.bad != "" {
				if e, ok := err.(errReply); !ok || e.key != tt.bad {
					t.Fatalf("parseArgs(%q) = %+v, %v; want %s", tt.args, got, err, tt.bad)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseArgs(%q) = %+v, %v; want %+v", tt.args, got, err, tt.want)
			}
		})
	}
}

func TestSettingsCommands(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	// Monday 4 May 2026, 10:00 in Amsterdam.
	e := newEnv(t, time.Date(2026, 5, 4, 10, 0, 0, 0, ams))
	const chat = 1
	id := e.onboard(chat, "nl")

	e.command(chat, "/checkin")
	msgs := e.pending(chat)
	if len(msgs) != 1 || !strings.Contains(msgs[0].env.Text, "Staat uit") || len(msgs[0].env.Buttons) == 0 {
		t.Fatalf("/checkin for a new person: %+v", msgs)
	}
	if _, ok := e.row(id); ok {
		t.Fatal("showing the settings stored a row")
	}
	e.clear(chat)

	step := func(line string, wantText string, check func(scheduleRow)) {
		t.Helper()
		before, _ := e.row(id)
		e.command(chat, line)
		got := e.texts(chat)
		if len(got) != 1 || !strings.Contains(got[0], wantText) {
			t.Fatalf("%s: answered %q, want it to contain %q", line, got, wantText)
		}
		after, _ := e.row(id)
		if check == nil {
			if after != before {
				t.Fatalf("%s changed the settings: %+v -> %+v", line, before, after)
			}
			return
		}
		check(after)
	}
	step("/checkin 20:30", "vandaag om 20:30", func(r scheduleRow) {
		want := time.Date(2026, 5, 4, 20, 30, 0, 0, ams)
		if !r.Enabled || r.Hour != 20 || r.Minute != 30 || r.Zone != "Europe/Amsterdam" || !r.NextDue.Equal(want) {
			t.Fatalf("after /checkin 20:30: %+v", r)
		}
	})
	for _, form := range []string{"20.15", "2015", "20u15"} {
		step("/checkin "+form, "om 20:15", func(r scheduleRow) {
			if r.Hour != 20 || r.Minute != 15 {
				t.Fatalf("after /checkin %s: %+v", form, r)
			}
		})
	}
	step("/checkin 25:99", "Die tijd begrijp ik niet", nil)
	step("/checkin zone Mars/Olympus", "Die tijdzone ken ik niet", nil)
	step("/checkin pauze 99", "1 tot 30 dagen", nil)
	step("/checkin zone America/New_York", "America/New_York", func(r scheduleRow) {
		// 10:00 in Amsterdam is 04:00 in New York: 20:15 there is today.
		want := time.Date(2026, 5, 4, 20, 15, 0, 0, mustZone(t, "America/New_York"))
		if r.Zone != "America/New_York" || !r.NextDue.Equal(want) {
			t.Fatalf("after the zone change: %+v, want next %v", r, want)
		}
	})
	step("/checkin pause 3", "Even pauze", func(r scheduleRow) {
		nyc := mustZone(t, "America/New_York")
		until := time.Date(2026, 5, 7, 4, 0, 0, 0, nyc)
		if !r.Paused.Equal(until) {
			t.Fatalf("paused until %v, want %v", r.Paused, until)
		}
		if want := time.Date(2026, 5, 7, 20, 15, 0, 0, nyc); !r.NextDue.Equal(want) {
			t.Fatalf("next due %v during the pause, want %v", r.NextDue, want)
		}
	})
	step("/checkin hervat", "De pauze is voorbij", func(r scheduleRow) {
		if !r.Paused.IsZero() {
			t.Fatalf("still paused: %+v", r)
		}
	})
	step("/checkin avond aan", "De avondvraag staat aan", func(r scheduleRow) {
		if !r.Evening {
			t.Fatalf("evening off: %+v", r)
		}
	})
	step("/checkin off", "Je check-in staat uit", func(r scheduleRow) {
		if r.Enabled || !r.NextDue.IsZero() {
			t.Fatalf("after /checkin off: %+v", r)
		}
	})
	step("/checkin pause 3", "niets om te pauzeren", nil)
	step("/checkin on", "Je check-in staat aan", func(r scheduleRow) {
		if !r.Enabled || r.NextDue.IsZero() {
			t.Fatalf("after /checkin on: %+v", r)
		}
	})
}

func TestSettingsButtons(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	e := newEnv(t, time.Date(2026, 5, 4, 21, 0, 0, 0, ams))
	const chat = 2
	id := e.onboard(chat, "en")

	e.command(chat, "/checkin")
	if got := e.pending(chat); len(got) != 1 || !strings.Contains(got[0].env.Text, "Off.") {
		t.Fatalf("/checkin in English: %+v", got)
	}
	res := e.press(chat, "ci:t:0730")
	if res.Notice != "Saved" {
		t.Errorf("notice %q", res.Notice)
	}
	r, ok := e.row(id)
	if want := time.Date(2026, 5, 5, 7, 30, 0, 0, ams); !ok || !r.Enabled || r.Hour != 7 || r.Minute != 30 || !r.NextDue.Equal(want) {
		t.Fatalf("after the 07:30 button: %+v", r)
	}
	msgs := e.pending(chat)
	last := msgs[len(msgs)-1].env
	if !strings.Contains(last.Text, "On: every day at 07:30") || !strings.Contains(last.Text, "tomorrow at 07:30") {
		t.Fatalf("overview after the button: %q", last.Text)
	}
	marked := false
	for _, row := range last.Buttons {
		for _, b := range row {
			if b.Label == "✓ 07:30" {
				marked = true
			}
		}
	}
	if !marked {
		t.Errorf("the chosen time is not marked: %+v", last.Buttons)
	}

	e.press(chat, "ci:z:Pacific/Auckland")
	if r, _ := e.row(id); r.Zone != "Pacific/Auckland" || !r.Enabled {
		t.Fatalf("after the Auckland button: %+v", r)
	}
	e.press(chat, "ci:p:7")
	if r, _ := e.row(id); r.Paused.IsZero() {
		t.Fatalf("after the pause button: %+v", r)
	}
	e.press(chat, "ci:p:0")
	e.press(chat, "ci:e:1")
	e.press(chat, "ci:w:0")
	if r, _ := e.row(id); !r.Paused.IsZero() || !r.Evening || r.Weekly {
		t.Fatalf("after unpause, evening on, weekly off: %+v", r)
	}
	e.press(chat, "ci:off")
	if r, _ := e.row(id); r.Enabled || !r.NextDue.IsZero() {
		t.Fatalf("after the off button: %+v", r)
	}

	before, _ := e.row(id)
	res = e.handle(chat, dialogsButton("ci:t:2599"))
	if after, _ := e.row(id); after != before || res.Notice == "" {
		t.Fatalf("a forged button changed %+v -> %+v (notice %q)", before, after, res.Notice)
	}
}
