package soak

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Input is one update a simulated person sent, in the order sent.
type Input struct {
	UpdateID int64
	// Kind is "text", "command", "button" or "member" (blocking the bot).
	Kind string
	// Text is what was typed, or the command with its slash; empty for
	// buttons and membership changes.
	Text string
	At   time.Time
}

// Processed is an update that took effect: a row of the inputs table.
type Processed struct {
	UpdateID int64
	At       time.Time
}

// Line is one transcript entry, opened.
type Line struct {
	ID        int64
	At        time.Time
	Direction string // "in", "out", ...
	Kind      string // "text", "button", "command", "withheld", "message", "photo", ...
	Text      string
}

// Receipt is a message, photo or document the fake Bot API accepted.
type Receipt struct {
	MessageID int
	Text      string
	At        time.Time
}

// Person is what is known about one simulated person at the end of a run.
type Person struct {
	Chat       int64
	Inputs     []Input
	Processed  []Processed
	Transcript []Line
	Received   []Receipt
	// Blocked is set when the person blocked the bot: what had not reached
	// them by then is dropped by design (a 403 drops the queue).
	Blocked bool
}

// Tally counts what the checks found. The zero value is an empty tally.
type Tally struct {
	People int
	// Steps are the updates people sent; StepsProcessed took effect.
	Steps, StepsProcessed int
	// StepsLost were never processed, or processed without the answer
	// reaching the transcript; StepsDoubled reached the transcript twice;
	// StepsOutOfOrder took effect after an update sent later.
	StepsLost, StepsDoubled, StepsOutOfOrder int
	// Messages is what the transcripts say was sent; Received what the fake
	// Bot API accepted.
	Messages, Received int
	// MessagesLost never arrived; MessagesDuplicated arrived more than once
	// (DuplicatesExplained of them in a send-then-crash window or after a
	// response the bot never heard); MessagesOutOfOrder arrived after a
	// message queued later; Unexpected arrived but are in no transcript.
	MessagesLost, MessagesDuplicated, DuplicatesExplained, MessagesOutOfOrder, Unexpected int
	// Dropped were queued for people who blocked the bot and never sent, by
	// design.
	Dropped int
}

// Add adds o to t.
func (t *Tally) Add(o Tally) {
	t.People += o.People
	t.Steps += o.Steps
	t.StepsProcessed += o.StepsProcessed
	t.StepsLost += o.StepsLost
	t.StepsDoubled += o.StepsDoubled
	t.StepsOutOfOrder += o.StepsOutOfOrder
	t.Messages += o.Messages
	t.Received += o.Received
	t.MessagesLost += o.MessagesLost
	t.MessagesDuplicated += o.MessagesDuplicated
	t.DuplicatesExplained += o.DuplicatesExplained
	t.MessagesOutOfOrder += o.MessagesOutOfOrder
	t.Unexpected += o.Unexpected
	t.Dropped += o.Dropped
}

// Finding is one problem the checks found. Detail names transcript entries,
// message and update ids, never what was written.
type Finding struct {
	Chat   int64
	What   string // "step lost", "step doubled", "step out of order", "message lost", ...
	Detail string
}

func (f Finding) String() string { return fmt.Sprintf("chat %d: %s: %s", f.Chat, f.What, f.Detail) }

// Explainer tells why a message arrived twice: the send-then-crash window
// (the process that sent it first was killed before it could record the
// send) or a response lost on the way back. It returns "" when nothing
// explains the duplicate.
type Explainer func(chat int64, text string, first, again time.Time) string

// CheckPerson compares what a person did and saw with the transcript and the
// inputs table:
//
//   - steps: every update sent took effect, in the order sent, and every
//     typed answer is in the transcript exactly once;
//   - messages: every message of the transcript arrived once, in transcript
//     order, and nothing arrived that the transcript does not hold.
//
// explain may be nil (then no duplicate is explained).
func CheckPerson(p Person, explain Explainer) (Tally, []Finding) {
	t := Tally{People: 1, Steps: len(p.Inputs)}
	var fs []Finding
	add := func(what, format string, args ...any) {
		fs = append(fs, Finding{Chat: p.Chat, What: what, Detail: fmt.Sprintf(format, args...)})
	}
	checkSteps(p, &t, add)
	checkMessages(p, explain, &t, add)
	return t, fs
}

func checkSteps(p Person, t *Tally, add func(what, format string, args ...any)) {
	done := make(map[int64]time.Time, len(p.Processed))
	for _, pr := range p.Processed {
		done[pr.UpdateID] = pr.At
	}
	sent := make(map[int64]bool, len(p.Inputs))
	for _, in := range p.Inputs {
		sent[in.UpdateID] = true
		if _, ok := done[in.UpdateID]; ok {
			t.StepsProcessed++
		} else {
			t.StepsLost++
			add("step lost", "update %d (%s) never took effect", in.UpdateID, in.Kind)
		}
	}

	// Order: the person's updates, in the order they took effect, must have
	// rising ids (a chat's updates are numbered in the order sent).
	order := slices.Clone(p.Processed)
	slices.SortStableFunc(order, func(a, b Processed) int { return a.At.Compare(b.At) })
	var highest int64
	for _, pr := range order {
		if !sent[pr.UpdateID] {
			continue
		}
		if pr.UpdateID < highest {
			t.StepsOutOfOrder++
			add("step out of order", "update %d took effect after update %d", pr.UpdateID, highest)
		}
		highest = max(highest, pr.UpdateID)
	}

	// Typed answers: each one that took effect is in the transcript exactly
	// once, in the order typed. (Texts are unique per person.)
	lines := map[string][]int{} // text -> positions among in-lines
	pos := 0
	counts := map[string]int{}
	for _, l := range p.Transcript {
		if l.Direction != "in" {
			continue
		}
		counts[l.Kind]++
		if l.Kind == "text" {
			lines[l.Text] = append(lines[l.Text], pos)
		}
		pos++
	}
	inputs := map[string]int{}
	last := -1
	for _, in := range p.Inputs {
		if _, ok := done[in.UpdateID]; !ok {
			continue
		}
		inputs[in.Kind]++
		if in.Kind != "text" {
			continue
		}
		at := lines[in.Text]
		switch {
		case len(at) == 0:
			t.StepsLost++
			add("step lost", "update %d took effect but its answer is not in the transcript", in.UpdateID)
		case len(at) > 1:
			t.StepsDoubled += len(at) - 1
			add("step doubled", "the answer of update %d is %d times in the transcript", in.UpdateID, len(at))
		}
		if len(at) > 0 {
			if at[0] < last {
				t.StepsOutOfOrder++
				add("step out of order", "the answer of update %d is in the transcript before an answer typed earlier", in.UpdateID)
			}
			last = max(last, at[0])
		}
	}
	// A button press or command is in the transcript at most once.
	for _, kind := range []string{"button", "command"} {
		if extra := counts[kind] - inputs[kind]; extra > 0 {
			t.StepsDoubled += extra
			add("step doubled", "%d %s entries in the transcript for %d %s updates", counts[kind], kind, inputs[kind], kind)
		}
	}
}

// expected is a message the transcript says was sent.
type expected struct {
	line     Line
	got      int // receipts matched to it
	skipped  bool
	firstAt  time.Time
	received int // index of the first receipt
}

func checkMessages(p Person, explain Explainer, t *Tally, add func(what, format string, args ...any)) {
	var exp []*expected
	for _, l := range p.Transcript {
		if l.Direction == "out" && (l.Kind == "message" || l.Kind == "photo" || l.Kind == "document") {
			exp = append(exp, &expected{line: l})
		}
	}
	t.Messages += len(exp)
	t.Received += len(p.Received)

	match := func(e *expected, r Receipt) {
		if e.got == 0 {
			e.firstAt = r.At
			e.received = r.MessageID
		}
		e.got++
		e.skipped = false
	}
	dup := func(e *expected, r Receipt) {
		e.got++
		t.MessagesDuplicated++
		why := ""
		if explain != nil {
			why = explain(p.Chat, e.line.Text, e.firstAt, r.At)
		}
		if why != "" {
			t.DuplicatesExplained++
			add("message sent twice (explained)", "transcript entry %d arrived as messages %d and %d: %s", e.line.ID, e.received, r.MessageID, why)
			return
		}
		add("message sent twice", "transcript entry %d arrived as messages %d and %d, at %s and %s", e.line.ID, e.received, r.MessageID,
			e.firstAt.Format("15:04:05.000"), r.At.Format("15:04:05.000"))
	}

	j := 0 // the next message expected
	for i := 0; i < len(p.Received); i++ {
		r := p.Received[i]
		// The usual case: the next message in order, whole or split into parts.
		if j < len(exp) {
			if n := parts(exp[j].line.Text, p.Received[i:]); n > 0 {
				match(exp[j], r)
				j++
				i += n - 1
				continue
			}
		}
		// The message before again: the send-then-crash window.
		if j > 0 && same(exp[j-1].line.Text, r.Text) {
			dup(exp[j-1], r)
			continue
		}
		// A later message: the ones between are missing, for now.
		if k := findFrom(exp, j+1, r.Text); k >= 0 {
			for _, e := range exp[j:k] {
				e.skipped = true
			}
			match(exp[k], r)
			j = k + 1
			continue
		}
		// A message that was skipped arrives late.
		if k := findSkipped(exp[:j], r.Text); k >= 0 {
			match(exp[k], r)
			t.MessagesOutOfOrder++
			add("message out of order", "transcript entry %d arrived (message %d) after later ones", exp[k].line.ID, r.MessageID)
			continue
		}
		// An earlier message again, not right after itself.
		if k := findBack(exp[:j], r.Text); k >= 0 {
			dup(exp[k], r)
			continue
		}
		t.Unexpected++
		add("message not in the transcript", "message %d", r.MessageID)
	}
	for _, e := range exp {
		if e.got > 0 {
			continue
		}
		if p.Blocked {
			t.Dropped++
			continue
		}
		t.MessagesLost++
		add("message lost", "transcript entry %d never arrived", e.line.ID)
	}
}

// same compares message texts as a person reads them.
func same(a, b string) bool { return strings.TrimSpace(a) == strings.TrimSpace(b) }

// parts reports how many receipts, from the first, make up text: 1 when the
// first is the whole text, more when delivery split a long text into
// several messages, 0 when they do not.
func parts(text string, rs []Receipt) int {
	want := strings.Join(strings.Fields(text), "")
	got := ""
	for n, r := range rs {
		if n == 0 && same(text, r.Text) {
			return 1
		}
		got += strings.Join(strings.Fields(r.Text), "")
		if got == "" || !strings.HasPrefix(want, got) {
			return 0
		}
		if got == want {
			return n + 1
		}
	}
	return 0
}

func findFrom(exp []*expected, from int, text string) int {
	for k := from; k < len(exp); k++ {
		if exp[k].got == 0 && same(exp[k].line.Text, text) {
			return k
		}
	}
	return -1
}

func findSkipped(exp []*expected, text string) int {
	for k, e := range exp {
		if e.skipped && e.got == 0 && same(e.line.Text, text) {
			return k
		}
	}
	return -1
}

func findBack(exp []*expected, text string) int {
	for k := len(exp) - 1; k >= 0; k-- {
		if exp[k].got > 0 && same(exp[k].line.Text, text) {
			return k
		}
	}
	return -1
}
