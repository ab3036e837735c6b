package fakebotapi

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func TestFaultsSeenByTheClient(t *testing.T) {
	tests := []struct {
		name       string
		fault      Fault
		timeout    time.Duration // client-side deadline, 0 for none
		check      func(t *testing.T, err error)
		wantSent   int // messages recorded by the failed call
		wantStatus int // recorded status of the failed call
		stat       func(Stats) int
	}{
		{name: "429 with retry_after", fault: TooManyRequests(7), wantStatus: 429,
			check: func(t *testing.T, err error) {
				var tm *bot.TooManyRequestsError
				if !errors.As(err, &tm) || tm.RetryAfter != 7 {
					t.Errorf("err = %v, want TooManyRequestsError with RetryAfter 7", err)
				}
			}, stat: func(s Stats) int { return s.Retries429 }},
		{name: "500", fault: ServerError(), wantStatus: 500,
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), "500 Internal Server Error") {
					t.Errorf("err = %v", err)
				}
			}, stat: func(s Stats) int { return s.ServerErrors }},
		{name: "502 html page", fault: BadGateway(), wantStatus: 502,
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), "error decode response body") {
					t.Errorf("err = %v, want a decode error from the HTML body", err)
				}
			}, stat: func(s Stats) int { return s.ServerErrors }},
		{name: "400 with description", fault: BadRequest("can't parse entities"), wantStatus: 400,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "Bad Request: can't parse entities") {
					t.Errorf("err = %v", err)
				}
			}, stat: func(s Stats) int { return s.BadRequests }},
		{name: "403 blocked", fault: Forbidden(), wantStatus: 403,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, bot.ErrorForbidden) || !strings.Contains(err.Error(), "bot was blocked by the user") {
					t.Errorf("err = %v", err)
				}
			}, stat: func(s Stats) int { return s.Forbidden }},
		{name: "slow answer and a client timeout", fault: Slow(time.Minute), timeout: 50 * time.Millisecond, wantStatus: 0,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("err = %v, want a deadline error", err)
				}
			}, stat: func(s Stats) int { return s.Canceled }},
		{name: "dropped connection", fault: Drop(), wantStatus: 0,
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), "error do request") {
					t.Errorf("err = %v", err)
				}
			}, stat: func(s Stats) int { return s.Dropped }},
		{name: "response lost after sending", fault: LostResponse(), wantSent: 1, wantStatus: 0,
			check: func(t *testing.T, err error) {
				if err == nil {
					t.Error("no error")
				}
			}, stat: func(s Stats) int { return s.Dropped }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t, testToken)
			b := newBot(t, s)
			ctx := testCtx(t)
			s.FailNext("sendMessage", 1, tt.fault)
			cctx := ctx
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				cctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			_, err := b.SendMessage(cctx, &bot.SendMessageParams{ChatID: 1, Text: "hoi"})
			tt.check(t, err)
			// The server records after the client may have left; wait for it.
			if err := s.WaitFor(ctx, func(s *Server) bool { return tt.stat(s.Stats()) == 1 }); err != nil {
				t.Fatalf("stat never reached 1: %v (stats %+v)", err, s.Stats())
			}
			calls := s.Calls("sendMessage")
			if len(calls) != 1 || calls[0].Status != tt.wantStatus || calls[0].Fault == nil {
				t.Fatalf("calls = %+v", calls)
			}
			if n := len(s.Messages(1)); n != tt.wantSent {
				t.Errorf("messages after the fault = %d, want %d", n, tt.wantSent)
			}
			// Only the next call failed; a retry goes through.
			if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "hoi"}); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if got := s.Calls("sendMessage")[1].Attempt; got != 2 {
				t.Errorf("retry attempt = %d, want 2", got)
			}
			if dups := s.Stats().Duplicates; dups != tt.wantSent {
				t.Errorf("duplicates = %d, want %d", dups, tt.wantSent)
			}
		})
	}
}

func TestSetFaultByAttempt(t *testing.T) {
	s := New(t, testToken)
	b := newBot(t, s)
	ctx := testCtx(t)
	s.SetFault(func(method string, chatID int64, attempt int) *Fault {
		if method == "sendMessage" && chatID == 2 && attempt <= 2 {
			f := ServerError()
			return &f
		}
		return nil
	})
	send := func(chat int64, text string) error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat, Text: text})
		return err
	}
	for i, wantErr := range []bool{true, true, false} {
		if err := send(2, "zelfde"); (err != nil) != wantErr {
			t.Fatalf("attempt %d: err = %v", i+1, err)
		}
	}
	if err := send(3, "andere chat"); err != nil {
		t.Fatalf("other chat: %v", err)
	}
	if err := send(2, "nieuw bericht"); err == nil {
		t.Fatal("a new message in chat 2 starts at attempt 1 and should fail")
	}
	var attempts []int
	for _, c := range s.Calls("sendMessage") {
		attempts = append(attempts, c.Attempt)
	}
	if got := attempts; len(got) != 5 || got[0] != 1 || got[1] != 2 || got[2] != 3 || got[3] != 1 || got[4] != 1 {
		t.Errorf("attempts = %v", got)
	}
	s.ClearFaults()
	if err := send(2, "na clear"); err != nil {
		t.Errorf("after ClearFaults: %v", err)
	}
}

func TestFailNextAnyMethodAndQueue(t *testing.T) {
	s := New(t, testToken)
	b := newBot(t, s)
	ctx := testCtx(t)
	s.FailNext("*", 1, ServerError())
	s.FailNext("getMe", 1, TooManyRequests(2))
	// The method's own queue comes first, then "*".
	var tm *bot.TooManyRequestsError
	if _, err := b.GetMe(ctx); !errors.As(err, &tm) {
		t.Errorf("first getMe: %v", err)
	}
	if _, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: 1, Action: models.ChatActionTyping}); err == nil {
		t.Error("the * fault did not hit sendChatAction")
	}
	if _, err := b.GetMe(ctx); err != nil {
		t.Errorf("third call: %v", err)
	}
}

func TestEnforceLimits(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var clockMu sync.Mutex
	clock := func() time.Time {
		clockMu.Lock()
		defer clockMu.Unlock()
		return now
	}
	advance := func(d time.Duration) {
		clockMu.Lock()
		defer clockMu.Unlock()
		now = now.Add(d)
	}
	s := New(t, testToken, WithClock(clock))
	b := newBot(t, s)
	ctx := testCtx(t)
	s.EnforceLimits(1, 3)
	send := func(chat int64) error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat, Text: "x"})
		return err
	}
	is429 := func(err error) bool {
		var tm *bot.TooManyRequestsError
		return errors.As(err, &tm) && tm.RetryAfter == 1
	}
	steps := []struct {
		name    string
		chat    int64
		advance time.Duration
		want429 bool
	}{
		{name: "first to chat 1", chat: 1},
		{name: "second to chat 1 in the same second", chat: 1, want429: true},
		{name: "chat 2", chat: 2},
		{name: "chat 3", chat: 3},
		{name: "chat 4 over the global limit", chat: 4, want429: true},
		{name: "next second chat 1", chat: 1, advance: time.Second},
	}
	for _, st := range steps {
		advance(st.advance)
		err := send(st.chat)
		if st.want429 != is429(err) {
			t.Errorf("%s: err = %v, want 429: %v", st.name, err, st.want429)
		}
		if !st.want429 && err != nil {
			t.Errorf("%s: %v", st.name, err)
		}
	}
	stats := s.Stats()
	if stats.Retries429 != 2 || stats.Limited != 2 || stats.Sent != 4 || stats.MaxGlobalPerSecond != 3 || stats.MaxChatPerSecond != 1 {
		t.Errorf("stats = %+v", stats)
	}
	per := s.SendsPerSecond()
	if len(per) != 2 || per[0].Count != 3 || per[1].Count != 1 || !per[0].Second.Equal(time.Unix(1_700_000_000, 0)) {
		t.Errorf("per second = %+v", per)
	}
	s.EnforceLimits(0, 0)
	for range 3 {
		if err := send(1); err != nil {
			t.Fatalf("limits off: %v", err)
		}
	}
	if got := s.Stats().MaxChatPerSecond; got != 4 { // one before turning limits off, three after
		t.Errorf("max per chat per second = %d, want 4", got)
	}
}

func TestConcurrentSendsFromManyGoroutines(t *testing.T) {
	s := New(t, testToken)
	b := newBot(t, s)
	ctx := testCtx(t)
	const chats, perChat = 20, 25
	var wg sync.WaitGroup
	errs := make(chan error, chats*perChat)
	for c := range chats {
		wg.Go(func() {
			for i := range perChat {
				if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(c + 1), Text: "m" + itoa(int64(i))}); err != nil {
					errs <- err
				}
			}
		})
	}
	for c := range chats {
		msgs, err := s.WaitMessages(ctx, int64(c+1), perChat)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range msgs {
			if m.MessageID != i+1 || m.Text != "m"+itoa(int64(i)) {
				t.Fatalf("chat %d message %d = %+v", c+1, i, m)
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := s.Stats(); st.Sent != chats*perChat || st.Duplicates != 0 || st.Calls != chats*perChat {
		t.Errorf("stats = %+v", st)
	}
	s.ResetRecords()
	if n := s.CallCount(""); n != 0 || len(s.Sent(1)) != 0 {
		t.Errorf("after reset: %d calls", n)
	}
	if m, ok := s.LastMessage(1); !ok || m.MessageID != perChat {
		t.Errorf("LastMessage after reset = %+v, %v", m, ok)
	}
	if s.Stats().Sent != chats*perChat {
		t.Error("reset cleared stats")
	}
	if err := s.WaitCalls(ctx, "sendMessage", 0); err != nil {
		t.Error(err)
	}
}
