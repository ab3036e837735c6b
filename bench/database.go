package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stilstaan/stilstaan/storage"
)

// floorSchema holds the pgbench floor's own copy of the tables.
const floorSchema = "floor"

// scratch is the bench's own database on the configured server: created
// fresh, migrated, and dropped when the run ends.
type scratch struct {
	server string // the server's URL, as configured
	name   string
	url    string // the scratch database
	db     *storage.DB
}

// newScratch creates the database stilstaan_bench_<random> on server and
// migrates it, once in the public schema (the bot's tables) and once in the
// schema floor (pgbench's tables, the same definitions).
func newScratch(ctx context.Context, server string, log *slog.Logger) (*scratch, error) {
	name := "stilstaan_bench_" + randomHex(6)
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return nil, fmt.Errorf("bench: connect to %s: %w", redactURL(server), err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("bench: create database %s: %w", name, err)
	}
	s := &scratch{server: server, name: name}
	ok := false
	defer func() {
		if !ok {
			s.drop(context.WithoutCancel(ctx))
		}
	}()
	if s.url, err = withDatabase(server, name); err != nil {
		return nil, err
	}
	quiet := slog.New(slog.DiscardHandler)
	if s.db, err = storage.Open(ctx, s.url, storage.WithMaxConns(8), storage.WithLogger(quiet)); err != nil {
		return nil, fmt.Errorf("bench: open %s: %w", name, err)
	}
	if _, err := s.db.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("bench: migrate %s: %w", name, err)
	}
	if _, err := s.db.Pool().Exec(ctx, "CREATE SCHEMA "+floorSchema); err != nil {
		return nil, fmt.Errorf("bench: create schema %s: %w", floorSchema, err)
	}
	floor, err := storage.Open(ctx, s.floorURL(), storage.WithMaxConns(2), storage.WithLogger(quiet))
	if err != nil {
		return nil, fmt.Errorf("bench: open schema %s: %w", floorSchema, err)
	}
	defer floor.Close()
	if _, err := floor.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("bench: migrate schema %s: %w", floorSchema, err)
	}
	log.InfoContext(ctx, "bench: scratch database ready", slog.String("database", name))
	ok = true
	return s, nil
}

// floorURL is the scratch database with the floor schema first on the
// search path.
func (s *scratch) floorURL() string {
	return addParam(s.url, "search_path", floorSchema)
}

// drop closes the bench's connections and drops the database, with any
// connection still open to it.
func (s *scratch) drop(ctx context.Context) error {
	if s.db != nil {
		s.db.Close()
	}
	admin, err := pgx.Connect(ctx, s.server)
	if err != nil {
		return fmt.Errorf("bench: drop database %s: %w", s.name, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{s.name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("bench: drop database %s: %w", s.name, err)
	}
	return nil
}

// serverVersion is the server's version string, e.g. "15.20".
func (s *scratch) serverVersion(ctx context.Context) string {
	var v string
	if err := s.db.Pool().QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "unknown"
	}
	return v
}

// withDatabase returns the connection URL u pointed at database name.
func withDatabase(u, name string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "postgres" && parsed.Scheme != "postgresql") {
		return "", fmt.Errorf("bench: the database URL must be a postgres:// URL")
	}
	parsed.Path = "/" + name
	parsed.RawPath = ""
	return parsed.String(), nil
}

// addParam sets a query parameter of a postgres:// URL.
func addParam(u, key, value string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := parsed.Query()
	q.Set(key, value)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

// hostPort returns host:port of a postgres:// URL (port 5432 when absent).
func hostPort(u string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("bench: database URL: %w", err)
	}
	host := parsed.Hostname()
	if host == "" {
		host = "127.0.0.1"
	}
	port := parsed.Port()
	if port == "" {
		port = "5432"
	}
	return host + ":" + port, nil
}

// withHostPort returns u pointed at another host:port.
func withHostPort(u, hostport string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	parsed.Host = hostport
	return parsed.String()
}

// redactURL hides a password in a URL for messages.
func redactURL(u string) string {
	if parsed, err := url.Parse(u); err == nil && parsed.Scheme != "" {
		return parsed.Redacted()
	}
	return "the configured server"
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// backendCPU sums the CPU time so far of the server processes serving the
// database (its backends, not the server's background processes). It needs
// the server on this machine; ok is false when its processes cannot be read.
func (s *scratch) backendCPU(ctx context.Context) (cpu time.Duration, ok bool) {
	rows, err := s.db.Pool().Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, s.name)
	if err != nil {
		return 0, false
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || len(pids) == 0 {
		return 0, false
	}
	read := 0
	for _, pid := range pids {
		if p, err := readProc(int(pid)); err == nil {
			cpu += p.cpu
			read++
		}
	}
	return cpu, read > 0
}
