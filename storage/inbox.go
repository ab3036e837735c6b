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
	c := db.systemCipher()
	for i, u := range updates {
		var sealed []byte // a nil payload stays NULL, which the table refuses
		if u.Payload != nil {
			var err error
			if sealed, err = seal(c, u.Payload); err != nil {
				return 0, fmt.Errorf("storage: receive: seal: %w", err)
			}
		}
		ids[i], chats[i], payloads[i] = u.UpdateID, u.ChatID, sealed
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

// InboxPage is how many of a chat's updates LockChat and Next read at a time.
const InboxPage = 32

// ChatLock is the right to process one chat's updates: while it is held, no
// other holder in any process connected to the database has it. It is a
// PostgreSQL session advisory lock on a connection of its own, so a process
// that dies releases it with its connection. A ChatLock is not safe for
// concurrent use; Release it when done.
type ChatLock struct {
	db     *DB
	conn   *pgxpool.Conn
	chatID int64
	page   []InboxItem // read with the lock, for the first Next
	paged  bool        // page is waiting for the first Next
	done   []int64     // processed updates whose delete goes with the next statement
}

const (
	sqlTryLockChat = `SELECT pg_try_advisory_lock($1, $2)`
	sqlInboxPage   = `SELECT update_id, chat_id, payload, received_at, attempts FROM inbox
WHERE chat_id = $1 ORDER BY update_id LIMIT $2`
	sqlInboxDelete = `DELETE FROM inbox WHERE update_id = ANY($1)`
)

// LockChat tries to take the chat's lock without waiting. It returns
// ok=false when another holder has it. Taking the lock also reads the first
// page of the chat's updates (one round trip for both).
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
	b := &pgx.Batch{}
	b.Queue(sqlTryLockChat, int32(inboxLockSpace), chatLockKey(chatID))
	b.Queue(sqlInboxPage, chatID, InboxPage)
	br := conn.SendBatch(ctx, b)
	var ok bool
	err = br.QueryRow().Scan(&ok)
	var page []InboxItem
	if err == nil {
		page, err = scanInbox(br, db.systemCipher())
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// The answer may have been lost after the server took the lock:
		// closing the connection makes sure it is not kept.
		destroy(conn)
		return nil, false, fmt.Errorf("storage: lock chat: %w", err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return &ChatLock{db: db, conn: conn, chatID: chatID, page: page, paged: true}, true, nil
}

func scanInbox(br pgx.BatchResults, c Cipher) ([]InboxItem, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (InboxItem, error) {
		var it InboxItem
		var sealed []byte
		if err := row.Scan(&it.UpdateID, &it.ChatID, &sealed, &it.ReceivedAt, &it.Attempts); err != nil {
			return it, err
		}
		payload, err := c.Open(sealed)
		if err != nil {
			return it, fmt.Errorf("open inbox payload of update %d: %w", it.UpdateID, err)
		}
		it.Payload = payload
		return it, nil
	})
}

// SystemSealer is a Sealer that can also seal rows that belong to no person
// yet (the Telegram inbox); privacy's Sealer is one.
type SystemSealer interface {
	SystemCipher() Cipher
}

// systemCipher returns the cipher for the inbox: the sealer's system cipher,
// or the identity when the sealer has none (NoEncryption, tests).
func (db *DB) systemCipher() Cipher {
	if s, ok := db.sealer.(SystemSealer); ok {
		return s.SystemCipher()
	}
	return identity{}
}

// ChatID returns the locked chat.
func (l *ChatLock) ChatID() int64 { return l.chatID }

// queueDone adds the delete of the updates marked Done to b.
func (l *ChatLock) queueDone(b *pgx.Batch) {
	if len(l.done) > 0 {
		b.Queue(sqlInboxDelete, l.done)
	}
}

// Next returns up to InboxPage of the chat's waiting updates, lowest
// update_id first (none when the chat has nothing left). It also deletes the
// updates marked Done, in the same round trip.
func (l *ChatLock) Next(ctx context.Context) ([]InboxItem, error) {
	if l.paged {
		page := l.page
		l.page, l.paged = nil, false
		return page, nil
	}
	b := &pgx.Batch{}
	if len(l.done) > 0 {
		queueAsync(b) // see Release
	}
	l.queueDone(b)
	b.Queue(sqlInboxPage, l.chatID, InboxPage)
	br := l.conn.SendBatch(ctx, b)
	var err error
	if len(l.done) > 0 {
		if _, err = br.Exec(); err == nil {
			_, err = br.Exec()
		}
	}
	var items []InboxItem
	if err == nil {
		items, err = scanInbox(br, l.db.systemCipher())
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("storage: inbox next: %w", err)
	}
	l.done = l.done[:0]
	return items, nil
}

// Done marks a processed update. It is deleted from the inbox with the next
// Next, Failed or Release, before the lock is given up: should the process
// die first, the update is processed again, and its turn is then a duplicate.
func (l *ChatLock) Done(updateID int64) {
	l.done = append(l.done, updateID)
}

// Failed counts a failed attempt to process an update, which stays in the
// inbox, and returns the attempts so far.
func (l *ChatLock) Failed(ctx context.Context, updateID int64) (int, error) {
	b := &pgx.Batch{}
	l.queueDone(b)
	b.Queue(`UPDATE inbox SET attempts = attempts + 1 WHERE update_id = $1 RETURNING attempts`, updateID)
	br := l.conn.SendBatch(ctx, b)
	var err error
	if len(l.done) > 0 {
		_, err = br.Exec()
	}
	var n int
	if err == nil {
		err = br.QueryRow().Scan(&n)
	}
	cerr := br.Close()
	notFound := errors.Is(err, pgx.ErrNoRows)
	if notFound || err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("storage: inbox failed: %w", err)
	}
	l.done = l.done[:0] // the batch committed
	if notFound {
		return 0, fmt.Errorf("storage: inbox failed: update %d: %w", updateID, ErrNotFound)
	}
	return n, nil
}

// Release deletes the updates marked Done, gives the lock up and reports
// whether the chat still has updates waiting, looked at after the lock was
// released: more=true means the caller should try LockChat again (an update
// may have arrived while the lock was held, and its receiver then found the
// chat locked). It is one round trip. Release is safe to call more than
// once; it works even when ctx is done.
func (l *ChatLock) Release(ctx context.Context) (more bool, err error) {
	if l.conn == nil {
		return false, nil
	}
	conn := l.conn
	l.conn = nil
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	b := &pgx.Batch{}
	if len(l.done) > 0 {
		// Committed before the unlock: the next holder must not see them.
		// Not waiting for the disk (see async.go): an update whose delete
		// a server crash loses is processed again, as a duplicate.
		b.Queue("BEGIN")
		queueAsync(b)
		l.queueDone(b)
		b.Queue("COMMIT")
	}
	b.Queue(`SELECT pg_advisory_unlock($1, $2)`, int32(inboxLockSpace), chatLockKey(l.chatID))
	b.Queue(`SELECT EXISTS (SELECT 1 FROM inbox WHERE chat_id = $1)`, l.chatID)
	br := conn.SendBatch(rctx, b)
	if len(l.done) > 0 {
		for range 4 { // BEGIN, async commit, DELETE, COMMIT
			if _, err = br.Exec(); err != nil {
				break
			}
		}
	}
	var unlocked bool
	if err == nil {
		err = br.QueryRow().Scan(&unlocked)
	}
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
	l.done = l.done[:0]
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
