package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// turnPath runs everything that needs the bot answering people: the
// round-trip probe and memory with few people stored, then, with all people
// stored, the closed loop (maximum rate), the pgbench floor, and half load
// with the crisis path.
func (r *runner) turnPath(ctx context.Context, rep *Report) error {
	tg, err := startTelegram()
	if err != nil {
		return err
	}
	defer tg.Close()

	// Few people stored; the bot's connections go through the counting proxy.
	if err := seedPeople(ctx, r.db.db, r.sealer, chatsStored, r.cfg.StoredSmall); err != nil {
		return err
	}
	target, err := hostPort(r.db.url)
	if err != nil {
		return err
	}
	proxy, err := startProxy(target)
	if err != nil {
		return err
	}
	defer proxy.Close()
	r.log.InfoContext(ctx, "bench: round trips and memory", slog.Int("stored", r.cfg.StoredSmall))
	small, err := r.startBot(ctx, "bot-small", withHostPort(r.db.url, proxy.Addr()), tg)
	if err != nil {
		return err
	}
	defer small.stop()
	rep.MemorySmall.Stored = r.cfg.StoredSmall
	if rep.MemorySmall.Idle, err = r.idleRSS(ctx, small); err != nil {
		return err
	}
	probe := r.people(tg, chatsProbe, r.cfg.People)
	var rtStart, rtEnd int64
	watch := watchRSS(small, 100*time.Millisecond)
	pr := runPhase(ctx, probe, closedGate, talk, min(r.cfg.Warmup, 3*time.Second), r.cfg.ProbeTime,
		func() { rtStart = proxy.Count() }, func() { rtEnd = proxy.Count() })
	rep.MemorySmall.Load = watch.stop()
	r.logStalls(ctx, "round-trip probe", pr)
	rep.ProbeStalls = pr.stalls
	if err := pr.check("round-trip probe"); err != nil {
		return err
	}
	if s, err := small.sample(); err == nil {
		rep.MemorySmall.Peak = s.hwm
	}
	rep.RoundTrips = float64(rtEnd-rtStart) / float64(pr.turns)
	rep.ProbeTurns = pr.turns
	if err := small.stop(); err != nil {
		return err
	}
	proxy.Close()

	// All people stored.
	if err := seedPeople(ctx, r.db.db, r.sealer, chatsStored+int64(r.cfg.StoredSmall), r.cfg.Stored-r.cfg.StoredSmall); err != nil {
		return err
	}
	r.log.InfoContext(ctx, "bench: turn path", slog.Int("stored", r.cfg.Stored), slog.Int("people", r.cfg.People))
	profile := ""
	if r.cfg.ProfileDir != "" {
		if err := os.MkdirAll(r.cfg.ProfileDir, 0o755); err != nil {
			return fmt.Errorf("bench: profile directory: %w", err)
		}
		if profile, err = freePort(); err != nil {
			return err
		}
	}
	bot, err := r.startBotProfiled(ctx, "bot", r.db.url, tg, profile)
	if err != nil {
		return err
	}
	defer bot.stop()
	rep.Memory.Stored = r.cfg.Stored
	if rep.Memory.Idle, err = r.idleRSS(ctx, bot); err != nil {
		return err
	}
	people := r.people(tg, chatsTurns, r.cfg.People)
	crisis := r.people(tg, chatsCrisis, r.cfg.CrisisPeople)
	watch = watchRSS(bot, 100*time.Millisecond)

	// Closed loop: everyone writes again as soon as the bot answered.
	var cpu0, cpu1, self0, self1 procSample
	var pg0, pg1 time.Duration
	var pgOK0, pgOK1 bool
	var sends0, sends1 int
	var measured time.Time
	profiled := make(chan error, 1)
	closed := runPhase(ctx, people, closedGate, talk, r.cfg.Warmup, r.cfg.Duration,
		func() {
			cpu0, _ = bot.sample()
			self0, _ = readProc(os.Getpid())
			pg0, pgOK0 = r.db.backendCPU(ctx)
			st := tg.fake.Stats()
			sends0 = st.Sent + st.Edits
			measured = cpu0.at
			if profile == "" {
				profiled <- nil
				return
			}
			go func() {
				secs := max(1, int(r.cfg.Duration/time.Second))
				profiled <- fetchProfile(ctx, profile, fmt.Sprintf("/cpu?seconds=%d", secs), r.profileName("cpu.pprof"), r.cfg.Duration+time.Minute)
			}()
		}, func() {
			cpu1, _ = bot.sample()
			self1, _ = readProc(os.Getpid())
			pg1, pgOK1 = r.db.backendCPU(ctx)
			st := tg.fake.Stats()
			sends1 = st.Sent + st.Edits
		})
	select {
	case err := <-profiled:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	r.logStalls(ctx, "closed loop", closed)
	if err := closed.check("closed loop"); err != nil {
		return err
	}
	if err := bot.alive(); err != nil {
		return err
	}
	rep.Closed = summarize(closed)
	rep.SendRate = float64(sends1-sends0) / r.cfg.Duration.Seconds()
	if closed.turns > 0 {
		rep.CPUPerTurn = (cpu1.cpu - cpu0.cpu) / time.Duration(closed.turns)
		rep.LoadCPUPerTurn = (self1.cpu - self0.cpu) / time.Duration(closed.turns)
		if pgOK0 && pgOK1 && pg1 > pg0 {
			rep.ServerCPUPerTurn = (pg1 - pg0) / time.Duration(closed.turns)
		}
	}
	r.log.InfoContext(ctx, "bench: closed loop", slog.Float64("turns_per_s", closed.rate()))

	// The floor: the same statements from pgbench, at the same concurrency.
	shape, err := measureShape(ctx, r.db.db, measured)
	if err != nil {
		return err
	}
	rep.Shape = shape
	if err := seedFloor(ctx, r.db.floorURL(), r.cfg.People, shape); err != nil {
		return err
	}
	r.log.InfoContext(ctx, "bench: pgbench floor", slog.Int("clients", r.cfg.Workers))
	floor, err := runFloor(ctx, r.cfg.Pgbench, r.dir, r.db.url, floorScript(shape, r.cfg.People), r.cfg.Workers, threads(), r.cfg.Duration,
		r.db.backendCPU)
	if err != nil {
		return err
	}
	rep.Floor = floor

	// Half load, open loop, with crisis messages meanwhile. The crisis
	// people first agree to the terms, outside the measurement.
	for _, p := range crisis {
		if err := onboard(ctx, p); err != nil {
			return err
		}
	}
	rate := closed.rate() / 2
	rep.HalfRate = rate
	r.log.InfoContext(ctx, "bench: half load", slog.Float64("turns_per_s", rate))
	hctx, stopArrivals := context.WithCancel(ctx)
	offered := startArrivals(hctx, rate, 1)
	crises := startArrivals(hctx, r.cfg.CrisisRate, 2)
	crisisDone := make(chan loadResult, 1)
	go func() {
		crisisDone <- runPhase(ctx, crisis, crises.gate, r.sendCrisis, r.cfg.Warmup, r.cfg.Duration, nil, nil)
	}()
	half := runPhase(ctx, people, offered.gate, talk, r.cfg.Warmup, r.cfg.Duration, nil, nil)
	cr := <-crisisDone
	stopArrivals()
	rep.Memory.Load = watch.stop()
	r.logStalls(ctx, "half load", half)
	r.logStalls(ctx, "crisis path", cr)
	if err := half.check("half load"); err != nil {
		return err
	}
	if err := cr.check("crisis path"); err != nil {
		return err
	}
	rep.Half = summarize(half)
	rep.Crisis = summarize(cr)
	if s, err := bot.sample(); err == nil {
		rep.Memory.Peak = s.hwm
	}
	if profile != "" {
		if err := fetchProfile(ctx, profile, "/heap", r.profileName("heap.pprof"), time.Minute); err != nil {
			return err
		}
	}
	if n := tg.tap.dropped.Load(); n > 0 {
		return fmt.Errorf("bench: %d answers of the bot were not seen (a person's event queue was full)", n)
	}
	return bot.stop()
}

// turnPathGlobalRate is telegram.global_rate on the turn path: the highest
// the settings allow, far above what the bot sends, so that the turn path
// measures the bot and not the limiter.
const turnPathGlobalRate = 100000

// startBot starts a `stilstaan run` child against the fake Bot API and
// waits until it takes updates.
func (r *runner) startBot(ctx context.Context, name, dbURL string, tg *telegram) (*child, error) {
	return r.startBotProfiled(ctx, name, dbURL, tg, "")
}

// startBotProfiled is startBot with profiles served on profile (when set).
func (r *runner) startBotProfiled(ctx context.Context, name, dbURL string, tg *telegram, profile string) (*child, error) {
	c, err := startChild(ctx, r.cfg.Binary, r.dir, childConfig{
		Name: name, DatabaseURL: dbURL, MaxConns: r.maxConns(), TelegramURL: tg.URL(), Workers: r.cfg.Workers,
		// Telegram's limits (25/s overall, 1/s per chat) would measure the
		// rate limiter, not the bot: the turn path lifts them as far as the
		// settings allow. The fan-out measures the limits.
		GlobalRate: turnPathGlobalRate, PerChatRate: 30, PerChatBurst: 30,
		MasterKey: r.masterKey, ScanEvery: 15 * time.Second, Profile: profile,
	})
	if err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx, tg); err != nil {
		_ = c.stop()
		return nil, err
	}
	return c, nil
}

// idleRSS lets a started bot settle and reads its resident memory.
func (r *runner) idleRSS(ctx context.Context, c *child) (int64, error) {
	t := time.NewTimer(r.cfg.Settle)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-t.C:
	}
	s, err := c.sample()
	if err != nil {
		return 0, err
	}
	return s.rss, nil
}

var seeds atomic.Uint64

// people makes n simulated people with chat ids from first on.
func (r *runner) people(tg *telegram, first int64, n int) []*person {
	out := make([]*person, n)
	for i := range out {
		out[i] = newPerson(tg, first+int64(i), seeds.Add(1))
	}
	return out
}

// talk is a person's ordinary turn: answer what the bot shows.
func talk(ctx context.Context, p *person) (time.Time, outcome, error) {
	p.catchUp()
	a := p.decide()
	sent := p.send(a)
	o, err := p.await(ctx, a, sent, stallAfter)
	return sent, o, err
}

// sendCrisis writes the crisis message and waits for the safety reply.
func (r *runner) sendCrisis(ctx context.Context, p *person) (time.Time, outcome, error) {
	p.catchUp()
	sent := p.send(act{text: r.crisis})
	d, err := p.awaitReply(ctx, sent, r.reply, stallAfter)
	return sent, outcome{reply: d, answer: d}, err
}

// onboard takes a person through /start and the consent question to the
// menu.
func onboard(ctx context.Context, p *person) error {
	for range 8 {
		for _, row := range p.prompt.buttons {
			for _, b := range row {
				if strings.HasPrefix(buttonAction(b.Data), "x:") {
					return nil
				}
			}
		}
		if _, _, err := talk(ctx, p); err != nil {
			return err
		}
	}
	return fmt.Errorf("bench: chat %d did not reach the menu", p.chat)
}

// logStalls reports a phase's stalls.
func (r *runner) logStalls(ctx context.Context, phase string, l loadResult) {
	for _, s := range l.stalled {
		r.log.WarnContext(ctx, "bench: "+phase+": stalled", slog.String("error", s))
	}
}

// check fails a phase that failed or answered nothing.
func (l loadResult) check(phase string) error {
	switch {
	case l.firstErr != nil:
		return fmt.Errorf("bench: %s: %w", phase, l.firstErr)
	case l.turns == 0:
		return fmt.Errorf("bench: %s: the bot answered nothing", phase)
	}
	return nil
}
