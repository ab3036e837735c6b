package storage

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Bookkeeping commits do not wait for the disk.
//
// Turns and received updates commit synchronously: once Turn or Receive
// returns, a crash of the server loses neither. The writes that only keep
// the books of delivery and of the inbox (a message marked sent, a lease
// taken, renewed or given back, a processed update deleted) commit with
// synchronous_commit off for their own transaction: they are visible at
// once, but a crash of the server may lose the last fraction of a second
// of them. That costs repeated work, never lost or doubled effects: a
// message not marked sent is sent again (as after a crash of the bot
// between sending and marking, which at-least-once delivery already
// allows), a lease not given back runs out, an update not deleted is
// processed again and its turn is a duplicate by its source. WAL is written
// in order, so any later synchronous commit makes them durable too. Skipping
// the wait for the disk takes a WAL flush off most round trips of delivery.

// sqlAsyncCommit makes the transaction it runs in commit without waiting for
// the disk; it lasts for that transaction only.
const sqlAsyncCommit = `SELECT set_config('synchronous_commit', 'off', true)`

// queueAsync makes the batch's implicit transaction (everything up to its
// single Sync) commit without waiting for the disk. It must come first.
func queueAsync(b *pgx.Batch) { b.Queue(sqlAsyncCommit) }

// execAsync runs one write in a transaction of its own that commits without
// waiting for the disk, in one round trip.
func (db *DB) execAsync(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	b := &pgx.Batch{}
	queueAsync(b)
	b.Queue(sql, args...)
	br := db.pool.SendBatch(ctx, b)
	_, err := br.Exec()
	var tag pgconn.CommandTag
	if err == nil {
		tag, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}
