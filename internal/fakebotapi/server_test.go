package fakebotapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func TestGetMeThroughBotNew(t *testing.T) {
	s := New(t, testToken)
	b, err := bot.New(testToken, bot.WithServerURL(s.URL()))
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	me, err := b.GetMe(testCtx(t))
	if err != nil {
		t.Fatalf("GetMe: %v", err)
	}
	if me.ID != 123456 || !me.IsBot || me.Username != "stilstaan_test_bot" {
		t.Errorf("getMe = %+v, want id 123456, a bot, username stilstaan_test_bot", me)
	}
	if got := s.CallCount("getMe"); got != 2 {
		t.Errorf("getMe calls = %d, want 2 (bot.New and GetMe)", got)
	}
}

func TestWithBotUser(t *testing.T) {
	s := New(t, "no-colon-token", WithBotUser(models.User{ID: 42, IsBot: true, Username: "other_bot"}))
	b, err := bot.New("no-colon-token", bot.WithServerURL(s.URL()))
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	me, err := b.GetMe(testCtx(t))
	if err != nil || me.ID != 42 || me.Username != "other_bot" {
		t.Fatalf("GetMe = %+v, %v", me, err)
	}
}

func TestWrongTokenIsUnauthorized(t *testing.T) {
	s := New(t, testToken)
	_, err := bot.New("999:wrong", bot.WithServerURL(s.URL()))
	if !errors.Is(err, bot.ErrorUnauthorized) {
		t.Fatalf("bot.New with a wrong token: err = %v, want ErrorUnauthorized", err)
	}
	resp, err := http.Get(s.URL() + "/bot999:wrong/getMe")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", resp.StatusCode)
	}
	st := s.Stats()
	if st.Unauthorized != 2 || st.Calls != 0 {
		t.Errorf("stats = %+v, want 2 unauthorized and 0 calls", st)
	}
}

func TestRequestFormats(t *testing.T) {
	s := New(t, testToken)
	ctx := testCtx(t)
	tests := []struct {
		name        string
		method      string
		query       url.Values
		contentType string
		body        string
		wantStatus  int
		wantDesc    string
	}{
		{name: "unknown method", method: "sendPoll", contentType: "application/json", body: `{"chat_id":1}`,
			wantStatus: 404, wantDesc: "Not Found"},
		{name: "json body", method: "sendMessage", contentType: "application/json",
			body:       `{"chat_id":7,"text":"hoi","reply_markup":{"inline_keyboard":[[{"text":"Ja","callback_data":"yes"}]]}}`,
			wantStatus: 200},
		{name: "form body", method: "sendMessage", contentType: "application/x-www-form-urlencoded",
			body: url.Values{"chat_id": {"7"}, "text": {"tweede"}}.Encode(), wantStatus: 200},
		{name: "query string, any case", method: "SENDMESSAGE", query: url.Values{"chat_id": {"7"}, "text": {"derde"}},
			wantStatus: 200},
		{name: "empty text", method: "sendMessage", contentType: "application/json", body: `{"chat_id":7,"text":""}`,
			wantStatus: 400, wantDesc: "Bad Request: message text is empty"},
		{name: "no chat", method: "sendMessage", contentType: "application/json", body: `{"text":"x"}`,
			wantStatus: 400, wantDesc: "Bad Request: chat_id is empty"},
		{name: "text button in inline keyboard", method: "sendMessage", contentType: "application/json",
			body:       `{"chat_id":7,"text":"x","reply_markup":{"inline_keyboard":[[{"text":"Ja"}]]}}`,
			wantStatus: 400, wantDesc: "Bad Request: text buttons are unallowed in the inline keyboard"},
		{name: "callback data over 64 bytes", method: "sendMessage", contentType: "application/json",
			body:       `{"chat_id":7,"text":"x","reply_markup":{"inline_keyboard":[[{"text":"Ja","callback_data":"` + strings.Repeat("x", 65) + `"}]]}}`,
			wantStatus: 400, wantDesc: "Bad Request: BUTTON_DATA_INVALID"},
		{name: "bad markup json", method: "sendMessage", contentType: "application/x-www-form-urlencoded",
			body:       url.Values{"chat_id": {"7"}, "text": {"x"}, "reply_markup": {"{nope"}}.Encode(),
			wantStatus: 400, wantDesc: "Bad Request: can't parse reply keyboard markup JSON object"},
		{name: "unsupported content type", method: "sendMessage", contentType: "text/plain", body: "hello",
			wantStatus: 400, wantDesc: `Bad Request: unsupported Content-Type "text/plain"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, a := call(t, ctx, s, tt.method, tt.query, tt.contentType, tt.body)
			if status != tt.wantStatus || a.OK != (tt.wantStatus == 200) {
				t.Fatalf("status %d ok %v, want %d", status, a.OK, tt.wantStatus)
			}
			if tt.wantStatus != 200 && (a.ErrorCode != tt.wantStatus || a.Description != tt.wantDesc) {
				t.Errorf("error %d %q, want %d %q", a.ErrorCode, a.Description, tt.wantStatus, tt.wantDesc)
			}
		})
	}
	msgs := s.Messages(7)
	if len(msgs) != 3 {
		t.Fatalf("messages in chat 7 = %d, want 3", len(msgs))
	}
	if msgs[0].Buttons[0][0] != (Button{Text: "Ja", CallbackData: "yes"}) || msgs[2].Text != "derde" {
		t.Errorf("messages = %+v", msgs)
	}
	if got := s.Calls("sendMessage"); len(got) != 9 || got[0].Params["text"] != "hoi" || got[0].ChatID != 7 {
		t.Errorf("sendMessage calls = %d, first %+v", len(got), got[0])
	}
}

func TestCloseEndsWaitingPoll(t *testing.T) {
	s := Start(testToken)
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(s.URL() + "/bot" + testToken + "/getUpdates?timeout=50")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	if err := s.WaitFor(testCtx(t), func(s *Server) bool { return s.Polling() == 1 }); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.Close()
	if status := <-done; status != http.StatusOK {
		t.Errorf("poll ended with status %d, want 200 (empty result)", status)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := s.WaitFor(context.Background(), func(*Server) bool { return false }); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitFor after Close = %v, want ErrClosed", err)
	}
	s.Close() // a second Close is harmless
}

func TestStartAt(t *testing.T) {
	s, err := StartAt("127.0.0.1:0", testToken)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := newBot(t, s)
	if _, err := b.GetMe(testCtx(t)); err != nil {
		t.Fatalf("GetMe: %v", err)
	}
	if _, err := StartAt("256.0.0.1:1", testToken); err == nil {
		t.Error("StartAt on a bad address: no error")
	}
}

func TestWaitForHonoursContext(t *testing.T) {
	s := New(t, testToken)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.WaitFor(ctx, func(*Server) bool { return false })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	_, err = s.WaitMessages(ctx, 1, 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitMessages err = %v, want context.Canceled", err)
	}
}
