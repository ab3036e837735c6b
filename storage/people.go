package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PersonKey names a person on a channel ("telegram", "shell", ...) by the
// channel's own id for them.
type PersonKey struct {
	Channel    string
	ExternalID int64
}

// Person is a person the bot talks to.
type Person struct {
	ID                 int64
	Channel            string
	ExternalID, ChatID int64
	Lang               string
	Active             bool
	ConsentAt          *time.Time // nil: no consent given, or withdrawn
	ConsentVersion     string
	CreatedAt          time.Time
	LastSeenAt         time.Time
}

const personColumns = `id, channel, external_id, chat_id, lang, active, consent_at, consent_version, created_at, last_seen_at`

// scanPerson scans personColumns, optionally followed by more destinations.
func scanPerson(row pgx.Row, p *Person, more ...any) error {
	var version *string
	dest := append([]any{&p.ID, &p.Channel, &p.ExternalID, &p.ChatID, &p.Lang, &p.Active,
		&p.ConsentAt, &version, &p.CreatedAt, &p.LastSeenAt}, more...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	p.ConsentVersion = ""
	if version != nil {
		p.ConsentVersion = *version
	}
	return nil
}

// FindPerson returns the person with key, or an error wrapping ErrNotFound.
func (db *DB) FindPerson(ctx context.Context, key PersonKey) (Person, error) {
	var p Person
	err := scanPerson(db.pool.QueryRow(ctx,
		`SELECT `+personColumns+` FROM people WHERE channel = $1 AND external_id = $2`,
		key.Channel, key.ExternalID), &p)
	if errors.Is(err, pgx.ErrNoRows) {
		return Person{}, fmt.Errorf("storage: find person: %w", ErrNotFound)
	}
	if err != nil {
		return Person{}, fmt.Errorf("storage: find person: %w", err)
	}
	return p, nil
}

// SetActive marks a person active or not outside a turn, e.g. when delivery
// learns that the person blocked the bot. It returns an error wrapping
// ErrNotFound when there is no such person.
func (db *DB) SetActive(ctx context.Context, personID int64, active bool) error {
	tag, err := db.pool.Exec(ctx, `UPDATE people SET active = $2 WHERE id = $1`, personID, active)
	if err != nil {
		return fmt.Errorf("storage: set active: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("storage: set active: person %d: %w", personID, ErrNotFound)
	}
	return nil
}
