package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/storage"
)

// DefaultRetentionInterval is how often Run looks for people to warn or erase.
const DefaultRetentionInterval = time.Hour

const day = 24 * time.Hour

// RetentionConfig configures NewRetention.
type RetentionConfig struct {
	// Days without an input of their own after which a person is erased
	// (privacy.retention_days; default 365).
	Days int
	// WarnDays is how long before that the person is told (privacy.warn_days);
	// the erasure never comes sooner than WarnDays after the warning. 0 erases
	// without a warning.
	WarnDays int
	// Batch is how many people are read per query (default 200).
	Batch int
	Log   *slog.Logger
	// Notify wakes message delivery after warnings were queued.
	Notify func()
}

// Retention warns people who have been away long and then erases them the
// way /delete does. Several replicas may run it at once: every decision is
// taken again under the person's lock.
type Retention struct {
	db        *storage.DB
	retention time.Duration
	warn      time.Duration
	batch     int
	log       *slog.Logger
	notify    func()
	forget    func(int64)
}

// RetentionResult counts what one pass did.
type RetentionResult struct {
	Warned, Erased, Failed int
}

// NewRetention returns the retention worker for db.
func NewRetention(db *storage.DB, c RetentionConfig) *Retention {
	if c.Days <= 0 {
		c.Days = DefaultRetentionDays
	}
	c.WarnDays = min(max(c.WarnDays, 0), c.Days-1) // a warning the moment someone falls silent helps nobody
	if c.Batch <= 0 {
		c.Batch = 200
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Notify == nil {
		c.Notify = func() {}
	}
	return &Retention{db: db, retention: time.Duration(c.Days) * day, warn: time.Duration(c.WarnDays) * day,
		batch: c.Batch, log: c.Log, notify: c.Notify, forget: forgetter(db)}
}

// Run runs a pass at once and then every interval until ctx is done.
func (r *Retention) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultRetentionInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if res, err := r.RunOnce(ctx, time.Now()); err != nil && ctx.Err() == nil {
			r.log.ErrorContext(ctx, "privacy: retention pass failed", slog.Any("error", err))
		} else if res.Warned+res.Erased > 0 {
			r.log.InfoContext(ctx, "privacy: retention pass", slog.Int("warned", res.Warned), slog.Int("erased", res.Erased))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

type verdict int

const (
	keep verdict = iota
	warnNow
	eraseNow
)

// decide applies the policy to one person as of now. Rows of people who
// never talked with the bot (a coach's row, made to queue an alert) are left
// alone: nothing in them was written by a person, and erasing them would drop
// alerts on their way.
func (r *Retention) decide(lastActive time.Time, warnedAt *time.Time, talked bool, now time.Time) verdict {
	if !talked || lastActive.After(now.Add(-(r.retention - r.warn))) {
		return keep
	}
	due := !lastActive.After(now.Add(-r.retention))
	switch {
	case r.warn > 0 && warnedAt == nil:
		return warnNow
	case due && (r.warn == 0 || !warnedAt.After(now.Add(-r.warn))):
		return eraseNow
	}
	return keep
}

// errSkip rolls back a turn whose person no longer needs anything.
var errSkip = errors.New("privacy: retention: nothing to do")

// RunOnce warns and erases whoever is due at now, and returns the counts.
// Failures for one person are logged (by id) and counted; the pass goes on
// and then returns an error naming how many failed.
func (r *Retention) RunOnce(ctx context.Context, now time.Time) (RetentionResult, error) {
	var res RetentionResult
	after := int64(0)
	for {
		people, err := r.db.InactivePeople(ctx, now.Add(-(r.retention - r.warn)), after, r.batch)
		if err != nil {
			return res, fmt.Errorf("privacy: retention: %w", err)
		}
		if len(people) == 0 {
			break
		}
		after = people[len(people)-1].ID
		for _, p := range people {
			v := r.decide(p.LastActive, p.WarnedAt, p.Talked, now)
			if v == keep {
				continue
			}
			done, err := r.handle(ctx, p, now)
			switch {
			case errors.Is(err, errSkip):
			case err != nil:
				res.Failed++
				r.log.ErrorContext(ctx, "privacy: retention failed for a person", slog.Int64("person_id", p.ID), slog.Any("error", err))
			case done == warnNow:
				res.Warned++
			case done == eraseNow:
				res.Erased++
				r.log.InfoContext(ctx, "privacy: person erased after inactivity", slog.Int64("person_id", p.ID))
			}
		}
	}
	if res.Warned > 0 {
		r.notify()
	}
	if res.Failed > 0 {
		return res, fmt.Errorf("privacy: retention: %d people could not be warned or erased (see the log)", res.Failed)
	}
	return res, nil
}

// handle takes the person's turn, decides again under their lock, and warns
// or erases them.
func (r *Retention) handle(ctx context.Context, p storage.Inactive, now time.Time) (verdict, error) {
	var done verdict
	_, err := r.db.Turn(ctx, p.Key, "", func(tx *storage.Tx) error {
		if tx.Person().ID != p.ID {
			return errSkip // erased meanwhile; the turn would create a new person: roll back
		}
		var last time.Time
		var warned *time.Time
		var talked bool
		if err := tx.QueryRow(`SELECT COALESCE(last_active_at, created_at), retention_warned_at,
  EXISTS (SELECT 1 FROM conversations WHERE person_id = $1)
FROM people WHERE id = $1`, p.ID).Scan(&last, &warned, &talked); err != nil {
			return err
		}
		done = r.decide(last, warned, talked, now)
		switch done {
		case warnNow:
			return r.warnPerson(ctx, tx, last, now)
		case eraseNow:
			days := strconv.Itoa(int(r.retention / day))
			return erase(ctx, tx, now, "retention: no contact for "+days+" days", r.forget)
		}
		return errSkip
	})
	return done, err
}

// warnPerson queues the warning and records that it was given.
func (r *Retention) warnPerson(ctx context.Context, tx *storage.Tx, lastActive, now time.Time) error {
	eraseAt := lastActive.Add(r.retention)
	if soonest := now.Add(r.warn); eraseAt.Before(soonest) {
		eraseAt = soonest
	}
	days := int((eraseAt.Sub(now) + day - 1) / day)
	msg := text("retention.warning", tx.Person().Lang, "{days}", strconv.Itoa(days))
	payload, err := json.Marshal(conversation.Envelope{Text: msg})
	if err != nil {
		return fmt.Errorf("privacy: retention warning: %w", err)
	}
	tx.Enqueue(storage.Outgoing{Kind: conversation.KindMessage, Payload: payload, Priority: conversation.PriorityScheduled})
	tx.AddTranscript(storage.Entry{Direction: "out", Kind: conversation.KindMessage, Text: msg})
	return tx.Exec(ctx, `UPDATE people SET retention_warned_at = $2 WHERE id = $1`, tx.Person().ID, now)
}
