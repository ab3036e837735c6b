package schedule

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadClock is wrapped by every ParseClock error, so callers can answer a
// person with a friendly "try 20:30" whatever the exact reason was.
var ErrBadClock = errors.New("invalid time of day")

// ParseClock reads a time of day the way people type it in Dutch or English:
// "20:30", "20.30", "2030", "830", "8:05", "20u30", "20h30", "20", "20u",
// "20:30 uur", "8pm", "8:30 am". Spaces are ignored and case does not matter.
// Minutes after a separator must have two digits ("20:5" is refused rather
// than guessed). The error says what is wrong without repeating the input,
// and matches ErrBadClock.
func ParseClock(s string) (hour, min int, err error) {
	s = strings.ToLower(strings.Join(strings.Fields(s), ""))
	if s == "" {
		return 0, 0, clockErr("empty")
	}
	if len(s) > 16 {
		return 0, 0, clockErr("too long")
	}

	ampm := ""
	for _, suf := range []struct{ text, meaning string }{
		{"a.m.", "am"}, {"p.m.", "pm"}, {"am", "am"}, {"pm", "pm"},
	} {
		if rest, ok := strings.CutSuffix(s, suf.text); ok {
			s, ampm = rest, suf.meaning
			break
		}
	}
	if ampm == "" {
		// "20u", "20 uur", "20:30u", "20h": a trailing unit word, not a separator.
		for _, suf := range []string{"uur", "u", "h"} {
			if rest, ok := strings.CutSuffix(s, suf); ok {
				s = rest
				break
			}
		}
	}

	var hourDigits, minDigits string
	if i := strings.IndexAny(s, ":.uh"); i >= 0 {
		hourDigits, minDigits = s[:i], s[i+1:]
		if hourDigits == "" {
			return 0, 0, clockErr("no hour before the separator")
		}
		if len(minDigits) != 2 {
			return 0, 0, clockErr("minutes need two digits, like 20:05")
		}
	} else {
		switch len(s) {
		case 1, 2:
			hourDigits, minDigits = s, "00"
		case 3, 4: // "830", "2030"
			hourDigits, minDigits = s[:len(s)-2], s[len(s)-2:]
		default:
			return 0, 0, clockErr("not a time of day, try 20:30")
		}
	}
	hour, ok := digits(hourDigits)
	if !ok {
		return 0, 0, clockErr("not a time of day, try 20:30")
	}
	min, ok = digits(minDigits)
	if !ok {
		return 0, 0, clockErr("not a time of day, try 20:30")
	}
	if len(hourDigits) > 2 {
		return 0, 0, clockErr("hour has more than two digits")
	}
	if min > 59 {
		return 0, 0, clockErr("minutes out of range 00-59")
	}
	switch ampm {
	case "":
		if hour > 23 {
			return 0, 0, clockErr("hour out of range 0-23")
		}
	default:
		if hour < 1 || hour > 12 {
			return 0, 0, clockErr("hour out of range 1-12 with am/pm")
		}
		hour %= 12
		if ampm == "pm" {
			hour += 12
		}
	}
	return hour, min, nil
}

func clockErr(reason string) error {
	return fmt.Errorf("schedule: parse clock: %s: %w", reason, ErrBadClock)
}

// digits parses a short string of ASCII digits.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
