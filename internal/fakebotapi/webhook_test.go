package fakebotapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

type delivery struct {
	secret string
	update models.Update
}

// receiver is a webhook endpoint; status decides the answer to the n-th POST
// (1-based).
func receiver(t *testing.T, status func(n int, u models.Update) int) (*httptest.Server, <-chan delivery) {
	t.Helper()
	ch := make(chan delivery, 100)
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var u models.Update
		if err := json.Unmarshal(body, &u); err != nil || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		code := status(k, u)
		if code/100 == 2 {
			ch <- delivery{secret: r.Header.Get("X-Telegram-Bot-Api-Secret-Token"), update: u}
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func TestWebhookDelivery(t *testing.T) {
	s := New(t, testToken)
	b := newBot(t, s)
	ctx := testCtx(t)
	rcv, got := receiver(t, func(int, models.Update) int { return http.StatusOK })
	ok, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: rcv.URL + "/hook", SecretToken: "s3cret_-X",
		AllowedUpdates: []string{"message", "callback_query"}})
	if err != nil || !ok {
		t.Fatalf("SetWebhook = %v, %v", ok, err)
	}
	info, err := b.GetWebhookInfo(ctx)
	if err != nil || info.URL != rcv.URL+"/hook" || info.MaxConnections != 40 ||
		strings.Join(info.AllowedUpdates, ",") != "callback_query,message" {
		t.Fatalf("GetWebhookInfo = %+v, %v", info, err)
	}
	id := s.SendText(12, "via webhook")
	d := <-got
	if d.secret != "s3cret_-X" || d.update.ID != id || d.update.Message.Text != "via webhook" {
		t.Errorf("delivery = %+v", d)
	}
	if err := s.WaitFor(ctx, func(s *Server) bool { return s.Stats().WebhookDelivered == 1 }); err != nil {
		t.Fatal(err)
	}
	status, a := call(t, ctx, s, "getUpdates", nil, "", "")
	if status != http.StatusConflict || !strings.HasPrefix(a.Description, "Conflict: can't use getUpdates") {
		t.Errorf("getUpdates with a webhook: %d %q", status, a.Description)
	}
	if ok, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{}); err != nil || !ok {
		t.Fatalf("DeleteWebhook = %v, %v", ok, err)
	}
	if ups := poll(t, ctx, s, nil); len(ups) != 0 {
		t.Errorf("a delivered update came again by polling: %+v", ups)
	}
	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: rcv.URL, SecretToken: "no spaces"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("bad secret: err = %v", err)
	}
	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: "ftp://x"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("bad url: err = %v", err)
	}
}

func TestWebhookEndsWaitingPoll(t *testing.T) {
	s := New(t, testToken)
	ctx := testCtx(t)
	rcv, _ := receiver(t, func(int, models.Update) int { return http.StatusOK })
	res := make(chan int, 1)
	go func() {
		status, _, _ := tryCall(ctx, s, "getUpdates", url.Values{"timeout": {"30"}}, "", "")
		res <- status
	}()
	if err := s.WaitFor(ctx, func(s *Server) bool { return s.Polling() == 1 }); err != nil {
		t.Fatal(err)
	}
	if status, _ := call(t, ctx, s, "setWebhook", url.Values{"url": {rcv.URL}}, "", ""); status != http.StatusOK {
		t.Fatalf("setWebhook status %d", status)
	}
	if status := <-res; status != http.StatusConflict {
		t.Errorf("waiting poll got %d, want 409", status)
	}
}

func TestWebhookRetries(t *testing.T) {
	tests := []struct {
		name          string
		failures      int // the receiver fails this many POSTs first
		attempts      int
		wantDelivered int
		wantGaveUp    int
	}{
		{name: "succeeds on the third attempt", failures: 2, attempts: 5, wantDelivered: 1},
		{name: "gives up after the last attempt", failures: 3, attempts: 3, wantGaveUp: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t, testToken, WithWebhookRetry(tt.attempts, time.Millisecond))
			ctx := testCtx(t)
			rcv, got := receiver(t, func(n int, _ models.Update) int {
				if n <= tt.failures {
					return http.StatusInternalServerError
				}
				return http.StatusOK
			})
			if status, _ := call(t, ctx, s, "setWebhook", url.Values{"url": {rcv.URL}, "secret_token": {"abc"}}, "", ""); status != 200 {
				t.Fatalf("setWebhook: %d", status)
			}
			s.SendText(1, "een")
			if err := s.WaitFor(ctx, func(s *Server) bool {
				st := s.Stats()
				return st.WebhookDelivered+st.WebhookGaveUp == 1
			}); err != nil {
				t.Fatal(err)
			}
			st := s.Stats()
			if st.WebhookDelivered != tt.wantDelivered || st.WebhookGaveUp != tt.wantGaveUp ||
				st.WebhookAttempts != min(tt.failures+1, tt.attempts) || st.WebhookFailures != tt.failures {
				t.Errorf("stats = %+v", st)
			}
			_, a := call(t, ctx, s, "getWebhookInfo", nil, "", "")
			var info models.WebhookInfo
			if err := json.Unmarshal(a.Result, &info); err != nil {
				t.Fatal(err)
			}
			if info.LastErrorMessage != "Wrong response from the webhook: 500 Internal Server Error" || info.LastErrorDate == 0 ||
				info.PendingUpdateCount != 0 {
				t.Errorf("webhook info = %+v", info)
			}
			// The next update goes through either way.
			id := s.SendText(1, "twee")
			if d := <-got; tt.wantDelivered == 1 && d.update.Message.Text != "een" {
				t.Errorf("first delivery = %+v", d.update)
			} else if tt.wantGaveUp == 1 && d.update.ID != id {
				t.Errorf("delivery after giving up = %+v, want update %d", d.update, id)
			}
		})
	}
}

func TestWebhookKeepsChatOrderAndRunsChatsInParallel(t *testing.T) {
	s := New(t, testToken)
	ctx := testCtx(t)
	bArrived := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	seen := map[int64][]string{}
	rcv, got := receiver(t, func(_ int, u models.Update) int {
		chat, text := u.Message.Chat.ID, u.Message.Text
		if chat == 2 {
			once.Do(func() { close(bArrived) })
		}
		if chat == 1 && text == "a0" {
			// Hold chat 1's first update until chat 2's first arrived: only
			// parallel delivery across chats gets past this.
			select {
			case <-bArrived:
			case <-time.After(10 * time.Second):
				return http.StatusServiceUnavailable
			}
		}
		mu.Lock()
		seen[chat] = append(seen[chat], text)
		mu.Unlock()
		return http.StatusOK
	})
	if status, _ := call(t, ctx, s, "setWebhook", url.Values{"url": {rcv.URL}, "max_connections": {"4"}}, "", ""); status != 200 {
		t.Fatalf("setWebhook: %d", status)
	}
	for i := range 5 {
		s.SendText(1, "a"+itoa(int64(i)))
		s.SendText(2, "b"+itoa(int64(i)))
	}
	for range 10 {
		select {
		case <-got:
		case <-ctx.Done():
			t.Fatalf("deliveries missing: %v", ctx.Err())
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen[1], ",") != "a0,a1,a2,a3,a4" || strings.Join(seen[2], ",") != "b0,b1,b2,b3,b4" {
		t.Errorf("order per chat = %v", seen)
	}
}
