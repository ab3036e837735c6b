package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stilstaan/stilstaan/soak"
)

func init() {
	extraCommands = append(extraCommands, (*app).soakCmd)
}

func (a *app) soakCmd() *cobra.Command {
	var (
		mode       string
		cfg        soak.Config
		restartCmd string
		think      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "soak",
		Short: "Reliability soak: run the bot as child processes, kill -9 them at random, check that nobody lost a step or saw a message twice or out of order",
		Long: `Run this binary as ` + "`stilstaan run`" + ` child processes against a fake Telegram Bot API
and a fresh database (stilstaan_soak_<random>, dropped afterwards) on the
PostgreSQL server of database.url, with simulated people doing exercises, and
kill the bot with SIGKILL at random moments, starting it again each time. At
the end every person's transcript (decrypted with the run's own master key)
and the inputs table are compared with what the fake Bot API received.

Targets: 0 steps lost, doubled or out of order; 0 messages lost or out of
order; every message sent twice explained by the send-then-crash window (or a
response the fake dropped on purpose); no crash, panic or person's words in
the logs. A table is printed per mode; the exit status is 1 when a target is
missed. Everything listens on 127.0.0.1 only.

Faults: --faults injects 429, 5xx, slow answers, dropped connections and lost
responses at the Bot API; --blocks makes people block the bot (403); --llm
runs with llm.api_key against a fake LLM, --llm-faults makes it slow, failing
or rate limited; --drop-connections cuts the database connections;
--pg-restarts restarts the PostgreSQL server itself (every database on it
goes away for a moment: not beside other work); --replicas 2 runs two
processes behind a round-robin proxy (webhook mode).

See RELIABILITY.md for the figures of full runs.`,
		Example: `  stilstaan soak                                   # both modes, 200 people, 10 minutes and 20 kills each
  stilstaan soak --mode webhook --replicas 2 --faults 0.05 --llm --llm-faults 0.3
  stilstaan soak --mode polling --people 50 --duration 3m --kills 5 --drop-connections 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			conf, log, err := a.load(cmd)
			if err != nil {
				return err
			}
			bin, err := os.Executable()
			if err != nil {
				return fmt.Errorf("soak: where is this binary: %w", err)
			}
			cfg.Binary, cfg.ServerURL, cfg.Log = bin, conf.Database.URL, log
			cfg.Think = [2]time.Duration{think / 4, think * 7 / 4}
			if restartCmd != "" {
				cfg.RestartCommand = strings.Fields(restartCmd)
			}
			var modes []string
			switch mode {
			case "both":
				modes = []string{"polling", "webhook"}
			case "polling", "webhook":
				modes = []string{mode}
			default:
				return fmt.Errorf("soak: --mode must be polling, webhook or both, got %q", mode)
			}
			if cfg.Replicas > 1 && mode == "both" {
				modes = []string{"webhook"} // Telegram lets one client poll
			}
			failed := false
			for _, m := range modes {
				c := cfg
				c.Mode = m
				if c.Dir != "" {
					c.Dir += "/" + m
				}
				rep, err := soak.Run(cmd.Context(), c)
				if err != nil {
					return err
				}
				if err := rep.Write(cmd.OutOrStdout()); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout())
				failed = failed || !rep.OK()
			}
			if failed {
				return errors.New("soak: targets violated (see above)")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&mode, "mode", "both", "polling, webhook, or both one after the other")
	f.IntVar(&cfg.Replicas, "replicas", 1, "bot processes at once (more than one: webhook mode, behind a round-robin proxy)")
	f.IntVar(&cfg.People, "people", 200, "simulated people")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Minute, "how long the people keep going (per mode)")
	f.IntVar(&cfg.MaxSteps, "max-steps", 0, "each person stops after this many updates (0: only --duration bounds them)")
	f.IntVar(&cfg.Kills, "kills", 20, "kill -9s at random moments (per mode)")
	f.Float64Var(&cfg.PauseScale, "pause-scale", 0.05, "dialogs.pause_scale of the bot (timed pauses shortened)")
	f.DurationVar(&think, "think", 850*time.Millisecond, "a person's mean time to answer")
	f.DurationVar(&cfg.StallAfter, "stall-after", 3*time.Minute, "a person waiting this long nudges the bot with /start (counted)")
	f.Uint64Var(&cfg.Seed, "seed", 0, "seed for the people and the moments (0: random; printed)")
	f.Float64Var(&cfg.BotFaults, "faults", 0, "share of Bot API calls answered with a fault (0 to 0.5)")
	f.IntVar(&cfg.Blocks, "blocks", 0, "people who block the bot (403) at a random moment")
	f.BoolVar(&cfg.LLM, "llm", false, "run with llm.api_key set against a fake LLM")
	f.Float64Var(&cfg.LLMFaults, "llm-faults", 0, "share of LLM answers that are slow, 500, 429 or broken")
	f.IntVar(&cfg.DropConnections, "drop-connections", 0, "times every connection to the run's database is ended")
	f.IntVar(&cfg.PostgresRestarts, "pg-restarts", 0, "times the PostgreSQL server is restarted (cuts off every database on it)")
	f.StringVar(&restartCmd, "pg-restart-cmd", "", "command that restarts PostgreSQL (default: pg_ctlcluster --skip-systemctl-redirect <newest version> main restart)")
	f.Float64Var(&cfg.GlobalRate, "global-rate", 25, "telegram.global_rate of the bot")
	f.Float64Var(&cfg.PerChatRate, "per-chat-rate", 1, "telegram.per_chat_rate of the bot")
	f.DurationVar(&cfg.Settle, "settle", 5*time.Minute, "how long to wait at the end for the bot to deliver everything")
	f.StringVar(&cfg.Dir, "dir", "", "keep the bot's logs and configs here (default: a temporary directory, kept when a target is missed)")
	f.BoolVar(&cfg.KeepDatabase, "keep-db", false, "keep the run's database for inspection")
	return cmd
}
