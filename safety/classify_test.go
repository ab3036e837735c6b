package safety

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	c := NewClassifier()
	tests := []struct {
		name     string
		text     string
		level    Level
		category string
	}{
		{"empty", "", None, ""},
		{"plain", "Hoi, ik wil graag een oefening doen", None, ""},
		{"direct nl", "Ik wil dood", Acute, CategorySuicide},
		{"stretched", "ik wil dooooood", Acute, CategorySuicide},
		{"zero width inside", "ik wil zelf\u200bmoord plegen", Acute, CategorySuicide},
		{"indirect nl", "Iedereen is beter af zonder mij", Acute, CategorySuicide},
		{"indirect en", "I hope I don't wake up tomorrow", Acute, CategorySuicide},
		{"pills", "I've been saving pills for weeks", Acute, CategorySuicide},
		{"chat slang", "i'm gonna kys", Acute, CategorySuicide},
		{"self-harm nl", "Ik wil mezelf snijden", Acute, CategorySelfHarm},
		{"self-harm en", "I keep cutting myself", Acute, CategorySelfHarm},
		{"violence nl", "Hij slaat me", Acute, CategoryViolence},
		{"violence en", "My partner hit me", Acute, CategoryViolence},
		{"threat nl", "Ze dreigt me", Acute, CategoryViolence},
		{"suicide beats violence", "Hij slaat me en ik wil dood", Acute, CategorySuicide},
		{"acute beats distress", "Ik kan niet meer, ik wil dood", Acute, CategorySuicide},
		{"distress", "Ik trek het niet meer", Elevated, CategoryDistress},
		{"distress en", "I can't take this anymore", Elevated, CategoryDistress},
		{"figure of speech", "Ik ga dood van het lachen", None, ""},
		{"doodmoe", "doodmoe", None, ""},
		{"killing me", "This traffic is killing me", None, ""},
		{"break-up", "Ik wil het uitmaken", None, ""},
		{"grief", "Mijn oma is dood", None, ""},
		{"childhood memory", "Vroeger sloeg mijn vader me", None, ""},
		{"childhood memory in one sentence, danger now in the next", "Vroeger sloeg mijn vader me. Nu slaat mijn man me.", Acute, CategoryViolence},
		{"negation masked", "Ik heb nooit aan zelfmoord gedacht", None, ""},
		{"negation does not hide the rest", "I'm not suicidal but I want to die", Acute, CategorySuicide},
		{"negation plus distress", "Ik ben niet suicidaal, maar ik kan het niet meer aan", Elevated, CategoryDistress},
		{"human request", "Ik wil met iemand praten", None, CategoryHumanRequest},
		{"human request en", "can I talk to a real person", None, CategoryHumanRequest},
		{"bot question", "ben je een mens?", None, CategoryBotQuestion},
		{"bot question en", "are you a bot?", None, CategoryBotQuestion},
		{"robot", "praat ik met een robot", None, CategoryBotQuestion},
		{"acute beats human request", "Ik wil met iemand praten want ik wil dood", Acute, CategorySuicide},
		{"human request beats bot question", "Ben je een mens? Ik wil met iemand praten", None, CategoryHumanRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Classify(tt.text)
			if got.Level != tt.level || got.Category != tt.category {
				t.Fatalf("Classify(%q) = %+v, want %s/%q", tt.text, got, tt.level, tt.category)
			}
			if (got.Category == "") != (got.Rule == "") {
				t.Fatalf("Classify(%q) = %+v: rule and category disagree", tt.text, got)
			}
		})
	}
}

// TestRulesCompile checks every rule, mask and template, and that rule
// names are unique and say their category.
func TestRulesCompile(t *testing.T) {
	if _, err := newClassifier(ruleSpecs, maskSpecs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range ruleSpecs {
		if seen[r.name] {
			t.Errorf("rule %s appears twice", r.name)
		}
		seen[r.name] = true
		if !strings.HasPrefix(r.name, r.category+".") {
			t.Errorf("rule %s has category %s", r.name, r.category)
		}
		if (r.level == None) != (r.category == CategoryHumanRequest || r.category == CategoryBotQuestion) {
			t.Errorf("rule %s: level %s does not go with category %s", r.name, r.level, r.category)
		}
	}
	for _, m := range maskSpecs {
		if seen[m.name] {
			t.Errorf("mask %s appears twice", m.name)
		}
		seen[m.name] = true
	}
	for name := range templates {
		if _, err := expandTemplate("{" + name + "}"); err != nil {
			t.Errorf("template %s: %v", name, err)
		}
	}
	if _, err := expandTemplate("{nosuch}"); err == nil {
		t.Error("unknown template: no error")
	}
	if _, err := newClassifier([]ruleSpec{{name: "x", pattern: "(", level: Acute, category: CategorySuicide}}, nil); err == nil {
		t.Error("bad pattern: no error")
	}
}

// TestPrefilterKeepsMatches checks that the literal prefilter never skips
// a rule that would have matched: every labelled message classifies the
// same with and without it.
func TestPrefilterKeepsMatches(t *testing.T) {
	c := NewClassifier()
	plain := unfiltered()
	f, err := os.Open("testdata/labelled.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ex, err := ParseLabelled(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ex {
		if a, b := c.Classify(e.Text), plain.Classify(e.Text); a != b {
			t.Errorf("line %d: with prefilter %+v, without %+v", e.Line, a, b)
		}
	}
}

// unfiltered returns a classifier that runs every regexp, for checking the
// prefilter against. It compiles a copy of its own: the one NewClassifier
// returns is shared and must not change.
func unfiltered() *Classifier {
	c, err := newClassifier(ruleSpecs, maskSpecs)
	if err != nil {
		panic(err)
	}
	for i := range c.rules {
		c.rules[i].need = nil
	}
	for i := range c.masks {
		c.masks[i].need = nil
	}
	return c
}

func TestClassifyConcurrent(t *testing.T) {
	c := NewClassifier()
	texts := []string{"Ik wil dood", "hallo", "Hij slaat me", "ik kan niet meer", "are you a bot?"}
	want := make([]Result, len(texts))
	for i, s := range texts {
		want[i] = c.Classify(s)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(texts))
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, s := range texts {
				if got := c.Classify(s); got != want[i] {
					errs <- s
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent Classify(%q) differs", s)
	}
}

func TestLevel(t *testing.T) {
	for _, l := range []Level{None, Elevated, Acute} {
		b, err := l.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != l.String() {
			t.Errorf("MarshalText(%d) = %s, String = %s", l, b, l)
		}
		var back Level
		if err := back.UnmarshalText(b); err != nil || back != l {
			t.Errorf("UnmarshalText(%s) = %v, %v", b, back, err)
		}
	}
	if _, err := Level(7).MarshalText(); err == nil {
		t.Error("MarshalText(7): no error")
	}
	if Level(7).String() != "Level(7)" {
		t.Errorf("String(7) = %s", Level(7))
	}
	var l Level
	if err := l.UnmarshalText([]byte("urgent")); err == nil {
		t.Error("UnmarshalText(urgent): no error")
	}
	b, err := json.Marshal(Result{Level: Acute, Category: CategorySuicide, Rule: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"level":"acute","category":"suicide","rule":"r"}` {
		t.Errorf("json = %s", b)
	}
	var r Result
	if err := json.Unmarshal([]byte(`{"level":"elevated","category":"distress","rule":"x"}`), &r); err != nil || r.Level != Elevated {
		t.Errorf("json back = %+v, %v", r, err)
	}
}

func TestCombine(t *testing.T) {
	acute := Result{Level: Acute, Category: CategorySuicide, Rule: "suicide.nl.wil_dood"}
	elevated := Result{Level: Elevated, Category: CategoryDistress, Rule: "distress.nl.kan_niet_meer"}
	llmAcute := Result{Level: Acute, Category: CategorySelfHarm, Rule: "llm"}
	human := Result{Category: CategoryHumanRequest, Rule: "llm"}
	tests := []struct {
		name           string
		keyword, other Result
		err            error
		want           Result
	}{
		{"second raises", elevated, llmAcute, nil, llmAcute},
		{"second raises from none", Result{}, llmAcute, nil, llmAcute},
		{"second lower keeps keyword", acute, Result{}, nil, acute},
		{"same level keeps keyword", acute, llmAcute, nil, acute},
		{"error keeps keyword", Result{}, llmAcute, errors.New("timeout"), Result{}},
		{"context error keeps keyword", elevated, llmAcute, context.DeadlineExceeded, elevated},
		{"invalid level ignored", Result{}, Result{Level: 9, Category: CategorySuicide}, nil, Result{}},
		{"unknown category ignored", Result{}, Result{Level: Acute, Category: "weird"}, nil, Result{}},
		{"raise without category gets one", Result{}, Result{Level: Acute}, nil, Result{Level: Acute, Category: CategorySuicide, Rule: "second_opinion"}},
		{"elevated without category", Result{}, Result{Level: Elevated, Rule: "llm"}, nil, Result{Level: Elevated, Category: CategoryDistress, Rule: "llm"}},
		{"human request added to nothing", Result{}, human, nil, human},
		{"human request does not replace a keyword category", Result{Category: CategoryBotQuestion, Rule: "b"}, human, nil, Result{Category: CategoryBotQuestion, Rule: "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Combine(tt.keyword, tt.other, tt.err)
			if got != tt.want {
				t.Fatalf("Combine = %+v, want %+v", got, tt.want)
			}
			if got.Level < tt.keyword.Level {
				t.Fatalf("Combine lowered %s to %s", tt.keyword.Level, got.Level)
			}
		})
	}
}

func TestClassifyLines(t *testing.T) {
	in := "Ik wil dood\r\nhallo\n\nAre you a bot?\n" + strings.Repeat("x", maxLine-20) + " hij slaat me\n"
	var out strings.Builder
	if err := ClassifyLines(NewClassifier(), strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	sc.Buffer(nil, 2*maxLine)
	type row struct {
		Text     string `json:"text"`
		Level    Level  `json:"level"`
		Category string `json:"category"`
		Rule     string `json:"rule"`
	}
	var rows []row
	for sc.Scan() {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5", len(rows))
	}
	want := []struct {
		text  string
		level Level
		cat   string
	}{{"Ik wil dood", Acute, CategorySuicide}, {"hallo", None, ""}, {"", None, ""}, {"Are you a bot?", None, CategoryBotQuestion}, {"", Acute, CategoryViolence}}
	for i, w := range want {
		if w.text != "" && rows[i].Text != w.text {
			t.Errorf("row %d text %q, want %q", i, rows[i].Text, w.text)
		}
		if rows[i].Level != w.level || rows[i].Category != w.cat {
			t.Errorf("row %d = %+v, want %s/%s", i, rows[i], w.level, w.cat)
		}
	}
	if !strings.HasPrefix(out.String(), `{"text":"Ik wil dood","level":"acute","category":"suicide","rule":"suicide.nl.wil_dood"}`) {
		t.Errorf("first line = %q", strings.SplitN(out.String(), "\n", 2)[0])
	}

	tooLong := strings.Repeat("x", maxLine+10) + "\n"
	if err := ClassifyLines(NewClassifier(), strings.NewReader(tooLong), &out); err == nil {
		t.Error("line over 64 KiB: no error")
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"", "Ik wil dood", "ik ga dood van het lachen", "Hij slaat me", "\x00\x00", "vroeger. . . sloeg hij me", "?!.", "ben je een mens?", strings.Repeat("niet meer ", 50)} {
		f.Add(s)
	}
	// The labelled messages make good seeds: mutations of real wording
	// reach the rules, which random bytes rarely do.
	if lf, err := os.Open("testdata/labelled.tsv"); err == nil {
		ex, err := ParseLabelled(lf)
		lf.Close()
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range ex {
			f.Add(e.Text)
		}
	}
	c := NewClassifier()
	plain := unfiltered()
	f.Fuzz(func(t *testing.T, s string) {
		r := c.Classify(s)
		if p := plain.Classify(s); p != r {
			t.Fatalf("Classify(%q) = %+v with the prefilter, %+v without", s, r, p)
		}
		if !r.Level.Valid() || !knownCategory(r.Category) {
			t.Fatalf("Classify(%q) = %+v", s, r)
		}
		if (r.Level != None) != (r.Category != "" && r.Category != CategoryHumanRequest && r.Category != CategoryBotQuestion) {
			t.Fatalf("Classify(%q) = %+v: level and category disagree", s, r)
		}
		if Combine(r, Result{Level: Acute, Category: CategorySuicide}, nil).Level != Acute {
			t.Fatal("Combine did not raise")
		}
	})
}

func BenchmarkClassify(b *testing.B) {
	f, err := os.Open("testdata/labelled.tsv")
	if err != nil {
		b.Fatal(err)
	}
	ex, err := ParseLabelled(f)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	c := NewClassifier()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c.Classify(ex[i%len(ex)].Text)
	}
}

func BenchmarkClassifyLong(b *testing.B) {
	c := NewClassifier()
	text := strings.Repeat("Vandaag was een lange dag en hij reageerde weer niet op mijn berichten. ", 50)
	b.ReportAllocs()
	for b.Loop() {
		c.Classify(text)
	}
}

// TestClassifyHostileInput checks that long and odd input stays fast.
func TestClassifyHostileInput(t *testing.T) {
	c := NewClassifier()
	inputs := []string{
		strings.Repeat("a", maxLine),
		strings.Repeat("aaab1", maxLine/5),
		strings.Repeat("niet meer ", maxLine/10),
		strings.Repeat("ik wil ", maxLine/7) + "dood",
		strings.Repeat(".", maxLine),
		strings.Repeat("\u200b", maxLine/3),
		strings.Repeat("d00d ", maxLine/5),
	}
	for i, s := range inputs {
		start := time.Now()
		c.Classify(s)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("input %d took %v", i, d)
		}
	}
	if r := c.Classify(inputs[3]); r.Level != Acute {
		t.Errorf("long message ending in a signal: %+v", r)
	}
}

// TestNewClassifierShared checks that the built-in rules are compiled once
// per process: callers that start at the same time all get the same,
// working classifier (a second compiled copy would cost about 8 MiB).
func TestNewClassifierShared(t *testing.T) {
	const callers = 8
	got := make([]*Classifier, callers)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() { got[i] = NewClassifier() })
	}
	wg.Wait()
	for i, c := range got {
		if c == nil || c != got[0] {
			t.Fatalf("caller %d got %p, caller 0 got %p: want one shared classifier", i, c, got[0])
		}
	}
	if r := got[0].Classify("Ik wil dood"); r.Level != Acute {
		t.Fatalf("shared classifier: %+v", r)
	}
}
