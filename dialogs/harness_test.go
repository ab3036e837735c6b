package dialogs

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// t0 is the moment every test conversation starts.
var t0 = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

// convo is one person talking to an engine. It keeps the state between
// turns, checks after every turn that Handle left its input state alone, and
// writes the exchange as a readable transcript.
type convo struct {
	t       testing.TB
	e       *Engine
	st      State
	now     time.Time
	hint    string
	buttons map[int][][]Button // prompt nonce -> buttons as last shown
	log     strings.Builder
	last    Output
}

func newConvo(t testing.TB, e *Engine) *convo {
	return &convo{t: t, e: e, now: t0, buttons: map[int][][]Button{}}
}

// send applies one input. A zero Now becomes a minute after the previous turn.
func (c *convo) send(in Input) Output {
	c.t.Helper()
	if in.Now.IsZero() {
		c.now = c.now.Add(time.Minute)
		in.Now = c.now
	} else {
		c.now = in.Now
	}
	if in.LangHint == "" {
		in.LangHint = c.hint
	}
	c.logInput(in)
	before := copyState(c.st)
	st, out := c.e.Handle(c.st, in)
	if !reflect.DeepEqual(before, c.st) {
		c.t.Fatalf("Handle modified its input state:\nbefore %+v\nafter  %+v", before, c.st)
	}
	c.st = st
	c.last = out
	c.logOutput(out)
	return out
}

func (c *convo) text(s string) Output {
	c.t.Helper()
	return c.send(Input{Kind: InputText, Text: s})
}

func (c *convo) command(cmd string) Output {
	c.t.Helper()
	name, args, _ := strings.Cut(strings.TrimPrefix(cmd, "/"), " ")
	return c.send(Input{Kind: InputCommand, Command: name, Args: args})
}

// press presses the button of the latest prompt whose action is action (the
// part after "nonce."). It fails when no such button is shown.
func (c *convo) press(action string) Output {
	c.t.Helper()
	b, ok := c.button(action)
	if !ok {
		c.t.Fatalf("no button %q on prompt %d (shown: %v)", action, c.st.Prompt, c.buttons[c.st.Prompt])
	}
	return c.send(Input{Kind: InputButton, Data: b.Data})
}

// button finds a shown button of the latest prompt by its action.
func (c *convo) button(action string) (Button, bool) {
	want := strconv.Itoa(c.st.Prompt) + "." + action
	for _, row := range c.buttons[c.st.Prompt] {
		for _, b := range row {
			if b.Data == want {
				return b, true
			}
		}
	}
	return Button{}, false
}

// step returns the step the running exercise waits at.
func (c *convo) step() *Step {
	c.t.Helper()
	if c.st.Run == nil {
		c.t.Fatalf("no exercise is running")
	}
	s, ok := c.e.Library().Script(c.st.Run.Exercise)
	if !ok {
		c.t.Fatalf("unknown exercise %q", c.st.Run.Exercise)
	}
	st, ok := s.StepByID(c.st.Run.Step)
	if !ok {
		c.t.Fatalf("unknown step %q", c.st.Run.Step)
	}
	return st
}

// onboard takes a new person through the welcome and consent, in lang.
func (c *convo) onboard(lang string, consent bool) {
	c.t.Helper()
	c.command("/start")
	if c.st.Lang != lang {
		c.press("l:" + lang)
	}
	if consent {
		c.press("c:y")
	} else {
		c.press("c:n")
	}
	if c.st.Stage != StageReady || c.st.Lang != lang || c.st.Consent != consent {
		c.t.Fatalf("after onboarding: stage %q lang %q consent %v", c.st.Stage, c.st.Lang, c.st.Consent)
	}
}

func (c *convo) logInput(in Input) {
	w := &c.log
	switch in.Kind {
	case InputText:
		fmt.Fprintf(w, "> %q\n", in.Text)
	case InputCommand:
		fmt.Fprintf(w, "> /%s", in.Command)
		if in.Args != "" {
			fmt.Fprintf(w, " %s", in.Args)
		}
		w.WriteString("\n")
	case InputButton:
		label := "not shown"
		if n, _, ok := strings.Cut(in.Data, "."); ok {
			nonce, _ := strconv.Atoi(n)
			for _, row := range c.buttons[nonce] {
				for _, b := range row {
					if b.Data == in.Data {
						label = b.Label
					}
				}
			}
		}
		fmt.Fprintf(w, "> [%s] (%s)\n", label, in.Data)
	case InputTimer:
		fmt.Fprintf(w, "> (timer %s)\n", in.Now.Format("15:04:05"))
	case InputReflection:
		fmt.Fprintf(w, "> (reflection #%d %q)\n", in.Token, in.Text)
	case InputSafety:
		fmt.Fprintf(w, "> (safety %q)\n", in.Text)
	case InputUnsupported:
		fmt.Fprintf(w, "> (%s)\n", in.Text)
	default:
		fmt.Fprintf(w, "> (%s)\n", in.Kind)
	}
	if in.Concern != "" {
		fmt.Fprintf(w, "  concern: %q\n", in.Concern)
	}
}

func (c *convo) logOutput(out Output) {
	w := &c.log
	for _, m := range out.Messages {
		switch {
		case m.Edit && len(m.Buttons) == 0:
			fmt.Fprintf(w, "< (#%d buttons removed)\n", m.Prompt)
			delete(c.buttons, m.Prompt)
			continue
		case m.Edit:
			fmt.Fprintf(w, "< (#%d buttons now)\n", m.Prompt)
		default:
			prefix := "< "
			if m.Prompt > 0 {
				prefix = fmt.Sprintf("< #%d ", m.Prompt)
			}
			for i, line := range strings.Split(m.Text, "\n") {
				if i > 0 {
					prefix = "  "
				}
				if line == "" {
					w.WriteString("\n")
					continue
				}
				fmt.Fprintf(w, "%s%s\n", prefix, line)
			}
		}
		if m.Prompt > 0 && len(m.Buttons) > 0 {
			c.buttons[m.Prompt] = m.Buttons
		}
		for _, row := range m.Buttons {
			w.WriteString("   ")
			for _, b := range row {
				fmt.Fprintf(w, " [%s]", b.Label)
			}
			w.WriteString("\n")
		}
	}
	if out.Notice != "" {
		fmt.Fprintf(w, "  notice: %s\n", out.Notice)
	}
	if out.Heard != "" {
		fmt.Fprintf(w, "  heard: %q", out.Heard)
		if out.FreeText {
			w.WriteString(" (free text)")
		}
		w.WriteString("\n")
	}
	for _, f := range out.Flags {
		fmt.Fprintf(w, "  flag: %s %s\n", f.Level, f.Rule)
	}
	if r := out.Reflect; r != nil {
		fmt.Fprintf(w, "  reflect: #%d %s/%s, %d earlier answers\n", r.Token, r.Exercise, r.Step, len(r.Earlier))
	}
	if out.Started != "" {
		fmt.Fprintf(w, "  started: %s\n", out.Started)
	}
	if e := out.Ended; e != nil {
		ids := make([]string, 0, len(e.Scales))
		for id := range e.Scales {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		var parts []string
		for _, id := range ids {
			parts = append(parts, fmt.Sprintf("%s=%d", id, e.Scales[id]))
		}
		fmt.Fprintf(w, "  ended: %s after %s (%s)\n", e.Exercise, e.EndedAt.Sub(e.StartedAt), strings.Join(parts, ", "))
	}
	if wake := c.st.WakeAt(); !wake.IsZero() {
		fmt.Fprintf(w, "  wake at %s\n", wake.Format("15:04:05"))
	}
}

// copyState is a deep copy, sharing nothing with st.
func copyState(st State) State {
	if st.Run == nil {
		return st
	}
	r := *st.Run
	if st.Run.Answers != nil {
		r.Answers = make(map[string]Answer, len(st.Run.Answers))
		for k, a := range st.Run.Answers {
			if a.Options != nil {
				a.Options = append([]string{}, a.Options...)
			}
			if a.Value != nil {
				v := *a.Value
				a.Value = &v
			}
			r.Answers[k] = a
		}
	}
	if st.Run.Selected != nil {
		r.Selected = append([]string{}, st.Run.Selected...)
	}
	st.Run = &r
	return st
}

// golden compares got with the golden file, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the tests with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", path, diff(string(want), got))
	}
}

// diff shows the first lines where want and got differ.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, a, c)
			if shown++; shown == 5 {
				break
			}
		}
	}
	return b.String()
}

// mustLoad loads the embedded scripts plus dir (when not empty).
func mustLoad(t testing.TB, dir string) *Library {
	t.Helper()
	lib, err := Load(dir)
	if err != nil {
		t.Fatalf("Load(%q): %v", dir, err)
	}
	return lib
}
