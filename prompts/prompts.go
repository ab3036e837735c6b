package prompts

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"unicode/utf8"
)

//go:embed templates
var embedded embed.FS

// Languages are the languages a Set has templates for.
var Languages = []string{"nl", "en"}

const (
	systemFile  = "system.tmpl"
	reflectFile = "reflect.tmpl"

	// maxAnswerRunes caps the current answer put into a prompt; a Telegram
	// message can be 4096 characters and the model does not need all of it
	// to reflect.
	maxAnswerRunes = 1500
	// maxEarlierRunes caps each earlier answer.
	maxEarlierRunes = 500
	// maxEarlier is how many earlier answers (the most recent ones) a
	// prompt carries.
	maxEarlier = 8
)

var idRE = regexp.MustCompile(`^[a-z0-9_]+$`)

// QA is one earlier question of the current exercise and the answer given.
type QA struct {
	Question string
	Answer   string
}

// Request is what a reflection is asked for: the step of an exercise, the
// question the person was asked and the answer they gave, plus earlier
// answers of the same exercise only. It never holds a name or a handle.
type Request struct {
	Exercise string // exercise id, e.g. "abandonment"
	Step     string // step id, e.g. "what"
	Lang     string // "nl" or "en" ("nl-NL" and the like are accepted)
	Question string // the question as the person saw it
	Answer   string // what the person answered
	Earlier  []QA   // earlier questions and answers of this exercise, oldest first
}

// Rendered is a prompt ready to send: a system message and a user message.
type Rendered struct {
	System string
	User   string
}

// Set is a parsed set of templates for every language. It is safe for
// concurrent use.
type Set struct {
	langs map[string]*template.Template
}

// data is what templates see. The person's words are already masked,
// trimmed and capped.
type data struct {
	Lang     string
	Exercise string
	Step     string
	Question string
	Answer   string
	Earlier  []QA
}

// New parses the embedded templates, each replaced file by file by a file
// with the same relative path (e.g. "nl/system.tmpl",
// "en/abandonment/what.tmpl") in overrideDir when overrideDir is not empty.
// Files in overrideDir that have no embedded counterpart are added. Every
// template is also executed once with sample data, so an error in a
// template shows at start-up, not in front of a person. Errors name the
// file.
func New(overrideDir string) (*Set, error) {
	files, err := collect(overrideDir)
	if err != nil {
		return nil, err
	}
	s := &Set{langs: make(map[string]*template.Template, len(Languages))}
	for _, lang := range Languages {
		root := template.New(lang).Option("missingkey=error")
		names := make([]string, 0, len(files))
		for name := range files {
			if strings.HasPrefix(name, lang+"/") {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			f := files[name]
			rel := strings.TrimPrefix(name, lang+"/")
			if _, err := root.New(rel).Parse(f.text); err != nil {
				return nil, fmt.Errorf("prompts: parse %s: %w", f.origin, err)
			}
		}
		for _, required := range []string{systemFile, reflectFile} {
			if root.Lookup(required) == nil {
				return nil, fmt.Errorf("prompts: new: %s/%s is missing", lang, required)
			}
		}
		s.langs[lang] = root
		if err := s.check(lang, names, files); err != nil {
			return nil, err
		}
	}
	return s, nil
}

type source struct {
	text   string
	origin string // where the file came from, for error messages
}

// collect reads the embedded files and lays the override files over them.
func collect(overrideDir string) (map[string]source, error) {
	files := make(map[string]source)
	sub, err := fs.Sub(embedded, "templates")
	if err != nil {
		return nil, fmt.Errorf("prompts: embedded templates: %w", err)
	}
	if err := readTree(sub, "templates/", files); err != nil {
		return nil, err
	}
	if overrideDir == "" {
		return files, nil
	}
	info, err := os.Stat(overrideDir)
	if err != nil {
		return nil, fmt.Errorf("prompts: override dir: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("prompts: override dir %s: not a directory", overrideDir)
	}
	if err := readTree(os.DirFS(overrideDir), overrideDir+string(os.PathSeparator), files); err != nil {
		return nil, err
	}
	return files, nil
}

// readTree adds every .tmpl file of fsys to files, keyed by its path, after
// checking that the path fits the layout.
func readTree(fsys fs.FS, prefix string, files map[string]source) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("prompts: read %s%s: %w", prefix, p, err)
		}
		if d.IsDir() || !strings.HasSuffix(p, ".tmpl") {
			return nil
		}
		origin := prefix + p
		if err := checkLayout(p); err != nil {
			return fmt.Errorf("prompts: %s: %w", origin, err)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("prompts: read %s: %w", origin, err)
		}
		if !utf8.Valid(b) {
			return fmt.Errorf("prompts: %s: not valid UTF-8", origin)
		}
		files[p] = source{text: string(b), origin: origin}
		return nil
	})
}

func checkLayout(p string) error {
	parts := strings.Split(p, "/")
	if !isLanguage(parts[0]) {
		return fmt.Errorf("unknown language %q (want one of %s)", parts[0], strings.Join(Languages, ", "))
	}
	switch len(parts) {
	case 2:
		if !idRE.MatchString(strings.TrimSuffix(parts[1], ".tmpl")) {
			return errors.New("file names are lower case letters, digits and _")
		}
	case 3:
		if !idRE.MatchString(parts[1]) || !idRE.MatchString(strings.TrimSuffix(parts[2], ".tmpl")) {
			return errors.New("exercise and step ids are lower case letters, digits and _")
		}
	default:
		return errors.New("want <lang>/<name>.tmpl or <lang>/<exercise>/<step>.tmpl")
	}
	return nil
}

func isLanguage(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// check executes every system, reflect and step template of lang with
// sample data, so execution errors (a misspelt field, a missing define)
// surface in New.
func (s *Set) check(lang string, names []string, files map[string]source) error {
	sample := data{
		Lang: lang, Exercise: "sample", Step: "sample",
		Question: "?", Answer: "...",
		Earlier: []QA{{Question: "?", Answer: "..."}},
	}
	root := s.langs[lang]
	for _, name := range names {
		rel := strings.TrimPrefix(name, lang+"/")
		dir, file := path.Split(rel)
		if dir == "" && file != systemFile && file != reflectFile {
			continue // shared define blocks, executed through the others
		}
		d := sample
		if dir != "" {
			d.Exercise = strings.TrimSuffix(dir, "/")
			d.Step = strings.TrimSuffix(file, ".tmpl")
		}
		if err := root.ExecuteTemplate(&bytes.Buffer{}, rel, d); err != nil {
			return fmt.Errorf("prompts: execute %s: %w", files[name].origin, err)
		}
	}
	return nil
}

// Render masks the person's words and renders the system prompt and the
// user prompt for r. The user prompt comes from the first of
// <lang>/<exercise>/<step>.tmpl, <lang>/<exercise>/reflect.tmpl and
// <lang>/reflect.tmpl that exists. Errors never contain what the person
// wrote.
func (s *Set) Render(r Request) (Rendered, error) {
	lang := normLang(r.Lang)
	root, ok := s.langs[lang]
	if !ok {
		return Rendered{}, fmt.Errorf("prompts: render: unsupported language %q", lang)
	}
	if !idRE.MatchString(r.Exercise) {
		return Rendered{}, fmt.Errorf("prompts: render: invalid exercise id %q", r.Exercise)
	}
	if r.Step != "" && !idRE.MatchString(r.Step) {
		return Rendered{}, fmt.Errorf("prompts: render: invalid step id %q", r.Step)
	}
	d := data{
		Lang:     lang,
		Exercise: r.Exercise,
		Step:     r.Step,
		Question: clean(r.Question, maxAnswerRunes),
		Answer:   clean(Mask(lang, r.Answer), maxAnswerRunes),
	}
	if d.Answer == "" {
		return Rendered{}, errors.New("prompts: render: empty answer")
	}
	for _, qa := range r.Earlier {
		a := clean(Mask(lang, qa.Answer), maxEarlierRunes)
		if a == "" {
			continue // a skipped step
		}
		d.Earlier = append(d.Earlier, QA{Question: clean(qa.Question, maxEarlierRunes), Answer: a})
	}
	if len(d.Earlier) > maxEarlier {
		d.Earlier = d.Earlier[len(d.Earlier)-maxEarlier:]
	}

	user := reflectFile
	for _, name := range []string{r.Exercise + "/" + r.Step + ".tmpl", r.Exercise + "/" + reflectFile} {
		if r.Step == "" && strings.HasSuffix(name, "/.tmpl") {
			continue
		}
		if root.Lookup(name) != nil {
			user = name
			break
		}
	}
	var out Rendered
	var err error
	if out.System, err = execute(root, systemFile, d); err != nil {
		return Rendered{}, fmt.Errorf("prompts: render %s/%s: %w", lang, systemFile, err)
	}
	if out.User, err = execute(root, user, d); err != nil {
		return Rendered{}, fmt.Errorf("prompts: render %s/%s: %w", lang, user, err)
	}
	return out, nil
}

func execute(root *template.Template, name string, d data) (string, error) {
	var b strings.Builder
	if err := root.ExecuteTemplate(&b, name, d); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()) + "\n", nil
}

var fenceRE = regexp.MustCompile(`"{3,}`)

// clean trims s, keeps a person's text from closing the """ fence around
// it in a prompt, and caps it at max runes.
func clean(s string, max int) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	s = fenceRE.ReplaceAllString(s, `"`)
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max])) + "…"
}
