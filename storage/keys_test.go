package storage_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

func TestWrappedKeysPagesAndSwapsOnlyUnchangedKeys(t *testing.T) {
	ctx := context.Background()
	sealer := &xorSealer{}
	db := storagetest.New(t, storage.WithSealer(sealer), quiet(t))
	if db.Sealer() != sealer {
		t.Fatalf("Sealer() = %v, want the sealer the store was opened with", db.Sealer())
	}
	var ids []int64
	for i := range 5 {
		key := storage.PersonKey{Channel: "test", ExternalID: int64(100 + i)}
		turn(t, db, key, "", func(tx *storage.Tx) error {
			ids = append(ids, tx.Person().ID)
			tx.SaveState([]byte("state"), time.Time{})
			return nil
		})
	}
	// A person without a key (as after a deletion began) is skipped.
	if _, err := db.Pool().Exec(ctx, `UPDATE people SET data_key = NULL WHERE id = $1`, ids[2]); err != nil {
		t.Fatal(err)
	}

	var got []storage.WrappedKey
	after := int64(0)
	for {
		page, err := db.WrappedKeys(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 2 {
			t.Fatalf("page of %d keys, limit 2", len(page))
		}
		got = append(got, page...)
		after = page[len(page)-1].PersonID
	}
	want := []int64{ids[0], ids[1], ids[3], ids[4]}
	if len(got) != len(want) {
		t.Fatalf("got %d keys, want %d: %+v", len(got), len(want), got)
	}
	for i, k := range got {
		if k.PersonID != want[i] || !bytes.Equal(k.Wrapped, sealer.keys[k.PersonID]) {
			t.Errorf("key %d = %d %x, want %d %x", i, k.PersonID, k.Wrapped, want[i], sealer.keys[want[i]])
		}
	}

	tests := []struct {
		name  string
		swaps []storage.KeySwap
		want  int64
	}{
		{name: "nothing", want: 0},
		{name: "current old key", swaps: []storage.KeySwap{{PersonID: got[0].PersonID, Old: got[0].Wrapped, New: []byte("new0")}}, want: 1},
		{name: "stale old key", swaps: []storage.KeySwap{{PersonID: got[0].PersonID, Old: got[0].Wrapped, New: []byte("again")}}, want: 0},
		{name: "destroyed key", swaps: []storage.KeySwap{{PersonID: ids[2], Old: []byte("k?"), New: []byte("new2")}}, want: 0},
		{name: "batch", swaps: []storage.KeySwap{
			{PersonID: got[1].PersonID, Old: got[1].Wrapped, New: []byte("new1")},
			{PersonID: got[2].PersonID, Old: []byte("wrong"), New: []byte("new3")},
			{PersonID: got[3].PersonID, Old: got[3].Wrapped, New: []byte("new4")},
		}, want: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := db.ReplaceWrappedKeys(ctx, tc.swaps)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.want {
				t.Errorf("replaced %d, want %d", n, tc.want)
			}
		})
	}

	stored := map[int64][]byte{}
	rows, err := db.Pool().Query(ctx, `SELECT id, data_key FROM people`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var k []byte
		if err := rows.Scan(&id, &k); err != nil {
			t.Fatal(err)
		}
		stored[id] = k
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64][]byte{ids[0]: []byte("new0"), ids[1]: []byte("new1"), ids[2]: nil, ids[3]: got[2].Wrapped, ids[4]: []byte("new4")} {
		if !bytes.Equal(stored[id], want) {
			t.Errorf("person %d has key %q, want %q", id, stored[id], want)
		}
	}

	if _, err := db.ReplaceWrappedKeys(ctx, []storage.KeySwap{{PersonID: ids[0], Old: []byte("new0")}}); err == nil {
		t.Error("an empty new key was accepted")
	}
	if _, err := db.WrappedKeys(ctx, 0, 0); err == nil {
		t.Error("a zero limit was accepted")
	}
}
