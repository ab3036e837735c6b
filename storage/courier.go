package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A turn's way out, without a claim.
//
// Delivery normally finds new messages with ClaimChats: a statement that
// scans the due part of the outbox, one more round trip and the costliest
// statement on the turn path. A process that delivers can do better for the
// messages its own turns write: it registers a Courier, and every turn that
// enqueues a message for a Telegram person also leases that person's chat for
// the courier, inside the turn's transaction, and reads the chat's due
// messages back (the two statements go with the turn's writes and COMMIT, in
// the same round trip). After the commit the chat is handed over with its
// messages, exactly as ClaimChats would have handed it out. A chat that
// cannot be leased (another sender holds it, or its gate lies ahead) is left
// to ClaimChats, and the courier is woken to look.
//
// The lease follows ClaimChats' rules (the same upsert, the same conditions),
// so a chat is never sent to by two holders at once, whichever way each got
// it.

// Courier takes the chats that turns leased for it. Set it with SetCourier.
type Courier struct {
	// Owner names the courier in the leases, as ClaimChats' owner.
	Owner string
	// Lease is how long a lease lasts, as ClaimChats' lease.
	Lease time.Duration
	// Room reports, before a turn commits, whether the courier would take
	// another chat now (false leaves the chat to ClaimChats). It must be
	// quick and safe for concurrent use.
	Room func() bool
	// Take receives a chat a turn leased, with its due messages, after the
	// turn committed. It must not block. When it returns false (the courier
	// stopped meanwhile) the lease is given back.
	Take func(ChatQueue) bool
	// Wake is called after a turn committed messages that it did not hand
	// over (for another person, or a chat it could not lease), unless Holds
	// reports the chat.
	Wake func()
	// Holds, when set, reports whether the courier holds the person's chat
	// (and so will claim it again once it released it, finding the turn's
	// messages without a Wake). It must be safe for concurrent use.
	Holds func(personID int64) bool
}

// SetCourier registers the courier that turns hand their chats to. Only one
// courier is registered at a time: the last one set.
func (db *DB) SetCourier(c *Courier) { db.courier.Store(c) }

// DropCourier unregisters c, if it is still the one registered.
func (db *DB) DropCourier(c *Courier) { db.courier.CompareAndSwap(c, nil) }

const (
	// sqlHandoverLease is ClaimChats' upsert for one chat.
	sqlHandoverLease = `INSERT INTO deliveries AS d (person_id, leased_by, leased_until, claim, next_at)
VALUES ($1, $2, $4, $5, $3)
ON CONFLICT (person_id) DO UPDATE
SET leased_by = EXCLUDED.leased_by, leased_until = EXCLUDED.leased_until, claim = EXCLUDED.claim
WHERE (d.leased_until IS NULL OR d.leased_until <= $3) AND d.next_at <= $3`

	// sqlHandoverLoad reads the leased chat's due messages: nothing when
	// the lease was not taken. Its own statement, so it sees the turn's
	// own messages and every earlier one committed before the lease.
	// For an edit it finds the message the edit changes as ClaimChats does.
	sqlHandoverLoad = `SELECT o.id, o.chat_id, o.kind, o.payload, o.priority, o.prompt, o.attempts, o.created_at, o.not_before,
       COALESCE(e.remote_id, 0)
FROM (
    SELECT * FROM outbox o
    WHERE o.person_id = $1 AND o.status = 'pending' AND o.not_before <= $2
      AND EXISTS (SELECT 1 FROM deliveries d WHERE d.person_id = $1 AND d.claim = $3)
    ORDER BY o.priority, o.id
    LIMIT $4
) o
LEFT JOIN LATERAL (` + sqlEditOf + `) e ON true
ORDER BY o.priority, o.id`
)

// handover is a turn's request to lease its chat for the courier.
type handover struct {
	c     *Courier
	claim int64
	until time.Time
	queue ChatQueue
	taken bool // the lease was taken
}

// add adds the lease and the load to the commit batch b.
func (h *handover) add(b *pgx.Batch, personID int64, now time.Time) {
	b.Queue(sqlHandoverLease, personID, h.c.Owner, now, h.until, h.claim)
	b.Queue(sqlHandoverLoad, personID, now, h.claim, MaxClaimMessages)
}

// read reads the lease and the load, opening payloads with c.
func (h *handover) read(br pgx.BatchResults, personID int64, c Cipher) error {
	tag, err := br.Exec()
	if err != nil {
		return fmt.Errorf("lease for delivery: %w", err)
	}
	h.taken = tag.RowsAffected() == 1
	rows, err := br.Query()
	if err != nil {
		return fmt.Errorf("load for delivery: %w", err)
	}
	defer rows.Close()
	h.queue = ChatQueue{PersonID: personID, LeasedUntil: h.until}
	for rows.Next() {
		m := OutMessage{PersonID: personID}
		if err := rows.Scan(&m.ID, &m.ChatID, &m.Kind, &m.Payload, &m.Priority, &m.Prompt, &m.Attempts,
			&m.CreatedAt, &m.NotBefore, &m.EditOf); err != nil {
			return fmt.Errorf("load for delivery: %w", err)
		}
		if m.Payload, err = c.Open(m.Payload); err != nil {
			return fmt.Errorf("load for delivery: open message %d: %w", m.ID, err)
		}
		if len(h.queue.Messages) == 0 {
			h.queue.Priority = m.Priority
		}
		h.queue.Priority = min(h.queue.Priority, m.Priority)
		h.queue.Messages = append(h.queue.Messages, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load for delivery: %w", err)
	}
	return nil
}

// deliver hands the committed turn's chat to the courier, or wakes it.
func (db *DB) deliver(ctx context.Context, t *Tx) {
	c := t.courier
	if c == nil || !(t.ownQueued || t.otherQueued) {
		return
	}
	h := t.hand
	own := t.ownQueued
	switch {
	case h != nil && h.taken && len(h.queue.Messages) > 0:
		if c.Take(h.queue) {
			own = false
			break
		}
		fallthrough
	case h != nil && h.taken:
		// Leased but not taken: give the lease back for ClaimChats (it
		// would run out by itself otherwise).
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = db.Release(rctx, t.person.ID, c.Owner, t.now)
		cancel()
	case own && c.Holds != nil && c.Holds(t.person.ID):
		own = false
	}
	if own || t.otherQueued {
		c.Wake()
	}
}

// ErrChatBusy is returned (wrapped) by a turn run under a ChatGuard when the
// chat's lock is held elsewhere or the chat has updates waiting in the inbox.
var ErrChatBusy = errors.New("storage: chat busy")

// ChatGuard lets a turn run straight from a receiver, without the inbox,
// when that keeps the chat's order: the turn takes the chat's lock (the one
// LockChat takes) for its transaction and checks that no earlier update of
// the chat waits in the inbox, in the turn's first round trip. Otherwise the
// turn fails with ErrChatBusy and changes nothing: the receiver stores the
// update in the inbox instead.
//
// After the commit (or, for a duplicate, the rollback), with the lock given
// up, the turn looks whether an update reached the inbox meanwhile (its
// receiver found the chat locked): More reports it, and the caller then
// drains the chat. It is the same handshake as ChatLock.Release's.
type ChatGuard struct {
	chatID int64
	busy   bool
	more   bool
}

type guardKey struct{}

// WithChatGuard returns a context whose turns run under a guard for chat.
func WithChatGuard(ctx context.Context, chatID int64) (context.Context, *ChatGuard) {
	g := &ChatGuard{chatID: chatID}
	return context.WithValue(ctx, guardKey{}, g), g
}

func guardFrom(ctx context.Context) *ChatGuard {
	g, _ := ctx.Value(guardKey{}).(*ChatGuard)
	return g
}

// Busy reports whether the last turn under the guard found the chat busy.
func (g *ChatGuard) Busy() bool { return g.busy }

// More reports whether the chat had updates in the inbox right after the
// last turn under the guard gave up the chat's lock.
func (g *ChatGuard) More() bool { return g.more }

const (
	// sqlGuardChat raises lock_not_available when the chat is busy (see
	// migration 011): the turn's other statements in the same round trip
	// are then skipped rather than waiting for the person's row lock.
	sqlGuardChat = `SELECT stilstaan_guard_chat($1, $2, $3)`
	sqlInboxMore = `SELECT EXISTS (SELECT 1 FROM inbox WHERE chat_id = $1)`
)

func (g *ChatGuard) queueTake(b *pgx.Batch) {
	b.Queue(sqlGuardChat, int32(inboxLockSpace), chatLockKey(g.chatID), g.chatID)
}

func (g *ChatGuard) readTake(br pgx.BatchResults) error {
	g.busy, g.more = false, false
	if _, err := br.Exec(); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == sqlstateLockNotAvailable {
			g.busy = true
			return ErrChatBusy
		}
		return fmt.Errorf("guard chat: %w", err)
	}
	return nil
}

// rollback ends a duplicate's transaction and looks at the inbox after the
// lock is given up, in one round trip.
func (g *ChatGuard) rollback(ctx context.Context, conn interface {
	SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
}) error {
	b := &pgx.Batch{}
	b.Queue("ROLLBACK")
	b.Queue(sqlInboxMore, g.chatID)
	br := conn.SendBatch(ctx, b)
	_, err := br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&g.more)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("guard: rollback: %w", err)
	}
	return nil
}

// sqlstateLockNotAvailable is PostgreSQL's lock_not_available.
const sqlstateLockNotAvailable = "55P03"
