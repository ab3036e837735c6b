package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// xorSealer gives each person a one-byte key and seals by xor-ing every byte
// with it behind a marker; Open refuses what it did not seal.
type xorSealer struct {
	mu   sync.Mutex
	keys map[int64][]byte // wrapped keys handed out, by person
}

var sealMarker = []byte("xor1:")

func (s *xorSealer) NewPersonKey(_ context.Context, personID int64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = map[int64][]byte{}
	}
	wrapped := []byte{'k', byte(0x40 + personID%0x3f)}
	s.keys[personID] = wrapped
	return wrapped, nil
}

func (s *xorSealer) Cipher(_ context.Context, personID int64, wrapped []byte) (storage.Cipher, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if want := s.keys[personID]; !bytes.Equal(wrapped, want) || len(wrapped) != 2 {
		return nil, fmt.Errorf("person %d: wrapped key %x, want %x", personID, wrapped, want)
	}
	return xorCipher(wrapped[1]), nil
}

type xorCipher byte

func (c xorCipher) Seal(b []byte) ([]byte, error) {
	out := append([]byte{}, sealMarker...)
	for _, x := range b {
		out = append(out, x^byte(c))
	}
	return out, nil
}

func (c xorCipher) Open(b []byte) ([]byte, error) {
	rest, ok := bytes.CutPrefix(b, sealMarker)
	if !ok {
		return nil, errors.New("not sealed")
	}
	out := make([]byte, len(rest))
	for i, x := range rest {
		out[i] = x ^ byte(c)
	}
	return out, nil
}

func TestSealerSealsWhatPeopleWrite(t *testing.T) {
	ctx := context.Background()
	sealer := &xorSealer{}
	db := storagetest.New(t, storage.WithSealer(sealer))
	const (
		state   = "ik voel me gespannen"
		said    = "mijn partner luistert niet"
		payload = "Wat voel je nu in je lijf?"
	)
	turn(t, db, alice, "tg:1", func(tx *storage.Tx) error {
		tx.SaveState([]byte(state), time.Time{})
		tx.AddTranscript(storage.Entry{Direction: "in", Text: said})
		tx.Enqueue(storage.Outgoing{Kind: "text", Payload: []byte(payload)})
		sealed, err := tx.Seal([]byte(said))
		if err != nil {
			return err
		}
		if bytes.Contains(sealed, []byte(said)) {
			t.Error("Tx.Seal returned the plaintext")
		}
		opened, err := tx.Open(sealed)
		if err != nil || string(opened) != said {
			t.Errorf("Tx.Open(Tx.Seal(x)) = %q, %v", opened, err)
		}
		return nil
	})

	var (
		id                         int64
		dataKey, raw, body, rawOut []byte
	)
	row := db.Pool().QueryRow(ctx, `SELECT p.id, p.data_key, c.state, t.body, o.payload
FROM people p JOIN conversations c ON c.person_id = p.id JOIN transcript t ON t.person_id = p.id
JOIN outbox o ON o.person_id = p.id`)
	if err := row.Scan(&id, &dataKey, &raw, &body, &rawOut); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dataKey, sealer.keys[id]) {
		t.Errorf("people.data_key = %x, want the key NewPersonKey made (%x)", dataKey, sealer.keys[id])
	}
	tests := []struct {
		name      string
		raw       []byte
		plaintext string
	}{
		{name: "conversations.state", raw: raw, plaintext: state},
		{name: "transcript.body", raw: body, plaintext: said},
		{name: "outbox.payload", raw: rawOut, plaintext: payload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if bytes.Contains(tt.raw, []byte(tt.plaintext)) || !bytes.HasPrefix(tt.raw, sealMarker) {
				t.Errorf("%s at rest = %q, want it sealed", tt.name, tt.raw)
			}
		})
	}

	turn(t, db, alice, "tg:2", func(tx *storage.Tx) error {
		if string(tx.State()) != state {
			t.Errorf("State() = %q, want the plaintext", tx.State())
		}
		return nil
	})
	entries, err := db.Transcript(ctx, id, 10)
	if err != nil || len(entries) != 1 || entries[0].Text != said {
		t.Errorf("Transcript = %+v, %v; want the plaintext", entries, err)
	}
	msgs, err := db.PendingFor(ctx, id)
	if err != nil || len(msgs) != 1 || string(msgs[0].Payload) != payload {
		t.Errorf("PendingFor = %+v, %v; want the plaintext", msgs, err)
	}
}

func TestSealerFailureFailsTheTurn(t *testing.T) {
	db := storagetest.New(t, storage.WithSealer(&xorSealer{}))
	turn(t, db, alice, "", func(tx *storage.Tx) error {
		tx.SaveState([]byte("x"), time.Time{})
		return nil
	})
	// A state that the cipher cannot open (written around the store) must
	// fail the turn rather than hand garbage to the engine.
	if _, err := db.Pool().Exec(context.Background(), `UPDATE conversations SET state = 'garbage'`); err != nil {
		t.Fatal(err)
	}
	called := false
	_, err := db.Turn(context.Background(), alice, "tg:9", func(*storage.Tx) error {
		called = true
		return nil
	})
	if err == nil || called {
		t.Errorf("Turn on an unopenable state = %v (fn called: %v), want an error before fn", err, called)
	}
}
