package storage

import (
	"context"
	"fmt"
	"time"
)

// WrappedKey is one person's data key as stored in people.data_key: wrapped
// (encrypted) by a master key the database never sees.
type WrappedKey struct {
	PersonID int64
	Wrapped  []byte
}

// KeySwap replaces one person's wrapped data key: New is stored only while Old
// is still the stored key.
type KeySwap struct {
	PersonID int64
	Old, New []byte
}

// Sealer returns the sealer the store was opened with (NoEncryption when none
// was set), so features can reach what their implementation offers beyond
// the interface.
func (db *DB) Sealer() Sealer { return db.sealer }

// WrappedKeys returns the wrapped data keys of at most limit people whose id
// is above after, in id order, skipping people without a key. Paging by id
// lets a master-key rotation walk every key in batches while the bot runs.
func (db *DB) WrappedKeys(ctx context.Context, after int64, limit int) ([]WrappedKey, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("storage: wrapped keys: limit %d must be positive", limit)
	}
	rows, err := db.pool.Query(ctx, `SELECT id, data_key FROM people
WHERE id > $1 AND data_key IS NOT NULL ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: wrapped keys: %w", err)
	}
	defer rows.Close()
	var out []WrappedKey
	for rows.Next() {
		var k WrappedKey
		if err := rows.Scan(&k.PersonID, &k.Wrapped); err != nil {
			return nil, fmt.Errorf("storage: wrapped keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: wrapped keys: %w", err)
	}
	return out, nil
}

// ReplaceWrappedKeys stores re-wrapped data keys in one statement and returns
// how many it replaced. Each swap is a compare-and-swap: a key that changed
// meanwhile (destroyed by a deletion, or re-wrapped by another rotation) is
// left as it is and not counted.
func (db *DB) ReplaceWrappedKeys(ctx context.Context, swaps []KeySwap) (int64, error) {
	if len(swaps) == 0 {
		return 0, nil
	}
	ids := make([]int64, len(swaps))
	olds := make([][]byte, len(swaps))
	news := make([][]byte, len(swaps))
	for i, s := range swaps {
		if len(s.Old) == 0 || len(s.New) == 0 {
			return 0, fmt.Errorf("storage: replace wrapped keys: person %d: empty key", s.PersonID)
		}
		ids[i], olds[i], news[i] = s.PersonID, s.Old, s.New
	}
	tag, err := db.pool.Exec(ctx, `UPDATE people p SET data_key = s.new
FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS s(id, old, new)
WHERE p.id = s.id AND p.data_key = s.old`, ids, olds, news)
	if err != nil {
		return 0, fmt.Errorf("storage: replace wrapped keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Inactive is a person whose last own input is old, for the retention of
// the privacy feature.
type Inactive struct {
	ID  int64
	Key PersonKey
	// LastActive is the person's last own input (people.last_active_at), or
	// when the row was created if they never sent one.
	LastActive time.Time
	// WarnedAt is when they were told their data will be erased; nil when not.
	WarnedAt *time.Time
	// Talked reports whether the person has a conversation (people who only
	// ever received messages, such as coaches being alerted, have none).
	Talked bool
}

// InactivePeople returns at most limit people, in id order above after, whose
// last own input was at or before before. The columns it reads are added by
// migration 005 and moved by the privacy feature's hook.
func (db *DB) InactivePeople(ctx context.Context, before time.Time, after int64, limit int) ([]Inactive, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("storage: inactive people: limit %d must be positive", limit)
	}
	rows, err := db.pool.Query(ctx, `SELECT p.id, p.channel, p.external_id, COALESCE(p.last_active_at, p.created_at),
  p.retention_warned_at, EXISTS (SELECT 1 FROM conversations c WHERE c.person_id = p.id)
FROM people p
WHERE COALESCE(p.last_active_at, p.created_at) <= $1 AND p.id > $2
ORDER BY p.id LIMIT $3`, before, after, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: inactive people: %w", err)
	}
	defer rows.Close()
	var out []Inactive
	for rows.Next() {
		var p Inactive
		if err := rows.Scan(&p.ID, &p.Key.Channel, &p.Key.ExternalID, &p.LastActive, &p.WarnedAt, &p.Talked); err != nil {
			return nil, fmt.Errorf("storage: inactive people: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: inactive people: %w", err)
	}
	return out, nil
}
