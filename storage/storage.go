// Package storage keeps Stilstaan's state in PostgreSQL: people, their
// conversation state, the inputs already processed, the transcript and the
// outbox of messages still to deliver.
//
// It talks to the database through pgx/v5 and a pgxpool, without an ORM.
// The schema is a list of ordered SQL migrations embedded in the binary
// (see Migrate and CheckSchema). Everything a person wrote passes through a
// Sealer, so that encryption at rest plugs in without touching callers.
//
// The heart of the package is Turn: one transaction per update that records
// the update for exactly-once processing, locks the person, hands the
// conversation state to the caller and writes everything the caller buffered,
// in as few round trips to the server as pgx allows (two in the steady state).
package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned (wrapped) when a row asked for does not exist.
var ErrNotFound = errors.New("not found")

// DB is the PostgreSQL store. It is safe for concurrent use.
type DB struct {
	pool    *pgxpool.Pool
	now     func() time.Time
	sealer  Sealer
	log     *slog.Logger
	courier atomic.Pointer[Courier]
}

// Option configures Open.
type Option func(*options)

type options struct {
	now        func() time.Time
	maxConns   int32
	sealer     Sealer
	log        *slog.Logger
	poolConfig []func(*pgxpool.Config)
}

// WithClock sets the clock used for every timestamp the store writes, so tests
// can move time. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithMaxConns caps the number of connections in the pool.
func WithMaxConns(n int32) Option {
	return func(o *options) { o.maxConns = n }
}

// WithSealer sets how what people write is encrypted at rest. The default is
// NoEncryption.
func WithSealer(s Sealer) Option {
	return func(o *options) { o.sealer = s }
}

// WithLogger sets the logger. The default is slog.Default(). The store never
// logs what a person wrote.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// WithPoolConfig lets the caller adjust the pool configuration after the URL
// has been parsed and the other options applied, e.g. to install a tracer or a
// dialer (storagetest uses it to count round trips).
func WithPoolConfig(fn func(*pgxpool.Config)) Option {
	return func(o *options) { o.poolConfig = append(o.poolConfig, fn) }
}

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string) and checks that it answers. If the database does not
// exist, Open connects to the "postgres" database on the same server, creates
// it and connects again; that fails when the user may not create databases.
//
// Open does not touch the schema: call Migrate, or CheckSchema to refuse to
// run on a schema of another version.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	o := options{now: time.Now, sealer: NoEncryption}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	if o.sealer == nil {
		o.sealer = NoEncryption
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("storage: open: %w", err)
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	for _, fn := range o.poolConfig {
		fn(cfg)
	}

	pool, err := connect(ctx, cfg)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // invalid_catalog_name
		if cerr := createDatabase(ctx, cfg.ConnConfig); cerr != nil {
			return nil, fmt.Errorf("storage: open: database %q does not exist and could not be created: %w",
				cfg.ConnConfig.Database, cerr)
		}
		o.log.InfoContext(ctx, "storage: created database", slog.String("database", cfg.ConnConfig.Database))
		pool, err = connect(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open: %w", err)
	}
	return &DB{pool: pool, now: o.now, sealer: o.sealer, log: o.log}, nil
}

// connect builds a pool and checks that one connection can be made.
func connect(ctx context.Context, cfg *pgxpool.Config) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// createDatabase connects to the "postgres" database of the server in cfg and
// creates cfg.Database. A database created meanwhile by someone else is fine.
func createDatabase(ctx context.Context, cfg *pgx.ConnConfig) error {
	admin := cfg.Copy()
	name := admin.Database
	admin.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: a replica won the race
		return nil
	}
	return err
}

// Close closes every connection. Calls running at the time fail.
func (db *DB) Close() { db.pool.Close() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("storage: ping: %w", err)
	}
	return nil
}

// Pool returns the connection pool. It exists for the tests of other packages
// that own tables in this database (to set up and inspect rows); production
// code goes through the methods of DB and Tx, so that every query on a
// person's data passes through the Sealer.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Now returns the store's clock reading.
func (db *DB) Now() time.Time { return db.now() }

// cipherFor returns the cipher of a person whose wrapped key is known.
func (db *DB) cipherFor(ctx context.Context, personID int64, wrapped []byte) (Cipher, error) {
	c, err := db.sealer.Cipher(ctx, personID, wrapped)
	if err != nil {
		return nil, fmt.Errorf("cipher for person %d: %w", personID, err)
	}
	return c, nil
}

// nullTime maps the zero time to NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// nullString maps "" to NULL.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
