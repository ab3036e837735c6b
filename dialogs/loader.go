package dialogs

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed scripts/*.yaml texts.yaml
var embedded embed.FS

// Problem is one thing wrong with a script, located by file and line.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// ValidationError lists every problem found while loading scripts.
type ValidationError struct{ Problems []Problem }

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// LoadEmbedded loads the scripts and texts built into the binary.
func LoadEmbedded() (*Library, error) { return Load("") }

// Load loads the embedded scripts and texts, then the *.yaml files of dir (when
// not empty), which add exercises or replace embedded ones with the same id.
// Every problem in every file is reported in one *ValidationError.
func Load(dir string) (*Library, error) {
	lib := &Library{scripts: map[string]*Script{}, texts: map[string]Text{}}
	var probs []Problem

	data, err := embedded.ReadFile("texts.yaml")
	if err != nil {
		return nil, fmt.Errorf("dialogs: read texts: %w", err)
	}
	texts, p := parseTexts("texts.yaml", data)
	probs = append(probs, p...)
	lib.texts = texts
	probs = append(probs, checkRequiredTexts(texts)...)

	names, err := fs.Glob(embedded, "scripts/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("dialogs: list scripts: %w", err)
	}
	builtIn, p, err := parseFiles(names, embedded.ReadFile)
	if err != nil {
		return nil, err
	}
	probs = append(probs, p...)
	sources := map[string]*Script{}
	for _, s := range builtIn {
		sources[s.ID] = s
	}
	if dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("dialogs: script directory: %w", err)
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			return nil, fmt.Errorf("dialogs: list %s: %w", dir, err)
		}
		extra, p, err := parseFiles(files, os.ReadFile)
		if err != nil {
			return nil, err
		}
		probs = append(probs, p...)
		for _, s := range extra {
			sources[s.ID] = s // a file in dir replaces the built-in exercise with its id
		}
	}
	if len(probs) > 0 {
		return nil, &ValidationError{Problems: probs}
	}
	lib.scripts = sources
	lib.sort()
	return lib, nil
}

// ValidateDir checks the *.yaml scripts of dir on their own and returns every
// problem found (nil when all are fine).
func ValidateDir(dir string) ([]Problem, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("dialogs: list %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("dialogs: no *.yaml scripts in %s", dir)
	}
	_, probs, err := parseFiles(files, os.ReadFile)
	if err != nil {
		return nil, err
	}
	return probs, nil
}

// parseFiles parses and validates each file, returning the valid scripts and
// every problem, including two files using one exercise id.
func parseFiles(files []string, read func(string) ([]byte, error)) ([]*Script, []Problem, error) {
	var scripts []*Script
	var probs []Problem
	seen := map[string]string{}
	for _, f := range files {
		data, err := read(f)
		if err != nil {
			return nil, nil, fmt.Errorf("dialogs: read %s: %w", f, err)
		}
		s, p := ParseScript(f, data)
		probs = append(probs, p...)
		if s == nil {
			continue
		}
		if prev, dup := seen[s.ID]; dup {
			probs = append(probs, Problem{f, 1, fmt.Sprintf("exercise id %q is also used by %s", s.ID, prev)})
			continue
		}
		seen[s.ID] = f
		if len(p) == 0 {
			scripts = append(scripts, s)
		}
	}
	return scripts, probs, nil
}

var (
	idPattern      = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	optionPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,23}$`)
	placeholder    = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)
	yamlLineNumber = regexp.MustCompile(`line (\d+)`)
)

// ParseScript parses and validates one script file. It returns the script
// (nil when it cannot be read at all) and every problem found.
func ParseScript(file string, data []byte) (*Script, []Problem) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, []Problem{yamlProblem(file, err)}
	}
	if len(root.Content) == 0 {
		return nil, []Problem{{file, 1, "the file is empty"}}
	}
	var s Script
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			var probs []Problem
			for _, msg := range te.Errors {
				probs = append(probs, yamlProblem(file, errors.New(msg)))
			}
			return nil, probs
		}
		return nil, []Problem{yamlProblem(file, err)}
	}
	sum := sha256.Sum256(data)
	s.File = file
	s.Version = hex.EncodeToString(sum[:6])
	lines := newLineIndex(root.Content[0])
	return &s, s.validate(lines)
}

func yamlProblem(file string, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineNumber.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		// yaml.v3 reports parser errors (not scanner errors) with a 0-based
		// line (go-yaml #542); parser errors are the "did not find expected" ones.
		if strings.Contains(msg, "did not find expected") {
			line++
		}
		msg = strings.TrimSpace(strings.Replace(msg, m[0]+":", "", 1))
	}
	return Problem{file, line, "YAML: " + msg}
}

// lineIndex finds the line of a field in the YAML tree.
type lineIndex struct {
	top   *yaml.Node
	steps []*yaml.Node
}

func newLineIndex(top *yaml.Node) lineIndex {
	li := lineIndex{top: top}
	if seq := mapValue(top, "steps"); seq != nil && seq.Kind == yaml.SequenceNode {
		li.steps = seq.Content
	}
	return li
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// field returns the line of key within top-level mapping (or the top itself).
func (li lineIndex) field(key string) int {
	if v := mapValue(li.top, key); v != nil {
		return v.Line
	}
	return li.top.Line
}

// step returns the line of step i, or of field path within it.
func (li lineIndex) step(i int, path ...string) int {
	if i < 0 || i >= len(li.steps) {
		return li.top.Line
	}
	n := li.steps[i]
	line := n.Line
	for _, p := range path {
		var next *yaml.Node
		if idx, err := strconv.Atoi(p); err == nil && n.Kind == yaml.SequenceNode && idx < len(n.Content) {
			next = n.Content[idx]
		} else {
			next = mapValue(n, p)
		}
		if next == nil {
			break
		}
		n, line = next, next.Line
	}
	return line
}

func (s *Script) validate(li lineIndex) []Problem {
	var probs []Problem
	add := func(line int, format string, args ...any) {
		probs = append(probs, Problem{s.File, line, fmt.Sprintf(format, args...)})
	}
	if !idPattern.MatchString(s.ID) {
		add(li.field("id"), "id %q must be lower case letters, digits and _ (at most 32)", s.ID)
	}
	checkText := func(line int, where string, t Text, required bool) {
		if t == nil {
			if required {
				add(line, "%s: missing text", where)
			}
			return
		}
		for _, lang := range Languages {
			if strings.TrimSpace(t[lang]) == "" {
				add(line, "%s: missing translation %q", where, lang)
			}
		}
		for lang := range t {
			if !knownLanguage(lang) {
				add(line, "%s: unknown language %q (known: %s)", where, lang, strings.Join(Languages, ", "))
			}
		}
	}
	checkText(li.field("title"), "title", s.Title, true)
	checkText(li.field("intro"), "intro", s.Intro, true)
	if len(s.Steps) == 0 {
		add(li.field("steps"), "the script has no steps")
		return probs
	}

	s.byID = map[string]*Step{}
	s.lines = map[string]int{}
	index := map[string]int{}
	for i := range s.Steps {
		st := &s.Steps[i]
		st.line = li.step(i)
		if !idPattern.MatchString(st.ID) {
			add(li.step(i, "id"), "step id %q must be lower case letters, digits and _ (at most 32)", st.ID)
			continue
		}
		if _, dup := s.byID[st.ID]; dup {
			add(li.step(i, "id"), "duplicate step id %q (first at line %d)", st.ID, s.lines[st.ID])
			continue
		}
		s.byID[st.ID] = st
		s.lines[st.ID] = st.line
		index[st.ID] = i
	}
	if s.Start != "" {
		if _, ok := s.byID[s.Start]; !ok {
			add(li.field("start"), "start: unknown step %q", s.Start)
		}
	}

	for i := range s.Steps {
		st := &s.Steps[i]
		if s.byID[st.ID] != st {
			continue
		}
		where := fmt.Sprintf("step %q", st.ID)
		if !stepKinds[st.Kind] {
			add(li.step(i, "kind"), "%s: unknown kind %q (known: say, choice, multi, scale, text, pause, branch, end)", where, st.Kind)
			continue
		}
		if st.Kind != KindBranch {
			checkText(li.step(i, "say"), where+": say", st.Say, true)
		}
		checkTarget := func(line int, target, what string) {
			if target == "" {
				return
			}
			if _, ok := s.byID[target]; !ok {
				add(line, "%s: %s: unknown step %q", where, what, target)
			}
		}
		checkTarget(li.step(i, "next"), st.Next, "next")
		switch st.Kind {
		case KindChoice, KindMulti:
			min := 2
			if st.Kind == KindMulti {
				min = 1
			}
			if len(st.Options) < min {
				add(li.step(i, "options"), "%s: needs at least %d options", where, min)
			}
			seen := map[string]bool{}
			allNext := len(st.Options) > 0
			for j, o := range st.Options {
				line := li.step(i, "options", strconv.Itoa(j))
				if !optionPattern.MatchString(o.ID) {
					add(line, "%s: option id %q must be lower case letters, digits and _ (at most 24)", where, o.ID)
				}
				if seen[o.ID] {
					add(line, "%s: duplicate option id %q", where, o.ID)
				}
				seen[o.ID] = true
				checkText(line, fmt.Sprintf("%s: option %q: label", where, o.ID), o.Label, true)
				if o.Next != "" && st.Kind == KindMulti {
					add(line, "%s: option %q: next is only for choice steps", where, o.ID)
				}
				checkTarget(line, o.Next, fmt.Sprintf("option %q: next", o.ID))
				if o.Next == "" {
					allNext = false
				}
			}
			if st.Next == "" && !allNext {
				add(st.line, "%s: needs next (or a next on every option)", where)
			}
		case KindScale:
			lo, hi := st.Bounds()
			if lo < 0 || hi > 10 || lo >= hi {
				add(li.step(i, "max"), "%s: scale must lie within 0..10 with min < max", where)
			}
		case KindPause:
			if st.Seconds <= 0 || st.Seconds > 3600 {
				add(li.step(i, "seconds"), "%s: seconds must be between 1 and 3600", where)
			}
			checkText(li.step(i, "after"), where+": after", st.After, false)
		case KindBranch:
			if len(st.Cases) == 0 {
				add(st.line, "%s: a branch needs cases", where)
			}
			for j, c := range st.Cases {
				line := li.step(i, "cases", strconv.Itoa(j))
				checkTarget(line, c.Next, fmt.Sprintf("case %d: next", j+1))
				if c.Next == "" {
					add(line, "%s: case %d: needs next", where, j+1)
				}
				probs = append(probs, s.checkCond(line, where, j+1, c.When)...)
			}
		}
		if st.Kind != KindEnd && st.Kind != KindChoice && st.Kind != KindMulti && st.Next == "" {
			add(st.line, "%s: needs next", where)
		}
		if st.Kind == KindEnd && st.Next != "" {
			add(li.step(i, "next"), "%s: an end step has no next", where)
		}
		if st.Reflect != "" && st.Reflect != "llm" {
			add(li.step(i, "reflect"), "%s: reflect must be \"llm\" or absent", where)
		}
		if st.Reflect != "" && st.Kind != KindText {
			add(li.step(i, "reflect"), "%s: only text steps can reflect", where)
		}
		if st.Reflect == "llm" && st.Reflection == nil {
			add(li.step(i, "reflect"), "%s: reflect: llm needs a scripted reflection as fallback", where)
		}
		checkText(li.step(i, "reflection"), where+": reflection", st.Reflection, false)
		for _, f := range []struct {
			key string
			t   Text
		}{{"say", st.Say}, {"after", st.After}, {"reflection", st.Reflection}} {
			probs = append(probs, s.checkTemplates(li.step(i, f.key), where+": "+f.key, f.t)...)
		}
	}
	if len(probs) > 0 {
		return probs
	}
	return append(probs, s.checkGraph()...)
}

func (s *Script) checkCond(line int, where string, n int, c Cond) []Problem {
	var probs []Problem
	add := func(format string, args ...any) {
		probs = append(probs, Problem{s.File, line, fmt.Sprintf("%s: case %d: ", where, n) + fmt.Sprintf(format, args...)})
	}
	target, ok := s.byID[c.Answer]
	if !ok || !answers(target.Kind) {
		add("when.answer: %q is not a step with an answer", c.Answer)
		return probs
	}
	if len(c.In) == 0 && c.Gte == nil && c.Lte == nil && c.LtAnswer == "" && c.GtAnswer == "" && c.Skipped == nil {
		add("when needs a test (in, gte, lte, lt_answer, gt_answer or skipped)")
	}
	if len(c.In) > 0 {
		if target.Kind != KindChoice && target.Kind != KindMulti {
			add("when.in: %q is not a choice step", c.Answer)
		}
		for _, id := range c.In {
			if _, ok := target.Option(id); !ok {
				add("when.in: step %q has no option %q", c.Answer, id)
			}
		}
	}
	if (c.Gte != nil || c.Lte != nil || c.LtAnswer != "" || c.GtAnswer != "") && target.Kind != KindScale {
		add("numeric tests need a scale step, %q is %s", c.Answer, target.Kind)
	}
	for _, other := range []string{c.LtAnswer, c.GtAnswer} {
		if other == "" {
			continue
		}
		if o, ok := s.byID[other]; !ok || o.Kind != KindScale {
			add("%q is not a scale step", other)
		}
	}
	return probs
}

func (s *Script) checkTemplates(line int, where string, t Text) []Problem {
	var probs []Problem
	for _, lang := range Languages {
		for _, m := range placeholder.FindAllStringSubmatch(t[lang], -1) {
			name := m[1]
			st, ok := s.byID[name]
			if !ok || !answers(st.Kind) {
				probs = append(probs, Problem{s.File, line, fmt.Sprintf("%s (%s): template names unknown answer %q", where, lang, name)})
			}
		}
	}
	return probs
}

// checkGraph finds unreachable steps, steps with no path to an end, and loops
// that never wait for the person.
func (s *Script) checkGraph() []Problem {
	var probs []Problem
	start := s.FirstStep()
	reach := map[string]bool{start: true}
	queue := []string{start}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, t := range s.byID[id].targets() {
			if !reach[t] {
				reach[t] = true
				queue = append(queue, t)
			}
		}
	}
	// reverse edges, to find steps that can reach an end
	rev := map[string][]string{}
	var ends []string
	for i := range s.Steps {
		st := &s.Steps[i]
		if st.Kind == KindEnd {
			ends = append(ends, st.ID)
		}
		for _, t := range st.targets() {
			rev[t] = append(rev[t], st.ID)
		}
	}
	toEnd := map[string]bool{}
	queue = append(queue[:0], ends...)
	for _, e := range ends {
		toEnd[e] = true
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, p := range rev[id] {
			if !toEnd[p] {
				toEnd[p] = true
				queue = append(queue, p)
			}
		}
	}
	for i := range s.Steps {
		st := &s.Steps[i]
		switch {
		case !reach[st.ID]:
			probs = append(probs, Problem{s.File, st.line, fmt.Sprintf("step %q: unreachable from the start", st.ID)})
		case !toEnd[st.ID]:
			probs = append(probs, Problem{s.File, st.line, fmt.Sprintf("step %q: no path from here to an end step", st.ID)})
		}
	}
	// loops through steps that do not wait (say, branch) would spin forever
	color := map[string]int{}
	var visit func(id string, trail []string)
	reported := false
	visit = func(id string, trail []string) {
		if reported {
			return
		}
		st := s.byID[id]
		if asks(st.Kind) || st.Kind == KindEnd {
			return
		}
		switch color[id] {
		case 1:
			probs = append(probs, Problem{s.File, st.line, fmt.Sprintf("step %q: loop %s never waits for the person", id, strings.Join(append(trail, id), " -> "))})
			reported = true
			return
		case 2:
			return
		}
		color[id] = 1
		for _, t := range st.targets() {
			visit(t, append(trail, id))
		}
		color[id] = 2
	}
	for i := range s.Steps {
		visit(s.Steps[i].ID, nil)
	}
	return probs
}

func knownLanguage(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

func parseTexts(file string, data []byte) (map[string]Text, []Problem) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, []Problem{yamlProblem(file, err)}
	}
	texts := map[string]Text{}
	if err := root.Decode(&texts); err != nil {
		return nil, []Problem{yamlProblem(file, err)}
	}
	var probs []Problem
	top := root.Content[0]
	keys := make([]string, 0, len(texts))
	for k := range texts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		line := 0
		if v := mapValue(top, k); v != nil {
			line = v.Line
		}
		for _, lang := range Languages {
			if strings.TrimSpace(texts[k][lang]) == "" {
				probs = append(probs, Problem{file, line, fmt.Sprintf("text %q: missing translation %q", k, lang)})
			}
		}
	}
	return texts, probs
}

func checkRequiredTexts(texts map[string]Text) []Problem {
	var probs []Problem
	for _, k := range requiredTexts {
		if _, ok := texts[k]; !ok {
			probs = append(probs, Problem{"texts.yaml", 0, fmt.Sprintf("text %q is missing", k)})
		}
	}
	return probs
}
