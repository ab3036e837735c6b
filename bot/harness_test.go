package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/internal/fakebotapi"
	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

const (
	testToken  = "123456:TEST-token_abc"
	testSecret = "test-secret_0123456789"
)

// harness is one deployment under test: a database, the fake Bot API server
// and the exercise library. It can start bots (replicas, or one bot after
// another) against them.
type harness struct {
	t    testing.TB
	db   *storage.DB
	fake *fakebotapi.Server
	lib  *dialogs.Library
	mode string
	// svcOpts are added to every conversation service (test hooks).
	svcOpts []conversation.Option
	// logs is everything the bots logged; private are strings that must
	// never appear in it.
	logs    lockedBuffer
	private []string
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newHarness(t testing.TB, mode string) *harness {
	t.Helper()
	lib, err := dialogs.LoadEmbedded()
	if err != nil {
		t.Fatalf("load scripts: %v", err)
	}
	h := &harness{
		t:    t,
		db:   storagetest.New(t, storage.WithMaxConns(40)),
		fake: fakebotapi.New(t, testToken, fakebotapi.WithWebhookRetry(50, 20*time.Millisecond)),
		lib:  lib,
		mode: mode,
		// The token, and words the tests' people write.
		private: []string{testToken, "TEST-token", "onrust in mijn buik", "HOLD", "kapot", "bericht ", "de ander reageert"},
	}
	// Runs after the bots stopped (cleanups run last in, first out).
	t.Cleanup(func() {
		logs := h.logs.String()
		for _, s := range h.private {
			if strings.Contains(logs, s) {
				t.Errorf("the log contains %q", s)
			}
		}
	})
	return h
}

func (h *harness) config(hookAddr string) config.Config {
	cfg := config.Defaults()
	cfg.HTTP.Listen = ""
	tg := &cfg.Telegram
	tg.Token = testToken
	tg.ServerURL = h.fake.URL()
	tg.Mode = h.mode
	tg.PollTimeout = time.Second
	tg.Workers = 8
	tg.GlobalRate, tg.PerChatRate, tg.PerChatBurst = 10000, 1000, 1000
	if h.mode == "webhook" {
		tg.WebhookURL = "http://" + hookAddr + "/telegram"
		tg.WebhookSecret = testSecret
	}
	return cfg
}

// logger logs to the test's output and to h.logs, which is checked for
// private strings when the test ends.
func (h *harness) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.MultiWriter(h.t.Output(), &h.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// instance is one running bot.
type instance struct {
	bot      *Bot
	svc      *conversation.Service
	cancel   context.CancelFunc
	done     chan error
	hookAddr string
	stopped  bool
}

// start runs a bot until the test ends or stop is called.
func (h *harness) start(opts ...Option) *instance {
	h.t.Helper()
	var hookLn net.Listener
	if h.mode == "webhook" {
		var err error
		if hookLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			h.t.Fatal(err)
		}
	}
	addr := ""
	if hookLn != nil {
		addr = hookLn.Addr().String()
	}
	log := h.logger()
	base := []Option{
		WithLogger(log), WithSweepInterval(20 * time.Millisecond), WithGrace(10 * time.Second), WithFlush(2 * time.Second),
		WithInsecureWebhook(), WithWebhookListener(hookLn),
		WithDeliveryOptions(WithDeliveryPoll(20*time.Millisecond), WithDeliveryBackoff(10*time.Millisecond, 100*time.Millisecond)),
	}
	b, err := New(h.config(addr), h.db, append(base, opts...)...)
	if err != nil {
		h.t.Fatalf("New: %v", err)
	}
	engine := dialogs.NewEngine(h.lib, dialogs.WithPauseScale(0.001))
	svcOpts := append([]conversation.Option{conversation.WithNotify(b.Wake), conversation.WithLogger(log)}, h.svcOpts...)
	svc := conversation.New(h.db, engine, svcOpts...)
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{bot: b, svc: svc, cancel: cancel, done: make(chan error, 1), hookAddr: addr}
	go func() { in.done <- b.Run(ctx, svc) }()
	h.t.Cleanup(func() { in.stop(h.t) })
	h.waitReceiving(addr)
	return in
}

// waitReceiving waits until the bot takes updates: it is polling, or the
// fake server knows its webhook.
func (h *harness) waitReceiving(hookAddr string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := h.fake.WaitFor(ctx, func(s *fakebotapi.Server) bool {
		if h.mode == "webhook" {
			return strings.Contains(s.WebhookURL(), hookAddr)
		}
		return s.Polling() > 0
	})
	if err != nil {
		h.t.Fatalf("the bot does not receive: %v", err)
	}
}

// stop stops the bot and waits for Run to return.
func (in *instance) stop(t testing.TB) {
	t.Helper()
	if in.stopped {
		return
	}
	in.stopped = true
	in.cancel()
	select {
	case err := <-in.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// waitIdle waits until every update the fake server handed out is processed:
// the fake has nothing pending and the inbox is empty.
func (h *harness) waitIdle(ctx context.Context) {
	h.t.Helper()
	for {
		if h.fake.PendingUpdates() == 0 {
			n, err := h.db.InboxDepth(ctx)
			if err != nil {
				h.t.Fatal(err)
			}
			if n == 0 && h.fake.PendingUpdates() == 0 {
				return
			}
		}
		select {
		case <-ctx.Done():
			h.t.Fatalf("updates still waiting: %v", ctx.Err())
		case <-time.After(10 * time.Millisecond): // polling the database: nothing to wait on
		}
	}
}

// processed reports whether the input with this source took effect.
func (h *harness) processed(source string) bool {
	h.t.Helper()
	var ok bool
	if err := h.db.Pool().QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM inputs WHERE source = $1)`, source).Scan(&ok); err != nil {
		h.t.Fatal(err)
	}
	return ok
}

// state reads a chat's conversation state (the test store does not encrypt).
func (h *harness) state(chat int64) dialogs.State {
	h.t.Helper()
	var raw []byte
	err := h.db.Pool().QueryRow(context.Background(), `SELECT c.state FROM conversations c JOIN people p ON p.id = c.person_id
WHERE p.channel = 'telegram' AND p.external_id = $1`, chat).Scan(&raw)
	if err != nil {
		h.t.Fatalf("state of chat %d: %v", chat, err)
	}
	var st dialogs.State
	if err := json.Unmarshal(raw, &st); err != nil {
		h.t.Fatalf("state of chat %d: %v", chat, err)
	}
	return st
}

func (h *harness) person(chat int64) storage.Person {
	h.t.Helper()
	p, err := h.db.FindPerson(context.Background(), storage.PersonKey{Channel: "telegram", ExternalID: chat})
	if err != nil {
		h.t.Fatalf("person %d: %v", chat, err)
	}
	return p
}

func (h *harness) transcript(chat int64) []storage.TranscriptEntry {
	h.t.Helper()
	entries, err := h.db.Transcript(context.Background(), h.person(chat).ID, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return entries
}

// player plays the person of one chat through exercise 1, prompt by prompt,
// the way a person would: it reads the newest question the bot shows and
// presses a button or writes an answer. Pauses are waited out (the engine's
// pauses are shrunk), never pressed.
type player struct {
	h        *harness
	chat     int64
	seen     int  // the newest prompt handled
	started  bool // exercise 1 was chosen
	finished bool // the menu came back after the exercise
	answered int  // prompts answered within the exercise
	updates  []int64
}

func (h *harness) player(chat int64) *player { return &player{h: h, chat: chat} }

func (p *player) send(id int64) { p.updates = append(p.updates, id) }

// nextPrompt waits for a message newer than the last prompt that still shows
// buttons.
func (p *player) nextPrompt(ctx context.Context) fakebotapi.SentMessage {
	p.h.t.Helper()
	var found fakebotapi.SentMessage
	err := p.h.fake.WaitFor(ctx, func(s *fakebotapi.Server) bool {
		msgs := s.Messages(p.chat)
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].MessageID <= p.seen {
				break
			}
			if cur, ok := s.Current(p.chat, msgs[i].MessageID); ok && len(cur.Buttons) > 0 && !cur.Deleted {
				found = cur
				return true
			}
		}
		return false
	})
	if err != nil {
		p.h.dumpOutbox(p.chat)
		p.h.t.Fatalf("chat %d: no new question after message %d: %v", p.chat, p.seen, err)
	}
	return found
}

// action is the part of button data after the nonce: "c:y", "o:fear", "d".
func buttonAction(data string) string {
	_, a, _ := strings.Cut(data, ".")
	return a
}

func (p *player) press(m fakebotapi.SentMessage, action string) {
	for _, row := range m.Buttons {
		for _, b := range row {
			if buttonAction(b.CallbackData) == action {
				id, _ := p.h.fake.PressButton(p.chat, m.MessageID, b.CallbackData)
				p.send(id)
				return
			}
		}
	}
	p.h.t.Fatalf("chat %d: message %d has no button %q", p.chat, m.MessageID, action)
}

// step handles the next prompt. It reports false once the exercise is over.
func (p *player) step(ctx context.Context) bool {
	p.h.t.Helper()
	if p.finished {
		return false
	}
	return p.handle(p.nextPrompt(ctx))
}

// handle answers one prompt. It reports false once the exercise is over.
func (p *player) handle(m fakebotapi.SentMessage) bool {
	p.h.t.Helper()
	p.seen = m.MessageID
	var actions []string
	for _, row := range m.Buttons {
		for _, b := range row {
			actions = append(actions, buttonAction(b.CallbackData))
		}
	}
	firstOption := ""
	for _, a := range actions {
		if strings.HasPrefix(a, "o:") {
			firstOption = a
			break
		}
	}
	switch {
	case slices.Contains(actions, "c:y"):
		p.press(m, "c:y")
	case slices.Contains(actions, "x:abandonment") && !p.started:
		p.press(m, "x:abandonment")
		p.started = true
	case slices.Contains(actions, "x:abandonment"):
		p.finished = true
		return false
	case slices.Contains(actions, "w"):
		// A pause: the bot comes back by itself.
	case slices.Contains(actions, "d"):
		p.press(m, firstOption)
		p.press(m, "d")
		p.answered++
	case firstOption != "":
		p.press(m, firstOption)
		p.answered++
	case slices.Equal(actions, []string{"s"}):
		p.send(p.h.fake.SendText(p.chat, fmt.Sprintf("Ik merk onrust in mijn buik (antwoord %d).", p.answered+1)))
		p.answered++
	default:
		p.h.t.Fatalf("chat %d: a question the player does not know: %q", p.chat, actions)
	}
	return true
}

// checkExercise asserts that the chat's person did exercise 1 once, each
// step answered exactly once, and that every update the player sent was
// processed.
func (p *player) checkExercise() {
	h := p.h
	h.t.Helper()
	if !p.finished {
		h.t.Fatalf("chat %d: the exercise did not end", p.chat)
	}
	st := h.state(p.chat)
	if st.Done != 1 || st.Active() {
		h.t.Errorf("chat %d: state Done=%d Active=%v, want one finished exercise", p.chat, st.Done, st.Active())
	}
	var steps []string
	for _, e := range h.transcript(p.chat) {
		if e.Direction == "in" && e.Exercise == "abandonment" && e.Step != "" {
			if slices.Contains(steps, e.Step) {
				h.t.Errorf("chat %d: step %q answered twice", p.chat, e.Step)
			}
			steps = append(steps, e.Step)
		}
	}
	if len(steps) != p.answered {
		h.t.Errorf("chat %d: %d steps answered in the transcript (%v), the player answered %d", p.chat, len(steps), steps, p.answered)
	}
	for _, id := range p.updates {
		if !h.processed(source(id)) {
			h.t.Errorf("chat %d: update %d was never processed", p.chat, id)
		}
	}
}

// playExercise plays from /start to the end of exercise 1.
func (p *player) playExercise(ctx context.Context) {
	p.send(p.h.fake.SendCommand(p.chat, "/start"))
	for p.step(ctx) {
	}
	p.checkExercise()
}

// dumpOutbox logs the chat's undelivered messages and its delivery lease,
// to tell a stuck delivery from a stuck turn.
func (h *harness) dumpOutbox(chat int64) {
	rows, err := h.db.Pool().Query(context.Background(), `
SELECT o.id, o.kind, o.attempts, o.not_before, coalesce(o.last_error, ''), d.leased_by, d.leased_until, d.next_at
FROM outbox o JOIN people p ON p.id = o.person_id LEFT JOIN deliveries d ON d.person_id = o.person_id
WHERE p.channel = 'telegram' AND p.external_id = $1 AND o.status = 'pending' ORDER BY o.id`, chat)
	if err != nil {
		h.t.Logf("dump outbox: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		vals, _ := rows.Values()
		h.t.Logf("chat %d: pending outbox row %v", chat, vals)
	}
	if n, err := h.db.InboxDepth(context.Background()); err == nil {
		h.t.Logf("inbox depth %d", n)
	}
}

func personKey(chat int64) storage.PersonKey {
	return storage.PersonKey{Channel: conversation.ChannelTelegram, ExternalID: chat}
}
