package storage_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

func TestPendingForAndMarkSent(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := storagetest.New(t, storage.WithClock(clk.Now))
	bob := storage.PersonKey{Channel: "telegram", ExternalID: 2002}
	later := clk.Now().Add(24 * time.Hour)

	var aliceID, bobID int64
	turn(t, db, alice, "tg:1", func(tx *storage.Tx) error {
		aliceID = tx.Person().ID
		tx.Enqueue(storage.Outgoing{Kind: "text", Payload: []byte("a1")},
			storage.Outgoing{Kind: "text", Payload: []byte("a2"), Priority: 10, NotBefore: later})
		return nil
	})
	turn(t, db, bob, "tg:2", func(tx *storage.Tx) error {
		bobID = tx.Person().ID
		tx.Enqueue(storage.Outgoing{Kind: "text", Payload: []byte("b1")})
		return nil
	})
	turn(t, db, alice, "tg:3", func(tx *storage.Tx) error {
		tx.Enqueue(storage.Outgoing{Kind: "text", Payload: []byte("a3")})
		return nil
	})

	payloads := func(personID int64) []string {
		t.Helper()
		msgs, err := db.PendingFor(ctx, personID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for i, m := range msgs {
			if m.PersonID != personID || (i > 0 && m.ID <= msgs[i-1].ID) {
				t.Errorf("PendingFor(%d)[%d] = %+v: wrong person or order", personID, i, m)
			}
			out = append(out, string(m.Payload))
		}
		return out
	}
	msgs, err := db.PendingFor(ctx, aliceID)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		markSent int // index into alice's first pending list, -1 for none
		person   int64
		want     []string
	}{
		{name: "all pending in enqueue order", markSent: -1, person: aliceID, want: []string{"a1", "a2", "a3"}},
		{name: "other person apart", markSent: -1, person: bobID, want: []string{"b1"}},
		{name: "first sent", markSent: 0, person: aliceID, want: []string{"a2", "a3"}},
		{name: "middle sent", markSent: 2, person: aliceID, want: []string{"a2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.markSent >= 0 {
				if err := db.MarkSent(ctx, msgs[tt.markSent].ID, 9000+int64(tt.markSent)); err != nil {
					t.Fatal(err)
				}
			}
			if got := payloads(tt.person); !equal(got, tt.want) {
				t.Errorf("pending = %q, want %q", got, tt.want)
			}
		})
	}
	if !msgs[1].NotBefore.Equal(later) || msgs[1].Priority != 10 {
		t.Errorf("scheduled message = %+v, want NotBefore %v, priority 10", msgs[1], later)
	}

	var (
		status string
		remote int64
		sentAt time.Time
	)
	if err := db.Pool().QueryRow(ctx, `SELECT status, remote_id, sent_at FROM outbox WHERE id = $1`, msgs[0].ID).
		Scan(&status, &remote, &sentAt); err != nil {
		t.Fatal(err)
	}
	if status != "sent" || remote != 9000 || !sentAt.Equal(clk.Now()) {
		t.Errorf("sent row = %s, %d, %v", status, remote, sentAt)
	}
	if err := db.MarkSent(ctx, msgs[2].ID+100, 1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("MarkSent of a missing message = %v, want ErrNotFound", err)
	}
	if got, err := db.PendingFor(ctx, bobID+100); err != nil || len(got) != 0 {
		t.Errorf("PendingFor an unknown person = %v, %v; want none", got, err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// MarkSent and MarkSentRelease write the marks held back with theirs.
func TestMarkSentAlso(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	person := enqueueFor(t, db, 77, msg("edit", 0), msg("message", 0), msg("edit 2", 0), msg("last", 0))
	msgs, err := db.PendingFor(ctx, person)
	if err != nil || len(msgs) != 4 {
		t.Fatalf("pending: %v %v", msgs, err)
	}
	if err := db.MarkSent(ctx, msgs[1].ID, 11, storage.Sent{ID: msgs[0].ID, RemoteID: 10}); err != nil {
		t.Fatal(err)
	}
	if qs := mustClaim(t, db, "a", 10, time.Minute); len(qs) != 1 || len(qs[0].Messages) != 2 {
		t.Fatalf("claim after the first marks: %+v", qs)
	}
	if err := db.MarkSentRelease(ctx, msgs[3].ID, 13, person, "a", time.Now(), storage.Sent{ID: msgs[2].ID, RemoteID: 12}); err != nil {
		t.Fatal(err)
	}
	rows, _ := db.Pool().Query(ctx, `SELECT remote_id FROM outbox WHERE person_id = $1 AND status = 'sent' ORDER BY id`, person)
	remotes, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{10, 11, 12, 13}; !slices.Equal(remotes, want) {
		t.Errorf("remote ids = %v, want %v", remotes, want)
	}
	// A missing main message is reported.
	if err := db.MarkSent(ctx, 999999, 1, storage.Sent{ID: msgs[0].ID, RemoteID: 10}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("MarkSent of a missing message: %v, want ErrNotFound", err)
	}
}

func TestOutboxBacklog(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	enqueueFor(t, db, 88, msg("a", 0), msg("b", 10), storage.Outgoing{Kind: "message", Payload: []byte("c"), NotBefore: time.Now().Add(time.Hour)})
	for n, want := range map[int]bool{0: true, 1: true, 3: true, 4: false} {
		if got, err := db.OutboxBacklog(ctx, n); err != nil || got != want {
			t.Errorf("OutboxBacklog(%d) = %v, %v; want %v", n, got, err, want)
		}
	}
}
