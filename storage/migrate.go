package storage

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/tern/v2/migrate"
)

// ErrSchemaOutdated means the database schema is older than this binary; the
// error wrapping it says to run `stilstaan migrate`.
var ErrSchemaOutdated = errors.New("database schema is older than this binary")

// ErrSchemaNewer means the database schema was migrated by a newer binary.
var ErrSchemaNewer = errors.New("database schema is newer than this binary")

// versionTable is where tern keeps the number of applied migrations (one row).
const versionTable = "schema_version"

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations directory.
func migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded; this cannot fail
	}
	return sub
}

// migrationFilesSorted lists the embedded migrations in the order they run:
// by file name. The number in a name only orders the files; gaps are allowed
// (features reserve numbers), and the schema version is the count applied.
func migrationFilesSorted() []string {
	names, err := fs.Glob(migrations(), "*.sql")
	if err != nil {
		panic(fmt.Sprintf("storage: embedded migrations: %v", err)) // the pattern is constant
	}
	sort.Strings(names)
	return names
}

// loadMigrations adds the embedded migrations to m in order.
func loadMigrations(m *migrate.Migrator) error {
	for _, name := range migrationFilesSorted() {
		sql, err := fs.ReadFile(migrations(), name)
		if err != nil {
			return err
		}
		m.AppendMigration(name, string(sql), "")
	}
	return nil
}

// SchemaVersion is the schema version this binary needs: the number of
// embedded migrations.
func SchemaVersion() int {
	return len(migrationFilesSorted())
}

// Migrate applies the embedded migrations the database does not have yet, each
// in its own transaction, and returns how many it applied. Several processes
// may call it at once: an advisory lock lets one work while the others wait.
// It fails with ErrSchemaNewer if a newer binary has migrated the database.
func (db *DB) Migrate(ctx context.Context) (applied int, err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("storage: migrate: %w", err)
	}
	defer conn.Release()

	m, err := migrate.NewMigrator(ctx, conn.Conn(), versionTable)
	if err != nil {
		return 0, fmt.Errorf("storage: migrate: %w", err)
	}
	if err := loadMigrations(m); err != nil {
		return 0, fmt.Errorf("storage: migrate: load: %w", err)
	}
	current, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("storage: migrate: %w", err)
	}
	if int(current) > len(m.Migrations) {
		return 0, fmt.Errorf("storage: migrate: %w (database at version %d, this binary knows %d)",
			ErrSchemaNewer, current, len(m.Migrations))
	}
	m.OnStart = func(seq int32, name, _, _ string) {
		applied++
		db.log.InfoContext(ctx, "storage: applying migration", slog.Int("version", int(seq)), slog.String("name", name))
	}
	if err := m.Migrate(ctx); err != nil {
		var badVersion migrate.BadVersionError
		if errors.As(err, &badVersion) { // another process migrated further meanwhile
			return applied, fmt.Errorf("storage: migrate: %w: %w", ErrSchemaNewer, err)
		}
		// The failed migration was rolled back; ask the database how far it
		// got (on another connection, in case this one broke).
		var after int32
		if verr := db.pool.QueryRow(ctx, "SELECT version FROM "+versionTable).Scan(&after); verr == nil {
			applied = int(after - current)
		}
		return applied, fmt.Errorf("storage: migrate: %w", err)
	}
	return applied, nil
}

// CheckSchema returns nil when the database schema is exactly the version this
// binary needs. Otherwise the error wraps ErrSchemaOutdated (and says to run
// `stilstaan migrate`) or ErrSchemaNewer.
func (db *DB) CheckSchema(ctx context.Context) error {
	var current int
	err := db.pool.QueryRow(ctx, "SELECT version FROM "+versionTable).Scan(&current)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" || errors.Is(err, pgx.ErrNoRows) {
		current, err = 0, nil // never migrated (no table), or the version row was lost
	}
	if err != nil {
		return fmt.Errorf("storage: check schema: %w", err)
	}
	want := SchemaVersion()
	switch {
	case current < want:
		return fmt.Errorf("storage: check schema: %w (database at version %d, this binary needs %d): run `stilstaan migrate`",
			ErrSchemaOutdated, current, want)
	case current > want:
		return fmt.Errorf("storage: check schema: %w (database at version %d, this binary knows %d): upgrade the binary",
			ErrSchemaNewer, current, want)
	}
	return nil
}
