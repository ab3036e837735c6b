package dialogs

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// answerPath says how the person answers each kind of question.
type answerPath struct {
	name   string
	option func(n int) int   // index of the option chosen among n
	multi  func(n int) []int // options toggled before Done
	scales []int             // scale answers, used in turn
	texts  map[string]string // the free-text answer, per language
	ready  bool              // end pauses with "I'm ready" instead of the timer
	// skipDeep answers deep (childhood) steps with /skip.
	skipDeep bool
	// skip and choose override single steps, keyed "exercise.step".
	skip   map[string]bool
	choose map[string]string
}

// mainPath takes the first option, toggles the first two, and feels better
// at the end (7, then 4).
var mainPath = answerPath{
	option: func(int) int { return 0 },
	multi:  func(int) []int { return []int{0, 1} },
	scales: []int{7, 4},
	texts: map[string]string{
		"nl": "Het voelt alsof ik er helemaal alleen voor sta.",
		"en": "It feels as if I'm completely on my own with this.",
	},
}

// variantPath takes the other branches: the last option, the last two of a
// multi, intensity rising (3, then 8), pauses ended by hand, deep steps
// skipped.
var variantPath = answerPath{
	name:   "variant",
	option: func(n int) int { return n - 1 },
	multi:  func(n int) []int { return []int{n - 2, n - 1} },
	scales: []int{3, 8},
	texts: map[string]string{
		"nl": "Ik weet het eigenlijk niet zo goed.",
		"en": "I'm honestly not quite sure.",
	},
	ready:    true,
	skipDeep: true,
	skip:     map[string]bool{"adult.easy": true},
	// The last option of the opening question is the way out; take the
	// exercise, then the gentle way out halfway.
	choose: map[string]string{"inner_child.ready": "now"},
}

func TestTranscripts(t *testing.T) {
	lib := mustLoad(t, "")
	e := NewEngine(lib)
	type tc struct {
		name   string
		script *Script
		lang   string
		path   answerPath
	}
	var cases []tc
	for _, s := range lib.Scripts() {
		for _, lang := range Languages {
			for _, p := range []answerPath{mainPath, variantPath} {
				name := s.ID + "." + lang
				if p.name != "" {
					name += "." + p.name
				}
				cases = append(cases, tc{name, s, lang, p})
			}
		}
	}
	if len(cases) < 2*2*7 { // seven exercises, two languages, two paths
		t.Fatalf("only %d transcript cases; are scripts missing?", len(cases))
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c := newConvo(t, e)
			c.onboard(tt.lang, true)
			runExercise(c, tt.script, tt.path)
			got := c.log.String()
			for _, bad := range []string{"{{", "}}", "{title}", "{n}", "{max}", "{min}", " — "} {
				if strings.Contains(got, bad) {
					t.Errorf("transcript contains %q", bad)
				}
			}
			wantDone := 1
			if tt.script.Hidden { // check-ins do not count as finished exercises
				wantDone = 0
			}
			if c.st.Done != wantDone || c.st.Run != nil {
				t.Errorf("after the exercise: done %d, run %+v", c.st.Done, c.st.Run)
			}
			golden(t, filepath.Join("testdata", "transcripts", tt.name+".golden"), got)
		})
	}
}

// runExercise starts s from the menu and answers every question along p
// until the exercise ends. A hidden script (not in the menu) is started the
// way a scheduler would: with the start action under the current prompt.
func runExercise(c *convo, s *Script, p answerPath) {
	c.t.Helper()
	if s.Hidden {
		if _, shown := c.button("x:" + s.ID); shown {
			c.t.Fatalf("hidden exercise %q is in the menu", s.ID)
		}
		c.log.WriteString("> (start the hidden exercise)\n")
		c.send(Input{Kind: InputButton, Data: strconv.Itoa(c.st.Prompt) + ".x:" + s.ID})
	} else {
		c.press("x:" + s.ID)
	}
	if c.st.Run == nil || c.st.Run.Exercise != s.ID {
		c.t.Fatalf("exercise %q did not start", s.ID)
	}
	scale := 0
	for turn := 0; c.st.Run != nil; turn++ {
		if turn > 100 {
			c.t.Fatalf("exercise %q did not end after 100 turns (at %q)", s.ID, c.st.Run.Step)
		}
		r := c.st.Run
		if r.Held || r.Stopped || r.Awaiting != 0 {
			c.t.Fatalf("unexpected run state at %q: %+v", r.Step, r)
		}
		st := c.step()
		key := s.ID + "." + st.ID
		if p.skip[key] || (p.skipDeep && st.Deep) {
			c.command("/skip")
			continue
		}
		switch st.Kind {
		case KindChoice:
			id := st.Options[p.option(len(st.Options))].ID
			if o, ok := p.choose[key]; ok {
				id = o
			}
			c.press("o:" + id)
		case KindMulti:
			for _, i := range p.multi(len(st.Options)) {
				c.press("o:" + st.Options[i].ID)
			}
			c.press("d")
		case KindScale:
			lo, hi := st.Bounds()
			v := min(max(p.scales[scale%len(p.scales)], lo), hi)
			scale++
			c.press("o:" + strconv.Itoa(v))
		case KindText:
			c.text(p.texts[c.st.Lang])
		case KindPause:
			if p.ready {
				c.press("w")
			} else {
				c.send(Input{Kind: InputTimer, Now: r.WakeAt})
			}
		default:
			c.t.Fatalf("the run waits at step %q of kind %q", st.ID, st.Kind)
		}
	}
	if c.last.Ended == nil || c.last.Ended.Exercise != s.ID {
		c.t.Fatalf("the last turn did not end %q: %+v", s.ID, c.last.Ended)
	}
}
