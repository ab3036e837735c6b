package dialogs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBrokenScripts(t *testing.T) {
	tests := []struct {
		name string
		file string
		want string // "file:line: message", matched as a substring of a problem
	}{
		{"YAML syntax error", "yaml_syntax.yaml", "yaml_syntax.yaml:10: YAML: mapping values are not allowed in this context"},
		{"unknown field", "unknown_field.yaml", "unknown_field.yaml:8: YAML: field sya not found in type dialogs.Step"},
		{"unknown kind", "unknown_kind.yaml", `unknown_kind.yaml:7: step "ask": unknown kind "question"`},
		{"unknown next", "unknown_next.yaml", `unknown_next.yaml:9: step "ask": next: unknown step "closing"`},
		{"unknown option next", "unknown_option_next.yaml", `unknown_option_next.yaml:12: step "ask": option "b": next: unknown step "elsewhere"`},
		{"duplicate step id", "duplicate_step.yaml", `duplicate_step.yaml:10: duplicate step id "ask" (first at line 6)`},
		{"missing title translation", "missing_title.yaml", `missing_title.yaml:3: title: missing translation "en"`},
		{"missing say translation", "missing_say.yaml", `missing_say.yaml:9: step "ask": say: missing translation "en"`},
		{"missing label translation", "missing_label.yaml", `missing_label.yaml:12: step "ask": option "b": label: missing translation "nl"`},
		{"unreachable step", "unreachable.yaml", `unreachable.yaml:10: step "orphan": unreachable from the start`},
		{"a question cycle with no way out", "no_end.yaml", `no_end.yaml:16: step "again": no path from here to an end step`},
		{"a say and branch loop that never waits", "busy_loop.yaml", `busy_loop.yaml:10: step "check": loop check -> again -> check never waits for the person`},
		{"template names an unknown answer", "unknown_template.yaml", `unknown_template.yaml:13: step "close": say (nl): template names unknown answer "feeling"`},
		{"gte on a choice step", "gte_on_choice.yaml", `gte_on_choice.yaml:18: step "check": case 1: numeric tests need a scale step, "mood" is choice`},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join("testdata", "broken", tt.file)
			seen[path] = true
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, probs := ParseScript(path, data)
			if len(probs) == 0 {
				t.Fatal("no problems found")
			}
			var got []string
			for _, p := range probs {
				got = append(got, p.String())
				if strings.Contains(p.String(), tt.want) {
					return
				}
			}
			t.Errorf("no problem contains %q; got:\n%s", tt.want, strings.Join(got, "\n"))
		})
	}
	// every broken file has a case
	files, err := filepath.Glob(filepath.Join("testdata", "broken", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !seen[f] {
			t.Errorf("%s has no test case", f)
		}
	}
}

func TestParseScriptEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
	}{
		{"empty file", "", "x.yaml:1: the file is empty"},
		{"no steps", "id: a\ntitle: {nl: T, en: T}\nintro: {nl: I, en: I}\nsteps: []\n", "x.yaml:4: the script has no steps"},
		{"bad id", "id: Bad-Id\ntitle: {nl: T, en: T}\nintro: {nl: I, en: I}\nsteps:\n  - id: e\n    kind: end\n    say: {nl: K, en: D}\n", `x.yaml:1: id "Bad-Id" must be lower case`},
		{"unknown language", "id: a\ntitle: {nl: T, en: T, de: T}\nintro: {nl: I, en: I}\nsteps:\n  - id: e\n    kind: end\n    say: {nl: K, en: D}\n", `x.yaml:2: title: unknown language "de"`},
		{"missing intro", "id: a\ntitle: {nl: T, en: T}\nsteps:\n  - id: e\n    kind: end\n    say: {nl: K, en: D}\n", "intro: missing text"},
		{"unknown start", "id: a\nstart: nope\ntitle: {nl: T, en: T}\nintro: {nl: I, en: I}\nsteps:\n  - id: e\n    kind: end\n    say: {nl: K, en: D}\n", `x.yaml:2: start: unknown step "nope"`},
		{"scale out of range", "id: a\ntitle: {nl: T, en: T}\nintro: {nl: I, en: I}\nsteps:\n  - id: s\n    kind: scale\n    max: 12\n    say: {nl: K, en: D}\n    next: e\n  - id: e\n    kind: end\n    say: {nl: K, en: D}\n", `x.yaml:7: step "s": scale must lie within 0..10`},
		{"pause without seconds", "id: a\ntitle: {nl: T, en: T}\nintro: {nl: I, en: I}\nsteps:\n  - id: p\n    kind: pause\n    say: {nl: K, en: D}\n    next: e\n  - id: e\n    kind: end\n    say: {nl: K, en: D}\n", `x.yaml:5: step "p": seconds must be between 1 and 3600`},
		{"reflect on a scale", "id: a\ntitle: {nl: T, en: T}\nintro: {nl: I, en: I}\nsteps:\n  - id: s\n    kind: scale\n    reflect: llm\n    reflection: {nl: R, en: R}\n    say: {nl: K, en: D}\n    next: e\n  - id: e\n    kind: end\n    say: {nl: K, en: D}\n", `x.yaml:7: step "s": only text steps can reflect`},
		{"reflect without a fallback", "id: a\ntitle: {nl: T, en: T}\nintro: {nl: I, en: I}\nsteps:\n  - id: s\n    kind: text\n    reflect: llm\n    say: {nl: K, en: D}\n    next: e\n  - id: e\n    kind: end\n    say: {nl: K, en: D}\n", `x.yaml:7: step "s": reflect: llm needs a scripted reflection`},
		{"end with next", "id: a\ntitle: {nl: T, en: T}\nintro: {nl: I, en: I}\nsteps:\n  - id: e\n    kind: end\n    say: {nl: K, en: D}\n    next: e\n", `x.yaml:8: step "e": an end step has no next`},
		{"choice without next", "id: a\ntitle: {nl: T, en: T}\nintro: {nl: I, en: I}\nsteps:\n  - id: c\n    kind: choice\n    say: {nl: K, en: D}\n    options:\n      - {id: x, label: {nl: X, en: X}}\n      - {id: y, label: {nl: Y, en: Y}, next: e}\n  - id: e\n    kind: end\n    say: {nl: K, en: D}\n", `x.yaml:5: step "c": needs next (or a next on every option)`},
		{"branch on an unknown answer", "id: a\ntitle: {nl: T, en: T}\nintro: {nl: I, en: I}\nsteps:\n  - id: b\n    kind: branch\n    cases:\n      - when: {answer: nope, gte: 1}\n        next: e\n    next: e\n  - id: e\n    kind: end\n    say: {nl: K, en: D}\n", `x.yaml:8: step "b": case 1: when.answer: "nope" is not a step with an answer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := ParseScript("x.yaml", []byte(tt.data))
			var got []string
			for _, p := range probs {
				got = append(got, p.String())
				if strings.Contains(p.String(), tt.want) {
					return
				}
			}
			t.Errorf("no problem contains %q; got:\n%s", tt.want, strings.Join(got, "\n"))
		})
	}
}

func TestLoadDir(t *testing.T) {
	embedded := mustLoad(t, "")

	t.Run("a broken directory is rejected with every problem", func(t *testing.T) {
		lib, err := Load(filepath.Join("testdata", "load", "bad"))
		var verr *ValidationError
		if lib != nil || !errors.As(err, &verr) {
			t.Fatalf("Load: %v, %v", lib, err)
		}
		want := []string{
			`several.yaml:3: title: missing translation "en"`,
			`several.yaml:12: step "ask": duplicate option id "a"`,
			`several.yaml:14: step "ask": next: unknown step "nowhere"`,
			`unknown_kind.yaml:7: step "ask": unknown kind "question"`,
		}
		if len(verr.Problems) != len(want) {
			t.Errorf("%d problems, want %d:\n%s", len(verr.Problems), len(want), err)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error lacks %q:\n%s", w, err)
			}
		}
	})

	t.Run("an extra script joins the menu", func(t *testing.T) {
		lib := mustLoad(t, filepath.Join("testdata", "load", "extra"))
		var ids []string
		for _, s := range lib.Scripts() {
			ids = append(ids, s.ID)
		}
		// "extra" has order 50: after the exercises, before anything ordered later
		var want []string
		added := false
		for _, s := range embedded.Scripts() {
			if s.Order > 50 && !added {
				want, added = append(want, "extra"), true
			}
			want = append(want, s.ID)
		}
		if !added {
			want = append(want, "extra")
		}
		if strings.Join(ids, " ") != strings.Join(want, " ") {
			t.Errorf("menu %v, want %v", ids, want)
		}
		c := newConvo(t, NewEngine(lib))
		c.onboard("nl", true)
		if _, ok := c.button("x:extra"); !ok {
			t.Error("the extra exercise is not in the menu")
		}
	})

	t.Run("a script with an existing id replaces the embedded one", func(t *testing.T) {
		lib := mustLoad(t, filepath.Join("testdata", "load", "replace"))
		s, _ := lib.Script("abandonment")
		old, _ := embedded.Script("abandonment")
		if s.Title.In("nl") != "Verlatingsangst (eigen versie)" || s.Version == old.Version || len(lib.Scripts()) != len(embedded.Scripts()) {
			t.Errorf("title %q version %s (embedded %s), %d scripts", s.Title.In("nl"), s.Version, old.Version, len(lib.Scripts()))
		}
		if !strings.HasSuffix(s.File, filepath.Join("replace", "abandonment.yaml")) {
			t.Errorf("file %q", s.File)
		}
	})

	t.Run("two files with one id", func(t *testing.T) {
		_, err := Load(filepath.Join("testdata", "load", "dupe"))
		if err == nil || !strings.Contains(err.Error(), `b.yaml:1: exercise id "twin" is also used by`) {
			t.Errorf("Load: %v", err)
		}
	})

	t.Run("a missing directory", func(t *testing.T) {
		_, err := Load(filepath.Join("testdata", "does-not-exist"))
		var verr *ValidationError
		if err == nil || errors.As(err, &verr) || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Load: %v", err)
		}
	})
}

func TestValidateDir(t *testing.T) {
	tests := []struct {
		name     string
		dir      string
		problems int // -1: an error
		want     string
	}{
		{name: "the embedded scripts", dir: "scripts", problems: 0},
		{name: "an extra script", dir: filepath.Join("testdata", "load", "extra"), problems: 0},
		{name: "broken scripts", dir: filepath.Join("testdata", "broken"), problems: 16, want: `unreachable.yaml:10: step "orphan"`},
		{name: "two files with one id", dir: filepath.Join("testdata", "load", "dupe"), problems: 1, want: `exercise id "twin" is also used by`},
		{name: "no scripts", dir: t.TempDir(), problems: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs, err := ValidateDir(tt.dir)
			if tt.problems < 0 {
				if err == nil {
					t.Error("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, p := range probs {
				all = append(all, p.String())
			}
			if len(probs) != tt.problems {
				t.Errorf("%d problems, want %d:\n%s", len(probs), tt.problems, strings.Join(all, "\n"))
			}
			if tt.want != "" && !strings.Contains(strings.Join(all, "\n"), tt.want) {
				t.Errorf("no problem contains %q", tt.want)
			}
		})
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"with a line", Problem{"a.yaml", 3, "bad"}, "a.yaml:3: bad"},
		{"without a line", Problem{"texts.yaml", 0, "missing"}, "texts.yaml: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("got %q", got)
			}
		})
	}
}
