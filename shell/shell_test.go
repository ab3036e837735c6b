package shell

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

type fixture struct {
	db  *storage.DB
	svc *conversation.Service
	lib *dialogs.Library
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	lib, err := dialogs.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	db := storagetest.New(t)
	engine := dialogs.NewEngine(lib, dialogs.WithPauseScale(0.001))
	return fixture{db: db, svc: conversation.New(db, engine), lib: lib}
}

// run pipes lines into a shell session and returns what it printed.
func (f fixture) run(t *testing.T, user, lang string, lines ...string) string {
	t.Helper()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := Run(ctx, Options{
		In: strings.NewReader(strings.Join(lines, "\n") + "\n"), Out: &out, User: user, LangHint: lang,
		Service: f.svc, DB: f.db, FileDir: t.TempDir(),
	})
	if err != nil {
		t.Fatalf("shell: %v\n%s", err, out.String())
	}
	return out.String()
}

func TestCompleteExerciseOneInDutch(t *testing.T) {
	f := newFixture(t)
	out := f.run(t, "anna", "nl",
		"ja",                                  // consent
		"1",                                   // menu: fear of abandonment
		"Hij appt al de hele dag niet terug.", // what is happening
		"1", "3", "Klaar",                     // feelings: fear, despair
		"8",                                     // intensity before
		"Borst",                                 // body, by label
		"Op mijn vader, die vaak weg was.",      // how old
		"Je bent niet alleen, ik blijf bij je.", // the adult's voice
		"5",                                     // intensity after
		"2",                                     // next step
	)
	for _, want := range []string{
		"Wat gebeurt er op dit moment?",
		"✓ Angst",
		"Je begon op 8 en zit nu op 5",
		"je voelde: angst, wanhoop",
		"van 8 naar 5",
		"je volgende stap: later praten met een ik-boodschap",
		"Wil je nog iets doen?",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
}

func TestQuitAndResume(t *testing.T) {
	f := newFixture(t)
	first := f.run(t, "bram", "nl", "ja", "1", "Ze wil meer tijd voor zichzelf.", "/quit")
	if !strings.Contains(first, "Welke gevoelens merk je?") {
		t.Fatalf("first session did not reach the feelings question:\n%s", first)
	}
	second := f.run(t, "bram", "nl", "/resume", "2", "Klaar")
	if !strings.Contains(second, "▶ Verder met: Stilstaan bij verlatingsangst") {
		t.Errorf("the welcome back menu offers no resume:\n%s", second)
	}
	after, found := strings.CutPrefix(second[strings.Index(second, "> /resume"):], "> /resume")
	if !found || !strings.Contains(after, "Welke gevoelens merk je?") {
		t.Fatalf("/resume did not continue at the feelings question:\n%s", second)
	}
	if !strings.Contains(after, "Hoe sterk is het gevoel nu") {
		t.Errorf("answering after resume did not move on:\n%s", second)
	}
	// The other person is not affected.
	other := f.run(t, "carla", "nl", "/resume")
	if strings.Contains(other, "Welke gevoelens") {
		t.Errorf("state leaked between users:\n%s", other)
	}
}

// TestEveryExerciseBothLanguages pipes a complete run of every exercise, in
// both languages, into the shell. The answers are planned by replaying the
// same engine (pure) with a fixed policy, so the test follows each script's
// own branches.
func TestEveryExerciseBothLanguages(t *testing.T) {
	f := newFixture(t)
	for _, s := range visible(f.lib) {
		for _, lang := range dialogs.Languages {
			t.Run(s.ID+"/"+lang, func(t *testing.T) {
				lines, endText := plan(t, f.lib, s, lang)
				out := f.run(t, "p-"+s.ID+"-"+lang, lang, lines...)
				if !strings.Contains(out, endText) {
					t.Fatalf("the run did not end with %q\nlines: %q\n%s", endText, lines, out)
				}
			})
		}
	}
}

// plan returns the lines that take a new person through exercise s, and the
// text that is shown when the exercise has ended.
func plan(t *testing.T, lib *dialogs.Library, s *dialogs.Script, lang string) ([]string, string) {
	t.Helper()
	e := dialogs.NewEngine(lib)
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var st dialogs.State
	var lines []string
	step := func(in dialogs.Input) dialogs.Output {
		in.Now, in.LangHint = now, lang
		var out dialogs.Output
		st, out = e.Handle(st, in)
		return out
	}
	step(dialogs.Input{Kind: dialogs.InputCommand, Command: "start"})
	yes := map[string]string{"nl": "ja", "en": "yes"}[lang]
	lines = append(lines, yes)
	step(dialogs.Input{Kind: dialogs.InputText, Text: yes})
	// the menu lists visible exercises by number; hidden ones are started by a button in the shell
	idx := 0
	for i, x := range visible(lib) {
		if x.ID == s.ID {
			idx = i + 1
		}
	}
	lines = append(lines, strconv.Itoa(idx))
	out := step(dialogs.Input{Kind: dialogs.InputButton, Data: fmt.Sprintf("%d.x:%s", st.Prompt, s.ID)})
	for range 200 {
		if out.Ended != nil {
			return lines, lib.Text("end.menu", lang)
		}
		r := st.Run
		if r == nil {
			t.Fatalf("the run vanished at %q", lines)
		}
		cur, _ := s.StepByID(r.Step)
		switch cur.Kind {
		case dialogs.KindPause:
			now = r.WakeAt
			out = step(dialogs.Input{Kind: dialogs.InputTimer})
		case dialogs.KindChoice, dialogs.KindScale:
			lines = append(lines, "1")
			out = step(dialogs.Input{Kind: dialogs.InputText, Text: "1"})
		case dialogs.KindMulti:
			lines = append(lines, "1, 2")
			out = step(dialogs.Input{Kind: dialogs.InputText, Text: "1, 2"})
		case dialogs.KindText:
			lines = append(lines, "Een eerlijk antwoord.")
			out = step(dialogs.Input{Kind: dialogs.InputText, Text: "Een eerlijk antwoord."})
		default:
			t.Fatalf("waiting at a %s step", cur.Kind)
		}
	}
	t.Fatalf("no end after 200 inputs")
	return nil, ""
}

func visible(lib *dialogs.Library) []*dialogs.Script {
	var out []*dialogs.Script
	for _, s := range lib.Scripts() {
		if !s.Hidden {
			out = append(out, s)
		}
	}
	return out
}
