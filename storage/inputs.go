package storage

import (
	"context"
	"fmt"
	"time"
)

// PruneInputs forgets the inputs processed before the given time and returns
// how many it forgot. Telegram redelivers an update for at most a day, so
// keeping a few days of inputs is enough for exactly-once processing.
func (db *DB) PruneInputs(ctx context.Context, before time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM inputs WHERE processed_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("storage: prune inputs: %w", err)
	}
	return tag.RowsAffected(), nil
}
