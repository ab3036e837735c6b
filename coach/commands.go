package coach

import (
	"context"
	"fmt"
	"strings"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

// Fallback answers an input as the dialog engine would (Engine.Handle). The
// commands use it for everybody who is not a coach, so that /flags and
// /dashboard get the same answer as any unknown command and nobody learns
// that the feature exists.
type Fallback func(st dialogs.State, in dialogs.Input) (dialogs.State, dialogs.Output)

// CommandOptions registers /flags and /dashboard with the conversation
// service. They run inside the turn of the coach's private chat.
func (t *Team) CommandOptions(fallback Fallback) []conversation.Option {
	return []conversation.Option{
		conversation.WithCommand(t.coachCommand(fallback, t.flagsCommand), "flags"),
		conversation.WithCommand(t.coachCommand(fallback, t.dashboardCommand), "dashboard"),
	}
}

// coachCommand runs fn for a coach and the engine for anybody else.
func (t *Team) coachCommand(fallback Fallback, fn func(ctx context.Context, turn *conversation.Turn, co Coach) error) conversation.CommandFunc {
	return func(ctx context.Context, turn *conversation.Turn, _ string) error {
		co, ok := t.coaches[turn.In.ChatID]
		if !ok || turn.In.Channel != conversation.ChannelTelegram {
			turn.State, turn.Out = fallback(turn.Before, turn.In.Input)
			return nil
		}
		return fn(ctx, turn, co)
	}
}

// sqlOpenFlags lists open flags for /flags: acute first, newest first.
const sqlOpenFlags = `SELECT ` + flagColumns + `
FROM flags f JOIN people p ON p.id = f.person_id
WHERE p.consent_at IS NOT NULL AND f.status = 'open'
` + flagOrder + `
LIMIT $1`

// telegramFlagsShown is how many flags /flags lists; the dashboard has the rest.
const telegramFlagsShown = 15

// flagsCommand answers /flags with the open flags: level, age, pseudonym
// and a link to each.
func (t *Team) flagsCommand(ctx context.Context, turn *conversation.Turn, co Coach) error {
	var flags []flag
	err := turn.Tx.Query(sqlOpenFlags, []any{telegramFlagsShown + 1}, func(r storage.Row) error {
		f, err := scanFlag(r)
		flags = append(flags, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("coach: /flags: %w", err)
	}
	if err := turn.Tx.Exec(ctx, sqlAudit, auditEntry{CoachID: co.ID, Action: actTelegramFlags,
		Detail: fmt.Sprintf("shown=%d", min(len(flags), telegramFlagsShown))}.args(turn.Now)...); err != nil {
		return err
	}
	tx := texts(turn.Lang())
	var b strings.Builder
	if len(flags) == 0 {
		b.WriteString(tx.get("tg.flags.none"))
	} else {
		b.WriteString(tx.get("tg.flags.head"))
		for i, f := range flags {
			if i == telegramFlagsShown {
				b.WriteString("\n\n" + tx.get("tg.flags.more"))
				break
			}
			fmt.Fprintf(&b, "\n\n%s %s · %s · %s", levelMark(f.Level), tx.level(f.Level), tx.age(turn.Now.Sub(f.CreatedAt)), t.cfg.Pseudonym(f.PersonID))
			if t.cfg.PublicURL != "" {
				fmt.Fprintf(&b, "\n%s", t.link(fmt.Sprintf("/flags/%d", f.ID)))
			} else {
				fmt.Fprintf(&b, " · #%d", f.ID)
			}
		}
	}
	return turn.Send(conversation.Envelope{Text: b.String()}, conversation.PriorityInteractive)
}

// levelMark is a coloured dot per level, so the list reads at a glance.
func levelMark(level string) string {
	switch level {
	case "acute":
		return "🔴"
	case "elevated":
		return "🟠"
	}
	return "🔵"
}

// dashboardCommand answers /dashboard with a login link: signed, bound to
// the coach, valid LinkTTL, usable once. The link's hash is stored in the
// turn, so a turn that fails leaves no usable link behind.
func (t *Team) dashboardCommand(ctx context.Context, turn *conversation.Turn, co Coach) error {
	tx := texts(turn.Lang())
	if t.keys.link == nil || t.cfg.PublicURL == "" {
		return turn.Send(conversation.Envelope{Text: tx.get("tg.dashboard.off")}, conversation.PriorityInteractive)
	}
	expires := turn.Now.Add(t.cfg.LinkTTL)
	token, err := t.keys.newLinkToken(co.ID, expires)
	if err != nil {
		return err
	}
	if err := turn.Tx.Exec(ctx, `INSERT INTO coach_login_links (token_hash, coach_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		hashToken(token), co.ID, turn.Now, expires); err != nil {
		return err
	}
	if err := turn.Tx.Exec(ctx, sqlAudit, auditEntry{CoachID: co.ID, Action: actTelegramLink}.args(turn.Now)...); err != nil {
		return err
	}
	text := fmt.Sprintf(tx.get("tg.dashboard.link"), int(t.cfg.LinkTTL.Minutes()), t.link("/login/"+token))
	return turn.Send(conversation.Envelope{Text: text}, conversation.PriorityInteractive)
}
