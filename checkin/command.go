package checkin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/schedule"
)

// presetTimes are the times of day offered as buttons.
var presetTimes = []clockTime{{7, 30}, {12, 30}, {18, 0}, {20, 30}, {21, 30}}

// presetZones are the time zones offered as buttons; any other IANA name
// works with /checkin zone.
var presetZones = []struct {
	name  string
	label map[string]string
}{
	{"Europe/Amsterdam", map[string]string{"nl": "Amsterdam", "en": "Amsterdam"}},
	{"Europe/Brussels", map[string]string{"nl": "Brussel", "en": "Brussels"}},
	{"Europe/London", map[string]string{"nl": "Londen", "en": "London"}},
	{"America/New_York", map[string]string{"nl": "New York", "en": "New York"}},
	{"Asia/Jakarta", map[string]string{"nl": "Jakarta", "en": "Jakarta"}},
	{"Pacific/Auckland", map[string]string{"nl": "Auckland", "en": "Auckland"}},
}

// maxPauseDays is the longest break /checkin pause takes.
const maxPauseDays = 30

// action is one change of the settings, from a command or a button.
type action struct {
	kind   string // time, on, off, zone, pause, resume, evening, weekly
	hour   int
	minute int
	zone   string
	days   int
	on     bool
}

// errReply is an answer to input that changes nothing (a time that is not a
// time, an unknown zone); its text is safe to show.
type errReply struct{ key string }

func (e errReply) Error() string { return "checkin: " + e.key }

// parseArgs reads the words after /checkin. An empty action means "show the
// settings".
func parseArgs(args string) (action, error) {
	fields := strings.Fields(strings.ToLower(args))
	if len(fields) == 0 {
		return action{}, nil
	}
	rest := strings.TrimSpace(strings.Join(strings.Fields(args)[1:], " "))
	switch fields[0] {
	case "on", "aan":
		return action{kind: "on"}, nil
	case "off", "uit":
		return action{kind: "off"}, nil
	case "zone", "tijdzone", "tz", "timezone":
		if rest == "" {
			return action{}, errReply{"bad.zone"}
		}
		loc, err := schedule.LoadZone(rest)
		if err != nil {
			return action{}, errReply{"bad.zone"}
		}
		return action{kind: "zone", zone: loc.String()}, nil
	case "pause", "pauze":
		if len(fields) == 1 {
			return action{kind: "pause", days: 1}, nil
		}
		switch fields[1] {
		case "off", "uit", "stop", "0":
			return action{kind: "resume"}, nil
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSuffix(fields[1], "d"), "dagen"))
		if err != nil || n < 1 || n > maxPauseDays || len(fields) > 3 {
			return action{}, errReply{"bad.pause"}
		}
		return action{kind: "pause", days: n}, nil
	case "resume", "hervat", "verder":
		return action{kind: "resume"}, nil
	case "evening", "avond", "avondvraag", "weekly", "week", "weekoverzicht":
		kind := "evening"
		if strings.HasPrefix(fields[0], "week") {
			kind = "weekly"
		}
		if len(fields) != 2 {
			return action{}, errReply{"bad.switch"}
		}
		switch fields[1] {
		case "on", "aan":
			return action{kind: kind, on: true}, nil
		case "off", "uit":
			return action{kind: kind, on: false}, nil
		}
		return action{}, errReply{"bad.switch"}
	}
	h, m, err := schedule.ParseClock(args)
	if err != nil {
		return action{}, errReply{"bad.clock"}
	}
	return action{kind: "time", hour: h, minute: m}, nil
}

// parseButton reads the data of a "ci:" button (without the prefix).
func parseButton(data string) (action, bool) {
	key, arg, _ := strings.Cut(data, ":")
	switch key {
	case "on", "off":
		return action{kind: key}, arg == ""
	case "t":
		if len(arg) != 4 {
			return action{}, false
		}
		h, err1 := strconv.Atoi(arg[:2])
		m, err2 := strconv.Atoi(arg[2:])
		if err1 != nil || err2 != nil || h > 23 || m > 59 || h < 0 || m < 0 {
			return action{}, false
		}
		return action{kind: "time", hour: h, minute: m}, true
	case "z":
		for _, z := range presetZones {
			if z.name == arg {
				return action{kind: "zone", zone: arg}, true
			}
		}
	case "p":
		switch arg {
		case "0":
			return action{kind: "resume"}, true
		case "1", "3", "7":
			n, _ := strconv.Atoi(arg)
			return action{kind: "pause", days: n}, true
		}
	case "e", "w":
		kind := map[string]string{"e": "evening", "w": "weekly"}[key]
		switch arg {
		case "1":
			return action{kind: kind, on: true}, true
		case "0":
			return action{kind: kind, on: false}, true
		}
	}
	return action{}, false
}

// checkinCommand handles /checkin [time | on | off | zone <name> | pause <days> |
// resume | evening on|off | weekly on|off].
func (f *Feature) checkinCommand(ctx context.Context, t *conversation.Turn, args string) error {
	lang := t.Lang()
	a, err := parseArgs(args)
	var bad errReply
	if errors.As(err, &bad) {
		return t.Send(conversation.Envelope{Text: say(lang, bad.key)}, t.Priority())
	}
	s, err := f.load(t)
	if err != nil {
		return err
	}
	if a.kind == "" {
		return t.Send(f.overview(lang, s, t.Now), t.Priority())
	}
	reply, err := f.apply(ctx, t, s, a)
	if err != nil {
		return err
	}
	return t.Send(conversation.Envelope{Text: reply}, t.Priority())
}

// button handles the "ci:" buttons: the settings, and the answer to the offer
// after a first exercise.
func (f *Feature) button(ctx context.Context, t *conversation.Turn, data string) (string, error) {
	lang := t.Lang()
	s, err := f.load(t)
	if err != nil {
		return "", err
	}
	switch data {
	case "offer:yes":
		a := action{kind: "on"}
		reply, err := f.apply(ctx, t, s, a)
		if err != nil {
			return "", err
		}
		env := f.overview(lang, f.applied(s, a, t.Now), t.Now)
		env.Text = reply + "\n\n" + env.Text
		return say(lang, "notice.saved"), t.Send(env, t.Priority())
	case "offer:no":
		return "", t.Send(conversation.Envelope{Text: say(lang, "offer.declined")}, t.Priority())
	}
	a, ok := parseButton(data)
	if !ok {
		t.Out.Unknown = true
		return f.lib.Text("button.unknown", lang), nil
	}
	if _, err := f.apply(ctx, t, s, a); err != nil {
		return "", err
	}
	return say(lang, "notice.saved"), t.Send(f.overview(lang, f.applied(s, a, t.Now), t.Now), t.Priority())
}

// applied returns s with a applied (what apply saves).
func (f *Feature) applied(s Settings, a action, now time.Time) Settings {
	switch a.kind {
	case "time":
		s.Hour, s.Minute, s.Enabled = a.hour, a.minute, true
	case "on":
		s.Enabled = true
	case "off":
		s.Enabled = false
	case "zone":
		s.Zone = a.zone
	case "pause":
		if s.Enabled {
			s.PausedUntil = now.In(f.location(s.Zone)).AddDate(0, 0, a.days)
		}
	case "resume":
		s.PausedUntil = time.Time{}
	case "evening":
		s.Evening = a.on
	case "weekly":
		s.Weekly = a.on
	}
	if !s.PausedUntil.After(now) {
		s.PausedUntil = time.Time{}
	}
	return s
}

// apply saves the change a to the settings s and returns the confirmation to
// show.
func (f *Feature) apply(ctx context.Context, t *conversation.Turn, s Settings, a action) (string, error) {
	lang, now := t.Lang(), t.Now
	n := f.applied(s, a, now)
	if !sameChoices(s, n) || !s.stored {
		if err := f.save(ctx, t, s, n); err != nil {
			return "", err
		}
	}
	loc := f.location(n.Zone)
	hhmm := clock(n.Hour, n.Minute)
	next := func() string { return when(lang, f.nextDaily(n, now).In(loc), now) }
	offNote := ""
	if !n.Enabled {
		offNote = "\n" + say(lang, "done.note_off")
	}
	switch a.kind {
	case "time":
		return say(lang, "done.time", "{time}", hhmm, "{zone}", n.Zone, "{when}", next()), nil
	case "on":
		return say(lang, "done.on", "{time}", hhmm, "{zone}", n.Zone, "{when}", next()), nil
	case "off":
		return say(lang, "done.off"), nil
	case "zone":
		if n.Enabled {
			return say(lang, "done.zone_next", "{zone}", n.Zone, "{time}", hhmm, "{when}", next()), nil
		}
		return say(lang, "done.zone", "{zone}", n.Zone) + offNote, nil
	case "pause":
		if !n.Enabled {
			return say(lang, "done.pause_while_off"), nil
		}
		return say(lang, "done.pause", "{when}", next()), nil
	case "resume":
		if s.PausedUntil.IsZero() || !s.PausedUntil.After(now) {
			return say(lang, "done.not_paused"), nil
		}
		if !n.Enabled {
			return say(lang, "done.unpause", "{when}", next()) + offNote, nil
		}
		return say(lang, "done.unpause", "{when}", next()), nil
	case "evening":
		if a.on {
			return say(lang, "done.evening_on", "{time}", clock(f.evening.hour, f.evening.minute)) + offNote, nil
		}
		return say(lang, "done.evening_off"), nil
	case "weekly":
		if a.on {
			return say(lang, "done.weekly_on", "{day}", weekdayNames[langOf(lang)][f.weekly.day],
				"{time}", clock(f.weekly.hour, f.weekly.minute)) + offNote, nil
		}
		return say(lang, "done.weekly_off"), nil
	}
	return "", fmt.Errorf("checkin: apply: unknown action %q", a.kind)
}

// overview is the settings message with its buttons.
func (f *Feature) overview(lang string, s Settings, now time.Time) conversation.Envelope {
	l := langOf(lang)
	loc := f.location(s.Zone)
	hhmm := clock(s.Hour, s.Minute)
	lines := []string{say(l, "settings.title")}
	if s.Enabled {
		lines = append(lines, say(l, "settings.on", "{time}", hhmm))
	} else {
		lines = append(lines, say(l, "settings.off"))
	}
	lines = append(lines, say(l, "settings.zone", "{zone}", s.Zone))
	if s.Enabled {
		if s.PausedUntil.After(now) {
			lines = append(lines, say(l, "settings.paused", "{when}", when(l, s.PausedUntil.In(loc), now)))
		}
		lines = append(lines, say(l, "settings.next", "{when}", when(l, f.nextDaily(s, now).In(loc), now)))
	}
	evening := clock(f.evening.hour, f.evening.minute)
	switch {
	case s.Evening && s.Hour*60+s.Minute >= f.evening.hour*60+f.evening.minute:
		lines = append(lines, say(l, "settings.evening_late", "{time}", evening))
	case s.Evening:
		lines = append(lines, say(l, "settings.evening_on", "{time}", evening))
	default:
		lines = append(lines, say(l, "settings.evening_off"))
	}
	if s.Weekly {
		lines = append(lines, say(l, "settings.weekly_on", "{day}", weekdayNames[l][f.weekly.day],
			"{time}", clock(f.weekly.hour, f.weekly.minute)))
	} else {
		lines = append(lines, say(l, "settings.weekly_off"))
	}
	text := strings.Join(lines, "\n") + "\n\n" + say(l, "settings.help")

	btn := func(label, data string) dialogs.Button {
		return dialogs.Button{Label: label, Data: ButtonPrefix + ":" + data}
	}
	mark := func(on bool, label string) string {
		if on {
			return "✓ " + label
		}
		return label
	}
	var rows [][]dialogs.Button
	if s.Enabled {
		rows = append(rows, []dialogs.Button{btn(say(l, "btn.off"), "off")})
	} else {
		rows = append(rows, []dialogs.Button{btn(say(l, "btn.on"), "on")})
	}
	var times []dialogs.Button
	for _, p := range presetTimes {
		label := mark(s.Enabled && p.hour == s.Hour && p.minute == s.Minute, clock(p.hour, p.minute))
		times = append(times, btn(label, fmt.Sprintf("t:%02d%02d", p.hour, p.minute)))
	}
	rows = append(rows, times[:3], times[3:])
	var zones []dialogs.Button
	for _, z := range presetZones {
		zones = append(zones, btn(mark(z.name == s.Zone, z.label[l]), "z:"+z.name))
	}
	rows = append(rows, zones[:3], zones[3:])
	if s.Enabled {
		if s.PausedUntil.After(now) {
			rows = append(rows, []dialogs.Button{btn(say(l, "btn.unpause"), "p:0")})
		} else {
			rows = append(rows, []dialogs.Button{
				btn(say(l, "btn.pause1"), "p:1"), btn(say(l, "btn.pause3"), "p:3"), btn(say(l, "btn.pause7"), "p:7")})
		}
	}
	evening1, weekly1 := btn(say(l, "btn.evening_on"), "e:1"), btn(say(l, "btn.weekly_on"), "w:1")
	if s.Evening {
		evening1 = btn(say(l, "btn.evening_off"), "e:0")
	}
	if s.Weekly {
		weekly1 = btn(say(l, "btn.weekly_off"), "w:0")
	}
	rows = append(rows, []dialogs.Button{evening1, weekly1})
	return conversation.Envelope{Text: text, Buttons: rows, Choice: true}
}

// sameChoices reports whether a and b hold the same choices.
func sameChoices(a, b Settings) bool {
	return a.Enabled == b.Enabled && a.Hour == b.Hour && a.Minute == b.Minute && a.Zone == b.Zone &&
		a.PausedUntil.Equal(b.PausedUntil) && a.Evening == b.Evening && a.Weekly == b.Weekly
}
