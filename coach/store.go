package coach

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stilstaan/stilstaan/storage"
)

// Everything the coach review reads or writes outside a turn is here. A flag
// is visible only while its person has consented to coach review
// (people.consent_at IS NOT NULL); every query that returns a flag says so.

// flag is a flag as coaches see it, with what the dashboard needs of its
// person.
type flag struct {
	ID           int64
	PersonID     int64
	CreatedAt    time.Time
	Level        string
	Category     string
	Rule         string
	Status       string
	ReviewedAt   *time.Time
	ReviewedBy   *int64
	TranscriptID *int64
	Exercise     string
	Step         string
	RunState     string
	// Of the person:
	Channel    string
	ExternalID int64
	Lang       string
	Active     bool
}

const flagColumns = `f.id, f.person_id, f.created_at, f.level, f.category, f.rule, f.status, f.reviewed_at, f.reviewed_by,
f.transcript_id, f.exercise, f.step, f.run_state, p.channel, p.external_id, p.lang, p.active`

// flagOrder puts open flags first, then the most serious, then the newest.
const flagOrder = `ORDER BY (f.status = 'open') DESC,
CASE f.level WHEN 'acute' THEN 0 WHEN 'elevated' THEN 1 ELSE 2 END, f.created_at DESC, f.id DESC`

const sqlListFlags = `SELECT ` + flagColumns + `
FROM flags f JOIN people p ON p.id = f.person_id
WHERE p.consent_at IS NOT NULL AND ($1 = '' OR f.level = $1) AND ($2 = '' OR f.status = $2)
` + flagOrder + `
LIMIT $3`

const sqlFlag = `SELECT ` + flagColumns + `
FROM flags f JOIN people p ON p.id = f.person_id
WHERE f.id = $1 AND p.consent_at IS NOT NULL`

const sqlPersonFlags = `SELECT ` + flagColumns + `
FROM flags f JOIN people p ON p.id = f.person_id
WHERE f.person_id = $1 AND f.id <> $2 AND p.consent_at IS NOT NULL
ORDER BY f.created_at DESC, f.id DESC
LIMIT $3`

func scanFlag(row storage.Row) (flag, error) {
	var f flag
	err := row.Scan(&f.ID, &f.PersonID, &f.CreatedAt, &f.Level, &f.Category, &f.Rule, &f.Status, &f.ReviewedAt, &f.ReviewedBy,
		&f.TranscriptID, &f.Exercise, &f.Step, &f.RunState, &f.Channel, &f.ExternalID, &f.Lang, &f.Active)
	return f, err
}

// listFlags returns at most limit flags; level and status filter when not
// empty.
func (t *Team) listFlags(ctx context.Context, level, status string, limit int) ([]flag, error) {
	rows, err := t.db.Pool().Query(ctx, sqlListFlags, level, status, limit)
	if err != nil {
		return nil, fmt.Errorf("coach: list flags: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (flag, error) { return scanFlag(r) })
	if err != nil {
		return nil, fmt.Errorf("coach: list flags: %w", err)
	}
	return out, nil
}

// flag returns one visible flag, or an error wrapping storage.ErrNotFound
// when there is no such flag or its person has not consented.
func (t *Team) flag(ctx context.Context, id int64) (flag, error) {
	f, err := scanFlag(t.db.Pool().QueryRow(ctx, sqlFlag, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return flag{}, fmt.Errorf("coach: flag %d: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return flag{}, fmt.Errorf("coach: flag %d: %w", id, err)
	}
	return f, nil
}

// personFlags returns the person's other flags, newest first.
func (t *Team) personFlags(ctx context.Context, personID, except int64) ([]flag, error) {
	rows, err := t.db.Pool().Query(ctx, sqlPersonFlags, personID, except, 50)
	if err != nil {
		return nil, fmt.Errorf("coach: person flags: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (flag, error) { return scanFlag(r) })
	if err != nil {
		return nil, fmt.Errorf("coach: person flags: %w", err)
	}
	return out, nil
}

// note is a coach's note, opened.
type note struct {
	ID      int64
	FlagID  int64
	CoachID int64
	At      time.Time
	Kind    string // "note" or "review"
	Text    string
}

// cipher returns the person's cipher, for notes.
func (t *Team) cipher(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, personID int64) (storage.Cipher, error) {
	var wrapped []byte
	if err := q.QueryRow(ctx, `SELECT data_key FROM people WHERE id = $1`, personID).Scan(&wrapped); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("person %d: %w", personID, storage.ErrNotFound)
		}
		return nil, err
	}
	c, err := t.db.Sealer().Cipher(ctx, personID, wrapped)
	if err != nil {
		return nil, fmt.Errorf("cipher for person %d: %w", personID, err)
	}
	return c, nil
}

// notes returns the notes about a person, oldest first.
func (t *Team) notes(ctx context.Context, personID int64) ([]note, error) {
	pool := t.db.Pool()
	rows, err := pool.Query(ctx, `SELECT id, flag_id, coach_id, at, kind, body FROM coach_notes WHERE person_id = $1 ORDER BY id`, personID)
	if err != nil {
		return nil, fmt.Errorf("coach: notes: %w", err)
	}
	type sealed struct {
		note
		body []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sealed, error) {
		var n sealed
		err := r.Scan(&n.ID, &n.FlagID, &n.CoachID, &n.At, &n.Kind, &n.body)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("coach: notes: %w", err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	c, err := t.cipher(ctx, pool, personID)
	if err != nil {
		return nil, fmt.Errorf("coach: notes: %w", err)
	}
	out := make([]note, 0, len(list))
	for _, n := range list {
		text, err := c.Open(n.body)
		if err != nil {
			return nil, fmt.Errorf("coach: notes: open note %d: %w", n.ID, err)
		}
		n.Text = string(text)
		out = append(out, n.note)
	}
	return out, nil
}

// auditEntry is one row of the coach audit.
type auditEntry struct {
	CoachID  int64
	Action   string
	FlagID   int64 // 0: none
	PersonID int64 // 0: none
	Detail   string
}

// Audit actions.
const (
	actLogin          = "login"
	actLoginRefused   = "login_refused"
	actLogout         = "logout"
	actListFlags      = "list_flags"
	actViewFlag       = "view_flag"
	actViewMood       = "view_mood"
	actNote           = "note"
	actReview         = "review"
	actMessage        = "message"
	actTelegramFlags  = "telegram_flags"
	actTelegramLink   = "telegram_login_link"
	actRefusedNoCoach = "refused_not_a_coach"
)

const sqlAudit = `INSERT INTO coach_audit (at, coach_id, action, flag_id, person_id, detail)
VALUES ($1, $2, $3, NULLIF($4, 0::bigint), NULLIF($5, 0::bigint), $6)`

func (e auditEntry) args(at time.Time) []any {
	return []any{at, e.CoachID, e.Action, e.FlagID, e.PersonID, e.Detail}
}

// audit writes one audit row on its own.
func (t *Team) audit(ctx context.Context, e auditEntry) error {
	if _, err := t.db.Pool().Exec(ctx, sqlAudit, e.args(t.now())...); err != nil {
		return fmt.Errorf("coach: audit %s: %w", e.Action, err)
	}
	return nil
}

// inTx runs fn in a transaction of its own.
func (t *Team) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := t.db.Pool().Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// addNote stores a note about a flag, sealed with the person's key, with its
// audit row.
func (t *Team) addNote(ctx context.Context, coachID int64, f flag, kind, text string) error {
	err := t.inTx(ctx, func(tx pgx.Tx) error {
		if err := insertNote(ctx, t, tx, coachID, f, kind, text); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, sqlAudit, auditEntry{CoachID: coachID, Action: actNote, FlagID: f.ID, PersonID: f.PersonID}.args(t.now())...)
		return err
	})
	if err != nil {
		return fmt.Errorf("coach: add note: %w", err)
	}
	return nil
}

func insertNote(ctx context.Context, t *Team, tx pgx.Tx, coachID int64, f flag, kind, text string) error {
	c, err := t.cipher(ctx, tx, f.PersonID)
	if err != nil {
		return err
	}
	body, err := c.Seal([]byte(text))
	if err != nil {
		return fmt.Errorf("seal note: %w", err)
	}
	if body == nil {
		body = []byte{}
	}
	_, err = tx.Exec(ctx, `INSERT INTO coach_notes (flag_id, person_id, coach_id, at, kind, body) VALUES ($1, $2, $3, $4, $5, $6)`,
		f.ID, f.PersonID, coachID, t.now(), kind, body)
	return err
}

// errAlreadyReviewed is returned by review for a flag that is not open.
var errAlreadyReviewed = errors.New("coach: flag was already reviewed")

// review marks an open flag reviewed, with the note (if any) and the audit
// row, all or nothing.
func (t *Team) review(ctx context.Context, coachID int64, f flag, text string) error {
	err := t.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE flags SET status = 'reviewed', reviewed_at = $2, reviewed_by = $3 WHERE id = $1 AND status = 'open'`,
			f.ID, t.now(), coachID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errAlreadyReviewed
		}
		if text != "" {
			if err := insertNote(ctx, t, tx, coachID, f, "review", text); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, sqlAudit, auditEntry{CoachID: coachID, Action: actReview, FlagID: f.ID, PersonID: f.PersonID}.args(t.now())...)
		return err
	})
	if err != nil {
		return fmt.Errorf("coach: review: %w", err)
	}
	return nil
}

// session is a logged-in coach.
type session struct {
	Coach   Coach
	Token   string // the cookie's value; the CSRF token derives from it
	Expires time.Time
}

// errNoSession means the request has no usable session.
var errNoSession = errors.New("coach: no session")

// lookupSession finds the coach of a session token that has not expired.
func (t *Team) lookupSession(ctx context.Context, token string) (coachID int64, expires time.Time, err error) {
	err = t.db.Pool().QueryRow(ctx, `SELECT coach_id, expires_at FROM coach_sessions WHERE token_hash = $1 AND expires_at > $2`,
		hashToken(token), t.now()).Scan(&coachID, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, errNoSession
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("coach: session: %w", err)
	}
	return coachID, expires, nil
}

// endSession deletes a session.
func (t *Team) endSession(ctx context.Context, token string) error {
	if _, err := t.db.Pool().Exec(ctx, `DELETE FROM coach_sessions WHERE token_hash = $1`, hashToken(token)); err != nil {
		return fmt.Errorf("coach: end session: %w", err)
	}
	return nil
}

// Why a login link was refused.
const (
	refusedInvalid  = "invalid"
	refusedUsed     = "used"
	refusedExpired  = "expired"
	refusedNotCoach = "not_a_coach"
)

// refusal is a login that did not happen, with the reason shown to the
// person at the browser.
type refusal struct{ reason string }

func (r *refusal) Error() string { return "coach: login refused: " + r.reason }

// login consumes a verified link token for a coach and opens a session, in
// one transaction with its audit row. The token is used at most once: the
// update that consumes it only matches an unused, unexpired row.
func (t *Team) login(ctx context.Context, token string, coachID int64) (session, error) {
	now := t.now()
	sess := session{Expires: now.Add(t.cfg.SessionTTL)}
	var err error
	if sess.Token, err = randomToken(32); err != nil {
		return session{}, err
	}
	hash := hashToken(token)
	var refused *refusal
	err = t.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE coach_login_links SET used_at = $3
WHERE token_hash = $1 AND coach_id = $2 AND used_at IS NULL AND expires_at > $3`, hash, coachID, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			refused = &refusal{reason: t.whyRefused(ctx, tx, hash, now)}
			return refused
		}
		if _, err := tx.Exec(ctx, `DELETE FROM coach_sessions WHERE expires_at < $1`, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM coach_login_links WHERE expires_at < $1`, now.Add(-24*time.Hour)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO coach_sessions (token_hash, coach_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			hashToken(sess.Token), coachID, now, sess.Expires); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, sqlAudit, auditEntry{CoachID: coachID, Action: actLogin}.args(now)...)
		return err
	})
	if refused != nil {
		if aerr := t.audit(ctx, auditEntry{CoachID: coachID, Action: actLoginRefused, Detail: refused.reason}); aerr != nil {
			return session{}, aerr
		}
		return session{}, refused
	}
	if err != nil {
		return session{}, fmt.Errorf("coach: login: %w", err)
	}
	return sess, nil
}

// whyRefused tells a used link from an expired or unknown one.
func (t *Team) whyRefused(ctx context.Context, tx pgx.Tx, hash []byte, now time.Time) string {
	var used *time.Time
	var expires time.Time
	err := tx.QueryRow(ctx, `SELECT used_at, expires_at FROM coach_login_links WHERE token_hash = $1`, hash).Scan(&used, &expires)
	switch {
	case err != nil:
		return refusedInvalid
	case used != nil:
		return refusedUsed
	case !expires.After(now):
		return refusedExpired
	}
	return refusedInvalid
}
