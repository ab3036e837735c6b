package storage

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// InboxUpdate is a channel update to keep until it is processed: its id
// (Telegram's update_id), the chat whose order it belongs to, and the update
// as received.
type InboxUpdate struct {
	UpdateID int64
	ChatID   int64
	Payload  []byte
}

// InboxItem is an update waiting in the inbox.
type InboxItem struct {
	UpdateID   int64
	ChatID     int64
	Payload    []byte
	ReceivedAt time.Time
	// Attempts counts the earlier attempts to process it that failed.
	Attempts int
}

// Receive stores updates in the inbox in one statement (so all of them or
// none) and returns how many were new. An update already in the inbox is left
// as it is, so receiving the same update twice stores it once.
//
// The inbox does not remember updates once they are processed: a redelivery
// after that is stored again, and its turn is then a duplicate by its source.
func (db *DB) Receive(ctx context.Context, updates ...InboxUpdate) (int, error) {
	if len(updates) == 0 {
		return 0, nil
	}
	ids := make([]int64, len(updates))
	chats := make([]int64, len(updates))
	payloads := make([][]byte, len(updates))
	for i, u := range updates {
		ids[i], chats[i], payloads[i] = u.UpdateID, u.ChatID, u.Payload
	}
	tag, err := db.pool.Exec(ctx, `
INSERT INTO inbox (update_id, chat_id, payload, received_at)
SELECT u.id, u.chat, u.payload, $4
FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) AS u (id, chat, payload)
ON CONFLICT (update_id) DO NOTHING`, ids, chats, payloads, db.now())
	if err != nil {
		return 0, fmt.Errorf("storage: receive: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// InboxChats returns the chats that have updates received before the given
// time still waiting, the chat with the oldest update first, at most limit of
// them (all when limit <= 0). It is how leftovers are found: the updates of a
// process that crashed, or of a chat whose last attempt failed.
func (db *DB) InboxChats(ctx context.Context, receivedBefore time.Time, limit int) ([]int64, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := db.pool.Query(ctx, `
SELECT chat_id FROM inbox WHERE received_at < $1
GROUP BY chat_id ORDER BY min(update_id) LIMIT $2`, receivedBefore, lim)
	if err != nil {
		return nil, fmt.Errorf("storage: inbox chats: %w", err)
	}
	chats, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("storage: inbox chats: %w", err)
	}
	return chats, nil
}

// InboxDepth returns how many updates wait in the inbox.
func (db *DB) InboxDepth(ctx context.Context) (int64, error) {
	var n int64
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM inbox`).Scan(&n); err != nil {
		return 0, fmt.Errorf("storage: inbox depth: %w", err)
	}
	return n, nil
}

// inboxLockSpace is the first key of the two-key advisory locks on chats, so
// they never meet the one-key locks of other code (such as migrations). The
// second key is a 32-bit hash of the chat id: two chats that share a hash
// only wait for each other.
const inboxLockSpace = 0x5374_4c6b // "StLk"

// chatLockKey is the second key of a chat's advisory lock.
func chatLockKey(chatID int64) int32 {
	h := fnv.New32a()
	h.Write(strconv.AppendInt(nil, chatID, 10))
	return int32(h.Sum32())
}

// ChatLock is the right to process one chat's updates: while it is held, no
// other holder in any process connected to the database has it. It is a
// PostgreSQL session advisory lock on a connection of its own, so a process
// that dies releases it with its connection. A ChatLock is not safe for
// concurrent use; Release it when done.
type ChatLock struct {
	db     *DB
	conn   *pgxpool.Conn
	chatID int64
}

// LockChat tries to take the chat's lock without waiting. It returns
// ok=false when another holder has it.
//
// Updates are processed only under the lock, in update_id order (Next), and
// deleted (Done) once their turn has committed. A receiver stores an update
// first and only then tries the lock; the holder looks for more updates after
// Release. So an update that arrives while someone else works on the chat is
// either seen by that holder or by the receiver's own attempt, never left
// behind (and a crash leaves it to InboxChats).
func (db *DB) LockChat(ctx context.Context, chatID int64) (*ChatLock, bool, error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("storage: lock chat: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, int32(inboxLockSpace), chatLockKey(chatID)).Scan(&ok); err != nil {
		// The answer may have been lost after the server took the lock:
		// closing the connection makes sure it is not kept.
		destroy(conn)
		return nil, false, fmt.Errorf("storage: lock chat: %w", err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return &ChatLock{db: db, conn: conn, chatID: chatID}, true, nil
}

// ChatID returns the locked chat.
func (l *ChatLock) ChatID() int64 { return l.chatID }

// Next returns up to limit of the chat's waiting updates (all when limit <= 0),
// lowest update_id first.
func (l *ChatLock) Next(ctx context.Context, limit int) ([]InboxItem, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := l.conn.Query(ctx, `
SELECT update_id, chat_id, payload, received_at, attempts FROM inbox
WHERE chat_id = $1 ORDER BY update_id LIMIT $2`, l.chatID, lim)
	if err != nil {
		return nil, fmt.Errorf("storage: inbox next: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (InboxItem, error) {
		var it InboxItem
		err := row.Scan(&it.UpdateID, &it.ChatID, &it.Payload, &it.ReceivedAt, &it.Attempts)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: inbox next: %w", err)
	}
	return items, nil
}

// Done deletes a processed update from the inbox.
func (l *ChatLock) Done(ctx context.Context, updateID int64) error {
	if _, err := l.conn.Exec(ctx, `DELETE FROM inbox WHERE update_id = $1`, updateID); err != nil {
		return fmt.Errorf("storage: inbox done: %w", err)
	}
	return nil
}

// Failed counts a failed attempt to process an update, which stays in the
// inbox, and returns the attempts so far.
func (l *ChatLock) Failed(ctx context.Context, updateID int64) (int, error) {
	var n int
	err := l.conn.QueryRow(ctx, `UPDATE inbox SET attempts = attempts + 1 WHERE update_id = $1 RETURNING attempts`, updateID).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("storage: inbox failed: update %d: %w", updateID, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("storage: inbox failed: %w", err)
	}
	return n, nil
}

// Release gives the lock up and reports whether the chat still has updates
// waiting, looked at after the lock was released: more=true means the caller
// should try LockChat again (an update may have arrived while the lock was
// held, and its receiver then found the chat locked). Release is safe to call
// more than once; it works even when ctx is done.
func (l *ChatLock) Release(ctx context.Context) (more bool, err error) {
	if l.conn == nil {
		return false, nil
	}
	conn := l.conn
	l.conn = nil
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_unlock($1, $2)`, int32(inboxLockSpace), chatLockKey(l.chatID))
	b.Queue(`SELECT EXISTS (SELECT 1 FROM inbox WHERE chat_id = $1)`, l.chatID)
	br := conn.SendBatch(rctx, b)
	var unlocked bool
	err = br.QueryRow().Scan(&unlocked)
	if err == nil {
		err = br.QueryRow().Scan(&more)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil || !unlocked {
		// A connection that may still hold the lock must not go back to the
		// pool: closing it releases the lock on the server.
		destroy(conn)
		if err == nil {
			err = errors.New("the lock was not held")
		}
		return true, fmt.Errorf("storage: release chat %d: %w", l.chatID, err)
	}
	conn.Release()
	return more, nil
}

// destroy closes a pooled connection; the pool then drops it.
func destroy(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Conn().Close(ctx)
	conn.Release()
}

// NoteGroupNotice records that a group (or channel) chat is being told that
// the bot only talks in private chats, and reports whether this is the first
// time. ForgetGroupNotice undoes it when the message could not be sent.
func (db *DB) NoteGroupNotice(ctx context.Context, chatID int64) (first bool, err error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO group_notices (chat_id, noticed_at) VALUES ($1, $2)
ON CONFLICT (chat_id) DO NOTHING`, chatID, db.now())
	if err != nil {
		return false, fmt.Errorf("storage: note group notice: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ForgetGroupNotice forgets that a chat was told, so the next message there
// tries again.
func (db *DB) ForgetGroupNotice(ctx context.Context, chatID int64) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM group_notices WHERE chat_id = $1`, chatID); err != nil {
		return fmt.Errorf("storage: forget group notice: %w", err)
	}
	return nil
}

// Timer is a conversation whose timer (the wakeAt of SaveState) is due.
type Timer struct {
	PersonID int64
	Key      PersonKey
	WakeAt   time.Time
}

// DueTimers is DueWakeups for one channel, with the person's id and the wake
// time, so that a timer input can name the wake-up it is for (its source):
// several processes firing the same timer then make one turn.
func (db *DB) DueTimers(ctx context.Context, channel string, now time.Time, limit int) ([]Timer, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := db.pool.Query(ctx, `
SELECT p.id, p.channel, p.external_id, c.wake_at
FROM conversations c JOIN people p ON p.id = c.person_id
WHERE c.wake_at <= $2 AND p.channel = $1
ORDER BY c.wake_at, c.person_id
LIMIT $3`, channel, now, lim)
	if err != nil {
		return nil, fmt.Errorf("storage: due timers: %w", err)
	}
	timers, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Timer, error) {
		var t Timer
		err := row.Scan(&t.PersonID, &t.Key.Channel, &t.Key.ExternalID, &t.WakeAt)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: due timers: %w", err)
	}
	return timers, nil
}
