package checkin

import (
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
)

func TestEveningQuestion(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	e := newEnv(t, time.Date(2026, 5, 4, 8, 0, 0, 0, ams), // Monday
		withCheckinConfig(func(c *config.Checkin) { c.EveningPrompt = "21.00" }))
	early, late := e.onboard(1, "nl"), e.onboard(2, "nl")
	e.command(1, "/checkin 18:00")
	e.command(2, "/checkin 21:30")
	for chat := int64(1); chat <= 2; chat++ {
		e.command(chat, "/checkin avond aan")
		e.clear(chat)
	}
	s := e.scheduler()
	run := func(d, h, m int) int {
		t.Helper()
		at := time.Date(2026, 5, d, h, m, 0, 0, ams)
		e.clock.Set(at)
		n, err := s.RunOnce(e.ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Monday: check-in at 18:00, answered; the evening question at 21:00
	// names the same theme.
	if n := run(4, 18, 0); n != 1 {
		t.Fatalf("Monday 18:00 sent %d", n)
	}
	e.press(1, ".o:4")
	e.press(1, ".o:calm")
	e.command(1, "/skip")
	e.clear(1)
	if n := run(4, 21, 0); n != 1 {
		t.Fatalf("Monday 21:00 sent %d, want the evening question", n)
	}
	msgs := e.pending(1)
	theme := ThemeFor(early, "2026-05-04").Text("nl")
	if len(msgs) < 3 || msgs[0].env.Text != "Het thema van vandaag was: "+theme+"." ||
		!strings.Contains(msgs[len(msgs)-1].env.Text, "Wat merkte je vandaag van het thema?") {
		t.Fatalf("evening messages: %+v", msgs)
	}
	for _, m := range msgs {
		if m.priority != conversation.PriorityScheduled {
			t.Errorf("evening message at priority %d", m.priority)
		}
	}
	e.clear(1)
	e.text(1, "Ik trok me terug toen hij vroeg wat er was.")
	if got := strings.Join(e.texts(1), "\n"); !strings.Contains(got, "Fijne avond") {
		t.Errorf("the evening question did not close: %q", got)
	}
	// 21:30: the late person's check-in; their evening question never comes
	// before it.
	if n := run(4, 21, 30); n != 1 {
		t.Fatalf("Monday 21:30 sent %d", n)
	}

	// Tuesday: the scheduler is down until 21:00, so the 18:00 check-in is
	// skipped as late, and without a check-in there is no evening question.
	if n := run(5, 21, 0); n != 0 {
		t.Fatalf("Tuesday 21:00 sent %d, want 0", n)
	}
	// Wednesday: the check-in is not answered; at 21:00 it is still open,
	// so the evening question waits for another day.
	run(6, 18, 0)
	if n := run(6, 21, 0); n != 0 {
		t.Fatalf("Wednesday 21:00 sent %d while the check-in was open, want 0", n)
	}
	if got := len(e.startsOf(ScriptEvening)[early]); got != 1 {
		t.Errorf("%d evening questions for the early person, want 1 (Monday)", got)
	}
	if got := len(e.startsOf(ScriptEvening)[late]); got != 0 {
		t.Errorf("%d evening questions for the person whose check-in comes after 21:00", got)
	}
	// Thursday: Wednesday's unanswered check-in does not block Thursday's.
	if n := run(7, 18, 0); n != 1 {
		t.Fatalf("Thursday 18:00 sent %d, want 1", n)
	}
	if got := len(e.startsOf(ScriptCheckin)[early]); got != 3 {
		t.Errorf("%d check-ins for the early person, want Monday, Wednesday, Thursday", got)
	}
}

func TestUnansweredAndBusy(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	e := newEnv(t, time.Date(2026, 5, 4, 8, 0, 0, 0, ams))
	halfway, busy := e.onboard(1, "nl"), e.onboard(2, "nl")
	for chat := int64(1); chat <= 2; chat++ {
		e.command(chat, "/checkin 09:00")
		e.clear(chat)
	}
	s := e.scheduler()
	run := func(d int) int {
		t.Helper()
		at := time.Date(2026, 5, d, 9, 0, 0, 0, ams)
		e.clock.Set(at)
		n, err := s.RunOnce(e.ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Monday: the first person gives a mood and then leaves the check-in;
	// the second starts an exercise later in the day and is in its pause
	// when Tuesday's check-in is due.
	run(4)
	e.press(1, ".o:2")
	oldButtons := e.pending(1)
	e.clear(1)
	e.clock.Set(time.Date(2026, 5, 5, 8, 55, 0, 0, ams))
	e.press(2, ".o:4")
	e.command(2, "/skip")
	e.command(2, "/skip")
	e.command(2, "/oefeningen")
	e.press(2, ".x:grounding")
	e.press(2, ".o:6") // before; the first pause starts

	if n := run(5); n != 1 {
		t.Fatalf("Tuesday sent %d, want 1 (the person in an exercise is left alone)", n)
	}
	// Monday's half check-in was kept (its mood), then cleared for Tuesday's.
	var mood int
	var day string
	if err := e.db.Pool().QueryRow(e.ctx, `SELECT mood, local_day FROM checkins WHERE person_id = $1`, halfway).Scan(&mood, &day); err != nil {
		t.Fatalf("the half check-in was not kept: %v", err)
	}
	if mood != 2 || day != "2026-05-04" {
		t.Errorf("half check-in kept as mood %d on %s", mood, day)
	}
	if got := len(e.startsOf(ScriptCheckin)[halfway]); got != 2 {
		t.Errorf("%d check-ins for the first person, want 2", got)
	}
	// A button of Monday's check-in is stale now.
	for _, m := range oldButtons {
		for _, row := range m.env.Buttons {
			for _, b := range row {
				if strings.HasSuffix(b.Data, ".o:sadness") {
					if res := e.handle(1, dialogsButton(b.Data)); res.Notice == "" {
						t.Errorf("an old check-in button was taken as an answer")
					}
				}
			}
		}
	}
	// The exercise of the second person went on untouched.
	e.press(2, ".w")
	if got := e.texts(2); len(got) == 0 || !strings.Contains(strings.Join(got, " "), "Adem") {
		t.Errorf("the exercise did not continue after the skipped check-in: %q", got)
	}
	if got := len(e.startsOf(ScriptCheckin)[busy]); got != 1 {
		t.Errorf("%d check-ins for the busy person, want 1 (Monday)", got)
	}
	// Wednesday both get theirs.
	e.clock.Set(time.Date(2026, 5, 5, 12, 0, 0, 0, ams))
	e.command(2, "/stop")
	if n := run(6); n != 2 {
		t.Errorf("Wednesday sent %d, want 2", n)
	}
}
