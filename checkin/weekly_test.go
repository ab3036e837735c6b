package checkin

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
)

func TestWeeklySummary(t *testing.T) {
	ams := mustZone(t, "Europe/Amsterdam")
	e := newEnv(t, time.Date(2026, 5, 4, 8, 0, 0, 0, ams)) // Monday; weekly on Sunday 19:00
	active, quiet, off := e.onboard(1, "en"), e.onboard(2, "nl"), e.onboard(3, "nl")
	for chat := int64(1); chat <= 3; chat++ {
		e.command(chat, "/checkin 20:30")
	}
	e.command(3, "/checkin week uit")
	for chat := int64(1); chat <= 3; chat++ {
		e.clear(chat)
	}
	for _, p := range []int64{active, off} {
		e.exec(`INSERT INTO checkins (person_id, local_day, mood, at) VALUES ($1, '2026-05-06', 3, $2), ($1, '2026-05-07', 4, $3)`,
			p, time.Date(2026, 5, 6, 20, 40, 0, 0, ams), time.Date(2026, 5, 7, 20, 40, 0, 0, ams))
	}
	var due time.Time
	if err := e.db.Pool().QueryRow(e.ctx, `SELECT weekly_due_at FROM checkin_schedules WHERE person_id = $1`, active).Scan(&due); err != nil {
		t.Fatal(err)
	}
	sunday := time.Date(2026, 5, 10, 19, 0, 0, 0, ams)
	if !due.Equal(sunday) {
		t.Fatalf("weekly summary due %v, want %v", due.In(ams), sunday)
	}
	inputs := e.count(`SELECT count(*) FROM transcript WHERE person_id = $1 AND direction = 'in'`, active)
	s := e.scheduler()
	e.clock.Set(sunday)
	if n, err := s.RunOnce(e.ctx, sunday); err != nil || n != 1 {
		t.Fatalf("Sunday 19:00: sent %d, %v; want 1", n, err)
	}
	msgs := e.pending(1)
	if len(msgs) != 1 || msgs[0].kind != conversation.KindPhoto || msgs[0].priority != conversation.PriorityScheduled {
		t.Fatalf("weekly summary: %+v", msgs)
	}
	if _, err := png.Decode(bytes.NewReader(msgs[0].env.File)); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	caption := msgs[0].env.Text
	for _, want := range []string{"Your week at a glance.", "Average mood this week: 3.5 out of 5 (2 check-ins).",
		"Last week you had no check-ins yet.", "Exercises this week: 0."} {
		if !strings.Contains(caption, want) {
			t.Errorf("caption %q lacks %q", caption, want)
		}
	}
	if len(e.pending(2)) != 0 || len(e.pending(3)) != 0 {
		t.Errorf("a summary went to someone with nothing this week, or with the summary off")
	}
	if got := e.count(`SELECT count(*) FROM transcript WHERE person_id = $1 AND direction = 'in'`, active); got != inputs {
		t.Errorf("the scheduled summary was recorded as %d inputs of the person", got-inputs)
	}
	for _, p := range []int64{active, quiet} {
		var next time.Time
		var last string
		if err := e.db.Pool().QueryRow(e.ctx, `SELECT weekly_due_at, weekly_last_day FROM checkin_schedules WHERE person_id = $1`, p).Scan(&next, &last); err != nil {
			t.Fatal(err)
		}
		if want := sunday.AddDate(0, 0, 7); !next.Equal(want) || last != "2026-05-10" {
			t.Errorf("person %d: next summary %v (last %s), want %v", p, next.In(ams), last, want)
		}
	}
	if n, err := s.RunOnce(e.ctx, sunday.Add(time.Minute)); err != nil || n != 0 {
		t.Errorf("a second pass sent %d, %v", n, err)
	}
}
