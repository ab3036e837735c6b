package storage_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

func TestTranscriptLimit(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	var id int64
	for i := 1; i <= 5; i++ {
		turn(t, db, alice, fmt.Sprintf("tg:%d", i), func(tx *storage.Tx) error {
			id = tx.Person().ID
			tx.AddTranscript(storage.Entry{Direction: "in", Kind: "text", Text: fmt.Sprintf("bericht %d", i)})
			return nil
		})
	}
	turn(t, db, storage.PersonKey{Channel: "telegram", ExternalID: 7}, "", func(tx *storage.Tx) error {
		tx.AddTranscript(storage.Entry{Direction: "in", Text: "iemand anders"})
		return nil
	})
	tests := []struct {
		name  string
		limit int
		want  []string
	}{
		{name: "all", limit: 0, want: []string{"bericht 1", "bericht 2", "bericht 3", "bericht 4", "bericht 5"}},
		{name: "last two, oldest first", limit: 2, want: []string{"bericht 4", "bericht 5"}},
		{name: "more than there are", limit: 50, want: []string{"bericht 1", "bericht 2", "bericht 3", "bericht 4", "bericht 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, err := db.Transcript(ctx, id, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Text)
			}
			if !equal(got, tt.want) {
				t.Errorf("Transcript = %q, want %q", got, tt.want)
			}
		})
	}
}
