package checkin

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// fakeClock is a test clock that only moves when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one test's world: its own database, the real engine with the
// embedded scripts, the conversation service with this feature, and a clock
// shared by all of them.
type env struct {
	t     testing.TB
	ctx   context.Context
	clock *fakeClock
	db    *storage.DB
	lib   *dialogs.Library
	f     *Feature
	svc   *conversation.Service

	mu     sync.Mutex
	starts []start // check-ins and evening questions the engine started
}

// start is one exercise start seen by the test hook.
type start struct {
	person   int64
	exercise string
	at       time.Time
	source   string
}

type envOption func(*config.Checkin, *[]storage.Option, *[]conversation.Option)

func withCheckinConfig(fn func(*config.Checkin)) envOption {
	return func(c *config.Checkin, _ *[]storage.Option, _ *[]conversation.Option) { fn(c) }
}

func withStorage(o storage.Option) envOption {
	return func(_ *config.Checkin, so *[]storage.Option, _ *[]conversation.Option) { *so = append(*so, o) }
}

func withService(o conversation.Option) envOption {
	return func(_ *config.Checkin, _ *[]storage.Option, co *[]conversation.Option) { *co = append(*co, o) }
}

func newEnv(t testing.TB, at time.Time, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), clock: &fakeClock{t: at}}
	cfg := config.Defaults().Checkin
	sopts := []storage.Option{storage.WithClock(e.clock.Now)}
	var copts []conversation.Option
	for _, o := range opts {
		o(&cfg, &sopts, &copts)
	}
	e.db = storagetest.New(t, sopts...)
	lib, err := dialogs.LoadEmbedded()
	if err != nil {
		t.Fatalf("load scripts: %v", err)
	}
	e.lib = lib
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	if e.f, err = New(cfg, lib, log); err != nil {
		t.Fatalf("New: %v", err)
	}
	record := func(_ context.Context, turn *conversation.Turn) error {
		if turn.Out.Started != "" {
			e.mu.Lock()
			e.starts = append(e.starts, start{turn.Tx.Person().ID, turn.Out.Started, turn.Now, turn.In.Source})
			e.mu.Unlock()
		}
		return nil
	}
	all := append(e.f.Options(), conversation.WithClock(e.clock.Now), conversation.WithLogger(log), conversation.WithHook(record))
	e.svc = conversation.New(e.db, dialogs.NewEngine(lib), append(all, copts...)...)
	return e
}

func (e *env) scheduler(opts ...SchedulerOption) *Scheduler {
	return e.f.NewScheduler(e.db, e.svc, append([]SchedulerOption{WithClock(e.clock.Now)}, opts...)...)
}

// startsOf returns the starts of exercise seen so far, per person: those of
// turns that committed (a turn that failed after the hook saw it, for
// instance because its context ended, left no input row).
func (e *env) startsOf(exercise string) map[int64][]time.Time {
	e.t.Helper()
	committed := map[string]bool{}
	rows, err := e.db.Pool().Query(e.ctx, `SELECT source FROM inputs`)
	if err != nil {
		e.t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			e.t.Fatal(err)
		}
		committed[s] = true
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[int64][]time.Time{}
	seen := map[string]bool{} // a source commits once; a failed turn may have tried it before
	for _, s := range e.starts {
		if s.exercise != exercise || (s.source != "" && (!committed[s.source] || seen[s.source])) {
			continue
		}
		seen[s.source] = s.source != ""
		out[s.person] = append(out[s.person], s.at)
	}
	return out
}

// handle runs one input of a person on the shell channel.
func (e *env) handle(chat int64, in dialogs.Input) conversation.Result {
	e.t.Helper()
	res, err := e.svc.Handle(e.ctx, conversation.Incoming{Channel: conversation.ChannelShell, ChatID: chat, Input: in})
	if err != nil {
		e.t.Fatalf("Handle(%d, %v): %v", chat, in.Kind, err)
	}
	return res
}

func (e *env) command(chat int64, line string) conversation.Result {
	e.t.Helper()
	name, args, _ := strings.Cut(strings.TrimPrefix(line, "/"), " ")
	return e.handle(chat, dialogs.Input{Kind: dialogs.InputCommand, Command: name, Args: args})
}

func (e *env) text(chat int64, s string) conversation.Result {
	e.t.Helper()
	return e.handle(chat, dialogs.Input{Kind: dialogs.InputText, Text: s})
}

// press presses the newest button of the person whose data ends with suffix.
func (e *env) press(chat int64, suffix string) conversation.Result {
	e.t.Helper()
	msgs := e.pending(chat)
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, row := range msgs[i].env.Buttons {
			for _, b := range row {
				if strings.HasSuffix(b.Data, suffix) {
					return e.handle(chat, dialogs.Input{Kind: dialogs.InputButton, Data: b.Data})
				}
			}
		}
	}
	e.t.Fatalf("person %d has no button ending in %q", chat, suffix)
	return conversation.Result{}
}

// onboard makes a new person on the shell channel who agreed to storing what
// they write, and returns their id.
func (e *env) onboard(chat int64, lang string) int64 {
	e.t.Helper()
	e.handle(chat, dialogs.Input{Kind: dialogs.InputText, Text: "hoi", LangHint: lang})
	res := e.press(chat, ".c:y")
	e.clear(chat)
	return res.PersonID
}

// message is one outgoing message of a person.
type message struct {
	kind     string
	priority int
	env      conversation.Envelope
}

// pending returns the person's messages that were not delivered yet.
func (e *env) pending(chat int64) []message {
	e.t.Helper()
	p, err := e.db.FindPerson(e.ctx, storage.PersonKey{Channel: conversation.ChannelShell, ExternalID: chat})
	if err != nil {
		e.t.Fatalf("find person %d: %v", chat, err)
	}
	return e.pendingOf(p.ID)
}

func (e *env) pendingOf(person int64) []message {
	e.t.Helper()
	out, err := e.db.PendingFor(e.ctx, person)
	if err != nil {
		e.t.Fatalf("pending: %v", err)
	}
	var msgs []message
	for _, m := range out {
		env, err := conversation.DecodeEnvelope(m.Payload)
		if err != nil {
			e.t.Fatal(err)
		}
		msgs = append(msgs, message{m.Kind, m.Priority, env})
	}
	return msgs
}

// clear marks the person's pending messages as delivered.
func (e *env) clear(chat int64) {
	e.t.Helper()
	e.exec(`UPDATE outbox SET status = 'sent' WHERE status = 'pending' AND person_id =
        (SELECT id FROM people WHERE channel = $1 AND external_id = $2)`, conversation.ChannelShell, chat)
}

// texts returns the texts of the person's pending messages, and clears them.
func (e *env) texts(chat int64) []string {
	e.t.Helper()
	var out []string
	for _, m := range e.pending(chat) {
		if m.env.Text != "" {
			out = append(out, m.env.Text)
		}
	}
	e.clear(chat)
	return out
}

func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Pool().Exec(e.ctx, sql, args...); err != nil {
		e.t.Fatalf("exec %q: %v", sql, err)
	}
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Pool().QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("count %q: %v", sql, err)
	}
	return n
}

// seedDue creates n onboarded people on channel "bulk" whose daily check-in
// at hh:mm in zone is due at due, with SQL rather than turns (for the large
// tests and the benchmark), and returns how many rows it made.
func (e *env) seedDue(n, firstChat int, zone string, hour, minute int, due time.Time) {
	e.t.Helper()
	now := e.clock.Now()
	e.exec(`INSERT INTO people (channel, external_id, chat_id, lang, created_at, last_seen_at)
SELECT 'bulk', g, g, 'nl', $1, $1 FROM generate_series($2::bigint, $3::bigint) g`, now, firstChat, firstChat+n-1)
	e.exec(`INSERT INTO conversations (person_id, state, updated_at)
SELECT id, convert_to('{"lang":"nl","stage":"ready","consent":true}', 'UTF8'), $1 FROM people
WHERE channel = 'bulk' AND external_id BETWEEN $2 AND $3`, now, firstChat, firstChat+n-1)
	e.exec(`INSERT INTO checkin_schedules (person_id, enabled, hour, minute, zone, next_due_at, updated_at)
SELECT id, true, $1, $2, $3, $4, $5 FROM people WHERE channel = 'bulk' AND external_id BETWEEN $6 AND $7`,
		hour, minute, zone, due, now, firstChat, firstChat+n-1)
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func dialogsButton(data string) dialogs.Input {
	return dialogs.Input{Kind: dialogs.InputButton, Data: data}
}
