package dialogs

import "testing"

// BenchmarkEngineStep measures one realistic turn: a person deep into
// exercise 1 answers a free-text question; the engine stores the answer,
// sends the scripted reflection and asks the next question.
func BenchmarkEngineStep(b *testing.B) {
	e := NewEngine(mustLoad(b, ""))
	c := newConvo(b, e)
	c.onboard("nl", true)
	c.press("x:abandonment")
	c.text("Hij reageert al de hele dag niet op mijn berichten.")
	c.send(Input{Kind: InputTimer, Now: c.st.Run.WakeAt})
	c.press("o:fear")
	c.press("o:lonely")
	c.press("d")
	c.press("o:8")
	c.press("o:chest")
	c.send(Input{Kind: InputTimer, Now: c.st.Run.WakeAt})
	if c.st.Run.Step != "age" {
		b.Fatalf("at %q, want age", c.st.Run.Step)
	}
	st := c.st
	in := Input{Kind: InputText, Text: "Het voelt heel oud, alsof ik weer vijf ben en op mijn moeder wacht.", Now: c.now}
	b.ReportAllocs()
	for b.Loop() {
		next, out := e.Handle(st, in)
		if next.Run.Step != "adult_voice" || len(out.Messages) != 3 {
			b.Fatalf("step %q, %d messages", next.Run.Step, len(out.Messages))
		}
	}
}
