// Package bench measures Stilstaan against its performance targets, all in
// one run so that ratios hold on a noisy machine: the turn path end to end
// (simulated people talking to `stilstaan run` through a fake Telegram Bot
// API in webhook mode, on a real PostgreSQL), the floor PostgreSQL itself
// sets for a turn (pgbench with a script of the same statements), the
// latency at half the measured maximum, the fan-out of due check-ins from
// two bot processes through delivery, the memory of the bot process, and
// the crisis path.
//
// Everything runs on loopback: a fresh database stilstaan_bench_<random> on
// the configured server (dropped afterwards), the fake Bot API from
// internal/fakebotapi, and the bot as child processes of the binary named
// in Config.Binary. See BENCHMARKS.md for how each figure is taken.
package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/stilstaan/stilstaan/keyring"
	"github.com/stilstaan/stilstaan/privacy"
	"github.com/stilstaan/stilstaan/safety"
)

// Config says what to measure and how much.
type Config struct {
	// DatabaseURL is a postgres:// URL of the server; the bench creates and
	// drops its own database there (the URL's database is only used to do so).
	DatabaseURL string
	// Binary is the stilstaan executable to run as `stilstaan run`.
	Binary string
	// Pgbench is the pgbench executable.
	Pgbench string

	People   int           // simulated people on the turn path
	Workers  int           // telegram.workers of the bot, and pgbench's clients
	Warmup   time.Duration // before each timed window
	Duration time.Duration // each timed window (closed loop, pgbench, half load)

	Stored      int // people stored for the memory measurement (and the fan-out's people)
	StoredSmall int // people stored for the comparison

	Fanout        int           // due check-ins
	FanoutLimit   int           // sends per second the fake Bot API allows overall
	FanoutTimeout time.Duration // give up on the fan-out after this

	CrisisPeople int           // people who write crisis messages during the half-load phase
	CrisisRate   float64       // crisis messages per second
	ProbeTime    time.Duration // the round-trip count's window
	Settle       time.Duration // how long a started bot idles before its memory is read

	// ProfileDir, when set, receives a CPU profile of the bot process over
	// the closed loop's window (cpu.pprof) and its heap profile after the
	// half-load phase (heap.pprof).
	ProfileDir string

	// KeepFiles keeps the working directory (the bot processes' configs and
	// logs, the pgbench script) instead of removing it.
	KeepFiles bool

	Log *slog.Logger // progress messages
}

// Defaults fit a default run in under five minutes on a two-core machine.
func Defaults() Config {
	return Config{
		Pgbench: "pgbench",
		People:  200, Workers: 8, Warmup: 5 * time.Second, Duration: 20 * time.Second,
		Stored: 100_000, StoredSmall: 1_000,
		Fanout: 20_000, FanoutLimit: 1_000, FanoutTimeout: 5 * time.Minute,
		CrisisPeople: 10, CrisisRate: 5, ProbeTime: 5 * time.Second, Settle: 2 * time.Second,
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("bench: no database URL"))
	}
	if c.Binary == "" {
		errs = append(errs, errors.New("bench: no stilstaan binary to run"))
	}
	if c.People < 1 || c.Workers < 1 || c.Duration <= 0 || c.ProbeTime <= 0 {
		errs = append(errs, errors.New("bench: people, workers, duration and probe time must be positive"))
	}
	if c.StoredSmall < 0 || c.Stored < c.StoredSmall {
		errs = append(errs, errors.New("bench: stored people must be at least the small count"))
	}
	if c.Fanout > c.Stored {
		errs = append(errs, fmt.Errorf("bench: the fan-out (%d) uses stored people; store at least as many (now %d)", c.Fanout, c.Stored))
	}
	if c.Fanout > 0 && c.FanoutLimit < 10 {
		errs = append(errs, errors.New("bench: the fan-out limit must be at least 10 a second"))
	}
	if c.CrisisPeople < 1 || c.CrisisRate <= 0 {
		errs = append(errs, errors.New("bench: the crisis path needs people and a rate"))
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return errors.Join(errs...)
}

// runner is one run's shared state.
type runner struct {
	cfg       Config
	log       *slog.Logger
	db        *scratch
	dir       string
	masterKey string
	sealer    *privacy.Sealer
	zone      *time.Location
	crisis    string // a crisis message the classifier rates acute
	reply     string // how the safety reply begins
}

// maxConns is database.max_conns of a bot process: two connections for each
// worker, and some for delivery, timers and receiving.
func (r *runner) maxConns() int { return 2*r.cfg.Workers + 8 }

// Run runs every measurement and returns the report. It cleans up after
// itself (processes, database, temporary files) also when it fails.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, log: cfg.Log}
	rep = &Report{Config: cfg, Started: time.Now()}
	rep.Machine = readMachine()
	rep.Machine.LoadBefore = loadAverage()

	if r.crisis, r.reply, err = crisisMessage(); err != nil {
		return nil, err
	}
	if r.zone, err = time.LoadLocation("Europe/Amsterdam"); err != nil {
		return nil, fmt.Errorf("bench: time zone: %w", err)
	}
	key, err := keyring.GenerateMasterKey()
	if err != nil {
		return nil, err
	}
	r.masterKey = key.Encode()
	if r.sealer, err = privacy.NewSealer(key, nil); err != nil {
		return nil, err
	}
	if r.dir, err = os.MkdirTemp("", "stilstaan-bench-"); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if cfg.KeepFiles {
		r.log.InfoContext(ctx, "bench: keeping the working directory", slog.String("dir", r.dir))
	} else {
		defer os.RemoveAll(r.dir)
	}
	defer keepAlive()()

	if r.db, err = newScratch(ctx, cfg.DatabaseURL, r.log); err != nil {
		return nil, err
	}
	defer func() {
		if derr := r.db.drop(context.WithoutCancel(ctx)); derr != nil && err == nil {
			err = derr
		}
	}()
	rep.Machine.Postgres = r.db.serverVersion(ctx)

	if err := r.turnPath(ctx, rep); err != nil {
		return rep, err
	}
	if cfg.Fanout > 0 {
		f, err := r.runFanout(ctx, cfg.Fanout, cfg.FanoutLimit, 3)
		rep.Fanout = &f
		if err != nil {
			return rep, err
		}
	}
	rep.Machine.LoadAfter = loadAverage()
	rep.Took = time.Since(rep.Started)
	return rep, nil
}

// crisisMessage returns a message the safety classifier rates acute, and
// the first line of the Dutch safety reply.
func crisisMessage() (msg, reply string, err error) {
	c := safety.NewClassifier()
	for _, m := range []string{"Ik wil niet meer leven.", "Ik wil dood.", "Ik denk erover om er een einde aan te maken."} {
		if c.Classify(m).Level == safety.Acute {
			full := safety.AcuteReply("nl", safety.DefaultHelplines(), false)
			line, _, _ := cutLine(full)
			return m, line, nil
		}
	}
	return "", "", errors.New("bench: none of the crisis messages is rated acute by the safety classifier")
}

func cutLine(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// threads is pgbench's thread count: one per core.
func threads() int { return runtime.NumCPU() }
