package bot

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/internal/fakebotapi"
	"github.com/stilstaan/stilstaan/soak"
)

// Hostile input through the real receiving path: the fake Bot API delivers
// by long polling or webhook, the bot stores, processes and answers. Each
// test ends with the soak's check of the chat: every update took effect once
// and in order, every message of the transcript arrived once and in order.

// startTuned starts a bot as harness.start does, with its settings changed
// by tune first.
func startTuned(h *harness, tune func(*config.Config)) *instance {
	h.t.Helper()
	var hookLn net.Listener
	addr := ""
	if h.mode == "webhook" {
		var err error
		if hookLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			h.t.Fatal(err)
		}
		addr = hookLn.Addr().String()
	}
	log := h.logger()
	cfg := h.config(addr)
	tune(&cfg)
	b, err := New(cfg, h.db, WithLogger(log), WithSweepInterval(20*time.Millisecond), WithGrace(10*time.Second),
		WithFlush(2*time.Second), WithInsecureWebhook(), WithWebhookListener(hookLn),
		WithDeliveryOptions(WithDeliveryPoll(20*time.Millisecond), WithDeliveryBackoff(10*time.Millisecond, 100*time.Millisecond)))
	if err != nil {
		h.t.Fatalf("New: %v", err)
	}
	svc := conversation.New(h.db, dialogs.NewEngine(h.lib, dialogs.WithPauseScale(0.001)),
		conversation.WithNotify(b.Wake), conversation.WithLogger(log))
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{bot: b, svc: svc, cancel: cancel, done: make(chan error, 1), hookAddr: addr}
	go func() { in.done <- b.Run(ctx, svc) }()
	h.t.Cleanup(func() { in.stop(h.t) })
	h.waitReceiving(addr)
	return in
}

// onboard takes a new person through /start and consent to the menu. It
// returns the updates sent and the menu.
func onboard(ctx context.Context, h *harness, chat int64) ([]soak.Input, fakebotapi.SentMessage) {
	h.t.Helper()
	p := h.player(chat)
	start := h.fake.SendCommand(chat, "/start")
	consent := p.nextPrompt(ctx)
	p.press(consent, "c:y")
	p.seen = consent.MessageID
	menu := p.nextPrompt(ctx)
	return []soak.Input{{UpdateID: start, Kind: "command", Text: "/start"}, {UpdateID: p.updates[0], Kind: "button"}}, menu
}

// waitDelivered waits until the chat's outbox holds nothing pending and no
// timer of its conversation is about to fire (pauses are shrunk to
// milliseconds here: the turn a pause's timer makes writes more messages).
func waitDelivered(ctx context.Context, h *harness, chat int64) {
	h.t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var n int
		err := h.db.Pool().QueryRow(ctx, `SELECT
  (SELECT count(*) FROM outbox o JOIN people p ON p.id = o.person_id
   WHERE p.channel = 'telegram' AND p.external_id = $1 AND o.status = 'pending')
+ (SELECT count(*) FROM conversations c JOIN people p ON p.id = c.person_id
   WHERE p.channel = 'telegram' AND p.external_id = $1 AND c.wake_at < now() + interval '5 seconds')`, chat).Scan(&n)
		if err != nil {
			h.t.Fatalf("outbox of chat %d: %v", chat, err)
		}
		if n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			h.dumpOutbox(chat)
			h.t.Fatalf("chat %d: %d messages still pending: %v", chat, n, ctx.Err())
		case <-tick.C: // the database: nothing to wait on but time
		}
	}
}

// checkChat runs the soak's check on one chat and fails on any loss,
// doubling, reordering or duplicate (nothing here explains one).
func checkChat(ctx context.Context, h *harness, chat int64, inputs []soak.Input) soak.Tally {
	h.t.Helper()
	h.waitIdle(ctx)
	waitDelivered(ctx, h, chat)
	p := soak.Person{Chat: chat, Inputs: inputs}
	rows, err := h.db.Pool().Query(ctx, `SELECT i.source, i.processed_at FROM inputs i JOIN people p ON p.id = i.person_id
WHERE p.channel = 'telegram' AND p.external_id = $1 AND i.source LIKE 'tg:%'`, chat)
	if err != nil {
		h.t.Fatal(err)
	}
	for rows.Next() {
		var src string
		var pr soak.Processed
		if err := rows.Scan(&src, &pr.At); err != nil {
			h.t.Fatal(err)
		}
		if _, err := fmt.Sscanf(src, "tg:%d", &pr.UpdateID); err != nil {
			h.t.Fatalf("source %q: %v", src, err)
		}
		p.Processed = append(p.Processed, pr)
	}
	rows.Close()
	for _, e := range h.transcript(chat) {
		p.Transcript = append(p.Transcript, soak.Line{ID: e.ID, At: e.At, Direction: e.Direction, Kind: e.Kind, Text: e.Text})
	}
	for _, m := range h.fake.Messages(chat) {
		p.Received = append(p.Received, soak.Receipt{MessageID: m.MessageID, Text: m.Text, At: m.Time})
	}
	tally, findings := soak.CheckPerson(p, nil)
	bad := tally.StepsLost + tally.StepsDoubled + tally.StepsOutOfOrder + tally.MessagesLost +
		tally.MessagesDuplicated + tally.MessagesOutOfOrder + tally.Unexpected
	if bad > 0 || tally.StepsProcessed != len(inputs) {
		h.t.Errorf("chat %d: %+v", chat, tally)
		for _, f := range findings {
			h.t.Log(f)
		}
	}
	var failed int
	if err := h.db.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox WHERE status <> 'sent'`).Scan(&failed); err != nil {
		h.t.Fatal(err)
	}
	if failed > 0 {
		h.t.Errorf("%d outbox messages were not sent", failed)
		rows, err := h.db.Pool().Query(ctx, `SELECT id, person_id, kind, status, attempts, coalesce(last_error, '') FROM outbox
WHERE status <> 'sent' ORDER BY id`)
		if err == nil {
			for rows.Next() {
				vals, _ := rows.Values()
				h.t.Logf("not sent: %v", vals)
			}
			rows.Close()
		}
	}
	return tally
}

func TestHostileTexts(t *testing.T) {
	texts := []struct{ name, text, private string }{
		{name: "4096 characters right to left", text: strings.Repeat("ب", 4096), private: strings.Repeat("ب", 16)},
		{name: "4096 UTF-16 units of emoji", text: strings.Repeat("😶", 2048), private: strings.Repeat("😶", 8)},
		{name: "direction overrides and Hebrew", text: "\u202eik voel me klein\u202c \u200fשלום, ik ben er\u200f", private: "voel me klein"},
		{name: "zero-width characters", text: "on\u200bzicht\u200cbaar\u200d\ufeff ge\u2060voel onzichtbaar", private: "onzichtbaar"},
		{name: "control characters", text: "ctrl\x00\x01\x07 \x1b[31mrood alarm\x1b[0m\r\n\t\u0085\u2028\u2029einde\x7f", private: "rood alarm"},
		{name: "combining marks", text: strings.Repeat("e\u0301\u0308", 300) + " stapeltje", private: "stapeltje"},
	}
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, mode)
			for _, tt := range texts {
				h.private = append(h.private, tt.private)
			}
			h.start()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			const chat = 6001
			inputs, menu := onboard(ctx, h, chat)
			seen := menu.MessageID
			for _, tt := range texts {
				id := h.fake.SendText(chat, tt.text)
				inputs = append(inputs, soak.Input{UpdateID: id, Kind: "text", Text: tt.text})
				// Outside an exercise, free text is heard and the menu offered again.
				p := h.player(chat)
				p.seen = seen
				seen = p.nextPrompt(ctx).MessageID
			}
			checkChat(ctx, h, chat, inputs)

			// Each text is in the transcript exactly as written.
			var heard []string
			for _, e := range h.transcript(chat) {
				if e.Direction == "in" && e.Kind == "text" {
					heard = append(heard, e.Text)
				}
			}
			if len(heard) != len(texts) {
				t.Fatalf("%d texts in the transcript, want %d", len(heard), len(texts))
			}
			for i, tt := range texts {
				if heard[i] != tt.text {
					t.Errorf("%s: the transcript holds %q", tt.name, abbrev(heard[i]))
				}
			}
			// What the bot sent fits Telegram and never echoes the input.
			for _, m := range h.fake.Messages(chat) {
				if !utf8.ValidString(m.Text) || len(utf16.Encode([]rune(m.Text))) > maxTextLen {
					t.Errorf("message %d does not fit Telegram", m.MessageID)
				}
				for _, tt := range texts {
					if strings.Contains(m.Text, tt.private) {
						t.Errorf("message %d repeats the %s", m.MessageID, tt.name)
					}
				}
			}
		})
	}
}

func abbrev(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// A person sends 100 messages in one go. Each is handled, in order; every
// answer arrives, in order, once. On the way out the bot keeps to its
// per-chat rate (10 a second, bursts of 3), and the fake Telegram, stricter
// still (8 a second), answers 429 with retry_after 1, which the bot waits
// out before it sends to the chat again.
func TestFloodFromOnePerson(t *testing.T) {
	const (
		rate, burst = 10, 3
		limit       = 8
		flood       = 100
	)
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, mode)
			startTuned(h, func(c *config.Config) {
				c.Telegram.PerChatRate, c.Telegram.PerChatBurst, c.Telegram.GlobalRate = rate, burst, 30
			})
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			const chat = 6002
			inputs, _ := onboard(ctx, h, chat)
			h.fake.EnforceLimits(limit, 0)
			begin := time.Now()
			for i := range flood {
				text := fmt.Sprintf("bericht %d van de stortvloed", i+1)
				inputs = append(inputs, soak.Input{UpdateID: h.fake.SendText(chat, text), Kind: "text", Text: text})
			}
			if took := time.Since(begin); took > time.Second {
				t.Logf("sending the flood took %s", took)
			}
			tally := checkChat(ctx, h, chat, inputs)
			if tally.StepsProcessed != flood+2 || tally.Received < flood {
				t.Errorf("%d steps processed, %d messages received; want %d and at least %d", tally.StepsProcessed, tally.Received, flood+2, flood)
			}

			// Politeness: sends to the chat, accepted or not, per clock second.
			perSecond := map[int64]int{}
			var last time.Time
			var limited int
			for _, c := range h.fake.Calls("sendMessage") {
				if c.ChatID != chat || c.Time.Before(begin) {
					continue
				}
				perSecond[c.Time.Unix()]++
				if !last.IsZero() && last.After(c.Time.Add(-900*time.Millisecond)) {
					t.Errorf("a send at %s came %s after a 429 that asked to wait 1s", c.Time.Format("15:04:05.000"), c.Time.Sub(last))
				}
				last = time.Time{}
				if c.Status == http.StatusTooManyRequests {
					limited++
					last = c.Time
				}
			}
			for sec, n := range perSecond {
				if n > rate+burst {
					t.Errorf("%d sends to the chat within second %d, the bot allows itself %d", n, sec, rate+burst)
				}
			}
			if limited == 0 {
				t.Errorf("the fake never answered 429 (limit %d a second), so waiting out retry_after went untested", limit)
			}
			t.Logf("%d answers delivered in %s with %d 429s", tally.Received, time.Since(begin).Round(time.Millisecond), limited)
		})
	}
}

// Presses with data the bot never put on this question, in the middle of an
// exercise: each is answered (the button stops spinning), none answers the
// step, and a real press afterwards still does.
func TestForgedPressesInAnExercise(t *testing.T) {
	h := newHarness(t, "webhook")
	h.start()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const chat, other = 6003, 6004
	inputs, menu := onboard(ctx, h, chat)
	p := h.player(chat)
	p.seen = menu.MessageID
	p.press(menu, "x:abandonment")
	inputs = append(inputs, soak.Input{UpdateID: p.updates[0], Kind: "button"})
	var step fakebotapi.SentMessage
	for {
		step = p.nextPrompt(ctx)
		p.seen = step.MessageID
		if !slicesContainsAction(step, "w") {
			break
		}
	}
	_, otherMenu := onboard(ctx, h, other)
	h.waitIdle(ctx)
	waitDelivered(ctx, h, chat)
	before := h.state(chat)
	if before.Run == nil {
		t.Fatal("no exercise running")
	}
	n := before.Prompt
	var otherData string
	for _, row := range otherMenu.Buttons {
		otherData = row[0].CallbackData // another person's real button
	}
	forged := []string{
		fmt.Sprintf("%d.o:geen_optie", n),
		fmt.Sprintf("%d.o:%s", n+1, "fear"),
		fmt.Sprintf("%d.w", n),
		fmt.Sprintf("%d.d", n),
		fmt.Sprintf("%d.o:", n),
		fmt.Sprintf("\u202e%d.s", n),
		fmt.Sprintf("%d.s\x00", n),
		fmt.Sprintf("0%d.o:x", n),
		"-1.c:y",
		"abc.d",
		strings.Repeat("1", 70) + ".s",
		"privacy:delete:vervalst",
		otherData,
	}
	var cbs []string
	for _, data := range forged {
		id, cb := h.fake.PressButton(chat, step.MessageID, data)
		inputs = append(inputs, soak.Input{UpdateID: id, Kind: "button"})
		cbs = append(cbs, cb)
	}
	err := h.fake.WaitFor(ctx, func(s *fakebotapi.Server) bool {
		answered := map[string]bool{}
		for _, m := range s.Sent(chat) {
			if m.Kind == fakebotapi.KindCallbackAnswer {
				answered[m.CallbackQueryID] = true
			}
		}
		for _, cb := range cbs {
			if !answered[cb] {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("not every forged press was answered: %v", err)
	}
	h.waitIdle(ctx)
	after := h.state(chat)
	if after.Run == nil || after.Run.Step != before.Run.Step || len(after.Run.Answers) != len(before.Run.Answers) || after.Run.Stopped {
		t.Fatalf("forged presses moved the exercise: %+v -> %+v", before.Run, after.Run)
	}
	// A real press (or answer) still answers the step.
	option := ""
	for _, row := range step.Buttons {
		for _, b := range row {
			if a := buttonAction(b.CallbackData); option == "" && strings.HasPrefix(a, "o:") {
				option = b.CallbackData
			}
		}
	}
	switch {
	case option == "":
		text := "Het voelt zwaar in mijn borst"
		inputs = append(inputs, soak.Input{UpdateID: h.fake.SendText(chat, text), Kind: "text", Text: text})
	case slicesContainsAction(step, "d"):
		id, _ := h.fake.PressButton(chat, step.MessageID, option)
		inputs = append(inputs, soak.Input{UpdateID: id, Kind: "button"})
		for _, row := range step.Buttons {
			for _, b := range row {
				if buttonAction(b.CallbackData) == "d" {
					id, _ := h.fake.PressButton(chat, step.MessageID, b.CallbackData)
					inputs = append(inputs, soak.Input{UpdateID: id, Kind: "button"})
				}
			}
		}
	default:
		id, _ := h.fake.PressButton(chat, step.MessageID, option)
		inputs = append(inputs, soak.Input{UpdateID: id, Kind: "button"})
	}
	h.waitIdle(ctx)
	if st := h.state(chat); st.Run == nil || (st.Run.Step == before.Run.Step && len(st.Run.Answers) == len(before.Run.Answers)) {
		t.Fatalf("a real press after the forged ones did not answer the step: %+v", st.Run)
	}
	checkChat(ctx, h, chat, inputs)
}

func slicesContainsAction(m fakebotapi.SentMessage, action string) bool {
	for _, row := range m.Buttons {
		for _, b := range row {
			if buttonAction(b.CallbackData) == action {
				return true
			}
		}
	}
	return false
}
