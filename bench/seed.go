package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/privacy"
	"github.com/stilstaan/stilstaan/storage"
)

// Ranges of Telegram chat ids, so that the people of each part of the run
// never meet.
const (
	chatsStored = 1_000_000_000 // people stored for the memory measurement and fan-out
	chatsTurns  = 10_000        // the turn path's people
	chatsCrisis = 500_000       // the crisis path's people
	chatsProbe  = 700_000       // the round-trip probe's people
)

// storedState is the conversation state of a stored person: onboarded,
// with consent, after a few exercises, with no question open (a question
// would be edited away by the next turn, and the bench never sent it).
func storedState() ([]byte, error) {
	st := dialogs.State{Lang: "nl", Stage: dialogs.StageReady, Consent: true, Done: 3}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("bench: stored state: %w", err)
	}
	return b, nil
}

// seedPeople stores n onboarded people with chat ids from first on, each
// with a data key of their own and their state sealed with it, the way the
// bot stores them, in two COPY statements (people, conversations).
func seedPeople(ctx context.Context, db *storage.DB, sealer *privacy.Sealer, first int64, n int) error {
	if n <= 0 {
		return nil
	}
	state, err := storedState()
	if err != nil {
		return err
	}
	pool := db.Pool()
	var base int64
	if err := pool.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('people', 'id'))`).Scan(&base); err != nil {
		return fmt.Errorf("bench: seed people: %w", err)
	}
	if _, err := pool.Exec(ctx, `SELECT setval(pg_get_serial_sequence('people', 'id'), $1)`, base+int64(n)-1); err != nil {
		return fmt.Errorf("bench: seed people: %w", err)
	}
	now := time.Now()
	consentAt := now.Add(-24 * time.Hour)
	keys := make([][]byte, n)
	states := make([][]byte, n)
	for i := range n {
		id := base + int64(i)
		if keys[i], err = sealer.NewPersonKey(ctx, id); err != nil {
			return fmt.Errorf("bench: seed people: %w", err)
		}
		c, err := sealer.Cipher(ctx, id, keys[i])
		if err != nil {
			return fmt.Errorf("bench: seed people: %w", err)
		}
		if states[i], err = c.Seal(state); err != nil {
			return fmt.Errorf("bench: seed people: %w", err)
		}
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("bench: seed people: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	i := 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"people"},
		[]string{"id", "channel", "external_id", "chat_id", "lang", "active", "consent_at", "consent_version",
			"data_key", "created_at", "last_seen_at", "last_active_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			chat := first + int64(i)
			row := []any{base + int64(i), conversation.ChannelTelegram, chat, chat, "nl", true, consentAt,
				conversation.ConsentVersion, keys[i], consentAt, consentAt, consentAt}
			i++
			return row, nil
		}))
	if err != nil {
		return fmt.Errorf("bench: seed people: %w", err)
	}
	j := 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"conversations"}, []string{"person_id", "state", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if j == n {
				return nil, nil
			}
			row := []any{base + int64(j), states[j], consentAt}
			j++
			return row, nil
		}))
	if err != nil {
		return fmt.Errorf("bench: seed conversations: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("bench: seed people: %w", err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE people; ANALYZE conversations`); err != nil {
		return fmt.Errorf("bench: seed people: analyze: %w", err)
	}
	return nil
}

// seedDueCheckins gives the stored people with chat ids first..first+n-1 a
// daily check-in that fell due a minute ago (Europe/Amsterdam), with no
// evening question and no weekly summary, in one statement.
func seedDueCheckins(ctx context.Context, db *storage.DB, first int64, n int, zone *time.Location) (int, error) {
	due := time.Now().Add(-time.Minute).Truncate(time.Minute)
	local := due.In(zone)
	tag, err := db.Pool().Exec(ctx, `
INSERT INTO checkin_schedules (person_id, enabled, hour, minute, zone, evening, weekly, next_due_at, updated_at)
SELECT id, true, $3, $4, $5, false, false, $6, now()
FROM people WHERE channel = 'telegram' AND external_id >= $1 AND external_id < $1 + $2
ON CONFLICT (person_id) DO UPDATE SET enabled = true, hour = EXCLUDED.hour, minute = EXCLUDED.minute,
    zone = EXCLUDED.zone, evening = false, weekly = false, next_due_at = EXCLUDED.next_due_at,
    last_local_day = NULL, attempt = 0, evening_due_at = NULL, weekly_due_at = NULL,
    claimed_until = NULL, claim = NULL, updated_at = now()`,
		first, n, local.Hour(), local.Minute(), zone.String(), due)
	if err != nil {
		return 0, fmt.Errorf("bench: seed check-ins: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
