package dialogs

import (
	"sort"
)

// Languages are the languages every user-facing text must have, default first.
var Languages = []string{"nl", "en"}

// DefaultLanguage is used when a person's language is unknown.
const DefaultLanguage = "nl"

// Text is one user-facing text in every language, keyed by language code.
type Text map[string]string

// In returns the text in lang, falling back to the default language.
func (t Text) In(lang string) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	return t[DefaultLanguage]
}

// Step kinds.
const (
	KindSay    = "say"    // a message; the dialog moves on by itself
	KindChoice = "choice" // pick one option (buttons)
	KindMulti  = "multi"  // pick one or more options, then "done"
	KindScale  = "scale"  // a number, 0-10 by default (buttons)
	KindText   = "text"   // free text
	KindPause  = "pause"  // a timed pause; the bot comes back by itself
	KindBranch = "branch" // no message: go to the first case whose condition holds
	KindEnd    = "end"    // the closing message; may quote earlier answers
)

var stepKinds = map[string]bool{
	KindSay: true, KindChoice: true, KindMulti: true, KindScale: true,
	KindText: true, KindPause: true, KindBranch: true, KindEnd: true,
}

// asks reports whether a step of this kind waits for the person.
func asks(kind string) bool {
	switch kind {
	case KindChoice, KindMulti, KindScale, KindText, KindPause:
		return true
	}
	return false
}

// answers reports whether a step of this kind stores an answer that templates
// and branches can use.
func answers(kind string) bool {
	switch kind {
	case KindChoice, KindMulti, KindScale, KindText:
		return true
	}
	return false
}

// Script is one exercise, as written in its YAML file.
type Script struct {
	ID      string `yaml:"id"`
	Order   int    `yaml:"order"`
	Title   Text   `yaml:"title"`
	Intro   Text   `yaml:"intro"`
	Hidden  bool   `yaml:"hidden"` // not listed in the menu (still startable from a button)
	Start   string `yaml:"start"`  // first step; the first in the list when empty
	Steps   []Step `yaml:"steps"`
	File    string `yaml:"-"`
	Version string `yaml:"-"` // content hash, pinned by a run
	byID    map[string]*Step
	lines   map[string]int // step id -> line
}

// Step is one step of a script.
type Step struct {
	ID         string   `yaml:"id"`
	Kind       string   `yaml:"kind"`
	Say        Text     `yaml:"say"`
	Options    []Option `yaml:"options"`
	Min        *int     `yaml:"min"`
	Max        *int     `yaml:"max"`
	Seconds    int      `yaml:"seconds"`
	After      Text     `yaml:"after"`      // pause: said when the time is up
	Reflect    string   `yaml:"reflect"`    // text: "llm" asks for a reflective reply
	Reflection Text     `yaml:"reflection"` // text: the scripted reflection (and the LLM fallback)
	Skippable  *bool    `yaml:"skippable"`  // default true
	Deep       bool     `yaml:"deep"`       // touches childhood memories: always offers to skip
	Cases      []Case   `yaml:"cases"`
	Next       string   `yaml:"next"`
	line       int
}

// Option is one choice of a choice or multi step.
type Option struct {
	ID    string `yaml:"id"`
	Label Text   `yaml:"label"`
	Next  string `yaml:"next"` // choice only: overrides the step's next
}

// Case is one branch of a branch step.
type Case struct {
	When Cond   `yaml:"when"`
	Next string `yaml:"next"`
}

// Cond is a condition on an earlier answer. All set fields must hold.
type Cond struct {
	Answer   string   `yaml:"answer"`    // the step whose answer is tested
	In       []string `yaml:"in"`        // choice/multi: one of these options chosen
	Gte      *int     `yaml:"gte"`       // scale: value >= n
	Lte      *int     `yaml:"lte"`       // scale: value <= n
	LtAnswer string   `yaml:"lt_answer"` // scale: value < the value of that step
	GtAnswer string   `yaml:"gt_answer"` // scale: value > the value of that step
	Skipped  *bool    `yaml:"skipped"`   // the step was skipped (or not)
}

// StepByID returns the step with that id.
func (s *Script) StepByID(id string) (*Step, bool) {
	st, ok := s.byID[id]
	return st, ok
}

// FirstStep is the id of the step a run starts at.
func (s *Script) FirstStep() string {
	if s.Start != "" {
		return s.Start
	}
	if len(s.Steps) > 0 {
		return s.Steps[0].ID
	}
	return ""
}

// CanSkip reports whether the person may skip this step.
func (st *Step) CanSkip() bool {
	return st.Deep || st.Skippable == nil || *st.Skippable
}

// Bounds returns a scale step's range.
func (st *Step) Bounds() (lo, hi int) {
	lo, hi = 0, 10
	if st.Min != nil {
		lo = *st.Min
	}
	if st.Max != nil {
		hi = *st.Max
	}
	return lo, hi
}

// Option returns the option with that id.
func (st *Step) Option(id string) (Option, bool) {
	for _, o := range st.Options {
		if o.ID == id {
			return o, true
		}
	}
	return Option{}, false
}

// targets lists the step ids this step can go to.
func (st *Step) targets() []string {
	var out []string
	if st.Next != "" {
		out = append(out, st.Next)
	}
	for _, o := range st.Options {
		if o.Next != "" {
			out = append(out, o.Next)
		}
	}
	for _, c := range st.Cases {
		if c.Next != "" {
			out = append(out, c.Next)
		}
	}
	return out
}

// Library holds the loaded, validated scripts and the system texts.
type Library struct {
	scripts map[string]*Script
	ordered []*Script
	texts   map[string]Text
}

// Script returns the script with that id.
func (l *Library) Script(id string) (*Script, bool) {
	s, ok := l.scripts[id]
	return s, ok
}

// Scripts returns every script in menu order.
func (l *Library) Scripts() []*Script { return l.ordered }

// Text returns a system text (see texts.yaml) in lang.
func (l *Library) Text(key, lang string) string {
	t, ok := l.texts[key]
	if !ok {
		return key
	}
	return t.In(lang)
}

// HasText reports whether a system text with that key exists.
func (l *Library) HasText(key string) bool {
	_, ok := l.texts[key]
	return ok
}

func (l *Library) sort() {
	l.ordered = l.ordered[:0]
	for _, s := range l.scripts {
		l.ordered = append(l.ordered, s)
	}
	sort.Slice(l.ordered, func(i, j int) bool {
		a, b := l.ordered[i], l.ordered[j]
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return a.ID < b.ID
	})
}
