package privacy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// renderText writes the export as plain text for the person to read: who
// they are to the bot, their consent, their exercises as question and
// answer, the whole conversation, and other rows about them.
func renderText(x *Export, lang string, loc *time.Location) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	heading := func(key string) {
		h := text(key, lang)
		line("\n%s\n%s", h, strings.Repeat("=", len([]rune(h))))
	}
	when := func(t time.Time) string { return formatTime(t, lang, loc) }

	title := text("txt.title", lang)
	line("%s\n%s", title, strings.Repeat("=", len([]rune(title))))
	line("%s", text("txt.made", lang, "{date}", when(x.ExportedAt)))
	line("\n%s", text("txt.intro", lang))

	heading("txt.about")
	line("%s: %s", text("txt.lang", lang), x.Person.Lang)
	line("%s: %s", text("txt.since", lang), when(x.Person.CreatedAt))
	if x.Person.LastActiveAt != nil {
		line("%s: %s", text("txt.last_active", lang), when(*x.Person.LastActiveAt))
	}
	consent := text("txt.consent_none", lang)
	if x.Consent.Given && x.Consent.At != nil {
		consent = text("txt.consent_given", lang, "{date}", when(*x.Consent.At), "{version}", x.Consent.Version)
	}
	line("%s: %s", text("txt.consent", lang), consent)
	if len(x.Consent.History) > 0 {
		line("\n%s:", text("txt.consent_history", lang))
		for _, e := range x.Consent.History {
			what := text("txt.consent_event_withdrawn", lang)
			if e.Given {
				what = text("txt.consent_event_given", lang, "{version}", e.Version)
			}
			line("• %s: %s", when(e.At), what)
		}
	}

	answer := func(a ExportAnswer) string {
		switch {
		case a.Withheld:
			return text("txt.withheld", lang)
		case a.Skipped:
			return text("txt.skipped", lang)
		}
		return a.Answer
	}
	run := func(r ExportRun) {
		name := r.Title
		if name == "" {
			name = r.Exercise
		}
		if r.StartedAt != nil {
			name += " (" + when(*r.StartedAt) + ")"
		}
		line("\n--- %s ---", name)
		for _, a := range r.Answers {
			if a.Question != "" {
				line("%s: %s", text("txt.question", lang), indent(a.Question))
			} else {
				line("%s: %s", text("txt.question", lang), a.Step)
			}
			line("%s: %s", text("txt.answer", lang), indent(answer(a)))
		}
	}
	if x.Current != nil {
		heading("txt.current")
		run(*x.Current)
	}
	heading("txt.exercises")
	if len(x.Exercises) == 0 {
		line("%s", text("txt.none", lang))
	}
	for _, r := range x.Exercises {
		run(r)
	}

	heading("txt.transcript")
	if len(x.Transcript) == 0 {
		line("%s", text("txt.none", lang))
	}
	who := map[string]string{"in": text("txt.you", lang), "out": text("txt.bot", lang),
		"coach": text("txt.coach", lang), "system": text("txt.system", lang)}
	for _, e := range x.Transcript {
		said := e.Text
		if e.Kind == "withheld" {
			said = text("txt.withheld", lang)
		}
		line("\n[%s] %s:\n%s", when(e.At), who[e.Direction], said)
	}

	if len(x.Other) > 0 {
		heading("txt.other")
		for _, tbl := range x.Other {
			line("\n--- %s ---", tbl.Table)
			if len(tbl.Rows) == 0 {
				line("%s", text("txt.none", lang))
			}
			for _, row := range tbl.Rows {
				keys := make([]string, 0, len(row))
				for k := range row {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				var parts []string
				for _, k := range keys {
					parts = append(parts, k+": "+otherValue(row[k], lang))
				}
				line("• %s", strings.Join(parts, "; "))
			}
		}
	}
	return b.String()
}

// otherValue shows one column of another table.
func otherValue(v any, lang string) string {
	switch v := v.(type) {
	case nil:
		return "-"
	case string:
		return v
	case map[string]any:
		if v["unreadable"] == true {
			return text("txt.unreadable", lang)
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// indent keeps a multi-line text readable under its label.
func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }
