package privacy

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/dialogs"
)

var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

func TestEveryTextInEveryLanguage(t *testing.T) {
	if len(texts) < 20 {
		t.Fatalf("only %d texts loaded", len(texts))
	}
	for key, byLang := range texts {
		var want []string
		for i, lang := range dialogs.Languages {
			s := strings.TrimSpace(byLang[lang])
			if s == "" {
				t.Errorf("%s has no %s text", key, lang)
				continue
			}
			got := placeholder.FindAllString(s, -1)
			slices.Sort(got)
			got = slices.Compact(got)
			if i == 0 {
				want = got
			} else if !slices.Equal(got, want) {
				t.Errorf("%s: placeholders %v in %s, %v in %s", key, got, lang, want, dialogs.Languages[0])
			}
		}
		for lang := range byLang {
			if !slices.Contains(dialogs.Languages, lang) {
				t.Errorf("%s: unknown language %q", key, lang)
			}
		}
	}
	if got := len(text("notice.stale", "nl")); got > 200 {
		t.Errorf("a notice is %d bytes; Telegram shows at most 200", got)
	}
	for key := range texts {
		if strings.HasPrefix(key, "notice.") || key == "delete.done" {
			for _, lang := range dialogs.Languages {
				if n := len(text(key, lang)); n > 200 {
					t.Errorf("%s (%s) is %d bytes; an answer to a button shows at most 200", key, lang, n)
				}
			}
		}
	}
}

// sampleExport is a small export with every part filled, for the golden
// files of the readable export.
func sampleExport() *Export {
	at := func(min int) time.Time {
		return time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC).Add(time.Duration(min) * time.Minute)
	}
	t0, t1 := at(0), at(1)
	seven := 7
	return &Export{
		Format: ExportFormat, ExportedAt: at(90),
		Person: ExportPerson{ID: 42, Channel: "telegram", ExternalID: 1234, ChatID: 1234, Lang: "nl", Active: true,
			CreatedAt: at(0), LastSeenAt: at(60), LastActiveAt: &t1},
		Consent: ExportConsent{Given: true, At: &t0, Version: "2026-11", History: []ExportConsentEvent{
			{At: at(0), Given: true, Version: "2026-11"}, {At: at(20), Given: false, Version: "2026-11"}, {At: at(30), Given: true, Version: "2026-11"},
		}},
		State: json.RawMessage(`{"stage":"ready"}`),
		Current: &ExportRun{Exercise: "abandonment", Title: "Stilstaan bij verlatingsangst", StartedAt: &t1, Answers: []ExportAnswer{
			{Step: "what", Question: "Wat gebeurt er op dit moment?", Answer: "Hij appt niet terug.\nAl de hele dag."},
			{Step: "intensity", Question: "Hoe sterk?", Answer: "7", Value: &seven},
			{Step: "body", Question: "Waar voel je het?", Skipped: true},
		}},
		Exercises: []ExportRun{{Exercise: "patterns", Title: "Oude patronen", StartedAt: &t0, Answers: []ExportAnswer{
			{At: &t0, Step: "when", Question: "Wanneer merk je het?", Answer: "Als ze laat is."},
			{At: &t1, Step: "protects", Question: "Wat beschermt het?", Withheld: true, Kind: "withheld"},
		}}},
		Transcript: []ExportEntry{
			{ID: 1, At: at(0), Direction: "out", Text: "Hoi, fijn dat je er bent."},
			{ID: 2, At: at(1), Direction: "in", Kind: "text", Text: "Hij appt niet terug."},
			{ID: 3, At: at(2), Direction: "in", Kind: "withheld"},
			{ID: 4, At: at(3), Direction: "coach", Text: "Ik lees met je mee."},
		},
		Messages: []ExportMessage{},
		Inputs:   []ExportInput{{Source: "tg:1", ProcessedAt: at(1)}},
		Other: []ExportTable{
			{Table: "flags", Rows: []map[string]any{{"id": 3, "level": "elevated", "status": "open"}}},
			{Table: "coach_notes", Rows: []map[string]any{{"id": 1, "note": "Rustig gesprek.", "blob": map[string]any{"unreadable": true, "bytes": 40}}}},
			{Table: "checkins", Rows: []map[string]any{}},
		},
	}
}

func TestReadableExportGolden(t *testing.T) {
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range dialogs.Languages {
		t.Run(lang, func(t *testing.T) {
			golden(t, "export."+lang+".txt", renderText(sampleExport(), lang, ams))
		})
	}
}

func TestPrivacyInfoGolden(t *testing.T) {
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 23, 30, 0, 0, time.UTC) // 27 November in Amsterdam
	for _, lang := range dialogs.Languages {
		t.Run(lang, func(t *testing.T) {
			var b strings.Builder
			for _, consent := range []string{
				text("consent.given", lang, "{date}", formatDate(at, lang, ams), "{version}", "2026-11"),
				text("consent.none", lang),
				text("consent.pending", lang),
			} {
				b.WriteString(text("info", lang, "{consent}", consent, "{days}", "365"))
				b.WriteString("\n\n-----\n\n")
			}
			for _, key := range []string{"given.now", "withdrawn.now", "export.sent", "delete.kept", "delete.expired", "delete.done"} {
				b.WriteString(key + ": " + text(key, lang) + "\n\n")
			}
			b.WriteString("delete.confirm: " + text("delete.confirm", lang, "{minutes}", "10") + "\n\n")
			b.WriteString("retention.warning: " + text("retention.warning", lang, "{days}", "14") + "\n")
			golden(t, "privacy."+lang+".txt", b.String())
		})
	}
}
