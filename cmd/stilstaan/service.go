package main

import (
	"context"
	"log/slog"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

// services is what every front end (run, shell) shares: the engine and the
// conversation service with every feature wired in.
type services struct {
	Engine       *dialogs.Engine
	Conversation *conversation.Service
}

// serviceOption adds engine or service options for one feature; features
// register themselves in featureOptions from their own file.
type featureFunc func(ctx context.Context, cfg config.Config, db *storage.DB, log *slog.Logger) ([]dialogs.EngineOption, []conversation.Option, error)

var featureOptions []featureFunc

// newServices builds the engine and the conversation service. pauseScale is
// the shell's setting, or 1 for the bot; notify wakes message delivery.
func newServices(ctx context.Context, cfg config.Config, lib *dialogs.Library, db *storage.DB, log *slog.Logger, pauseScale float64, notify func()) (*services, error) {
	engineOpts := []dialogs.EngineOption{dialogs.WithPauseScale(pauseScale)}
	svcOpts := []conversation.Option{conversation.WithLogger(log)}
	if notify != nil {
		svcOpts = append(svcOpts, conversation.WithNotify(notify))
	}
	for _, f := range featureOptions {
		eo, so, err := f(ctx, cfg, db, log)
		if err != nil {
			return nil, err
		}
		engineOpts = append(engineOpts, eo...)
		svcOpts = append(svcOpts, so...)
	}
	engine := dialogs.NewEngine(lib, engineOpts...)
	return &services{Engine: engine, Conversation: conversation.New(db, engine, svcOpts...)}, nil
}
