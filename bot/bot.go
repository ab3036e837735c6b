// Package bot is Stilstaan's Telegram adapter: it receives updates (long
// polling or a webhook), runs them through the conversation service in order
// per chat, fires conversation timers, delivers the outbox and serves health
// checks and metrics.
//
// The receiving side works at least once and in order:
//
//   - Receiving stores each update in the inbox table before Telegram is told
//     it arrived (the next getUpdates offset, or the webhook's 200), so a
//     crash loses nothing, and a redelivered update is stored once. The
//     webhook skips the inbox for an update whose chat nothing else works on:
//     it runs the turn inside the request, under the chat's lock, and answers
//     200 after the commit (see webhook).
//   - Processing takes a chat's advisory lock in PostgreSQL (one holder in the
//     whole deployment), runs the chat's updates in update_id order, each as
//     one conversation turn with source "tg:<update_id>" (so a turn takes
//     effect once), deletes each update once its turn committed, and looks
//     for more after releasing the lock. A receiver stores first and then
//     tries the lock, so an update that arrives while another replica holds
//     the chat is processed by that replica; a sweeper picks up what a crash
//     left behind.
//   - A turn that queues messages leases its chat for this process's
//     delivery in the same transaction and hands the messages over after the
//     commit (storage.Courier), so delivery need not look for them.
//   - Different chats are processed in parallel by a fixed number of workers
//     (telegram.workers); each needs two database connections while it works
//     (the lock and the turn), so at most half of database.max_conns.
//
// In webhook mode any number of replicas can run behind one load balancer,
// all configured with the same telegram.webhook_secret: each replica calls
// setWebhook with it at start, so replicas with different secrets would
// reject each other's updates. A replica without a configured secret makes
// one up, which only works alone.
//
// go-telegram/bot is used for Bot API calls and its models types, not for
// receiving (its Start confirms updates before they are handled and its
// webhook handler answers 200 to a wrong secret); no library type leaves this
// package.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/storage"
)

// Bot is the whole Telegram side of one process. Create it with New, hand
// its Wake to the conversation service (conversation.WithNotify), then Run.
type Bot struct {
	cfg      config.Telegram
	db       *storage.DB
	api      *tgbot.Bot
	delivery *Delivery
	log      *slog.Logger
	reg      *prometheus.Registry
	metrics  *receiveMetrics
	secrets  redactor
	secret   string // the webhook's secret token
	workers  int
	o        options
}

// Option configures New.
type Option func(*options)

type options struct {
	log           *slog.Logger
	reg           *prometheus.Registry
	gatherers     []prometheus.Gatherer
	healthListen  string
	healthLn      net.Listener
	webhookLn     net.Listener
	insecureHook  bool
	grace         time.Duration
	flush         time.Duration
	sweep         time.Duration
	maxAttempts   int
	now           func() time.Time
	deliveryOpts  []DeliveryOption
	maxConnection int
	committed     func(chatID int64, receivedAt time.Time) // see processor.committed
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithRegistry sets the Prometheus registry the metrics are registered on
// and /metrics serves (default: a new one with the Go and process
// collectors).
func WithRegistry(r *prometheus.Registry) Option { return func(o *options) { o.reg = r } }

// WithGatherers adds what other registries gather to /metrics (such as
// prometheus.DefaultGatherer, where other features register).
func WithGatherers(g ...prometheus.Gatherer) Option {
	return func(o *options) { o.gatherers = append(o.gatherers, g...) }
}

// WithHealthListener serves /healthz, /readyz and /metrics on ln instead of
// listening on http.listen.
func WithHealthListener(ln net.Listener) Option { return func(o *options) { o.healthLn = ln } }

// WithWebhookListener serves the webhook on ln instead of listening on
// telegram.webhook_listen.
func WithWebhookListener(ln net.Listener) Option { return func(o *options) { o.webhookLn = ln } }

// WithInsecureWebhook accepts an http:// telegram.webhook_url, for tests
// against a fake Bot API server (Telegram itself only posts to https).
func WithInsecureWebhook() Option { return func(o *options) { o.insecureHook = true } }

// WithGrace sets how long, at shutdown, the turns in progress get to finish
// (default 10s); after that they are cancelled and rolled back. 0 stops at
// once, as a crash would, and also stops delivery without flushing.
func WithGrace(d time.Duration) Option { return func(o *options) { o.grace = max(d, 0) } }

// WithFlush sets how long, at shutdown after the turns ended, delivery gets
// to send what they queued (default 5s).
func WithFlush(d time.Duration) Option { return func(o *options) { o.flush = max(d, 0) } }

// WithSweepInterval sets how often the inbox is swept for leftovers and due
// timers are looked for (default 1s).
func WithSweepInterval(d time.Duration) Option { return func(o *options) { o.sweep = d } }

// WithMaxAttempts sets how often processing an update may fail before it is
// given up with an apology to the person (default 5).
func WithMaxAttempts(n int) Option { return func(o *options) { o.maxAttempts = n } }

// WithClock sets the clock of turn latencies, sweeps and timers (default
// time.Now); give storage and the conversation service the same one.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithDeliveryOptions passes options on to NewDelivery.
func WithDeliveryOptions(opts ...DeliveryOption) Option {
	return func(o *options) { o.deliveryOpts = append(o.deliveryOpts, opts...) }
}

// WithMaxConnections sets setWebhook's max_connections, how many updates
// Telegram posts at once (1-100, default 40).
func WithMaxConnections(n int) Option { return func(o *options) { o.maxConnection = n } }

// New checks the settings and builds the Bot API client, delivery and
// metrics. It makes no network call. cfg.HTTP.Listen is where health checks
// and metrics are served ("" for nowhere, unless WithHealthListener).
func New(cfg config.Config, db *storage.DB, opts ...Option) (*Bot, error) {
	o := options{grace: 10 * time.Second, flush: 5 * time.Second, sweep: time.Second, maxAttempts: 5, now: time.Now, maxConnection: 40}
	for _, opt := range opts {
		opt(&o)
	}
	o.healthListen = cfg.HTTP.Listen
	if o.log == nil {
		o.log = slog.Default()
	}
	if o.reg == nil {
		o.reg = prometheus.NewRegistry()
		o.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if o.sweep <= 0 {
		o.sweep = time.Second
	}
	o.maxAttempts = max(o.maxAttempts, 1)
	o.maxConnection = min(max(o.maxConnection, 1), 100)

	tg := cfg.Telegram
	if strings.TrimSpace(tg.Token) == "" {
		return nil, errors.New("bot: telegram.token is not set: get a token from @BotFather and set it in the config file or STILSTAAN_TELEGRAM_TOKEN")
	}
	b := &Bot{cfg: tg, db: db, log: o.log, reg: o.reg, secrets: redactor{token: tg.Token}, o: o}
	switch tg.Mode {
	case "polling":
	case "webhook":
		u, err := url.Parse(tg.WebhookURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(o.insecureHook && u.Scheme == "http")) {
			return nil, errors.New("bot: telegram.webhook_url must be an https:// URL that Telegram can reach")
		}
		b.secret = tg.WebhookSecret
		if b.secret == "" {
			b.secret = randomSecret()
			o.log.Warn("bot: telegram.webhook_secret is not set, so this process made up one; " +
				"with several replicas behind one webhook set the same secret on all of them")
		}
	default:
		return nil, fmt.Errorf("bot: telegram.mode must be polling or webhook, got %q", tg.Mode)
	}

	// A worker holds a connection for the chat's lock and takes a second one
	// for each turn; with at most half the pool holding locks, turns (and
	// delivery, timers, receiving) always find a connection.
	b.workers = max(tg.Workers, 1)
	if maxConns := int(db.Pool().Config().MaxConns); 2*b.workers > maxConns {
		b.workers = max(1, maxConns/2)
		o.log.Warn("bot: fewer workers than telegram.workers: each needs two database connections; raise database.max_conns",
			slog.Int("workers", b.workers), slog.Int("max_conns", maxConns))
	}

	sendTimeout := tg.SendTimeout
	if sendTimeout <= 0 {
		sendTimeout = 10 * time.Second
	}
	api, err := tgbot.New(tg.Token,
		tgbot.WithServerURL(strings.TrimRight(tg.ServerURL, "/")),
		tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(sendTimeout, &http.Client{Timeout: sendTimeout + 5*time.Second, Transport: newTransport()}),
		tgbot.WithErrorsHandler(func(err error) {
			o.log.Warn("bot: telegram client", slog.String("error", b.secrets.scrub(err)))
		}),
		tgbot.WithDebugHandler(func(string, ...any) {}),
	)
	if err != nil {
		return nil, fmt.Errorf("bot: telegram client: %s", b.secrets.scrub(err))
	}
	b.api = api
	b.metrics = newReceiveMetrics(o.reg)
	dopts := append([]DeliveryOption{WithDeliveryLogger(o.log), WithDeliveryMetrics(NewMetrics(o.reg))}, o.deliveryOpts...)
	b.delivery = NewDelivery(db, api, tg, dopts...)
	return b, nil
}

func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}

// Wake tells delivery that messages were queued; give it to the
// conversation service with conversation.WithNotify.
func (b *Bot) Wake() { b.delivery.Wake() }

// Delivery returns the outbox delivery, for features that show a chat action
// while they work.
func (b *Bot) Delivery() *Delivery { return b.delivery }

// Run receives, processes and delivers until ctx ends, then shuts down in
// order: it stops taking updates (polling stops, the webhook answers 503,
// /readyz fails), lets the turns in progress finish (WithGrace), lets
// delivery send what they queued (WithFlush), and returns. Updates not
// processed yet stay in the inbox for the next start or another replica.
// It returns an error when it cannot start: a listener, or a token
// Telegram rejects.
func (b *Bot) Run(ctx context.Context, svc *conversation.Service) error {
	healthLn, err := b.listen(b.o.healthLn, b.o.healthListen)
	if err != nil {
		return fmt.Errorf("bot: health listener: %w", err)
	}
	var hookLn net.Listener
	if b.cfg.Mode == "webhook" {
		if hookLn, err = b.listen(b.o.webhookLn, b.cfg.WebhookListen); err != nil {
			closeListener(healthLn)
			return fmt.Errorf("bot: webhook listener: %w", err)
		}
	}
	if err := b.checkToken(ctx); err != nil {
		closeListener(healthLn)
		closeListener(hookLn)
		return err
	}

	hs := &health{db: b.db, gatherer: append(prometheus.Gatherers{b.reg}, b.o.gatherers...), log: b.log}
	healthSrv := b.serve(healthLn, hs.handler())

	intake, stopIntake := context.WithCancel(ctx)
	defer stopIntake()
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	deliverCtx, stopDelivery := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDelivery()

	deliveryDone := make(chan struct{})
	go func() {
		defer close(deliveryDone)
		if err := b.delivery.Run(deliverCtx); err != nil {
			b.log.Error("bot: delivery", slog.Any("error", err))
		}
	}()

	proc := &processor{
		db: b.db, svc: svc, api: b.api, log: b.log, metrics: b.metrics, secrets: b.secrets,
		now: b.o.now, maxAttempts: b.o.maxAttempts, committed: b.o.committed,
	}
	sched := newScheduler(10000)
	var wg sync.WaitGroup
	wg.Go(func() { b.setCommands(intake) })
	wg.Go(func() { proc.runWorkers(intake, work, sched, b.workers) })
	wg.Go(func() { proc.sweep(intake, sched, b.o.sweep) })
	timers := &wakeups{db: b.db, svc: svc, log: b.log, metrics: b.metrics, now: b.o.now,
		interval: b.o.sweep, workers: b.workers, firing: map[int64]bool{}}
	wg.Go(func() { timers.run(intake, work) })

	var hook *webhook
	var hookSrv *http.Server
	switch b.cfg.Mode {
	case "webhook":
		hook = newWebhook(b.secret, b.db, sched, proc, b.workers, b.log, b.metrics)
		hookSrv = b.serve(hookLn, hook)
		wg.Go(func() {
			setWebhook(intake, b.api, b.cfg.WebhookURL, b.secret, b.o.maxConnection, b.log, b.secrets)
		})
	default:
		pl := &poller{
			client:  &http.Client{Transport: newTransport()},
			url:     strings.TrimRight(b.cfg.ServerURL, "/") + "/bot" + b.cfg.Token + "/getUpdates",
			timeout: max(b.cfg.PollTimeout, time.Second),
			api:     b.api, db: b.db, sched: sched, log: b.log, metrics: b.metrics, secrets: b.secrets,
		}
		wg.Go(func() { pl.run(intake) })
	}
	b.log.Info("bot: running", slog.String("mode", b.cfg.Mode), slog.Int("workers", b.workers))

	<-ctx.Done()
	b.log.Info("bot: shutting down")
	hs.stopping.Store(true)
	proc.stopping.Store(true)
	if hook != nil {
		hook.draining.Store(true)
	}
	stopIntake()
	graceCtx, cancelGrace := context.WithTimeout(context.Background(), b.o.grace)
	defer cancelGrace()
	if b.o.grace == 0 {
		stopWork()
		stopDelivery()
	}
	if hookSrv != nil {
		shutdown(graceCtx, hookSrv)
	}
	workDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(workDone)
	}()
	select {
	case <-workDone:
	case <-graceCtx.Done():
		if b.o.grace > 0 {
			b.log.Warn("bot: turns still running after the grace period; cancelling them")
		}
		stopWork()
		<-workDone
	}
	b.flush(deliveryDone)
	stopDelivery()
	<-deliveryDone
	if healthSrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		shutdown(sctx, healthSrv)
		cancel()
	}
	b.log.Info("bot: stopped")
	return nil
}

// flush gives delivery up to the flush time to send what is due.
func (b *Bot) flush(deliveryDone <-chan struct{}) {
	if b.o.grace == 0 || b.o.flush == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.o.flush)
	defer cancel()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var pending int64 = -1
	for {
		if n, err := b.db.OutboxDepth(ctx); err == nil {
			if n == 0 {
				return
			}
			pending = n
		}
		select {
		case <-ctx.Done():
			b.log.Warn("bot: outbox not empty at shutdown; it is delivered at the next start", slog.Int64("pending", pending))
			return
		case <-deliveryDone:
			return
		case <-t.C:
		}
	}
}

// checkToken asks Telegram who the bot is: a rejected token stops the start
// with a clear message; other failures only warn (polling retries anyway).
func (b *Bot) checkToken(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	me, err := b.api.GetMe(cctx)
	switch {
	case errors.Is(err, tgbot.ErrorUnauthorized), errors.Is(err, tgbot.ErrorNotFound):
		return errors.New("bot: Telegram rejected telegram.token; check it with @BotFather")
	case err != nil:
		b.log.Warn("bot: cannot reach Telegram yet", slog.String("error", b.secrets.scrub(err)))
	default:
		b.log.Info("bot: connected", slog.String("bot", me.Username))
	}
	return nil
}

// listen returns ln, or listens on addr; both empty gives nil.
func (b *Bot) listen(ln net.Listener, addr string) (net.Listener, error) {
	if ln != nil || addr == "" {
		return ln, nil
	}
	return net.Listen("tcp", addr)
}

func closeListener(ln net.Listener) {
	if ln != nil {
		_ = ln.Close()
	}
}

// serve serves h on ln in the background; nil ln serves nothing.
func (b *Bot) serve(ln net.Listener, h http.Handler) *http.Server {
	if ln == nil {
		return nil
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(b.log.Handler(), slog.LevelDebug),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.Error("bot: http server", slog.String("addr", ln.Addr().String()), slog.Any("error", err))
		}
	}()
	return srv
}

func shutdown(ctx context.Context, srv *http.Server) {
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
}

// commandList is what setMyCommands shows in Telegram's menu.
var commandList = []struct{ name, nl, en string }{
	{"start", "Beginnen, of opnieuw beginnen", "Start, or start over"},
	{"help", "Uitleg, en waar je hulp vindt", "How this works, and where to find help"},
	{"exercises", "Kies een oefening", "Choose an exercise"},
	{"stop", "Stop de oefening van nu", "Stop the current exercise"},
	{"resume", "Ga verder waar je was", "Continue where you left off"},
	{"skip", "Sla deze vraag over", "Skip this question"},
	{"language", "Kies Nederlands of Engels", "Choose Dutch or English"},
	{"checkin", "Een dagelijkse check-in instellen", "Set up a daily check-in"},
	{"mood", "Hoe je je de laatste tijd voelde", "How you have been feeling lately"},
	{"privacy", "Wat ik bewaar, en je toestemming", "What I keep, and your consent"},
	{"export", "Alles wat ik van je bewaar, als bestand", "Everything I keep about you, as a file"},
	{"delete", "Wis alles wat ik van je bewaar", "Erase everything I keep about you"},
}

// setCommands fills Telegram's command menu: Dutch for people whose app is
// in Dutch, English for everyone else. Failures only warn.
func (b *Bot) setCommands(ctx context.Context) {
	for _, lang := range []string{"nl", "en", ""} {
		cmds := make([]models.BotCommand, len(commandList))
		for i, c := range commandList {
			cmds[i] = models.BotCommand{Command: c.name, Description: c.en}
			if lang == "nl" {
				cmds[i].Description = c.nl
			}
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := b.api.SetMyCommands(cctx, &tgbot.SetMyCommandsParams{Commands: cmds, LanguageCode: lang})
		cancel()
		if err != nil {
			b.log.Warn("bot: setMyCommands failed", slog.String("language", lang), slog.String("error", b.secrets.scrub(err)))
		}
	}
}

// redactor keeps the token out of errors and logs.
type redactor struct{ token string }

// scrub returns err's text with the token replaced.
func (r redactor) scrub(err error) string {
	if err == nil {
		return ""
	}
	if r.token == "" {
		return err.Error()
	}
	return strings.ReplaceAll(err.Error(), r.token, "<token>")
}

// wrap returns an error whose text has the token replaced; errors.Is and As
// still see the original.
func (r redactor) wrap(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: r.scrub(err), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
