package reflection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/llm"
	"github.com/stilstaan/stilstaan/prompts"
	"github.com/stilstaan/stilstaan/storage"
)

// Fallback reasons of this package, beside the llm.Reason* values; they go
// to the reflections.fallback_reason column and the fallbacks metric.
const (
	// ReasonExpired: the deadline had passed before a worker got to the
	// row (after a restart, or a backlog), so the model was not asked.
	ReasonExpired = "expired"
	// ReasonSuperseded: the person moved on (answered again, stopped the
	// exercise) before the model was asked; nothing is shown.
	ReasonSuperseded = "superseded"
	// ReasonPrompt: the prompt could not be rendered (or the stored
	// request could not be opened).
	ReasonPrompt = "prompt_error"
	// ReasonGaveUp: the answer turn failed maxClaims times.
	ReasonGaveUp = "gave_up"
)

// Defaults for options left unset.
const (
	DefaultPollInterval = time.Second
	DefaultConcurrency  = 64
)

const (
	// leaseGrace is how long past the deadline a claim holds: the answer
	// turn has that long to commit before another worker may take over.
	leaseGrace = 2 * time.Second
	// typingEvery repeats the typing indicator, which Telegram shows for
	// five seconds.
	typingEvery = 4 * time.Second
	// maxDue is how many people one scan picks up.
	maxDue = 256
)

// Typing shows a typing indicator in a chat (the Telegram side passes
// delivery's chat action). It should return soon and respect ctx.
type Typing func(ctx context.Context, chatID int64)

// RejectedFunc is told, inside the answer turn, that the Guard rejected the
// model's reply by rule (llm.Rule*), e.g. to flag the conversation for a
// coach at a low level.
type RejectedFunc func(ctx context.Context, t *conversation.Turn, rule string) error

// Option configures a Worker.
type Option func(*Worker)

// WithTimeout sets how long a person may wait for a reflection, counted from
// the turn that took their answer; default llm.DefaultTimeout (8s). Use the
// same value as llm.Config.Timeout.
func WithTimeout(d time.Duration) Option { return func(w *Worker) { w.timeout = d } }

// WithPollInterval sets how often a worker looks for rows left by a crash or
// by another replica; default one second.
func WithPollInterval(d time.Duration) Option { return func(w *Worker) { w.poll = d } }

// WithConcurrency caps the people whose reflections are asked for at once;
// default 64.
func WithConcurrency(n int) Option { return func(w *Worker) { w.limit = n } }

// WithOnRejected sets what happens, inside the answer turn, when the Guard
// rejected a reply. Without it the rejection is only recorded as the
// fallback reason "guard_rejected:<rule>".
func WithOnRejected(f RejectedFunc) Option { return func(w *Worker) { w.onRejected = f } }

// WithMetrics makes the Worker record answered reflections in m.
func WithMetrics(m *Metrics) Option { return func(w *Worker) { w.metrics = m } }

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(w *Worker) { w.log = l } }

// Worker records reflection requests and answers them. Build it with New,
// add Options() to the conversation service it answers through, and either
// Run it (the bot) or call AnswerNow after each turn (the terminal shell).
// It is safe for concurrent use.
type Worker struct {
	db         *storage.DB
	client     *llm.Client
	prompts    *prompts.Set
	timeout    time.Duration
	poll       time.Duration
	grace      time.Duration
	limit      int
	onRejected RejectedFunc
	metrics    *Metrics
	log        *slog.Logger

	svc  *conversation.Service
	wake chan storage.PersonKey
	sem  chan struct{}

	// outcomes hands what the model said to the answer turn's hook.
	outcomes sync.Map // int64 -> outcome

	mu       sync.Mutex
	inflight map[storage.PersonKey]bool // true: woken again meanwhile, look once more
}

// New returns a Worker that asks client, with prompts rendered from set.
// client must be enabled (have an API key): without one the bot uses the
// scripted reflections and needs no Worker.
func New(db *storage.DB, client *llm.Client, set *prompts.Set, opts ...Option) (*Worker, error) {
	if db == nil || set == nil {
		return nil, errors.New("reflection: new: a database and a prompt set are required")
	}
	if !client.Enabled() {
		return nil, errors.New("reflection: new: the LLM client has no API key")
	}
	w := &Worker{db: db, client: client, prompts: set, timeout: llm.DefaultTimeout, poll: DefaultPollInterval,
		grace: leaseGrace, limit: DefaultConcurrency, log: slog.Default(),
		wake: make(chan storage.PersonKey, 1024), inflight: map[storage.PersonKey]bool{}}
	for _, o := range opts {
		o(w)
	}
	if w.timeout <= 0 || w.poll <= 0 || w.limit <= 0 {
		return nil, fmt.Errorf("reflection: new: timeout %s, poll interval %s and concurrency %d must be positive", w.timeout, w.poll, w.limit)
	}
	w.sem = make(chan struct{}, w.limit)
	return w, nil
}

// Timeout is how long a person waits at most, from their answer.
func (w *Worker) Timeout() time.Duration { return w.timeout }

// Options returns what the conversation service needs: the hook that
// records requests and marks answers (Hook), and the binding through which
// the Worker runs its answer turns. Use them with one service only.
func (w *Worker) Options() []conversation.Option {
	return []conversation.Option{
		conversation.WithHook(w.Hook),
		func(s *conversation.Service) { w.svc = s },
	}
}

// Hook runs inside every turn. When the engine asked for a reflection it
// writes the request row in the same transaction and wakes the worker; in a
// reflection's answer turn it marks the row done.
func (w *Worker) Hook(ctx context.Context, t *conversation.Turn) error {
	if id, ok := answerID(t.In.Source); ok && t.In.Input.Kind == dialogs.InputReflection {
		return w.markAnswered(ctx, t, id)
	}
	if t.Out.Reflect == nil {
		return nil
	}
	return w.record(ctx, t)
}

// signal wakes Run for key; when nobody listens (the shell) or the queue is
// full, the next scan finds the row.
func (w *Worker) signal(key storage.PersonKey) {
	select {
	case w.wake <- key:
	default:
	}
}

// Run answers reflections until ctx is done: at once for the rows of this
// process's turns, and every poll interval for rows left by a crash or by
// another replica (the first look is at start, so a restart answers what was
// pending). typing may be nil. On return no answer is in progress; rows it
// was asking about are released for the next worker.
func (w *Worker) Run(ctx context.Context, typing Typing) error {
	if w.svc == nil {
		return errors.New("reflection: run: the worker is not part of a conversation service (use Options)")
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ticker := time.NewTicker(w.poll)
	defer ticker.Stop()
	w.scan(ctx, &wg, typing)
	for {
		select {
		case <-ctx.Done():
			return nil
		case key := <-w.wake:
			w.dispatch(ctx, &wg, key, typing, true)
		case <-ticker.C:
			w.scan(ctx, &wg, typing)
		}
	}
}

// scan dispatches the people with reflections no worker holds.
func (w *Worker) scan(ctx context.Context, wg *sync.WaitGroup, typing Typing) {
	keys, err := w.due(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.log.WarnContext(ctx, "reflection: scan", "error", err)
		}
		return
	}
	for _, k := range keys {
		w.dispatch(ctx, wg, k, typing, false)
	}
}

// due lists the people with reflections waiting that no worker holds. It
// reads only ids and times, so it goes to the pool directly.
func (w *Worker) due(ctx context.Context) ([]storage.PersonKey, error) {
	rows, err := w.db.Pool().Query(ctx, sqlDue, w.db.Now(), maxDue)
	if err != nil {
		return nil, fmt.Errorf("reflection: due: %w", err)
	}
	defer rows.Close()
	var keys []storage.PersonKey
	for rows.Next() {
		var k storage.PersonKey
		if err := rows.Scan(&k.Channel, &k.ExternalID); err != nil {
			return nil, fmt.Errorf("reflection: due: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reflection: due: %w", err)
	}
	return keys, nil
}

// dispatch answers key's reflections in a goroutine, one goroutine per
// person. A wake for a person already being handled makes that goroutine
// look once more when it is done (a new request may have come in).
func (w *Worker) dispatch(ctx context.Context, wg *sync.WaitGroup, key storage.PersonKey, typing Typing, woken bool) {
	w.mu.Lock()
	if again, busy := w.inflight[key]; busy {
		w.inflight[key] = again || woken
		w.mu.Unlock()
		return
	}
	w.inflight[key] = false
	w.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case w.sem <- struct{}{}:
			case <-ctx.Done():
				w.finish(key)
				return
			}
			if _, _, err := w.answerAll(ctx, key, typing); err != nil && ctx.Err() == nil {
				w.log.WarnContext(ctx, "reflection: answer", "channel", key.Channel, "error", err)
			}
			<-w.sem
			w.mu.Lock()
			again := w.inflight[key] && ctx.Err() == nil
			if !again {
				delete(w.inflight, key)
			} else {
				w.inflight[key] = false
			}
			w.mu.Unlock()
			if !again {
				return
			}
		}
	}()
}

func (w *Worker) finish(key storage.PersonKey) {
	w.mu.Lock()
	delete(w.inflight, key)
	w.mu.Unlock()
}

// AnswerNow answers the reflection the turn res asked for (and any other of
// the person's that no worker holds) before returning: for the terminal
// shell, which prints only after a turn. It returns the Result of the last
// answer turn, or res when it ran none. It never waits past the deadline.
// Its signature fits shell.Options.AfterTurn.
func (w *Worker) AnswerNow(ctx context.Context, in conversation.Incoming, res conversation.Result) (conversation.Result, error) {
	if res.Reflect == nil || res.Duplicate {
		return res, nil
	}
	if w.svc == nil {
		return res, errors.New("reflection: answer now: the worker is not part of a conversation service (use Options)")
	}
	last, ok, err := w.answerAll(ctx, storage.PersonKey{Channel: in.Channel, ExternalID: in.ChatID}, nil)
	if err != nil {
		return res, err
	}
	if !ok {
		return res, nil
	}
	return last, nil
}

// answerAll claims key's reflections and answers them in order; ok reports
// whether an answer turn ran, and last is its Result.
func (w *Worker) answerAll(ctx context.Context, key storage.PersonKey, typing Typing) (last conversation.Result, ok bool, err error) {
	jobs, err := w.claim(ctx, key)
	if err != nil {
		return last, false, err
	}
	for i, j := range jobs {
		res, answered, err := w.answer(ctx, key, j, typing)
		if err != nil {
			for _, rest := range jobs[i+1:] {
				w.release(ctx, key, rest.id)
			}
			return last, ok, err
		}
		if answered {
			last, ok = res, true
		}
	}
	return last, ok, nil
}

// answer asks the model for j (unless it is too late or moot) and runs the
// one turn that shows the reply or the scripted reflection. answered is false
// when that turn had run before.
func (w *Worker) answer(ctx context.Context, key storage.PersonKey, j job, typing Typing) (res conversation.Result, answered bool, err error) {
	var o outcome
	switch {
	case j.superseded:
		o.reason = ReasonSuperseded
	case j.badReq:
		o.reason = ReasonPrompt
	case !w.db.Now().Before(j.deadline):
		o.reason = ReasonExpired
	default:
		o = w.ask(ctx, j, typing)
	}
	if ctx.Err() != nil {
		// Shutting down: leave the row to the next worker, which answers
		// it at once (with the scripted text if the deadline has passed).
		w.release(ctx, key, j.id)
		return res, false, ctx.Err()
	}

	w.outcomes.Store(j.id, o)
	defer w.outcomes.Delete(j.id)
	res, err = w.svc.Handle(ctx, conversation.Incoming{
		Channel: key.Channel, ChatID: key.ExternalID, Source: Source(j.id),
		Input: dialogs.Input{Kind: dialogs.InputReflection, Token: j.token, Text: o.text},
	})
	if errors.Is(err, errStale) {
		return res, false, nil
	}
	if err != nil {
		w.release(ctx, key, j.id)
		return res, false, fmt.Errorf("reflection: answer %d: %w", j.id, err)
	}
	if res.Duplicate {
		return res, false, nil
	}
	wait := w.db.Now().Sub(j.created)
	w.metrics.answered(o.reason, wait)
	attrs := []any{"reflection_id", j.id, "person_id", res.PersonID, "wait_ms", wait.Milliseconds()}
	if o.reason != "" {
		attrs = append(attrs, "fallback_reason", o.reason)
	}
	if o.asked {
		attrs = append(attrs, "model", o.model, "latency_ms", o.latency.Milliseconds(),
			"prompt_tokens", o.promptTokens, "completion_tokens", o.completionTokens)
	}
	w.log.InfoContext(ctx, "reflection: answered", attrs...)
	return res, true, nil
}

// ask shows the typing indicator and asks the model, within j's deadline.
func (w *Worker) ask(ctx context.Context, j job, typing Typing) outcome {
	callCtx, cancel := context.WithTimeout(ctx, j.deadline.Sub(w.db.Now()))
	defer cancel()
	if typing != nil && j.chatID != 0 {
		go keepTyping(callCtx, typing, j.chatID)
	}
	rendered, err := w.prompts.Render(j.req)
	if err != nil {
		// prompts' errors never hold what the person wrote.
		w.log.WarnContext(ctx, "reflection: render prompt", "reflection_id", j.id, "error", err)
		return outcome{reason: ReasonPrompt}
	}
	rep, err := w.client.Reflect(callCtx, rendered, j.req.Lang)
	o := outcome{text: rep.Text, model: rep.Model, promptTokens: rep.PromptTokens,
		completionTokens: rep.CompletionTokens, latency: rep.Latency, asked: true, reason: llm.ReasonOf(err)}
	// The rule only of a guard rejection (Error.Rule returns the whole
	// reason for other failures).
	if rule, ok := strings.CutPrefix(o.reason, llm.ReasonGuardRejected+":"); ok {
		o.rule = rule
	}
	if o.reason != "" {
		o.text = ""
	}
	return o
}

// keepTyping shows the typing indicator until ctx is done (the reply is in,
// or the deadline passed).
func keepTyping(ctx context.Context, typing Typing, chatID int64) {
	t := time.NewTicker(typingEvery)
	defer t.Stop()
	for {
		typing(ctx, chatID)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
