package main

import (
	"os"
	"os/user"

	"github.com/spf13/cobra"

	"github.com/stilstaan/stilstaan/shell"
)

func (a *app) shellCmd() *cobra.Command {
	var userName, lang string
	cmd := &cobra.Command{
		Use:   "shell",
		Short: "Talk to Stilstaan in this terminal (no Telegram, token or LLM needed)",
		Long: `Talk to Stilstaan in this terminal, with the same engine and database as the bot.
Buttons are shown as numbered options: answer by number or by label. Type /help
for the commands and /quit to leave; run it again and /resume continues.
Input can be piped, one line per answer.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := a.load(cmd)
			if err != nil {
				return err
			}
			lib, err := loadScripts(cfg)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			allowDevKey = true // a local development key when crypto.master_key is unset
			db, err := openDB(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer db.Close()
			svcs, err := newServices(ctx, cfg, lib, db, log, cfg.Shell.PauseScale, nil)
			if err != nil {
				return err
			}
			fi, _ := os.Stdin.Stat()
			return shell.Run(ctx, shell.Options{
				In: os.Stdin, Out: os.Stdout, User: userName, LangHint: lang,
				Interactive: fi != nil && fi.Mode()&os.ModeCharDevice != 0,
				Service:     svcs.Conversation, DB: db,
				AfterTurn: shellAfterTurn(svcs),
			})
		},
	}
	cmd.Flags().StringVar(&userName, "user", defaultUser(), "which simulated person you are (state is kept per user)")
	cmd.Flags().StringVar(&lang, "lang", "nl", "language of a new person (nl or en)")
	cmd.Flags().Float64("pause-scale", 1, "factor for timed pauses (0.01 makes a minute last 0.6 s)")
	return cmd
}

func defaultUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "you"
}
