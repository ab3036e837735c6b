package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stilstaan/stilstaan/care"
	"github.com/stilstaan/stilstaan/coach"
	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

func init() {
	featureOptions = append(featureOptions, coachFeature)
}

// dashboardURL is where coaches reach the dashboard: dashboard.public_url, or
// the listen address when it is unset (fine on one machine, not behind a
// proxy).
func dashboardURL(cfg config.Config) string {
	if cfg.Dashboard.PublicURL != "" {
		return cfg.Dashboard.PublicURL
	}
	return "http://" + cfg.Dashboard.Listen
}

// newTeam builds the coach review from the settings.
func newTeam(cfg config.Config, db *storage.DB, log *slog.Logger, opts ...coach.Option) (*coach.Team, error) {
	loc, err := time.LoadLocation(cfg.Checkin.DefaultZone)
	if err != nil {
		return nil, fmt.Errorf("checkin.default_zone: %w", err)
	}
	key := pseudonymKey(cfg)
	c := coach.Config{
		PublicURL:  dashboardURL(cfg),
		SigningKey: []byte(cfg.Dashboard.SigningKey),
		SessionTTL: cfg.Dashboard.SessionTTL,
		Location:   loc,
		Pseudonym:  func(personID int64) string { return care.Pseudonym(key, personID) },
	}
	for _, co := range cfg.Coaches {
		c.Coaches = append(c.Coaches, coach.Coach{ID: co.ID, Name: co.Name})
	}
	return coach.New(db, c, append([]coach.Option{coach.WithLogger(log)}, opts...)...)
}

// coachFeature adds /flags and /dashboard for coaches. Anybody else gets the
// engine's answer to an unknown command, from an engine of its own (the
// service's engine is built after the features).
func coachFeature(_ context.Context, cfg config.Config, db *storage.DB, log *slog.Logger) ([]dialogs.EngineOption, []conversation.Option, error) {
	team, err := newTeam(cfg, db, log)
	if err != nil {
		return nil, nil, err
	}
	lib, err := loadScripts(cfg)
	if err != nil {
		return nil, nil, err
	}
	return nil, team.CommandOptions(dialogs.NewEngine(lib).Handle), nil
}

// startDashboard serves the coach dashboard on dashboard.listen for `stilstaan
// run` until stop is called (stop waits for requests in flight, at most ten
// seconds, and may be called again). With no coaches configured it does
// nothing. With coaches but no dashboard.signing_key it refuses, naming the
// setting.
func startDashboard(ctx context.Context, cfg config.Config, db *storage.DB, svcs *services, log *slog.Logger) (stop func(), err error) {
	if len(cfg.Coaches) == 0 {
		log.InfoContext(ctx, "dashboard: off, no coaches configured")
		return func() {}, nil
	}
	team, err := newTeam(cfg, db, log, coach.WithLibrary(svcs.Engine.Library()))
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	h, err := team.Handler()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Dashboard.Listen)
	if err != nil {
		return nil, fmt.Errorf("dashboard: listen on %s (dashboard.listen): %w", cfg.Dashboard.Listen, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("dashboard: stopped", slog.Any("error", err))
		}
	}()
	if !strings.HasPrefix(dashboardURL(cfg), "https://") {
		log.WarnContext(ctx, "dashboard: served without https; set dashboard.public_url to the https address of a TLS proxy in front of it",
			slog.String("listen", ln.Addr().String()))
	}
	log.InfoContext(ctx, "dashboard: serving", slog.String("listen", ln.Addr().String()), slog.String("public_url", dashboardURL(cfg)),
		slog.Int("coaches", len(cfg.Coaches)))
	return sync.OnceFunc(func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("dashboard: shutdown", slog.Any("error", err))
		}
		<-done
	}), nil
}
