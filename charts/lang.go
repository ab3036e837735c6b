package charts

import (
	"fmt"
	"strings"
	"time"
)

// texts holds every word a chart shows, per language.
type texts struct {
	title      string // before the date range: "Jouw weken · 2 mrt – 26 apr 2026"
	moodTitle  string
	moodLevels [5]string // mood 1..5
	noMood     string
	runsTitle  string
	runsLatest string // with the number of runs shown, when older ones are left out
	before     string
	after      string
	noRuns     string
	emptyTitle string
	emptyBody  []string
	months     [12]string
	weekdays   [7]string // Sunday first, as time.Weekday
}

var dutch = texts{
	title:      "Jouw weken",
	moodTitle:  "Hoe je je voelde",
	moodLevels: [5]string{"zwaar", "moeilijk", "gaat wel", "goed", "licht"},
	noMood:     "Nog geen stemming ingevuld in deze periode",
	runsTitle:  "Hoe sterk het gevoel was (0-10)",
	runsLatest: "laatste %d oefeningen",
	before:     "voor",
	after:      "na",
	noRuns:     "Nog geen oefeningen gedaan in deze periode",
	emptyTitle: "Nog geen gegevens",
	emptyBody: []string{
		"Zodra je een paar keer hebt laten weten hoe het met je gaat,",
		"zie je hier hoe je weken verlopen.",
	},
	months:   [12]string{"jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"},
	weekdays: [7]string{"zo", "ma", "di", "wo", "do", "vr", "za"},
}

var english = texts{
	title:      "Your weeks",
	moodTitle:  "How you felt",
	moodLevels: [5]string{"heavy", "hard", "okay", "good", "light"},
	noMood:     "No mood check-ins in this period yet",
	runsTitle:  "How strong the feeling was (0-10)",
	runsLatest: "last %d exercises",
	before:     "before",
	after:      "after",
	noRuns:     "No exercises in this period yet",
	emptyTitle: "No data yet",
	emptyBody: []string{
		"Once you have shared how you are doing a few times,",
		"you will see here how your weeks are going.",
	},
	months:   [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	weekdays: [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
}

// textsFor picks the language: English for "en" and its regional forms
// ("en-GB", "EN_us"), Dutch for everything else, since Dutch is the default.
func textsFor(lang string) *texts {
	l := strings.ToLower(strings.TrimSpace(lang))
	if l == "en" || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_") {
		return &english
	}
	return &dutch
}

// day formats a date as "4 mei" / "4 May".
func (tx *texts) day(t time.Time) string {
	return fmt.Sprintf("%d %s", t.Day(), tx.months[t.Month()-1])
}

// weekdayDay formats a date as "ma 4 mei" / "Mon 4 May".
func (tx *texts) weekdayDay(t time.Time) string {
	return tx.weekdays[t.Weekday()] + " " + tx.day(t)
}

// span formats a date range as "2 mrt – 26 apr 2026", "13 – 21 apr 2026"
// within a month, or with both years when it crosses a new year.
func (tx *texts) span(from, to time.Time) string {
	if from.Year() == to.Year() && from.Month() == to.Month() {
		return fmt.Sprintf("%d – %s %d", from.Day(), tx.day(to), to.Year())
	}
	if from.Year() == to.Year() {
		return fmt.Sprintf("%s – %s %d", tx.day(from), tx.day(to), to.Year())
	}
	return fmt.Sprintf("%s %d – %s %d", tx.day(from), from.Year(), tx.day(to), to.Year())
}
