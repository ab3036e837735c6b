package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

func TestTxQueryReadsInsideTheTurn(t *testing.T) {
	db := storagetest.New(t)
	ctx := context.Background()
	key := storage.PersonKey{Channel: "shell", ExternalID: 42}
	if _, err := db.Turn(ctx, key, "", func(tx *storage.Tx) error {
		tx.SaveState([]byte(`{"n":1}`), tx.Now())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err := db.Turn(ctx, key, "", func(tx *storage.Tx) error {
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM conversations WHERE person_id = $1`, tx.Person().ID).Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			t.Errorf("count = %d, want 1", n)
		}
		var x int
		if err := tx.QueryRow(`SELECT 1 WHERE false`).Scan(&x); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("no rows: got %v, want ErrNotFound", err)
		}
		var ids []int64
		err := tx.Query(`SELECT id FROM people ORDER BY id`, nil, func(r storage.Row) error {
			var id int64
			if err := r.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
			return nil
		})
		if err != nil {
			return err
		}
		if len(ids) != 1 || ids[0] != tx.Person().ID {
			t.Errorf("ids = %v", ids)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEnqueueToAnotherPerson(t *testing.T) {
	db := storagetest.New(t)
	ctx := context.Background()
	coach := storage.PersonKey{Channel: "telegram", ExternalID: 777}
	var coachID int64
	for i := range 2 { // the second time the coach exists already
		_, err := db.Turn(ctx, storage.PersonKey{Channel: "telegram", ExternalID: 1}, "", func(tx *storage.Tx) error {
			id, err := tx.EnqueueTo(coach, storage.Outgoing{Kind: "message", Payload: []byte("alert " + string(rune('a'+i)))})
			coachID = id
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := db.PendingFor(ctx, coachID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || string(msgs[0].Payload) != "alert a" || msgs[0].ChatID != 777 {
		t.Fatalf("coach outbox: %+v", msgs)
	}
}
