package dialogs

import (
	"os"
	"path/filepath"
	"testing"
)

// These tests describe engine bugs found while writing the tests. They fail
// on purpose until engine.go is fixed.

// A concern (elevated distress) on a text answer of a step with
// `reflect: llm` is dropped: the engine asks for the reflective reply and,
// when it arrives, goes straight to the next step.
func TestBugConcernOnReflectedAnswer(t *testing.T) {
	e := probeEngine(t, WithLLM(true))
	const concern = "Het klinkt alsof het heel zwaar is."
	c := startProbe(t, e, true)
	out := c.send(Input{Kind: InputText, Text: "Ik trek het niet meer.", Concern: concern})
	shown := said(out, concern)
	if out.Reflect != nil {
		out = c.send(Input{Kind: InputReflection, Token: out.Reflect.Token, Text: "Dat is veel."})
		shown = shown || said(out, concern)
	}
	if !shown {
		t.Errorf("the concern message was never shown; messages %q", msgs(out))
	}
	if said(out, "Welk fruit?") && !c.st.Run.Held {
		t.Errorf("the next question was asked without holding first")
	}
}

// When a script changed and the waiting step is gone, current() restarts the
// run at the first step, but text, buttons and /skip are then applied to
// that first step, whose question the person never saw.
func TestBugRestartAppliesInputToFirstStep(t *testing.T) {
	e1 := NewEngine(mustLoad(t, filepath.Join("testdata", "version", "v1")))
	e2 := NewEngine(mustLoad(t, filepath.Join("testdata", "version", "v2")))
	tests := []struct {
		name string
		do   func(c *convo) Output
	}{
		{name: "/skip", do: func(c *convo) Output { return c.command("/skip") }},
		{name: "skip button", do: func(c *convo) Output { return c.press("s") }},
		{name: "text", do: func(c *convo) Output { return c.text("5") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConvo(t, e1)
			c.onboard("nl", true)
			c.press("x:shift")
			c.press("o:4")
			c.press("o:6") // now at "three", which v2 removed
			c.e = e2
			out := tt.do(c)
			r := c.st.Run
			if _, answered := r.Answers["one"]; answered || r.Step != "one" {
				t.Errorf("input applied to the new first step: step %q answers %+v", r.Step, r.Answers)
			}
			if !said(out, "Eerste vraag, nieuw?") {
				t.Errorf("the first question was not asked: %q", msgs(out))
			}
		})
	}
}

// Step.Deep is documented as "always offers to skip", but CanSkip ignores it:
// a deep step with `skippable: false` loads fine and shows no skip button.
func TestBugDeepStepAlwaysSkippable(t *testing.T) {
	dir := t.TempDir()
	script := `id: deepfix
order: 96
title: {nl: "Diep", en: "Deep"}
intro: {nl: "Intro.", en: "Intro."}
steps:
  - id: memory
    kind: text
    deep: true
    skippable: false
    say: {nl: "Hoe was het toen?", en: "How was it then?"}
    reflection: {nl: "Dank je.", en: "Thanks."}
    next: close
  - id: close
    kind: end
    say: {nl: "Klaar.", en: "Done."}
`
	if err := os.WriteFile(filepath.Join(dir, "deepfix.yaml"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	lib, err := Load(dir)
	if err != nil {
		return // rejecting the combination at load time is a fix too
	}
	c := newConvo(t, NewEngine(lib))
	c.onboard("nl", true)
	c.press("x:deepfix")
	if _, ok := c.button("s"); !ok {
		t.Error("a deep step offers no skip button")
	}
	if out := c.command("/skip"); out.Ended == nil {
		t.Error("a deep step cannot be skipped")
	}
}

// A concern on text typed while a button question or a pause waits (text that
// is not an answer) is dropped: the person only gets the "choose a button" or
// "no need to type" reply.
func TestBugConcernOnTextThatIsNoAnswer(t *testing.T) {
	e := probeEngine(t)
	const concern = "Het klinkt alsof het heel zwaar is."
	for _, at := range []string{"pick", "level", "wait"} {
		t.Run(at, func(t *testing.T) {
			c := startProbe(t, e, true)
			c.advanceTo(at)
			out := c.send(Input{Kind: InputText, Text: "ik trek dit niet meer", Concern: concern})
			if !said(out, concern) {
				t.Errorf("concern not shown; messages %q", msgs(out))
			}
		})
	}
}

// After a safety stop the person is offered grounding or a pause (SAFETY.md:
// "never continue the old exercise script"). Pressing pause overwrites
// StoppedBy "safety" with "pause", its message invites /resume, and /resume
// then continues the old exercise.
func TestBugPauseAfterSafetyForgetsSafety(t *testing.T) {
	e := probeEngine(t)
	c := startProbe(t, e, true)
	c.advanceTo("pick")
	c.send(Input{Kind: InputSafety, Text: "Bel 113."})
	c.press("p")
	if c.st.Run.StoppedBy != "safety" {
		t.Errorf("stopped by %q after pausing a safety stop", c.st.Run.StoppedBy)
	}
	if out := c.command("/resume"); said(out, "Welk fruit?") {
		t.Errorf("/resume continues the exercise stopped for safety: %q", msgs(out))
	}
}

// yaml.v3 reports parser errors (as opposed to scanner errors) at the
// 0-based line of their context, one line above the problem; yamlProblem
// passes that number on, so "file:line" points at the line before.
func TestBugYAMLParserErrorLine(t *testing.T) {
	data := []byte("id: a\n" + // 1
		"title: {nl: T, en: T}\n" + // 2
		"intro: {nl: I, en: I}\n" + // 3
		"steps:\n" + // 4
		"  - id: e\n" + // 5
		"    kind: end\n" + // 6
		"    say: {nl: K, en: D\n") // 7: the flow mapping is never closed
	_, probs := ParseScript("x.yaml", data)
	if len(probs) != 1 || probs[0].Line != 7 {
		t.Errorf("problems %v, want one at line 7", probs)
	}
}

// A scheduled check-in over a paused exercise keeps that exercise: it comes
// back, still paused, when the check-in ends, and /resume continues it.
func TestCheckinKeepsPausedExercise(t *testing.T) {
	lib, err := LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lib.Script("checkin"); !ok {
		t.Fatal("no checkin script")
	}
	c := newConvo(t, NewEngine(lib))
	c.onboard("nl", true)
	c.press("x:abandonment")
	c.text("Hij antwoordt niet.")
	c.command("/stop")
	step := c.st.Run.Step
	if out := c.send(Input{Kind: InputStart, Data: "checkin"}); out.Busy || c.st.Run.Exercise != "checkin" {
		t.Fatalf("check-in did not start: busy %v run %+v", out.Busy, c.st.Run)
	}
	if c.st.Stash == nil || c.st.Stash.Exercise != "abandonment" {
		t.Fatalf("stash %+v", c.st.Stash)
	}
	for range 20 {
		if c.st.Run == nil || c.st.Run.Exercise != "checkin" {
			break
		}
		switch c.step().Kind {
		case KindText:
			c.command("/skip")
		case KindChoice, KindScale, KindMulti:
			c.text("1")
		default:
			t.Fatalf("unexpected step %s", c.step().Kind)
		}
	}
	r := c.st.Run
	if r == nil || r.Exercise != "abandonment" || !r.Stopped || r.Step != step || c.st.Stash != nil {
		t.Fatalf("after the check-in: run %+v stash %+v", r, c.st.Stash)
	}
	c.command("/resume")
	if c.st.Run == nil || c.st.Run.Stopped || c.st.Run.Step != step {
		t.Fatalf("resume: %+v", c.st.Run)
	}
	if c.st.Done != 0 {
		t.Errorf("a check-in counted as a finished exercise: %d", c.st.Done)
	}
}
