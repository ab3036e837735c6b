package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// A claim reads due messages in order through a bounded window, skipping
// chats that are leased or gated: neither a large scheduled backlog nor the
// messages of chats another replica holds may hide what is due.
func TestClaimChatsWindow(t *testing.T) {
	db := storagetest.New(t)
	ctx := context.Background()
	const backlog = 400 // chats with three scheduled messages each
	for c := range backlog {
		enqueueFor(t, db, int64(c+1), msg("s1", 10), msg("s2", 10), msg("s3", 10))
	}
	interactive := enqueueFor(t, db, 10_000, msg("answer", 0))
	gated := enqueueFor(t, db, 10_001, msg("gated", 0))
	// The gated chat's next send may go only in an hour.
	if err := db.Release(ctx, gated, "nobody", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `INSERT INTO deliveries (person_id, next_at) VALUES ($1, now() + interval '1 hour')
ON CONFLICT (person_id) DO UPDATE SET next_at = EXCLUDED.next_at`, gated); err != nil {
		t.Fatal(err)
	}

	// Interactive first, however long the scheduled backlog.
	first := mustClaim(t, db, "a", 1, time.Minute)
	if got := claimed(first); len(got) != 1 || got[0] != interactive {
		t.Fatalf("first claim got %v, want the interactive chat %d", got, interactive)
	}
	// Another replica holds most of the backlog; its messages fill far more
	// than a small claim's window, and the claim still finds the rest.
	held := mustClaim(t, db, "a", backlog-5, time.Minute)
	if len(held) != backlog-5 {
		t.Fatalf("owner a holds %d chats, want %d", len(held), backlog-5)
	}
	rest := mustClaim(t, db, "b", 10, time.Minute)
	if len(rest) != 5 {
		t.Fatalf("owner b claimed %d chats, want the 5 left (not the gated one)", len(rest))
	}
	for _, q := range rest {
		if q.PersonID == gated {
			t.Errorf("the gated chat was claimed")
		}
		if len(q.Messages) != 3 {
			t.Errorf("chat %d came with %d messages, want 3", q.PersonID, len(q.Messages))
		}
	}
}

// BenchmarkClaimChatsBacklog claims from a fan-out's backlog (20,000 chats
// with three scheduled messages each, every chat delivered to before), the
// way delivery does: lease 256, send them, lease the next. A claim's cost
// must not grow with the backlog, nor with the chats leased meanwhile (the
// statistics say none is).
func BenchmarkClaimChatsBacklog(b *testing.B) {
	ctx := context.Background()
	db := storagetest.New(b, storage.WithMaxConns(4))
	if _, err := db.Pool().Exec(ctx, `
INSERT INTO people (channel, external_id, chat_id) SELECT 'telegram', g, g FROM generate_series(1, 20000) g;
INSERT INTO deliveries (person_id, next_at) SELECT id, now() - interval '1 day' FROM people;
INSERT INTO outbox (person_id, chat_id, kind, payload, priority, not_before, created_at)
SELECT p.id, p.chat_id, 'message', 'x'::bytea, 10, now(), now() FROM people p, generate_series(1, 3);
ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		qs, err := db.ClaimChats(ctx, fmt.Sprint("bench-", i), 256, time.Minute)
		if err != nil || len(qs) == 0 {
			b.Fatalf("ClaimChats = %d chats, %v", len(qs), err)
		}
		b.StopTimer()
		// Sent: the next claim must find other chats.
		if _, err := db.Pool().Exec(ctx, `UPDATE outbox SET status = 'sent' WHERE person_id IN (SELECT person_id FROM deliveries WHERE leased_by = $1)`, fmt.Sprint("bench-", i)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
