package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// Bookkeeping writes commit without waiting for the disk, for their own
// transaction only: a turn on the same connection afterwards still commits
// synchronously.
func TestAsyncCommitDoesNotLeak(t *testing.T) {
	db := storagetest.New(t, storage.WithMaxConns(1)) // every call shares one connection
	ctx := context.Background()
	person := enqueueFor(t, db, 1, msg("a", 0), msg("b", 0))
	if _, err := db.Receive(ctx, storage.InboxUpdate{UpdateID: 7, ChatID: 1, Payload: []byte(`{"update_id":7}`)}); err != nil {
		t.Fatal(err)
	}
	synchronous := func(t *testing.T) {
		t.Helper()
		var v string
		if err := db.Pool().QueryRow(ctx, `SHOW synchronous_commit`).Scan(&v); err != nil || v != "on" {
			t.Errorf("synchronous_commit = %q (%v) after the call, want on", v, err)
		}
	}
	tests := []struct {
		name string
		call func() error
	}{
		{name: "claim", call: func() error {
			qs, err := db.ClaimChats(ctx, "a", 10, time.Minute)
			if err == nil && len(qs) != 1 {
				err = errors.New("no chat claimed")
			}
			return err
		}},
		{name: "renew", call: func() error { _, err := db.RenewLeases(ctx, "a", time.Minute); return err }},
		{name: "mark sent", call: func() error {
			msgs, err := db.PendingFor(ctx, person)
			if err != nil {
				return err
			}
			return db.MarkSent(ctx, msgs[0].ID, 100)
		}},
		{name: "mark sent and release", call: func() error {
			msgs, err := db.PendingFor(ctx, person)
			if err != nil {
				return err
			}
			return db.MarkSentRelease(ctx, msgs[0].ID, 101, person, "a", time.Now())
		}},
		{name: "release", call: func() error { return db.Release(ctx, person, "a", time.Now()) }},
		{name: "release all", call: func() error { _, err := db.ReleaseAll(ctx, "a"); return err }},
		{name: "inbox delete on release", call: func() error {
			lock, ok, err := db.LockChat(ctx, 1)
			if err != nil || !ok {
				return errors.Join(err, errors.New("chat not locked"))
			}
			items, err := lock.Next(ctx)
			if err != nil || len(items) != 1 {
				return errors.Join(err, errors.New("update not read"))
			}
			lock.Done(items[0].UpdateID)
			more, err := lock.Release(ctx)
			if err == nil && more {
				err = errors.New("the update is still in the inbox")
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			synchronous(t)
		})
	}
}

func TestMarkSentRelease(t *testing.T) {
	var rt storagetest.RoundTrips
	db := storagetest.New(t, rt.Option(), storage.WithMaxConns(1))
	ctx := context.Background()
	person := enqueueFor(t, db, 1, msg("a", 0))
	qs := mustClaim(t, db, "warm-up", 10, time.Minute)
	if len(qs) != 1 || len(qs[0].Messages) != 1 {
		t.Fatalf("claimed %v", claimed(qs))
	}
	id := qs[0].Messages[0].ID
	// Prepared once, then one round trip.
	if err := db.MarkSentRelease(ctx, id, 41, person, "warm-up", time.Now()); err != nil {
		t.Fatal(err)
	}
	rt.Reset()
	if err := db.MarkSentRelease(ctx, id, 42, person, "warm-up", time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := rt.Count(); n != 1 {
		t.Errorf("MarkSentRelease took %d round trips, want 1", n)
	}
	if got, err := db.RemoteIDForPrompt(ctx, person, 0); err != nil || got != 42 {
		t.Errorf("remote id = %d, %v; want 42", got, err)
	}
	// Released: another owner can take the chat's next message at once.
	enqueueFor(t, db, 1, msg("b", 0))
	if qs := mustClaim(t, db, "other", 10, time.Minute); len(qs) != 1 || qs[0].PersonID != person {
		t.Errorf("after the release, another owner claimed %v", claimed(qs))
	}
	if err := db.MarkSentRelease(ctx, 999999, 1, person, "other", time.Now()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown message: %v, want ErrNotFound", err)
	}
}
