package storage

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Delivery of the outbox.
//
// Any replica may deliver any chat, but never two at once: a replica first
// leases the chat (a row in deliveries), sends that chat's due messages in id
// order, and then releases it. A lease ends at leased_until; the holder
// renews it while it works (RenewLeases), and when the holder dies anyone may
// take it over once it has run out. next_at gates a chat: no replica claims
// it before then. Reschedule moves it forward with the retried message, so a
// later message of the chat can never overtake a message that waits for its
// retry, not even across a crash.
//
// A message is marked sent (MarkSent) only after Telegram confirmed it: a
// crash between the two repeats that message, it never loses one.

// MaxClaimMessages is the most messages ClaimChats hands out per chat; the
// rest come with the chat's next claim.
const MaxClaimMessages = 100

// ChatQueue is a chat leased by ClaimChats with its due messages, in the
// order they must be sent.
type ChatQueue struct {
	PersonID    int64
	LeasedUntil time.Time
	// Priority is the lowest (most urgent) priority among Messages.
	Priority int
	Messages []OutMessage
}

const (
	// sqlClaim leases up to $3 chats that have a message due, are not leased
	// (or their lease ran out) and whose gate has passed. Chats with an
	// interactive message come before chats that only have scheduled ones,
	// then the chat whose oldest due message is oldest.
	//
	// It reads the due messages in that order through the outbox_due index,
	// skipping chats that are leased or gated, and stops after $6 of them:
	// its cost grows with the chats it leases (and the messages of chats
	// leased already), not with the backlog. A chat with more messages
	// than the window holds is still found: its first messages are in it.
	// The lease check is a scalar subquery, one primary-key probe per
	// message read: as NOT EXISTS, a planner that guessed too few leased
	// chats joined them against every message instead. The channel is
	// checked once a chat (the shell marks its messages shown at once, so
	// they hardly take room in the window).
	//
	// Two replicas may pick the same candidate from their snapshots; the
	// upsert settles it. ON CONFLICT DO UPDATE locks the existing row and
	// evaluates its WHERE on the newest committed version, so only one of
	// them gets the lease; a concurrent first insert of the same chat makes
	// the second one wait and then fail the WHERE. The rows are upserted in
	// person_id order, so two claims lock rows in the same order and cannot
	// deadlock.
	sqlClaim = `WITH due AS (
    SELECT o.person_id, o.priority, o.id
    FROM outbox o
    WHERE o.status = 'pending' AND o.not_before <= $2
      AND (SELECT (d.leased_until IS NULL OR d.leased_until <= $2) AND d.next_at <= $2
           FROM deliveries d WHERE d.person_id = o.person_id) IS NOT FALSE
    ORDER BY o.priority, o.id
    LIMIT $6
), candidates AS (
    SELECT person_id FROM due
    GROUP BY person_id
    HAVING (SELECT p.channel FROM people p WHERE p.id = person_id) = 'telegram'
    ORDER BY min(priority), min(id)
    LIMIT $3
)
INSERT INTO deliveries AS d (person_id, leased_by, leased_until, claim, next_at)
SELECT person_id, $1, $4, $5, $2 FROM candidates ORDER BY person_id
ON CONFLICT (person_id) DO UPDATE
SET leased_by = EXCLUDED.leased_by, leased_until = EXCLUDED.leased_until, claim = EXCLUDED.claim
WHERE (d.leased_until IS NULL OR d.leased_until <= $2) AND d.next_at <= $2`

	// sqlClaimUnneeded gives back the chats this claim leased that have no
	// due message left: another replica sent them between the claim's
	// snapshot and the moment it got the lease.
	sqlClaimUnneeded = `UPDATE deliveries d SET leased_by = NULL, leased_until = NULL, claim = NULL
WHERE d.claim = $1 AND NOT EXISTS (
    SELECT 1 FROM outbox o WHERE o.person_id = d.person_id AND o.status = 'pending' AND o.not_before <= $2)`

	// sqlClaimLoad reads the leased chats' due messages. It is a statement of
	// its own, after the claim: in READ COMMITTED it takes a fresh snapshot,
	// which sees every MarkSent the previous holder committed before it
	// released the lease. (Reading the messages in the claim statement
	// itself would use the claim's older snapshot and could hand out a
	// message that was just sent.) A chat whose messages went meanwhile
	// comes back with no messages (NULL columns), for the caller to release.
	//
	// For an edit it also finds the message whose buttons the edit changes
	// (the newest sent message with the edit's prompt, as RemoteIDForPrompt
	// does), unless a message with that prompt is still to go out before
	// the edit: then only the sender, at the time, knows which it is.
	sqlClaimLoad = `SELECT d.person_id, d.leased_until, p.data_key, o.id,
       COALESCE(o.chat_id, 0), COALESCE(o.kind, ''), COALESCE(o.payload, ''::bytea), COALESCE(o.priority, 0),
       COALESCE(o.prompt, 0), COALESCE(o.attempts, 0), COALESCE(o.created_at, d.next_at), COALESCE(o.not_before, d.next_at),
       COALESCE(e.remote_id, 0)
FROM deliveries d
JOIN people p ON p.id = d.person_id
LEFT JOIN LATERAL (
    SELECT * FROM outbox o
    WHERE o.person_id = d.person_id AND o.status = 'pending' AND o.not_before <= $2
    ORDER BY o.priority, o.id
    LIMIT $3
) o ON true
LEFT JOIN LATERAL (` + sqlEditOf + `) e ON true
WHERE d.claim = $1
ORDER BY d.person_id, o.priority, o.id`
)

// sqlEditOf finds, for an edit o, the message whose buttons it changes: the
// newest sent message with the edit's prompt, as RemoteIDForPrompt does,
// unless a message with that prompt is still to go out before the edit (then
// only the sender, at the time, knows which it is).
const sqlEditOf = `
    SELECT s.remote_id FROM outbox s
    WHERE o.kind = 'edit' AND o.prompt <> 0
      AND s.person_id = o.person_id AND s.prompt = o.prompt AND s.remote_id IS NOT NULL AND s.remote_id > 0 AND s.status = 'sent'
      AND NOT EXISTS (SELECT 1 FROM outbox q
          WHERE q.person_id = o.person_id AND q.prompt = o.prompt AND q.status = 'pending' AND q.kind <> 'edit'
            AND (q.priority, q.id) < (o.priority, o.id))
    ORDER BY s.id DESC
    LIMIT 1`

// ClaimChats leases up to limit chats for owner for the duration lease and
// returns each with its due messages (at most MaxClaimMessages). A chat can
// come back without messages when another replica sent them at the same
// moment; the caller releases it. Chats that have an interactive message
// (priority 0 or below) are claimed before chats that only have scheduled
// ones, and the result is in that order. Within a chat a safety reply goes
// first, then interactive replies, then scheduled messages, each kind strictly
// in id order. Only Telegram people's messages are delivered (the terminal
// shell prints its own). A chat leased by someone else is skipped until its
// lease runs out, a chat whose gate (next_at) lies ahead until then.
//
// It costs one round trip: the claim, the release of chats left with nothing
// to send and the load of the messages go as one batch, in one implicit
// transaction, each statement with its own snapshot. The leases commit
// without waiting for the disk (see async.go).
func (db *DB) ClaimChats(ctx context.Context, owner string, limit int, lease time.Duration) ([]ChatQueue, error) {
	if owner == "" {
		return nil, errors.New("storage: claim chats: empty owner")
	}
	if limit <= 0 {
		return nil, nil
	}
	now := db.now()
	claim, err := claimID()
	if err != nil {
		return nil, fmt.Errorf("storage: claim chats: %w", err)
	}
	b := &pgx.Batch{}
	// Not waiting for the disk (see async.go), and no JIT: the planner
	// prices the claim by the whole outbox, not by the window it reads, and
	// compiling it would take longer than running it.
	b.Queue(`SELECT set_config('synchronous_commit', 'off', true), set_config('jit', 'off', true)`)
	b.Queue(sqlClaim, owner, now, limit, now.Add(lease), claim, claimWindow(limit))
	b.Queue(sqlClaimUnneeded, claim, now)
	b.Queue(sqlClaimLoad, claim, now, MaxClaimMessages)
	br := db.pool.SendBatch(ctx, b)
	queues, err := db.readClaim(ctx, br)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("storage: claim chats: %w", err)
	}
	// Most urgent chats first, as the claim chose them.
	sortQueues(queues)
	return queues, nil
}

func (db *DB) readClaim(ctx context.Context, br pgx.BatchResults) ([]ChatQueue, error) {
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("async commit: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("give back: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer rows.Close()
	var (
		out    []ChatQueue
		cipher Cipher
	)
	for rows.Next() {
		var (
			personID int64
			until    time.Time
			dataKey  []byte
			id       *int64 // NULL for a chat left without messages
			m        OutMessage
		)
		if err := rows.Scan(&personID, &until, &dataKey, &id, &m.ChatID, &m.Kind, &m.Payload, &m.Priority,
			&m.Prompt, &m.Attempts, &m.CreatedAt, &m.NotBefore, &m.EditOf); err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		if id == nil {
			out = append(out, ChatQueue{PersonID: personID, LeasedUntil: until})
			continue
		}
		m.ID, m.PersonID = *id, personID
		if n := len(out); n == 0 || out[n-1].PersonID != personID {
			out = append(out, ChatQueue{PersonID: personID, LeasedUntil: until, Priority: m.Priority})
			if cipher, err = db.cipherFor(ctx, personID, dataKey); err != nil {
				return nil, fmt.Errorf("load: %w", err)
			}
		}
		q := &out[len(out)-1]
		if m.Payload, err = cipher.Open(m.Payload); err != nil {
			return nil, fmt.Errorf("load: open message %d: %w", m.ID, err)
		}
		q.Priority = min(q.Priority, m.Priority)
		q.Messages = append(q.Messages, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	return out, nil
}

// sortQueues orders queues by priority, then by their oldest message; empty
// queues go last.
func sortQueues(qs []ChatQueue) {
	less := func(a, b *ChatQueue) bool {
		if len(a.Messages) == 0 || len(b.Messages) == 0 {
			return len(b.Messages) == 0 && len(a.Messages) > 0
		}
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		return a.Messages[0].ID < b.Messages[0].ID
	}
	// Insertion sort: a claim holds a few hundred chats at most and
	// arrives sorted by person id.
	for i := 1; i < len(qs); i++ {
		for j := i; j > 0 && less(&qs[j], &qs[j-1]); j-- {
			qs[j], qs[j-1] = qs[j-1], qs[j]
		}
	}
}

// claimWindow is how many due messages a claim of limit chats reads at
// most: enough for a dozen messages a chat. When chats hold more, a claim
// leases fewer of them, and the next claim takes the rest.
func claimWindow(limit int) int { return min(max(16*limit, 256), 16384) }

// claimID returns a random id that tells this claim's rows from the owner's
// other leases.
func claimID() (int64, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1), nil
}

// RenewLeases extends every lease owner still holds (not run out) to lease
// from now, and returns the people whose chats it holds; a chat missing from
// the list was lost and must not be sent to any more. One statement.
func (db *DB) RenewLeases(ctx context.Context, owner string, lease time.Duration) ([]int64, error) {
	now := db.now()
	b := &pgx.Batch{}
	queueAsync(b)
	b.Queue(`UPDATE deliveries SET leased_until = $3
WHERE leased_by = $1 AND leased_until > $2
RETURNING person_id`, owner, now, now.Add(lease))
	br := db.pool.SendBatch(ctx, b)
	var ids []int64
	_, err := br.Exec()
	if err == nil {
		var rows pgx.Rows
		if rows, err = br.Query(); err == nil {
			ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("storage: renew leases: %w", err)
	}
	return ids, nil
}

// Release gives up owner's lease on the person's chat and gates it until
// nextAt (the per-chat spacing the next sender must keep; now or earlier for
// none). A lease owner no longer holds is left alone. It commits without
// waiting for the disk (see async.go).
func (db *DB) Release(ctx context.Context, personID int64, owner string, nextAt time.Time) error {
	if _, err := db.execAsync(ctx, sqlRelease, personID, owner, nextAt); err != nil {
		return fmt.Errorf("storage: release: %w", err)
	}
	return nil
}

const sqlRelease = `UPDATE deliveries
SET leased_by = NULL, leased_until = NULL, claim = NULL, next_at = $3
WHERE person_id = $1 AND leased_by = $2`

// MarkSentRelease is MarkSent followed by Release, for a chat's last
// message: one transaction, one round trip. Nothing is written when either
// fails; an error wraps ErrNotFound when there is no such message.
func (db *DB) MarkSentRelease(ctx context.Context, id, remoteID, personID int64, owner string, nextAt time.Time, also ...Sent) error {
	b := &pgx.Batch{}
	queueAsync(b)
	db.queueAlso(b, also)
	b.Queue(sqlMarkSent, id, remoteID, db.now())
	b.Queue(sqlRelease, personID, owner, nextAt)
	br := db.pool.SendBatch(ctx, b)
	_, err := br.Exec()
	if err == nil && len(also) > 0 {
		_, err = br.Exec()
	}
	var tag pgconn.CommandTag
	if err == nil {
		tag, err = br.Exec()
	}
	if err == nil {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("storage: mark sent and release: %w", err)
	}
	if tag.RowsAffected() == 0 {
		// The release went through: the caller forgets the chat either way.
		return fmt.Errorf("storage: mark sent and release: message %d: %w", id, ErrNotFound)
	}
	return nil
}

// ReleaseAll gives up every lease owner holds, keeping each chat's gate (a
// retry that waits stays waited for). A replica calls it when it shuts down,
// so others need not wait for the leases to run out. It returns how many it
// released.
func (db *DB) ReleaseAll(ctx context.Context, owner string) (int64, error) {
	tag, err := db.execAsync(ctx, `UPDATE deliveries SET leased_by = NULL, leased_until = NULL, claim = NULL
WHERE leased_by = $1`, owner)
	if err != nil {
		return 0, fmt.Errorf("storage: release all: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Reschedule keeps a pending message for another try at notBefore, records
// the attempts so far and the last error (an error class, never message
// text), and gates the message's chat until then, so none of its later
// messages goes first, even if this replica dies meanwhile. One statement.
// It returns an error wrapping ErrNotFound when no such message is pending.
func (db *DB) Reschedule(ctx context.Context, id int64, notBefore time.Time, attempts int, lastError string) error {
	var n int
	err := db.pool.QueryRow(ctx, `WITH m AS (
    UPDATE outbox SET not_before = $2, attempts = $3, last_error = $4
    WHERE id = $1 AND status = 'pending'
    RETURNING person_id
), gate AS (
    UPDATE deliveries d SET next_at = GREATEST(d.next_at, $2) FROM m WHERE d.person_id = m.person_id
)
SELECT count(*) FROM m`, id, notBefore, attempts, lastError).Scan(&n)
	if err != nil {
		return fmt.Errorf("storage: reschedule: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("storage: reschedule: message %d: %w", id, ErrNotFound)
	}
	return nil
}

// MarkFailed gives up on a pending message: its status becomes 'failed' with
// reason (an error class, never message text) and one more attempt counted.
// It returns an error wrapping ErrNotFound when no such message is pending.
func (db *DB) MarkFailed(ctx context.Context, id int64, reason string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = $2
WHERE id = $1 AND status = 'pending'`, id, reason)
	if err != nil {
		return fmt.Errorf("storage: mark failed: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("storage: mark failed: message %d: %w", id, ErrNotFound)
	}
	return nil
}

// DropQueue handles a person who blocked the bot: it marks the person
// inactive and every pending message of theirs 'dropped' with reason, in one
// statement, and returns how many messages it dropped. It returns an error
// wrapping ErrNotFound when there is no such person.
func (db *DB) DropQueue(ctx context.Context, personID int64, reason string) (int64, error) {
	var people, dropped int64
	err := db.pool.QueryRow(ctx, `WITH p AS (
    UPDATE people SET active = false WHERE id = $1 RETURNING id
), o AS (
    UPDATE outbox SET status = 'dropped', last_error = $2
    WHERE person_id = $1 AND status = 'pending'
    RETURNING id
)
SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM o)`, personID, reason).Scan(&people, &dropped)
	if err != nil {
		return 0, fmt.Errorf("storage: drop queue: %w", err)
	}
	if people == 0 {
		return 0, fmt.Errorf("storage: drop queue: person %d: %w", personID, ErrNotFound)
	}
	return dropped, nil
}

// RemoteIDForPrompt returns the Telegram message id of the newest sent
// message of the person that carried the buttons of prompt: the message an
// edit of that prompt changes. It returns an error wrapping ErrNotFound when
// there is none (never sent, or sent without a known id).
func (db *DB) RemoteIDForPrompt(ctx context.Context, personID int64, prompt int) (int64, error) {
	var id int64
	err := db.pool.QueryRow(ctx, `SELECT remote_id FROM outbox
WHERE person_id = $1 AND prompt = $2 AND remote_id IS NOT NULL AND remote_id > 0 AND status = 'sent'
ORDER BY id DESC LIMIT 1`, personID, prompt).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("storage: remote id for prompt %d of person %d: %w", prompt, personID, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("storage: remote id for prompt: %w", err)
	}
	return id, nil
}

// OutboxBacklog reports whether n or more messages wait to be delivered,
// due or not. It reads at most n entries of the index of pending messages,
// so it stays cheap however large the outbox grows.
func (db *DB) OutboxBacklog(ctx context.Context, n int) (bool, error) {
	if n <= 0 {
		return true, nil
	}
	var behind bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (
    SELECT 1 FROM outbox WHERE status = 'pending' ORDER BY priority, id OFFSET $1)`, n-1).Scan(&behind)
	if err != nil {
		return false, fmt.Errorf("storage: outbox backlog: %w", err)
	}
	return behind, nil
}

// OutboxDepth returns how many messages wait to be delivered, due or not.
func (db *DB) OutboxDepth(ctx context.Context) (int64, error) {
	var n int64
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE status = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("storage: outbox depth: %w", err)
	}
	return n, nil
}
