package privacy

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stilstaan/stilstaan/keyring"
	"github.com/stilstaan/stilstaan/storage"
)

// DefaultRotateBatch is how many data keys Rotate re-wraps per statement.
const DefaultRotateBatch = 500

// RotateStats says what Rotate did.
type RotateStats struct {
	Rewrapped      int // now wrapped by the new current key
	AlreadyCurrent int // were wrapped by it before
	Changed        int // changed while being re-wrapped (deleted, or rotated by someone else): left alone
	Failed         int // could not be unwrapped with any key of the ring
}

// Rotate re-wraps every person's data key under the ring's current master key,
// batch keys at a time, each batch one short statement, so the bot keeps
// running meanwhile. The data itself is not touched: it stays sealed with
// the same data keys.
//
// The ring must hold the new key as current and every key that wrapped a
// stored data key (the old current key and crypto.previous_keys). Running
// processes must be able to unwrap under both keys while this runs: give them
// the new key in crypto.previous_keys (or as crypto.master_key with the old
// one in crypto.previous_keys) before, and drop the old key only after
// Rotate reported no failures. Running it again is harmless: keys already
// under the current key are skipped.
func Rotate(ctx context.Context, db *storage.DB, ring *keyring.Ring, batch int, log *slog.Logger) (RotateStats, error) {
	if batch <= 0 {
		batch = DefaultRotateBatch
	}
	if log == nil {
		log = slog.Default()
	}
	current := ring.Current().ID()
	var st RotateStats
	after := int64(0)
	for {
		keys, err := db.WrappedKeys(ctx, after, batch)
		if err != nil {
			return st, fmt.Errorf("privacy: rotate: %w", err)
		}
		if len(keys) == 0 {
			break
		}
		after = keys[len(keys)-1].PersonID
		var swaps []storage.KeySwap
		for _, k := range keys {
			if by, err := keyring.WrappedBy(k.Wrapped); err == nil && by == current {
				st.AlreadyCurrent++
				continue
			}
			rewrapped, err := ring.Rewrap(k.Wrapped, personAAD(k.PersonID))
			if err != nil {
				st.Failed++
				log.ErrorContext(ctx, "privacy: rotate: data key does not unwrap",
					slog.Int64("person_id", k.PersonID), slog.Any("error", err))
				continue
			}
			swaps = append(swaps, storage.KeySwap{PersonID: k.PersonID, Old: k.Wrapped, New: rewrapped})
		}
		n, err := db.ReplaceWrappedKeys(ctx, swaps)
		if err != nil {
			return st, fmt.Errorf("privacy: rotate: %w", err)
		}
		st.Rewrapped += int(n)
		st.Changed += len(swaps) - int(n)
		log.InfoContext(ctx, "privacy: rotate: batch done", slog.Int64("up_to_person_id", after),
			slog.Int("rewrapped", int(n)), slog.Int("rewrapped_total", st.Rewrapped))
	}
	if st.Failed > 0 {
		return st, fmt.Errorf("privacy: rotate: %d data key(s) did not unwrap with any configured master key; keep the old keys until they are found", st.Failed)
	}
	return st, nil
}
