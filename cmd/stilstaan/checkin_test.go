package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// TestCheckinsWiredIn sets up a check-in through the service every front end
// uses, then lets startCheckins, as `stilstaan run` calls it, start it.
func TestCheckinsWiredIn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := config.Defaults()
	cfg.Checkin.ScanInterval = 50 * time.Millisecond
	db := storagetest.New(t)
	lib, err := loadScripts(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	svcs, err := newServices(ctx, cfg, lib, db, log, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	handle := func(in dialogs.Input) conversation.Result {
		t.Helper()
		res, err := svcs.Conversation.Handle(ctx, conversation.Incoming{Channel: conversation.ChannelShell, ChatID: 7, Input: in})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	handle(dialogs.Input{Kind: dialogs.InputText, Text: "hallo", LangHint: "nl"})
	id := handle(dialogs.Input{Kind: dialogs.InputButton, Data: "1.c:y"}).PersonID
	handle(dialogs.Input{Kind: dialogs.InputCommand, Command: "checkin", Args: "20:30"})
	msgs, err := db.PendingFor(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	env, err := conversation.DecodeEnvelope(msgs[len(msgs)-1].Payload)
	if err != nil || !strings.Contains(env.Text, "elke dag om 20:30") {
		t.Fatalf("/checkin 20:30 answered %q (%v)", env.Text, err)
	}

	// Make it due a minute ago, in local time as well as in the row.
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	due := time.Now().In(ams).Add(-time.Minute).Truncate(time.Minute)
	if _, err := db.Pool().Exec(ctx, `UPDATE checkin_schedules SET hour = $2, minute = $3, next_due_at = $4 WHERE person_id = $1`,
		id, due.Hour(), due.Minute(), due); err != nil {
		t.Fatal(err)
	}
	stop := startCheckins(ctx, cfg, db, svcs.Conversation, log)
	if !waitFor(ctx, func() bool { return countRows(t, db, `SELECT count(*) FROM inputs WHERE source LIKE 'checkin:%'`) == 1 }) {
		t.Fatal("the scheduler did not start the check-in")
	}
	stop()
	if n := countRows(t, db, `SELECT count(*) FROM outbox WHERE person_id = $1 AND priority = $2 AND kind = 'message'`, id, conversation.PriorityScheduled); n != 3 {
		t.Errorf("%d scheduled messages, want the theme, the intro and the first question", n)
	}
}

// waitFor checks cond every 20ms until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() bool) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

func countRows(t *testing.T, db *storage.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
