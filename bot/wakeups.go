package bot

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

// wakeups fires the conversation timers of Telegram chats (the end of a
// timed pause): every interval, and once at start, it asks the database for
// the timers that are due and runs a timer turn for each. The turn's source
// names the person and the wake time, so when several replicas fire the same
// timer only one turn takes effect.
type wakeups struct {
	db       *storage.DB
	svc      *conversation.Service
	log      *slog.Logger
	metrics  *receiveMetrics
	now      func() time.Time
	interval time.Duration
	workers  int

	mu     sync.Mutex
	firing map[int64]bool // persons whose timer turn is running here
}

// timerSource names one wake-up of one person. The wake time is in
// microseconds (the database's precision): two pauses of one person never
// share it, even when tests shrink pauses to milliseconds.
func timerSource(personID int64, wakeAt time.Time) string {
	return fmt.Sprintf("timer:%d:%d", personID, wakeAt.UnixMicro())
}

// run looks for due timers until intake ends; the turns run with work, and
// run waits for them before it returns.
func (w *wakeups) run(intake, work context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, w.workers)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		timers, err := w.db.DueTimers(intake, conversation.ChannelTelegram, w.now(), 500)
		if err != nil && intake.Err() == nil {
			w.log.WarnContext(intake, "bot: due timers", slog.Any("error", err))
		}
		for _, tm := range timers {
			if !w.claim(tm.PersonID) {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-intake.Done():
				w.release(tm.PersonID)
				return
			}
			wg.Go(func() {
				defer func() { <-sem }()
				defer w.release(tm.PersonID)
				w.fire(work, tm)
			})
		}
		select {
		case <-intake.Done():
			return
		case <-t.C:
		}
	}
}

func (w *wakeups) claim(personID int64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.firing[personID] {
		return false
	}
	w.firing[personID] = true
	return true
}

func (w *wakeups) release(personID int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.firing, personID)
}

// fire runs one timer turn. A failure is logged; the timer stays due and is
// tried again at the next look.
func (w *wakeups) fire(ctx context.Context, tm storage.Timer) {
	defer func() {
		if r := recover(); r != nil {
			w.log.ErrorContext(ctx, "bot: timer turn panicked", slog.Int64("person_id", tm.PersonID),
				slog.String("panic_type", fmt.Sprintf("%T", r)), slog.String("stack", string(debug.Stack())))
			w.metrics.update(kindTimer, resultPanic)
		}
	}()
	res, err := w.svc.Handle(ctx, conversation.Incoming{
		Channel: tm.Key.Channel,
		ChatID:  tm.Key.ExternalID,
		Source:  timerSource(tm.PersonID, tm.WakeAt),
		Input:   dialogs.Input{Kind: dialogs.InputTimer},
	})
	switch {
	case err != nil:
		if ctx.Err() == nil {
			w.log.WarnContext(ctx, "bot: timer turn", slog.Int64("person_id", tm.PersonID), slog.Any("error", err))
		}
		w.metrics.update(kindTimer, resultError)
	case res.Duplicate:
		w.metrics.update(kindTimer, resultDuplicate)
	default:
		w.metrics.update(kindTimer, resultOK)
	}
}
