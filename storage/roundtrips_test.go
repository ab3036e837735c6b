package storage_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// noPing stops the pool from pinging a connection idle for over a second
// before handing it out, a round trip the test would otherwise count when the
// machine is slow.
var noPing = storage.WithPoolConfig(func(cfg *pgxpool.Config) {
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
})

func TestTurnRoundTrips(t *testing.T) {
	var rt storagetest.RoundTrips
	// One connection, so that the warm-up prepares every statement on it.
	db := storagetest.New(t, storage.WithMaxConns(1), noPing, rt.Option())
	busy := func(tx *storage.Tx) error {
		tx.SaveState(append(tx.State(), 'x'), tx.Now())
		tx.SetLang("en")
		tx.AddTranscript(storage.Entry{Direction: "in", Text: "a"}, storage.Entry{Direction: "out", Text: "b"})
		tx.Enqueue(storage.Outgoing{Kind: "text", Payload: []byte("c")}, storage.Outgoing{Kind: "text", Payload: []byte("d")})
		return nil
	}
	idle := func(*storage.Tx) error { return nil }
	warm := 0
	warmUp := func() {
		// Every statement a turn sends, prepared once on the connection.
		warm++
		turn(t, db, storage.PersonKey{Channel: "warm", ExternalID: int64(warm)}, fmt.Sprint("warm:", warm), busy)
		turn(t, db, storage.PersonKey{Channel: "warm", ExternalID: int64(warm)}, fmt.Sprint("warm:", warm), busy)
	}
	tests := []struct {
		name   string
		key    storage.PersonKey
		source string
		fn     func(*storage.Tx) error
		cold   bool // no warm-up: the statements are prepared on the way
		want   int64
	}{
		{name: "cold connection", key: storage.PersonKey{Channel: "telegram", ExternalID: 9}, source: "tg:9", fn: busy, cold: true, want: 4},
		{name: "new person", key: storage.PersonKey{Channel: "telegram", ExternalID: 1}, source: "tg:1", fn: busy, want: 2},
		{name: "returning person", key: storage.PersonKey{Channel: "telegram", ExternalID: 1}, source: "tg:2", fn: busy, want: 2},
		{name: "no source (timer)", key: storage.PersonKey{Channel: "telegram", ExternalID: 1}, source: "", fn: busy, want: 2},
		{name: "nothing to write", key: storage.PersonKey{Channel: "telegram", ExternalID: 1}, source: "tg:3", fn: idle, want: 2},
		{name: "duplicate", key: storage.PersonKey{Channel: "telegram", ExternalID: 1}, source: "tg:2", fn: busy, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.cold {
				warmUp()
			}
			rt.Reset()
			turn(t, db, tt.key, tt.source, tt.fn)
			if got := rt.Count(); got != tt.want {
				t.Errorf("round trips = %d, want %d", got, tt.want)
			}
		})
	}
}
