package fakebotapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

const testToken = "123456:TEST-token_abc"

// newBot is the real go-telegram/bot client pointed at s.
func newBot(t testing.TB, s *Server, opts ...bot.Option) *bot.Bot {
	t.Helper()
	all := append([]bot.Option{
		bot.WithServerURL(s.URL()),
		bot.WithSkipGetMe(),
		bot.WithErrorsHandler(func(error) {}),
		bot.WithDefaultHandler(func(context.Context, *bot.Bot, *models.Update) {}),
	}, opts...)
	b, err := bot.New(testToken, all...)
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	return b
}

// testCtx bounds a test's waiting.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type apiAnswer struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// tryCall does a hand-written request: GET with query parameters when body
// is "", else POST with the given content type. It is safe in goroutines.
func tryCall(ctx context.Context, s *Server, method string, query url.Values, contentType, body string) (int, apiAnswer, error) {
	u := s.URL() + "/bot" + testToken + "/" + method
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	verb, rd := http.MethodGet, io.Reader(nil)
	if body != "" {
		verb, rd = http.MethodPost, strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, verb, u, rd)
	if err != nil {
		return 0, apiAnswer{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, apiAnswer{}, fmt.Errorf("%s: %w", method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, apiAnswer{}, err
	}
	var a apiAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		return resp.StatusCode, a, fmt.Errorf("%s: decode %q: %w", method, data, err)
	}
	return resp.StatusCode, a, nil
}

// call is tryCall for the test goroutine.
func call(t *testing.T, ctx context.Context, s *Server, method string, query url.Values, contentType, body string) (int, apiAnswer) {
	t.Helper()
	status, a, err := tryCall(ctx, s, method, query, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, a
}

// tryPoll is a hand-written getUpdates, decoded into the library's models.
// It is safe in goroutines.
func tryPoll(ctx context.Context, s *Server, q url.Values) ([]models.Update, error) {
	status, a, err := tryCall(ctx, s, "getUpdates", q, "", "")
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK || !a.OK {
		return nil, fmt.Errorf("getUpdates: status %d, %+v", status, a)
	}
	var ups []models.Update
	if err := json.Unmarshal(a.Result, &ups); err != nil {
		return nil, fmt.Errorf("decode updates: %w", err)
	}
	return ups, nil
}

// poll is tryPoll for the test goroutine.
func poll(t *testing.T, ctx context.Context, s *Server, q url.Values) []models.Update {
	t.Helper()
	ups, err := tryPoll(ctx, s, q)
	if err != nil {
		t.Fatal(err)
	}
	return ups
}

func ids(ups []models.Update) []int64 {
	out := make([]int64, len(ups))
	for i, u := range ups {
		out[i] = u.ID
	}
	return out
}

func keyboard(rows ...[]models.InlineKeyboardButton) models.InlineKeyboardMarkup {
	return models.InlineKeyboardMarkup{InlineKeyboard: rows}
}
