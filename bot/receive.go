package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	tgbot "github.com/go-telegram/bot"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/storage"
)

// Update results, the "result" label of the metrics.
const (
	resultOK        = "ok"
	resultDuplicate = "duplicate"
	resultIgnored   = "ignored"
	resultError     = "error"
	resultPanic     = "panic"
	resultGaveUp    = "gave_up"
	resultDropped   = "dropped"
)

// errStopping ends a drain between two updates when the bot shuts down; the
// updates left wait in the inbox for the next start or another replica.
var errStopping = errors.New("bot: shutting down")

// processor turns the inbox into conversation turns: per chat, strictly in
// update_id order, one chat at a time across every replica (storage.ChatLock).
type processor struct {
	db      *storage.DB
	svc     *conversation.Service
	api     *tgbot.Bot
	log     *slog.Logger
	metrics *receiveMetrics
	secrets redactor
	now     func() time.Time
	// maxAttempts is how often an update may fail before it is given up
	// (with an apology), so one bad update cannot block its chat for good.
	maxAttempts int
	// stopping makes drains stop between updates at shutdown.
	stopping atomic.Bool
	// committed, when set, hears of every turn that took effect (for
	// benchmarks).
	committed func(chatID int64, receivedAt time.Time)
}

// drain processes the chat's waiting updates. If another worker (here or in
// another replica) holds the chat, drain returns at once: that holder looks
// for new updates after releasing the chat, so nothing is left behind.
func (p *processor) drain(ctx context.Context, chatID int64) {
	for !p.stopping.Load() && ctx.Err() == nil {
		lock, ok, err := p.db.LockChat(ctx, chatID)
		if err != nil {
			p.log.WarnContext(ctx, "bot: lock chat", slog.Int64("chat_id", chatID), slog.Any("error", err))
			return // the sweeper tries again
		}
		if !ok {
			return
		}
		err = p.drainLocked(ctx, lock)
		more, rerr := lock.Release(ctx)
		if rerr != nil {
			p.log.WarnContext(ctx, "bot: release chat", slog.Int64("chat_id", chatID), slog.Any("error", rerr))
			return
		}
		if err != nil {
			if !errors.Is(err, errStopping) && ctx.Err() == nil {
				p.log.WarnContext(ctx, "bot: chat left for a retry", slog.Int64("chat_id", chatID), slog.Any("error", err))
			}
			return
		}
		if !more {
			return
		}
	}
}

// drainLocked processes the locked chat's updates until none is left. It
// stops at the first update that fails (to be retried; later updates of the
// chat must wait for it).
func (p *processor) drainLocked(ctx context.Context, lock *storage.ChatLock) error {
	for {
		items, err := lock.Next(ctx)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return nil
		}
		for _, it := range items {
			if p.stopping.Load() {
				return errStopping
			}
			if err := p.process(ctx, it); err != nil {
				if ctx.Err() != nil {
					return ctx.Err() // not the update's fault
				}
				n, ferr := lock.Failed(ctx, it.UpdateID)
				p.log.WarnContext(ctx, "bot: update failed", slog.Int64("update_id", it.UpdateID),
					slog.Int64("chat_id", it.ChatID), slog.Int("attempt", n), slog.Any("error", err))
				return errors.Join(err, ferr)
			}
			lock.Done(it.UpdateID)
		}
	}
}

// process handles one update from the inbox. It returns an error only when
// the update should be tried again; everything else (done, duplicate,
// ignored, undecodable, recovered from a panic, given up) is final.
func (p *processor) process(ctx context.Context, it storage.InboxItem) error {
	ev, err := decode(it.UpdateID, it.Payload)
	if err != nil {
		p.log.WarnContext(ctx, "bot: undecodable update dropped", slog.Int64("update_id", it.UpdateID),
			slog.Int64("chat_id", it.ChatID), slog.String("error", errorClass(err)))
		p.metrics.update(kindUndecodable, resultDropped)
		return nil
	}
	if ev.action != actIgnore && ev.chatID != it.ChatID {
		// The inbox orders and locks by it.ChatID: acting in another chat
		// would break that chat's order. probe and classify agree for every
		// update Telegram sends, so this is a forged or garbled one.
		p.log.WarnContext(ctx, "bot: update acts outside the chat it was filed under; dropped",
			slog.Int64("update_id", it.UpdateID), slog.Int64("chat_id", it.ChatID), slog.String("kind", ev.kind))
		p.metrics.update(ev.kind, resultDropped)
		if ev.callbackID != "" {
			p.answer(ctx, ev, "")
		}
		return nil
	}
	notice, result, err := p.handle(ctx, ev, it)
	if errors.Is(err, storage.ErrChatBusy) {
		return err // not tried: the update goes to the inbox
	}
	if err != nil {
		p.metrics.update(ev.kind, resultError)
		return err
	}
	p.metrics.update(ev.kind, result)
	if ev.callbackID != "" {
		p.answer(ctx, ev, notice)
	}
	return nil
}

// handle runs one event, recovering from a panic: the update is then recorded
// as processed with an apology to the person, and the chat goes on.
func (p *processor) handle(ctx context.Context, ev event, it storage.InboxItem) (notice, result string, err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		// Neither the panic's text nor the update is logged: both may hold
		// what the person wrote.
		p.log.ErrorContext(ctx, "bot: update processing panicked", slog.Int64("update_id", ev.updateID),
			slog.Int64("chat_id", ev.chatID), slog.String("kind", ev.kind),
			slog.String("panic_type", fmt.Sprintf("%T", r)), slog.String("stack", string(debug.Stack())))
		notice, result, err = "", resultPanic, p.apologize(ctx, ev)
	}()
	if it.Attempts >= p.maxAttempts {
		p.log.ErrorContext(ctx, "bot: update given up after failed attempts", slog.Int64("update_id", ev.updateID),
			slog.Int64("chat_id", ev.chatID), slog.String("kind", ev.kind), slog.Int("attempts", it.Attempts))
		return "", resultGaveUp, p.apologize(ctx, ev)
	}
	switch ev.action {
	case actTurn:
		res, err := p.svc.Handle(ctx, ev.in)
		if err != nil {
			return "", "", err
		}
		if res.Duplicate {
			return "", resultDuplicate, nil
		}
		p.metrics.latency.Observe(p.now().Sub(it.ReceivedAt).Seconds())
		if p.committed != nil {
			p.committed(ev.chatID, it.ReceivedAt)
		}
		return res.Notice, resultOK, nil
	case actActive:
		res, err := p.svc.SetActive(ctx, ev.in, ev.active)
		switch {
		case errors.Is(err, conversation.ErrNoPerson):
			return "", resultIgnored, nil
		case err != nil:
			return "", "", err
		case res.Duplicate:
			return "", resultDuplicate, nil
		}
		p.log.InfoContext(ctx, "bot: person changed membership", slog.Int64("chat_id", ev.chatID), slog.Bool("active", ev.active))
		return "", resultOK, nil
	case actGroup:
		return "", resultOK, p.tellGroup(ctx, ev.chatID)
	}
	p.log.DebugContext(ctx, "bot: update ignored", slog.Int64("update_id", ev.updateID),
		slog.Int64("chat_id", ev.chatID), slog.String("kind", ev.kind), slog.String("why", ev.why))
	return "", resultIgnored, nil
}

// apologize records a turn's input as processed with an apology, for an
// update that cannot be handled. Updates other than turns just end.
func (p *processor) apologize(ctx context.Context, ev event) error {
	if ev.action != actTurn {
		return nil
	}
	if _, err := p.svc.Apologize(ctx, ev.in); err != nil {
		return fmt.Errorf("bot: apologize: %w", err)
	}
	return nil
}

// answer answers a callback query, so the button stops spinning, with the
// turn's notice when there is one. Telegram shows at most 200 characters.
func (p *processor) answer(ctx context.Context, ev event, notice string) {
	if utf8.RuneCountInString(notice) > 200 {
		notice = string([]rune(notice)[:199]) + "…"
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := p.api.AnswerCallbackQuery(actx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: ev.callbackID, Text: notice})
	if err != nil {
		// Too late (a query older than about 15 s) or the network: the
		// turn itself is done either way.
		p.log.DebugContext(ctx, "bot: answer callback", slog.Int64("update_id", ev.updateID),
			slog.Int64("chat_id", ev.chatID), slog.String("error", p.secrets.scrub(err)))
	}
}

// tellGroup says, once per chat, that the bot only works in private chats.
// When the message cannot be sent for a passing reason, the chat is not
// marked, so a later message there tries again.
func (p *processor) tellGroup(ctx context.Context, chatID int64) error {
	first, err := p.db.NoteGroupNotice(ctx, chatID)
	if err != nil || !first {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = p.api.SendMessage(sctx, &tgbot.SendMessageParams{ChatID: chatID, Text: groupNotice})
	if err == nil {
		p.log.InfoContext(ctx, "bot: told a group chat to talk in private", slog.Int64("chat_id", chatID))
		return nil
	}
	if errors.Is(err, tgbot.ErrorForbidden) || errors.Is(err, tgbot.ErrorBadRequest) {
		// The bot may not write there (a channel, removed meanwhile): trying
		// again will not help.
		p.log.InfoContext(ctx, "bot: cannot tell a group chat", slog.Int64("chat_id", chatID), slog.String("error", p.secrets.scrub(err)))
		return nil
	}
	if ferr := p.db.ForgetGroupNotice(context.WithoutCancel(ctx), chatID); ferr != nil {
		return ferr
	}
	p.log.WarnContext(ctx, "bot: group notice not sent; will try on the next message", slog.Int64("chat_id", chatID),
		slog.String("error", p.secrets.scrub(err)))
	return nil
}

// scheduler hands chats to a fixed number of workers. A chat is queued at
// most once; one asked for while a worker drains it is drained again after,
// so an update stored meanwhile is not left to the sweeper. This is only
// scheduling: the inbox in PostgreSQL is what is to be done.
type scheduler struct {
	mu    sync.Mutex
	state map[int64]chatState
	queue []int64
	ready chan struct{}
	limit int
}

type chatState uint8

const (
	chatQueued chatState = iota + 1
	chatRunning
	chatAgain // running, and asked for again
)

func newScheduler(limit int) *scheduler {
	return &scheduler{state: map[int64]chatState{}, ready: make(chan struct{}, 1), limit: limit}
}

// schedule asks for the chat to be drained. It reports false when too many
// chats wait already; the sweeper then finds the chat's updates.
func (s *scheduler) schedule(chatID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state[chatID] {
	case chatQueued, chatAgain:
		return true
	case chatRunning:
		s.state[chatID] = chatAgain
		return true
	}
	if len(s.state) >= s.limit {
		return false
	}
	s.state[chatID] = chatQueued
	s.queue = append(s.queue, chatID)
	s.signal()
	return true
}

func (s *scheduler) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// take waits for a chat to drain; false when ctx ended.
func (s *scheduler) take(ctx context.Context) (int64, bool) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			c := s.queue[0]
			s.queue[0] = 0
			s.queue = s.queue[1:]
			s.state[c] = chatRunning
			if len(s.queue) > 0 {
				s.signal() // wake another worker
			}
			s.mu.Unlock()
			return c, true
		}
		s.mu.Unlock()
		select {
		case <-s.ready:
		case <-ctx.Done():
			return 0, false
		}
	}
}

// idle reports whether no drain of the chat runs or waits here.
func (s *scheduler) idle(chatID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, busy := s.state[chatID]
	return !busy
}

// finish marks a drain done and queues the chat again if it was asked for
// meanwhile.
func (s *scheduler) finish(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state[chatID] == chatAgain {
		s.state[chatID] = chatQueued
		s.queue = append(s.queue, chatID)
		s.signal()
		return
	}
	delete(s.state, chatID)
}

// runWorkers drains chats until intake ends. Each worker finishes the drain
// it is in (with work, the context of the turns) before it returns.
func (p *processor) runWorkers(intake, work context.Context, s *scheduler, n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				c, ok := s.take(intake)
				if !ok {
					return
				}
				p.drain(work, c)
				s.finish(c)
			}
		})
	}
	wg.Wait()
}

// sweep schedules, every interval, the chats whose updates have waited
// longer than the interval (the leftovers of a crash, a failed attempt, a
// full scheduler or a lock held elsewhere), and samples the inbox depth. Its
// first look, at start, takes everything waiting.
func (p *processor) sweep(ctx context.Context, s *scheduler, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	cutoff := p.now().Add(time.Second)
	for {
		chats, err := p.db.InboxChats(ctx, cutoff, 1000)
		if err != nil && ctx.Err() == nil {
			p.log.WarnContext(ctx, "bot: sweep inbox", slog.Any("error", err))
		}
		for _, c := range chats {
			s.schedule(c)
		}
		if depth, err := p.db.InboxDepth(ctx); err == nil {
			p.metrics.depth.Set(float64(depth))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cutoff = p.now().Add(-interval)
	}
}
