// Package fakebotapi is a fake Telegram Bot API server for tests, benchmarks
// and soak runs.
//
// It is a real HTTP server that speaks the Bot API wire format, so the
// go-telegram/bot client (pointed at it with bot.WithServerURL) and
// hand-written HTTP code (a long-poll getUpdates, a JSON POST) work against it
// unchanged. The server plays the people on the other side (SendText,
// SendCommand, PressButton, Block, SendUpdate), records every call the bot
// makes (Calls, Sent, LastMessage), lets tests wait for a condition without
// sleeping (WaitFor, WaitMessages), delivers updates by long polling or by
// webhook, and injects faults deterministically (FailNext, SetFault,
// EnforceLimits): 429 with retry_after, 500, 502, 400, 403, slow answers and
// dropped connections.
//
// Everything is safe for concurrent use. Recording is O(1) per call, so a
// benchmark can push 100,000 messages through it.
package fakebotapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
)

// Option configures a Server.
type Option func(*config)

type config struct {
	bot             models.User
	now             func() time.Time
	webhookAttempts int
	webhookBackoff  time.Duration
	webhookTimeout  time.Duration
	maxUpload       int64
}

// WithBotUser sets the user getMe answers and that appears as the sender of
// the bot's messages. By default its id is the number before ':' in the token
// and its username is "stilstaan_test_bot".
func WithBotUser(u models.User) Option {
	return func(c *config) { c.bot = u }
}

// WithClock sets the clock used for message dates, call times and the
// per-second rate accounting of EnforceLimits, so a test can move time by
// hand. Delays (Slow faults, long-poll timeouts, webhook backoff) always use
// real time.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithWebhookRetry sets how often an update is posted to the webhook before the
// server gives up on it (attempts, at least 1; default 5) and the pause before
// the first retry, doubled after each failure up to one second (default 10ms).
func WithWebhookRetry(attempts int, backoff time.Duration) Option {
	return func(c *config) {
		c.webhookAttempts = max(attempts, 1)
		c.webhookBackoff = max(backoff, 0)
	}
}

// WithWebhookTimeout limits each webhook POST (default 10s).
func WithWebhookTimeout(d time.Duration) Option {
	return func(c *config) { c.webhookTimeout = d }
}

// Server is a running fake Bot API server. Create it with New (tests) or
// Start/StartAt (commands), and stop it with Close.
type Server struct {
	token   string
	cfg     config
	srv     *httptest.Server
	webhook *http.Client

	closing   chan struct{}
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	bg        sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	changed signal // any recorded call or state change
	updSig  signal // update queue, webhook or poller change

	// Updates.
	nextUpdateID int64
	queue        []*update
	allowed      map[string]bool // nil means Telegram's default set
	pollGen      uint64
	polling      int
	hook         *webhookConfig
	hookGen      uint64
	hookBusy     map[int64]bool
	hookInflight int
	hookErrDate  int64
	hookErrMsg   string

	// Chats and bot state.
	chats        map[int64]*chat
	callbacks    map[string]int64
	nextCallback int64
	nextFile     int64
	commands     map[string][]models.BotCommand

	// Records.
	seq      int64
	calls    []*Call
	byMethod map[string][]*Call
	dups     map[dupKey]int
	attempts map[uint64]int

	// Faults and limits.
	failNext     map[string][]Fault
	faultFn      func(method string, chatID int64, attempt int) *Fault
	perChatLimit int
	globalLimit  int
	globalSec    int64
	globalCount  int
	perSecond    map[int64]int

	stats Stats
}

// New starts a Server for a test and closes it when the test ends.
func New(t testing.TB, token string, opts ...Option) *Server {
	t.Helper()
	s := Start(token, opts...)
	t.Cleanup(s.Close)
	return s
}

// Start starts a Server on a free port of 127.0.0.1. It panics when it cannot
// listen, as httptest.NewServer does. Call Close when done.
func Start(token string, opts ...Option) *Server {
	s := newServer(token, opts)
	s.srv = httptest.NewServer(s)
	return s
}

// StartAt starts a Server listening on addr (for example "127.0.0.1:8081"),
// so a bot running in another process can be pointed at it.
func StartAt(addr, token string, opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fakebotapi: listen: %w", err)
	}
	s := newServer(token, opts)
	s.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: s}}
	s.srv.Start()
	return s, nil
}

func newServer(token string, opts []Option) *Server {
	if strings.TrimSpace(token) == "" || strings.Contains(token, "/") {
		panic("fakebotapi: the token must be non-empty and contain no '/'")
	}
	cfg := config{
		now:             time.Now,
		webhookAttempts: 5,
		webhookBackoff:  10 * time.Millisecond,
		webhookTimeout:  10 * time.Second,
		maxUpload:       64 << 20,
	}
	cfg.bot = models.User{
		ID:                      botIDFromToken(token),
		IsBot:                   true,
		FirstName:               "Stilstaan Test",
		Username:                "stilstaan_test_bot",
		CanJoinGroups:           true,
		CanReadAllGroupMessages: false,
		SupportInlineQueries:    false,
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		token:     token,
		cfg:       cfg,
		webhook:   &http.Client{Timeout: cfg.webhookTimeout},
		closing:   make(chan struct{}),
		ctx:       ctx,
		cancel:    cancel,
		hookBusy:  map[int64]bool{},
		chats:     map[int64]*chat{},
		callbacks: map[string]int64{},
		commands:  map[string][]models.BotCommand{},
		byMethod:  map[string][]*Call{},
		dups:      map[dupKey]int{},
		attempts:  map[uint64]int{},
		failNext:  map[string][]Fault{},
		perSecond: map[int64]int{},
	}
}

func botIDFromToken(token string) int64 {
	head, _, _ := strings.Cut(token, ":")
	id, err := strconv.ParseInt(head, 10, 64)
	if err != nil || id <= 0 {
		return 123456789
	}
	return id
}

// URL is the base URL to give bot.WithServerURL, without a trailing slash;
// methods live at URL()+"/bot"+token+"/"+method.
func (s *Server) URL() string { return s.srv.URL }

// Token is the bot token the server accepts.
func (s *Server) Token() string { return s.token }

// BotUser is the user getMe answers.
func (s *Server) BotUser() models.User { return s.cfg.bot }

// Close ends waiting long polls and webhook deliveries, stops the HTTP server
// and waits for its goroutines. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.updSig.broadcast()
		s.changed.broadcast()
		s.mu.Unlock()
		close(s.closing)
		s.cancel()
		s.srv.Close()
		s.bg.Wait()
	})
}

func (s *Server) now() time.Time { return s.cfg.now() }

// signal lets any number of goroutines wait for the next change. The channel
// is only made when someone waits, so signalling costs nothing otherwise.
// Both methods need Server.mu.
type signal struct{ ch chan struct{} }

func (g *signal) wait() <-chan struct{} {
	if g.ch == nil {
		g.ch = make(chan struct{})
	}
	return g.ch
}

func (g *signal) broadcast() {
	if g.ch != nil {
		close(g.ch)
		g.ch = nil
	}
}

// methodNames maps lower-case method names to their canonical spelling; the
// Bot API treats method names case-insensitively.
var methodNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
		"getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo",
		"sendMessage", "editMessageText", "editMessageReplyMarkup", "deleteMessage",
		"answerCallbackQuery", "sendChatAction", "sendPhoto", "sendDocument",
		"setMyCommands", "getMyCommands", "deleteMyCommands",
	} {
		m[strings.ToLower(n)] = n
	}
	return m
}()

func canonicalMethod(name string) string {
	if c, ok := methodNames[strings.ToLower(name)]; ok {
		return c
	}
	return name
}

func splitPath(p string) (token, method string, ok bool) {
	rest, found := strings.CutPrefix(p, "/bot")
	if !found {
		return "", "", false
	}
	token, method, found = strings.Cut(rest, "/")
	if !found || token == "" || method == "" || strings.Contains(method, "/") {
		return "", "", false
	}
	return token, method, true
}

// ServeHTTP answers one Bot API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, method, ok := splitPath(r.URL.Path)
	if !ok {
		writeReply(w, errReply(http.StatusNotFound, "Not Found"))
		return
	}
	call := &Call{Method: canonicalMethod(method), Time: s.now()}
	params, files, perr := parseRequest(w, r, s.cfg.maxUpload)
	call.Params, call.Files = params, files
	if token != s.token {
		rep := errReply(http.StatusUnauthorized, "Unauthorized")
		s.commit(call, rep, nil)
		writeReply(w, rep)
		return
	}
	if perr != nil {
		rep := errReply(http.StatusBadRequest, "Bad Request: "+perr.Error())
		s.commit(call, rep, nil)
		writeReply(w, rep)
		return
	}

	fault := s.pickFault(call)
	ctx := r.Context()
	if fault != nil && !fault.AfterProcessing {
		if fault.Delay > 0 && !s.pause(ctx, fault.Delay) {
			s.commitCanceled(call)
			return
		}
		if fault.Drop {
			s.commit(call, reply{}, fault)
			s.drop(w)
			return
		}
		if fault.Status != 0 {
			rep := fault.reply()
			s.commit(call, rep, fault)
			writeReply(w, rep)
			return
		}
	}

	var rep reply
	if call.Method == "getUpdates" {
		rep = s.getUpdates(ctx, call, fault)
		if rep.status == 0 {
			return // the client went away or the server is closing
		}
	} else {
		s.mu.Lock()
		rep = s.applyLocked(call)
		s.recordLocked(call, rep, fault)
		s.mu.Unlock()
	}

	if fault != nil && fault.AfterProcessing {
		if fault.Delay > 0 && !s.pause(ctx, fault.Delay) {
			s.mu.Lock()
			call.Canceled = true
			s.stats.Canceled++
			s.changed.broadcast()
			s.mu.Unlock()
			return
		}
		if fault.Drop {
			s.drop(w)
			return
		}
		if fault.Status != 0 {
			writeReply(w, fault.reply())
			return
		}
	}
	writeReply(w, rep)
}

// pause waits d, and reports false when the request or the server ended first.
func (s *Server) pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

// drop closes the connection without an answer.
func (s *Server) drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// reply is one answer, ready to write.
type reply struct {
	status  int
	body    []byte
	desc    string
	html    bool
	limited bool // a 429 from EnforceLimits
}

type okEnvelope struct {
	OK          bool   `json:"ok"`
	Result      any    `json:"result"`
	Description string `json:"description,omitempty"`
}

type errParams struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

type errEnvelope struct {
	OK          bool       `json:"ok"`
	ErrorCode   int        `json:"error_code"`
	Description string     `json:"description"`
	Parameters  *errParams `json:"parameters,omitempty"`
}

func okReply(result any) reply { return okReplyDesc(result, "") }

func okReplyDesc(result any, desc string) reply {
	body, err := json.Marshal(okEnvelope{OK: true, Result: result, Description: desc})
	if err != nil {
		return errReply(http.StatusInternalServerError, "Internal Server Error: "+err.Error())
	}
	return reply{status: http.StatusOK, body: body}
}

func errReply(status int, desc string) reply { return errReplyRetry(status, desc, 0) }

func errReplyRetry(status int, desc string, retryAfter int) reply {
	env := errEnvelope{ErrorCode: status, Description: desc}
	if retryAfter > 0 {
		env.Parameters = &errParams{RetryAfter: retryAfter}
	}
	body, _ := json.Marshal(env)
	return reply{status: status, body: body, desc: desc}
}

func retryReply(after int) reply {
	return errReplyRetry(http.StatusTooManyRequests, "Too Many Requests: retry after "+strconv.Itoa(after), after)
}

func badRequest(desc string) reply { return errReply(http.StatusBadRequest, "Bad Request: "+desc) }

func writeReply(w http.ResponseWriter, rep reply) {
	if rep.html {
		w.Header().Set("Content-Type", "text/html")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}
