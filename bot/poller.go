package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/stilstaan/stilstaan/storage"
)

// allowedUpdates are the update kinds the bot asks Telegram for. Edits are
// not asked for: an exercise moves on with each answer, so an edit has
// nothing to change.
var allowedUpdates = []string{"message", "callback_query", "my_chat_member", "channel_post"}

// poller receives updates by long polling. It makes the getUpdates call
// itself (go-telegram/bot confirms updates before they are handled): a batch
// is stored in the inbox in one statement, and only then does the next call
// move the offset past it, which is when Telegram forgets it. A crash
// therefore loses nothing; at worst a batch is fetched and stored twice,
// which the inbox absorbs.
type poller struct {
	client  *http.Client
	url     string // {server}/bot{token}/getUpdates
	timeout time.Duration
	api     *tgbot.Bot
	db      *storage.DB
	sched   *scheduler
	log     *slog.Logger
	metrics *receiveMetrics
	secrets redactor
}

// apiError is a Bot API answer with ok=false.
type apiError struct {
	Code        int
	Description string
	RetryAfter  time.Duration
}

func (e *apiError) Error() string { return fmt.Sprintf("bot api: %d %s", e.Code, e.Description) }

// run polls until ctx ends. Errors (a 409 conflict, 5xx, the network, the
// database) are logged and retried after a growing pause, never in a hot
// loop.
func (p *poller) run(ctx context.Context) {
	p.deleteWebhook(ctx)
	var offset int64
	bo := backoff{min: 500 * time.Millisecond, max: 30 * time.Second}
	for ctx.Err() == nil {
		raws, err := p.getUpdates(ctx, offset)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			wait := bo.next()
			if ae, ok := err.(*apiError); ok {
				switch {
				case ae.RetryAfter > 0:
					wait = max(wait, ae.RetryAfter)
				case ae.Code == http.StatusConflict && strings.Contains(ae.Description, "webhook"):
					p.deleteWebhook(ctx)
				case ae.Code == http.StatusConflict:
					// Another process polls with this token: polling is
					// for one replica; several replicas use the webhook.
					wait = max(wait, 5*time.Second)
				}
			}
			p.log.WarnContext(ctx, "bot: getUpdates failed", slog.String("error", p.secrets.scrub(err)), slog.Duration("retry_in", wait))
			sleep(ctx, wait)
			continue
		}
		next, err := p.store(ctx, raws, offset)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// The offset stays: Telegram sends the batch again.
			wait := bo.next()
			p.log.WarnContext(ctx, "bot: store updates", slog.Any("error", err), slog.Duration("retry_in", wait))
			sleep(ctx, wait)
			continue
		}
		bo.reset()
		offset = next
	}
}

// store puts a batch in the inbox, schedules its chats, and returns the
// offset that confirms it.
func (p *poller) store(ctx context.Context, raws []json.RawMessage, offset int64) (int64, error) {
	if len(raws) == 0 {
		return offset, nil
	}
	ups := make([]storage.InboxUpdate, 0, len(raws))
	next := offset
	for _, raw := range raws {
		id, chat, err := probe(raw)
		if err != nil {
			// Telegram never sends an update without an id; nothing can
			// be done with one but skip it.
			p.log.WarnContext(ctx, "bot: undecodable update skipped", slog.String("error", errorClass(err)))
			p.metrics.update(kindUndecodable, resultDropped)
			continue
		}
		ups = append(ups, storage.InboxUpdate{UpdateID: id, ChatID: chat, Payload: raw})
		next = max(next, id+1)
	}
	n, err := p.db.Receive(ctx, ups...)
	if err != nil {
		return offset, err
	}
	p.metrics.received.WithLabelValues(pathInbox).Add(float64(n))
	for _, u := range ups {
		p.sched.schedule(u.ChatID)
	}
	return next, nil
}

// getUpdates makes one long poll.
func (p *poller) getUpdates(ctx context.Context, offset int64) ([]json.RawMessage, error) {
	body, err := json.Marshal(struct {
		Offset         int64    `json:"offset,omitempty"`
		Timeout        int      `json:"timeout"`
		AllowedUpdates []string `json:"allowed_updates"`
	}{offset, int(p.timeout / time.Second), allowedUpdates})
	if err != nil {
		return nil, err
	}
	// The server holds the request for up to timeout; give it some slack.
	rctx, cancel := context.WithTimeout(ctx, p.timeout+15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return nil, p.secrets.wrap(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, p.secrets.wrap(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, p.secrets.wrap(err)
	}
	var r struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		ErrorCode   int               `json:"error_code"`
		Description string            `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		// A proxy's HTML error page, say; its text is not quoted.
		return nil, &apiError{Code: resp.StatusCode, Description: "answer is not JSON"}
	}
	if !r.OK {
		code := r.ErrorCode
		if code == 0 {
			code = resp.StatusCode
		}
		return nil, &apiError{Code: code, Description: r.Description, RetryAfter: time.Duration(r.Parameters.RetryAfter) * time.Second}
	}
	return r.Result, nil
}

// deleteWebhook removes a webhook, which would make getUpdates fail; pending
// updates are kept.
func (p *poller) deleteWebhook(ctx context.Context) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := p.api.DeleteWebhook(dctx, &tgbot.DeleteWebhookParams{}); err != nil && ctx.Err() == nil {
		p.log.WarnContext(ctx, "bot: deleteWebhook failed", slog.String("error", p.secrets.scrub(err)))
	}
}

// backoff is a growing pause with jitter.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(b.cur*2, b.max)
	}
	// Up to a quarter less, so replicas do not retry in step.
	return b.cur - time.Duration(rand.Int64N(int64(b.cur/4)+1))
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
