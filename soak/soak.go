// Package soak is Stilstaan's reliability harness: it runs the real
// `stilstaan run` binary as child processes against a fake Telegram Bot API
// (internal/fakebotapi) and, when asked, a fake LLM (llm/llmtest), with a
// fresh PostgreSQL database, lets a crowd of simulated people do exercises,
// and meanwhile kills the bot with SIGKILL at random moments, injects faults
// at the Bot API and the LLM, cuts or restarts the database, and runs
// replicas side by side behind a load balancer. At the end it compares every
// person's transcript (decrypted with the run's master key) and the inputs
// table with what the fake Bot API received: steps lost, doubled or out of
// order, and messages lost, sent twice or out of order.
//
// `stilstaan soak` runs it from the command line; soak_test.go runs a short
// form in CI. RELIABILITY.md has the figures of full runs.
package soak

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stilstaan/stilstaan/internal/fakebotapi"
	"github.com/stilstaan/stilstaan/keyring"
	"github.com/stilstaan/stilstaan/llm/llmtest"
	"github.com/stilstaan/stilstaan/privacy"
	"github.com/stilstaan/stilstaan/storage"
)

// Config is one soak run. Zero fields take the defaults of Defaults.
type Config struct {
	// Binary is the stilstaan executable to run as `stilstaan run`.
	Binary string
	// ServerURL is the PostgreSQL server; the run makes a database
	// stilstaan_soak_<random> on it and drops it afterwards.
	ServerURL string
	// Mode is "polling" or "webhook".
	Mode string
	// Replicas is how many bot processes run at once; more than one needs
	// webhook mode (Telegram lets one client poll).
	Replicas int
	// People is how many simulated people talk to the bot.
	People int
	// Duration is how long people keep going; MaxSteps, when positive, ends
	// a person sooner (updates sent).
	Duration time.Duration
	MaxSteps int
	// Kills is how many times a bot process is killed with SIGKILL, at
	// random moments within Duration, and started again.
	Kills int
	// PauseScale shrinks the exercises' timed pauses (dialogs.pause_scale).
	PauseScale float64
	// Think is how long a person thinks before answering, from and to.
	Think [2]time.Duration
	// StallAfter is how long a person waits for an answer before nudging
	// the bot with /start (counted as a stall).
	StallAfter time.Duration
	// Seed makes the people's choices and the moments repeatable (the
	// processes' timing is not).
	Seed uint64
	// BotFaults is the share of Bot API calls answered with a fault (429,
	// 500, 502, slow, dropped connection, lost response).
	BotFaults float64
	// Blocks is how many people block the bot (403) at a random moment.
	Blocks int
	// LLM runs the bot with llm.api_key set against a fake LLM; LLMFaults
	// is the share of its answers that are slow, fail or are rate limited.
	LLM       bool
	LLMFaults float64
	// PostgresRestarts restarts the PostgreSQL server this many times with
	// RestartCommand (default DefaultRestartCommand). Every database on the
	// server is cut off meanwhile: do not run it beside other work.
	PostgresRestarts int
	RestartCommand   []string
	// DropConnections ends every connection to the run's database this many
	// times (pg_terminate_backend): a failover, without touching others.
	DropConnections int
	// GlobalRate and PerChatRate are telegram.global_rate and per_chat_rate.
	GlobalRate, PerChatRate float64
	// Settle bounds the wait, at the end, until everything is delivered.
	Settle time.Duration
	// Dir keeps the processes' logs and configs (a temporary directory when
	// empty, removed after a run without violations).
	Dir string
	// KeepDatabase leaves the database for inspection.
	KeepDatabase bool
	// Log receives progress; nil is silent.
	Log *slog.Logger
}

// Defaults fills in zero fields.
func (c Config) withDefaults() Config {
	if c.ServerURL == "" {
		c.ServerURL = DefaultServerURL
	}
	if c.Mode == "" {
		c.Mode = "webhook"
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.People == 0 {
		c.People = 200
	}
	if c.Duration == 0 {
		c.Duration = 10 * time.Minute
	}
	if c.PauseScale == 0 {
		c.PauseScale = 0.05
	}
	if c.Think == [2]time.Duration{} {
		c.Think = [2]time.Duration{200 * time.Millisecond, 1500 * time.Millisecond}
	}
	if c.StallAfter == 0 {
		c.StallAfter = 3 * time.Minute
	}
	if c.Seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		for _, x := range b {
			c.Seed = c.Seed<<8 | uint64(x)
		}
	}
	if c.GlobalRate == 0 {
		c.GlobalRate = 25
	}
	if c.PerChatRate == 0 {
		c.PerChatRate = 1
	}
	if c.Settle == 0 {
		c.Settle = 5 * time.Minute
	}
	if c.PostgresRestarts > 0 && len(c.RestartCommand) == 0 {
		c.RestartCommand = DefaultRestartCommand()
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Binary == "" {
		errs = append(errs, errors.New("soak: no stilstaan binary to run"))
	}
	switch c.Mode {
	case "polling":
		if c.Replicas > 1 {
			errs = append(errs, errors.New("soak: several replicas need webhook mode: Telegram lets one client poll"))
		}
	case "webhook":
	default:
		errs = append(errs, fmt.Errorf("soak: mode must be polling or webhook, got %q", c.Mode))
	}
	if c.Replicas < 1 || c.Replicas > 8 {
		errs = append(errs, fmt.Errorf("soak: replicas must be between 1 and 8, got %d", c.Replicas))
	}
	if c.People < 1 || c.People > 5000 {
		errs = append(errs, fmt.Errorf("soak: people must be between 1 and 5000, got %d", c.People))
	}
	if c.Kills < 0 || c.Blocks < 0 || c.Blocks > c.People || c.DropConnections < 0 || c.PostgresRestarts < 0 {
		errs = append(errs, errors.New("soak: kills, blocks, drops and restarts must not be negative (and blocks at most people)"))
	}
	if c.BotFaults < 0 || c.BotFaults > 0.5 || c.LLMFaults < 0 || c.LLMFaults > 1 {
		errs = append(errs, errors.New("soak: bot faults must be between 0 and 0.5, LLM faults between 0 and 1"))
	}
	if c.PostgresRestarts > 0 && len(c.RestartCommand) == 0 {
		errs = append(errs, errors.New("soak: no PostgreSQL cluster found under /etc/postgresql to restart; give the restart command"))
	}
	if c.Think[1] < c.Think[0] || c.Think[0] < 0 {
		errs = append(errs, errors.New("soak: think time must run from low to high"))
	}
	return errors.Join(errs...)
}

// Event is something the run did to the bot, for the duplicate check and the
// report.
type Event struct {
	At, End time.Time // End is when it was over (a restart), or At
	What    string    // "kill", "restart postgres", "drop connections"
	Note    string
}

// Report is the outcome of a run.
type Report struct {
	Mode     string
	Replicas int
	Seed     uint64
	Database string
	Dir      string
	Took     time.Duration

	Tally    Tally
	Findings []Finding
	// Kills survived, and how long a restarted process took to be ready
	// (median and slowest).
	Kills                    int
	RecoveryP50, RecoveryMax time.Duration
	Starts                   int
	Crashes                  []string
	PostgresRestarts         int
	PostgresDown             time.Duration // longest restart
	DropConnections          int
	ConnectionsDropped       int
	Stalls                   int
	// ReplyP50, ReplyP99 and ReplyMax are how long people waited from an
	// update to the bot's next message (for updates answered by one).
	ReplyP50, ReplyP99, ReplyMax time.Duration
	Blocked                      int
	BotFaults                    FaultCounts
	LLM                          *LLMCounts
	Fake                         fakebotapi.Stats
	Balancer                     []int64 // webhook posts each replica answered
	BalancerFailed               int64
	Outbox                       map[string]int // outbox rows by status
	OutboxUnsent                 int            // failed or dropped for people who did not block the bot
	LogErrors, Panics            int
	Leaks                        int // people's words found in the logs
	Settled                      bool
	Violations                   []string
}

// OK reports whether every target was met.
func (r *Report) OK() bool { return len(r.Violations) == 0 }

// Run runs a soak and returns its report. The error is for a run that could
// not be carried out (no database, no binary); violated targets are in the
// report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r, err := newRunner(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer r.cleanup()
	return r.run(ctx)
}

type runner struct {
	cfg     Config
	log     *slog.Logger
	rng     *mrand.Rand
	dbName  string
	dbURL   string
	db      *storage.DB
	fake    *fakebotapi.Server
	llm     *llmtest.Server
	llmf    *llmFaults
	lb      *balancer
	dir     string
	tempDir bool
	kids    []*child
	people  []*person

	mu         sync.Mutex
	events     []Event
	recoveries []time.Duration
	pgDown     time.Duration
	dropped    int
	ok         bool
}

func newRunner(ctx context.Context, cfg Config) (*runner, error) {
	r := &runner{cfg: cfg, log: cfg.Log, rng: mrand.New(mrand.NewPCG(cfg.Seed, cfg.Seed>>1|1))}
	r.dir = cfg.Dir
	if r.dir == "" {
		d, err := os.MkdirTemp("", "stilstaan-soak-")
		if err != nil {
			return nil, fmt.Errorf("soak: %w", err)
		}
		r.dir, r.tempDir = d, true
	} else if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			r.cleanup()
		}
	}()

	key, err := keyring.GenerateMasterKey()
	if err != nil {
		return nil, err
	}
	sealer, err := privacy.NewSealer(key, nil)
	if err != nil {
		return nil, err
	}
	r.dbName = newDatabaseName()
	if r.dbURL, err = databaseURL(cfg.ServerURL, r.dbName); err != nil {
		return nil, err
	}
	if r.db, err = storage.Open(ctx, r.dbURL, storage.WithSealer(sealer), storage.WithMaxConns(4),
		storage.WithLogger(slog.New(slog.DiscardHandler))); err != nil {
		return nil, fmt.Errorf("soak: database: %w", err)
	}
	if _, err := r.db.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("soak: migrate: %w", err)
	}

	token := strconv.Itoa(100000+r.rng.IntN(900000)) + ":soak-" + randomHex(12)
	r.fake = fakebotapi.Start(token, fakebotapi.WithWebhookRetry(1<<30, 20*time.Millisecond))
	if cfg.BotFaults > 0 {
		r.fake.SetFault(botFaults(cfg.BotFaults, cfg.Seed))
	}
	llmTimeout := 2 * time.Second
	if cfg.LLM {
		r.llmf = &llmFaults{rng: mrand.New(mrand.NewPCG(cfg.Seed, 7)), rate: cfg.LLMFaults, timeout: llmTimeout}
		r.llm = llmtest.Start()
		r.llm.RespondWith(r.llmf.respond)
	}

	// Ports: each replica serves its webhook and health checks; several
	// replicas sit behind the balancer.
	secret := "soak_" + randomHex(16)
	hooks := make([]string, cfg.Replicas)
	healths := make([]string, cfg.Replicas)
	for i := range cfg.Replicas {
		if hooks[i], err = freeAddr(); err != nil {
			return nil, err
		}
		if healths[i], err = freeAddr(); err != nil {
			return nil, err
		}
	}
	hookURL := func(i int) string { return "http://" + hooks[i] + "/telegram" }
	if cfg.Mode == "webhook" && cfg.Replicas > 1 {
		if r.lb, err = startBalancer(hooks); err != nil {
			return nil, err
		}
		hookURL = func(int) string { return r.lb.URL("/telegram") }
	}
	for i := range cfg.Replicas {
		tg := map[string]any{
			"token": token, "server_url": r.fake.URL(), "mode": cfg.Mode, "poll_timeout": "5s",
			"workers": 4, "global_rate": cfg.GlobalRate, "per_chat_rate": cfg.PerChatRate, "per_chat_burst": 3,
			"send_timeout": "5s",
		}
		if cfg.Mode == "webhook" {
			tg["webhook_url"], tg["webhook_secret"], tg["webhook_listen"] = hookURL(i), secret, hooks[i]
		}
		conf := map[string]any{
			"database": map[string]any{"url": r.dbURL, "max_conns": 14},
			"telegram": tg,
			"http":     map[string]any{"listen": healths[i]},
			"dialogs":  map[string]any{"pause_scale": cfg.PauseScale},
			"crypto":   map[string]any{"master_key": key.Encode()},
			"log":      map[string]any{"level": "info", "format": "json"},
		}
		if cfg.LLM {
			conf["llm"] = map[string]any{"api_key": "soak-" + randomHex(8), "base_url": r.llm.BaseURL(), "model": "soak-model", "timeout": llmTimeout.String()}
		}
		body, err := yaml.Marshal(conf)
		if err != nil {
			return nil, fmt.Errorf("soak: config: %w", err)
		}
		name := fmt.Sprintf("bot-%d", i+1)
		path := filepath.Join(r.dir, name+".yaml")
		if err := os.WriteFile(path, body, 0o600); err != nil {
			return nil, fmt.Errorf("soak: config: %w", err)
		}
		r.kids = append(r.kids, newChild(name, cfg.Binary, path, filepath.Join(r.dir, name+".log"), healths[i], r.log))
	}
	ok = true
	return r, nil
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func (r *runner) event(what, note string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, Event{At: at, End: time.Now(), What: what, Note: note})
}

// cleanup stops everything the run started. The database and a temporary
// log directory go too, unless the run failed or they are to be kept.
func (r *runner) cleanup() {
	for _, k := range r.kids {
		_ = k.stop(5 * time.Second)
	}
	if r.lb != nil {
		r.lb.close()
	}
	if r.fake != nil {
		r.fake.Close()
	}
	if r.llm != nil {
		r.llm.Close()
	}
	if r.db != nil {
		r.db.Close()
		r.db = nil
		if !r.cfg.KeepDatabase {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := dropDatabase(ctx, r.cfg.ServerURL, r.dbName); err != nil {
				r.log.Warn("soak: drop database", slog.Any("error", err))
			}
			cancel()
		}
	}
	if r.tempDir && r.ok {
		_ = os.RemoveAll(r.dir)
	}
}

func (r *runner) run(ctx context.Context) (*Report, error) {
	cfg := r.cfg
	start := time.Now()
	r.log.Info("soak: starting", slog.String("mode", cfg.Mode), slog.Int("replicas", cfg.Replicas),
		slog.Int("people", cfg.People), slog.Duration("duration", cfg.Duration), slog.Int("kills", cfg.Kills),
		slog.String("database", r.dbName), slog.String("dir", r.dir), slog.Uint64("seed", cfg.Seed))
	for _, k := range r.kids {
		if err := k.start(); err != nil {
			return nil, err
		}
	}
	for _, k := range r.kids {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		_, err := k.waitReady(rctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%w (log: %s)", err, k.logPath)
		}
	}

	playCtx, stopPlay := context.WithTimeout(ctx, cfg.Duration)
	defer stopPlay()
	var wg sync.WaitGroup
	blockers := map[int]bool{}
	for len(blockers) < cfg.Blocks {
		blockers[r.rng.IntN(cfg.People)] = true
	}
	for i := range cfg.People {
		lang := "nl"
		if i%3 == 2 {
			lang = "en"
		}
		p := &person{
			chat: 7_000_000 + int64(i), lang: lang, fake: r.fake,
			rng:   mrand.New(mrand.NewPCG(cfg.Seed, uint64(i)+1)),
			think: cfg.Think, stallFor: cfg.StallAfter, maxSteps: cfg.MaxSteps, log: r.log,
		}
		if blockers[i] {
			p.blockAt = start.Add(time.Duration(float64(cfg.Duration) * (0.2 + 0.6*r.rng.Float64())))
		}
		r.fake.SetUser(p.chat, fmt.Sprintf("Persoon %d", i+1), lang)
		r.people = append(r.people, p)
		// People arrive over the first tenth of the run, not all at once.
		delay := time.Duration(r.rng.Int64N(int64(cfg.Duration/10) + 1))
		wg.Go(func() {
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-playCtx.Done():
				return
			case <-t.C:
			}
			p.run(playCtx)
		})
	}
	wg.Go(func() { r.chaos(playCtx) })
	wg.Go(func() { r.progress(playCtx, start) })
	wg.Wait()
	r.log.Info("soak: people done; waiting for the bot to deliver everything")

	// Every process must be up to finish the work.
	for _, k := range r.kids {
		if !k.running() {
			if err := k.start(); err != nil {
				return nil, err
			}
		}
	}
	settled := r.settle(ctx)
	for _, k := range r.kids {
		if err := k.stop(30 * time.Second); err != nil {
			r.log.Warn("soak: stop", slog.Any("error", err))
			r.event("stop failed", err.Error(), time.Now())
		}
	}
	rep, err := r.report(ctx, start, settled)
	if err != nil {
		return nil, err
	}
	r.ok = rep.OK()
	if !r.ok && r.tempDir {
		r.log.Warn("soak: targets violated; logs kept", slog.String("dir", r.dir))
	}
	return rep, nil
}

// chaos kills processes, and restarts or cuts the database, at random
// moments spread over the run.
func (r *runner) chaos(ctx context.Context) {
	cfg := r.cfg
	type act struct {
		at   time.Duration
		what string
	}
	var plan []act
	span := func() time.Duration {
		return time.Duration(float64(cfg.Duration) * (0.05 + 0.85*r.rng.Float64()))
	}
	for range cfg.Kills {
		plan = append(plan, act{span(), "kill"})
	}
	for range cfg.PostgresRestarts {
		plan = append(plan, act{span(), "restart postgres"})
	}
	for range cfg.DropConnections {
		plan = append(plan, act{span(), "drop connections"})
	}
	slices.SortFunc(plan, func(a, b act) int { return int(a.at - b.at) })
	start := time.Now()
	for _, a := range plan {
		t := time.NewTimer(time.Until(start.Add(a.at)))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		switch a.what {
		case "kill":
			r.kill(ctx)
		case "restart postgres":
			at := time.Now()
			d, err := restartPostgres(ctx, cfg.RestartCommand, cfg.ServerURL)
			if err != nil {
				r.log.Error("soak: restart PostgreSQL", slog.Any("error", err))
				r.event("restart postgres failed", err.Error(), at)
				continue
			}
			r.event("restart postgres", "", at)
			r.mu.Lock()
			r.pgDown = max(r.pgDown, d)
			r.mu.Unlock()
			r.log.Info("soak: PostgreSQL restarted", slog.Duration("took", d))
		case "drop connections":
			at := time.Now()
			n, err := terminateConnections(ctx, cfg.ServerURL, r.dbName)
			if err != nil {
				r.log.Error("soak: drop connections", slog.Any("error", err))
				continue
			}
			r.event("drop connections", strconv.Itoa(n), at)
			r.mu.Lock()
			r.dropped += n
			r.mu.Unlock()
			r.log.Info("soak: database connections ended", slog.Int("connections", n))
		}
	}
}

// kill kills one replica at random with SIGKILL and starts it again after a
// moment (0-300ms), then measures how long it takes to be ready.
func (r *runner) kill(ctx context.Context) {
	k := r.kids[r.rng.IntN(len(r.kids))]
	pause := time.Duration(r.rng.Int64N(int64(300 * time.Millisecond)))
	if !k.running() {
		return // it crashed and is being restarted; that is counted elsewhere
	}
	at, err := k.kill()
	if err != nil {
		r.log.Error("soak: kill", slog.Any("error", err))
		return
	}
	r.mu.Lock()
	r.events = append(r.events, Event{At: at, End: at, What: "kill", Note: k.name})
	n := 0
	for _, e := range r.events {
		if e.What == "kill" {
			n++
		}
	}
	r.mu.Unlock()
	r.log.Info("soak: killed", slog.String("child", k.name), slog.Int("kill", n), slog.Int("of", r.cfg.Kills))
	t := time.NewTimer(pause)
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	t.Stop()
	if err := k.start(); err != nil {
		r.log.Error("soak: restart", slog.Any("error", err))
		return
	}
	go func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if d, err := k.waitReady(rctx); err == nil {
			r.mu.Lock()
			r.recoveries = append(r.recoveries, d)
			r.mu.Unlock()
		}
	}()
}

// progress logs a line every half minute.
func (r *runner) progress(ctx context.Context, start time.Time) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		steps := 0
		for _, p := range r.people {
			steps += p.steps()
		}
		st := r.fake.Stats()
		r.log.Info("soak: progress", slog.Duration("elapsed", time.Since(start).Round(time.Second)),
			slog.Int("steps", steps), slog.Int("sent", st.Sent), slog.Int("retries_429", st.Retries429),
			slog.Int("updates_pending", r.fake.PendingUpdates()))
	}
}

// settle waits until every update was taken and processed, every message
// delivered, no pause or reflective reply is pending, and nothing was sent
// for a few seconds. It reports false when Settle ran out first.
func (r *runner) settle(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Settle)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastSent, quietSince, lastLog := -1, time.Now(), time.Now()
	for {
		st := r.fake.Stats()
		if st.Sent != lastSent {
			lastSent, quietSince = st.Sent, time.Now()
		}
		w, err := r.work(ctx)
		pending := r.fake.PendingUpdates()
		if err == nil && w.total() == 0 && pending == 0 && time.Since(quietSince) > 3*time.Second {
			return true
		}
		if time.Since(lastLog) > 10*time.Second {
			lastLog = time.Now()
			r.log.Info("soak: waiting for the bot", slog.Int("updates_pending", pending), slog.Int64("inbox", w.inbox),
				slog.Int64("outbox", w.outbox), slog.Int64("pauses", w.pauses), slog.Int64("reflections", w.reflections))
		}
		select {
		case <-ctx.Done():
			r.log.Warn("soak: the bot did not settle in time", slog.Duration("settle", r.cfg.Settle))
			return false
		case <-tick.C: // the work is in other processes and the database: look again
		}
	}
}

// work is what the database still holds to do.
type work struct {
	inbox, outbox, pauses, reflections int64
}

func (w work) total() int64 { return w.inbox + w.outbox + w.pauses + w.reflections }

// work counts the inbox, the outbox, running pauses and pending reflective
// replies.
func (r *runner) work(ctx context.Context) (work, error) {
	var w work
	err := r.db.Pool().QueryRow(ctx, `SELECT
    (SELECT count(*) FROM inbox),
    (SELECT count(*) FROM outbox WHERE status = 'pending'),
    (SELECT count(*) FROM conversations WHERE wake_at IS NOT NULL),
    (SELECT count(*) FROM reflections WHERE status = 'pending')`).Scan(&w.inbox, &w.outbox, &w.pauses, &w.reflections)
	return w, err
}

// report gathers what everyone saw and checks it.
func (r *runner) report(ctx context.Context, start time.Time, settled bool) (*Report, error) {
	cfg := r.cfg
	rep := &Report{Mode: cfg.Mode, Replicas: cfg.Replicas, Seed: cfg.Seed, Database: r.dbName, Dir: r.dir, Settled: settled}
	r.mu.Lock()
	events := slices.Clone(r.events)
	recoveries := slices.Clone(r.recoveries)
	rep.PostgresDown, rep.ConnectionsDropped = r.pgDown, r.dropped
	r.mu.Unlock()
	for _, e := range events {
		switch e.What {
		case "kill":
			rep.Kills++
		case "restart postgres":
			rep.PostgresRestarts++
		case "drop connections":
			rep.DropConnections++
		}
	}
	if len(recoveries) > 0 {
		slices.Sort(recoveries)
		rep.RecoveryP50, rep.RecoveryMax = recoveries[len(recoveries)/2], recoveries[len(recoveries)-1]
	}
	for _, k := range r.kids {
		starts, crashes := k.counts()
		rep.Starts += starts
		rep.Crashes = append(rep.Crashes, crashes...)
	}

	calls := r.fake.Calls("")
	rep.BotFaults = countFaults(calls)
	rep.Fake = r.fake.Stats()
	if r.llmf != nil {
		c := r.llmf.snapshot()
		rep.LLM = &c
	}
	if r.lb != nil {
		rep.Balancer, rep.BalancerFailed = r.lb.counts()
	}
	explain := r.explainer(events, calls)

	var leakTexts []string
	var waits []time.Duration
	for _, p := range r.people {
		pr, err := r.gather(ctx, p)
		if err != nil {
			return nil, err
		}
		waits = append(waits, replyWaits(pr)...)
		tally, fs := CheckPerson(pr, explain)
		rep.Tally.Add(tally)
		rep.Findings = append(rep.Findings, fs...)
		p.mu.Lock()
		rep.Stalls += p.stalls
		if p.blocked {
			rep.Blocked++
		}
		leakTexts = append(leakTexts, p.texts...)
		p.mu.Unlock()
	}
	rows, err := r.db.Pool().Query(ctx, `SELECT o.status, p.active, count(*) FROM outbox o JOIN people p ON p.id = o.person_id
GROUP BY o.status, p.active`)
	if err != nil {
		return nil, fmt.Errorf("soak: outbox: %w", err)
	}
	rep.Outbox = map[string]int{}
	for rows.Next() {
		var s string
		var active bool
		var n int
		if err := rows.Scan(&s, &active, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("soak: outbox: %w", err)
		}
		rep.Outbox[s] += n
		if active && s != "sent" {
			// Only a person who blocked the bot may have messages that
			// were dropped or failed (an edit of a question dropped by
			// the 403).
			rep.OutboxUnsent += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("soak: outbox: %w", err)
	}
	if len(waits) > 0 {
		slices.Sort(waits)
		q := func(f float64) time.Duration { return waits[min(len(waits)-1, int(f*float64(len(waits))))] }
		rep.ReplyP50, rep.ReplyP99, rep.ReplyMax = q(0.5), q(0.99), waits[len(waits)-1]
	}
	if err := r.scanLogs(rep, leakTexts); err != nil {
		return nil, err
	}
	rep.Took = time.Since(start)
	rep.Violations = violations(cfg, rep)
	return rep, nil
}

// gather collects one person's side, the transcript and the inputs.
func (r *runner) gather(ctx context.Context, p *person) (Person, error) {
	p.mu.Lock()
	out := Person{Chat: p.chat, Inputs: slices.Clone(p.inputs), Blocked: p.blocked}
	p.mu.Unlock()
	for _, m := range r.fake.Messages(p.chat) {
		out.Received = append(out.Received, Receipt{MessageID: m.MessageID, Text: m.Text, At: m.Time})
	}
	who, err := r.db.FindPerson(ctx, storage.PersonKey{Channel: "telegram", ExternalID: p.chat})
	if errors.Is(err, storage.ErrNotFound) {
		return out, nil // never got through: every update counts as lost
	}
	if err != nil {
		return Person{}, fmt.Errorf("soak: person %d: %w", p.chat, err)
	}
	rows, err := r.db.Pool().Query(ctx, `SELECT source, processed_at FROM inputs WHERE person_id = $1 AND source LIKE 'tg:%'`, who.ID)
	if err != nil {
		return Person{}, fmt.Errorf("soak: inputs: %w", err)
	}
	for rows.Next() {
		var src string
		var at time.Time
		if err := rows.Scan(&src, &at); err != nil {
			rows.Close()
			return Person{}, fmt.Errorf("soak: inputs: %w", err)
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(src, "tg:"), 10, 64)
		if err != nil {
			continue
		}
		out.Processed = append(out.Processed, Processed{UpdateID: id, At: at})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Person{}, fmt.Errorf("soak: inputs: %w", err)
	}
	entries, err := r.db.Transcript(ctx, who.ID, 0)
	if err != nil {
		return Person{}, fmt.Errorf("soak: transcript: %w", err)
	}
	for _, e := range entries {
		out.Transcript = append(out.Transcript, Line{ID: e.ID, At: e.At, Direction: e.Direction, Kind: e.Kind, Text: e.Text})
	}
	return out, nil
}

// replyWaits returns, for each update that the bot answered with a message
// before the person's next update, how long the answer took to arrive.
func replyWaits(p Person) []time.Duration {
	var out []time.Duration
	j := 0
	for i, in := range p.Inputs {
		for j < len(p.Received) && p.Received[j].At.Before(in.At) {
			j++
		}
		if j == len(p.Received) {
			break
		}
		if i+1 < len(p.Inputs) && !p.Received[j].At.Before(p.Inputs[i+1].At) {
			continue // no message in between (a toggle, a stale press)
		}
		out = append(out, p.Received[j].At.Sub(in.At))
	}
	return out
}

// explainer explains a duplicate by what happened between the first receipt
// and the second: a process killed (the send-then-crash window), the
// database restarted or cut (the send could not be recorded), or a response
// the fake dropped after sending (the bot never heard of it).
func (r *runner) explainer(events []Event, calls []fakebotapi.Call) Explainer {
	type lost struct {
		at   time.Time
		text string
	}
	byChat := map[int64][]lost{}
	for _, c := range calls {
		// A response dropped after the send, or a slow answer the bot may
		// have given up on after Telegram had sent the message.
		if c.Method == "sendMessage" && c.Fault != nil && (c.Fault.AfterProcessing || c.Fault.Delay > 0) {
			byChat[c.ChatID] = append(byChat[c.ChatID], lost{c.Time, c.Params["text"]})
		}
	}
	return func(chat int64, text string, first, again time.Time) string {
		for _, e := range events {
			var until time.Time
			switch e.What {
			case "kill":
				// A killed process records nothing after it.
				until = e.End
			case "restart postgres", "drop connections":
				// A send in flight when the database went away, or one
				// that finished on a pooled connection the cut left dead,
				// cannot be recorded: up to a send timeout after.
				until = e.End.Add(5 * time.Second)
			default:
				continue
			}
			// Between the first send being accepted (a little slack for
			// the clocks of two goroutines) and the second.
			if !until.Before(first.Add(-50*time.Millisecond)) && !e.At.After(again) {
				return fmt.Sprintf("%s at %s, between the two sends", e.What, e.At.Format("15:04:05.000"))
			}
		}
		for _, l := range byChat[chat] {
			// The call that sent it first: it began before the message was
			// accepted, at most a send timeout before (the fake's slow
			// faults and a loaded machine stretch a call).
			if same(l.text, text) && !l.at.After(first.Add(50*time.Millisecond)) && !l.at.Before(first.Add(-5*time.Second)) {
				return "the bot never heard that the first send went through (response dropped, or too slow)"
			}
		}
		return ""
	}
}

// violations lists the targets the run missed.
func violations(cfg Config, rep *Report) []string {
	var v []string
	t := rep.Tally
	check := func(bad bool, format string, args ...any) {
		if bad {
			v = append(v, fmt.Sprintf(format, args...))
		}
	}
	check(!rep.Settled, "the bot did not finish its work within %s after the people stopped", cfg.Settle)
	check(t.StepsLost > 0, "%d steps lost", t.StepsLost)
	check(t.StepsDoubled > 0, "%d steps doubled", t.StepsDoubled)
	check(t.StepsOutOfOrder > 0, "%d steps out of order", t.StepsOutOfOrder)
	check(t.MessagesLost > 0, "%d messages lost", t.MessagesLost)
	check(t.MessagesOutOfOrder > 0, "%d messages out of order", t.MessagesOutOfOrder)
	check(t.MessagesDuplicated > t.DuplicatesExplained, "%d messages sent twice with nothing to explain it",
		t.MessagesDuplicated-t.DuplicatesExplained)
	check(t.Unexpected > 0, "%d messages arrived that no transcript holds", t.Unexpected)
	check(t.Steps == 0, "no steps were taken")
	check(rep.Kills < cfg.Kills, "%d of %d kills happened", rep.Kills, cfg.Kills)
	check(rep.PostgresRestarts < cfg.PostgresRestarts, "%d of %d PostgreSQL restarts happened", rep.PostgresRestarts, cfg.PostgresRestarts)
	check(len(rep.Crashes) > 0, "the bot exited on its own %d times: %s", len(rep.Crashes), strings.Join(rep.Crashes, "; "))
	check(rep.Panics > 0, "%d panics in the logs", rep.Panics)
	check(rep.Leaks > 0, "%d of the people's words found in the logs", rep.Leaks)
	check(rep.Fake.WebhookGaveUp > 0, "%d updates given up by the webhook", rep.Fake.WebhookGaveUp)
	check(rep.OutboxUnsent > 0, "%d outbox messages to people who did not block the bot failed or were dropped", rep.OutboxUnsent)
	return v
}
