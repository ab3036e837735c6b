package storage

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Entry is one line of a person's transcript. Text is sealed at rest.
type Entry struct {
	Direction string // "in", "out", "coach" or "system"
	Exercise  string
	Step      string
	Kind      string
	Text      string
}

// Outgoing is a message to deliver to a person, written to the outbox by the
// turn that produced it. Payload is sealed at rest.
type Outgoing struct {
	Kind      string
	Payload   []byte
	Priority  int       // 0 interactive; higher goes later (10 for scheduled messages)
	Prompt    int       // the button nonce the message carries, 0 if none
	NotBefore time.Time // zero: now
}

// directions are the transcript directions the schema accepts.
var directions = map[string]bool{"in": true, "out": true, "coach": true, "system": true}

const (
	// The upsert takes the person's row lock, held until the turn ends: every
	// turn of one person, in any process, waits here for the one before.
	// xmax = 0 holds only for a row this statement inserted.
	sqlUpsertPerson = `INSERT INTO people (channel, external_id, chat_id, created_at, last_seen_at)
VALUES ($1, $2, $2, $3, $3)
ON CONFLICT (channel, external_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at
RETURNING ` + personColumns + `, data_key, xmax = 0`

	// No row back means the source was processed before (or is being
	// processed by a transaction that then commits: the insert waits for it).
	sqlRecordInput = `INSERT INTO inputs (source, person_id, processed_at)
SELECT $1, id, $4 FROM people WHERE channel = $2 AND external_id = $3
ON CONFLICT (source) DO NOTHING
RETURNING true`

	// A statement of its own, after the upsert: in READ COMMITTED its snapshot
	// is taken once the lock is held, so it sees the previous turn's state.
	sqlLoadState = `SELECT c.state FROM conversations c JOIN people p ON p.id = c.person_id
WHERE p.channel = $1 AND p.external_id = $2`

	sqlUpdatePerson = `UPDATE people
SET chat_id = $2, lang = $3, active = $4, consent_at = $5, consent_version = $6, data_key = COALESCE($7, data_key)
WHERE id = $1`

	sqlSaveState = `INSERT INTO conversations (person_id, state, wake_at, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (person_id) DO UPDATE SET state = EXCLUDED.state, wake_at = EXCLUDED.wake_at, updated_at = EXCLUDED.updated_at`

	sqlAddTranscript = `INSERT INTO transcript (person_id, at, direction, exercise, step, kind, body)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

	sqlEnqueue = `INSERT INTO outbox (person_id, chat_id, kind, payload, priority, prompt, not_before, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
)

// Turn runs fn in one transaction for the person with key.
//
// If source is not empty it names the input (e.g. "tg:<update_id>"): an input
// already processed is not processed again, Turn returns dup=true without
// calling fn and changes nothing. Otherwise Turn creates the person if needed
// (chat id = key.ExternalID until fn calls SetChatID), locks the person's row
// so that the turns of one person run one after the other in every process,
// loads the opened conversation state, calls fn and then writes everything fn
// buffered on the Tx and commits.
//
// If fn returns an error, or anything fails, nothing is kept: not the input,
// not the person row of a new person, nothing fn buffered. The error is
// returned wrapped ("storage: turn: ..."). If fn panics, the transaction is
// rolled back, the connection goes back to the pool and the panic continues
// up the stack unchanged.
//
// The person's row stays locked, and a pooled connection in use, while fn
// runs: fn must not wait on the network (ask the LLM before the turn).
//
// In the steady state (the statements already prepared on the connection) a
// turn costs two round trips to the server: BEGIN, upsert-and-lock, dedupe
// and load go as one batch, and the buffered writes and COMMIT as another
// (a duplicate sends ROLLBACK instead). The first turns on a new connection
// cost one more round trip per batch, to prepare its statements.
func (db *DB) Turn(ctx context.Context, key PersonKey, source string, fn func(t *Tx) error) (dup bool, err error) {
	if key.Channel == "" {
		return false, errors.New("storage: turn: person key has no channel")
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("storage: turn: %w", err)
	}
	// Rolls back whatever is still open, on every return and during a panic
	// in fn, and hands the connection back to the pool.
	defer release(ctx, conn)

	t := &Tx{now: db.now(), conn: conn, ctx: ctx, db: db, guard: guardFrom(ctx)}
	fresh, sealedState, dataKey, err := t.begin(ctx, conn, key, source)
	if err != nil {
		return false, fmt.Errorf("storage: turn: %w", err)
	}
	if !fresh {
		if t.guard != nil {
			if err := t.guard.rollback(ctx, conn); err != nil {
				return false, fmt.Errorf("storage: turn: %w", err)
			}
		}
		return true, nil
	}

	if t.isNew {
		if dataKey, err = db.sealer.NewPersonKey(ctx, t.person.ID); err != nil {
			return false, fmt.Errorf("storage: turn: new person key: %w", err)
		}
		if dataKey != nil {
			t.newKey, t.personDirty = dataKey, true
		}
	}
	if t.cipher, err = db.cipherFor(ctx, t.person.ID, dataKey); err != nil {
		return false, fmt.Errorf("storage: turn: %w", err)
	}
	if sealedState != nil {
		state, err := t.cipher.Open(sealedState)
		if err != nil {
			return false, fmt.Errorf("storage: turn: open state: %w", err)
		}
		if len(state) > 0 {
			t.state = state
		}
	}

	err = fn(t)
	t.done = true
	if err != nil {
		return false, fmt.Errorf("storage: turn: %w", err)
	}
	if err := t.commit(ctx, conn); err != nil {
		return false, fmt.Errorf("storage: turn: %w", err)
	}
	db.deliver(ctx, t)
	return false, nil
}

// release rolls back a transaction left open on conn and returns conn to the
// pool. A connection that cannot be rolled back is closed, which makes the
// server roll back, and the pool then drops it.
func release(ctx context.Context, conn *pgxpool.Conn) {
	c := conn.Conn()
	if !c.IsClosed() && c.PgConn().TxStatus() != 'I' {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if _, err := c.Exec(rctx, "ROLLBACK"); err != nil {
			_ = c.Close(rctx)
		}
		cancel()
	}
	conn.Release()
}

// begin sends the first batch: BEGIN, the upsert that locks the person, the
// input record and the state load. fresh is false for a duplicate input.
func (t *Tx) begin(ctx context.Context, conn *pgxpool.Conn, key PersonKey, source string) (fresh bool, sealedState, dataKey []byte, err error) {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	if t.guard != nil {
		t.guard.queueTake(b)
	}
	b.Queue(sqlUpsertPerson, key.Channel, key.ExternalID, t.now)
	if source != "" {
		b.Queue(sqlRecordInput, source, key.Channel, key.ExternalID, t.now)
	}
	b.Queue(sqlLoadState, key.Channel, key.ExternalID)

	br := conn.SendBatch(ctx, b)
	fresh, sealedState, dataKey, err = t.readBegin(br, source != "")
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return fresh, sealedState, dataKey, err
}

func (t *Tx) readBegin(br pgx.BatchResults, withSource bool) (fresh bool, sealedState, dataKey []byte, err error) {
	if _, err := br.Exec(); err != nil {
		return false, nil, nil, fmt.Errorf("begin: %w", err)
	}
	if t.guard != nil {
		if err := t.guard.readTake(br); err != nil {
			return false, nil, nil, err
		}
	}
	if err := scanPerson(br.QueryRow(), &t.person, &dataKey, &t.isNew); err != nil {
		return false, nil, nil, fmt.Errorf("upsert person: %w", err)
	}
	fresh = true
	if withSource {
		var recorded bool
		err := br.QueryRow().Scan(&recorded)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			fresh = false
		case err != nil:
			return false, nil, nil, fmt.Errorf("record input: %w", err)
		}
	}
	err = br.QueryRow().Scan(&sealedState)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, nil, nil, fmt.Errorf("load state: %w", err)
	}
	return fresh, sealedState, dataKey, nil
}

// commit sends the buffered writes and COMMIT as one batch.
func (t *Tx) commit(ctx context.Context, conn *pgxpool.Conn) error {
	b := &pgx.Batch{}
	var labels []string // what each queued statement does, for errors
	queue := func(label, sql string, args ...any) {
		b.Queue(sql, args...)
		labels = append(labels, label)
	}
	p := t.person
	if t.personDirty {
		queue("update person", sqlUpdatePerson, p.ID, p.ChatID, p.Lang, p.Active, p.ConsentAt, nullString(p.ConsentVersion), t.newKey)
	}
	if t.stateDirty {
		state, err := seal(t.cipher, t.state)
		if err != nil {
			return fmt.Errorf("seal state: %w", err)
		}
		queue("save state", sqlSaveState, p.ID, state, nullTime(t.wakeAt), t.now)
	}
	for i := range t.ops {
		op := &t.ops[i]
		switch {
		case op.entry != nil:
			e := op.entry
			if !directions[e.Direction] {
				return fmt.Errorf("add transcript: invalid direction %q", e.Direction)
			}
			body, err := seal(t.cipher, []byte(e.Text))
			if err != nil {
				return fmt.Errorf("seal transcript: %w", err)
			}
			queue("add transcript", sqlAddTranscript, p.ID, t.now, e.Direction, e.Exercise, e.Step, e.Kind, body)
		case op.out != nil:
			m := op.out
			if m.Priority < math.MinInt16 || m.Priority > math.MaxInt16 {
				return fmt.Errorf("enqueue: priority %d out of range", m.Priority)
			}
			payload, err := seal(t.cipher, m.Payload)
			if err != nil {
				return fmt.Errorf("seal payload: %w", err)
			}
			notBefore := m.NotBefore
			if notBefore.IsZero() {
				notBefore = t.now
			}
			queue("enqueue", sqlEnqueue, p.ID, p.ChatID, m.Kind, payload, m.Priority, m.Prompt, notBefore, t.now)
		default:
			queue("exec", op.sql, op.args...)
		}
	}
	// The chat's lease for the courier goes last, so that the deliveries
	// row is locked for as short a time as possible.
	t.courier = t.db.courier.Load()
	if c := t.courier; c != nil && t.ownDue && p.Channel == courierChannel && c.Room() {
		claim, err := claimID()
		if err != nil {
			return fmt.Errorf("claim id: %w", err)
		}
		t.hand = &handover{c: c, claim: claim, until: t.now.Add(c.Lease)}
		t.hand.add(b, p.ID, t.now)
	}
	b.Queue("COMMIT")
	if t.guard != nil {
		b.Queue(sqlInboxMore, t.guard.chatID) // after the lock is given up
	}

	br := conn.SendBatch(ctx, b)
	err := t.readCommit(br, labels)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// courierChannel is the channel whose chats delivery sends to (the terminal
// shell shows its own).
const courierChannel = "telegram"

func (t *Tx) readCommit(br pgx.BatchResults, labels []string) error {
	for _, label := range labels {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
	}
	if t.hand != nil {
		if err := t.hand.read(br, t.person.ID, t.cipher); err != nil {
			return err
		}
	}
	tag, err := br.Exec()
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if tag.String() != "COMMIT" {
		return fmt.Errorf("commit: server answered %q", tag.String())
	}
	if t.guard != nil {
		// Committed: a failure here only means the caller does not learn
		// of an update that came meanwhile; the inbox sweep finds it.
		t.guard.more = true
		_ = br.QueryRow().Scan(&t.guard.more)
	}
	return nil
}

// Tx is what fn sees during a Turn: the person, their conversation state, and
// buffers for what the turn writes. The writes are sent in one batch after fn
// returns, in the order fn made them (person and state changes first). A Tx
// is not safe for concurrent use and must not be used after fn returns; doing
// so panics.
type Tx struct {
	now         time.Time
	person      Person
	isNew       bool
	newKey      []byte
	personDirty bool
	cipher      Cipher
	state       []byte
	stateDirty  bool
	wakeAt      time.Time
	ops         []txOp
	done        bool
	ownQueued   bool // messages for the person were enqueued
	ownDue      bool // ... and some of them are due now
	otherQueued bool // messages for someone else were enqueued
	guard       *ChatGuard
	courier     *Courier
	hand        *handover
	conn        *pgxpool.Conn
	ctx         context.Context
	db          *DB
}

// txOp is one buffered write: exactly one of entry, out or sql is set.
type txOp struct {
	entry *Entry
	out   *Outgoing
	sql   string
	args  []any
}

func (t *Tx) mustBeOpen() {
	if t.done {
		panic("storage: Tx used after its turn ended")
	}
}

// Person returns the person, with the changes this turn made so far.
func (t *Tx) Person() Person { return t.person }

// New reports whether this turn created the person's row.
func (t *Tx) New() bool { return t.isNew }

// State returns the opened conversation state, nil when there is none. After
// SaveState it returns what was saved. The caller must not modify it.
func (t *Tx) State() []byte { return t.state }

// SaveState replaces the conversation state (sealed at rest) and its timer:
// wakeAt is when DueWakeups should hand the person back, the zero time clears
// the timer. Saving a nil or empty state leaves an empty state, which later
// turns see as nil.
func (t *Tx) SaveState(state []byte, wakeAt time.Time) {
	t.mustBeOpen()
	if len(state) == 0 {
		t.state = nil
	} else {
		t.state = slices.Clone(state)
	}
	t.wakeAt, t.stateDirty = wakeAt, true
}

// SetLang sets the person's language.
func (t *Tx) SetLang(lang string) {
	t.mustBeOpen()
	t.person.Lang, t.personDirty = lang, true
}

// SetConsent records consent given at a time for a version of the terms; a nil
// time records that consent was withdrawn.
func (t *Tx) SetConsent(at *time.Time, version string) {
	t.mustBeOpen()
	if at != nil {
		at2 := *at
		at = &at2
	}
	t.person.ConsentAt, t.person.ConsentVersion, t.personDirty = at, version, true
}

// SetChatID sets the chat the person's messages go to, including the messages
// this turn enqueues.
func (t *Tx) SetChatID(id int64) {
	t.mustBeOpen()
	t.person.ChatID, t.personDirty = id, true
}

// SetActive marks the person active or not (e.g. after /stop, or on their
// return after they blocked the bot).
func (t *Tx) SetActive(active bool) {
	t.mustBeOpen()
	t.person.Active, t.personDirty = active, true
}

// AddTranscript appends entries to the person's transcript; their Text is
// sealed at rest.
func (t *Tx) AddTranscript(e ...Entry) {
	t.mustBeOpen()
	for _, entry := range e {
		t.ops = append(t.ops, txOp{entry: &entry})
	}
}

// Enqueue adds messages to the outbox, to be delivered after the turn commits,
// in order per person. Payloads are sealed at rest.
func (t *Tx) Enqueue(m ...Outgoing) {
	t.mustBeOpen()
	for i := range m {
		out := m[i]
		out.Payload = slices.Clone(out.Payload)
		t.ops = append(t.ops, txOp{out: &out})
		t.ownQueued = true
		if !out.NotBefore.After(t.now) {
			t.ownDue = true
		}
	}
}

// Exec buffers a statement to run inside the turn's transaction, in order with
// the transcript entries and messages fn adds; it is for the tables of later
// features. It runs with Turn's context once fn returns, and its failure
// fails the turn: the error returned here only reports a statement that could
// not be buffered. Values a person wrote must go through Seal first.
func (t *Tx) Exec(_ context.Context, sql string, args ...any) error {
	t.mustBeOpen()
	if sql == "" {
		return errors.New("storage: exec: empty statement")
	}
	t.ops = append(t.ops, txOp{sql: sql, args: slices.Clone(args)})
	return nil
}

// sqlEnsurePerson creates a person row when missing (without locking an
// existing one) and returns it either way.
const sqlEnsurePerson = `WITH ins AS (
  INSERT INTO people (channel, external_id, chat_id, created_at, last_seen_at)
  VALUES ($1, $2, $2, $3, $3)
  ON CONFLICT (channel, external_id) DO NOTHING
  RETURNING ` + personColumns + `, data_key, true AS fresh)
SELECT * FROM ins
UNION ALL
SELECT ` + personColumns + `, data_key, false FROM people WHERE channel = $1 AND external_id = $2
LIMIT 1`

// EnqueueTo queues messages for another person (a coach being alerted) in
// this turn's transaction, sealed with that person's own key; the person is
// created when new. The lookup runs right away; the inserts are buffered in
// order with the turn's other writes. It returns the other person's id.
func (t *Tx) EnqueueTo(key PersonKey, m ...Outgoing) (int64, error) {
	t.mustBeOpen()
	var p Person
	var wrapped []byte
	var fresh bool
	if err := scanPerson(t.conn.QueryRow(t.ctx, sqlEnsurePerson, key.Channel, key.ExternalID, t.now), &p, &wrapped, &fresh); err != nil {
		return 0, fmt.Errorf("storage: enqueue to: %w", err)
	}
	if fresh {
		k, err := t.db.sealer.NewPersonKey(t.ctx, p.ID)
		if err != nil {
			return 0, fmt.Errorf("storage: enqueue to: new person key: %w", err)
		}
		if k != nil {
			wrapped = k
			t.ops = append(t.ops, txOp{sql: `UPDATE people SET data_key = $2 WHERE id = $1`, args: []any{p.ID, k}})
		}
	}
	c, err := t.db.cipherFor(t.ctx, p.ID, wrapped)
	if err != nil {
		return 0, fmt.Errorf("storage: enqueue to: %w", err)
	}
	for _, out := range m {
		payload, err := seal(c, out.Payload)
		if err != nil {
			return 0, fmt.Errorf("storage: enqueue to: seal: %w", err)
		}
		notBefore := out.NotBefore
		if notBefore.IsZero() {
			notBefore = t.now
		}
		t.ops = append(t.ops, txOp{sql: sqlEnqueue, args: []any{p.ID, p.ChatID, out.Kind, payload, out.Priority, out.Prompt, notBefore, t.now}})
		t.otherQueued = true
	}
	return p.ID, nil
}

// Row is one result row of QueryRow.
type Row interface {
	Scan(dest ...any) error
}

// QueryRow runs a read inside the turn's transaction right away (under the
// person's lock). It does not see what this turn buffered (Exec, Enqueue, ...),
// which is written only when fn returns. pgx.ErrNoRows is reported as
// ErrNotFound.
func (t *Tx) QueryRow(sql string, args ...any) Row {
	t.mustBeOpen()
	return notFoundRow{t.conn.QueryRow(t.ctx, sql, args...)}
}

// Query runs a read inside the turn's transaction right away and calls each
// for every row.
func (t *Tx) Query(sql string, args []any, each func(Row) error) error {
	t.mustBeOpen()
	rows, err := t.conn.Query(t.ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("storage: query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: query: %w", err)
	}
	return nil
}

type notFoundRow struct{ row pgx.Row }

func (r notFoundRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("storage: query: %w", err)
	}
	return nil
}

// Seal seals b with the person's cipher, for columns of later features.
func (t *Tx) Seal(b []byte) ([]byte, error) {
	out, err := seal(t.cipher, b)
	if err != nil {
		return nil, fmt.Errorf("storage: seal: %w", err)
	}
	return out, nil
}

// Open opens what Seal sealed.
func (t *Tx) Open(b []byte) ([]byte, error) {
	out, err := t.cipher.Open(b)
	if err != nil {
		return nil, fmt.Errorf("storage: open: %w", err)
	}
	return out, nil
}

// Now returns the time of this turn: the store's clock read once when the
// turn began. Every timestamp the turn writes is this time.
func (t *Tx) Now() time.Time { return t.now }
