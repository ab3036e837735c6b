package soak

import (
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/internal/fakebotapi"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// out makes transcript out-lines with ids 1, 2, ...
func out(texts ...string) []Line {
	var ls []Line
	for i, s := range texts {
		ls = append(ls, Line{ID: int64(i + 1), At: at(i), Direction: "out", Kind: "message", Text: s})
	}
	return ls
}

// got makes receipts with message ids 1, 2, ... one second apart.
func got(texts ...string) []Receipt {
	var rs []Receipt
	for i, s := range texts {
		rs = append(rs, Receipt{MessageID: i + 1, Text: s, At: at(i)})
	}
	return rs
}

func TestCheckMessages(t *testing.T) {
	long := strings.Repeat("woord ", 900)
	killAt3 := func(_ int64, _ string, first, again time.Time) string {
		if !first.After(at(3)) && !again.Before(at(3)) {
			return "killed in between"
		}
		return ""
	}
	tests := []struct {
		name    string
		lines   []Line
		recv    []Receipt
		blocked bool
		explain Explainer
		want    Tally
		what    []string
	}{
		{name: "all in order", lines: out("a", "b", "c"), recv: got("a", "b", "c"),
			want: Tally{Messages: 3, Received: 3}},
		{name: "repeated texts in order", lines: out("a", "a", "b", "a"), recv: got("a", "a", "b", "a"),
			want: Tally{Messages: 4, Received: 4}},
		{name: "the last one missing", lines: out("a", "b", "c"), recv: got("a", "b"),
			want: Tally{Messages: 3, Received: 2, MessagesLost: 1}, what: []string{"message lost"}},
		{name: "one in the middle missing", lines: out("a", "b", "c"), recv: got("a", "c"),
			want: Tally{Messages: 3, Received: 2, MessagesLost: 1}, what: []string{"message lost"}},
		{name: "sent twice in a row, unexplained", lines: out("a", "b", "c"), recv: got("a", "b", "b", "c"),
			want: Tally{Messages: 3, Received: 4, MessagesDuplicated: 1}, what: []string{"message sent twice"}},
		{name: "sent twice around a kill", lines: out("a", "b", "c", "d"), recv: got("a", "b", "c", "c", "d"), explain: killAt3,
			want: Tally{Messages: 4, Received: 5, MessagesDuplicated: 1, DuplicatesExplained: 1},
			what: []string{"message sent twice (explained)"}},
		{name: "an old one again", lines: out("a", "b", "c"), recv: got("a", "b", "c", "a"),
			want: Tally{Messages: 3, Received: 4, MessagesDuplicated: 1}, what: []string{"message sent twice"}},
		{name: "swapped", lines: out("a", "b", "c"), recv: got("a", "c", "b"),
			want: Tally{Messages: 3, Received: 3, MessagesOutOfOrder: 1}, what: []string{"message out of order"}},
		{name: "not in the transcript", lines: out("a", "b"), recv: got("a", "x", "b"),
			want: Tally{Messages: 2, Received: 3, Unexpected: 1}, what: []string{"message not in the transcript"}},
		{name: "blocked: the rest is dropped", lines: out("a", "b", "c"), recv: got("a"), blocked: true,
			want: Tally{Messages: 3, Received: 1, Dropped: 2}},
		{name: "a long text split in parts", lines: out("a", long, "b"),
			recv: got("a", long[:2000], long[2000:4000], long[4000:], "b"), want: Tally{Messages: 3, Received: 5}},
		{name: "whitespace at the ends", lines: out("a\n", " b"), recv: got("a", "b"), want: Tally{Messages: 2, Received: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tally, fs := CheckPerson(Person{Chat: 7, Transcript: tt.lines, Received: tt.recv, Blocked: tt.blocked}, tt.explain)
			tt.want.People = 1
			if tally != tt.want {
				t.Errorf("tally\n got %+v\nwant %+v", tally, tt.want)
			}
			var what []string
			for _, f := range fs {
				what = append(what, f.What)
				if strings.Contains(f.String(), "woord") {
					t.Errorf("a finding quotes a message: %s", f)
				}
			}
			if strings.Join(what, "|") != strings.Join(tt.what, "|") {
				t.Errorf("findings %q, want %q", what, tt.what)
			}
		})
	}
}

func TestCheckSteps(t *testing.T) {
	in := func(id int64, kind, text string) Input { return Input{UpdateID: id, Kind: kind, Text: text} }
	done := func(ids ...int64) []Processed {
		var ps []Processed
		for i, id := range ids {
			ps = append(ps, Processed{UpdateID: id, At: at(i)})
		}
		return ps
	}
	inLine := func(kind, text string) Line { return Line{Direction: "in", Kind: kind, Text: text} }
	inputs := []Input{in(1, "command", "/start"), in(2, "button", ""), in(3, "text", "een"), in(4, "text", "twee")}
	full := []Line{inLine("command", "/start"), inLine("button", "Ja"), inLine("text", "een"), inLine("text", "twee")}
	tests := []struct {
		name  string
		done  []Processed
		lines []Line
		want  Tally
		what  []string
	}{
		{name: "all took effect once", done: done(1, 2, 3, 4), lines: full,
			want: Tally{Steps: 4, StepsProcessed: 4}},
		{name: "a stale press leaves no line", done: done(1, 2, 3, 4), lines: []Line{full[0], full[2], full[3]},
			want: Tally{Steps: 4, StepsProcessed: 4}},
		{name: "an update never processed", done: done(1, 2, 4),
			lines: []Line{full[0], full[1], full[3]},
			want:  Tally{Steps: 4, StepsProcessed: 3, StepsLost: 1}, what: []string{"step lost"}},
		{name: "processed but the answer is not in the transcript", done: done(1, 2, 3, 4),
			lines: []Line{full[0], full[1], full[3]},
			want:  Tally{Steps: 4, StepsProcessed: 4, StepsLost: 1}, what: []string{"step lost"}},
		{name: "an answer twice", done: done(1, 2, 3, 4), lines: append(full, inLine("text", "een")),
			want: Tally{Steps: 4, StepsProcessed: 4, StepsDoubled: 1}, what: []string{"step doubled"}},
		{name: "a press twice", done: done(1, 2, 3, 4), lines: append(full, inLine("button", "Ja")),
			want: Tally{Steps: 4, StepsProcessed: 4, StepsDoubled: 1}, what: []string{"step doubled"}},
		{name: "processed out of order", done: done(1, 2, 4, 3), lines: []Line{full[0], full[1], full[3], full[2]},
			want: Tally{Steps: 4, StepsProcessed: 4, StepsOutOfOrder: 2},
			what: []string{"step out of order", "step out of order"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tally, fs := CheckPerson(Person{Chat: 7, Inputs: inputs, Processed: tt.done, Transcript: tt.lines}, nil)
			tt.want.People = 1
			if tally != tt.want {
				t.Errorf("tally\n got %+v\nwant %+v", tally, tt.want)
			}
			var what []string
			for _, f := range fs {
				what = append(what, f.What)
			}
			if strings.Join(what, "|") != strings.Join(tt.what, "|") {
				t.Errorf("findings %q, want %q", what, tt.what)
			}
		})
	}
}

func TestExplainer(t *testing.T) {
	r := &runner{}
	events := []Event{
		{At: at(10), End: at(10), What: "kill"},
		{At: at(30), End: at(33), What: "restart postgres"},
		{At: at(50), End: at(50), What: "drop connections"},
		{At: at(70), End: at(70), What: "stop failed"},
	}
	lost, slow, refused := fakebotapi.LostResponse(), fakebotapi.Slow(2*time.Second), fakebotapi.ServerError()
	calls := []fakebotapi.Call{
		{Method: "sendMessage", ChatID: 7, Time: at(90), Params: map[string]string{"text": "b"}, Fault: &lost},
		{Method: "sendMessage", ChatID: 7, Time: at(100), Params: map[string]string{"text": "d"}, Fault: &slow},
		{Method: "sendMessage", ChatID: 7, Time: at(110), Params: map[string]string{"text": "e"}, Fault: &refused},
	}
	explain := r.explainer(events, calls)
	tests := []struct {
		name          string
		chat          int64
		text          string
		first, second time.Time
		explained     bool
	}{
		{name: "killed between the sends", chat: 7, text: "a", first: at(9), second: at(12), explained: true},
		{name: "killed before the first send", chat: 7, text: "a", first: at(11), second: at(12)},
		{name: "killed after both", chat: 7, text: "a", first: at(5), second: at(8)},
		{name: "sent while PostgreSQL restarted", chat: 7, text: "a", first: at(32), second: at(40), explained: true},
		{name: "sent just after the restart, on a dead connection", chat: 7, text: "a", first: at(36), second: at(40), explained: true},
		{name: "long after the restart", chat: 7, text: "a", first: at(45), second: at(46)},
		{name: "connections cut before the send", chat: 7, text: "a", first: at(52), second: at(60), explained: true},
		{name: "something else between", chat: 7, text: "a", first: at(69), second: at(71)},
		{name: "the response was dropped", chat: 7, text: "b", first: at(90), second: at(95), explained: true},
		{name: "a dropped response of another text", chat: 7, text: "c", first: at(90), second: at(95)},
		{name: "a dropped response in another chat", chat: 8, text: "b", first: at(90), second: at(95)},
		{name: "a slow answer the bot gave up on", chat: 7, text: "d", first: at(102), second: at(106), explained: true},
		{name: "a send refused with a 500 sends nothing", chat: 7, text: "e", first: at(110), second: at(111)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			why := explain(tt.chat, tt.text, tt.first, tt.second)
			if (why != "") != tt.explained {
				t.Errorf("explanation %q, want explained=%v", why, tt.explained)
			}
		})
	}
}

func TestReplyWaits(t *testing.T) {
	p := Person{
		Inputs: []Input{{At: at(0)}, {At: at(10)}, {At: at(11)}, {At: at(20)}},
		// answers to the first (2s) and third (4s); none to the second; the
		// fourth is never answered
		Received: []Receipt{{At: at(2)}, {At: at(3)}, {At: at(15)}},
	}
	got := replyWaits(p)
	want := []time.Duration{2 * time.Second, 4 * time.Second}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("replyWaits = %v, want %v", got, want)
	}
}
