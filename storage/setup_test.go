package storage_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/storage"
)

// clock is a test clock that only moves when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// count returns the number of rows of table.
func count(t testing.TB, db *storage.DB, table string) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// counts returns the row counts of every table a turn writes.
func counts(t testing.TB, db *storage.DB) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, table := range []string{"people", "conversations", "inputs", "transcript", "outbox"} {
		m[table] = count(t, db, table)
	}
	return m
}

// turn runs Turn and fails the test on an error.
func turn(t testing.TB, db *storage.DB, key storage.PersonKey, source string, fn func(*storage.Tx) error) (dup bool) {
	t.Helper()
	dup, err := db.Turn(context.Background(), key, source, fn)
	if err != nil {
		t.Fatalf("Turn(%v, %q): %v", key, source, err)
	}
	return dup
}

// quiet sends the store's log lines to the test's output.
func quiet(t testing.TB) storage.Option {
	return storage.WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil)))
}
