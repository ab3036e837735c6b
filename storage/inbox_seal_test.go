package storage_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// systemXorSealer also seals rows of no person (the inbox).
type systemXorSealer struct{ xorSealer }

func (s *systemXorSealer) SystemCipher() storage.Cipher { return xorCipher(0x5a) }

func TestInboxPayloadIsSealed(t *testing.T) {
	db := storagetest.New(t, storage.WithSealer(&systemXorSealer{}))
	ctx := context.Background()
	payload := []byte(`{"update_id":1,"message":{"text":"geheim verdriet"}}`)
	if _, err := db.Receive(ctx, storage.InboxUpdate{UpdateID: 1, ChatID: 5, Payload: payload}); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := db.Pool().QueryRow(ctx, `SELECT payload FROM inbox WHERE update_id = 1`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("geheim")) {
		t.Fatalf("the inbox holds the update in plaintext: %q", raw)
	}
	lock, ok, err := db.LockChat(ctx, 5)
	if err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	defer func() { _, _ = lock.Release(ctx) }()
	items, err := lock.Next(ctx)
	if err != nil || len(items) != 1 || !bytes.Equal(items[0].Payload, payload) {
		t.Fatalf("next = %+v, %v", items, err)
	}
}
