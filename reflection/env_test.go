package reflection_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/llm"
	"github.com/stilstaan/stilstaan/llm/llmtest"
	"github.com/stilstaan/stilstaan/prompts"
	"github.com/stilstaan/stilstaan/reflection"
	"github.com/stilstaan/stilstaan/safety"
	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// Texts of dialogs/scripts/abandonment.yaml in Dutch.
const (
	questionWhat = "Wat gebeurt er op dit moment?"
	scriptedWhat = "Dank je dat je het opschrijft. Er gebeurt iets dat je raakt, en dat mag er zijn."
	nextGround   = "Voor je iets doet, even niets."
	modelReply   = "Je merkt dat hij niet terugschrijft en dat er onrust in je opkomt. Die onrust mag er even zijn, zonder dat je er meteen iets mee hoeft."
)

// helplines are the numbers and addresses of SAFETY.md a reply may name.
var helplines = []string{"113", "0800-0113", "113.nl", "112", "0800-2000", "findahelpline.com"}

// clock is the store's clock: real time plus an offset a test can move.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// sealer stands in for encryption at rest: sealed bytes do not show the
// plaintext, and opening checks they were sealed.
type sealer struct{}

func (sealer) NewPersonKey(context.Context, int64) ([]byte, error)           { return nil, nil }
func (sealer) Cipher(context.Context, int64, []byte) (storage.Cipher, error) { return sealer{}, nil }
func (sealer) Seal(b []byte) ([]byte, error) {
	return []byte("sealed:" + base64.StdEncoding.EncodeToString(b)), nil
}
func (sealer) Open(b []byte) ([]byte, error) {
	rest, ok := strings.CutPrefix(string(b), "sealed:")
	if !ok {
		return nil, errors.New("not sealed")
	}
	return base64.StdEncoding.DecodeString(rest)
}

// typingCall is one typing indicator shown.
type typingCall struct {
	chatID int64
	at     time.Time
}

// rejection is one OnRejected call.
type rejection struct {
	personID int64
	source   string
	rule     string
}

type env struct {
	db     *storage.DB
	clock  *clock
	srv    *llmtest.Server
	client *llm.Client
	w      *reflection.Worker
	svc    *conversation.Service
	reg    *prometheus.Registry

	typed    chan typingCall
	notified chan time.Time

	mu       sync.Mutex
	rejected []rejection
}

type envOptions struct {
	timeout    time.Duration
	llmOff     bool // an engine without WithLLM and no worker
	workerOpts []reflection.Option
}

// newEnv builds the real parts: a fresh database, the fake endpoint behind
// the real go-openai client, the Guard with the real safety classifier, the
// real engine with the embedded scripts, and a Worker.
func newEnv(t testing.TB, o envOptions, script ...llmtest.Response) *env {
	t.Helper()
	if o.timeout == 0 {
		o.timeout = 5 * time.Second
	}
	e := &env{clock: &clock{}, typed: make(chan typingCall, 64), notified: make(chan time.Time, 64)}
	e.db = storagetest.New(t, storage.WithClock(e.clock.Now), storage.WithSealer(sealer{}))
	e.srv = llmtest.NewServer(t, script...)
	lib, err := dialogs.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	notify := conversation.WithNotify(func() {
		select {
		case e.notified <- time.Now():
		default:
		}
	})
	if o.llmOff {
		e.svc = conversation.New(e.db, dialogs.NewEngine(lib, dialogs.WithPauseScale(0.001)), notify)
		return e
	}
	classifier := safety.NewClassifier()
	guard := llm.NewGuard(helplines, func(s string) bool { return classifier.Classify(s).Level >= safety.Elevated })
	e.client, err = llm.New(llm.Config{BaseURL: e.srv.BaseURL(), APIKey: "sk-test", Model: "test-model", Timeout: o.timeout},
		llm.WithGuard(guard))
	if err != nil {
		t.Fatal(err)
	}
	set, err := prompts.New("")
	if err != nil {
		t.Fatal(err)
	}
	e.reg = prometheus.NewRegistry()
	metrics, err := reflection.NewMetrics(e.reg)
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]reflection.Option{
		reflection.WithTimeout(o.timeout),
		reflection.WithMetrics(metrics),
		reflection.WithPollInterval(50 * time.Millisecond),
		reflection.WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))),
		reflection.WithOnRejected(func(_ context.Context, t *conversation.Turn, rule string) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.rejected = append(e.rejected, rejection{personID: t.Tx.Person().ID, source: t.In.Source, rule: rule})
			return nil
		}),
	}, o.workerOpts...)
	e.w, err = reflection.New(e.db, e.client, set, opts...)
	if err != nil {
		t.Fatal(err)
	}
	svcOpts := append([]conversation.Option{notify}, e.w.Options()...)
	e.svc = conversation.New(e.db, dialogs.NewEngine(lib, dialogs.WithLLM(true), dialogs.WithPauseScale(0.001)), svcOpts...)
	return e
}

// typing is the Typing the Telegram side would pass.
func (e *env) typing(_ context.Context, chatID int64) {
	select {
	case e.typed <- typingCall{chatID: chatID, at: time.Now()}:
	default:
	}
}

// start runs a worker until the test ends or stop is called.
func (e *env) start(t testing.TB) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.w.Run(ctx, e.typing) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func (e *env) rejections() []rejection {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]rejection(nil), e.rejected...)
}

func incoming(chatID int64, in dialogs.Input) conversation.Incoming {
	return conversation.Incoming{Channel: conversation.ChannelTelegram, ChatID: chatID, Input: in}
}

// reachWhat onboards a new person with consent and starts exercise 1, whose
// first step ("what") asks for free text with reflect: llm.
func (e *env) reachWhat(t testing.TB, ctx context.Context, chatID int64) {
	t.Helper()
	for _, in := range []dialogs.Input{
		{Kind: dialogs.InputText, Text: "hallo"},
		{Kind: dialogs.InputText, Text: "ja"},
		{Kind: dialogs.InputStart, Data: "abandonment"},
	} {
		if _, err := e.svc.Handle(ctx, incoming(chatID, in)); err != nil {
			t.Fatal(err)
		}
	}
}

// answer sends the person's free-text answer.
func (e *env) answer(t testing.TB, ctx context.Context, chatID int64, text string) conversation.Result {
	t.Helper()
	res, err := e.svc.Handle(ctx, incoming(chatID, dialogs.Input{Kind: dialogs.InputText, Text: text}))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// row is a reflections row as a test sees it.
type row struct {
	id                            int64
	status, reason, model         string
	promptTokens, completionTkns  int
	latencyMS                     *int64
	shown                         *bool
	requestLen, claims            int
	leased                        bool
	createdAt, deadline, answered *time.Time
}

func (e *env) rows(t testing.TB, ctx context.Context, personID int64) []row {
	t.Helper()
	rs, err := e.db.Pool().Query(ctx, `SELECT id, status, fallback_reason, model, prompt_tokens, completion_tokens,
latency_ms, shown, octet_length(request), claims, lease_until IS NOT NULL, created_at, deadline_at, answered_at
FROM reflections WHERE person_id = $1 ORDER BY id`, personID)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.id, &r.status, &r.reason, &r.model, &r.promptTokens, &r.completionTkns, &r.latencyMS,
			&r.shown, &r.requestLen, &r.claims, &r.leased, &r.createdAt, &r.deadline, &r.answered); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// only returns the person's single reflections row.
func (e *env) only(t testing.TB, ctx context.Context, personID int64) row {
	t.Helper()
	rs := e.rows(t, ctx, personID)
	if len(rs) != 1 {
		t.Fatalf("%d reflections rows, want 1", len(rs))
	}
	return rs[0]
}

// waitDone waits, within ctx, until every reflection of the person is done.
func (e *env) waitDone(t testing.TB, ctx context.Context, personID int64) {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		rs := e.rows(t, ctx, personID)
		done := len(rs) > 0
		for _, r := range rs {
			done = done && r.status == "done"
		}
		if done {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("reflection not answered before the test's deadline: %+v", rs)
		case <-tick.C:
		}
	}
}

// texts returns the texts of the person's outgoing messages, in order.
func (e *env) texts(t testing.TB, ctx context.Context, personID int64) []string {
	t.Helper()
	msgs, err := e.db.PendingFor(ctx, personID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		env, err := conversation.DecodeEnvelope(m.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind == conversation.KindMessage {
			out = append(out, env.Text)
		}
	}
	return out
}

// index returns the index of the first text that starts with prefix, or -1.
func index(texts []string, prefix string) int {
	for i, s := range texts {
		if strings.HasPrefix(s, prefix) {
			return i
		}
	}
	return -1
}

func count(texts []string, prefix string) int {
	n := 0
	for _, s := range texts {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// checkOrder checks that the reflection came after the question and before
// the next step.
func checkOrder(t testing.TB, texts []string, reflection string) {
	t.Helper()
	q, r, n := index(texts, questionWhat), index(texts, reflection), index(texts, nextGround)
	if q < 0 || r < 0 || n < 0 || !(q < r && r < n) {
		t.Errorf("want question (%d) < reflection (%d) < next step (%d) in the outbox:\n%s", q, r, n, strings.Join(texts, "\n---\n"))
	}
	if c := count(texts, reflection); c != 1 {
		t.Errorf("the reflection was sent %d times, want once", c)
	}
}

func str[T any](p *T) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprint(*p)
}

// metric returns the value of a counter (or a histogram's count) with one
// label pair (or none).
func (e *env) metric(t testing.TB, name, label, value string) float64 {
	t.Helper()
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				match = match || (l.GetName() == label && l.GetValue() == value)
			}
			if !match {
				continue
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s{%s=%q}", name, label, value)
	return 0
}
