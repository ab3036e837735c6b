package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stilstaan/stilstaan/internal/fakebotapi"
)

// botToken is the token the fake Bot API accepts from the bot.
const botToken = "424242:BENCH-token_stilstaan"

// telegram is the fake Bot API as the bot sees it: the fake server, reached
// through a tap that tells each simulated person, the moment a call about
// their chat arrives, what the bot sent or edited.
type telegram struct {
	fake *fakebotapi.Server
	tap  *tap
	srv  *http.Server
	ln   net.Listener
}

// startTelegram starts the fake Bot API on loopback behind a tap.
func startTelegram(opts ...fakebotapi.Option) (*telegram, error) {
	fake := fakebotapi.Start(botToken, opts...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fake.Close()
		return nil, fmt.Errorf("bench: listen for the fake Bot API: %w", err)
	}
	t := &tap{fake: fake, chats: map[int64]chan chatEvent{}}
	srv := &http.Server{Handler: t, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &telegram{fake: fake, tap: t, srv: srv, ln: ln}, nil
}

// URL is the Bot API server URL to configure the bot with.
func (t *telegram) URL() string { return "http://" + t.ln.Addr().String() }

func (t *telegram) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = t.srv.Shutdown(ctx)
	t.fake.Close()
}

// chatEvent is one call of the bot about a chat: a message sent or edited.
type chatEvent struct {
	at      time.Time // when the request reached the fake server
	method  string
	message int        // the message sent or edited
	buttons [][]button // its inline keyboard after the call; nil when it has none
	text    string
}

// button is one inline keyboard button.
type button struct {
	Text string `json:"text"`
	Data string `json:"callback_data"`
}

// tap hands the fake server every request and reports the messages it
// accepted to the chat's listener.
type tap struct {
	fake    *fakebotapi.Server
	mu      sync.RWMutex
	chats   map[int64]chan chatEvent
	dropped atomic.Int64 // events a full channel could not take
}

// listen registers a chat and returns its events.
func (t *tap) listen(chat int64) <-chan chatEvent {
	ch := make(chan chatEvent, 256)
	t.mu.Lock()
	t.chats[chat] = ch
	t.mu.Unlock()
	return ch
}

// tapped are the methods whose answers are reported.
var tapped = map[string]bool{
	"sendmessage": true, "sendphoto": true, "senddocument": true,
	"editmessagetext": true, "editmessagereplymarkup": true,
}

func (t *tap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	_, method, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/bot"), "/")
	if !tapped[strings.ToLower(method)] {
		t.fake.ServeHTTP(w, r)
		return
	}
	cw := &captureWriter{ResponseWriter: w}
	t.fake.ServeHTTP(cw, r)
	chat, ev, ok := parseAnswer(cw.body.Bytes())
	if !ok {
		return
	}
	t.mu.RLock()
	ch := t.chats[chat]
	t.mu.RUnlock()
	if ch == nil {
		return
	}
	ev.at, ev.method = at, method
	select {
	case ch <- ev:
	default:
		t.dropped.Add(1)
	}
}

// answer is the part of a Bot API answer the tap reads.
type answer struct {
	OK     bool `json:"ok"`
	Result struct {
		MessageID int `json:"message_id"`
		Chat      struct {
			ID int64 `json:"id"`
		} `json:"chat"`
		Text        string `json:"text"`
		Caption     string `json:"caption"`
		ReplyMarkup struct {
			InlineKeyboard [][]button `json:"inline_keyboard"`
		} `json:"reply_markup"`
	} `json:"result"`
}

// parseAnswer reads the chat, message and keyboard of a successful send or
// edit.
func parseAnswer(body []byte) (int64, chatEvent, bool) {
	var a answer
	if err := json.Unmarshal(body, &a); err != nil || !a.OK || a.Result.Chat.ID == 0 {
		return 0, chatEvent{}, false
	}
	text := a.Result.Text
	if text == "" {
		text = a.Result.Caption
	}
	return a.Result.Chat.ID, chatEvent{message: a.Result.MessageID, buttons: a.Result.ReplyMarkup.InlineKeyboard, text: text}, true
}

// captureWriter keeps a copy of the body written through it.
type captureWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

// keepAlive swaps http.DefaultTransport, which the fake server's webhook
// client uses, for one that keeps enough idle connections for
// max_connections concurrent posts: the default keeps two per host, so most
// posts would open a new connection, where Telegram keeps its connections
// open. It returns a function that puts the old transport back once every
// caller is done.
func keepAlive() func() {
	transportMu.Lock()
	defer transportMu.Unlock()
	if transportUsers == 0 {
		savedTransport = http.DefaultTransport
		t := &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 128,
			IdleConnTimeout:     90 * time.Second,
		}
		benchTransport = t
		http.DefaultTransport = t
	}
	transportUsers++
	var once sync.Once
	return func() {
		once.Do(func() {
			transportMu.Lock()
			defer transportMu.Unlock()
			transportUsers--
			if transportUsers == 0 {
				http.DefaultTransport = savedTransport
				benchTransport.CloseIdleConnections()
			}
		})
	}
}

var (
	transportMu    sync.Mutex
	transportUsers int
	savedTransport http.RoundTripper
	benchTransport *http.Transport
)

// errStalled says a simulated person waited for an answer that did not come.
var errStalled = errors.New("bench: no answer from the bot")
