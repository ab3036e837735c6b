package main

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/stilstaan/stilstaan/care"
	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/safety"
	"github.com/stilstaan/stilstaan/storage"
)

func init() {
	featureOptions = append(featureOptions, careFeature)
	extraCommands = append(extraCommands, (*app).safetyCmd)
}

// newCare builds the safety and care protocol from the settings.
func newCare(cfg config.Config, db *storage.DB, log *slog.Logger) (*care.Care, error) {
	c := care.Config{
		DashboardURL:    cfg.Dashboard.PublicURL,
		ReannounceAfter: cfg.Safety.ReannounceAfter,
		FollowUpAfter:   cfg.Safety.FollowUpAfter,
		PseudonymKey:    pseudonymKey(cfg),
	}
	if len(cfg.Safety.Helplines) > 0 {
		c.Helplines = safety.Helplines{}
		for lang, lines := range cfg.Safety.Helplines {
			for _, h := range lines {
				c.Helplines[lang] = append(c.Helplines[lang], safety.Helpline{Name: h.Name, Phone: h.Phone, Text: h.Text, URL: h.URL, Hours: h.Hours})
			}
		}
	}
	for _, co := range cfg.Coaches {
		c.Coaches = append(c.Coaches, care.Coach{ID: co.ID, Name: co.Name})
	}
	return care.New(db, c, log)
}

// pseudonymKey keys the pseudonyms coaches see; it is secret so a pseudonym
// cannot be traced back to a person id.
func pseudonymKey(cfg config.Config) []byte {
	secret := cfg.Dashboard.SigningKey
	if secret == "" {
		secret = cfg.Crypto.MasterKey
	}
	sum := sha256.Sum256([]byte("stilstaan pseudonyms\x00" + secret))
	return sum[:]
}

func careFeature(_ context.Context, cfg config.Config, db *storage.DB, log *slog.Logger) ([]dialogs.EngineOption, []conversation.Option, error) {
	c, err := newCare(cfg, db, log)
	if err != nil {
		return nil, nil, err
	}
	return []dialogs.EngineOption{dialogs.WithElevated(c.Elevated)},
		[]conversation.Option{conversation.WithScreener(c.Screen), conversation.WithHook(c.Hook)}, nil
}

func (a *app) safetyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "safety", Short: "Tools for the crisis check"}
	cmd.AddCommand(&cobra.Command{
		Use:   "classify",
		Short: "Classify lines from stdin; prints one JSON object a line (text, level, category, rule)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return safety.ClassifyLines(safety.NewClassifier(), cmd.InOrStdin(), cmd.OutOrStdout())
		},
	})
	return cmd
}

// startCare re-announces open acute flags and sends the next-day follow-ups
// while the bot runs. stop waits for the loop to end.
func startCare(ctx context.Context, cfg config.Config, db *storage.DB, log *slog.Logger, notify func()) (stop func()) {
	c, err := newCare(cfg, db, log)
	if err != nil {
		// newServices built the protocol from the same settings already
		log.ErrorContext(ctx, "care: not started", slog.Any("error", err))
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx, time.Minute, time.Now, notify)
	}()
	return func() { cancel(); <-done }
}
