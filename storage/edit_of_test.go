package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// A claim finds the message an edit changes, as RemoteIDForPrompt would when
// the edit is sent, saving the sender that round trip; when the message
// with the prompt is itself still to go out first, it leaves the look-up to
// the sender.
func TestClaimChatsEditOf(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	p := enqueueFor(t, db, 1,
		storage.Outgoing{Kind: "message", Payload: []byte("q7"), Prompt: 7},
		storage.Outgoing{Kind: "message", Payload: []byte("q8"), Prompt: 8})
	qs := mustClaim(t, db, "a", 10, time.Minute)
	for _, m := range qs[0].Messages {
		if err := db.MarkSent(ctx, m.ID, int64(100+m.Prompt)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Release(ctx, p, "a", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	enqueueFor(t, db, 1,
		storage.Outgoing{Kind: "edit", Payload: []byte("edit 7"), Prompt: 7},      // sent before: found
		storage.Outgoing{Kind: "message", Payload: []byte("q8 again"), Prompt: 8}, // the prompt goes out again
		storage.Outgoing{Kind: "edit", Payload: []byte("edit 8"), Prompt: 8},      // after it: the sender looks up
		storage.Outgoing{Kind: "edit", Payload: []byte("edit 9"), Prompt: 9},      // never sent
		storage.Outgoing{Kind: "message", Payload: []byte("plain"), Prompt: 7})    // not an edit
	qs = mustClaim(t, db, "a", 10, time.Minute)
	if len(qs) != 1 {
		t.Fatalf("claimed %v", claimed(qs))
	}
	want := map[string]int64{"edit 7": 107, "q8 again": 0, "edit 8": 0, "edit 9": 0, "plain": 0}
	for _, m := range qs[0].Messages {
		if w, ok := want[string(m.Payload)]; !ok || m.EditOf != w {
			t.Errorf("%q: EditOf = %d, want %d", m.Payload, m.EditOf, w)
		}
		delete(want, string(m.Payload))
	}
	if len(want) != 0 {
		t.Errorf("not claimed: %v", want)
	}
}
