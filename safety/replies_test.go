package safety

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name.txt, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".txt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./safety -run TestReplies -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got ---\n%s\n--- want ---\n%s", name, path, got, want)
	}
}

func TestReplies(t *testing.T) {
	h := DefaultHelplines()
	at := time.Date(2026, 3, 14, 21, 5, 0, 0, time.FixedZone("CET", 3600))
	for _, lang := range []string{"nl", "en"} {
		tests := []struct {
			name, text string
		}{
			{"acute_coach", AcuteReply(lang, h, true)},
			{"acute_nocoach", AcuteReply(lang, h, false)},
			{"elevated", ElevatedReply(lang, h)},
			{"human_coach", HumanRequestReply(lang, true)},
			{"human_nocoach", HumanRequestReply(lang, false)},
			{"bot", BotAnswer(lang)},
			{"declined_followup", DeclinedFollowUp(lang, h)},
			{"coach_alert_acute", CoachAlert(lang, Acute, CategorySuicide, "Reiger-17", at)},
			{"coach_alert_elevated", CoachAlert(lang, Elevated, CategoryDistress, "Reiger-17", at)},
			{"coach_alert_human", CoachAlert(lang, None, CategoryHumanRequest, "Reiger-17", at)},
		}
		for _, tt := range tests {
			t.Run(lang+"_"+tt.name, func(t *testing.T) {
				golden(t, tt.name+"."+lang, tt.text)
				checkPlain(t, tt.text)
			})
		}
	}
}

// checkPlain checks that a reply is plain text without markup.
func checkPlain(t *testing.T, s string) {
	t.Helper()
	if s == "" || strings.TrimSpace(s) != s {
		t.Errorf("reply is empty or has surrounding space: %q", s)
	}
	for _, bad := range []string{"*", "_", "<", ">", "`", "[", "]", "\t", "\n\n\n"} {
		if strings.Contains(s, bad) {
			t.Errorf("reply holds %q: %q", bad, s)
		}
	}
}

func TestReplyContents(t *testing.T) {
	h := DefaultHelplines()
	tests := []struct {
		name      string
		text      string
		must      []string
		mustNot   []string
		endsWithQ bool
	}{
		{"acute nl with coach", AcuteReply("nl", h, true),
			[]string{"113", "0800-0113", "113.nl", "112", "0800-2000", "huisarts", "huisartsenpost", "automatische zelfhulpbot", "geen hulpverlener", "coach", "pauzeren"}, nil, true},
		{"acute nl without coach", AcuteReply("nl", h, false), []string{"113", "112"}, []string{"coach"}, true},
		{"acute en with coach", AcuteReply("en", h, true),
			[]string{"local emergency number", "findahelpline.com", "113", "112", "automated self-help bot", "not a counsellor", "coach", "grounding", "pause"}, nil, true},
		{"acute en without coach", AcuteReply("en", h, false), []string{"findahelpline.com"}, []string{"coach"}, true},
		{"unknown language is Dutch", AcuteReply("de", h, false), []string{"113 Zelfmoordpreventie"}, []string{"findahelpline"}, true},
		{"elevated nl", ElevatedReply("nl", h), []string{"113", "geen hulpverlener", "pauzeren"}, nil, true},
		{"elevated en", ElevatedReply("en", h), []string{"findahelpline.com", "not a counsellor", "pause"}, nil, true},
		{"human nl told", HumanRequestReply("nl", true), []string{"bot", "coach van Stilstaan"}, nil, false},
		{"human nl not told", HumanRequestReply("nl", false), []string{"bot", "geen coach"}, []string{"laten weten"}, false},
		{"human en not told", HumanRequestReply("en", false), []string{"bot", "No coach"}, []string{"I've let"}, false},
		{"bot nl", BotAnswer("nl"), []string{"Ja, ik ben een bot", "geen mens"}, nil, false},
		{"bot en", BotAnswer("en"), []string{"Yes, I'm a bot", "not a person"}, nil, false},
		{"follow-up nl", DeclinedFollowUp("nl", h), []string{"Hoe gaat het nu met je?", "113"}, nil, false},
		{"follow-up en", DeclinedFollowUp("en", h), []string{"How are you doing now?", "findahelpline.com"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range tt.must {
				if !strings.Contains(tt.text, m) {
					t.Errorf("reply lacks %q:\n%s", m, tt.text)
				}
			}
			for _, m := range tt.mustNot {
				if strings.Contains(tt.text, m) {
					t.Errorf("reply holds %q:\n%s", m, tt.text)
				}
			}
			if tt.endsWithQ && !strings.HasSuffix(tt.text, "?") {
				t.Errorf("reply does not end with an invitation: %q", tt.text)
			}
		})
	}
}

// TestRepliesUseOnlyKnownNumbers checks that no reply shows a number or
// address that is not among the helplines: the bot never makes one up.
func TestRepliesUseOnlyKnownNumbers(t *testing.T) {
	h := DefaultHelplines()
	allowed := h.Numbers()
	number := regexp.MustCompile(`\+?\d[\d\- ]*\d|\d|[a-z0-9-]+\.(?:nl|com|org)\b`)
	for _, lang := range []string{"nl", "en"} {
		for _, s := range []string{AcuteReply(lang, h, true), ElevatedReply(lang, h), HumanRequestReply(lang, true),
			HumanRequestReply(lang, false), BotAnswer(lang), DeclinedFollowUp(lang, h)} {
			for _, m := range number.FindAllString(s, -1) {
				if m == "24/7" || m == "24" || m == "7" {
					continue
				}
				if !slices.Contains(allowed, strings.TrimSpace(m)) {
					t.Errorf("%s reply shows %q, which is not a helpline number", lang, m)
				}
			}
		}
	}
}

func TestCustomHelplines(t *testing.T) {
	h := Helplines{"nl": {{Name: "Testlijn", Phone: "+31 (0)20 123 4567", Hours: "op werkdagen"}}}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	nl := AcuteReply("nl", h, false)
	if !strings.Contains(nl, "- Testlijn: bel +31 (0)20 123 4567 (op werkdagen)") || strings.Contains(nl, "0800-0113") {
		t.Errorf("custom list not used:\n%s", nl)
	}
	en := AcuteReply("en", h, false)
	if !strings.Contains(en, "Testlijn") {
		t.Errorf("English without its own list should fall back to the Dutch list:\n%s", en)
	}
	if got := AcuteReply("en", Helplines{}, false); !strings.Contains(got, "findahelpline.com") {
		t.Errorf("empty helplines should fall back to the defaults:\n%s", got)
	}
}

func TestHelplinesValidate(t *testing.T) {
	if err := DefaultHelplines().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	tests := []struct {
		name string
		h    Helplines
	}{
		{"nil", nil},
		{"empty language", Helplines{"nl": nil}},
		{"no name", Helplines{"nl": {{Phone: "113"}}}},
		{"no contact", Helplines{"nl": {{Name: "x"}}}},
		{"letters in phone", Helplines{"nl": {{Name: "x", Phone: "call 113"}}}},
		{"plus inside", Helplines{"nl": {{Name: "x", Phone: "11+3"}}}},
		{"url with space", Helplines{"nl": {{Name: "x", URL: "113 .nl"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.h.Validate(); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestNumbers(t *testing.T) {
	got := DefaultHelplines().Numbers()
	want := []string{"0800-0113", "0800-2000", "112", "113", "113.nl", "findahelpline.com"}
	if !slices.Equal(got, want) {
		t.Fatalf("Numbers() = %q, want %q", got, want)
	}
}

func TestCoachAlertHasNoMessageText(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	for _, lang := range []string{"nl", "en"} {
		s := CoachAlert(lang, Acute, "guard_rejected", "Merel-3", at)
		if !strings.Contains(s, "Merel-3") || !strings.Contains(s, "2026-01-02 03:04 UTC") || !strings.Contains(s, "guard rejected") {
			t.Errorf("%s alert: %q", lang, s)
		}
		checkPlain(t, s)
	}
}
