package checkin

import (
	"fmt"
	"strings"
	"time"
)

// texts holds every word this package says to a person, per language. Keys
// with {placeholders} are filled by say.
var texts = map[string]map[string]string{
	"theme.today": {
		"nl": "Thema van vandaag: {theme}.\nJe hoeft er niets mee te doen. Kijk alleen of je het vandaag ergens tegenkomt.",
		"en": "Today's theme: {theme}.\nYou don't have to do anything with it. Just notice whether you come across it today.",
	},
	"theme.evening": {
		"nl": "Het thema van vandaag was: {theme}.",
		"en": "Today's theme was: {theme}.",
	},

	"settings.title": {"nl": "Je dagelijkse check-in", "en": "Your daily check-in"},
	"settings.on": {
		"nl": "• Staat aan: elke dag om {time}.",
		"en": "• On: every day at {time}.",
	},
	"settings.zone": {
		"nl": "• Tijdzone: {zone}.",
		"en": "• Time zone: {zone}.",
	},
	"settings.off": {
		"nl": "• Staat uit. Kies hieronder een tijd, dan zet ik hem aan.",
		"en": "• Off. Choose a time below and I'll turn it on.",
	},
	"settings.paused": {
		"nl": "• Pauze tot {when}.",
		"en": "• Paused until {when}.",
	},
	"settings.next": {
		"nl": "• De volgende komt {when}.",
		"en": "• The next one comes {when}.",
	},
	"settings.evening_on": {
		"nl": "• Avondvraag over het thema: aan, om {time}.",
		"en": "• Evening question about the theme: on, at {time}.",
	},
	"settings.evening_late": {
		"nl": "• Je check-in komt na {time}; de avondvraag komt alleen op dagen dat je check-in eerder was, dus nu niet.",
		"en": "• Your check-in comes after {time}; the evening question only comes on days your check-in came earlier, so not now.",
	},
	"settings.evening_off": {
		"nl": "• Avondvraag over het thema: uit.",
		"en": "• Evening question about the theme: off.",
	},
	"settings.weekly_on": {
		"nl": "• Weekoverzicht: aan, op {day} om {time}.",
		"en": "• Weekly summary: on, on {day} at {time}.",
	},
	"settings.weekly_off": {
		"nl": "• Weekoverzicht: uit.",
		"en": "• Weekly summary: off.",
	},
	"settings.help": {
		"nl": "Kies hieronder, of typ bijvoorbeeld /checkin 20:30, /checkin zone Europe/London, /checkin pauze 3 of /checkin uit.",
		"en": "Choose below, or type for example /checkin 20:30, /checkin zone Europe/London, /checkin pause 3 or /checkin off.",
	},

	"btn.on":          {"nl": "Zet aan", "en": "Turn on"},
	"btn.off":         {"nl": "Zet uit", "en": "Turn off"},
	"btn.pause1":      {"nl": "1 dag pauze", "en": "Pause 1 day"},
	"btn.pause3":      {"nl": "3 dagen", "en": "3 days"},
	"btn.pause7":      {"nl": "7 dagen", "en": "7 days"},
	"btn.unpause":     {"nl": "Pauze stoppen", "en": "End the pause"},
	"btn.evening_on":  {"nl": "Avondvraag aan", "en": "Evening question on"},
	"btn.evening_off": {"nl": "Avondvraag uit", "en": "Evening question off"},
	"btn.weekly_on":   {"nl": "Weekoverzicht aan", "en": "Weekly summary on"},
	"btn.weekly_off":  {"nl": "Weekoverzicht uit", "en": "Weekly summary off"},

	"done.time": {
		"nl": "Goed. Je check-in komt voortaan elke dag om {time} ({zone}). De eerste komt {when}.",
		"en": "Done. Your check-in now comes every day at {time} ({zone}). The first one comes {when}.",
	},
	"done.on": {
		"nl": "Je check-in staat aan: elke dag om {time} ({zone}). De eerste komt {when}.",
		"en": "Your check-in is on: every day at {time} ({zone}). The first one comes {when}.",
	},
	"done.off": {
		"nl": "Je check-in staat uit. Ik stuur je niets meer uit mezelf; met /checkin zet je hem weer aan.",
		"en": "Your check-in is off. I won't send you anything on my own; /checkin turns it back on.",
	},
	"done.zone": {
		"nl": "Je tijdzone is nu {zone}.",
		"en": "Your time zone is now {zone}.",
	},
	"done.zone_next": {
		"nl": "Je tijdzone is nu {zone}. Je check-in komt daar om {time}; de volgende {when}.",
		"en": "Your time zone is now {zone}. Your check-in comes at {time} there; the next one {when}.",
	},
	"done.pause": {
		"nl": "Even pauze. De volgende check-in komt pas {when}; daarna gaat alles vanzelf weer verder. Eerder hervatten kan met /checkin hervat.",
		"en": "Taking a break. The next check-in comes {when}; after that everything carries on by itself. /checkin resume brings them back sooner.",
	},
	"done.unpause": {
		"nl": "De pauze is voorbij. De volgende check-in komt {when}.",
		"en": "The break is over. The next check-in comes {when}.",
	},
	"done.not_paused": {
		"nl": "Je check-ins staan niet op pauze.",
		"en": "Your check-ins are not paused.",
	},
	"done.pause_while_off": {
		"nl": "Je check-in staat uit, dus er is niets om te pauzeren. Met /checkin zet je hem aan.",
		"en": "Your check-in is off, so there is nothing to pause. /checkin turns it on.",
	},
	"done.evening_on": {
		"nl": "De avondvraag staat aan: om {time} vraag ik wat je van het thema merkte, op dagen dat je check-in eerder al kwam.",
		"en": "The evening question is on: at {time} I'll ask what you noticed about the theme, on days your check-in came earlier.",
	},
	"done.evening_off": {
		"nl": "De avondvraag staat uit.",
		"en": "The evening question is off.",
	},
	"done.weekly_on": {
		"nl": "Het weekoverzicht staat aan: op {day} om {time} krijg je een plaatje van je weken.",
		"en": "The weekly summary is on: on {day} at {time} you get a picture of your weeks.",
	},
	"done.weekly_off": {
		"nl": "Het weekoverzicht staat uit. Met /mood kun je het altijd zelf bekijken.",
		"en": "The weekly summary is off. You can always look at it yourself with /mood.",
	},
	"done.note_off": {
		"nl": "Let op: je check-in staat nog uit. Met /checkin aan zet je hem aan.",
		"en": "Note: your check-in is still off. /checkin on turns it on.",
	},

	"bad.clock": {
		"nl": "Die tijd begrijp ik niet. Typ een tijd tussen 00:00 en 23:59, bijvoorbeeld /checkin 20:30. Er is niets veranderd.",
		"en": "I don't understand that time. Type a time between 00:00 and 23:59, for example /checkin 20:30. Nothing was changed.",
	},
	"bad.zone": {
		"nl": "Die tijdzone ken ik niet. Gebruik een naam als Europe/Amsterdam of America/New_York, of kies er een met /checkin. Er is niets veranderd.",
		"en": "I don't know that time zone. Use a name like Europe/Amsterdam or America/New_York, or pick one with /checkin. Nothing was changed.",
	},
	"bad.pause": {
		"nl": "Pauzeren kan 1 tot 30 dagen, bijvoorbeeld /checkin pauze 3. Er is niets veranderd.",
		"en": "A break can last 1 to 30 days, for example /checkin pause 3. Nothing was changed.",
	},
	"bad.switch": {
		"nl": "Typ er aan of uit achter, bijvoorbeeld /checkin avond aan. Er is niets veranderd.",
		"en": "Add on or off, for example /checkin evening on. Nothing was changed.",
	},

	"offer.text": {
		"nl": "Zal ik je voortaan elke dag even vragen hoe het met je gaat? Het kost je een minuutje, met een thema om die dag op te letten. Je kiest zelf de tijd, en je kunt het altijd weer uitzetten.",
		"en": "Shall I ask you once a day how you are doing? It takes a minute, with a theme to look out for that day. You choose the time, and you can always turn it off again.",
	},
	"offer.yes": {"nl": "Ja, graag", "en": "Yes, please"},
	"offer.no":  {"nl": "Nee, dank je", "en": "No, thanks"},
	"offer.declined": {
		"nl": "Helemaal goed. Wil je het later toch, typ dan /checkin.",
		"en": "That's completely fine. If you change your mind, type /checkin.",
	},

	"notice.saved": {"nl": "Opgeslagen", "en": "Saved"},

	"mood.title":      {"nl": "Je afgelopen zes weken.", "en": "Your last six weeks."},
	"mood.title_week": {"nl": "Je week in beeld.", "en": "Your week at a glance."},
	"mood.avg": {
		"nl": "Gemiddelde stemming deze week: {avg} van 5 ({n}× ingecheckt).",
		"en": "Average mood this week: {avg} out of 5 ({n} check-ins).",
	},
	"mood.avg_prev": {
		"nl": "Vorige week: {avg}.",
		"en": "Last week: {avg}.",
	},
	"mood.no_prev": {
		"nl": "Vorige week had je nog geen check-ins.",
		"en": "Last week you had no check-ins yet.",
	},
	"mood.none_week": {
		"nl": "Deze week nog geen check-ins.",
		"en": "No check-ins this week yet.",
	},
	"mood.exercises": {
		"nl": "Oefeningen deze week: {n}.",
		"en": "Exercises this week: {n}.",
	},
	"mood.file": {"nl": "stemming", "en": "mood"},
}

// closings are said at the end of a weekly summary, one a week in turn: where
// standing still leads (EXERCISES.md).
var closings = []map[string]string{
	{"nl": "Elke keer dat je stilstaat, kom je een beetje meer bij jezelf uit.", "en": "Every time you pause, you come a little closer to yourself."},
	{"nl": "Je bouwt aan veiligheid in jezelf, ook in weken die zwaar voelen.", "en": "You are building safety inside yourself, even in weeks that feel heavy."},
	{"nl": "Verbinden vanuit vrijheid begint bij verbinding met jezelf.", "en": "Connecting from freedom starts with connecting with yourself."},
	{"nl": "Zo groeit er ruimte voor een relatie tussen gelijken.", "en": "This is how room grows for a relationship between equals."},
	{"nl": "Samen zijn en alleen zijn mogen er allebei zijn; je vindt je eigen evenwicht.", "en": "Being together and being alone both have their place; you are finding your own balance."},
	{"nl": "Wat je voelt, mag er zijn. Daar begint echte verbinding.", "en": "What you feel is allowed to be there. That is where real connection begins."},
}

// langOf maps a person's language to one this package writes: English for
// "en", Dutch (the default) for everything else.
func langOf(lang string) string {
	if lang == "en" {
		return "en"
	}
	return "nl"
}

// say returns the text key in lang with {name} placeholders filled from
// pairs.
func say(lang, key string, pairs ...string) string {
	t, ok := texts[key]
	if !ok {
		panic("checkin: no text " + key) // caught by TestTexts
	}
	s := t[langOf(lang)]
	if len(pairs) > 0 {
		s = strings.NewReplacer(pairs...).Replace(s)
	}
	return s
}

var (
	weekdayNames = map[string][7]string{
		"nl": {"zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag"},
		"en": {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
	}
	weekdayShort = map[string][7]string{
		"nl": {"zo", "ma", "di", "wo", "do", "vr", "za"},
		"en": {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
	}
	monthShort = map[string][12]string{
		"nl": {"jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"},
		"en": {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	}
)

// clock formats a time of day as "20:30".
func clock(hour, minute int) string { return fmt.Sprintf("%02d:%02d", hour, minute) }

// when says when t is, seen from now, in t's location: "vandaag om 20:30",
// "morgen om 07:30" or "wo 6 mei om 20:30".
func when(lang string, t, now time.Time) string {
	l := langOf(lang)
	now = now.In(t.Location())
	at := " om "
	if l == "en" {
		at = " at "
	}
	hhmm := clock(t.Hour(), t.Minute())
	ty, tm, td := t.Date()
	switch {
	case sameDate(ty, tm, td, now):
		if l == "en" {
			return "today" + at + hhmm
		}
		return "vandaag" + at + hhmm
	case sameDate(ty, tm, td, now.AddDate(0, 0, 1)):
		if l == "en" {
			return "tomorrow" + at + hhmm
		}
		return "morgen" + at + hhmm
	}
	return fmt.Sprintf("%s %d %s%s%s", weekdayShort[l][t.Weekday()], td, monthShort[l][tm-1], at, hhmm)
}

func sameDate(y int, m time.Month, d int, t time.Time) bool {
	ty, tm, td := t.Date()
	return y == ty && m == tm && d == td
}

// decimal formats x with one decimal, with a comma in Dutch.
func decimal(lang string, x float64) string {
	s := fmt.Sprintf("%.1f", x)
	if langOf(lang) == "nl" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
