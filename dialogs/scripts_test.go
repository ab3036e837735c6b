package dialogs

import (
	"reflect"
	"regexp"
	"testing"
)

// TestExerciseScripts checks the house rules for the seven exercises that the
// loader does not enforce. (Hidden scripts such as the check-in have their
// own shape and their own tests.)
func TestExerciseScripts(t *testing.T) {
	lib, err := LoadEmbedded()
	if err != nil {
		t.Fatalf("LoadEmbedded: %v", err)
	}
	exercises := []string{"abandonment", "commitment", "patterns", "balance", "inner_child", "adult", "grounding"}
	var menu []string
	for _, s := range lib.Scripts() {
		if !s.Hidden {
			menu = append(menu, s.ID)
		}
	}
	if !reflect.DeepEqual(menu, exercises) {
		t.Fatalf("menu %v, want %v", menu, exercises)
	}
	var (
		englishI = regexp.MustCompile(`\bI\b`)
		formalNL = regexp.MustCompile(`(?i)\b(u|uw|bent u|heeft u)\b`)
	)
	for i, id := range exercises {
		s, _ := lib.Script(id)
		t.Run(s.ID, func(t *testing.T) {
			if s.Order != i+1 || s.Hidden {
				t.Errorf("order %d hidden %v", s.Order, s.Hidden)
			}
			if n := len(s.Steps); n < 8 || n > 18 {
				t.Errorf("%d steps; keep an exercise to about 8-15", n)
			}
			var texts, llm int
			quotes := false
			for _, st := range s.Steps {
				if st.Kind == KindText {
					texts++
					if st.Reflection == nil {
						t.Errorf("text step %q has no scripted reflection", st.ID)
					}
				}
				if st.Reflect == "llm" {
					llm++
				}
				if st.Deep && !st.CanSkip() {
					t.Errorf("deep step %q cannot be skipped", st.ID)
				}
				if st.Kind == KindEnd && placeholder.MatchString(st.Say.In("nl")) {
					quotes = true
				}
				for _, o := range st.Options {
					// labels are read back lower-cased: "I" would become "i"
					if englishI.MatchString(o.Label["en"]) {
						t.Errorf("step %q option %q: English label %q reads badly lower-cased", st.ID, o.ID, o.Label["en"])
					}
				}
				for _, txt := range []Text{st.Say, st.After, st.Reflection} {
					if m := formalNL.FindString(txt["nl"]); m != "" {
						t.Errorf("step %q: Dutch uses the formal %q; use je/jij", st.ID, m)
					}
				}
			}
			switch {
			case texts > 0 && (llm < 1 || llm > 2):
				t.Errorf("%d steps reflect with the LLM; mark 1 or 2", llm)
			case texts == 0 && llm > 0:
				t.Errorf("reflect: llm without text steps")
			}
			if !quotes {
				t.Error("no end step quotes earlier answers")
			}
			for _, txt := range []Text{s.Title, s.Intro} {
				if m := formalNL.FindString(txt["nl"]); m != "" {
					t.Errorf("Dutch uses the formal %q", m)
				}
			}
		})
	}

	script := func(id string) *Script {
		s, ok := lib.Script(id)
		if !ok {
			t.Fatalf("no script %q", id)
		}
		return s
	}
	step := func(s *Script, id string) *Step {
		st, ok := s.StepByID(id)
		if !ok {
			t.Fatalf("%s: no step %q", s.ID, id)
		}
		return st
	}
	optionIDs := func(st *Step) []string {
		var ids []string
		for _, o := range st.Options {
			ids = append(ids, o.ID)
		}
		return ids
	}

	t.Run("commitment age", func(t *testing.T) {
		s := script("commitment")
		age := step(s, "age")
		if age.Kind != KindChoice || !reflect.DeepEqual(optionIDs(age), []string{"baby", "child", "teen", "adult", "unknown"}) {
			t.Fatalf("age: %s %v", age.Kind, optionIDs(age))
		}
		memory := step(s, age.Next)
		if !memory.Deep || memory.Kind != KindText {
			t.Errorf("the memory step %q is not a deep text step", memory.ID)
		}
		for _, o := range age.Options {
			if skips := o.Next != "" && o.Next != memory.ID; skips != (o.ID == "unknown") {
				t.Errorf("option %q goes to %q", o.ID, o.Next)
			}
		}
		if step(s, "back").Kind != KindPause || step(s, "compare").Kind != KindBranch {
			t.Error("no grounding pause or no before/after branch")
		}
	})

	t.Run("patterns themes", func(t *testing.T) {
		theme := step(script("patterns"), "theme")
		want := []string{"safe_closeness", "fear_trigger", "urge_withdraw", "longing_open_heart", "own_absence",
			"partner_absence", "adapting", "holding_back", "giving_more", "earning_love"}
		if !reflect.DeepEqual(optionIDs(theme), want) {
			t.Errorf("theme ids %v, want %v (the daily check-in uses them)", optionIDs(theme), want)
		}
	})

	t.Run("balance areas", func(t *testing.T) {
		s := script("balance")
		for _, area := range []string{"attention", "initiative", "household", "listening", "support"} {
			for _, side := range []string{"_give", "_get"} {
				st := step(s, area+side)
				if lo, hi := st.Bounds(); st.Kind != KindScale || lo != 0 || hi != 10 {
					t.Errorf("%s: %s %d-%d", st.ID, st.Kind, lo, hi)
				}
			}
		}
		if r := step(s, "request"); r.Reflect != "llm" {
			t.Error("the request does not reflect with the LLM")
		}
	})

	t.Run("inner child can be declined", func(t *testing.T) {
		s := script("inner_child")
		first := step(s, s.FirstStep())
		out := false
		for _, o := range first.Options {
			if o.Next != "" && step(s, o.Next).Kind == KindEnd {
				out = true
			}
		}
		if first.Kind != KindChoice || !out {
			t.Error("the first question offers no way out")
		}
		if n := step(s, "needed"); !n.Deep || n.Reflect != "llm" {
			t.Errorf("needed: deep %v reflect %q", n.Deep, n.Reflect)
		}
	})

	t.Run("adult signs", func(t *testing.T) {
		s := script("adult")
		signs := optionIDs(step(s, "easy"))
		if len(signs) != 7 {
			t.Fatalf("%d signs", len(signs))
		}
		for _, id := range []string{"hard", "practise"} {
			if got := optionIDs(step(s, id)); !reflect.DeepEqual(got, signs) {
				t.Errorf("%s: %v, want %v", id, got, signs)
			}
		}
	})

	t.Run("grounding length", func(t *testing.T) {
		s := script("grounding")
		secs := 0
		for _, st := range s.Steps {
			secs += st.Seconds
			if st.Kind == KindText {
				t.Errorf("step %q asks for free text", st.ID)
			}
		}
		if secs < 120 || secs > 240 {
			t.Errorf("%d seconds of pauses; aim for 3-4 minutes in all", secs)
		}
		if step(s, s.FirstStep()).Kind != KindScale || step(s, "after").Kind != KindScale {
			t.Error("no 0-10 before and after")
		}
	})
}
