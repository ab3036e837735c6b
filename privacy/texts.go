package privacy

import (
	_ "embed"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stilstaan/stilstaan/dialogs"
)

//go:embed texts.yaml
var textsYAML []byte

// texts maps a key to its text per language.
var texts = mustParseTexts(textsYAML)

func mustParseTexts(b []byte) map[string]map[string]string {
	var m map[string]map[string]string
	if err := yaml.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("privacy: texts.yaml: %v", err)) // embedded; the tests load it
	}
	return m
}

// text returns the text for key in lang (Dutch when lang is unknown) with
// {name} placeholders replaced from pairs ("{name}", value, ...).
func text(key, lang string, pairs ...string) string {
	byLang, ok := texts[key]
	if !ok {
		panic("privacy: no text " + key) // a typo in this package; the tests render every text
	}
	s, ok := byLang[lang]
	if !ok {
		s = byLang[dialogs.DefaultLanguage]
	}
	s = strings.TrimSpace(s)
	if len(pairs) > 0 {
		s = strings.NewReplacer(pairs...).Replace(s)
	}
	return s
}

var months = map[string][12]string{
	"nl": {"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

// formatDate writes a day as people say it: "26 november 2026".
func formatDate(t time.Time, lang string, loc *time.Location) string {
	t = t.In(loc)
	names, ok := months[lang]
	if !ok {
		names = months[dialogs.DefaultLanguage]
	}
	return fmt.Sprintf("%d %s %d", t.Day(), names[t.Month()-1], t.Year())
}

// formatTime writes a moment with its time of day: "26 november 2026, 10:05".
func formatTime(t time.Time, lang string, loc *time.Location) string {
	return formatDate(t, lang, loc) + t.In(loc).Format(", 15:04")
}
