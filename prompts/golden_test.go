package prompts

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixture is a question and answer a step template is rendered with.
type fixture struct {
	question string
	answer   string
	earlier  []QA
}

var fixtures = map[string]map[string]fixture{
	"nl": {
		"abandonment/what": {
			question: "Wat gebeurt er nu?",
			answer:   "Hij heeft al sinds vanmiddag niets van zich laten horen. Ik zie dat hij online is geweest en ik heb drie berichten klaarstaan die ik wil sturen.",
		},
		"abandonment/adult_voice": {
			question: "Wat heeft het kind in jou nu nodig om te horen?",
			answer:   "Je bent niet alleen. Ik blijf bij je, ook als het stil is.",
			earlier: []QA{
				{Question: "Wat gebeurt er nu?", Answer: "Ze appt niet terug en ik word onrustig."},
				{Question: "Hoe oud voelt dit gevoel?", Answer: "Een jaar of zes, wachten bij het raam."},
			},
		},
		"commitment/touched": {
			question: "Wat wordt er in je geraakt als je je opgeëist voelt?",
			answer:   "Alsof ik geen lucht meer krijg. Ze wil elk weekend samen plannen en dan wil ik alleen nog maar weg.",
		},
		"inner_child/need": {
			question: "Wat had je als kind nodig?",
			answer:   "Dat iemand gewoon bij me kwam zitten als ik verdrietig was, in plaats van dat ik het zelf moest oplossen.",
		},
		"default": {
			question: "Wat heb je vandaag bij jezelf opgemerkt?",
			answer:   "Dat ik weer ja zei terwijl ik nee bedoelde. Mail me gerust op sanne.devries@example.nl of bel 06-12345678.",
			earlier: []QA{
				{Question: "Welk thema past bij vandaag?", Answer: "Je te veel aanpassen aan de ander"},
			},
		},
	},
	"en": {
		"abandonment/what": {
			question: "What is happening right now?",
			answer:   "He hasn't replied since this afternoon. I can see he was online and I have three messages ready to send.",
		},
		"abandonment/adult_voice": {
			question: "What does the child in you need to hear right now?",
			answer:   "You are not alone. I'm staying with you, even when it's quiet.",
			earlier: []QA{
				{Question: "What is happening right now?", Answer: "She isn't texting back and I'm getting restless."},
				{Question: "How old does this feeling feel?", Answer: "About six, waiting by the window."},
			},
		},
		"commitment/touched": {
			question: "What is touched in you when you feel claimed?",
			answer:   "Like I can't breathe. She wants to plan every weekend together and then all I want is to get away.",
		},
		"inner_child/need": {
			question: "What did you need as a child?",
			answer:   "Someone to just come and sit with me when I was sad, instead of having to sort it out myself.",
		},
		"default": {
			question: "What did you notice in yourself today?",
			answer:   "That I said yes again when I meant no. Feel free to mail me at sam.jones@example.com or call +44 20 7946 0958.",
			earlier: []QA{
				{Question: "Which theme fits today?", Answer: "Adapting too much to the other"},
			},
		},
	},
}

func fixtureFor(lang, key string) fixture {
	if f, ok := fixtures[lang][key]; ok {
		return f
	}
	return fixtures[lang]["default"]
}

// goldenCase is one golden file and how to produce its text.
type goldenCase struct {
	name   string // golden file name without .txt
	render func(t *testing.T, s *Set) string
}

// goldenCases derives one case per embedded template file, so a template
// added without a golden file fails the test.
func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	var cases []goldenCase
	err := fs.WalkDir(embedded, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(p, "templates/")
		parts := strings.Split(strings.TrimSuffix(rel, ".tmpl"), "/")
		lang := parts[0]
		name := strings.Join(parts, "_")
		switch {
		case len(parts) == 3:
			ex, step := parts[1], parts[2]
			f := fixtureFor(lang, ex+"/"+step)
			cases = append(cases, goldenCase{name: name, render: func(t *testing.T, s *Set) string {
				return render(t, s, Request{Exercise: ex, Step: step, Lang: lang, Question: f.question, Answer: f.answer, Earlier: f.earlier}).User
			}})
		case parts[1] == "system":
			cases = append(cases, goldenCase{name: name, render: func(t *testing.T, s *Set) string {
				f := fixtureFor(lang, "default")
				return render(t, s, Request{Exercise: "patterns", Step: "noticed", Lang: lang, Question: f.question, Answer: f.answer}).System
			}})
		case parts[1] == "reflect":
			cases = append(cases, goldenCase{name: name, render: func(t *testing.T, s *Set) string {
				f := fixtureFor(lang, "default")
				return render(t, s, Request{Exercise: "patterns", Step: "noticed", Lang: lang, Question: f.question, Answer: f.answer, Earlier: f.earlier}).User
			}})
		default:
			// Shared define blocks: render the default reflection for
			// every exercise, and one the templates do not know.
			cases = append(cases, goldenCase{name: name, render: func(t *testing.T, s *Set) string {
				f := fixtureFor(lang, "default")
				var b strings.Builder
				for _, ex := range []string{"abandonment", "commitment", "patterns", "balance", "inner_child", "adult", "new_exercise"} {
					b.WriteString("=== " + ex + "\n")
					b.WriteString(render(t, s, Request{Exercise: ex, Step: "no_override", Lang: lang, Question: f.question, Answer: f.answer}).User)
				}
				return b.String()
			}})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

func render(t *testing.T, s *Set, r Request) Rendered {
	t.Helper()
	out, err := s.Render(r)
	if err != nil {
		t.Fatalf("Render(%s/%s, %s): %v", r.Exercise, r.Step, r.Lang, err)
	}
	return out
}

func TestGolden(t *testing.T) {
	s, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	cases := goldenCases(t)
	want := map[string]bool{}
	for _, tc := range cases {
		want[tc.name+".txt"] = true
		t.Run(tc.name, func(t *testing.T) {
			got := tc.render(t, s)
			path := filepath.Join("testdata", "golden", tc.name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./prompts -update to create it)", err)
			}
			if string(b) != got {
				t.Errorf("%s differs from the rendered text (go test ./prompts -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, b)
			}
		})
	}
	// A golden file whose template is gone is stale.
	entries, err := os.ReadDir(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	var stale []string
	for _, e := range entries {
		if !want[e.Name()] {
			stale = append(stale, e.Name())
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 && !*update {
		t.Errorf("golden files without a template: %v", stale)
	}
}
