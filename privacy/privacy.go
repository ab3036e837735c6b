package privacy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

// ButtonPrefix starts the data of every button this package makes.
const ButtonPrefix = "pv"

// Defaults of the person-facing side.
const (
	DefaultRetentionDays = 365
	DefaultWarnDays      = 14
	// DefaultTokenTTL is how long the confirmation button of /delete works.
	DefaultTokenTTL = 10 * time.Minute
	// activityStep is how stale people.last_active_at may get before a turn
	// refreshes it: retention counts in days, so most turns write nothing.
	activityStep = time.Hour
)

// Privacy handles /privacy, /export and /delete with their buttons, and keeps
// the consent history and the time of each person's last input.
type Privacy struct {
	lib           *dialogs.Library
	log           *slog.Logger
	loc           *time.Location
	retentionDays int
	tokenTTL      time.Duration
	random        io.Reader
	forget        func(personID int64)
}

// Option configures New.
type Option func(*Privacy)

// WithLibrary names the exercises and their questions in exports.
func WithLibrary(lib *dialogs.Library) Option { return func(p *Privacy) { p.lib = lib } }

// WithLogger sets the logger. Only ids and counts are logged.
func WithLogger(l *slog.Logger) Option { return func(p *Privacy) { p.log = l } }

// WithLocation sets the time zone dates are shown in (default UTC).
func WithLocation(loc *time.Location) Option { return func(p *Privacy) { p.loc = loc } }

// WithRetentionDays says after how many days without contact data is erased
// (shown by /privacy; the Retention worker enforces it).
func WithRetentionDays(n int) Option { return func(p *Privacy) { p.retentionDays = n } }

// WithTokenTTL sets how long the confirmation button of /delete works.
func WithTokenTTL(d time.Duration) Option { return func(p *Privacy) { p.tokenTTL = d } }

// New returns the privacy feature for the store db. When db's Sealer can
// forget keys (as *Sealer can), an erased person's key is also dropped from
// memory.
func New(db *storage.DB, opts ...Option) *Privacy {
	p := &Privacy{log: slog.Default(), loc: time.UTC, retentionDays: DefaultRetentionDays,
		tokenTTL: DefaultTokenTTL, random: rand.Reader, forget: forgetter(db)}
	for _, o := range opts {
		o(p)
	}
	return p
}

// forgetter returns the Forget of db's sealer, or a no-op.
func forgetter(db *storage.DB) func(int64) {
	if db != nil {
		if f, ok := db.Sealer().(interface{ Forget(int64) }); ok {
			return f.Forget
		}
	}
	return func(int64) {}
}

// ServiceOptions registers the commands, the buttons and the hook with a
// conversation service.
func (p *Privacy) ServiceOptions() []conversation.Option {
	return []conversation.Option{
		conversation.WithCommand(p.privacyCommand, "privacy"),
		conversation.WithCommand(p.exportCommand, "export"),
		conversation.WithCommand(p.deleteCommand, "delete"),
		conversation.WithButton(ButtonPrefix, p.button),
		conversation.WithHook(p.hook),
	}
}

func (p *Privacy) privacyCommand(_ context.Context, t *conversation.Turn, _ string) error {
	return p.showInfo(t)
}

func (p *Privacy) exportCommand(ctx context.Context, t *conversation.Turn, _ string) error {
	return p.export(ctx, t)
}

func (p *Privacy) deleteCommand(ctx context.Context, t *conversation.Turn, _ string) error {
	return p.askDelete(ctx, t)
}

// showInfo sends what is stored, where, how, who reads it, and the consent
// with a switch to change it.
func (p *Privacy) showInfo(t *conversation.Turn) error {
	lang := t.Lang()
	person := t.Tx.Person()
	var consent string
	var rows [][]dialogs.Button
	switch {
	case t.State.Stage != dialogs.StageReady:
		consent = text("consent.pending", lang)
	case t.State.Consent && person.ConsentAt != nil:
		consent = text("consent.given", lang, "{date}", formatDate(*person.ConsentAt, lang, p.loc), "{version}", person.ConsentVersion)
	case t.State.Consent:
		consent = text("consent.given", lang, "{date}", "?", "{version}", person.ConsentVersion)
	default:
		consent = text("consent.none", lang)
	}
	if t.State.Stage == dialogs.StageReady {
		if t.State.Consent {
			rows = append(rows, []dialogs.Button{{Label: text("button.withdraw", lang), Data: ButtonPrefix + ":c:n"}})
		} else {
			rows = append(rows, []dialogs.Button{{Label: text("button.give", lang), Data: ButtonPrefix + ":c:y"}})
		}
	}
	rows = append(rows,
		[]dialogs.Button{{Label: text("button.export", lang), Data: ButtonPrefix + ":x"}},
		[]dialogs.Button{{Label: text("button.delete", lang), Data: ButtonPrefix + ":d"}})
	info := text("info", lang, "{consent}", consent, "{days}", strconv.Itoa(p.retentionDays))
	return t.Send(conversation.Envelope{Text: info, Buttons: rows, Choice: true}, t.In.Priority)
}

// button handles the buttons this package made; data is what follows "pv:".
func (p *Privacy) button(ctx context.Context, t *conversation.Turn, data string) (string, error) {
	lang := t.Lang()
	action, arg, _ := strings.Cut(data, ":")
	switch action {
	case "c":
		return p.setConsent(ctx, t, arg == "y")
	case "x":
		t.Out.Heard = text("button.export", lang)
		if err := p.export(ctx, t); err != nil {
			return "", err
		}
		return text("notice.export", lang), nil
	case "d":
		t.Out.Heard = text("button.delete", lang)
		return "", p.askDelete(ctx, t)
	case "del":
		return p.confirmDelete(ctx, t, arg)
	case "keep":
		return p.keep(ctx, t, arg)
	}
	return text("notice.stale", lang), nil
}

// setConsent gives or withdraws consent. The engine's State.Consent decides
// from the next input on whether free text is stored; the conversation
// service writes people.consent_at and consent_version because
// ConsentChanged is set, and the hook adds the change to the history.
func (p *Privacy) setConsent(ctx context.Context, t *conversation.Turn, yes bool) (string, error) {
	lang := t.Lang()
	if t.State.Stage != dialogs.StageReady {
		return text("notice.pending", lang), nil
	}
	if t.State.Consent == yes {
		return text("notice.same", lang), nil
	}
	t.State.Consent = yes
	t.Out.ConsentChanged = true
	msg, notice, label := "withdrawn.now", "notice.withdrawn", "button.withdraw"
	if yes {
		msg, notice, label = "given.now", "notice.given", "button.give"
	}
	t.Out.Heard = text(label, lang)
	if err := t.Send(conversation.Envelope{Text: text(msg, lang)}, t.In.Priority); err != nil {
		return "", err
	}
	p.log.InfoContext(ctx, "privacy: consent changed", slog.Int64("person_id", t.Tx.Person().ID), slog.Bool("consent", yes))
	return text(notice, lang), nil
}

// askDelete asks for confirmation with two buttons that carry a fresh
// single-use token; only its hash is stored. A new /delete voids the
// person's earlier token. Expired tokens of everyone are pruned here too:
// /delete is rare, and the expires_at index makes it cheap.
func (p *Privacy) askDelete(ctx context.Context, t *conversation.Turn) error {
	var raw [16]byte
	if _, err := io.ReadFull(p.random, raw[:]); err != nil {
		return fmt.Errorf("privacy: delete token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	id := t.Tx.Person().ID
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM privacy_tokens WHERE person_id = $1 OR expires_at < $2`, []any{id, t.Now}},
		{`INSERT INTO privacy_tokens (token_hash, person_id, purpose, created_at, expires_at) VALUES ($1, $2, 'delete', $3, $4)`,
			[]any{tokenHash(token), id, t.Now, t.Now.Add(p.tokenTTL)}},
	} {
		if err := t.Tx.Exec(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("privacy: delete token: %w", err)
		}
	}
	lang := t.Lang()
	minutes := strconv.Itoa(int((p.tokenTTL + time.Minute - 1) / time.Minute))
	return t.Send(conversation.Envelope{
		Text: text("delete.confirm", lang, "{minutes}", minutes),
		Buttons: [][]dialogs.Button{
			{{Label: text("button.delete_yes", lang), Data: ButtonPrefix + ":del:" + token}},
			{{Label: text("button.delete_no", lang), Data: ButtonPrefix + ":keep:" + token}},
		},
		Choice: true,
	}, t.In.Priority)
}

// useToken consumes the person's token: it is deleted whether or not it is
// still valid (the deletion rolls back with the turn if the turn fails).
func (p *Privacy) useToken(t *conversation.Turn, token string) (valid bool, err error) {
	var expires time.Time
	err = t.Tx.QueryRow(`DELETE FROM privacy_tokens WHERE token_hash = $1 AND person_id = $2 AND purpose = 'delete' RETURNING expires_at`,
		tokenHash(token), t.Tx.Person().ID).Scan(&expires)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("privacy: use token: %w", err)
	}
	return t.Now.Before(expires), nil
}

// confirmDelete erases the person when the token is theirs and fresh.
//
// The farewell is the answer to the button press (the notice), not a
// message: every outbox row of the person goes with the person, so a message
// queued in this turn would never be delivered. The transport shows the
// notice after the turn committed, so the person sees it exactly when the
// erasure happened, and nothing about them has to outlive it.
func (p *Privacy) confirmDelete(ctx context.Context, t *conversation.Turn, token string) (string, error) {
	lang := t.Lang()
	ok, err := p.useToken(t, token)
	if err != nil {
		return "", err
	}
	if !ok {
		if err := t.Send(conversation.Envelope{Text: text("delete.expired", lang)}, t.In.Priority); err != nil {
			return "", err
		}
		return text("notice.expired", lang), nil
	}
	if err := erase(ctx, t.Tx, t.Now, "requested by the person", p.forget); err != nil {
		return "", err
	}
	p.log.InfoContext(ctx, "privacy: person erased on request", slog.Int64("person_id", t.Tx.Person().ID))
	return text("delete.done", lang), nil
}

func (p *Privacy) keep(_ context.Context, t *conversation.Turn, token string) (string, error) {
	lang := t.Lang()
	if _, err := p.useToken(t, token); err != nil {
		return "", err
	}
	t.Out.Heard = text("button.delete_no", lang)
	if err := t.Send(conversation.Envelope{Text: text("delete.kept", lang)}, t.In.Priority); err != nil {
		return "", err
	}
	return text("notice.kept", lang), nil
}

// hook runs in every turn. A person's own input (not a timer, a check-in or
// a reflective reply) moves their last activity, which retention counts
// from, and clears a retention warning. A consent change is added to the
// history. Both statements find no row once the person was erased earlier in
// the same turn.
func (p *Privacy) hook(ctx context.Context, t *conversation.Turn) error {
	id := t.Tx.Person().ID
	own := t.In.Priority != conversation.PriorityScheduled // a weekly summary is a scheduled command turn
	switch t.In.Input.Kind {
	case dialogs.InputText, dialogs.InputButton, dialogs.InputCommand, dialogs.InputUnsupported:
		if !own {
			break
		}
		if err := t.Tx.Exec(ctx, `UPDATE people SET last_active_at = $2, retention_warned_at = NULL
WHERE id = $1 AND (last_active_at IS NULL OR last_active_at < $3 OR retention_warned_at IS NOT NULL)`,
			id, t.Now, t.Now.Add(-activityStep)); err != nil {
			return fmt.Errorf("privacy: activity: %w", err)
		}
	}
	if t.Out.ConsentChanged {
		if err := t.Tx.Exec(ctx, `INSERT INTO consent_events (person_id, at, given, version)
SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM people WHERE id = $1)`,
			id, t.Now, t.State.Consent, conversation.ConsentVersion); err != nil {
			return fmt.Errorf("privacy: consent history: %w", err)
		}
	}
	return nil
}

func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte("stilstaan/privacy-token/" + token))
	return sum[:]
}
