package privacy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

func TestRetentionWarnsOnceThenErases(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, newSealerT(t, testMasterKey(t)))
	notified := 0
	r := NewRetention(h.db, RetentionConfig{Days: 365, WarnDays: 14, Batch: 2, Log: h.log, Notify: func() { notified++ }})
	at := func(days int) time.Time { return start.Add(time.Duration(days) * day) }

	const silent, returns, active, coachChat = 1, 2, 3, 4
	silentID := h.onboard(silent, true)
	returnsID := h.onboard(returns, true)
	activeID := h.onboard(active, false)
	// Someone who only ever received messages (a coach being alerted): no
	// conversation, nothing they wrote, left alone.
	var coachID int64
	if _, err := h.db.Turn(ctx, storage.PersonKey{Channel: conversation.ChannelTelegram, ExternalID: coachChat}, "", func(tx *storage.Tx) error {
		coachID = tx.Person().ID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	exists := func(id int64) bool {
		var n int
		if err := h.db.Pool().QueryRow(ctx, `SELECT count(*) FROM people WHERE id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	warnings := func(id int64) []string {
		var out []string
		for _, m := range h.pending(id) {
			if strings.Contains(m.Env.Text, "/export") && strings.Contains(m.Env.Text, "dagen") {
				out = append(out, m.Env.Text)
			}
		}
		return out
	}

	// Timers and scheduled turns are not activity: last_seen_at moves,
	// last_active_at does not.
	h.clock.Set(at(200))
	h.handle(silent, dialogs.Input{Kind: dialogs.InputTimer})

	steps := []struct {
		name       string
		day        int
		before     func()
		warned     int
		erased     int
		gone, kept []int64
	}{
		{name: "nobody is due yet", day: 300, before: func() { h.clock.Set(at(300)); h.say(active, "nog hier") }, kept: []int64{silentID, returnsID, activeID, coachID}},
		{name: "the silent are warned", day: 352, warned: 2, kept: []int64{silentID, returnsID, activeID, coachID}},
		{name: "only once", day: 353, kept: []int64{silentID, returnsID}},
		{name: "coming back clears the warning", day: 360, before: func() { h.clock.Set(at(360)); h.say(returns, "ik ben er weer") }},
		{name: "a year on, the warned wait out their fourteen days", day: 365, kept: []int64{silentID, returnsID, activeID, coachID}},
		{name: "fourteen days after the warning", day: 366, erased: 1, gone: []int64{silentID}, kept: []int64{returnsID, activeID, coachID}},
		{name: "a year after coming back, warned again (with the one who went quiet at day 300)", day: 360 + 352, warned: 2, kept: []int64{returnsID, activeID}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.before != nil {
				s.before()
			}
			notified = 0
			res, err := r.RunOnce(ctx, at(s.day))
			if err != nil {
				t.Fatal(err)
			}
			if res.Warned != s.warned || res.Erased != s.erased || res.Failed != 0 {
				t.Errorf("result %+v, want %d warned and %d erased", res, s.warned, s.erased)
			}
			if (s.warned > 0) != (notified > 0) {
				t.Errorf("delivery woken %d times for %d warnings", notified, s.warned)
			}
			for _, id := range s.gone {
				if exists(id) {
					t.Errorf("person %d still exists", id)
				}
			}
			for _, id := range s.kept {
				if !exists(id) {
					t.Errorf("person %d was erased", id)
				}
			}
		})
	}

	if got := warnings(silentID); got != nil {
		t.Errorf("the erased person's warning outlived them: %q", got)
	}
	got := warnings(returnsID)
	if len(got) != 2 {
		t.Fatalf("the returning person got %d warnings, want 2: %q", len(got), got)
	}
	// Warned on day 352, erased no sooner than fourteen days later.
	if !strings.Contains(got[0], "over 14 dagen") {
		t.Errorf("the first warning does not give fourteen days: %q", got[0])
	}
	// Years later the others are gone too; the coach's row is still there.
	if res, err := r.RunOnce(ctx, at(5*365)); err != nil || res.Erased != 2 || exists(returnsID) || exists(activeID) || !exists(coachID) {
		t.Errorf("years later: %+v %v", res, err)
	}
	var audits int
	if err := h.db.Pool().QueryRow(ctx, `SELECT count(*) FROM audit WHERE action = $1 AND detail LIKE 'retention%'`, AuditPersonDeleted).Scan(&audits); err != nil {
		t.Fatal(err)
	}
	if audits != 3 {
		t.Errorf("%d audit rows for three erasures", audits)
	}
	for table, n := range rowsAbout(t, h, silentID) {
		if n != 0 {
			t.Errorf("%s keeps %d row(s) of the erased person", table, n)
		}
	}
}

func TestRetentionWithoutWarning(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, newSealerT(t, testMasterKey(t)))
	r := NewRetention(h.db, RetentionConfig{Days: 30, WarnDays: 0, Log: h.log})
	id := h.onboard(1, true)
	res, err := r.RunOnce(ctx, start.Add(29*day))
	if err != nil || res != (RetentionResult{}) {
		t.Fatalf("day 29: %+v %v", res, err)
	}
	res, err = r.RunOnce(ctx, start.Add(30*day))
	if err != nil || res != (RetentionResult{Erased: 1}) {
		t.Fatalf("day 30: %+v %v", res, err)
	}
	if n := rowsAbout(t, h, id)["people"]; n != 0 {
		t.Error("not erased")
	}
}

func TestRetentionRunStopsWithItsContext(t *testing.T) {
	h := newHarness(t, newSealerT(t, testMasterKey(t)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewRetention(h.db, RetentionConfig{}).Run(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
}
