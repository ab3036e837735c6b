// Package care carries out the safety and care protocol (SAFETY.md) around a
// conversation: it screens every free-text message before the engine, answers
// acute risk with the fixed safety reply, writes flags for the coaches and
// alerts them (never with the message text), re-announces open acute flags,
// and checks in the next day with a person who declined help. It never calls
// an LLM and never waits on the network.
package care

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/safety"
	"github.com/stilstaan/stilstaan/storage"
)

// Flag levels.
const (
	LevelLow      = "low"
	LevelElevated = "elevated"
	LevelAcute    = "acute"
)

// Coach is a member of the coaching team, known by Telegram user id.
type Coach struct {
	ID   int64
	Name string
}

// Config configures the protocol.
type Config struct {
	Helplines safety.Helplines
	Coaches   []Coach
	// DashboardURL is the public address of the coach dashboard; alerts link
	// to the flag there when it is set.
	DashboardURL string
	// PseudonymKey keys the pseudonyms coaches see instead of names.
	PseudonymKey []byte
	// ReannounceAfter is how long an acute flag may stay open before the
	// coaches are told again (default 12 hours).
	ReannounceAfter time.Duration
	// FollowUpAfter is when a person who declined help is checked in with.
	FollowUpAfter time.Duration
}

// Care runs the protocol.
type Care struct {
	cfg        Config
	classifier *safety.Classifier
	db         *storage.DB
	log        *slog.Logger
}

// New returns the protocol for db.
func New(db *storage.DB, cfg Config, log *slog.Logger) (*Care, error) {
	if cfg.Helplines == nil {
		cfg.Helplines = safety.DefaultHelplines()
	}
	if err := cfg.Helplines.Validate(); err != nil {
		return nil, fmt.Errorf("care: helplines: %w", err)
	}
	if cfg.ReannounceAfter <= 0 {
		cfg.ReannounceAfter = 12 * time.Hour
	}
	if cfg.FollowUpAfter <= 0 {
		cfg.FollowUpAfter = 20 * time.Hour
	}
	if log == nil {
		log = slog.Default()
	}
	return &Care{cfg: cfg, classifier: safety.NewClassifier(), db: db, log: log}, nil
}

// Classifier returns the keyword classifier (shared with the LLM guard).
func (c *Care) Classifier() *safety.Classifier { return c.classifier }

// Helplines returns the configured helplines.
func (c *Care) Helplines() safety.Helplines { return c.cfg.Helplines }

// Elevated is the supportive message for strong distress, for the engine.
func (c *Care) Elevated(lang string) string { return safety.ElevatedReply(lang, c.cfg.Helplines) }

// coachTold reports whether coaches will hear of a flag of this person.
func (c *Care) coachTold(st dialogs.State) bool {
	return st.Consent && len(c.cfg.Coaches) > 0
}

// Screen is the conversation's safety screen: it runs on every free-text
// message before the engine.
func (c *Care) Screen(_ context.Context, t *conversation.Turn, text string) (conversation.Screening, error) {
	r := c.classifier.Classify(text)
	lang := t.Lang()
	if t.Before.Lang != "" {
		lang = t.Before.Lang
	}
	sc := conversation.Screening{Level: r.Level.String(), Category: r.Category, Rule: r.Rule}
	switch {
	case r.Level == safety.Acute:
		sc.Action, sc.Reply = conversation.ScreenHalt, safety.AcuteReply(lang, c.cfg.Helplines, c.coachTold(t.Before))
	case r.Level == safety.Elevated:
		sc.Action, sc.Reply = conversation.ScreenConcern, safety.ElevatedReply(lang, c.cfg.Helplines)
	case r.Category == "human_request":
		sc.Action, sc.Reply = conversation.ScreenReply, safety.HumanRequestReply(lang, c.coachTold(t.Before))
	case r.Category == "bot_question":
		sc.Action, sc.Reply = conversation.ScreenReply, safety.BotAnswer(lang)
	}
	return sc, nil
}

// Hook runs after the engine inside the same turn: it writes flags, alerts
// coaches and notices a person declining help after an acute flag.
func (c *Care) Hook(ctx context.Context, t *conversation.Turn) error {
	sc := t.Screening
	switch {
	case sc.Action == conversation.ScreenHalt:
		if err := c.flag(t, LevelAcute, sc.Category, sc.Rule, true); err != nil {
			return err
		}
	case sc.Action == conversation.ScreenConcern:
		if err := c.flag(t, LevelElevated, sc.Category, sc.Rule, true); err != nil {
			return err
		}
	case sc.Category == "human_request":
		if err := c.flag(t, LevelLow, sc.Category, sc.Rule, true); err != nil {
			return err
		}
	}
	for _, f := range t.Out.Flags {
		level := f.Level
		if level != LevelAcute && level != LevelElevated {
			level = LevelLow
		}
		if err := c.flag(t, level, "distress", f.Rule, false); err != nil {
			return err
		}
	}
	if declined(t) {
		return t.Tx.Exec(ctx, `UPDATE flags SET declined_at = $2, follow_up_due = $3
WHERE person_id = $1 AND level = 'acute' AND declined_at IS NULL AND created_at > $2::timestamptz - interval '24 hours'`,
			t.Tx.Person().ID, t.Now, t.Now.Add(c.cfg.FollowUpAfter))
	}
	return nil
}

// LLMRejected records a low-level flag when the guard rejected a reflective
// reply (the person got the scripted reflection instead).
func (c *Care) LLMRejected(_ context.Context, t *conversation.Turn, rule string) error {
	return c.flag(t, LevelLow, "llm_guard", rule, false)
}

// declined reports whether this input says no to help after an acute flag:
// the pause button of the safety reply, /stop, or a plain no.
func declined(t *conversation.Turn) bool {
	in := t.In.Input
	afterSafety := t.Before.Run != nil && t.Before.Run.StoppedBy == "safety"
	switch in.Kind {
	case dialogs.InputButton:
		// the pause button of the safety reply; the UPDATE only touches a
		// recent acute flag that was not declined yet
		return strings.HasSuffix(in.Data, ".p")
	case dialogs.InputCommand:
		return in.Command == "stop" || in.Command == "stoppen"
	case dialogs.InputText:
		if !afterSafety || t.Screening.Action != conversation.ScreenPass {
			return false
		}
		switch strings.Trim(strings.ToLower(strings.TrimSpace(in.Text)), ".!") {
		case "nee", "no", "nee dank je", "nee bedankt", "no thanks", "laat maar", "hoeft niet", "niet nodig", "leave me alone", "laat me met rust":
			return true
		}
	}
	return false
}

const sqlInsertFlag = `INSERT INTO flags (id, person_id, created_at, level, category, rule, transcript_id, exercise, step, run_state, announced_at, announcements)
VALUES ($1, $2, $3, $4, $5, $6,
  CASE WHEN $7 THEN (SELECT max(id) FROM transcript WHERE person_id = $2 AND direction = 'in') END,
  $8, $9, $10, $11, $12)`

// flag writes one flag in the turn and alerts the coaches when the person
// consented to coach review.
func (c *Care) flag(t *conversation.Turn, level, category, rule string, fromMessage bool) error {
	var id int64
	if err := t.Tx.QueryRow(`SELECT nextval('flags_id_seq')`).Scan(&id); err != nil {
		return fmt.Errorf("care: flag id: %w", err)
	}
	exercise, step, runState := "", "", "none"
	if r := t.Before.Run; r != nil {
		exercise, step, runState = r.Exercise, r.Step, "running"
		if r.Stopped {
			runState = "stopped"
		}
	}
	alert := c.coachTold(t.State)
	var announced *time.Time
	n := 0
	if alert {
		announced, n = &t.Now, 1
	}
	if err := t.Tx.Exec(context.Background(), sqlInsertFlag, id, t.Tx.Person().ID, t.Now, level, category, rule,
		fromMessage, exercise, step, runState, announced, n); err != nil {
		return err
	}
	c.log.Info("care: flag", slog.Int64("flag_id", id), slog.Int64("person_id", t.Tx.Person().ID),
		slog.String("level", level), slog.String("rule", rule))
	if !alert {
		return nil
	}
	return c.alert(t.Tx, id, t.Tx.Person().ID, level, category, t.Now)
}

// alert queues a message for every coach, without the person's words.
func (c *Care) alert(tx *storage.Tx, flagID, personID int64, level, category string, at time.Time) error {
	lvl := safety.None
	switch level {
	case LevelAcute:
		lvl = safety.Acute
	case LevelElevated:
		lvl = safety.Elevated
	}
	for _, co := range c.cfg.Coaches {
		text := safety.CoachAlert("nl", lvl, category, Pseudonym(c.cfg.PseudonymKey, personID), at)
		if c.cfg.DashboardURL != "" {
			text += "\n\n" + strings.TrimRight(c.cfg.DashboardURL, "/") + fmt.Sprintf("/flags/%d", flagID)
		}
		payload, err := json.Marshal(conversation.Envelope{Text: text})
		if err != nil {
			return fmt.Errorf("care: alert: %w", err)
		}
		if _, err := tx.EnqueueTo(storage.PersonKey{Channel: conversation.ChannelTelegram, ExternalID: co.ID},
			storage.Outgoing{Kind: conversation.KindMessage, Payload: payload, Priority: conversation.PriorityInteractive}); err != nil {
			return fmt.Errorf("care: alert coach: %w", err)
		}
	}
	return nil
}

// Pseudonym is the stable name coaches see for a person: no name, no handle.
func Pseudonym(key []byte, personID int64) string {
	m := hmac.New(sha256.New, key)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(personID))
	m.Write(b[:])
	sum := base32.StdEncoding.EncodeToString(m.Sum(nil))
	return "P-" + sum[:6]
}
