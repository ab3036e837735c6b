package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create the database if needed and apply schema migrations",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := a.load(cmd)
			if err != nil {
				return err
			}
			db, err := storage.Open(cmd.Context(), cfg.Database.URL, storage.WithLogger(log))
			if err != nil {
				return fmt.Errorf("cannot use the database (is PostgreSQL running at %s?): %w", hostOf(cfg.Database.URL), err)
			}
			defer db.Close()
			n, err := db.Migrate(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "applied %d migration(s); the schema is current\n", n)
			return nil
		},
	}
}

func (a *app) validateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check exercise scripts (DIR, or the built-in ones plus scripts.dir)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if len(args) == 1 {
				probs, err := dialogs.ValidateDir(args[0])
				if err != nil {
					return err
				}
				for _, p := range probs {
					fmt.Fprintln(out, p.String())
				}
				if len(probs) > 0 {
					return fmt.Errorf("%d problem(s) found", len(probs))
				}
				fmt.Fprintf(out, "ok: the scripts in %s are valid\n", args[0])
				return nil
			}
			cfg, _, err := a.load(cmd)
			if err != nil {
				return err
			}
			lib, err := dialogs.Load(cfg.Scripts.Dir)
			if err != nil {
				var ve *dialogs.ValidationError
				if errors.As(err, &ve) {
					for _, p := range ve.Problems {
						fmt.Fprintln(out, p.String())
					}
					return fmt.Errorf("%d problem(s) found", len(ve.Problems))
				}
				return err
			}
			fmt.Fprintf(out, "ok: %d exercises are valid\n", len(lib.Scripts()))
			return nil
		},
	}
}

func (a *app) configCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Print the effective settings, secrets redacted",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := a.load(cmd)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), cfg.Redacted())
			return nil
		},
	}
}
