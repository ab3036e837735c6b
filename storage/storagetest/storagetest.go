// Package storagetest gives each test its own PostgreSQL database on the real
// server: New for a migrated storage.DB, URL for an empty database (for
// migration and CLI tests), and RoundTrips to count round trips to the server.
//
// The server is STILSTAAN_TEST_DATABASE_URL, or
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable when unset. A
// test fails (never skips) when the server cannot be reached.
package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stilstaan/stilstaan/storage"
)

// EnvURL names the environment variable with the server's URL.
const EnvURL = "STILSTAAN_TEST_DATABASE_URL"

// DefaultURL is the server used when EnvURL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// New creates a fresh database, opens it with opts, migrates it and returns
// the store. The store is closed and the database dropped when the test ends.
func New(t testing.TB, opts ...storage.Option) *storage.DB {
	t.Helper()
	u := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The test's own output, shown when it fails or with -v; a later option
	// of the caller's wins.
	opts = append([]storage.Option{storage.WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil)))}, opts...)
	db, err := storage.Open(ctx, u, opts...)
	if err != nil {
		t.Fatalf("storagetest: open test database: %v", err)
	}
	t.Cleanup(db.Close) // runs before the drop registered by URL
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("storagetest: migrate test database: %v", err)
	}
	return db
}

// URL creates a fresh, empty database (no schema) and returns its URL. The
// database is dropped, with any connections still open to it, when the test
// ends.
func URL(t testing.TB) string {
	t.Helper()
	server := serverURL()
	name := "stilstaan_t_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("storagetest: PostgreSQL is unreachable at %s (set %s to the server to test against): %v",
			redact(server), EnvURL, err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("storagetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() { Drop(t, name) })
	u, err := WithDatabase(server, name)
	if err != nil {
		t.Fatalf("storagetest: %v", err)
	}
	return u
}

// Drop drops the database name on the test server, with any connections still
// open to it. A database that does not exist is fine.
func Drop(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, serverURL())
	if err != nil {
		t.Errorf("storagetest: drop database %s: %v", name, err)
		return
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("storagetest: drop database %s: %v", name, err)
	}
}

// NewName returns a database name no test uses yet, for tests that want a
// database created by someone else (e.g. by storage.Open). The caller drops
// it, e.g. with t.Cleanup(func() { storagetest.Drop(t, name) }).
func NewName() string { return "stilstaan_t_" + randomHex(8) }

// ServerURL returns the URL of the test server (its maintenance database).
func ServerURL() string { return serverURL() }

func serverURL() string {
	if u := strings.TrimSpace(os.Getenv(EnvURL)); u != "" {
		return u
	}
	return DefaultURL
}

// WithDatabase returns the connection string u pointed at database name. u is
// a postgres:// URL or a key=value connection string.
func WithDatabase(u, name string) (string, error) {
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		parsed, err := url.Parse(u)
		if err != nil {
			return "", err
		}
		parsed.Path = "/" + name
		parsed.RawPath = ""
		return parsed.String(), nil
	}
	// In a key=value string the last setting of a key wins.
	return u + " dbname=" + name, nil
}

// redact hides a password in a URL for messages.
func redact(u string) string {
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
