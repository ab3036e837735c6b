package main

import (
	"context"
	"errors"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/stilstaan/stilstaan/bot"
)

func init() {
	extraCommands = append(extraCommands, (*app).runCmd)
}

func (a *app) runCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the Telegram bot (long polling, or a webhook with telegram.mode=webhook)",
		Long: `Run the Telegram bot until SIGINT or SIGTERM.

With telegram.mode=polling (the default) one process asks Telegram for updates;
run one replica. With telegram.mode=webhook Telegram posts updates to
telegram.webhook_url, served on telegram.webhook_listen (put a TLS proxy or load
balancer in front); any number of replicas may run behind it, all with the same
telegram.webhook_secret. /healthz, /readyz and /metrics are served on http.listen.

On a signal the bot stops taking updates, finishes the turns in progress,
delivers what they queued (a few seconds at most) and exits; what was not
processed yet waits in the database for the next start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := a.load(cmd)
			if err != nil {
				return err
			}
			if strings.TrimSpace(cfg.Telegram.Token) == "" {
				return errors.New("telegram.token is not set: create a bot with @BotFather and put its token in " +
					"the config file (telegram.token) or in STILSTAAN_TELEGRAM_TOKEN; to try Stilstaan without Telegram, use `stilstaan shell`")
			}
			lib, err := loadScripts(cfg)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := openDB(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer db.Close()
			// The bot's own metrics go on reg; other features register on the
			// default registry, which /metrics serves as well.
			reg := prometheus.NewRegistry()
			opts := []bot.Option{bot.WithLogger(log), bot.WithRegistry(reg), bot.WithGatherers(prometheus.DefaultGatherer)}
			if strings.HasPrefix(cfg.Telegram.WebhookURL, "http://") {
				// config allows it only with a self-hosted Bot API server
				opts = append(opts, bot.WithInsecureWebhook())
			}
			b, err := bot.New(cfg, db, opts...)
			if err != nil {
				return err
			}
			// No notify: a turn that queues messages hands its chat to
			// delivery or wakes it itself (storage.Courier).
			svcs, err := newServices(ctx, cfg, lib, db, log, cfg.Dialogs.PauseScale, nil)
			if err != nil {
				return err
			}
			typing := func(ctx context.Context, chatID int64) {
				_ = b.Delivery().SendChatAction(ctx, chatID, "typing") // best effort; it logs its failures
			}
			waitReflections := startReflections(ctx, svcs, typing, log)
			stopCheckins := startCheckins(ctx, cfg, db, svcs.Conversation, log)
			stopRetention := startRetention(ctx, cfg, db, log, b.Wake)
			stopCare := startCare(ctx, cfg, db, log, b.Wake)
			stopDashboard, err := startDashboard(ctx, cfg, db, svcs, log)
			if err != nil {
				stopCare()
				stopRetention()
				stopCheckins()
				return err
			}
			err = b.Run(ctx, svcs.Conversation)
			stopDashboard()
			stopCare()
			stopRetention()
			stopCheckins()
			waitReflections()
			return err
		},
	}
}
