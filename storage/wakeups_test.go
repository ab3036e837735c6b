package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

func TestDueWakeups(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := storagetest.New(t, storage.WithClock(clk.Now))
	now := clk.Now()
	// Person i sleeps until now + offsets[i]; zero means no timer.
	offsets := []time.Duration{30 * time.Minute, -time.Hour, 0, -time.Minute, time.Hour, -2 * time.Hour}
	key := func(i int) storage.PersonKey {
		return storage.PersonKey{Channel: "telegram", ExternalID: int64(100 + i)}
	}
	for i, off := range offsets {
		turn(t, db, key(i), "", func(tx *storage.Tx) error {
			var wake time.Time
			if off != 0 {
				wake = now.Add(off)
			}
			tx.SaveState([]byte("waiting"), wake)
			return nil
		})
	}
	// A person whose timer was set and then cleared.
	turn(t, db, key(1), "", func(tx *storage.Tx) error {
		tx.SaveState([]byte("awake"), time.Time{})
		return nil
	})

	tests := []struct {
		name  string
		at    time.Time
		limit int
		want  []int
	}{
		{name: "due now, most overdue first", at: now, limit: 10, want: []int{5, 3}},
		{name: "limit", at: now, limit: 1, want: []int{5}},
		{name: "no limit", at: now.Add(2 * time.Hour), limit: 0, want: []int{5, 3, 0, 4}},
		{name: "exactly at wake time", at: now.Add(30 * time.Minute), limit: 10, want: []int{5, 3, 0}},
		{name: "nothing due yet", at: now.Add(-3 * time.Hour), limit: 10, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.DueWakeups(ctx, tt.at, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var want []storage.PersonKey
			for _, i := range tt.want {
				want = append(want, key(i))
			}
			if len(got) != len(want) {
				t.Fatalf("DueWakeups = %v, want %v", got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("DueWakeups = %v, want %v", got, want)
				}
			}
		})
	}
}
