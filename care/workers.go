package care

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/safety"
	"github.com/stilstaan/stilstaan/storage"
)

type due struct {
	flagID, personID int64
	key              storage.PersonKey
	lang, level      string
	category         string
	n                int
}

// Reannounce tells the coaches again about acute flags that stayed open
// longer than ReannounceAfter. It returns how many flags were announced.
func (c *Care) Reannounce(ctx context.Context, now time.Time) (int, error) {
	if len(c.cfg.Coaches) == 0 {
		return 0, nil
	}
	rows, err := c.db.Pool().Query(ctx, `SELECT f.id, f.person_id, p.channel, p.external_id, p.lang, f.level, f.category, f.announcements
FROM flags f JOIN people p ON p.id = f.person_id
WHERE f.status = 'open' AND f.level = 'acute' AND p.consent_at IS NOT NULL
  AND (f.announced_at IS NULL OR f.announced_at <= $1)
ORDER BY f.id LIMIT 100`, now.Add(-c.cfg.ReannounceAfter))
	if err != nil {
		return 0, fmt.Errorf("care: reannounce: %w", err)
	}
	list, err := scanDue(rows)
	if err != nil {
		return 0, fmt.Errorf("care: reannounce: %w", err)
	}
	sent := 0
	for _, d := range list {
		source := fmt.Sprintf("reannounce:%d:%d", d.flagID, d.n)
		dup, err := c.db.Turn(ctx, d.key, source, func(tx *storage.Tx) error {
			if err := c.alert(tx, d.flagID, d.personID, d.level, d.category, now); err != nil {
				return err
			}
			return tx.Exec(ctx, `UPDATE flags SET announced_at = $2, announcements = announcements + 1 WHERE id = $1`, d.flagID, now)
		})
		if err != nil {
			return sent, fmt.Errorf("care: reannounce flag %d: %w", d.flagID, err)
		}
		if !dup {
			sent++
		}
	}
	return sent, nil
}

// FollowUps sends the gentle next-day check-in to people who declined help
// after an acute flag, once per flag.
func (c *Care) FollowUps(ctx context.Context, now time.Time) (int, error) {
	rows, err := c.db.Pool().Query(ctx, `SELECT f.id, f.person_id, p.channel, p.external_id, p.lang, f.level, f.category, 0
FROM flags f JOIN people p ON p.id = f.person_id
WHERE f.follow_up_due <= $1 AND f.follow_up_sent_at IS NULL AND p.active
ORDER BY f.id LIMIT 100`, now)
	if err != nil {
		return 0, fmt.Errorf("care: follow-ups: %w", err)
	}
	list, err := scanDue(rows)
	if err != nil {
		return 0, fmt.Errorf("care: follow-ups: %w", err)
	}
	sent := 0
	for _, d := range list {
		dup, err := c.db.Turn(ctx, d.key, fmt.Sprintf("followup:%d", d.flagID), func(tx *storage.Tx) error {
			payload, err := json.Marshal(conversation.Envelope{Text: followUpText(d.lang, c)})
			if err != nil {
				return err
			}
			tx.Enqueue(storage.Outgoing{Kind: conversation.KindMessage, Payload: payload, Priority: conversation.PriorityScheduled})
			tx.AddTranscript(storage.Entry{Direction: "out", Kind: "follow_up", Text: followUpText(d.lang, c)})
			return tx.Exec(ctx, `UPDATE flags SET follow_up_sent_at = $2 WHERE id = $1`, d.flagID, now)
		})
		if err != nil {
			return sent, fmt.Errorf("care: follow-up flag %d: %w", d.flagID, err)
		}
		if !dup {
			sent++
		}
	}
	return sent, nil
}

// Run re-announces and follows up every interval until ctx is done; notify
// wakes message delivery when something was queued.
func (c *Care) Run(ctx context.Context, interval time.Duration, now func() time.Time, notify func()) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		a, err := c.Reannounce(ctx, now())
		if err != nil && ctx.Err() == nil {
			c.log.Error("care: reannounce", slog.Any("error", err))
		}
		b, err := c.FollowUps(ctx, now())
		if err != nil && ctx.Err() == nil {
			c.log.Error("care: follow-ups", slog.Any("error", err))
		}
		if a+b > 0 && notify != nil {
			notify()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

type rowsScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

func scanDue(rows rowsScanner) ([]due, error) {
	defer rows.Close()
	var out []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.flagID, &d.personID, &d.key.Channel, &d.key.ExternalID, &d.lang, &d.level, &d.category, &d.n); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func followUpText(lang string, c *Care) string {
	return safety.DeclinedFollowUp(lang, c.cfg.Helplines)
}
