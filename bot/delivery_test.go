package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/internal/fakebotapi"
	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

const deliveryTestToken = "424242:delivery-SECRET-token"

// deliveryFixture is a real database, the fake Bot API server and the real
// client pointed at it. Everything the deliveries under test log goes to the
// test output and a buffer that is checked, when the test ends, for the
// token and for every text that was enqueued.
type deliveryFixture struct {
	t    testing.TB
	db   *storage.DB
	fake *fakebotapi.Server
	api  *bot.Bot
	cfg  config.Telegram
	log  *slog.Logger

	mu    sync.Mutex
	texts []string
	logs  bytes.Buffer
}

func newDeliveryFixture(t testing.TB, fakeOpts ...fakebotapi.Option) *deliveryFixture {
	t.Helper()
	f := &deliveryFixture{t: t, db: storagetest.New(t), fake: fakebotapi.New(t, deliveryTestToken, fakeOpts...)}
	tr := &http.Transport{MaxIdleConnsPerHost: 128}
	t.Cleanup(tr.CloseIdleConnections)
	api, err := bot.New(deliveryTestToken, bot.WithServerURL(f.fake.URL()), bot.WithSkipGetMe(),
		bot.WithHTTPClient(time.Minute, &http.Client{Transport: tr}))
	if err != nil {
		t.Fatal(err)
	}
	f.api = api
	f.cfg = config.Telegram{Workers: 8, PerChatBurst: 1, SendTimeout: 2 * time.Second, MaxSendRetries: 5}
	f.log = slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), lockedWriter{&f.mu, &f.logs}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(f.checkLogs)
	return f
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func (f *deliveryFixture) checkLogs() {
	f.mu.Lock()
	defer f.mu.Unlock()
	logs := f.logs.String()
	if strings.Contains(logs, deliveryTestToken) || strings.Contains(logs, "SECRET") {
		f.t.Errorf("the logs contain the bot token")
	}
	for _, text := range f.texts {
		if strings.Contains(logs, text) {
			f.t.Errorf("the logs contain message text %q", text)
		}
	}
}

// delivery returns a Delivery on the fixture with quick test timings.
func (f *deliveryFixture) delivery(opts ...DeliveryOption) *Delivery {
	base := []DeliveryOption{
		WithDeliveryLogger(f.log), WithDeliveryPoll(20 * time.Millisecond),
		WithDeliveryBackoff(5*time.Millisecond, 50*time.Millisecond), WithDeliveryLease(6 * time.Second),
	}
	return NewDelivery(f.db, f.api, f.cfg, append(base, opts...)...)
}

// run starts d.Run; the returned stop cancels it and waits until it returned.
func (f *deliveryFixture) run(d *Delivery) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					f.t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				f.t.Errorf("Run did not return 30s after its context ended")
			}
		})
	}
	f.t.Cleanup(stop)
	return stop
}

// enqueue writes messages for the Telegram chat through a real turn and
// returns the person's id.
func (f *deliveryFixture) enqueue(chatID int64, priority int, kind string, envs ...conversation.Envelope) int64 {
	f.t.Helper()
	var id int64
	_, err := f.db.Turn(context.Background(), storage.PersonKey{Channel: conversation.ChannelTelegram, ExternalID: chatID}, "",
		func(tx *storage.Tx) error {
			id = tx.Person().ID
			for _, env := range envs {
				payload, err := json.Marshal(env)
				if err != nil {
					return err
				}
				tx.Enqueue(storage.Outgoing{Kind: kind, Payload: payload, Priority: priority, Prompt: env.Prompt})
			}
			return nil
		})
	if err != nil {
		f.t.Fatalf("enqueue for chat %d: %v", chatID, err)
	}
	f.mu.Lock()
	for _, env := range envs {
		if len(env.Text) >= 8 { // short texts could match a log word by chance
			f.texts = append(f.texts, env.Text)
		}
	}
	f.mu.Unlock()
	return id
}

// texts enqueues n numbered messages for the chat.
func (f *deliveryFixture) numbered(chatID int64, n, priority int) int64 {
	f.t.Helper()
	envs := make([]conversation.Envelope, n)
	for i := range envs {
		envs[i] = conversation.Envelope{Text: numberedText(chatID, i)}
	}
	return f.enqueue(chatID, priority, conversation.KindMessage, envs...)
}

func numberedText(chatID int64, i int) string {
	return fmt.Sprintf("bericht %03d voor chat %d", i, chatID)
}

// waitMessages waits until the chat got n messages and returns them.
func (f *deliveryFixture) waitMessages(chatID int64, n int) []fakebotapi.SentMessage {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	msgs, err := f.fake.WaitMessages(ctx, chatID, n)
	if err != nil {
		f.t.Fatalf("chat %d: %v (got %d)", chatID, err, len(msgs))
	}
	return msgs
}

// waitTotal waits until the fake accepted n sends in all.
func (f *deliveryFixture) waitTotal(n int) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := f.fake.WaitFor(ctx, func(s *fakebotapi.Server) bool { return s.Stats().Sent >= n }); err != nil {
		f.t.Fatalf("waiting for %d sends: %v (got %d)", n, err, f.fake.Stats().Sent)
	}
}

// checkOrder checks that the chat got exactly its n numbered messages, in order.
func (f *deliveryFixture) checkOrder(chatID int64, n int) {
	f.t.Helper()
	msgs := f.fake.Messages(chatID)
	if len(msgs) != n {
		f.t.Errorf("chat %d got %d messages, want %d", chatID, len(msgs), n)
	}
	for i, m := range msgs {
		if i < n && m.Text != numberedText(chatID, i) {
			f.t.Errorf("chat %d message %d = %q, want %q", chatID, i, m.Text, numberedText(chatID, i))
			return
		}
	}
}

// outboxRow is a row of the outbox as the tests check it.
type outboxRow struct {
	status    string
	attempts  int
	remoteID  *int64
	lastError *string
}

func (f *deliveryFixture) outbox(personID int64) []outboxRow {
	f.t.Helper()
	rows, err := f.db.Pool().Query(context.Background(),
		`SELECT status, attempts, remote_id, last_error FROM outbox WHERE person_id = $1 ORDER BY id`, personID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.status, &r.attempts, &r.remoteID, &r.lastError); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func (f *deliveryFixture) statuses(personID int64) []string {
	var out []string
	for _, r := range f.outbox(personID) {
		out = append(out, r.status)
	}
	return out
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestDeliveryOrderManyChats(t *testing.T) {
	f := newDeliveryFixture(t)
	const chats, each = 50, 10
	people := map[int64]int64{}
	for c := int64(1); c <= chats; c++ {
		people[c] = f.numbered(c, each, conversation.PriorityInteractive)
	}
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	d := f.delivery(WithDeliveryMetrics(m))
	stop := f.run(d)
	f.waitTotal(chats * each)
	stop()

	for c := int64(1); c <= chats; c++ {
		f.checkOrder(c, each)
		msgs := f.fake.Messages(c)
		for i, r := range f.outbox(people[c]) {
			if r.status != "sent" || r.remoteID == nil || i >= len(msgs) || *r.remoteID != int64(msgs[i].MessageID) {
				t.Errorf("chat %d outbox row %d = %+v, want sent with the message id Telegram gave", c, i, r)
			}
		}
	}
	if st := f.fake.Stats(); st.Duplicates != 0 || st.Sent != chats*each {
		t.Errorf("fake stats = %+v, want %d sent, no duplicates", st, chats*each)
	}
	if got := counterValue(t, m.Sends.WithLabelValues(sendResultSent)); got != chats*each {
		t.Errorf("sends{result=sent} = %v, want %d", got, chats*each)
	}
	var h dto.Metric
	if err := m.Latency.WithLabelValues(methodSendMessage).(prometheus.Histogram).Write(&h); err != nil {
		t.Fatal(err)
	}
	if got := h.GetHistogram().GetSampleCount(); got != chats*each {
		t.Errorf("latency samples = %d, want %d", got, chats*each)
	}
}

// The per-chat bucket: in any window of w seconds a chat gets at most
// burst + rate*w messages, measured on the fake's own timestamps.
func TestDeliveryPerChatSpacing(t *testing.T) {
	f := newDeliveryFixture(t)
	const (
		chats, each = 10, 10
		perSec      = 2.0
		burst       = 2
		// The fake stamps arrival, so a request delayed on a loaded machine
		// narrows a gap; a slow rate keeps the real gaps (500ms) well above it.
		jitter = 400 * time.Millisecond
	)
	f.cfg.PerChatRate, f.cfg.PerChatBurst = perSec, burst
	for c := int64(1); c <= chats; c++ {
		f.numbered(c, each, conversation.PriorityInteractive)
	}
	f.run(f.delivery())
	f.waitTotal(chats * each)

	for c := int64(1); c <= chats; c++ {
		f.checkOrder(c, each)
		msgs := f.fake.Messages(c)
		for i := range msgs {
			for j := i; j < len(msgs); j++ {
				w := msgs[j].Time.Sub(msgs[i].Time) + jitter
				if n := j - i + 1; float64(n) > burst+perSec*w.Seconds() {
					t.Fatalf("chat %d got %d messages within %v: over %d + %.0f/s", c, n, w-jitter, burst, perSec)
				}
			}
		}
		// And the limit did hold them back: the last goes no sooner than the
		// bucket allows.
		if span, least := msgs[len(msgs)-1].Time.Sub(msgs[0].Time), time.Duration(float64(each-burst)/perSec*float64(time.Second))-jitter; span < least {
			t.Errorf("chat %d got %d messages within %v, want at least %v", c, each, span, least)
		}
	}
	if st := f.fake.Stats(); st.MaxChatPerSecond > burst+int(perSec) {
		t.Errorf("fake counted %d messages for one chat in one clock second, over %d", st.MaxChatPerSecond, burst+int(perSec))
	}
}

func TestDeliveryGlobalRate(t *testing.T) {
	f := newDeliveryFixture(t)
	const chats, rate = 40, 20.0
	f.cfg.GlobalRate = rate
	for c := int64(1); c <= chats; c++ {
		f.numbered(c, 1, conversation.PriorityInteractive)
	}
	start := time.Now()
	f.run(f.delivery())
	f.waitTotal(chats)
	// Burst 2 (a tenth of a second's sends), then 20/s: 38 more take 1.9s.
	if took, least := time.Since(start), time.Duration(float64(chats-2)/rate*float64(time.Second))-50*time.Millisecond; took < least {
		t.Errorf("%d sends at %v/s took %v, want at least %v", chats, rate, took, least)
	}
	if st := f.fake.Stats(); st.MaxGlobalPerSecond > int(rate)+2 {
		t.Errorf("fake counted %d sends in one clock second, over %v + burst", st.MaxGlobalPerSecond, rate)
	}
}

// Transient errors are retried and keep the chat's order; the chat's later
// messages wait.
func TestDeliveryRetries(t *testing.T) {
	tests := []struct {
		name         string
		fault        fakebotapi.Fault
		sendTimeout  time.Duration
		wantResult   string
		wantReason   string
		wantAttempts int           // of the first message
		minGap       time.Duration // between the failed call and the retry
	}{
		{name: "429 honours retry_after", fault: fakebotapi.TooManyRequests(1), wantResult: sendResultRetry429,
			wantReason: sendErrRateLimited, wantAttempts: 0, minGap: time.Second},
		{name: "500 then success", fault: fakebotapi.ServerError(), wantResult: sendResultRetry5xx,
			wantReason: sendErrServer, wantAttempts: 1},
		{name: "502 page that is not JSON", fault: fakebotapi.BadGateway(), wantResult: sendResultRetry5xx,
			wantReason: sendErrUndecodable, wantAttempts: 1},
		{name: "slow answer beyond the send timeout", fault: fakebotapi.Slow(5 * time.Second), sendTimeout: 300 * time.Millisecond,
			wantResult: sendResultRetryNetwork, wantReason: sendErrTimeout, wantAttempts: 1},
		{name: "dropped connection", fault: fakebotapi.Drop(), wantResult: sendResultRetryNetwork,
			wantReason: sendErrNetwork, wantAttempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newDeliveryFixture(t)
			if tt.sendTimeout > 0 {
				f.cfg.SendTimeout = tt.sendTimeout
			}
			const chat, other, each = 7, 8, 4
			person := f.numbered(chat, each, conversation.PriorityInteractive)
			f.fake.FailNext("sendMessage", 1, tt.fault)
			m := NewMetrics(prometheus.NewRegistry())
			f.run(f.delivery(WithDeliveryMetrics(m)))
			f.waitMessages(chat, each)
			f.checkOrder(chat, each)

			// Another chat is not held up by the one that waits.
			f.numbered(other, 2, conversation.PriorityInteractive)
			f.waitMessages(other, 2)

			var calls []fakebotapi.Call
			for _, c := range f.fake.Calls("sendMessage") {
				if c.ChatID == chat {
					calls = append(calls, c)
				}
			}
			if len(calls) != each+1 {
				t.Fatalf("chat %d: %d sendMessage calls, want %d (one retry)", chat, len(calls), each+1)
			}
			if calls[0].Fault == nil || calls[1].Params["text"] != calls[0].Params["text"] {
				t.Errorf("the first call was not the failed one, or the retry sent another message")
			}
			if gap := calls[1].Time.Sub(calls[0].Time); gap < tt.minGap {
				t.Errorf("retry came %v after the failure, want at least %v", gap, tt.minGap)
			}
			if st := f.fake.Stats(); st.Duplicates != 0 {
				t.Errorf("duplicates: %d", st.Duplicates)
			}

			f.waitRows(person, repeat("sent", each))
			if rows := f.outbox(person); rows[0].attempts != tt.wantAttempts {
				t.Errorf("first message = %d attempts, want %d", rows[0].attempts, tt.wantAttempts)
			}
			if got := counterValue(t, m.Sends.WithLabelValues(tt.wantResult)); got != 1 {
				t.Errorf("sends{result=%s} = %v, want 1", tt.wantResult, got)
			}
			if got := counterValue(t, m.Retries.WithLabelValues(tt.wantReason)); got != 1 {
				t.Errorf("retries{reason=%s} = %v, want 1", tt.wantReason, got)
			}
		})
	}
}

// counterValue reads a counter.
func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// waitRows waits until the person's outbox statuses are want.
func (f *deliveryFixture) waitRows(personID int64, want []string) {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		got := f.statuses(personID)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("person %d outbox = %q, want %q", personID, got, want)
		}
		<-tick.C
	}
}

func TestDeliveryGivesUpAfterMaxRetries(t *testing.T) {
	f := newDeliveryFixture(t)
	f.cfg.MaxSendRetries = 2
	person := f.numbered(9, 2, conversation.PriorityInteractive)
	f.fake.FailNext("sendMessage", 3, fakebotapi.ServerError())
	m := NewMetrics(prometheus.NewRegistry())
	stop := f.run(f.delivery(WithDeliveryMetrics(m)))
	msgs := f.waitMessages(9, 1)
	stop()
	if msgs[0].Text != numberedText(9, 1) {
		t.Errorf("chat got %q, want the second message", msgs[0].Text)
	}
	rows := f.outbox(person)
	if rows[0].status != "failed" || rows[0].attempts != 3 || !strings.HasPrefix(deref(rows[0].lastError), sendErrServer) {
		t.Errorf("first message = %+v (%s), want failed after 3 attempts", rows[0], deref(rows[0].lastError))
	}
	if rows[1].status != "sent" {
		t.Errorf("second message = %s, want sent", rows[1].status)
	}
	if got := counterValue(t, m.Sends.WithLabelValues(sendResultFailed)); got != 1 {
		t.Errorf("sends{result=failed} = %v, want 1", got)
	}
}

func TestDeliveryForbidden(t *testing.T) {
	f := newDeliveryFixture(t)
	blocked := f.numbered(1, 3, conversation.PriorityInteractive)
	f.enqueue(1, conversation.PriorityScheduled, conversation.KindMessage, conversation.Envelope{Text: "een check-in voor later"})
	for c := int64(2); c <= 4; c++ {
		f.numbered(c, 3, conversation.PriorityInteractive)
	}
	f.fake.Block(1)
	m := NewMetrics(prometheus.NewRegistry())
	stop := f.run(f.delivery(WithDeliveryMetrics(m)))
	for c := int64(2); c <= 4; c++ {
		f.waitMessages(c, 3)
	}
	f.waitRows(blocked, repeat("dropped", 4))
	stop()
	for c := int64(2); c <= 4; c++ {
		f.checkOrder(c, 3)
	}
	if n := len(f.fake.Messages(1)); n != 0 {
		t.Errorf("blocked chat got %d messages", n)
	}
	if calls := f.fake.Stats().Forbidden; calls != 1 {
		t.Errorf("%d calls answered 403, want 1: the rest of the queue is dropped unsent", calls)
	}
	var active bool
	if err := f.db.Pool().QueryRow(context.Background(), `SELECT active FROM people WHERE id = $1`, blocked).Scan(&active); err != nil || active {
		t.Errorf("blocked person active = %v, %v; want false", active, err)
	}
	if got := counterValue(t, m.Sends.WithLabelValues(sendResultDropped403)); got != 1 {
		t.Errorf("sends{result=dropped_403} = %v, want 1", got)
	}
}

func TestDeliveryBadRequest(t *testing.T) {
	f := newDeliveryFixture(t)
	person := f.numbered(5, 3, conversation.PriorityInteractive)
	f.fake.FailNext("sendMessage", 1, fakebotapi.BadRequest("message is too long"))
	stop := f.run(f.delivery())
	msgs := f.waitMessages(5, 2)
	f.waitRows(person, []string{"failed", "sent", "sent"})
	stop()
	if msgs[0].Text != numberedText(5, 1) || msgs[1].Text != numberedText(5, 2) {
		t.Errorf("chat got %q, %q; want the second and third message", msgs[0].Text, msgs[1].Text)
	}
	rows := f.outbox(person)
	if got := deref(rows[0].lastError); got != "bad_request: Bad Request: message is too long" {
		t.Errorf("last error = %q", got)
	}
	if n := f.fake.CallCount("sendMessage"); n != 3 {
		t.Errorf("%d sendMessage calls, want 3: a 400 is not retried", n)
	}
}

// Two replicas on one database send every message exactly once, in order.
func TestDeliveryTwoReplicas(t *testing.T) {
	f := newDeliveryFixture(t)
	f.cfg.Workers = 4
	const chats, total = 20, 500
	for c := int64(1); c <= chats; c++ {
		f.numbered(c, total/chats, conversation.PriorityInteractive)
	}
	m1, m2 := NewMetrics(prometheus.NewRegistry()), NewMetrics(prometheus.NewRegistry())
	d1 := f.delivery(WithDeliveryOwner("replica-1"), WithDeliveryMetrics(m1))
	d2 := f.delivery(WithDeliveryOwner("replica-2"), WithDeliveryMetrics(m2))
	stop1, stop2 := f.run(d1), f.run(d2)
	// Messages keep arriving while both run.
	for c := int64(chats + 1); c <= chats+5; c++ {
		f.numbered(c, 4, conversation.PriorityInteractive)
		d1.Wake()
		d2.Wake()
	}
	f.waitTotal(total + 20)
	stop1()
	stop2()

	if st := f.fake.Stats(); st.Duplicates != 0 || st.Sent != total+20 {
		t.Errorf("fake stats: %d sent, %d duplicates; want %d, 0", st.Sent, st.Duplicates, total+20)
	}
	for c := int64(1); c <= chats; c++ {
		f.checkOrder(c, total/chats)
	}
	for c := int64(chats + 1); c <= chats+5; c++ {
		f.checkOrder(c, 4)
	}
	s1 := counterValue(t, m1.Sends.WithLabelValues(sendResultSent))
	s2 := counterValue(t, m2.Sends.WithLabelValues(sendResultSent))
	if s1+s2 != total+20 {
		t.Errorf("replicas counted %v + %v sends, want %d", s1, s2, total+20)
	}
	t.Logf("replica-1 sent %v, replica-2 sent %v", s1, s2)
}

// Stopping a replica mid-flight and starting another loses nothing and
// repeats nothing.
func TestDeliveryRestartMidFlight(t *testing.T) {
	f := newDeliveryFixture(t)
	f.cfg.PerChatRate, f.cfg.PerChatBurst = 20, 1
	const chats, each = 10, 20
	people := map[int64]int64{}
	for c := int64(1); c <= chats; c++ {
		people[c] = f.numbered(c, each, conversation.PriorityInteractive)
	}
	stop := f.run(f.delivery(WithDeliveryOwner("first")))
	f.waitTotal(30)
	stop()
	sentBefore := f.fake.Stats().Sent
	if sentBefore >= chats*each {
		t.Fatalf("all %d messages went before the stop; the test needs a slower rate", sentBefore)
	}
	f.run(f.delivery(WithDeliveryOwner("second")))
	f.waitTotal(chats * each)
	for c := int64(1); c <= chats; c++ {
		f.checkOrder(c, each)
		f.waitRows(people[c], repeat("sent", each))
	}
	if st := f.fake.Stats(); st.Duplicates != 0 {
		t.Errorf("%d duplicates after the restart", st.Duplicates)
	}
	t.Logf("%d of %d sent before the stop", sentBefore, chats*each)
}

// A replica that dies holding leases: its chats are taken over once the
// leases run out, and nothing is lost.
func TestDeliveryTakesOverFromACrashedReplica(t *testing.T) {
	f := newDeliveryFixture(t)
	const chats, each = 5, 3
	for c := int64(1); c <= chats; c++ {
		f.numbered(c, each, conversation.PriorityInteractive)
	}
	const lease = 1500 * time.Millisecond
	qs, err := f.db.ClaimChats(context.Background(), "crashed", 100, lease)
	if err != nil || len(qs) != chats {
		t.Fatalf("the crashed replica claimed %d chats, %v", len(qs), err)
	}
	claimedAt := time.Now()
	f.run(f.delivery())
	f.waitTotal(chats * each)
	for c := int64(1); c <= chats; c++ {
		f.checkOrder(c, each)
		if first := f.fake.Messages(c)[0].Time; first.Sub(claimedAt) < lease-50*time.Millisecond {
			t.Errorf("chat %d was sent to %v after the crashed replica's claim, before its lease of %v ran out", c, first.Sub(claimedAt), lease)
		}
	}
}

// Telegram sent the message but the answer was lost: the message is sent
// again (at least once), and nothing after it is lost or reordered.
func TestDeliveryLostAnswerRepeatsOnlyThatMessage(t *testing.T) {
	f := newDeliveryFixture(t)
	person := f.numbered(3, 3, conversation.PriorityInteractive)
	f.fake.FailNext("sendMessage", 1, fakebotapi.LostResponse())
	f.run(f.delivery())
	msgs := f.waitMessages(3, 4)
	f.waitRows(person, repeat("sent", 3))
	var texts []string
	for _, m := range msgs {
		texts = append(texts, m.Text)
	}
	want := []string{numberedText(3, 0), numberedText(3, 0), numberedText(3, 1), numberedText(3, 2)}
	if !slices.Equal(texts, want) {
		t.Errorf("chat got %q, want %q", texts, want)
	}
}

func TestDeliveryEdits(t *testing.T) {
	f := newDeliveryFixture(t)
	buttons := func(data ...string) [][]dialogs.Button {
		var row []dialogs.Button
		for _, d := range data {
			row = append(row, dialogs.Button{Label: "knop " + d, Data: d})
		}
		return [][]dialogs.Button{row}
	}
	const chat = 11
	person := f.enqueue(chat, 0, conversation.KindMessage,
		conversation.Envelope{Text: "Eerste vraag van de oefening", Buttons: buttons("5:a", "5:b"), Prompt: 5},
		conversation.Envelope{Text: "Tweede vraag van de oefening", Buttons: buttons("6:a", "6:b"), Prompt: 6})
	f.enqueue(chat, 0, conversation.KindEdit,
		conversation.Envelope{Prompt: 5},                          // remove the first keyboard
		conversation.Envelope{Prompt: 6, Buttons: buttons("6:b")}, // replace the second
		conversation.Envelope{Prompt: 5},                          // not modified: counts as done
		conversation.Envelope{Prompt: 99})                         // never sent: fails
	stop := f.run(f.delivery())
	f.waitRows(person, []string{"sent", "sent", "sent", "sent", "sent", "failed"})
	stop()

	msgs := f.fake.Messages(chat)
	if len(msgs) != 2 {
		t.Fatalf("chat got %d messages, want 2", len(msgs))
	}
	first, _ := f.fake.Current(chat, msgs[0].MessageID)
	second, _ := f.fake.Current(chat, msgs[1].MessageID)
	if len(first.Buttons) != 0 || !first.Edited {
		t.Errorf("first message buttons = %v (edited %v), want none", first.Buttons, first.Edited)
	}
	if len(second.Buttons) != 1 || len(second.Buttons[0]) != 1 || second.Buttons[0][0].CallbackData != "6:b" {
		t.Errorf("second message buttons = %v, want only 6:b", second.Buttons)
	}
	var targets []int
	for _, c := range f.fake.Calls("editMessageReplyMarkup") {
		id, err := strconv.Atoi(c.Params["message_id"])
		if err != nil {
			t.Fatalf("edit call with message_id %q", c.Params["message_id"])
		}
		targets = append(targets, id)
	}
	if want := []int{msgs[0].MessageID, msgs[1].MessageID, msgs[0].MessageID}; !slices.Equal(targets, want) {
		t.Errorf("edits went to messages %v, want %v", targets, want)
	}
	rows := f.outbox(person)
	if deref(rows[5].lastError) != "prompt_not_sent" {
		t.Errorf("edit of an unsent prompt: last error %q", deref(rows[5].lastError))
	}
}

func TestDeliveryLongTextSplit(t *testing.T) {
	f := newDeliveryFixture(t)
	paragraphs := []string{strings.Repeat("Adem in. ", 400), strings.Repeat("Adem uit. ", 400), strings.Repeat("Hoe is het nu? ", 10)}
	text := strings.Join(paragraphs, "\n\n")
	person := f.enqueue(12, 0, conversation.KindMessage, conversation.Envelope{
		Text: text, Prompt: 3, Buttons: [][]dialogs.Button{{{Label: "Beter", Data: "3:better"}}}})
	f.enqueue(12, 0, conversation.KindMessage, conversation.Envelope{Text: "En dan het volgende bericht"})
	stop := f.run(f.delivery())
	msgs := f.waitMessages(12, 4)
	f.waitRows(person, []string{"sent", "sent"})
	stop()

	var parts []string
	for i, m := range msgs[:3] {
		if utf16Len(m.Text) > maxTextLen {
			t.Errorf("part %d is %d long", i, utf16Len(m.Text))
		}
		if (len(m.Buttons) > 0) != (i == 2) {
			t.Errorf("part %d buttons = %v; want buttons on the last part only", i, m.Buttons)
		}
		parts = append(parts, m.Text)
	}
	if !slices.Equal(parts, paragraphs) {
		t.Errorf("the parts are not the paragraphs")
	}
	if msgs[3].Text != "En dan het volgende bericht" {
		t.Errorf("fourth message = %q", msgs[3].Text)
	}
	remote, err := f.db.RemoteIDForPrompt(context.Background(), person, 3)
	if err != nil || remote != int64(msgs[2].MessageID) {
		t.Errorf("prompt 3 is on message %d (%v), want %d: the part with the buttons", remote, err, msgs[2].MessageID)
	}
}

func TestDeliveryPhotoAndDocument(t *testing.T) {
	f := newDeliveryFixture(t)
	png := []byte("\x89PNG\r\n\x1a\nnot really a picture")
	person := f.enqueue(13, 0, conversation.KindPhoto, conversation.Envelope{Text: "Jouw week in een plaatje", File: png, FileName: "week.png"})
	f.enqueue(13, 0, conversation.KindDocument, conversation.Envelope{Text: "Alles wat je schreef", File: []byte(`{"ok":true}`), FileName: "export.json"})
	stop := f.run(f.delivery())
	msgs := f.waitMessages(13, 2)
	f.waitRows(person, []string{"sent", "sent"})
	stop()
	if m := msgs[0]; m.Kind != fakebotapi.KindPhoto || m.Text != "Jouw week in een plaatje" || m.File == nil || !bytes.Equal(m.File.Data, png) || m.File.Name != "week.png" {
		t.Errorf("photo = %+v", m)
	}
	if m := msgs[1]; m.Kind != fakebotapi.KindDocument || m.File == nil || string(m.File.Data) != `{"ok":true}` || m.File.Name != "export.json" {
		t.Errorf("document = %+v", m)
	}
}

func TestDeliveryInteractiveBeforeScheduled(t *testing.T) {
	f := newDeliveryFixture(t)
	f.cfg.Workers, f.cfg.GlobalRate = 1, 20
	const scheduled = 30
	// The scheduled messages are older.
	for c := int64(1); c <= scheduled; c++ {
		f.enqueue(c, conversation.PriorityScheduled, conversation.KindMessage, conversation.Envelope{Text: fmt.Sprintf("check-in voor chat %d", c)})
	}
	for c := int64(101); c <= 102; c++ {
		f.enqueue(c, conversation.PriorityInteractive, conversation.KindMessage, conversation.Envelope{Text: fmt.Sprintf("antwoord voor chat %d", c)})
	}
	d := f.delivery()
	f.run(d)
	f.waitTotal(5)
	// An interactive message that arrives while the scheduled ones go out
	// overtakes them.
	f.enqueue(103, conversation.PriorityInteractive, conversation.KindMessage, conversation.Envelope{Text: "antwoord voor chat 103"})
	d.Wake()
	f.waitTotal(scheduled + 3)

	var chats []int64
	for _, c := range f.fake.Calls("sendMessage") {
		chats = append(chats, c.ChatID)
	}
	if !(chats[0] >= 101 && chats[1] >= 101) {
		t.Errorf("first sends went to chats %v, want the interactive chats 101 and 102 first", chats[:2])
	}
	if i := slices.Index(chats, 103); i < 0 || i > 10 {
		t.Errorf("the late interactive message went out as send %d of %d (%v), want within the next few", i, len(chats), chats)
	}
}

func TestDeliveryChatAction(t *testing.T) {
	f := newDeliveryFixture(t)
	d := f.delivery()
	if err := d.SendChatAction(context.Background(), 21, "typing"); err != nil {
		t.Fatal(err)
	}
	sent := f.fake.Sent(21)
	if len(sent) != 1 || sent[0].Kind != fakebotapi.KindChatAction || sent[0].Action != "typing" {
		t.Errorf("chat got %+v, want a typing action", sent)
	}
	f.fake.Block(22)
	err := d.SendChatAction(context.Background(), 22, "typing")
	if err == nil || !strings.Contains(err.Error(), sendErrForbidden) || strings.Contains(err.Error(), deliveryTestToken) {
		t.Errorf("chat action to a blocked chat: %v", err)
	}
}

func TestDeliveryWakeAndRunOnce(t *testing.T) {
	f := newDeliveryFixture(t)
	d := f.delivery(WithDeliveryPoll(time.Hour)) // only Wake finds new messages
	ctx, cancel := context.WithCancel(context.Background())
	results := make(chan error, 2)
	for range 2 {
		go func() { results <- d.Run(ctx) }()
	}
	// One of the two returns at once, refused; the other runs.
	select {
	case err := <-results:
		if err == nil {
			t.Fatalf("a second Run at the same time returned nil")
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("neither of two Runs at the same time returned")
	}
	for i := range 3 {
		f.numbered(int64(30+i), 1, conversation.PriorityInteractive)
		d.Wake()
		d.Wake() // never blocks
		f.waitMessages(int64(30+i), 1)
	}
	cancel()
	if err := <-results; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// classify sorts the errors of the real client against a server answering
// what Telegram and the proxies before it answer.
func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		drop       bool
		wantClass  string
		wantDetail string // "*": any
		wantRetry  int
	}{
		{name: "429", status: 429, body: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`,
			wantClass: sendErrRateLimited, wantRetry: 7},
		{name: "403", status: 403, body: `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`,
			wantClass: sendErrForbidden, wantDetail: "Forbidden: bot was blocked by the user"},
		{name: "400", status: 400, body: `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`,
			wantClass: sendErrBadRequest, wantDetail: "Bad Request: chat not found"},
		{name: "400 migrated", status: 400, body: `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-100123}}`,
			wantClass: sendErrBadRequest, wantDetail: "chat migrated to a supergroup"},
		{name: "401", status: 401, body: `{"ok":false,"error_code":401,"description":"Unauthorized"}`,
			wantClass: sendErrAPI, wantDetail: "Unauthorized"},
		{name: "500", status: 500, body: `{"ok":false,"error_code":500,"description":"Internal Server Error"}`,
			wantClass: sendErrServer, wantDetail: "HTTP 500"},
		{name: "502 HTML with a person's words in it", status: 502, body: `<html>Adem in, ik ben zo verdrietig</html>`,
			wantClass: sendErrUndecodable},
		{name: "ok but unreadable result", status: 200, body: `{"ok":true,"result":"ik ben zo verdrietig"}`,
			wantClass: sendErrConfirmed},
		{name: "dropped", drop: true, wantClass: sendErrNetwork, wantDetail: "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.drop {
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close()
					return
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			api, err := bot.New(deliveryTestToken, bot.WithServerURL(srv.URL), bot.WithSkipGetMe())
			if err != nil {
				t.Fatal(err)
			}
			d := &Delivery{scrub: strings.NewReplacer(deliveryTestToken, "<token>")}
			_, err = api.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 1, Text: "ik ben zo verdrietig"})
			got := d.classify(err)
			if got.class != tt.wantClass || (got.detail != tt.wantDetail && tt.wantDetail != "*") || got.retryAfter != tt.wantRetry {
				t.Errorf("classify(%v) = %+v, want %s %q %d", err, got, tt.wantClass, tt.wantDetail, tt.wantRetry)
			}
			if s := got.String(); strings.Contains(s, "verdrietig") || strings.Contains(s, "SECRET") {
				t.Errorf("classified error %q holds message text or the token", s)
			}
		})
	}
}

func TestClassifyScrubsToken(t *testing.T) {
	d := &Delivery{scrub: strings.NewReplacer(deliveryTestToken, "<token>")}
	tests := []struct {
		name string
		err  error
	}{
		{name: "network error naming the URL", err: fmt.Errorf("error do request for method sendMessage, %w", &url.Error{
			Op: "Post", URL: "https://api.telegram.org/bot" + deliveryTestToken + "/sendMessage",
			Err: errors.New("dial tcp: lookup bot" + deliveryTestToken + ": no such host")})},
		{name: "api error", err: fmt.Errorf("%w, Unauthorized: token bot%s is revoked", bot.ErrorUnauthorized, deliveryTestToken)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d.classify(tt.err)
			if s := got.String(); strings.Contains(s, deliveryTestToken) || !strings.Contains(s, "<token>") {
				t.Errorf("classify = %q; want the token scrubbed", s)
			}
		})
	}
}

// BenchmarkDelivery pushes b.N messages over 100 chats through the real
// client and the fake server with the rate limits out of the way.
func BenchmarkDelivery(b *testing.B) {
	f := newDeliveryFixture(b)
	f.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	f.cfg.Workers = 32
	const chats = 100
	for c := range int64(chats) {
		n := b.N / chats
		if c < int64(b.N%chats) {
			n++
		}
		if n > 0 {
			f.numbered(c+1, n, conversation.PriorityInteractive)
		}
	}
	d := f.delivery()
	b.ResetTimer()
	start := time.Now()
	stop := f.run(d)
	f.waitTotal(b.N)
	took := time.Since(start)
	b.StopTimer()
	stop()
	if st := f.fake.Stats(); st.Duplicates != 0 || st.Sent != b.N {
		b.Fatalf("fake stats: %d sent, %d duplicates; want %d, 0", st.Sent, st.Duplicates, b.N)
	}
	b.ReportMetric(float64(b.N)/took.Seconds(), "msgs/s")
}

// An edit followed by another message of the chat is marked with that
// message's mark; when that message fails, the edit is still marked sent.
func TestDeliveryEditMarkGoesWithTheNext(t *testing.T) {
	f := newDeliveryFixture(t)
	const chat = 13
	person := f.enqueue(chat, 0, conversation.KindMessage, conversation.Envelope{
		Text: "Een vraag met knoppen", Buttons: [][]dialogs.Button{{{Label: "ja", Data: "5:a"}}}, Prompt: 5})
	stop := f.run(f.delivery())
	f.waitRows(person, []string{"sent"})
	f.enqueue(chat, 0, conversation.KindEdit, conversation.Envelope{Prompt: 5})
	f.enqueue(chat, 0, conversation.KindMessage, conversation.Envelope{Text: "De volgende vraag"})
	f.waitRows(person, []string{"sent", "sent", "sent"})
	f.fake.FailNext("sendMessage", 1, fakebotapi.BadRequest("message is too long"))
	f.enqueue(chat, 0, conversation.KindEdit, conversation.Envelope{Prompt: 5})
	f.enqueue(chat, 0, conversation.KindMessage, conversation.Envelope{Text: "Een te lange vraag"})
	f.waitRows(person, []string{"sent", "sent", "sent", "sent", "failed"})
	stop()
	rows := f.outbox(person)
	for _, i := range []int{1, 3} {
		if rows[i].remoteID == nil || *rows[i].remoteID == 0 {
			t.Errorf("edit %d marked without the id of the message it changed", i)
		}
	}
	if n := f.fake.CallCount("editMessageReplyMarkup"); n != 2 {
		t.Errorf("%d edits sent, want 2", n)
	}
}

// A lease of this owner that the loop does not work on (left by a write that
// failed) is given back at the second renewal that finds it, and its chat is
// then delivered; one renewal is not enough, because a turn's hand-over is
// such a lease for the moment between its commit and the loop taking it.
// Meanwhile turns hand their chats over while renewals run every 100 ms and
// another replica claims what it can: nothing is sent twice.
func TestDeliveryStrayLeaseAndHandOvers(t *testing.T) {
	f := newDeliveryFixture(t)
	f.cfg.SendTimeout = 100 * time.Millisecond // leases of 300 ms, renewed every 100 ms
	f.cfg.PerChatRate, f.cfg.PerChatBurst = 1000, 1000
	d := f.delivery(WithDeliveryOwner("here"), WithDeliveryLease(300*time.Millisecond), WithDeliveryPoll(time.Hour))
	stray := f.numbered(900, 1, conversation.PriorityInteractive)
	_, err := f.db.Pool().Exec(context.Background(), `INSERT INTO deliveries (person_id, leased_by, leased_until, next_at)
VALUES ($1, 'here', now() + interval '1 hour', now())`, stray)
	if err != nil {
		t.Fatal(err)
	}
	// Another replica that only claims (the hand-overs go to the courier
	// registered last, d), quickly.
	f.run(f.delivery(WithDeliveryOwner("there"), WithDeliveryLease(300*time.Millisecond), WithDeliveryPoll(5*time.Millisecond)))
	f.run(d)
	const chats, rounds = 20, 5
	for r := range rounds {
		for c := int64(1); c <= chats; c++ {
			f.enqueue(c, 0, conversation.KindMessage, conversation.Envelope{Text: numberedText(c, r)})
		}
		time.Sleep(50 * time.Millisecond) // let renewals fall between hand-overs
	}
	f.waitMessages(900, 1)
	f.waitTotal(chats*rounds + 1)
	for c := int64(1); c <= chats; c++ {
		f.checkOrder(c, rounds)
	}
	if st := f.fake.Stats(); st.Duplicates != 0 || st.Sent != chats*rounds+1 {
		t.Errorf("sent %d with %d duplicates, want %d and none", st.Sent, st.Duplicates, chats*rounds+1)
	}
}

// The renewal gives back a lease the loop does not hold only when it finds
// it a second time: the first time it may be a turn's hand-over on its way
// to the loop (releasing it then let another replica send the same
// messages).
func TestDeliveryRenewalSparesAHandOverOnItsWay(t *testing.T) {
	f := newDeliveryFixture(t)
	d := f.delivery(WithDeliveryOwner("here"))
	l := &deliveryLoop{d: d, held: map[int64]*chatRun{}, results: make(chan sendOutcome)}
	person := f.numbered(77, 1, conversation.PriorityInteractive)
	ctx := context.Background()
	if _, err := f.db.Pool().Exec(ctx, `INSERT INTO deliveries (person_id, leased_by, leased_until, next_at)
VALUES ($1, 'here', now() + interval '1 hour', now())`, person); err != nil {
		t.Fatal(err)
	}
	owner := func() string {
		var by *string
		if err := f.db.Pool().QueryRow(ctx, `SELECT leased_by FROM deliveries WHERE person_id = $1`, person).Scan(&by); err != nil {
			t.Fatal(err)
		}
		if by == nil {
			return ""
		}
		return *by
	}
	l.renew(ctx)
	if got := owner(); got != "here" {
		t.Fatalf("after the first renewal the lease is held by %q, want here", got)
	}
	l.renew(ctx)
	if got := owner(); got != "" {
		t.Errorf("after the second renewal the lease is held by %q, want given back", got)
	}
}
