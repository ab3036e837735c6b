package dialogs

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// probeEngine runs the embedded scripts plus testdata/probe, a small
// exercise that uses every step kind.
func probeEngine(t testing.TB, opts ...EngineOption) *Engine {
	t.Helper()
	return NewEngine(mustLoad(t, filepath.Join("testdata", "probe")), opts...)
}

// startProbe onboards a Dutch-speaking person and starts the probe exercise.
func startProbe(t testing.TB, e *Engine, consent bool) *convo {
	t.Helper()
	c := newConvo(t, e)
	c.onboard("nl", consent)
	c.press("x:probe")
	return c
}

// advanceTo answers simply until the run waits at step id.
func (c *convo) advanceTo(id string) {
	c.t.Helper()
	for i := 0; c.st.Run != nil && (c.st.Run.Step != id || c.st.Run.Awaiting != 0); i++ {
		if i > 40 {
			c.t.Fatalf("did not reach step %q", id)
		}
		r := c.st.Run
		if r.Awaiting != 0 {
			c.send(Input{Kind: InputReflection, Token: r.Awaiting})
			continue
		}
		st := c.step()
		switch st.Kind {
		case KindText:
			c.text("iets")
		case KindChoice:
			c.press("o:" + st.Options[0].ID)
		case KindMulti:
			c.press("o:" + st.Options[0].ID)
			c.press("d")
		case KindScale:
			lo, _ := st.Bounds()
			c.press("o:" + strconv.Itoa(lo+2))
		case KindPause:
			c.send(Input{Kind: InputTimer, Now: r.WakeAt})
		default:
			c.t.Fatalf("waiting at %q of kind %q", st.ID, st.Kind)
		}
	}
	if id != "" && (c.st.Run == nil || c.st.Run.Step != id) {
		c.t.Fatalf("did not reach step %q", id)
	}
}

// finish answers simply until the exercise ends.
func (c *convo) finish() {
	c.t.Helper()
	c.advanceTo("")
	if c.last.Ended == nil {
		c.t.Fatal("the exercise did not end")
	}
}

// sameState reports whether two states save the same.
func sameState(t testing.TB, a, b State) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}

// msgs returns the texts of the messages sent (edits left out).
func msgs(out Output) []string {
	var s []string
	for _, m := range out.Messages {
		if !m.Edit {
			s = append(s, m.Text)
		}
	}
	return s
}

// said reports whether one of the messages contains want.
func said(out Output, want string) bool {
	for _, m := range msgs(out) {
		if strings.Contains(m, want) {
			return true
		}
	}
	return false
}

// actions lists the actions (data without the nonce) of a message's buttons.
func actions(m Message) []string {
	var a []string
	for _, row := range m.Buttons {
		for _, b := range row {
			_, act, _ := strings.Cut(b.Data, ".")
			a = append(a, act)
		}
	}
	return a
}

// lastPrompt is the last message with buttons that is not an edit.
func lastPrompt(out Output) (Message, bool) {
	for i := len(out.Messages) - 1; i >= 0; i-- {
		if m := out.Messages[i]; !m.Edit && len(m.Buttons) > 0 {
			return m, true
		}
	}
	return Message{}, false
}

func txt(e *Engine, key, lang string, pairs ...string) string {
	s := e.Library().Text(key, lang)
	return strings.NewReplacer(pairs...).Replace(s)
}

func TestOnboarding(t *testing.T) {
	e := probeEngine(t)
	lib := e.Library()
	tests := []struct {
		name  string
		hint  string
		do    func(c *convo) Output
		lang  string
		stage Stage
		// consent is checked when stage is ready
		consent bool
		want    []string // texts that must be among the messages
		check   func(t *testing.T, c *convo, out Output)
	}{
		{
			name: "Dutch from the client's language", hint: "nl-NL",
			do:   func(c *convo) Output { return c.command("/start") },
			lang: "nl", stage: StageConsent,
			want: []string{lib.Text("welcome", "nl"), lib.Text("consent.ask", "nl")},
		},
		{
			name: "English from the client's language", hint: "en-GB",
			do:   func(c *convo) Output { return c.command("/start") },
			lang: "en", stage: StageConsent,
			want: []string{lib.Text("welcome", "en"), lib.Text("consent.ask", "en")},
		},
		{
			name: "unknown language falls back to Dutch", hint: "fr",
			do:   func(c *convo) Output { return c.text("bonjour") },
			lang: "nl", stage: StageConsent,
			want: []string{lib.Text("welcome", "nl")},
			check: func(t *testing.T, c *convo, out Output) {
				if out.Heard != "bonjour" || !out.FreeText {
					t.Errorf("heard %q free %v", out.Heard, out.FreeText)
				}
			},
		},
		{
			name: "consent yes by button",
			do: func(c *convo) Output {
				c.command("/start")
				return c.press("c:y")
			},
			lang: "nl", stage: StageReady, consent: true,
			want: []string{lib.Text("consent.thanks_yes", "nl"), lib.Text("menu.first", "nl")},
			check: func(t *testing.T, c *convo, out Output) {
				if !out.ConsentChanged || !c.st.Menu || out.Heard != lib.Text("consent.yes", "nl") {
					t.Errorf("changed %v menu %v heard %q", out.ConsentChanged, c.st.Menu, out.Heard)
				}
			},
		},
		{
			name: "consent no by button",
			do: func(c *convo) Output {
				c.command("/start")
				return c.press("c:n")
			},
			lang: "nl", stage: StageReady, consent: false,
			want: []string{lib.Text("consent.thanks_no", "nl"), lib.Text("menu.first", "nl")},
			check: func(t *testing.T, c *convo, out Output) {
				if !out.ConsentChanged {
					t.Error("ConsentChanged not set for a first answer of no")
				}
			},
		},
		{
			name: "typed yes",
			do: func(c *convo) Output {
				c.command("/start")
				return c.text("Ja!")
			},
			lang: "nl", stage: StageReady, consent: true,
			want: []string{lib.Text("consent.thanks_yes", "nl")},
		},
		{
			name: "typed no", hint: "en",
			do: func(c *convo) Output {
				c.command("/start")
				return c.text("no")
			},
			lang: "en", stage: StageReady, consent: false,
			want: []string{lib.Text("consent.thanks_no", "en")},
		},
		{
			name: "anything else asks again",
			do: func(c *convo) Output {
				c.command("/start")
				return c.text("wat is dit?")
			},
			lang: "nl", stage: StageConsent,
			want: []string{lib.Text("consent.first", "nl"), lib.Text("consent.ask_short", "nl")},
		},
		{
			name: "language button welcomes again in the other language",
			do: func(c *convo) Output {
				c.command("/start")
				return c.press("l:en")
			},
			lang: "en", stage: StageConsent,
			want: []string{lib.Text("welcome", "en"), lib.Text("consent.ask", "en")},
			check: func(t *testing.T, c *convo, out Output) {
				if !out.LangChanged {
					t.Error("LangChanged not set")
				}
			},
		},
		{
			name: "language command",
			do: func(c *convo) Output {
				c.command("/start")
				return c.command("/taal english")
			},
			lang: "en", stage: StageConsent,
			want: []string{lib.Text("welcome", "en")},
		},
		{
			name: "language command without a language asks",
			do: func(c *convo) Output {
				c.command("/start")
				return c.command("/language")
			},
			lang: "nl", stage: StageConsent,
			want: []string{lib.Text("lang.ask", "nl")},
		},
		{
			name: "help during onboarding",
			do: func(c *convo) Output {
				c.command("/start")
				return c.command("/help")
			},
			lang: "nl", stage: StageConsent,
			want: []string{lib.Text("help", "nl"), lib.Text("consent.ask", "nl")},
		},
		{
			name: "stale consent button",
			do: func(c *convo) Output {
				c.command("/start")
				old, _ := c.button("c:y")
				c.press("l:en")
				return c.send(Input{Kind: InputButton, Data: old.Data})
			},
			lang: "en", stage: StageConsent,
			want: []string{lib.Text("consent.ask_short", "en")},
			check: func(t *testing.T, c *convo, out Output) {
				if out.Notice != lib.Text("button.stale", "en") {
					t.Errorf("notice %q", out.Notice)
				}
			},
		},
		{
			name: "safety before onboarding answers and keeps the stage",
			do: func(c *convo) Output {
				c.command("/start")
				return c.send(Input{Kind: InputSafety, Text: "Bel 113."})
			},
			lang: "nl", stage: StageConsent,
			want: []string{"Bel 113."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConvo(t, e)
			c.hint = tt.hint
			out := tt.do(c)
			if c.st.Lang != tt.lang || c.st.Stage != tt.stage {
				t.Errorf("lang %q stage %q, want %q %q", c.st.Lang, c.st.Stage, tt.lang, tt.stage)
			}
			if tt.stage == StageReady && c.st.Consent != tt.consent {
				t.Errorf("consent %v, want %v", c.st.Consent, tt.consent)
			}
			got := msgs(out)
			for _, w := range tt.want {
				found := false
				for _, m := range got {
					if m == strings.TrimSpace(w) {
						found = true
					}
				}
				if !found {
					t.Errorf("missing message %q in %q", w, got)
				}
			}
			if tt.check != nil {
				tt.check(t, c, out)
			}
		})
	}
}

func TestNoConsentKeepsNoWords(t *testing.T) {
	e := probeEngine(t, WithLLM(true))
	c := startProbe(t, e, false)
	out := c.text("Mijn partner belde niet terug.")
	if a := c.st.Run.Answers["story"]; !a.Withheld || a.Text != "" {
		t.Fatalf("story answer %+v, want withheld without text", a)
	}
	if out.Reflect != nil {
		t.Error("a reflective reply was asked for without consent")
	}
	withheld := e.Library().Text("answer.withheld_mark", "nl")
	if !said(out, "Je schreef: "+withheld) {
		t.Errorf("reflection does not show %q: %q", withheld, msgs(out))
	}
	c.finish()
	if !said(c.last, "story="+withheld) || !said(c.last, "deep="+withheld) {
		t.Errorf("summary does not mark withheld text: %q", msgs(c.last))
	}
}

func TestCommands(t *testing.T) {
	e := probeEngine(t)
	lib := e.Library()
	var titles []string
	for _, s := range lib.Scripts() {
		if !s.Hidden {
			titles = append(titles, s.Title.In("nl"))
		}
	}
	tests := []struct {
		name    string
		cmd     string
		want    string
		menu    bool
		unknown bool
	}{
		{name: "help", cmd: "/help", want: lib.Text("help", "nl")},
		{name: "hulp", cmd: "/hulp", want: lib.Text("help", "nl")},
		{name: "exercises", cmd: "/exercises", want: lib.Text("menu.pick", "nl"), menu: true},
		{name: "oefeningen", cmd: "/oefeningen", want: lib.Text("menu.pick", "nl"), menu: true},
		{name: "start", cmd: "/start", want: lib.Text("start.back", "nl"), menu: true},
		{name: "unknown command", cmd: "/bestaatniet", want: lib.Text("command.unknown", "nl"), unknown: true},
		{name: "language with an argument", cmd: "/language en", want: lib.Text("lang.set", "en")},
		{name: "language with a bad argument asks", cmd: "/language klingon", want: lib.Text("lang.ask", "nl")},
		{name: "stop with nothing running", cmd: "/stop", want: lib.Text("stop.nothing", "nl")},
		{name: "skip with nothing running", cmd: "/skip", want: lib.Text("skip.nothing", "nl")},
		{name: "resume with nothing running", cmd: "/resume", want: lib.Text("resume.nothing", "nl"), menu: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConvo(t, e)
			c.onboard("nl", true)
			out := c.command(tt.cmd)
			if !said(out, strings.TrimSpace(tt.want)) {
				t.Errorf("messages %q, want %q", msgs(out), tt.want)
			}
			if out.Unknown != tt.unknown {
				t.Errorf("unknown %v, want %v", out.Unknown, tt.unknown)
			}
			if out.Heard != "/"+strings.Fields(tt.cmd[1:])[0] {
				t.Errorf("heard %q", out.Heard)
			}
			if tt.menu {
				if !c.st.Menu {
					t.Error("the menu is not marked as the latest buttons")
				}
				m, _ := lastPrompt(out)
				var got []string
				for _, row := range m.Buttons {
					got = append(got, row[0].Label)
				}
				if !reflect.DeepEqual(got, titles) {
					t.Errorf("menu %q, want %q", got, titles)
				}
			}
		})
	}
}

func TestStopResume(t *testing.T) {
	e := probeEngine(t)
	lib := e.Library()
	tests := []struct {
		name string
		at   string
	}{
		{name: "at a scale", at: "level"},
		{name: "at a choice", at: "pick"},
		{name: "at a pause", at: "wait"},
		{name: "at a text", at: "deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startProbe(t, e, true)
			c.advanceTo(tt.at)
			answers := len(c.st.Run.Answers)
			out := c.command("/stop")
			r := c.st.Run
			if !r.Stopped || r.StoppedBy != "person" || !r.WakeAt.IsZero() || c.st.WakeAt() != (time.Time{}) {
				t.Fatalf("after /stop: %+v", r)
			}
			if !said(out, txt(e, "stop.done", "nl", "{title}", "Proefoefening")) {
				t.Errorf("stop messages %q", msgs(out))
			}
			// a timer, text and a stale button while stopped change nothing
			before := c.st
			if out := c.send(Input{Kind: InputTimer, Now: c.now.Add(time.Hour)}); len(out.Messages) > 0 || !sameState(t, before, c.st) {
				t.Errorf("timer while stopped: %q", msgs(out))
			}
			out = c.text("hallo")
			if !said(out, txt(e, "text.stopped", "nl", "{title}", "Proefoefening")) {
				t.Errorf("text while stopped: %q", msgs(out))
			}
			out = c.command("/resume")
			if c.st.Run.Stopped || c.st.Run.Step != tt.at || len(c.st.Run.Answers) != answers {
				t.Fatalf("after /resume: %+v", c.st.Run)
			}
			if !said(out, txt(e, "resume.back", "nl", "{title}", "Proefoefening")) {
				t.Errorf("resume messages %q", msgs(out))
			}
			st, _ := lib.Script("probe")
			step, _ := st.StepByID(tt.at)
			if !said(out, step.Say.In("nl")) {
				t.Errorf("the question of %q is not asked again: %q", tt.at, msgs(out))
			}
			if step.Kind == KindPause && !c.st.Run.WakeAt.Equal(c.now.Add(60*time.Second)) {
				t.Errorf("pause wakes at %v after resuming at %v", c.st.Run.WakeAt, c.now)
			}
		})
	}
}

func TestResumeFromMenuAndReplace(t *testing.T) {
	e := probeEngine(t)
	c := startProbe(t, e, true)
	c.advanceTo("level")
	c.command("/exercises")
	if _, ok := c.button("r"); !ok {
		t.Fatal("the menu has no resume button during an exercise")
	}
	// a step button of the earlier question is stale now
	before := c.st
	out := c.send(Input{Kind: InputButton, Data: strconv.Itoa(c.st.Prompt-1) + ".o:5"})
	if out.Notice != e.Library().Text("button.stale", "nl") || !sameState(t, before, c.st) {
		t.Errorf("old step button after the menu: notice %q", out.Notice)
	}
	c.press("r")
	if c.st.Menu || c.st.Run.Step != "level" {
		t.Fatalf("resume button: menu %v step %q", c.st.Menu, c.st.Run.Step)
	}
	c.command("/exercises")
	out = c.press("x:grounding")
	if !said(out, txt(e, "exercise.replaced", "nl", "{title}", "Proefoefening")) || c.st.Run.Exercise != "grounding" {
		t.Errorf("starting another exercise: %q", msgs(out))
	}
}

func TestSkip(t *testing.T) {
	e := probeEngine(t)
	lib := e.Library()
	tests := []struct {
		name    string
		at      string
		button  bool
		next    string
		skipped bool // an answer marked skipped is kept
		refused bool
		// noButton: skippable by /skip, but the question shows no skip button
		noButton bool
	}{
		{name: "text", at: "story", next: "pick", skipped: true},
		{name: "choice by button", at: "pick", button: true, next: "many", skipped: true},
		{name: "multi", at: "many", next: "level", skipped: true},
		{name: "scale", at: "level", next: "wait", skipped: true},
		{name: "pause by command", at: "wait", next: "deep", noButton: true},
		{name: "deep text by button", at: "deep", button: true, next: "must", skipped: true},
		{name: "not skippable", at: "must", next: "must", refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startProbe(t, e, true)
			c.advanceTo(tt.at)
			if _, ok := c.button("s"); ok == (tt.refused || tt.noButton) {
				t.Errorf("skip button shown: %v", ok)
			}
			var out Output
			if tt.button {
				out = c.press("s")
			} else {
				out = c.command("/skip")
			}
			if c.st.Run.Step != tt.next {
				t.Errorf("at %q after skipping, want %q", c.st.Run.Step, tt.next)
			}
			a, ok := c.st.Run.Answers[tt.at]
			if tt.skipped != (ok && a.Skipped) {
				t.Errorf("answer %+v (%v)", a, ok)
			}
			switch {
			case tt.refused:
				if !said(out, lib.Text("skip.not_allowed", "nl")) {
					t.Errorf("messages %q", msgs(out))
				}
			case tt.skipped:
				if !said(out, lib.Text("skip.ok", "nl")) || out.Heard != lib.Text("skip.heard", "nl") || out.Step != tt.at {
					t.Errorf("messages %q heard %q step %q", msgs(out), out.Heard, out.Step)
				}
			}
		})
	}
	t.Run("skipped answers read back", func(t *testing.T) {
		c := startProbe(t, e, true)
		c.command("/skip")
		c.finish()
		if !said(c.last, "story="+lib.Text("answer.skipped_mark", "nl")) {
			t.Errorf("summary %q", msgs(c.last))
		}
	})
}

func TestButtonsThatChangeNothing(t *testing.T) {
	e := probeEngine(t)
	lib := e.Library()
	tests := []struct {
		name   string
		at     string
		data   func(c *convo) string
		notice string
	}{
		{name: "older nonce", at: "pick", notice: "button.stale",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt-1) + ".o:apple" }},
		{name: "newer nonce", at: "pick", notice: "button.stale",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt+1) + ".o:apple" }},
		{name: "garbage", at: "pick", notice: "button.unknown",
			data: func(*convo) string { return "hello there" }},
		{name: "empty", at: "pick", notice: "button.unknown",
			data: func(*convo) string { return "" }},
		{name: "zero nonce", at: "pick", notice: "button.unknown",
			data: func(*convo) string { return "0.o:apple" }},
		{name: "unknown action", at: "pick", notice: "button.unknown",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".z:apple" }},
		{name: "longer than 64 bytes", at: "pick", notice: "button.unknown",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".o:" + strings.Repeat("a", 64) }},
		{name: "unknown option", at: "pick", notice: "button.unknown",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".o:banana" }},
		{name: "unknown option of a multi", at: "many", notice: "button.unknown",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".o:purple" }},
		{name: "done on a choice", at: "pick", notice: "button.stale",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".d" }},
		{name: "done with nothing selected", at: "many", notice: "multi.none",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".d" }},
		{name: "ready on a scale", at: "level", notice: "button.stale",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".w" }},
		{name: "scale above the range", at: "level", notice: "button.unknown",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".o:11" }},
		{name: "scale below the range", at: "must", notice: "button.unknown",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".o:0" }},
		{name: "negative scale", at: "level", notice: "button.unknown",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".o:-1" }},
		{name: "scale not a number", at: "level", notice: "button.unknown",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".o:seven" }},
		{name: "option on a text step", at: "story", notice: "button.stale",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".o:apple" }},
		{name: "unknown exercise", at: "pick", notice: "button.unknown",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".x:nothing" }},
		{name: "unknown language", at: "pick", notice: "button.unknown",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".l:fr" }},
		{name: "done carrying an argument", at: "many", notice: "button.unknown",
			data: func(c *convo) string { return strconv.Itoa(c.st.Prompt) + ".d:x" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startProbe(t, e, true)
			c.advanceTo(tt.at)
			before := copyState(c.st)
			out := c.send(Input{Kind: InputButton, Data: tt.data(c)})
			if !sameState(t, before, c.st) {
				t.Errorf("state changed:\nbefore %+v\nafter  %+v", before.Run, c.st.Run)
			}
			if len(out.Messages) > 0 {
				t.Errorf("messages sent: %q", msgs(out))
			}
			if want := lib.Text(tt.notice, "nl"); out.Notice != want {
				t.Errorf("notice %q, want %q", out.Notice, want)
			}
		})
	}
}

func TestMultiToggle(t *testing.T) {
	e := probeEngine(t)
	c := startProbe(t, e, true)
	c.advanceTo("many")
	prompt := c.st.Prompt
	out := c.press("o:red")
	c.press("o:blue")
	out = c.press("o:red") // off again
	if !reflect.DeepEqual(c.st.Run.Selected, []string{"blue"}) || c.st.Prompt != prompt {
		t.Fatalf("selected %v prompt %d", c.st.Run.Selected, c.st.Prompt)
	}
	if len(out.Messages) != 1 || !out.Messages[0].Edit || out.Messages[0].Prompt != prompt {
		t.Fatalf("toggle output %+v", out.Messages)
	}
	var labels []string
	for _, row := range out.Messages[0].Buttons {
		for _, b := range row {
			labels = append(labels, b.Label)
		}
	}
	if !reflect.DeepEqual(labels, []string{"Rood", "Groen", "✓ Blauw", "Klaar ✔", "Overslaan"}) {
		t.Errorf("buttons after toggling: %q", labels)
	}
	// /stop keeps the selection; /resume shows it again
	c.command("/stop")
	out = c.command("/resume")
	m, _ := lastPrompt(out)
	labels = nil
	for _, row := range m.Buttons {
		for _, b := range row {
			labels = append(labels, b.Label)
		}
	}
	if !reflect.DeepEqual(labels, []string{"Rood", "Groen", "✓ Blauw", "Klaar ✔", "Overslaan"}) {
		t.Errorf("selection not shown after resuming: %q", labels)
	}
	c.press("d")
	if a := c.st.Run.Answers["many"]; !reflect.DeepEqual(a.Options, []string{"blue"}) || c.st.Run.Selected != nil {
		t.Errorf("answer %+v selected %v", a, c.st.Run.Selected)
	}
}

func TestTypedAnswers(t *testing.T) {
	e := probeEngine(t, WithMaxText(20))
	lib := e.Library()
	tests := []struct {
		name  string
		at    string
		text  string
		want  *Answer // nil: not answered, the run stays
		reply string  // a system text key expected among the messages
		heard string
	}{
		{name: "choice by number", at: "pick", text: "2", want: &Answer{Options: []string{"pear"}}, heard: "peer"},
		{name: "choice by number with a dot", at: "pick", text: "2.", want: &Answer{Options: []string{"pear"}}},
		{name: "choice by label", at: "pick", text: "Peer", want: &Answer{Options: []string{"pear"}}},
		{name: "choice by label in the other language", at: "pick", text: "pear!", want: &Answer{Options: []string{"pear"}}},
		{name: "choice number out of range", at: "pick", text: "4", reply: "answer.choice"},
		{name: "choice number zero", at: "pick", text: "0", reply: "answer.choice"},
		{name: "choice not an option", at: "pick", text: "banaan", reply: "answer.choice"},
		{name: "multi by numbers with a comma", at: "many", text: "1, 3", want: &Answer{Options: []string{"red", "blue"}}, heard: "rood, blauw"},
		{name: "multi by numbers with spaces", at: "many", text: "3 1", want: &Answer{Options: []string{"blue", "red"}}},
		{name: "multi by labels", at: "many", text: "groen; Rood", want: &Answer{Options: []string{"green", "red"}}},
		{name: "multi repeats once", at: "many", text: "2, 2", want: &Answer{Options: []string{"green"}}},
		{name: "multi with a number out of range", at: "many", text: "1, 9", reply: "answer.multi"},
		{name: "multi with nonsense", at: "many", text: "paars", reply: "answer.multi"},
		{name: "scale as 7/10", at: "level", text: "7/10", want: &Answer{Value: ptr(7)}, heard: "7"},
		{name: "scale as a plain number", at: "level", text: " 0 ", want: &Answer{Value: ptr(0)}},
		{name: "scale above the range", at: "level", text: "11", reply: "answer.scale"},
		{name: "scale below the range", at: "level", text: "-1", reply: "answer.scale"},
		{name: "scale in words", at: "level", text: "zeven", reply: "answer.scale"},
		{name: "scale below its own minimum", at: "must", text: "0", reply: "answer.scale"},
		{name: "scale at its own maximum", at: "must", text: "5", want: &Answer{Value: ptr(5)}},
		{name: "text", at: "story", text: "  Hij belde niet.  ", want: &Answer{Text: "Hij belde niet."}, heard: "  Hij belde niet.  "},
		{name: "text of exactly the maximum", at: "story", text: strings.Repeat("é", 20), want: &Answer{Text: strings.Repeat("é", 20)}},
		{name: "empty text", at: "story", text: "   ", reply: "answer.empty"},
		{name: "over-long text", at: "story", text: strings.Repeat("é", 21), reply: "answer.too_long"},
		{name: "text during a pause", at: "wait", text: "ben je er nog?", reply: "pause.wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startProbe(t, e, true)
			c.advanceTo(tt.at)
			before := copyState(c.st)
			out := c.text(tt.text)
			if tt.want == nil {
				if !sameState(t, before, c.st) {
					t.Errorf("state changed: %+v", c.st.Run)
				}
				want := lib.Text(tt.reply, "nl")
				want = want[:strings.IndexAny(want+"{", "{")]
				if !said(out, strings.TrimSpace(want)) {
					t.Errorf("messages %q, want %q", msgs(out), want)
				}
				if tt.reply == "answer.too_long" {
					if out.Heard != "" {
						t.Errorf("an over-long text is heard: %q", out.Heard)
					}
					if !said(out, "21") || !said(out, "20") {
						t.Errorf("too long message lacks the counts: %q", msgs(out))
					}
				}
				return
			}
			got, ok := c.st.Run.Answers[tt.at]
			if !ok || !reflect.DeepEqual(got, *tt.want) {
				t.Errorf("answer %+v, want %+v", got, *tt.want)
			}
			if c.st.Run.Step == tt.at {
				t.Errorf("still at %q", tt.at)
			}
			if tt.heard != "" && out.Heard != tt.heard {
				t.Errorf("heard %q, want %q", out.Heard, tt.heard)
			}
			if out.Exercise != "probe" || out.Step != tt.at {
				t.Errorf("located at %q/%q", out.Exercise, out.Step)
			}
		})
	}
}

func ptr(v int) *int { return &v }

func TestUnsupportedInput(t *testing.T) {
	e := probeEngine(t)
	c := startProbe(t, e, true)
	c.advanceTo("pick")
	before := copyState(c.st)
	out := c.send(Input{Kind: InputUnsupported, Text: "sticker"})
	if !sameState(t, before, c.st) || !said(out, e.Library().Text("input.unsupported", "nl")) {
		t.Errorf("unsupported input: %q", msgs(out))
	}
	out = c.send(Input{Kind: InputKind(99)})
	if !sameState(t, before, c.st) || !out.Unknown || len(out.Messages) > 0 {
		t.Errorf("unknown input kind: %+v", out)
	}
}

func TestTimer(t *testing.T) {
	tests := []struct {
		name  string
		scale float64
		wait  time.Duration
	}{
		{name: "real time", scale: 1, wait: 60 * time.Second},
		{name: "half time", scale: 0.5, wait: 30 * time.Second},
		{name: "a hundredth", scale: 0.01, wait: 600 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := probeEngine(t, WithPauseScale(tt.scale))
			if e.PauseScale() != tt.scale {
				t.Fatalf("PauseScale %v", e.PauseScale())
			}
			c := startProbe(t, e, true)
			c.advanceTo("level")
			c.press("o:3")
			entered := c.now
			wake := c.st.WakeAt()
			if !wake.Equal(entered.Add(tt.wait)) {
				t.Fatalf("wakes at %v, want %v", wake, entered.Add(tt.wait))
			}
			before := copyState(c.st)
			out := c.send(Input{Kind: InputTimer, Now: wake.Add(-time.Millisecond)})
			if len(out.Messages) > 0 || !sameState(t, before, c.st) {
				t.Fatalf("an early timer did something: %q", msgs(out))
			}
			out = c.send(Input{Kind: InputTimer, Now: wake})
			if got := msgs(out); len(got) != 2 || got[0] != "De tijd is om." || got[1] != "Hoe was het vroeger?" {
				t.Fatalf("timer at the wake time: %q", got)
			}
			if c.st.Run.Step != "deep" || !c.st.WakeAt().IsZero() {
				t.Fatalf("after the timer: step %q wake %v", c.st.Run.Step, c.st.WakeAt())
			}
			// a timer delivered twice does nothing the second time
			before = copyState(c.st)
			if out := c.send(Input{Kind: InputTimer, Now: wake.Add(time.Second)}); len(out.Messages) > 0 || !sameState(t, before, c.st) {
				t.Errorf("a repeated timer did something: %q", msgs(out))
			}
		})
	}
	t.Run("ready button ends the pause early", func(t *testing.T) {
		c := startProbe(t, probeEngine(t), true)
		c.advanceTo("wait")
		out := c.press("w")
		if c.st.Run.Step != "deep" || !c.st.WakeAt().IsZero() || out.Heard != c.e.Library().Text("pause.ready", "nl") {
			t.Errorf("after ready: step %q heard %q", c.st.Run.Step, out.Heard)
		}
	})
	t.Run("no run", func(t *testing.T) {
		c := newConvo(t, probeEngine(t))
		c.onboard("nl", true)
		before := copyState(c.st)
		if out := c.send(Input{Kind: InputTimer}); len(out.Messages) > 0 || !sameState(t, before, c.st) {
			t.Errorf("timer without a run: %q", msgs(out))
		}
	})
}

func TestReflection(t *testing.T) {
	e := probeEngine(t, WithLLM(true))
	lib := e.Library()

	t.Run("request, wrong token, right token", func(t *testing.T) {
		c := startProbe(t, e, true)
		c.advanceTo("many")
		c.command("/skip")
		c.advanceTo("deep")
		question := c.st.Prompt
		out := c.text("Ik was vaak alleen.")
		req := out.Reflect
		if req == nil {
			t.Fatal("no reflection request")
		}
		want := ReflectRequest{
			Token: question, Exercise: "probe", Step: "deep", Lang: "nl",
			Question: "Hoe was het vroeger?", Answer: "Ik was vaak alleen.",
			Fallback: "Dank je voor Ik was vaak alleen..",
			Earlier: []QA{
				{Question: "Wat is er gebeurd?", Answer: "iets"},
				{Question: "Welk fruit?", Answer: "appel"},
				// "many" was skipped and is left out
				{Question: "Hoe sterk?", Answer: "2"},
			},
		}
		if !reflect.DeepEqual(*req, want) {
			t.Fatalf("request\n got %+v\nwant %+v", *req, want)
		}
		if c.st.Run.Awaiting != question || c.st.Run.Answers["deep"].Text != "Ik was vaak alleen." {
			t.Fatalf("run %+v", c.st.Run)
		}
		if got := msgs(out); len(got) != 0 {
			t.Errorf("messages while the reply is written: %q", got)
		}
		// buttons and /skip wait for the reply too
		before := copyState(c.st)
		if out := c.command("/skip"); !said(out, lib.Text("skip.nothing", "nl")) || !sameState(t, before, c.st) {
			t.Errorf("/skip while awaiting: %q", msgs(out))
		}
		for _, token := range []int{question + 1, question - 1, 0} {
			if out := c.send(Input{Kind: InputReflection, Token: token, Text: "verkeerd"}); len(out.Messages) > 0 || !sameState(t, before, c.st) {
				t.Errorf("token %d: %q", token, msgs(out))
			}
		}
		out = c.send(Input{Kind: InputReflection, Token: question, Text: "Dat klinkt eenzaam."})
		if got := msgs(out); len(got) != 2 || got[0] != "Dat klinkt eenzaam." || got[1] != "Van 1 tot 5?" {
			t.Fatalf("after the reply: %q", got)
		}
		if c.st.Run.Awaiting != 0 || c.st.Run.Step != "must" {
			t.Fatalf("run %+v", c.st.Run)
		}
		// the same reply delivered again changes nothing
		before = copyState(c.st)
		if out := c.send(Input{Kind: InputReflection, Token: question, Text: "nog eens"}); len(out.Messages) > 0 || !sameState(t, before, c.st) {
			t.Errorf("repeated reply: %q", msgs(out))
		}
	})

	t.Run("empty reply uses the scripted reflection", func(t *testing.T) {
		c := startProbe(t, e, true)
		out := c.text("Ruzie.")
		out = c.send(Input{Kind: InputReflection, Token: out.Reflect.Token})
		if got := msgs(out); len(got) != 2 || got[0] != "Je schreef: Ruzie." {
			t.Errorf("messages %q", got)
		}
	})

	t.Run("text while awaiting falls back", func(t *testing.T) {
		c := startProbe(t, e, true)
		c.text("Ruzie.")
		out := c.text("hallo?")
		if got := msgs(out); len(got) != 2 || got[0] != "Je schreef: Ruzie." || got[1] != "Welk fruit?" {
			t.Errorf("messages %q", got)
		}
		if c.st.Run.Answers["story"].Text != "Ruzie." || c.st.Run.Awaiting != 0 {
			t.Errorf("run %+v", c.st.Run)
		}
	})

	t.Run("stop while awaiting moves on silently", func(t *testing.T) {
		c := startProbe(t, e, true)
		out := c.text("Ruzie.")
		token := out.Reflect.Token
		c.command("/stop")
		if c.st.Run.Awaiting != 0 || c.st.Run.Step != "pick" {
			t.Fatalf("run %+v", c.st.Run)
		}
		before := copyState(c.st)
		if out := c.send(Input{Kind: InputReflection, Token: token, Text: "te laat"}); len(out.Messages) > 0 || !sameState(t, before, c.st) {
			t.Errorf("late reply: %q", msgs(out))
		}
		if out := c.command("/resume"); !said(out, "Welk fruit?") {
			t.Errorf("resume %q", msgs(out))
		}
	})

	t.Run("scripted without the LLM", func(t *testing.T) {
		c := startProbe(t, probeEngine(t), true)
		out := c.text("Ruzie.")
		if out.Reflect != nil || !said(out, "Je schreef: Ruzie.") {
			t.Errorf("reflect %+v messages %q", out.Reflect, msgs(out))
		}
	})
}

func TestSafety(t *testing.T) {
	e := probeEngine(t, WithLLM(true))
	lib := e.Library()
	const reply = "Wat je schrijft klinkt ernstig. Bel 113."

	t.Run("stops the run", func(t *testing.T) {
		c := startProbe(t, e, true)
		c.advanceTo("wait")
		out := c.send(Input{Kind: InputSafety, Text: reply})
		r := c.st.Run
		if !r.Stopped || r.StoppedBy != "safety" || !r.WakeAt.IsZero() {
			t.Fatalf("run %+v", r)
		}
		m, ok := lastPrompt(out)
		if !ok || m.Text != reply || !reflect.DeepEqual(actions(m), []string{"x:grounding", "p"}) {
			t.Fatalf("safety message %+v", m)
		}
		if !out.Messages[0].Edit {
			t.Error("the old question keeps its buttons")
		}
		before := copyState(c.st)
		if out := c.send(Input{Kind: InputTimer, Now: c.now.Add(time.Hour)}); len(out.Messages) > 0 || !sameState(t, before, c.st) {
			t.Errorf("timer after safety: %q", msgs(out))
		}
		out = c.press("x:grounding")
		if c.st.Run == nil || c.st.Run.Exercise != "grounding" || out.Started != "grounding" {
			t.Fatalf("grounding did not start: %+v", c.st.Run)
		}
	})

	t.Run("pause button", func(t *testing.T) {
		c := startProbe(t, e, true)
		c.advanceTo("pick")
		c.send(Input{Kind: InputSafety, Text: reply})
		out := c.press("p")
		// A safety stop stays one: pausing does not make the exercise resumable.
		if !said(out, lib.Text("pause.ok_norun", "nl")) || !c.st.Run.Stopped || c.st.Run.StoppedBy != "safety" {
			t.Errorf("pause %q run %+v", msgs(out), c.st.Run)
		}
		out = c.command("/resume")
		if c.st.Run != nil || !said(out, lib.Text("resume.after_safety", "nl")) {
			t.Errorf("resume after safety %q run %+v", msgs(out), c.st.Run)
		}
	})

	t.Run("while a reflection is written", func(t *testing.T) {
		c := startProbe(t, e, true)
		token := c.text("Ruzie.").Reflect.Token
		c.send(Input{Kind: InputSafety, Text: reply})
		if c.st.Run.Awaiting != 0 {
			t.Fatal("still awaiting a reflection")
		}
		before := copyState(c.st)
		if out := c.send(Input{Kind: InputReflection, Token: token, Text: "x"}); len(out.Messages) > 0 || !sameState(t, before, c.st) {
			t.Errorf("reflection after safety: %q", msgs(out))
		}
	})

	t.Run("without a run", func(t *testing.T) {
		c := newConvo(t, e)
		c.onboard("nl", true)
		out := c.send(Input{Kind: InputSafety, Text: reply})
		m, ok := lastPrompt(out)
		if !ok || m.Text != reply || c.st.Run != nil {
			t.Errorf("safety without a run: %+v", out.Messages)
		}
		out = c.press("p")
		if !said(out, lib.Text("pause.ok_norun", "nl")) {
			t.Errorf("pause %q", msgs(out))
		}
	})
}

func TestConcern(t *testing.T) {
	e := probeEngine(t)
	lib := e.Library()
	const concern = "Het klinkt alsof het heel zwaar is."

	c := startProbe(t, e, true)
	c.advanceTo("deep")
	out := c.send(Input{Kind: InputText, Text: "Niemand was er.", Concern: concern})
	r := c.st.Run
	if !r.Held || r.Step != "must" || r.Answers["deep"].Text != "Niemand was er." {
		t.Fatalf("run %+v", r)
	}
	m, ok := lastPrompt(out)
	if !ok || m.Text != concern || !reflect.DeepEqual(actions(m), []string{"k", "x:grounding", "p"}) {
		t.Fatalf("concern message %+v", out.Messages)
	}
	if said(out, "Van 1 tot 5?") {
		t.Error("the next question was asked before the person chose")
	}
	before := copyState(c.st)
	out = c.text("en nu?")
	if !said(out, lib.Text("text.held", "nl")) || !sameState(t, before, c.st) {
		t.Errorf("text while held: %q", msgs(out))
	}
	if out := c.command("/skip"); !said(out, lib.Text("skip.nothing", "nl")) {
		t.Errorf("/skip while held: %q", msgs(out))
	}
	out = c.press("k")
	if c.st.Run.Held || c.st.Run.Step != "must" || !said(out, "Van 1 tot 5?") {
		t.Errorf("go on: run %+v messages %q", c.st.Run, msgs(out))
	}

	t.Run("without a run", func(t *testing.T) {
		c := newConvo(t, e)
		c.onboard("nl", true)
		out := c.send(Input{Kind: InputText, Text: "Ik kan niet meer.", Concern: concern})
		if m, ok := lastPrompt(out); !ok || m.Text != concern {
			t.Fatalf("concern without a run: %+v", out.Messages)
		}
		out = c.press("k")
		if !said(out, lib.Text("resume.nothing", "nl")) {
			t.Errorf("go on without a run: %q", msgs(out))
		}
	})
}

func TestElevated(t *testing.T) {
	tests := []struct {
		name   string
		opts   []EngineOption
		scales [2]int
		flag   bool
	}{
		{name: "twice 9 or more", opts: []EngineOption{WithElevated(func(l string) string { return "Steun (" + l + ")" })}, scales: [2]int{9, 10}, flag: true},
		{name: "once 9", opts: []EngineOption{WithElevated(func(l string) string { return "Steun (" + l + ")" })}, scales: [2]int{9, 8}},
		{name: "without a supportive message", scales: [2]int{10, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := probeEngine(t, tt.opts...)
			c := startProbe(t, e, true)
			c.advanceTo("level")
			c.press("o:" + strconv.Itoa(tt.scales[0]))
			c.advanceTo("again")
			out := c.press("o:" + strconv.Itoa(tt.scales[1]))
			want := []Flag(nil)
			if tt.flag {
				want = []Flag{{Level: "elevated", Rule: "intensity.repeated_high"}}
			}
			if !reflect.DeepEqual(out.Flags, want) {
				t.Fatalf("flags %+v, want %+v", out.Flags, want)
			}
			if tt.flag {
				if m, ok := lastPrompt(out); !ok || m.Text != "Steun (nl)" || !c.st.Run.Held {
					t.Fatalf("no supportive message: %+v", out.Messages)
				}
				if c.st.Run.High != 2 {
					t.Errorf("high %d", c.st.Run.High)
				}
				out = c.press("k")
				if out.Ended == nil || !said(out, "Hoger: 9 naar 10.") {
					t.Errorf("go on after the flag: %q", msgs(out))
				}
				return
			}
			if c.st.Run != nil {
				t.Errorf("the run did not end: %+v", c.st.Run)
			}
		})
	}
}

func TestScriptVersionChange(t *testing.T) {
	e1 := NewEngine(mustLoad(t, filepath.Join("testdata", "version", "v1")))
	e2 := NewEngine(mustLoad(t, filepath.Join("testdata", "version", "v2")))
	s1, _ := e1.Library().Script("shift")
	s2, _ := e2.Library().Script("shift")
	if s1.Version == s2.Version {
		t.Fatal("the two versions hash the same")
	}
	changed := e2.Library().Text("exercise.changed", "nl")

	t.Run("the step still exists", func(t *testing.T) {
		c := newConvo(t, e1)
		c.onboard("nl", true)
		c.press("x:shift")
		c.press("o:4")
		c.e = e2
		out := c.press("o:6")
		r := c.st.Run
		if r.Version != s2.Version || r.Step != "four" || *r.Answers["one"].Value != 4 || *r.Answers["two"].Value != 6 {
			t.Fatalf("run %+v", r)
		}
		if said(out, changed) {
			t.Error("told the person the exercise changed although the step was kept")
		}
	})

	t.Run("the step was removed", func(t *testing.T) {
		c := newConvo(t, e1)
		c.onboard("nl", true)
		c.press("x:shift")
		c.press("o:4")
		c.press("o:6")
		c.command("/stop")
		c.e = e2
		out := c.command("/resume")
		r := c.st.Run
		if r.Version != s2.Version || r.Step != "one" || len(r.Answers) != 0 || r.Stopped {
			t.Fatalf("run %+v", r)
		}
		if !said(out, changed) || !said(out, "Eerste vraag, nieuw?") {
			t.Errorf("messages %q", msgs(out))
		}
	})

	t.Run("the exercise was removed", func(t *testing.T) {
		c := newConvo(t, e1)
		c.onboard("nl", true)
		c.press("x:shift")
		c.e = probeEngine(t)
		out := c.text("5")
		if c.st.Run != nil || !said(out, c.e.Library().Text("exercise.gone", "nl")) {
			t.Errorf("run %+v messages %q", c.st.Run, msgs(out))
		}
	})
}

func TestHandleLeavesInputAlone(t *testing.T) {
	e := probeEngine(t, WithLLM(true), WithElevated(func(string) string { return "steun" }))
	c := startProbe(t, e, true)
	c.advanceTo("many")
	c.press("o:red")
	base := c.st
	inputs := []Input{
		{Kind: InputButton, Data: strconv.Itoa(base.Prompt) + ".o:green"},
		{Kind: InputButton, Data: strconv.Itoa(base.Prompt) + ".o:red"},
		{Kind: InputButton, Data: strconv.Itoa(base.Prompt) + ".d"},
		{Kind: InputText, Text: "1, 2"},
		{Kind: InputCommand, Command: "stop"},
		{Kind: InputCommand, Command: "skip"},
		{Kind: InputSafety, Text: "hulp"},
		{Kind: InputText, Text: "x", Concern: "zorg"},
	}
	for _, in := range inputs {
		want := copyState(base)
		in.Now = t0.Add(time.Hour)
		got, _ := e.Handle(base, in)
		if !reflect.DeepEqual(want, base) {
			t.Errorf("%s %q %q modified its input", in.Kind, in.Data, in.Text)
		}
		if got.Run == base.Run {
			t.Errorf("%s shares the run with its input", in.Kind)
		}
	}
}

func TestInputKindString(t *testing.T) {
	tests := []struct {
		name string
		kind InputKind
		want string
	}{
		{"text", InputText, "text"},
		{"button", InputButton, "button"},
		{"command", InputCommand, "command"},
		{"timer", InputTimer, "timer"},
		{"reflection", InputReflection, "reflection"},
		{"safety", InputSafety, "safety"},
		{"unsupported", InputUnsupported, "unsupported"},
		{"unknown", InputKind(42), "kind(42)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.kind.String(); got != tt.want {
				t.Errorf("got %q", got)
			}
		})
	}
}

func TestLangFromHint(t *testing.T) {
	tests := []struct{ name, hint, want string }{
		{"empty", "", "nl"},
		{"dutch", "nl", "nl"},
		{"flemish", "nl-BE", "nl"},
		{"english upper case", "EN_us", "en"},
		{"german", "de", "nl"},
		{"prefix only", "english", "nl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LangFromHint(tt.hint); got != tt.want {
				t.Errorf("LangFromHint(%q) = %q, want %q", tt.hint, got, tt.want)
			}
		})
	}
}

func TestBranches(t *testing.T) {
	e := probeEngine(t)
	tests := []struct {
		name         string
		level, again int
		many         []string // nil: skipped
		want         string   // the message between the last answer and the summary
	}{
		{name: "higher", level: 2, again: 5, many: []string{"red"}, want: "Hoger: 2 naar 5."},
		{name: "lower and low", level: 5, again: 3, many: []string{"blue"}, want: "Lager: 5 naar 3."},
		{name: "lower but not low, blue chosen", level: 5, again: 4, many: []string{"red", "blue"}, want: "Met blauw."},
		{name: "equal, blue chosen", level: 4, again: 4, many: []string{"blue"}, want: "Met blauw."},
		{name: "equal, blue not chosen", level: 4, again: 4, many: []string{"green"}},
		{name: "equal, colours skipped", level: 4, again: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startProbe(t, e, true)
			c.advanceTo("many")
			if tt.many == nil {
				c.command("/skip")
			} else {
				for _, id := range tt.many {
					c.press("o:" + id)
				}
				c.press("d")
			}
			c.press("o:" + strconv.Itoa(tt.level))
			c.advanceTo("again")
			out := c.press("o:" + strconv.Itoa(tt.again))
			got := msgs(out)
			if out.Ended == nil || len(got) < 2 {
				t.Fatalf("did not end: %q", got)
			}
			between := ""
			if len(got) == 3 {
				between = got[0]
			}
			if between != tt.want {
				t.Errorf("got %q, want %q", between, tt.want)
			}
		})
	}
}

func TestLanguageSwitchDuringExercise(t *testing.T) {
	e := probeEngine(t)
	c := startProbe(t, e, true)
	c.advanceTo("pick")
	c.command("/language")
	out := c.press("l:en")
	if got := msgs(out); len(got) != 2 || got[0] != e.Library().Text("lang.set", "en") || got[1] != "Which fruit?" {
		t.Errorf("messages %q", got)
	}
	if !out.LangChanged || c.st.Lang != "en" || c.st.Run.Step != "pick" {
		t.Errorf("lang %q step %q", c.st.Lang, c.st.Run.Step)
	}
	// without a run, the menu follows
	c.press("o:pear")
	c.command("/stop")
	c.command("/language")
	out = c.press("l:nl")
	if m, ok := lastPrompt(out); !ok || m.Text != e.Library().Text("menu.pick", "nl") {
		t.Errorf("messages %q", msgs(out))
	}
	// the "something else" button of a stopped exercise opens the menu
	c.text("hallo")
	out = c.press("m")
	if !c.st.Menu || !said(out, e.Library().Text("menu.pick", "nl")) {
		t.Errorf("messages %q", msgs(out))
	}
}

func TestLibraryTexts(t *testing.T) {
	lib := mustLoad(t, "")
	tests := []struct {
		name, key, lang, want string
	}{
		{"Dutch", "skip.button", "nl", "Overslaan"},
		{"English", "skip.button", "en", "Skip"},
		{"unknown language falls back to Dutch", "skip.button", "de", "Overslaan"},
		{"unknown key reads as itself", "no.such.key", "nl", "no.such.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lib.Text(tt.key, tt.lang); got != tt.want {
				t.Errorf("Text(%q, %q) = %q, want %q", tt.key, tt.lang, got, tt.want)
			}
			if lib.HasText(tt.key) != (tt.key != "no.such.key") {
				t.Errorf("HasText(%q) = %v", tt.key, lib.HasText(tt.key))
			}
		})
	}
	for _, k := range requiredTexts {
		if !lib.HasText(k) {
			t.Errorf("required text %q is missing", k)
		}
	}
}
