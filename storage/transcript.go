package storage

import (
	"context"
	"fmt"
	"time"
)

// TranscriptEntry is an Entry as stored, with its id and time.
type TranscriptEntry struct {
	ID int64
	At time.Time
	Entry
}

// Transcript returns the person's last limit transcript entries (all of them
// when limit <= 0), opened, oldest first.
func (db *DB) Transcript(ctx context.Context, personID int64, limit int) ([]TranscriptEntry, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := db.pool.Query(ctx, `
SELECT t.id, t.at, t.direction, t.exercise, t.step, t.kind, t.body, p.data_key
FROM (SELECT * FROM transcript WHERE person_id = $1 ORDER BY id DESC LIMIT $2) t
JOIN people p ON p.id = t.person_id
ORDER BY t.id`, personID, lim)
	if err != nil {
		return nil, fmt.Errorf("storage: transcript: %w", err)
	}
	defer rows.Close()
	var (
		out    []TranscriptEntry
		cipher Cipher
	)
	for rows.Next() {
		var (
			e             TranscriptEntry
			body, dataKey []byte
		)
		if err := rows.Scan(&e.ID, &e.At, &e.Direction, &e.Exercise, &e.Step, &e.Kind, &body, &dataKey); err != nil {
			return nil, fmt.Errorf("storage: transcript: %w", err)
		}
		if cipher == nil {
			if cipher, err = db.cipherFor(ctx, personID, dataKey); err != nil {
				return nil, fmt.Errorf("storage: transcript: %w", err)
			}
		}
		text, err := cipher.Open(body)
		if err != nil {
			return nil, fmt.Errorf("storage: transcript: open entry %d: %w", e.ID, err)
		}
		e.Text = string(text)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: transcript: %w", err)
	}
	return out, nil
}
