package main

import (
	"context"
	"log/slog"
	"math"
	"sync"

	"github.com/stilstaan/stilstaan/checkin"
	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

func init() {
	featureOptions = append(featureOptions, checkinFeature)
}

// checkinFeature adds /checkin, /mood, the check-in buttons and the hooks
// that record check-ins and exercise runs, in every front end.
func checkinFeature(_ context.Context, cfg config.Config, _ *storage.DB, log *slog.Logger) ([]dialogs.EngineOption, []conversation.Option, error) {
	// The feature needs the exercise titles for the weekly picture; the
	// engine is built after the features, so it reads the scripts itself.
	lib, err := loadScripts(cfg)
	if err != nil {
		return nil, nil, err
	}
	f, err := checkin.New(cfg.Checkin, lib, log)
	if err != nil {
		return nil, nil, err
	}
	return nil, f.Options(), nil
}

// startCheckins runs the check-in scheduler of `stilstaan run` until ctx ends
// or the returned stop is called; stop waits for the scheduler to finish its
// pass (it releases what it did not start, for another replica or the next
// run). svc must be the service built by newServices.
func startCheckins(ctx context.Context, cfg config.Config, db *storage.DB, svc *conversation.Service, log *slog.Logger) (stop func()) {
	f, err := checkin.New(cfg.Checkin, svc.Engine().Library(), log)
	if err != nil {
		// newServices built the feature from the same settings, so this
		// does not happen; say so loudly if it ever does.
		log.ErrorContext(ctx, "checkin: scheduler not started", slog.Any("error", err))
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Check-ins start no faster than delivery sends: at most ten
		// seconds of telegram.global_rate wait in the outbox.
		backlog := checkin.WithBacklog(int(math.Ceil(10 * cfg.Telegram.GlobalRate)))
		_ = f.NewScheduler(db, svc, backlog).Run(ctx) // Run logs its own errors and returns nil when ctx ends
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}
