package llm

import (
	"strings"
	"testing"
)

// crisisWords stands in for the safety classifier in these tests.
func crisisWords(s string) bool {
	s = strings.ToLower(s)
	for _, w := range []string{"niet meer wil leven", "zelfmoord", "end my life", "kill myself"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

const (
	dutchOK   = "Je merkt dat het stil blijft en dat er angst opkomt dat je de ander kwijtraakt. Het is begrijpelijk dat je dan iets wilt doen. Dat gevoel mag er nu even zijn."
	englishOK = "You notice the silence and the fear that comes up that you might lose the other person. It makes sense that you want to do something. That feeling can be here right now."
)

func TestGuardCheck(t *testing.T) {
	g := NewGuard([]string{"113", "0800-0113", "112", "https://www.113.nl/", "findahelpline.com"}, crisisWords)
	tests := []struct {
		name string
		text string
		lang string
		rule string // "" = accepted
	}{
		{name: "dutch reflection", text: dutchOK, lang: "nl"},
		{name: "english reflection", text: englishOK, lang: "en"},
		{name: "region tag", text: englishOK, lang: "en-GB"},
		{name: "short dutch", text: "Dat is veel.", lang: "nl"},
		{name: "empty", text: "", lang: "nl", rule: RuleEmpty},
		{name: "whitespace", text: " \n\t ", lang: "en", rule: RuleEmpty},
		{name: "too long", text: strings.Repeat("Dat gevoel mag er zijn. ", 30), lang: "nl", rule: RuleTooLong},
		{name: "crisis wording", text: "Je schrijft dat je niet meer wil leven. Dat is zwaar.", lang: "nl", rule: RuleCrisis},
		{name: "crisis wording english", text: "It sounds like you want to end my life, which is heavy.", lang: "en", rule: RuleCrisis},
		{name: "crisis beats too long", text: strings.Repeat("Zelfmoord. ", 80), lang: "nl", rule: RuleCrisis},
		{name: "https link", text: "Je voelt je alleen. Kijk eens op https://example.com/hulp voor meer.", lang: "nl", rule: RuleLink},
		{name: "www link", text: "You feel alone. Have a look at www.example.org.", lang: "en", rule: RuleLink},
		{name: "bare domain", text: "Je voelt je alleen; op relatiehulp.nl staat meer.", lang: "nl", rule: RuleLink},
		{name: "email", text: "Je kunt mailen naar hulp@example.nl als je wilt.", lang: "nl", rule: RuleLink},
		{name: "allowed address", text: "Je staat er niet alleen voor; op 113.nl/chat kun je praten.", lang: "nl"},
		{name: "allowed address with scheme", text: "You are not alone; see https://findahelpline.com/ for a line near you.", lang: "en"},
		{name: "allowed domain as suffix only", text: "Kijk op nep113.nl voor hulp.", lang: "nl", rule: RuleLink},
		{name: "dutch mobile", text: "Je kunt me bereiken op 06-12345678 als je wilt.", lang: "nl", rule: RulePhone},
		{name: "international", text: "You can call +44 20 7946 0958 if you want.", lang: "en", rule: RulePhone},
		{name: "unlisted 0800", text: "Je kunt bellen met 0800 1234 als het te veel wordt.", lang: "nl", rule: RulePhone},
		{name: "allowed 0800", text: "Je kunt bellen met 0800 0113 als het te veel wordt.", lang: "nl"},
		{name: "allowed short and long together", text: "Je kunt 113 / 0800-0113 bellen als het te veel wordt.", lang: "nl"},
		{name: "unlisted short helpline", text: "If it gets too much you can call 988 any time.", lang: "en", rule: RulePhone},
		{name: "call verb with short number", text: "Je kunt altijd even bellen naar 1400 als je wilt.", lang: "nl", rule: RulePhone},
		{name: "allowed 112", text: "Bij direct gevaar kun je 112 bellen, en dat is goed.", lang: "nl"},
		{name: "diagnosis word", text: "Wat je beschrijft lijkt op een diagnose van verlatingsangst.", lang: "nl", rule: RuleDiagnosis},
		{name: "borderline", text: "Dit klinkt als borderline, en dat is zwaar voor je.", lang: "nl", rule: RuleDiagnosis},
		{name: "stoornis", text: "Misschien is er sprake van een hechtingsstoornis bij je.", lang: "nl", rule: RuleDiagnosis},
		{name: "depressie as condition", text: "Het lijkt erop dat je een depressie hebt en dat is zwaar.", lang: "nl", rule: RuleDiagnosis},
		{name: "adhd", text: "Die onrust kan met ADHD te maken hebben, dat weet je niet.", lang: "nl", rule: RuleDiagnosis},
		{name: "ptss", text: "Dit kan PTSS zijn, dat is voor jou heel zwaar.", lang: "nl", rule: RuleDiagnosis},
		{name: "bipolar", text: "These swings sound bipolar, and that is a lot for you.", lang: "en", rule: RuleDiagnosis},
		{name: "disorder", text: "This may be an attachment disorder, and that is heavy for you.", lang: "en", rule: RuleDiagnosis},
		{name: "depression as condition", text: "It sounds like you have depression, and that is a lot to carry.", lang: "en", rule: RuleDiagnosis},
		{name: "narcissist partner", text: "It sounds like your partner is a narcissist, and that hurts.", lang: "en", rule: RuleDiagnosis},
		{name: "medication", text: "Misschien helpen medicijnen je om rustiger te worden.", lang: "nl", rule: RuleMedication},
		{name: "antidepressiva", text: "Met antidepressiva kan dit gevoel soms minder worden.", lang: "nl", rule: RuleMedication},
		{name: "dosis", text: "Het is goed om je dosis niet zelf te veranderen.", lang: "nl", rule: RuleMedication},
		{name: "prescribe", text: "A doctor could prescribe something for this feeling.", lang: "en", rule: RuleMedication},
		{name: "medication english", text: "Your medication might make the feeling less for you.", lang: "en", rule: RuleMedication},
		{name: "sleeping pills", text: "Sleeping pills are not what you need right now.", lang: "en", rule: RuleMedication},
		{name: "human claim nl", text: "Ik ben ook maar een mens, en ik snap dat je je zo voelt.", lang: "nl", rule: RuleHumanClaim},
		{name: "not a bot nl", text: "Ik ben geen bot, ik hoor echt wat je zegt.", lang: "nl", rule: RuleHumanClaim},
		{name: "lived experience nl", text: "Ik heb dit zelf ook meegemaakt, dus ik weet hoe het voelt.", lang: "nl", rule: RuleHumanClaim},
		{name: "as a person myself", text: "As a person myself, I know how much that silence can hurt.", lang: "en", rule: RuleHumanClaim},
		{name: "curly apostrophe", text: "I’m human too, and that silence would hurt me as well.", lang: "en", rule: RuleHumanClaim},
		{name: "been there", text: "I've been there, and it is such a lonely place to be.", lang: "en", rule: RuleHumanClaim},
		{name: "english for dutch", text: englishOK, lang: "nl", rule: RuleLanguage},
		{name: "dutch for english", text: dutchOK, lang: "en", rule: RuleLanguage},
		{name: "german for dutch", text: "Das klingt, als ob die Stille gerade sehr schwer für dich ist und dich traurig macht.", lang: "nl", rule: RuleLanguage},
		{name: "unknown language not checked", text: dutchOK, lang: "de"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule, ok := g.Check(tt.text, tt.lang)
			if ok != (tt.rule == "") || rule != tt.rule {
				t.Errorf("Check = (%q, %v), want (%q, %v)", rule, ok, tt.rule, tt.rule == "")
			}
		})
	}
}

// TestGuardAcceptsFeelings guards against false alarms: reflections that
// name hard feelings, quote intensities and times, or say plainly that
// this is a bot, must pass.
func TestGuardAcceptsFeelings(t *testing.T) {
	g := NewGuard(nil, crisisWords)
	tests := []struct {
		name string
		text string
		lang string
	}{
		{name: "fear and sadness", lang: "nl", text: "Je voelt angst, verdriet en eenzaamheid tegelijk. Die verlatingsangst is oud en hij is nu heel voelbaar."},
		{name: "gloomy and depressed as a mood", lang: "nl", text: "Je voelt je somber, bijna depressief, en moe van het wachten. Dat mag er zijn."},
		{name: "panic", lang: "nl", text: "Er kwam paniek op, bijna een paniekaanval, toen hij niet reageerde. Dat is heftig om te voelen."},
		{name: "intensity before and after", lang: "nl", text: "Je ging van een 8 naar een 5. Er is iets gezakt, en de rest mag er ook nog zijn."},
		{name: "time and year", lang: "nl", text: "Sinds 2019 merk je dit patroon, en vanavond om 22.30 was het er weer."},
		{name: "date", lang: "nl", text: "Op 03-12-2024 voelde je het ook al, en nu is het er weer."},
		{name: "honest bot", lang: "nl", text: "Ik ben een bot en geen mens, maar ik lees hoe alleen je je nu voelt."},
		{name: "trauma wound", lang: "en", text: "It sounds like an old wound is being touched, maybe even an old trauma. You feel depressed and anxious, and that makes sense."},
		{name: "overwhelmed", lang: "en", text: "You feel overwhelmed and angry, and part of you wants to run. That urge is understandable right now."},
		{name: "need to be seen", lang: "en", text: "You carried so much for so long, and you want to be seen. That is a real need."},
		{name: "reviewing symptoms of stress is not named", lang: "nl", text: "Je lichaam spant zich aan, je adem wordt hoog. Je merkt de stress in je schouders."},
		{name: "child memory", lang: "en", text: "When you were little you waited at the window. The adult you are now can stay with that child."},
		{name: "person words", lang: "en", text: "You want to be loved as a person, not for what you give. That longing is very human."},
		{name: "time and score", lang: "en", text: "At 10:30 it was a 9 out of 10, and now it is a 6. Something has shifted."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rule, ok := g.Check(tt.text, tt.lang); !ok {
				t.Errorf("Check rejected an ordinary reflection on %q", rule)
			}
		})
	}
}

func TestGuardMaxChars(t *testing.T) {
	g := NewGuard(nil, nil)
	if g.MaxChars() != DefaultMaxReplyChars {
		t.Fatalf("MaxChars() = %d, want %d", g.MaxChars(), DefaultMaxReplyChars)
	}
	short := g.WithMaxChars(40)
	if g.MaxChars() != DefaultMaxReplyChars {
		t.Error("WithMaxChars changed the original")
	}
	if g.WithMaxChars(0).MaxChars() != DefaultMaxReplyChars {
		t.Error("WithMaxChars(0) should keep the cap")
	}
	tests := []struct {
		name string
		text string
		ok   bool
	}{
		{name: "exactly at cap in runes", text: strings.Repeat("ë", 40), ok: true},
		{name: "one over", text: strings.Repeat("ë", 41), ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule, ok := short.Check(tt.text, "xx")
			if ok != tt.ok || (!ok && rule != RuleTooLong) {
				t.Errorf("Check = (%q, %v), want ok=%v", rule, ok, tt.ok)
			}
		})
	}
}

func TestLanguageOK(t *testing.T) {
	tests := []struct {
		name string
		text string
		lang string
		want bool
	}{
		{name: "too short to tell", text: "oké, dank", lang: "en", want: true},
		{name: "dutch with an english word", text: "je noemt het ghosting, en dat doet pijn omdat je wacht", lang: "nl", want: true},
		{name: "english with a dutch word", text: "you call it verlatingsangst, and it hurts because you wait", lang: "en", want: true},
		{name: "mostly english", text: "you are waiting and it hurts, dat is zwaar", lang: "nl", want: false},
		{name: "no function words at all", text: "stilte wachten onrust spanning verdriet gemis leegte boosheid", lang: "nl", want: false},
		{name: "apostrophes", text: "it's hard and you're tired, that's real", lang: "en", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := languageOK(normalize(tt.text), tt.lang); got != tt.want {
				t.Errorf("languageOK(%q, %s) = %v, want %v", tt.text, tt.lang, got, tt.want)
			}
		})
	}
}

func BenchmarkGuardCheck(b *testing.B) {
	g := NewGuard([]string{"113", "0800-0113", "113.nl"}, crisisWords)
	texts := []struct{ text, lang string }{
		{dutchOK + " " + dutchOK, "nl"},
		{englishOK + " " + englishOK, "en"},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tc := texts[i%len(texts)]
		if _, ok := g.Check(tc.text, tc.lang); !ok {
			b.Fatal("rejected")
		}
	}
}
