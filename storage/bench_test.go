package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// BenchmarkTurn measures a realistic turn of a returning person: load a 1 KiB
// state, save it back, add two transcript entries and enqueue two messages,
// with a fresh update id as source. It reports round trips per turn next to
// ns/op. Compare sequential with `pgbench -n -M prepared -c 1` and parallel
// with `pgbench -n -N -M prepared -c 16` on the same server.
func BenchmarkTurn(b *testing.B) {
	const people = 1000
	state := bytes.Repeat([]byte("s"), 1024)
	step := func(tx *storage.Tx) error {
		if len(tx.State()) != len(state) {
			return fmt.Errorf("state of %d bytes, want %d", len(tx.State()), len(state))
		}
		tx.SaveState(tx.State(), tx.Now().Add(time.Hour))
		tx.AddTranscript(
			storage.Entry{Direction: "in", Exercise: "stilstaan", Step: "voel", Kind: "text", Text: "Ik voel onrust in mijn buik."},
			storage.Entry{Direction: "out", Exercise: "stilstaan", Step: "adem", Kind: "text", Text: "Dank je. Adem even rustig in en uit."},
		)
		tx.Enqueue(
			storage.Outgoing{Kind: "text", Payload: []byte(`{"text":"Dank je. Adem even rustig in en uit."}`)},
			storage.Outgoing{Kind: "buttons", Payload: []byte(`{"text":"Hoe is het nu?","buttons":["beter","hetzelfde"]}`), Prompt: 3},
		)
		return nil
	}

	setup := func(b *testing.B) (*storage.DB, *storagetest.RoundTrips) {
		rt := &storagetest.RoundTrips{}
		db := storagetest.New(b, storage.WithMaxConns(16), rt.Option())
		for i := range people {
			key := storage.PersonKey{Channel: "telegram", ExternalID: int64(i)}
			turn(b, db, key, "", func(tx *storage.Tx) error {
				tx.SaveState(state, time.Time{})
				return nil
			})
		}
		return db, rt
	}
	var source atomic.Int64

	b.Run("sequential", func(b *testing.B) {
		db, rt := setup(b)
		ctx := context.Background()
		rt.Reset()
		for i := 0; b.Loop(); i++ {
			key := storage.PersonKey{Channel: "telegram", ExternalID: int64(i % people)}
			if _, err := db.Turn(ctx, key, fmt.Sprint("tg:", source.Add(1)), step); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(rt.Count())/float64(b.N), "roundtrips/op")
	})

	b.Run("parallel", func(b *testing.B) {
		db, rt := setup(b)
		ctx := context.Background()
		rt.Reset()
		// Sixteen turns in flight, as many as connections: updates arrive
		// from many people at once, and most of a turn is waiting on I/O.
		b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := source.Add(1)
				key := storage.PersonKey{Channel: "telegram", ExternalID: n % people}
				if _, err := db.Turn(ctx, key, fmt.Sprint("tg:", n), step); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(rt.Count())/float64(b.N), "roundtrips/op")
	})
}
