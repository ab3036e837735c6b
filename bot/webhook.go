package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/stilstaan/stilstaan/storage"
)

// maxWebhookBody limits an update's size; Telegram's are far smaller.
const maxWebhookBody = 1 << 20

// secretHeader carries the secret_token given to setWebhook.
const secretHeader = "X-Telegram-Bot-Api-Secret-Token"

// webhook receives updates that Telegram POSTs (go-telegram/bot's handler
// answers 200 to a wrong secret and logs undecodable bodies, so this is our
// own). Nothing is answered 200 before it is committed: a failure answers
// 500 and Telegram sends the update again.
//
// An update of a chat that nothing else works on is processed right away,
// inside the request: its turn takes the chat's lock and checks that the
// inbox holds nothing of the chat in its own first round trip
// (storage.ChatGuard), so the update needs no inbox row, no second
// transaction and no worker. At most telegram.workers updates are processed
// this way at once. Every other update (the chat is busy here or in another
// replica, earlier updates of it wait, all slots are taken, or the turn
// failed) is stored in the inbox and committed before the 200, and
// processed after the answer on the worker pool, in the chat's order. So
// slow turns cannot use up Telegram's connections (max_connections), and a
// quick typist's updates queue up in the inbox rather than in Telegram's
// retries.
//
// Any replica can answer any update: the inbox and the chat locks are in
// PostgreSQL. All replicas must be configured with the same secret.
type webhook struct {
	secret   [sha256.Size]byte
	db       *storage.DB
	sched    *scheduler
	proc     *processor    // nil: every update goes through the inbox
	slots    chan struct{} // one per update processed inside a request
	log      *slog.Logger
	metrics  *receiveMetrics
	draining atomic.Bool
}

func newWebhook(secret string, db *storage.DB, sched *scheduler, proc *processor, slots int, log *slog.Logger, m *receiveMetrics) *webhook {
	return &webhook{secret: sha256.Sum256([]byte(secret)), db: db, sched: sched, proc: proc,
		slots: make(chan struct{}, max(slots, 1)), log: log, metrics: m}
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// Compared as digests, so the time taken does not depend on the secret's
	// length either.
	got := sha256.Sum256([]byte(r.Header.Get(secretHeader)))
	if subtle.ConstantTimeCompare(got[:], h.secret[:]) != 1 {
		h.log.WarnContext(r.Context(), "bot: webhook request with a wrong secret", slog.String("remote", r.RemoteAddr))
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if h.draining.Load() {
		// Shutting down: Telegram retries, and the load balancer picks
		// another replica.
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "update too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	id, chat, err := probe(raw)
	if err != nil {
		h.log.WarnContext(r.Context(), "bot: webhook body is not an update", slog.String("error", errorClass(err)))
		h.metrics.update(kindUndecodable, resultDropped)
		http.Error(w, "not an update", http.StatusBadRequest)
		return
	}
	if h.inline(r.Context(), raw, id, chat) {
		h.metrics.received.WithLabelValues(pathInline).Inc()
		w.WriteHeader(http.StatusOK)
		return
	}
	n, err := h.db.Receive(r.Context(), storage.InboxUpdate{UpdateID: id, ChatID: chat, Payload: raw})
	if err != nil {
		h.log.WarnContext(r.Context(), "bot: store webhook update", slog.Int64("update_id", id), slog.Any("error", err))
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	h.metrics.received.WithLabelValues(pathInbox).Add(float64(n))
	w.WriteHeader(http.StatusOK)
	h.sched.schedule(chat)
}

// inline processes the update inside the request when the chat is free, and
// reports whether it did (false: store it in the inbox).
func (h *webhook) inline(ctx context.Context, raw []byte, id, chat int64) bool {
	if h.proc == nil || !h.sched.idle(chat) {
		return false
	}
	select {
	case h.slots <- struct{}{}:
	default:
		return false
	}
	defer func() { <-h.slots }()
	gctx, guard := storage.WithChatGuard(ctx, chat)
	err := h.proc.process(gctx, storage.InboxItem{UpdateID: id, ChatID: chat, Payload: raw, ReceivedAt: h.proc.now()})
	if guard.More() {
		h.sched.schedule(chat) // an update came meanwhile and found the chat locked
	}
	if err != nil {
		if !errors.Is(err, storage.ErrChatBusy) && ctx.Err() == nil {
			h.log.WarnContext(ctx, "bot: update failed; stored for another try", slog.Int64("update_id", id),
				slog.Int64("chat_id", chat), slog.Any("error", err))
		}
		return false
	}
	return true
}

// setWebhook points Telegram at the webhook, retrying until it works or ctx
// ends.
func setWebhook(ctx context.Context, api *tgbot.Bot, url, secret string, maxConns int, log *slog.Logger, secrets redactor) {
	bo := backoff{min: time.Second, max: time.Minute}
	for ctx.Err() == nil {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := api.SetWebhook(sctx, &tgbot.SetWebhookParams{
			URL: url, SecretToken: secret, AllowedUpdates: allowedUpdates, MaxConnections: maxConns,
		})
		cancel()
		if err == nil {
			log.InfoContext(ctx, "bot: webhook set", slog.Int("max_connections", maxConns))
			return
		}
		if ctx.Err() != nil {
			return
		}
		wait := bo.next()
		log.WarnContext(ctx, "bot: setWebhook failed", slog.String("error", secrets.scrub(err)), slog.Duration("retry_in", wait))
		sleep(ctx, wait)
	}
}

// randomSecret makes a webhook secret (43 characters of A-Z a-z 0-9 _ -).
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}
