package checkin

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/dialogs"
)

var placeholderRe = regexp.MustCompile(`\{[a-z]+\}`)

func TestTexts(t *testing.T) {
	for key, byLang := range texts {
		for _, lang := range dialogs.Languages {
			if byLang[lang] == "" {
				t.Errorf("text %s has no %s", key, lang)
			}
		}
		nl, en := placeholderRe.FindAllString(byLang["nl"], -1), placeholderRe.FindAllString(byLang["en"], -1)
		slices.Sort(nl)
		slices.Sort(en)
		if !slices.Equal(nl, en) {
			t.Errorf("text %s: placeholders nl %v, en %v", key, nl, en)
		}
	}
	for i, c := range closings {
		if c["nl"] == "" || c["en"] == "" {
			t.Errorf("closing %d is missing a language", i)
		}
	}
}

func TestThemes(t *testing.T) {
	lib, err := dialogs.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	s, ok := lib.Script("patterns")
	if !ok {
		t.Fatal("no patterns script")
	}
	step, ok := s.StepByID("theme")
	if !ok {
		t.Fatal("the patterns script has no theme step")
	}
	var ids []string
	for _, o := range step.Options {
		ids = append(ids, o.ID)
	}
	var ours []string
	for _, th := range Themes() {
		ours = append(ours, th.ID)
		if th.Text("nl") == "" || th.Text("en") == "" || th.Text("nl") == th.Text("en") {
			t.Errorf("theme %s: texts %q / %q", th.ID, th.Text("nl"), th.Text("en"))
		}
	}
	if !slices.Equal(ids, ours) {
		t.Errorf("themes %v, exercise 3 has %v", ours, ids)
	}

	// Ten days in a row give a person every theme once; two people do not
	// have the same theme on the same day.
	day := time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for i := range 10 {
		d := day.AddDate(0, 0, i).Format(time.DateOnly)
		seen[ThemeFor(7, d).ID] = true
		if ThemeFor(7, d).ID == ThemeFor(8, d).ID {
			t.Errorf("persons 7 and 8 share the theme of %s", d)
		}
	}
	if len(seen) != 10 {
		t.Errorf("ten days give %d themes, want 10", len(seen))
	}
}

func TestNewChecksSettings(t *testing.T) {
	lib, err := dialogs.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*config.Checkin)
		want   string // part of the error; empty: no error
	}{
		{name: "defaults", change: func(*config.Checkin) {}},
		{name: "Dutch weekday", change: func(c *config.Checkin) { c.WeeklyDay = "Zondag" }},
		{name: "weekday", change: func(c *config.Checkin) { c.WeeklyDay = "someday" }, want: "checkin.weekly_day"},
		{name: "weekly time", change: func(c *config.Checkin) { c.WeeklyTime = "25:00" }, want: "checkin.weekly_time"},
		{name: "evening prompt", change: func(c *config.Checkin) { c.EveningPrompt = "late" }, want: "checkin.evening_prompt"},
		{name: "zone", change: func(c *config.Checkin) { c.DefaultZone = "Nowhere/Town" }, want: "checkin.default_zone"},
		{name: "late window", change: func(c *config.Checkin) { c.LateWindow = time.Second }, want: "checkin.late_window"},
		{name: "scan interval", change: func(c *config.Checkin) { c.ScanInterval = 0 }, want: "checkin.scan_interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Defaults().Checkin
			tt.change(&cfg)
			_, err := New(cfg, lib, nil)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.want != "" && (err == nil || !regexp.MustCompile(regexp.QuoteMeta(tt.want)).MatchString(err.Error())):
				t.Fatalf("New: %v, want an error naming %s", err, tt.want)
			}
		})
	}
}
