package storage

import (
	"context"
	"fmt"
	"time"
)

// DueWakeups returns the people whose conversation timer (the wakeAt of
// SaveState) is at or before now, the longest overdue first, at most limit
// of them (all when limit <= 0). Several replicas may get the same person;
// the Turn each then runs, serialised by the person's lock, should find the
// state already moved on (or use a source that names the wake-up, so the
// second is a duplicate).
func (db *DB) DueWakeups(ctx context.Context, now time.Time, limit int) ([]PersonKey, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := db.pool.Query(ctx, `
SELECT p.channel, p.external_id
FROM conversations c JOIN people p ON p.id = c.person_id
WHERE c.wake_at <= $1
ORDER BY c.wake_at, c.person_id
LIMIT $2`, now, lim)
	if err != nil {
		return nil, fmt.Errorf("storage: due wakeups: %w", err)
	}
	defer rows.Close()
	var keys []PersonKey
	for rows.Next() {
		var k PersonKey
		if err := rows.Scan(&k.Channel, &k.ExternalID); err != nil {
			return nil, fmt.Errorf("storage: due wakeups: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: due wakeups: %w", err)
	}
	return keys, nil
}
