package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // zones must load on hosts without system tzdata
)

// ErrUnknownZone is wrapped by LoadZone when a name is not a time zone.
var ErrUnknownZone = errors.New("unknown time zone")

// Zones returns the time zones offered to people first: where Dutch and
// English speakers using Stilstaan mostly live. LoadZone accepts these in any
// case and by city alone ("amsterdam", "New York"); any other IANA name works
// too. The caller may modify the returned slice.
func Zones() []string { return append([]string(nil), zones...) }

var zones = []string{
	"Europe/Amsterdam",
	"Europe/Brussels",
	"Europe/London",
	"Europe/Dublin",
	"Europe/Berlin",
	"Europe/Paris",
	"Europe/Madrid",
	"Europe/Lisbon",
	"Europe/Istanbul",
	"America/Paramaribo",
	"America/Curacao",
	"America/Aruba",
	"America/Kralendijk",
	"America/Lower_Princes",
	"America/New_York",
	"America/Chicago",
	"America/Denver",
	"America/Los_Angeles",
	"America/Toronto",
	"Africa/Johannesburg",
	"Africa/Casablanca",
	"Asia/Dubai",
	"Asia/Kolkata",
	"Asia/Jakarta",
	"Australia/Perth",
	"Australia/Sydney",
	"Pacific/Auckland",
	"UTC",
}

// LoadZone returns the time zone with the given IANA name. Names in Zones() are
// matched case-insensitively, also by their city part with spaces for
// underscores ("new york"); other names must be valid IANA names, and are
// tried as written and then with each word capitalised ("europe/zurich").
// "Local" and the empty name are refused: the host's zone says nothing about
// where a person lives. The error does not repeat the name.
func LoadZone(name string) (*time.Location, error) {
	key := zoneKey(name)
	if key == "" || key == "local" {
		return nil, fmt.Errorf("schedule: load zone: %w", ErrUnknownZone)
	}
	for _, z := range zones {
		if key == zoneKey(z) || key == zoneKey(z[strings.LastIndexByte(z, '/')+1:]) {
			return loadLocation(z)
		}
	}
	trimmed := strings.TrimSpace(name)
	if loc, err := time.LoadLocation(trimmed); err == nil {
		return loc, nil
	}
	if canon := capitalise(trimmed); canon != trimmed {
		if loc, err := time.LoadLocation(canon); err == nil {
			return loc, nil
		}
	}
	return nil, fmt.Errorf("schedule: load zone: %w", ErrUnknownZone)
}

func loadLocation(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("schedule: load zone: %w", err)
	}
	return loc, nil
}

// zoneKey folds case, surrounding space and the space/underscore difference.
func zoneKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '_' }), "_")
}

// capitalise upper-cases the first letter of every word of an IANA name and
// lower-cases the rest: "america/new_york" -> "America/New_York". It is a
// best effort; a few names ("America/Port-au-Prince") have other casing.
func capitalise(s string) string {
	b := []byte(strings.ToLower(s))
	start := true
	for i, c := range b {
		if start && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		start = c == '/' || c == '_' || c == '-'
	}
	return string(b)
}
