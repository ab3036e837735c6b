package checkin

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/schedule"
)

// The hidden scripts this package starts (dialogs/scripts/checkin*.yaml).
const (
	ScriptCheckin = "checkin"
	ScriptEvening = "checkin_evening"
)

// The step ids of the check-in script this package reads, and the scale steps
// of the other exercises that the weekly picture shows as before and after.
const (
	StepMood    = "mood"
	StepFeeling = "feeling"
	StepNote    = "note"
	StepBefore  = "before"
	StepAfter   = "after"
)

// ButtonPrefix starts the data of every button this package makes ("ci:...").
const ButtonPrefix = "ci"

// Defaults for a person who has not chosen yet.
const (
	defaultHour   = 20
	defaultMinute = 30
)

// Feature is the check-in feature: the /checkin and /mood commands, the
// settings buttons, and the hooks that record check-ins and exercise runs
// and offer check-ins after a first exercise. Create it with New and pass
// Options to conversation.New; NewScheduler starts check-ins on time.
type Feature struct {
	lib         *dialogs.Library
	defaultZone string
	late        time.Duration
	scan        time.Duration
	evening     clockTime
	weekly      weeklyTime
	log         *slog.Logger
}

type clockTime struct{ hour, minute int }

type weeklyTime struct {
	day time.Weekday
	clockTime
}

// New checks the settings and returns the feature. lib is the script library
// of the engine (exercise titles for the weekly picture); log may be nil.
func New(cfg config.Checkin, lib *dialogs.Library, log *slog.Logger) (*Feature, error) {
	if lib == nil {
		return nil, errors.New("checkin: new: no script library")
	}
	for _, id := range []string{ScriptCheckin, ScriptEvening} {
		if _, ok := lib.Script(id); !ok {
			return nil, fmt.Errorf("checkin: new: the library has no script %q", id)
		}
	}
	if log == nil {
		log = slog.Default()
	}
	f := &Feature{lib: lib, late: cfg.LateWindow, scan: cfg.ScanInterval, log: log}
	loc, err := schedule.LoadZone(cfg.DefaultZone)
	if err != nil {
		return nil, fmt.Errorf("checkin: new: checkin.default_zone: %w", err)
	}
	f.defaultZone = loc.String()
	if f.late < time.Minute {
		return nil, fmt.Errorf("checkin: new: checkin.late_window must be at least 1m")
	}
	if f.scan <= 0 {
		return nil, fmt.Errorf("checkin: new: checkin.scan_interval must be positive")
	}
	if f.evening.hour, f.evening.minute, err = schedule.ParseClock(cfg.EveningPrompt); err != nil {
		return nil, fmt.Errorf("checkin: new: checkin.evening_prompt: %w", err)
	}
	if f.weekly.hour, f.weekly.minute, err = schedule.ParseClock(cfg.WeeklyTime); err != nil {
		return nil, fmt.Errorf("checkin: new: checkin.weekly_time: %w", err)
	}
	if f.weekly.day, err = parseWeekday(cfg.WeeklyDay); err != nil {
		return nil, fmt.Errorf("checkin: new: checkin.weekly_day: %w", err)
	}
	return f, nil
}

// Options registers the feature with a conversation.Service: the commands
// /checkin and /mood (also /stemming), the "ci:" buttons, and its hooks.
func (f *Feature) Options() []conversation.Option {
	return []conversation.Option{
		conversation.WithCommand(f.checkinCommand, "checkin"),
		conversation.WithCommand(f.moodCommand, "mood", "stemming"),
		conversation.WithButton(ButtonPrefix, f.button),
		conversation.WithHook(f.afterTurn),
	}
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "sun": time.Sunday, "zondag": time.Sunday, "zo": time.Sunday,
	"monday": time.Monday, "mon": time.Monday, "maandag": time.Monday, "ma": time.Monday,
	"tuesday": time.Tuesday, "tue": time.Tuesday, "dinsdag": time.Tuesday, "di": time.Tuesday,
	"wednesday": time.Wednesday, "wed": time.Wednesday, "woensdag": time.Wednesday, "wo": time.Wednesday,
	"thursday": time.Thursday, "thu": time.Thursday, "donderdag": time.Thursday, "do": time.Thursday,
	"friday": time.Friday, "fri": time.Friday, "vrijdag": time.Friday, "vr": time.Friday,
	"saturday": time.Saturday, "sat": time.Saturday, "zaterdag": time.Saturday, "za": time.Saturday,
}

func parseWeekday(s string) (time.Weekday, error) {
	d, ok := weekdays[strings.ToLower(strings.TrimSpace(s))]
	if !ok {
		return 0, fmt.Errorf("unknown weekday %q (use e.g. sunday)", s)
	}
	return d, nil
}
