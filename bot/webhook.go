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
// own). An update is stored in the inbox and committed before the 200: a
// failure answers 500 and Telegram sends the update again. Processing then
// happens after the answer, on the worker pool, in the chat's order. It does
// not run before the answer, because Telegram sends a chat's next update only
// once this one is answered: answering at once lets a quick typist's updates
// queue up in the inbox instead of in Telegram's retries, and keeps slow
// turns from using up Telegram's connections (max_connections).
//
// Any replica can answer any update: the inbox and the chat locks are in
// PostgreSQL. All replicas must be configured with the same secret.
type webhook struct {
	secret   [sha256.Size]byte
	db       *storage.DB
	sched    *scheduler
	log      *slog.Logger
	metrics  *receiveMetrics
	draining atomic.Bool
}

func newWebhook(secret string, db *storage.DB, sched *scheduler, log *slog.Logger, m *receiveMetrics) *webhook {
	return &webhook{secret: sha256.Sum256([]byte(secret)), db: db, sched: sched, log: log, metrics: m}
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
	n, err := h.db.Receive(r.Context(), storage.InboxUpdate{UpdateID: id, ChatID: chat, Payload: raw})
	if err != nil {
		h.log.WarnContext(r.Context(), "bot: store webhook update", slog.Int64("update_id", id), slog.Any("error", err))
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	h.metrics.received.Add(float64(n))
	w.WriteHeader(http.StatusOK)
	h.sched.schedule(chat)
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
