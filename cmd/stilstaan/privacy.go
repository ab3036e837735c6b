package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/keyring"
	"github.com/stilstaan/stilstaan/privacy"
	"github.com/stilstaan/stilstaan/storage"
)

func init() {
	featureOptions = append(featureOptions, privacyFeature)
	extraCommands = append(extraCommands, (*app).keysCmd, (*app).retentionCmd)
}

// allowDevKey lets openDB fall back to a development master key kept in
// crypto.dev_key_file (created on first use) when none is configured. Only
// the terminal shell sets it; the bot refuses to start without a real key.
var allowDevKey bool

// EnvNewMasterKey holds the new master key for `stilstaan keys rotate` when
// --new-key-file is not given.
const EnvNewMasterKey = "STILSTAAN_NEW_MASTER_KEY"

// newSealer builds the encryption at rest from the crypto settings. Without a
// master key it fails with a message naming crypto.master_key, unless
// allowDevKey is set: then it uses (and on first use creates, saying so once
// on stderr) the development key file.
func newSealer(cfg config.Config, stderr io.Writer) (*privacy.Sealer, error) {
	current, previous, err := privacy.MasterKeys(cfg.Crypto)
	if errors.Is(err, privacy.ErrNoMasterKey) && allowDevKey {
		path := cfg.Crypto.DevKeyFile
		k, created, derr := keyring.EnsureDevKeyFile(path)
		if derr != nil {
			return nil, fmt.Errorf("development master key (crypto.dev_key_file): %w", derr)
		}
		if created {
			fmt.Fprintf(stderr, "stilstaan: created a local development key at %s. Keep it: what this shell stores cannot be read without it. Never use it in production (set crypto.master_key there).\n", path)
		}
		current = k
		previous, err = privacy.PreviousKeys(cfg.Crypto)
	}
	if err != nil {
		return nil, err
	}
	return privacy.NewSealer(current, previous)
}

// privacyFeature adds /privacy, /export and /delete with their buttons, and
// the hook that keeps consent history and last activity.
func privacyFeature(_ context.Context, cfg config.Config, db *storage.DB, log *slog.Logger) ([]dialogs.EngineOption, []conversation.Option, error) {
	lib, err := loadScripts(cfg)
	if err != nil {
		return nil, nil, err
	}
	p := privacy.New(db, privacy.WithLibrary(lib), privacy.WithLogger(log), privacy.WithLocation(zone(cfg)),
		privacy.WithRetentionDays(cfg.Privacy.RetentionDays))
	return nil, p.ServiceOptions(), nil
}

// zone is the time zone dates are shown to people in.
func zone(cfg config.Config) *time.Location {
	if loc, err := time.LoadLocation(cfg.Checkin.DefaultZone); err == nil {
		return loc
	}
	return time.UTC
}

// startRetention runs the retention worker (warn, then erase, people away
// longer than privacy.retention_days; a pass an hour) until ctx ends or the
// returned stop is called; stop waits for a pass in progress. `stilstaan run`
// starts it beside the bot with notify = the delivery's wake-up; several
// replicas may all run it.
func startRetention(ctx context.Context, cfg config.Config, db *storage.DB, log *slog.Logger, notify func()) (stop func()) {
	r := privacy.NewRetention(db, privacy.RetentionConfig{
		Days: cfg.Privacy.RetentionDays, WarnDays: cfg.Privacy.WarnDays, Log: log, Notify: notify,
	})
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(ctx, privacy.DefaultRetentionInterval) // logs its own failures; returns nil when ctx ends
	}()
	return func() {
		cancel()
		<-done
	}
}

func (a *app) retentionCmd() *cobra.Command {
	var once bool
	cmd := &cobra.Command{
		Use:   "retention",
		Short: "Warn, then erase, people silent for longer than privacy.retention_days (hourly; --once for one pass)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := a.load(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := openDB(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer db.Close()
			if !once {
				stop := startRetention(ctx, cfg, db, log, nil)
				<-ctx.Done()
				stop()
				return nil
			}
			r := privacy.NewRetention(db, privacy.RetentionConfig{Days: cfg.Privacy.RetentionDays, WarnDays: cfg.Privacy.WarnDays, Log: log})
			res, err := r.RunOnce(ctx, time.Now())
			fmt.Fprintf(cmd.OutOrStdout(), "warned %d, erased %d, failed %d\n", res.Warned, res.Erased, res.Failed)
			return err
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "run one pass and exit")
	return cmd
}

func (a *app) keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Master keys for encryption at rest: generate one, rotate to a new one"}
	cmd.AddCommand(&cobra.Command{
		Use:   "generate",
		Short: "Print a new random master key (base64) for crypto.master_key or a key file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := keyring.GenerateMasterKey()
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), k.Encode())
			fmt.Fprintf(cmd.ErrOrStderr(), "master key %s: keep it secret and backed up; without it nothing stored can be read\n", k.ID())
			return nil
		},
	})

	var newKeyFile string
	var batch int
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Re-wrap every person's data key under a new master key",
		Long: `Re-wrap every person's data key under a new master key, in batches, while the bot runs.
The new key comes from --new-key-file or ` + EnvNewMasterKey + `; the keys that wrapped the
stored data keys come from the configuration (crypto.master_key or crypto.master_key_file, and
crypto.previous_keys). The data itself is not re-encrypted.

Without downtime:
  1. stilstaan keys generate > new.key
  2. Restart the bot with the new key added to crypto.previous_keys (with several replicas,
     wait until all have restarted), so every process can read keys wrapped by either key.
  3. stilstaan keys rotate --new-key-file new.key
  4. Restart with the new key as crypto.master_key and the old one in crypto.previous_keys,
     run step 3 again (it only re-wraps what was added meanwhile), then drop the old key.
Old backups stay readable only with the old key: destroy it when those backups expire.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := a.load(cmd)
			if err != nil {
				return err
			}
			newKey, err := rotationKey(newKeyFile)
			if err != nil {
				return err
			}
			current, previous, err := privacy.MasterKeys(cfg.Crypto)
			if err != nil {
				return err
			}
			ring := keyring.NewRing(newKey, append([]keyring.MasterKey{current}, previous...)...)
			ctx := cmd.Context()
			db, err := storage.Open(ctx, cfg.Database.URL, storage.WithLogger(log), storage.WithMaxConns(2))
			if err != nil {
				return fmt.Errorf("cannot use the database (is PostgreSQL running at %s?): %w", hostOf(cfg.Database.URL), err)
			}
			defer db.Close()
			if err := db.CheckSchema(ctx); err != nil {
				return err
			}
			st, err := privacy.Rotate(ctx, db, ring, batch, log)
			fmt.Fprintf(cmd.OutOrStdout(), "master key %s: re-wrapped %d data key(s), %d already under it, %d changed meanwhile, %d failed\n",
				newKey.ID(), st.Rewrapped, st.AlreadyCurrent, st.Changed, st.Failed)
			return err
		},
	}
	rotate.Flags().StringVar(&newKeyFile, "new-key-file", "", "file with the new master key (base64); default $"+EnvNewMasterKey)
	rotate.Flags().IntVar(&batch, "batch", privacy.DefaultRotateBatch, "data keys re-wrapped per statement")
	cmd.AddCommand(rotate)
	return cmd
}

// rotationKey reads the new master key from file, or from the environment.
func rotationKey(file string) (keyring.MasterKey, error) {
	if file != "" {
		return keyring.LoadMasterKeyFile(file)
	}
	if s := strings.TrimSpace(os.Getenv(EnvNewMasterKey)); s != "" {
		k, err := keyring.ParseMasterKey(s)
		if err != nil {
			return keyring.MasterKey{}, fmt.Errorf("%s: %w", EnvNewMasterKey, err)
		}
		return k, nil
	}
	return keyring.MasterKey{}, fmt.Errorf("no new master key: pass --new-key-file or set %s", EnvNewMasterKey)
}
