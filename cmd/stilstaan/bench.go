package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/spf13/cobra"

	"github.com/stilstaan/stilstaan/bench"
)

func init() {
	extraCommands = append(extraCommands, (*app).benchCmd)
}

func (a *app) benchCmd() *cobra.Command {
	cfg := bench.Defaults()
	var out, binary string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the turn path, fan-out and memory against the PostgreSQL floor",
		Long: `Measure Stilstaan against its performance targets, all in one run:

  - the turn path end to end: simulated people talk to ` + "`stilstaan run`" + ` (this binary, as a
    child process in webhook mode) through a fake Telegram Bot API on loopback;
    turns/s, latency percentiles, CPU and PostgreSQL round trips per turn;
  - the floor: pgbench with a script of the same statements as one turn, at the
    same concurrency, and the bot's turns/s as a share of it;
  - the p99 latency at half the measured maximum, with open-loop arrivals;
  - the crisis path: crisis message to safety reply;
  - the fan-out of due check-ins from two bot processes through delivery to a
    fake Bot API that answers 429 above its limits;
  - the resident memory of the bot process with few and many people stored.

It creates a database stilstaan_bench_<random> on the server of database.url
and drops it afterwards. The defaults take under five minutes on two cores;
see BENCHMARKS.md for the full run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, log, err := a.load(cmd)
			if err != nil {
				return err
			}
			cfg.DatabaseURL = c.Database.URL
			cfg.Log = log
			if binary == "" {
				if binary, err = os.Executable(); err != nil {
					return fmt.Errorf("bench: find this binary: %w", err)
				}
			}
			cfg.Binary = binary
			if cfg.Pgbench, err = exec.LookPath(cfg.Pgbench); err != nil {
				return fmt.Errorf("bench: pgbench is needed for the floor (install PostgreSQL's client tools or pass --pgbench): %w", err)
			}
			rep, runErr := bench.Run(cmd.Context(), cfg)
			if rep == nil {
				return runErr
			}
			if err := rep.WriteTable(cmd.OutOrStdout()); err != nil {
				return err
			}
			if out != "" {
				w := cmd.OutOrStdout()
				if out != "-" {
					f, err := os.Create(out)
					if err != nil {
						return fmt.Errorf("bench: %w", err)
					}
					defer f.Close()
					w = f
				} else {
					fmt.Fprintln(w)
				}
				if err := rep.WriteMarkdown(w); err != nil {
					return fmt.Errorf("bench: write %s: %w", out, err)
				}
			}
			return runErr
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "also write the report as Markdown to this file (- for stdout)")
	f.StringVar(&cfg.ProfileDir, "profile", "", "write CPU and heap profiles of the bot process under load to this directory")
	f.BoolVar(&cfg.KeepFiles, "keep", false, "keep the working directory (bot configs and logs, the pgbench script)")
	f.StringVar(&binary, "binary", "", "the stilstaan binary to run as `stilstaan run` (default: this one)")
	f.StringVar(&cfg.Pgbench, "pgbench", cfg.Pgbench, "the pgbench binary")
	f.IntVar(&cfg.People, "people", cfg.People, "simulated people on the turn path")
	f.IntVar(&cfg.Workers, "workers", cfg.Workers, "telegram.workers of the bot, and pgbench's clients")
	f.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "warm-up before each timed window")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of each timed window")
	f.DurationVar(&cfg.ProbeTime, "probe", cfg.ProbeTime, "length of the round-trip count")
	f.IntVar(&cfg.Stored, "stored", cfg.Stored, "people stored for the memory measurement and the fan-out")
	f.IntVar(&cfg.StoredSmall, "stored-small", cfg.StoredSmall, "people stored for the memory comparison")
	f.IntVar(&cfg.Fanout, "fanout", cfg.Fanout, "due check-ins in the fan-out (0 skips it)")
	f.IntVar(&cfg.FanoutLimit, "fanout-limit", cfg.FanoutLimit, "sends per second the fake Bot API allows in the fan-out")
	f.DurationVar(&cfg.FanoutTimeout, "fanout-timeout", cfg.FanoutTimeout, "give up on the fan-out after this")
	f.IntVar(&cfg.CrisisPeople, "crisis-people", cfg.CrisisPeople, "people who write crisis messages at half load")
	f.Float64Var(&cfg.CrisisRate, "crisis-rate", cfg.CrisisRate, "crisis messages per second at half load")
	return cmd
}

// A bot process started by `stilstaan bench --profile` serves CPU and heap
// profiles on the loopback address in bench.EnvProfile, so the bench can
// profile the turn path where it runs. Nothing is served otherwise.
func init() {
	addr := os.Getenv(bench.EnvProfile)
	if addr == "" {
		return
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintf(os.Stderr, "stilstaan: %s must be a loopback address; not serving profiles\n", bench.EnvProfile)
		return
	}
	go func() {
		srv := &http.Server{Addr: addr, Handler: bench.ProfileHandler(), ReadHeaderTimeout: 10 * time.Second}
		if err := srv.ListenAndServe(); err != nil {
			fmt.Fprintf(os.Stderr, "stilstaan: profiles: %v\n", err)
		}
	}()
}
