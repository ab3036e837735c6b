package fakebotapi

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// webhookConfig is what setWebhook stored.
type webhookConfig struct {
	url     string
	secret  string
	maxConn int
	gen     uint64
}

var secretTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Server) setWebhookLocked(call *Call) reply {
	p := call.Params
	raw := strings.TrimSpace(p["url"])
	if raw == "" {
		return s.removeWebhookLocked(boolParam(p, "drop_pending_updates"))
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return badRequest("bad webhook: invalid webhook URL specified")
	}
	secret := p["secret_token"]
	if secret != "" && !secretTokenRE.MatchString(secret) {
		return badRequest("secret token contains unallowed characters")
	}
	maxConn := 40
	n, ok, err := intParam(p, "max_connections")
	if err != nil {
		return badRequest(err.Error())
	}
	if ok {
		maxConn = int(min(max(n, 1), 100))
	}
	if v := strings.TrimSpace(p["allowed_updates"]); v != "" {
		list, err := stringList(v)
		if err != nil {
			return badRequest("can't parse allowed_updates JSON array")
		}
		s.setAllowedLocked(list)
	}
	if boolParam(p, "drop_pending_updates") {
		s.discardLocked()
	}
	desc := "Webhook was set"
	if s.hook != nil && s.hook.url == raw && s.hook.secret == secret && s.hook.maxConn == maxConn {
		desc = "Webhook is already set"
	}
	s.hookGen++
	s.hook = &webhookConfig{url: raw, secret: secret, maxConn: maxConn, gen: s.hookGen}
	s.updSig.broadcast() // waiting polls answer 409 now
	s.bg.Add(1)
	go s.runWebhook(s.hookGen)
	return okReplyDesc(true, desc)
}

func (s *Server) deleteWebhookLocked(call *Call) reply {
	return s.removeWebhookLocked(boolParam(call.Params, "drop_pending_updates"))
}

func (s *Server) removeWebhookLocked(drop bool) reply {
	desc := "Webhook is already deleted"
	if s.hook != nil {
		desc = "Webhook was deleted"
		s.hook = nil
		s.hookGen++
	}
	if drop {
		s.discardLocked()
	}
	s.updSig.broadcast()
	return okReplyDesc(true, desc)
}

// discardLocked drops all pending updates (drop_pending_updates).
func (s *Server) discardLocked() {
	clear(s.queue)
	s.queue = nil
	s.changed.broadcast()
}

func (s *Server) webhookInfoLocked() reply {
	info := models.WebhookInfo{
		PendingUpdateCount: s.pendingLocked(),
		LastErrorDate:      int(s.hookErrDate),
		LastErrorMessage:   s.hookErrMsg,
	}
	if s.hook != nil {
		info.URL = s.hook.url
		info.MaxConnections = s.hook.maxConn
	}
	for t := range s.allowed {
		info.AllowedUpdates = append(info.AllowedUpdates, t)
	}
	slices.Sort(info.AllowedUpdates)
	return okReply(info)
}

// WebhookURL is the URL setWebhook set, or "".
func (s *Server) WebhookURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hook == nil {
		return ""
	}
	return s.hook.url
}

// runWebhook hands queued updates to delivery goroutines: at most
// max_connections at a time and one per chat at a time, so each chat's
// updates arrive in order. It ends when the webhook changes or the server
// closes.
func (s *Server) runWebhook(gen uint64) {
	defer s.bg.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed && s.hook != nil && s.hook.gen == gen {
		u := s.nextForWebhookLocked(s.hook.maxConn)
		if u == nil {
			ch := s.updSig.wait()
			s.mu.Unlock()
			select {
			case <-ch:
			case <-s.closing:
			}
			s.mu.Lock()
			continue
		}
		u.state = stateInflight
		if u.chat != 0 {
			s.hookBusy[u.chat] = true
		}
		s.hookInflight++
		s.bg.Add(1)
		go s.deliver(*s.hook, u)
	}
}

func (s *Server) nextForWebhookLocked(maxConn int) *update {
	if s.hookInflight >= maxConn {
		return nil
	}
	skipped := false
	defer func() {
		if skipped {
			s.trimDoneLocked()
		}
	}()
	for _, u := range s.queue {
		if u.state != stateQueued {
			continue
		}
		if !s.allowedLocked(u.typ) {
			u.state = stateDone // Telegram does not send what was not asked for
			skipped = true
			continue
		}
		if u.chat != 0 && s.hookBusy[u.chat] {
			continue
		}
		return u
	}
	return nil
}

// deliver POSTs one update until the webhook answers 2xx, the attempts run
// out (the update is then dropped, as Telegram eventually does), or the
// webhook changes (the update goes back to the queue).
func (s *Server) deliver(h webhookConfig, u *update) {
	defer s.bg.Done()
	backoff := s.cfg.webhookBackoff
	delivered, gaveUp := false, false
	for attempt := 1; ; attempt++ {
		errMsg := s.post(h, u)
		s.mu.Lock()
		s.stats.WebhookAttempts++
		if errMsg == "" {
			delivered = true
		} else {
			s.stats.WebhookFailures++
			s.hookErrDate = s.now().Unix()
			s.hookErrMsg = errMsg
		}
		current := !s.closed && s.hook != nil && s.hook.gen == h.gen
		s.changed.broadcast()
		s.mu.Unlock()
		if delivered {
			break
		}
		if attempt >= s.cfg.webhookAttempts {
			gaveUp = true
			break
		}
		if !current || !s.pauseBackground(backoff) {
			break
		}
		backoff = min(backoff*2, time.Second)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookInflight--
	delete(s.hookBusy, u.chat)
	switch {
	case delivered:
		u.state = stateDone
		s.stats.WebhookDelivered++
		s.stats.UpdatesConfirmed++
	case gaveUp:
		u.state = stateDone
		s.stats.WebhookGaveUp++
	default:
		u.state = stateQueued
	}
	s.trimDoneLocked()
	s.updSig.broadcast()
	s.changed.broadcast()
}

func (s *Server) pauseBackground(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.closing:
		return false
	}
}

// post sends one update and returns "" on a 2xx answer, or the error text
// getWebhookInfo reports.
func (s *Server) post(h webhookConfig, u *update) string {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, h.url, bytes.NewReader(u.raw))
	if err != nil {
		return "Failed to create the request"
	}
	req.Header.Set("Content-Type", "application/json")
	if h.secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", h.secret)
	}
	resp, err := s.webhook.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "Read timeout expired"
		}
		return "Connection failed"
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "Wrong response from the webhook: " + resp.Status
	}
	return ""
}
