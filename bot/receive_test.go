package bot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/internal/fakebotapi"
)

func TestExerciseOne(t *testing.T) {
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, mode)
			h.start()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			p := h.player(1001)
			p.playExercise(ctx)
			h.waitIdle(ctx)

			// Every button press was answered, so none keeps spinning.
			var answers int
			for _, m := range h.fake.Sent(1001) {
				if m.Kind == fakebotapi.KindCallbackAnswer {
					answers++
				}
			}
			var presses int
			for _, c := range h.fake.Calls("answerCallbackQuery") {
				if c.Status == http.StatusOK {
					presses++
				}
			}
			if answers == 0 || answers != presses {
				t.Errorf("%d callback answers recorded, %d accepted", answers, presses)
			}
			// The command menu is set in Dutch, English and by default.
			for lang, want := range map[string]string{"nl": "Kies een oefening", "en": "Choose an exercise", "": "Choose an exercise"} {
				cmds := h.fake.Commands(lang)
				if len(cmds) != 12 || cmds[2].Command != "exercises" || cmds[2].Description != want {
					t.Errorf("commands for %q = %+v", lang, cmds)
				}
			}
		})
	}
}

// A hard stop in the middle of a turn (as a crash would) loses nothing and
// doubles nothing: the next start continues at the right step.
func TestHardStopAndRestart(t *testing.T) {
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, mode)
			var held atomic.Bool
			entered := make(chan struct{})
			h.svcOpts = append(h.svcOpts, conversation.WithHook(func(ctx context.Context, turn *conversation.Turn) error {
				if strings.Contains(turn.In.Input.Text, "HOLD") && held.CompareAndSwap(false, true) {
					close(entered)
					<-ctx.Done() // until the hard stop
					return ctx.Err()
				}
				return nil
			}))
			first := h.start(WithGrace(0))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()

			const chat = 2002
			p := h.player(chat)
			p.send(h.fake.SendCommand(chat, "/start"))
			// Play until the first free-text question, and answer it with the
			// text the hook holds.
			for {
				m := p.nextPrompt(ctx)
				if len(m.Buttons) == 1 && len(m.Buttons[0]) == 1 && buttonAction(m.Buttons[0][0].CallbackData) == "s" {
					p.seen = m.MessageID
					held := h.fake.SendText(chat, "HOLD: de ander reageert niet")
					p.send(held)
					p.answered++
					select {
					case <-entered:
					case <-ctx.Done():
						t.Fatal("the held turn never started")
					}
					// Two more updates of the chat arrive behind it.
					sticker := h.fake.UserMessage(chat, "")
					sticker.Sticker = &models.Sticker{FileID: "st1", FileUniqueID: "u1", Type: "regular", Width: 512, Height: 512}
					sid, err := h.fake.SendUpdate(models.Update{Message: sticker})
					if err != nil {
						t.Fatal(err)
					}
					p.send(sid)
					stale, _ := h.fake.PressButton(chat, 1, "1.c:y")
					p.send(stale)
					if mode == "polling" {
						waitDepth(t, ctx, h, 3)
					}
					break
				}
				p.handle(m)
			}
			first.stop(t)
			if h.processed(source(p.updates[len(p.updates)-3])) {
				t.Fatal("the turn cut off by the hard stop was kept")
			}
			switch mode {
			case "polling":
				// Confirmed to Telegram with the next offset, so kept in
				// the inbox.
				if n, _ := h.db.InboxDepth(ctx); n < 3 {
					t.Fatalf("inbox holds %d updates after the stop, want the 3 unprocessed ones", n)
				}
			default:
				// The held update was processed inside its request (its
				// chat was free), which the stop cut off before a 200: so
				// Telegram keeps it, and the two behind it, for the next
				// start.
				if n := h.fake.PendingUpdates(); n < 3 {
					t.Fatalf("Telegram holds %d updates after the stop, want the 3 unprocessed ones", n)
				}
			}

			h.start()
			for p.step(ctx) {
			}
			p.checkExercise()
			h.waitIdle(ctx)
			// The sticker was answered after the held answer, in order.
			var kinds []string
			for _, e := range h.transcript(chat) {
				if e.Direction == "out" && e.Text == h.lib.Text("input.unsupported", "nl") {
					kinds = append(kinds, "unsupported")
				}
				if e.Direction == "in" && strings.Contains(e.Text, "HOLD") {
					kinds = append(kinds, "held")
				}
			}
			if !slices.Equal(kinds, []string{"held", "unsupported"}) {
				t.Errorf("transcript order = %v, want the held answer, then the sticker's reply", kinds)
			}
		})
	}
}

// waitDepth waits until the inbox holds at least n updates.
func waitDepth(t *testing.T, ctx context.Context, h *harness, n int64) {
	t.Helper()
	for {
		d, err := h.db.InboxDepth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("inbox depth %d, want %d: %v", d, n, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// post sends a body to the bot's webhook.
func post(t *testing.T, url, secret, method string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set(secretHeader, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func startUpdate(id, chat int64) []byte {
	return fmt.Appendf(nil, `{"update_id":%d,"message":{"message_id":1,"date":1700000000,"from":{"id":%d,"is_bot":false,"first_name":"Sam","language_code":"nl"},"chat":{"id":%d,"type":"private","first_name":"Sam"},"text":"/start","entities":[{"type":"bot_command","offset":0,"length":6}]}}`, id, chat, chat)
}

func (h *harness) outboxCount(chat int64) int {
	h.t.Helper()
	var n int
	err := h.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM outbox o JOIN people p ON p.id = o.person_id
WHERE p.channel = 'telegram' AND p.external_id = $1`, chat).Scan(&n)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// The same update delivered twice, at once or after it was processed, takes
// effect once.
func TestDuplicateUpdateIsOneStep(t *testing.T) {
	h := newHarness(t, "webhook")
	in := h.start()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := "http://" + in.hookAddr + "/telegram"
	const chat = 3003
	body := startUpdate(900001, chat)
	for i := range 2 {
		if code, _ := post(t, url, testSecret, http.MethodPost, body); code != http.StatusOK {
			t.Fatalf("post %d: status %d", i, code)
		}
	}
	h.waitIdle(ctx)
	once, lines := h.outboxCount(chat), len(h.transcript(chat))
	if once == 0 {
		t.Fatal("/start queued nothing")
	}
	if code, _ := post(t, url, testSecret, http.MethodPost, body); code != http.StatusOK {
		t.Fatalf("redelivery: status %d", code)
	}
	h.waitIdle(ctx)
	if got := h.outboxCount(chat); got != once {
		t.Errorf("outbox holds %d messages after a redelivery, want %d", got, once)
	}
	if got := len(h.transcript(chat)); got != lines {
		t.Errorf("transcript has %d lines after a redelivery, want %d", got, lines)
	}
	if !h.processed("tg:900001") {
		t.Error("the update is not recorded as processed")
	}
}

// Fifty people write at once; each one's messages reach the engine in the
// order they were sent.
func TestManyChatsKeepTheirOrder(t *testing.T) {
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, mode)
			h.start()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			const chats, perChat = 50, 10
			chat := func(i int) int64 { return int64(5000 + i) }
			for i := range chats {
				h.fake.SendCommand(chat(i), "/start")
			}
			for i := range chats {
				p := h.player(chat(i))
				p.press(p.nextPrompt(ctx), "c:y")
			}
			h.waitIdle(ctx)
			for n := 1; n <= perChat; n++ {
				for i := range chats {
					h.fake.SendText(chat(i), fmt.Sprintf("bericht %d", n))
				}
			}
			h.waitIdle(ctx)
			for i := range chats {
				var got []string
				for _, e := range h.transcript(chat(i)) {
					if e.Direction == "in" && e.Kind == "text" {
						got = append(got, e.Text)
					}
				}
				var want []string
				for n := 1; n <= perChat; n++ {
					want = append(want, fmt.Sprintf("bericht %d", n))
				}
				if !slices.Equal(got, want) {
					t.Errorf("chat %d: the engine heard %q, want %q", chat(i), got, want)
				}
			}
		})
	}
}

func TestWebhookRejectsBadRequests(t *testing.T) {
	h := newHarness(t, "webhook")
	in := h.start()
	url := "http://" + in.hookAddr + "/telegram"
	body := startUpdate(700001, 7007)
	tests := []struct {
		name   string
		method string
		secret string
		body   []byte
		want   int
	}{
		{name: "no secret", method: http.MethodPost, body: body, want: http.StatusUnauthorized},
		{name: "wrong secret", method: http.MethodPost, secret: "test-secret_0123456788", body: body, want: http.StatusUnauthorized},
		{name: "a prefix of the secret", method: http.MethodPost, secret: testSecret[:5], body: body, want: http.StatusUnauthorized},
		{name: "wrong secret and garbage", method: http.MethodPost, secret: "x", body: []byte("{"), want: http.StatusUnauthorized},
		{name: "GET", method: http.MethodGet, secret: testSecret, want: http.StatusMethodNotAllowed},
		{name: "not JSON", method: http.MethodPost, secret: testSecret, body: []byte("Ik voel me <alleen>"), want: http.StatusBadRequest},
		{name: "no update id", method: http.MethodPost, secret: testSecret, body: []byte(`{"message":{}}`), want: http.StatusBadRequest},
		{name: "too large", method: http.MethodPost, secret: testSecret, body: bytes.Repeat([]byte(" "), maxWebhookBody+1), want: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, text := post(t, url, tt.secret, tt.method, tt.body)
			if code != tt.want {
				t.Errorf("status %d (%q), want %d", code, text, tt.want)
			}
			if strings.Contains(text, "alleen") {
				t.Errorf("the answer quotes the body: %q", text)
			}
		})
	}
	if n, err := h.db.InboxDepth(context.Background()); err != nil || n != 0 {
		t.Errorf("inbox depth %d, %v; want nothing stored", n, err)
	}
	if h.processed("tg:700001") || len(h.fake.Messages(7007)) != 0 {
		t.Error("a rejected update was processed")
	}
}

// Stale and forged button presses change nothing, and are answered.
func TestStaleAndForgedButtons(t *testing.T) {
	h := newHarness(t, "polling")
	h.start()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const chat = 4004
	p := h.player(chat)
	p.send(h.fake.SendCommand(chat, "/start"))
	consent := p.nextPrompt(ctx)
	p.press(consent, "c:y")
	p.seen = consent.MessageID
	menu := p.nextPrompt(ctx)
	h.waitIdle(ctx)
	before, outBefore := h.state(chat), h.outboxCount(chat)

	stale, unknown := h.lib.Text("button.stale", "nl"), h.lib.Text("button.unknown", "nl")
	tests := []struct {
		name      string
		messageID int
		data      string
		notice    string
	}{
		{name: "an answered question", messageID: consent.MessageID, data: "1.c:y", notice: stale},
		{name: "an old nonce on the menu", messageID: menu.MessageID, data: "1.x:abandonment", notice: stale},
		{name: "an answer to no step", messageID: menu.MessageID, data: fmt.Sprintf("%d.o:fear", before.Prompt), notice: stale},
		{name: "made-up data", messageID: menu.MessageID, data: "geen knop", notice: unknown},
		{name: "a feature prefix nobody registered", messageID: menu.MessageID, data: "zzz:1", notice: unknown},
		{name: "overlong data", messageID: menu.MessageID, data: strings.Repeat("9", 64) + ".d", notice: unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cb := h.fake.PressButton(chat, tt.messageID, tt.data)
			err := h.fake.WaitFor(ctx, func(s *fakebotapi.Server) bool {
				for _, m := range s.Sent(chat) {
					if m.Kind == fakebotapi.KindCallbackAnswer && m.CallbackQueryID == cb {
						return true
					}
				}
				return false
			})
			if err != nil {
				t.Fatalf("not answered: %v", err)
			}
			for _, m := range h.fake.Sent(chat) {
				if m.CallbackQueryID == cb && m.Text != tt.notice {
					t.Errorf("answered %q, want %q", m.Text, tt.notice)
				}
			}
		})
	}
	h.waitIdle(ctx)
	after := h.state(chat)
	if after.Prompt != before.Prompt || after.Stage != before.Stage || after.Run != nil || after.Menu != before.Menu {
		t.Errorf("state changed: %+v -> %+v", before, after)
	}
	if got := h.outboxCount(chat); got != outBefore {
		t.Errorf("outbox grew from %d to %d", outBefore, got)
	}
}

// A panic while processing one update is recovered: the person gets an
// apology, the update counts as processed, and the next update works.
func TestPanicIsRecovered(t *testing.T) {
	h := newHarness(t, "polling")
	h.svcOpts = append(h.svcOpts, conversation.WithHook(func(_ context.Context, turn *conversation.Turn) error {
		if turn.In.Input.Text == "boom" || turn.In.Input.Data == "boom" {
			panic("kapot: " + turn.In.Input.Text) // the text must not reach the log
		}
		return nil
	}))
	in := h.start()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const chat = 6006
	boom := h.fake.SendText(chat, "boom")
	msgs, err := h.fake.WaitMessages(ctx, chat, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msgs[0].Text, "Sorry") {
		t.Errorf("after a panic the person got %q, want the apology", msgs[0].Text)
	}
	_, cb := h.fake.PressButton(chat, msgs[0].MessageID, "boom")
	if err := h.fake.WaitFor(ctx, func(s *fakebotapi.Server) bool {
		return slices.ContainsFunc(s.Sent(chat), func(m fakebotapi.SentMessage) bool { return m.CallbackQueryID == cb })
	}); err != nil {
		t.Fatalf("a button whose turn panicked was not answered: %v", err)
	}
	h.fake.SendCommand(chat, "/start")
	if _, err := h.fake.WaitMessages(ctx, chat, 4); err != nil { // two apologies, then welcome and consent
		t.Fatal(err)
	}
	h.waitIdle(ctx)
	if !h.processed(source(boom)) {
		t.Error("the update that panicked is not recorded as processed")
	}
	if st := h.state(chat); st.Stage != "consent" {
		t.Errorf("after /start the stage is %q, want consent", st.Stage)
	}
	_ = in
}

func TestMembershipGroupsAndStickers(t *testing.T) {
	h := newHarness(t, "polling")
	h.start()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const chat = 8008
	h.fake.SendCommand(chat, "/start")
	if _, err := h.fake.WaitMessages(ctx, chat, 2); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		do   func() int64
		want bool
	}{
		{do: func() int64 { return h.fake.Block(chat) }, want: false},
		{do: func() int64 { return h.fake.Unblock(chat) }, want: true},
		{do: func() int64 { return h.fake.Block(chat) }, want: false},
	}
	for i, s := range steps {
		id := s.do()
		h.waitIdle(ctx)
		if got := h.person(chat).Active; got != s.want {
			t.Errorf("step %d: active = %v, want %v", i, got, s.want)
		}
		if !h.processed(source(id)) {
			t.Errorf("step %d: the membership update is not recorded", i)
		}
	}
	// Someone the bot never talked to blocks it: nobody to mark, nobody made.
	h.fake.Block(8009)
	h.waitIdle(ctx)
	var n int
	if err := h.db.Pool().QueryRow(ctx, `SELECT count(*) FROM people WHERE external_id = 8009`).Scan(&n); err != nil || n != 0 {
		t.Errorf("people for an unknown blocker: %d, %v", n, err)
	}

	// A group hears once that the bot only talks in private.
	const group = -4242
	h.fake.SendText(group, "hoi iedereen")
	h.fake.SendCommand(group, "/start")
	h.fake.SendText(group, "hallo?")
	h.waitIdle(ctx)
	msgs := h.fake.Messages(group)
	if len(msgs) != 1 || msgs[0].Text != groupNotice {
		t.Errorf("group got %d messages (%+v), want the notice once", len(msgs), msgs)
	}
	if _, err := h.db.FindPerson(ctx, personKey(group)); err == nil {
		t.Error("a group became a person")
	}

	// A sticker and a photo get the kind reply.
	const person = 9009
	h.fake.SendCommand(person, "/start")
	pp := h.player(person)
	consent := pp.nextPrompt(ctx)
	pp.seen = consent.MessageID
	pp.press(consent, "c:y")
	pp.nextPrompt(ctx) // the menu, the last message of the consent's turn
	sent := len(h.fake.Messages(person))
	sticker := h.fake.UserMessage(person, "")
	sticker.Sticker = &models.Sticker{FileID: "st", FileUniqueID: "u", Type: "regular", Width: 512, Height: 512}
	photo := h.fake.UserMessage(person, "")
	photo.Photo = []models.PhotoSize{{FileID: "ph", FileUniqueID: "pu", Width: 10, Height: 10}}
	photo.Caption = "mijn hond"
	for _, m := range []*models.Message{sticker, photo} {
		if _, err := h.fake.SendUpdate(models.Update{Message: m}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := h.fake.WaitMessages(ctx, person, sent+2)
	if err != nil {
		t.Fatal(err)
	}
	kind := h.lib.Text("input.unsupported", "nl")
	for _, m := range msgs[sent:] {
		if m.Text != kind {
			t.Errorf("reply to a sticker or photo = %q, want %q", m.Text, kind)
		}
	}
}

func textUpdate(id, chat int64, text string) []byte {
	return fmt.Appendf(nil, `{"update_id":%d,"message":{"message_id":%d,"date":1700000000,"from":{"id":%d,"is_bot":false,"first_name":"Sam","language_code":"nl"},"chat":{"id":%d,"type":"private","first_name":"Sam"},"text":%q}}`, id, id, chat, chat, text)
}

// An update of a free chat is processed inside its webhook request, without
// the inbox; an update whose chat is busy goes through the inbox and still
// comes after the one before it.
func TestWebhookInlineAndInbox(t *testing.T) {
	h := newHarness(t, "webhook")
	release := make(chan struct{})
	entered := make(chan struct{})
	var held atomic.Bool
	h.svcOpts = append(h.svcOpts, conversation.WithHook(func(ctx context.Context, turn *conversation.Turn) error {
		if strings.Contains(turn.In.Input.Text, "HOLD") && held.CompareAndSwap(false, true) {
			close(entered)
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}))
	reg := prometheus.NewRegistry()
	in := h.start(WithRegistry(reg))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	received := func(path string) int {
		t.Helper()
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() != "stilstaan_updates_received_total" {
				continue
			}
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "path" && l.GetValue() == path {
						return int(m.GetCounter().GetValue())
					}
				}
			}
		}
		t.Fatalf("no stilstaan_updates_received_total{path=%q}", path)
		return 0
	}

	// One person plays an exercise: every update finds the chat free.
	p := h.player(1001)
	p.playExercise(ctx)
	h.waitIdle(ctx)
	if n := received(pathInbox); n != 0 {
		t.Errorf("%d updates of a free chat went through the inbox", n)
	}
	if n := received(pathInline); n != len(p.updates) {
		t.Errorf("%d updates processed inline, want all %d", n, len(p.updates))
	}

	// Another chat is busy with a turn when its next update arrives (as
	// from another replica, or Telegram not waiting).
	const chat = 4004
	url := "http://" + in.hookAddr + "/telegram"
	if code, _ := post(t, url, testSecret, http.MethodPost, startUpdate(700001, chat)); code != http.StatusOK {
		t.Fatalf("/start: status %d", code)
	}
	heldDone := make(chan int, 1)
	go func() {
		code, _ := post(t, url, testSecret, http.MethodPost, textUpdate(700002, chat, "HOLD: eerst dit"))
		heldDone <- code
	}()
	select {
	case <-entered:
	case <-ctx.Done():
		t.Fatal("the held turn never started")
	}
	inboxBefore := received(pathInbox)
	nextDone := make(chan int, 1)
	go func() {
		code, _ := post(t, url, testSecret, http.MethodPost, textUpdate(700003, chat, "en daarna dit"))
		nextDone <- code
	}()
	select {
	case code := <-nextDone:
		if code != http.StatusOK {
			t.Fatalf("update behind a busy chat: status %d", code)
		}
	case <-ctx.Done():
		t.Fatal("the update behind a busy chat was not answered while the chat was busy")
	}
	if n := received(pathInbox) - inboxBefore; n != 1 {
		t.Errorf("%d updates stored in the inbox behind the busy chat, want 1", n)
	}
	if h.processed("tg:700003") {
		t.Fatal("the update behind the busy chat ran before the one in progress")
	}
	close(release)
	if code := <-heldDone; code != http.StatusOK {
		t.Fatalf("held update: status %d", code)
	}
	h.waitIdle(ctx)
	rows, _ := h.db.Pool().Query(ctx, `SELECT source FROM inputs WHERE source LIKE 'tg:70000%' ORDER BY processed_at, source`)
	order, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"tg:700001", "tg:700002", "tg:700003"}; !slices.Equal(order, want) {
		t.Errorf("the chat's updates took effect as %q, want %q", order, want)
	}
}
