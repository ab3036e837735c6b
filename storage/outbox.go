package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// OutMessage is a message in the outbox, its payload opened.
type OutMessage struct {
	ID, PersonID, ChatID       int64
	Kind                       string
	Payload                    []byte
	Priority, Prompt, Attempts int
	CreatedAt                  time.Time
	NotBefore                  time.Time // not to be sent before this time
	// EditOf is, for an edit that ClaimChats returns, the remote id of the
	// message whose buttons it changes, as RemoteIDForPrompt would find it
	// when the edit is sent; 0 when it is not known yet (that message goes
	// out in the same claim, or was never sent), and then the sender looks
	// it up.
	EditOf int64
}

// PendingFor returns the person's messages not yet sent, in the order they
// were enqueued. It is what the terminal shell shows.
func (db *DB) PendingFor(ctx context.Context, personID int64) ([]OutMessage, error) {
	rows, err := db.pool.Query(ctx, `
SELECT o.id, o.person_id, o.chat_id, o.kind, o.payload, o.priority, o.prompt, o.attempts, o.created_at, o.not_before, p.data_key
FROM outbox o JOIN people p ON p.id = o.person_id
WHERE o.person_id = $1 AND o.status = 'pending'
ORDER BY o.id`, personID)
	if err != nil {
		return nil, fmt.Errorf("storage: pending for: %w", err)
	}
	defer rows.Close()
	var (
		out    []OutMessage
		cipher Cipher
	)
	for rows.Next() {
		var (
			m       OutMessage
			dataKey []byte
		)
		if err := rows.Scan(&m.ID, &m.PersonID, &m.ChatID, &m.Kind, &m.Payload, &m.Priority, &m.Prompt,
			&m.Attempts, &m.CreatedAt, &m.NotBefore, &dataKey); err != nil {
			return nil, fmt.Errorf("storage: pending for: %w", err)
		}
		if cipher == nil {
			if cipher, err = db.cipherFor(ctx, personID, dataKey); err != nil {
				return nil, fmt.Errorf("storage: pending for: %w", err)
			}
		}
		if m.Payload, err = cipher.Open(m.Payload); err != nil {
			return nil, fmt.Errorf("storage: pending for: open message %d: %w", m.ID, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: pending for: %w", err)
	}
	return out, nil
}

const sqlMarkSent = `UPDATE outbox SET status = 'sent', sent_at = $3, remote_id = $2, last_error = NULL WHERE id = $1`

// sqlMarkSentAlso marks several messages sent at once.
const sqlMarkSentAlso = `UPDATE outbox o SET status = 'sent', sent_at = $3, remote_id = u.remote_id, last_error = NULL
FROM unnest($1::bigint[], $2::bigint[]) AS u (id, remote_id) WHERE o.id = u.id`

// Sent is a message Telegram confirmed, with the id it got there, whose
// mark goes with a later one (see MarkSent).
type Sent struct{ ID, RemoteID int64 }

// queueAlso adds the marks of also to b, when there are any.
func (db *DB) queueAlso(b *pgx.Batch, also []Sent) {
	if len(also) == 0 {
		return
	}
	ids, remotes := make([]int64, len(also)), make([]int64, len(also))
	for i, s := range also {
		ids[i], remotes[i] = s.ID, s.RemoteID
	}
	b.Queue(sqlMarkSentAlso, ids, remotes, db.now())
}

// MarkSent records that message id was delivered and got remoteID (the
// Telegram message_id) from the channel, and the messages in also with
// theirs (a sender may hold back the mark of a message that is harmless to
// send twice, such as an edit, to write it with the next one). Marking a
// message sent twice keeps the last remoteID. It leaves the attempt count
// to whoever records failures. It returns an error wrapping ErrNotFound when
// there is no message id.
//
// It commits without waiting for the disk (see async.go), in one round trip.
func (db *DB) MarkSent(ctx context.Context, id int64, remoteID int64, also ...Sent) error {
	b := &pgx.Batch{}
	queueAsync(b)
	db.queueAlso(b, also)
	b.Queue(sqlMarkSent, id, remoteID, db.now())
	br := db.pool.SendBatch(ctx, b)
	var tag pgconn.CommandTag
	_, err := br.Exec()
	if err == nil && len(also) > 0 {
		_, err = br.Exec()
	}
	if err == nil {
		tag, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("storage: mark sent: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("storage: mark sent: message %d: %w", id, ErrNotFound)
	}
	return nil
}
