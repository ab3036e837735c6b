package dialogs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var fuzzTexts = []string{
	"", "   ", "1", "2", "3", "1, 3", "2 3", "7/10", "9", "10", "11", "-1", "ja", "nee",
	"Peer", "apple", "hallo", "Ik voel me alleen.", "é€🙂", strings.Repeat("lang ", 20),
}

var fuzzCommands = []string{
	"start", "help", "exercises", "stop", "resume", "skip", "language", "taal", "verder", "overslaan", "bla",
}

var fuzzActions = []string{"o:apple", "o:red", "o:7", "o:11", "d", "s", "w", "r", "k", "m", "p", "c:y", "c:n", "l:en", "l:nl", "l:xx", "x:probe", "x:grounding", "x:gone", "z"}

// fuzzEngines are switched between during a run, so runs meet scripts that
// changed or disappeared.
type fuzzEngines struct {
	engines []*Engine
}

func newFuzzEngines(t testing.TB) *fuzzEngines {
	elevated := WithElevated(func(lang string) string { return "steun " + lang })
	probe := mustLoad(t, filepath.Join("testdata", "probe"))
	return &fuzzEngines{engines: []*Engine{
		NewEngine(probe, WithLLM(true), elevated, WithMaxText(60)),
		NewEngine(probe, WithPauseScale(0.5)),
		NewEngine(mustLoad(t, filepath.Join("testdata", "version", "v1")), WithLLM(true)),
		NewEngine(mustLoad(t, filepath.Join("testdata", "version", "v2")), elevated),
	}}
}

// FuzzEngine drives the engine with inputs decoded from a byte string and
// checks that it never panics, never changes its input, keeps its outputs
// well formed, and behaves the same on a state that went through JSON.
func FuzzEngine(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 0, 1, 0, 1, 0, 1, 16, 0, 2, 1, 0, 1, 0, 4, 0, 0, 6, 0, 7, 0})
	f.Add([]byte("the quick brown fox jumps over the lazy dog"))
	f.Add([]byte{1, 0, 1, 0, 1, 16, 0, 6, 1, 1, 0, 1, 0, 1, 1, 1, 2, 1, 3, 1, 9, 4, 0, 0, 5, 3, 4, 3, 1, 12, 2, 3, 5})
	f.Add([]byte{0, 17, 1, 0, 1, 0, 1, 17, 9, 3, 1, 0, 12, 1, 3, 4, 10, 70, 1, 2, 3})
	fe := newFuzzEngines(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		runFuzz(t, fe, data)
	})
}

func runFuzz(t *testing.T, fe *fuzzEngines, data []byte) {
	e := fe.engines[0]
	var st State
	now := t0
	shown := map[int][][]Button{}
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := int(data[0])
		data = data[1:]
		return b
	}
	for turn := 0; len(data) > 0 && turn < 200; turn++ {
		op := next()
		now = now.Add(time.Duration(op%7) * time.Minute)
		in := Input{Now: now, LangHint: []string{"", "en", "nl-BE", "fr"}[op%4]}
		switch op % 13 {
		case 0:
			in.Kind, in.Text = InputText, fuzzTexts[next()%len(fuzzTexts)]
		case 1:
			in.Kind = InputButton
			var all []Button
			for _, row := range shown[st.Prompt] {
				all = append(all, row...)
			}
			if len(all) > 0 {
				in.Data = all[next()%len(all)].Data
			} else {
				in.Data = strconv.Itoa(st.Prompt) + "." + fuzzActions[next()%len(fuzzActions)]
			}
		case 2:
			in.Kind = InputButton
			in.Data = strconv.Itoa(st.Prompt+next()%3-1) + "." + fuzzActions[next()%len(fuzzActions)]
		case 3:
			in.Kind = InputCommand
			in.Command = fuzzCommands[next()%len(fuzzCommands)]
			if next()%2 == 0 {
				in.Args = []string{"en", "nl", "xx"}[next()%3]
			}
		case 4:
			in.Kind = InputTimer
			if w := st.WakeAt(); !w.IsZero() {
				in.Now = w.Add(time.Duration(next()%3) * time.Second)
				now = in.Now
			}
		case 5:
			in.Kind = InputTimer
			in.Now = now.Add(-time.Duration(next()) * time.Second)
		case 6:
			in.Kind = InputReflection
			in.Token = next() % 4
			if st.Run != nil && next()%2 == 0 {
				in.Token = st.Run.Awaiting
			}
			in.Text = fuzzTexts[next()%len(fuzzTexts)]
		case 7:
			in.Kind, in.Text = InputSafety, "veiligheid"
		case 8:
			in.Kind, in.Text = InputUnsupported, "sticker"
		case 9:
			in.Kind, in.Text, in.Concern = InputText, fuzzTexts[next()%len(fuzzTexts)], "zorg"
		case 10:
			n := next() % 80
			if n > len(data) {
				n = len(data)
			}
			in.Kind, in.Data = InputButton, string(data[:n])
			data = data[n:]
		case 11:
			in.Kind = InputKind(next() % 10)
			if in.Kind == InputSafety {
				in.Text = "veiligheid" // the safety reply is never empty
			}
		case 12:
			e = fe.engines[next()%len(fe.engines)]
			continue
		}
		var out Output
		st, out = fuzzStep(t, e, st, in)
		for _, m := range out.Messages {
			if len(m.Buttons) > 0 {
				shown[m.Prompt] = m.Buttons
			}
		}
	}
}

// fuzzStep applies in to st, checks the properties, and returns the new state.
func fuzzStep(t *testing.T, e *Engine, st State, in Input) (State, Output) {
	t.Helper()
	before := copyState(st)
	saved, err := json.Marshal(st)
	if err != nil {
		t.Fatalf("marshal state: %v", err)
	}
	var loaded State
	if err := json.Unmarshal(saved, &loaded); err != nil {
		t.Fatalf("unmarshal state: %v", err)
	}
	again, err := json.Marshal(loaded)
	if err != nil || string(again) != string(saved) {
		t.Fatalf("state does not round-trip:\n%s\n%s", saved, again)
	}

	got, out := e.Handle(st, in)
	if !reflect.DeepEqual(before, st) {
		t.Fatalf("Handle modified its input state for %+v", in)
	}
	got2, out2 := e.Handle(loaded, in)
	j1, _ := json.Marshal(got)
	j2, _ := json.Marshal(got2)
	if string(j1) != string(j2) || !reflect.DeepEqual(out, out2) {
		t.Fatalf("a state read back from JSON behaves differently for %+v:\n%s\n%s\n%+v\n%+v", in, j1, j2, out, out2)
	}

	if got.Prompt < st.Prompt {
		t.Fatalf("prompt went back from %d to %d", st.Prompt, got.Prompt)
	}
	for _, m := range out.Messages {
		if !m.Edit && strings.TrimSpace(m.Text) == "" {
			t.Fatalf("empty message for %+v", in)
		}
		if strings.Contains(m.Text, "{{") {
			t.Fatalf("unfilled template in %q", m.Text)
		}
		for _, row := range m.Buttons {
			for _, b := range row {
				nonce, _, _, ok := parseData(b.Data)
				if !ok || nonce != m.Prompt || b.Label == "" {
					t.Fatalf("button %+v on prompt %d", b, m.Prompt)
				}
			}
		}
	}
	if r := got.Run; r != nil && !r.Stopped && !r.Held && r.Awaiting == 0 {
		if s, ok := e.Library().Script(r.Exercise); ok && s.Version == r.Version {
			step, ok := s.StepByID(r.Step)
			if !ok || !asks(step.Kind) {
				t.Fatalf("the run rests at %q, which does not wait", r.Step)
			}
			if (step.Kind == KindPause) != !r.WakeAt.IsZero() {
				t.Fatalf("step %q of kind %s with wake time %v", r.Step, step.Kind, r.WakeAt)
			}
		}
	}
	if got.Stage != StageReady && got.Run != nil {
		t.Fatalf("a run before onboarding: %+v", got)
	}
	return got, out
}

// FuzzParseScript feeds ParseScript random YAML. A script that validates is
// run from start to end, answering every question, and must never reach a
// state the engine cannot handle.
func FuzzParseScript(f *testing.F) {
	for _, dir := range []string{"scripts", filepath.Join("testdata", "broken"), filepath.Join("testdata", "probe"), filepath.Join("testdata", "version", "v2")} {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("id: a\nsteps:\n  - id: b\n    kind: branch\n    cases: [{when: {answer: b}, next: b}]\n    next: b\n"))
	f.Add([]byte("[1, 2"))
	base := mustLoad(f, "")
	f.Fuzz(func(t *testing.T, data []byte) {
		s, probs := ParseScript("f.yaml", data)
		for _, p := range probs {
			if p.File != "f.yaml" || p.Line < 0 || p.Msg == "" {
				t.Fatalf("bad problem %+v", p)
			}
		}
		if s == nil || len(probs) > 0 {
			return
		}
		lib := &Library{scripts: map[string]*Script{s.ID: s}, texts: base.texts}
		lib.sort()
		e := NewEngine(lib)
		st := State{Lang: "nl", Stage: StageReady, Consent: true, Prompt: 1, Menu: true}
		in := Input{Kind: InputButton, Data: "1.x:" + s.ID, Now: t0}
		gone := lib.Text("exercise.gone", "nl")
		for turn := 0; turn < 100; turn++ {
			var out Output
			st, out = e.Handle(st, in)
			for _, m := range out.Messages {
				if m.Text == gone {
					t.Fatalf("a valid script ended as gone at turn %d", turn)
				}
			}
			if st.Run == nil {
				return
			}
			step, ok := s.StepByID(st.Run.Step)
			if !ok || !asks(step.Kind) {
				t.Fatalf("the run rests at %q", st.Run.Step)
			}
			in = Input{Now: in.Now.Add(time.Minute)}
			nonce := strconv.Itoa(st.Prompt) + "."
			switch step.Kind {
			case KindChoice:
				in.Kind, in.Data = InputButton, nonce+"o:"+step.Options[turn%len(step.Options)].ID
			case KindMulti:
				if len(st.Run.Selected) == 0 {
					in.Kind, in.Data = InputButton, nonce+"o:"+step.Options[0].ID
				} else {
					in.Kind, in.Data = InputButton, nonce+"d"
				}
			case KindScale:
				lo, hi := step.Bounds()
				in.Kind, in.Data = InputButton, nonce+"o:"+strconv.Itoa(lo+turn%(hi-lo+1))
			case KindText:
				in.Kind, in.Text = InputText, "iets"
			case KindPause:
				in.Kind, in.Now = InputTimer, st.Run.WakeAt
			}
		}
	})
}
