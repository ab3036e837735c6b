package coach

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The coach review's own words, Dutch first and English too: the dashboard
// follows the browser's language, the Telegram answers the coach's language
// in the bot.

// catalog holds every text per language.
var catalog = map[string]map[string]string{
	"nl": {
		"tg.flags.none":     "Er staan geen open meldingen.",
		"tg.flags.head":     "Open meldingen, acute eerst:",
		"tg.flags.more":     "Er zijn er meer; het dashboard toont ze allemaal (/dashboard).",
		"tg.dashboard.off":  "Het dashboard is nog niet ingesteld: dashboard.signing_key en dashboard.public_url moeten gezet zijn.",
		"tg.dashboard.link": "Je inloglink voor het coachdashboard. Hij werkt %d minuten en één keer; deel hem met niemand.\n\n%s",

		"person.prefix": "Bericht van je coach:",

		"title":          "Stilstaan · coaches",
		"skip":           "Naar de inhoud",
		"logout":         "Uitloggen",
		"login.title":    "Inloggen",
		"login.ask":      "Je bent niet ingelogd. Stuur de bot in Telegram /dashboard: je krijgt dan een inloglink die tien minuten werkt.",
		"login.confirm":  "Je staat op het punt in te loggen op het coachdashboard van Stilstaan.",
		"login.button":   "Inloggen",
		"login.invalid":  "Deze inloglink klopt niet. Vraag de bot om een nieuwe met /dashboard.",
		"login.used":     "Deze inloglink is al gebruikt. Vraag de bot om een nieuwe met /dashboard.",
		"login.expired":  "Deze inloglink is verlopen. Vraag de bot om een nieuwe met /dashboard.",
		"login.notcoach": "Je staat niet (meer) in de lijst van coaches. Klopt dat niet, vraag het dan aan wie Stilstaan beheert.",
		"login.ended":    "Je sessie is verlopen. Stuur de bot /dashboard voor een nieuwe inloglink.",
		"login.out":      "Je bent uitgelogd.",
		"forbidden":      "Dit formulier is verlopen of niet van deze pagina. Laad de pagina opnieuw en probeer het nog eens.",
		"notfound":       "Deze melding bestaat niet, of is niet (meer) zichtbaar voor coaches.",
		"error":          "Er ging iets mis aan onze kant. Probeer het zo nog eens.",
		"reload":         "Even geduld…",

		"flags.title":     "Meldingen",
		"flags.filter":    "Filter",
		"flags.level":     "Niveau",
		"flags.status":    "Status",
		"flags.all":       "alle",
		"flags.apply":     "Toon",
		"flags.none":      "Geen meldingen die hierbij passen.",
		"flags.who":       "Wie",
		"flags.age":       "Sinds",
		"flags.why":       "Waarom",
		"flags.open":      "Open",
		"status.open":     "open",
		"status.reviewed": "beoordeeld",

		"level.acute":    "acuut",
		"level.elevated": "verhoogd",
		"level.low":      "laag",

		"cat.suicide":       "suïcidale gedachten",
		"cat.self_harm":     "zelfbeschadiging",
		"cat.violence":      "geweld of dreiging",
		"cat.distress":      "sterke onrust",
		"cat.human_request": "wil een mens spreken",

		"conv.back":       "← Alle meldingen",
		"conv.flag":       "Melding #%d",
		"conv.raised":     "gemeld %s (%s geleden)",
		"conv.reviewed":   "Beoordeeld door %s op %s.",
		"conv.state":      "Oefening",
		"conv.step":       "stap",
		"run.running":     "liep nog",
		"run.stopped":     "gestopt",
		"run.none":        "geen oefening bezig",
		"conv.inactive":   "Deze persoon heeft de bot gestopt of geblokkeerd; een bericht komt mogelijk niet aan.",
		"conv.transcript": "Gesprek rond de melding",
		"conv.earlier":    "Eerdere berichten niet getoond: %d.",
		"conv.later":      "Latere berichten niet getoond: %d.",
		"conv.empty":      "Er is geen gesprek bewaard.",
		"conv.flagged":    "dit bericht leidde tot de melding",
		"conv.withheld":   "(niet bewaard: geen toestemming op dat moment)",
		"who.out":         "Stilstaan",
		"who.coach":       "Coach",
		"who.system":      "Systeem",
		"conv.others":     "Eerdere meldingen van %s",
		"conv.noothers":   "Geen andere meldingen.",
		"notes.title":     "Notities",
		"notes.none":      "Nog geen notities.",
		"notes.export":    "Notities horen bij het dossier van deze persoon: met /export krijgt die ze te zien.",
		"notes.add":       "Notitie toevoegen",
		"notes.save":      "Notitie opslaan",
		"notes.review":    "bij beoordeling",
		"notes.flag":      "melding #%d",
		"review.title":    "Beoordelen",
		"review.note":     "Notitie",
		"review.required": "verplicht bij een acute melding",
		"review.optional": "mag leeg blijven",
		"review.button":   "Markeer als beoordeeld",
		"review.neednote": "Bij een acute melding hoort een notitie: schrijf kort wat je gezien of gedaan hebt.",
		"review.already":  "Deze melding was al beoordeeld.",
		"msg.title":       "Schrijf %s",
		"msg.hint":        "Je bericht gaat via de bot, met ervoor: “%s”",
		"msg.button":      "Versturen via de bot",
		"msg.empty":       "Schrijf eerst een bericht.",
		"msg.long":        "Dit bericht is te lang (hoogstens %d tekens).",
		"note.empty":      "Schrijf eerst een notitie.",
		"note.long":       "Deze notitie is te lang (hoogstens %d tekens).",
		"ok.note":         "Je notitie is opgeslagen.",
		"ok.review":       "De melding is beoordeeld.",
		"ok.message":      "Je bericht staat klaar en gaat zo via de bot naar deze persoon.",
		"ok.dup":          "Dit bericht was al verstuurd.",
		"gone":            "Deze persoon bestaat niet meer of wil geen coach meer; er is niets verstuurd.",
		"mood.title":      "Stemming bij de check-ins",
		"mood.none":       "Geen check-ins in de laatste zes weken.",
		"mood.alt":        "Grafiek van de stemming bij de check-ins in de laatste zes weken, en hoe sterk het gevoel was voor en na de oefeningen.",
	},
	"en": {
		"tg.flags.none":     "There are no open flags.",
		"tg.flags.head":     "Open flags, acute first:",
		"tg.flags.more":     "There are more; the dashboard shows them all (/dashboard).",
		"tg.dashboard.off":  "The dashboard is not set up yet: dashboard.signing_key and dashboard.public_url must be set.",
		"tg.dashboard.link": "Your login link for the coach dashboard. It works for %d minutes and only once; don't share it.\n\n%s",

		"person.prefix": "Message from your coach:",

		"title":          "Stilstaan · coaches",
		"skip":           "Skip to content",
		"logout":         "Log out",
		"login.title":    "Log in",
		"login.ask":      "You're not logged in. Send the bot /dashboard in Telegram: it gives you a login link that works for ten minutes.",
		"login.confirm":  "You're about to log in to the Stilstaan coach dashboard.",
		"login.button":   "Log in",
		"login.invalid":  "This login link isn't valid. Ask the bot for a new one with /dashboard.",
		"login.used":     "This login link has been used already. Ask the bot for a new one with /dashboard.",
		"login.expired":  "This login link has expired. Ask the bot for a new one with /dashboard.",
		"login.notcoach": "You're not (or no longer) on the list of coaches. If that's wrong, ask whoever runs Stilstaan.",
		"login.ended":    "Your session has ended. Send the bot /dashboard for a new login link.",
		"login.out":      "You're logged out.",
		"forbidden":      "This form has expired or didn't come from this page. Reload the page and try again.",
		"notfound":       "This flag doesn't exist, or isn't (or no longer) visible to coaches.",
		"error":          "Something went wrong on our side. Please try again in a moment.",
		"reload":         "One moment…",

		"flags.title":     "Flags",
		"flags.filter":    "Filter",
		"flags.level":     "Level",
		"flags.status":    "Status",
		"flags.all":       "all",
		"flags.apply":     "Show",
		"flags.none":      "No flags match.",
		"flags.who":       "Who",
		"flags.age":       "Since",
		"flags.why":       "Why",
		"flags.open":      "Open",
		"status.open":     "open",
		"status.reviewed": "reviewed",

		"level.acute":    "acute",
		"level.elevated": "elevated",
		"level.low":      "low",

		"cat.suicide":       "suicidal thoughts",
		"cat.self_harm":     "self-harm",
		"cat.violence":      "violence or threats",
		"cat.distress":      "strong distress",
		"cat.human_request": "asks for a human",

		"conv.back":       "← All flags",
		"conv.flag":       "Flag #%d",
		"conv.raised":     "raised %s (%s ago)",
		"conv.reviewed":   "Reviewed by %s on %s.",
		"conv.state":      "Exercise",
		"conv.step":       "step",
		"run.running":     "was running",
		"run.stopped":     "stopped",
		"run.none":        "no exercise running",
		"conv.inactive":   "This person stopped or blocked the bot; a message may not arrive.",
		"conv.transcript": "Conversation around the flag",
		"conv.earlier":    "Earlier messages not shown: %d.",
		"conv.later":      "Later messages not shown: %d.",
		"conv.empty":      "No conversation was stored.",
		"conv.flagged":    "this message raised the flag",
		"conv.withheld":   "(not stored: no consent at the time)",
		"who.out":         "Stilstaan",
		"who.coach":       "Coach",
		"who.system":      "System",
		"conv.others":     "Earlier flags of %s",
		"conv.noothers":   "No other flags.",
		"notes.title":     "Notes",
		"notes.none":      "No notes yet.",
		"notes.export":    "Notes belong to this person's record: they see them when they use /export.",
		"notes.add":       "Add a note",
		"notes.save":      "Save note",
		"notes.review":    "on review",
		"notes.flag":      "flag #%d",
		"review.title":    "Review",
		"review.note":     "Note",
		"review.required": "required for an acute flag",
		"review.optional": "may stay empty",
		"review.button":   "Mark reviewed",
		"review.neednote": "An acute flag needs a note: write briefly what you saw or did.",
		"review.already":  "This flag had been reviewed already.",
		"msg.title":       "Write to %s",
		"msg.hint":        "Your message goes out through the bot, starting with: “%s”",
		"msg.button":      "Send through the bot",
		"msg.empty":       "Write a message first.",
		"msg.long":        "This message is too long (at most %d characters).",
		"note.empty":      "Write a note first.",
		"note.long":       "This note is too long (at most %d characters).",
		"ok.note":         "Your note is saved.",
		"ok.review":       "The flag is reviewed.",
		"ok.message":      "Your message is queued and goes out through the bot in a moment.",
		"ok.dup":          "This message had been sent already.",
		"gone":            "This person no longer exists or no longer wants a coach; nothing was sent.",
		"mood.title":      "Mood at check-ins",
		"mood.none":       "No check-ins in the last six weeks.",
		"mood.alt":        "Chart of the mood at check-ins over the last six weeks, and how strong the feeling was before and after exercises.",
	},
}

// lang is a catalog language.
type lang string

// texts returns the texts of a language code, Dutch when unknown.
func texts(code string) lang {
	if _, ok := catalog[code]; ok {
		return lang(code)
	}
	return "nl"
}

// get returns a text; a missing key shows as itself, which a test catches.
func (l lang) get(key string) string {
	if s, ok := catalog[string(l)][key]; ok {
		return s
	}
	return key
}

// getf formats a text.
func (l lang) getf(key string, args ...any) string { return fmt.Sprintf(l.get(key), args...) }

func (l lang) level(level string) string { return l.get("level." + level) }

func (l lang) category(cat string) string {
	if s, ok := catalog[string(l)]["cat."+cat]; ok {
		return s
	}
	return cat
}

// age says how long ago, coarsely: minutes, hours, days.
func (l lang) age(d time.Duration) string {
	hour := "u"
	if l == "en" {
		hour = "h"
	}
	switch {
	case d < time.Minute:
		return "<1 min"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d %s", int(d/time.Hour), hour)
	}
	return fmt.Sprintf("%d d", int(d/(24*time.Hour)))
}

// browserLang picks nl or en from Accept-Language: the first of the two the
// browser lists, Dutch when neither.
func browserLang(r *http.Request) lang {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if base == "nl" || base == "en" {
			return lang(base)
		}
	}
	return "nl"
}
