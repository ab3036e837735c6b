// Command stilstaan is the Stilstaan bot: `run` (Telegram), `shell` (talk to
// it in a terminal), `migrate`, `validate` (check exercise scripts), `config`
// (print the effective settings) and more; see `stilstaan --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "stilstaan:", err)
		os.Exit(1)
	}
}

type app struct {
	configFile string
}

func newRoot() *cobra.Command {
	a := &app{}
	root := &cobra.Command{
		Use:           "stilstaan",
		Short:         "Stilstaan helps people stand still with their feelings (a Telegram bot)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.configFile, "config", "", "config file (default ./stilstaan.yaml when present)")
	pf.String("database-url", "", "PostgreSQL URL (overrides database.url)")
	pf.String("log-level", "", "debug, info, warn or error (overrides log.level)")
	pf.String("scripts-dir", "", "directory with extra or replacement exercise scripts (overrides scripts.dir)")
	root.AddCommand(a.shellCmd(), a.migrateCmd(), a.validateCmd(), a.configCmd())
	for _, add := range extraCommands {
		root.AddCommand(add(a))
	}
	return root
}

// extraCommands lets further files of this package add subcommands.
var extraCommands []func(*app) *cobra.Command

func (a *app) load(cmd *cobra.Command) (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(a.configFile, cmd.Flags())
	if err != nil {
		return config.Config{}, nil, err
	}
	log := newLogger(cfg.Log)
	if memoryLimited[cmd.CommandPath()] {
		setMemoryLimit(cfg.Runtime, log)
	}
	return cfg, log, nil
}

// memoryLimited lists the commands that get runtime.memory_limit: the bot,
// which runs for long and under load. The bench and the soak start the bot
// as a child process; their own processes (simulated people, fake servers)
// are not limited.
var memoryLimited = map[string]bool{"stilstaan run": true}

// setMemoryLimit makes runtime.memory_limit the Go runtime's soft memory
// limit, unless the GOMEMLIMIT environment variable set one already, and
// returns the limit in effect (math.MaxInt64 for none). Without a limit the
// heap may grow to twice what is live after each collection (GOGC=100)
// before the next one; near the limit the collector runs sooner and gives
// free memory back to the operating system.
func setMemoryLimit(r config.Runtime, log *slog.Logger) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		limit := debug.SetMemoryLimit(-1) // -1 reads the limit without changing it
		log.Debug("memory limit from GOMEMLIMIT", slog.Int64("bytes", limit))
		return limit
	}
	limit, _ := r.MemoryLimitBytes() // config.Load validated it
	if limit == 0 {
		limit = math.MaxInt64 // off: the runtime's own default
	}
	debug.SetMemoryLimit(limit)
	log.Debug("memory limit from runtime.memory_limit", slog.Int64("bytes", limit))
	return limit
}

func newLogger(c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if c.Format == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	l := slog.New(h)
	slog.SetDefault(l)
	return l
}

// loadScripts loads the embedded exercises plus scripts.dir.
func loadScripts(cfg config.Config) (*dialogs.Library, error) {
	lib, err := dialogs.Load(cfg.Scripts.Dir)
	if err != nil {
		var ve *dialogs.ValidationError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("exercise scripts are invalid:\n%s", ve.Error())
		}
		return nil, err
	}
	return lib, nil
}

// openDB connects, creating the database when the server allows, and brings
// the schema up to date (or checks it, with database.auto_migrate off).
func openDB(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...storage.Option) (*storage.DB, error) {
	sealer, err := newSealer(cfg, os.Stderr) // encryption at rest; see privacy.go
	if err != nil {
		return nil, err
	}
	opts = append([]storage.Option{storage.WithMaxConns(cfg.Database.MaxConns), storage.WithLogger(log), storage.WithSealer(sealer)}, opts...)
	db, err := storage.Open(ctx, cfg.Database.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot use the database (is PostgreSQL running at %s?): %w", hostOf(cfg.Database.URL), err)
	}
	if cfg.Database.AutoMigrate {
		if _, err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	} else if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// hostOf returns host:port of a database URL without user or password.
func hostOf(u string) string {
	rest := u
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}
