package bot

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/internal/fakebotapi"
	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

func TestNewRefusesBadSettings(t *testing.T) {
	db := storagetest.New(t)
	tests := []struct {
		name string
		edit func(*config.Config)
		opts []Option
		want string
	}{
		{name: "no token", edit: func(c *config.Config) { c.Telegram.Token = " " }, want: "telegram.token is not set"},
		{name: "webhook over http", edit: func(c *config.Config) {
			c.Telegram.Mode, c.Telegram.WebhookURL = "webhook", "http://example.org/hook"
		}, want: "https://"},
		{name: "webhook without a URL", edit: func(c *config.Config) { c.Telegram.Mode = "webhook" }, want: "webhook_url"},
		{name: "unknown mode", edit: func(c *config.Config) { c.Telegram.Mode = "carrier pigeon" }, want: "telegram.mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Defaults()
			cfg.Telegram.Token = testToken
			tt.edit(&cfg)
			_, err := New(cfg, db, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error about %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}

// Run stops at once, with a clear message, when Telegram rejects the token.
func TestRunRefusesARejectedToken(t *testing.T) {
	h := newHarness(t, "polling")
	other := fakebotapi.New(t, "999:other-token")
	cfg := h.config("")
	cfg.Telegram.ServerURL = other.URL()
	b, err := New(cfg, h.db, WithLogger(h.logger()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = b.Run(ctx, conversation.New(h.db, nil))
	if err == nil || !strings.Contains(err.Error(), "rejected telegram.token") || strings.Contains(err.Error(), testToken) {
		t.Fatalf("Run = %v, want the token rejected (without showing it)", err)
	}
}

// Polling survives server errors, a dropped connection and a webhook that
// someone set meanwhile, backing off between failed calls, and the token
// never appears in the log.
func TestPollingRecoversFromErrors(t *testing.T) {
	h := newHarness(t, "polling")
	h.fake.FailNext("getUpdates", 2, fakebotapi.ServerError())
	h.fake.FailNext("getUpdates", 1, fakebotapi.BadGateway())
	h.fake.FailNext("getUpdates", 1, fakebotapi.Drop())
	h.start()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	msgs := func(chat int64, n int) {
		t.Helper()
		if _, err := h.fake.WaitMessages(ctx, chat, n); err != nil {
			t.Fatal(err)
		}
	}
	h.fake.SendCommand(1, "/start")
	msgs(1, 2)
	calls := h.fake.Calls("getUpdates")
	for i := 1; i < len(calls) && i < 4; i++ {
		// The backoff starts at 500ms less a quarter of jitter.
		if gap := calls[i].Time.Sub(calls[i-1].Time); gap < 350*time.Millisecond {
			t.Errorf("getUpdates retried after %v, want a pause", gap)
		}
	}

	// Someone sets a webhook: the waiting poll gets 409, the bot deletes
	// the webhook and polls on.
	deletes := h.fake.CallCount("deleteWebhook")
	resp, err := http.PostForm(h.fake.URL()+"/bot"+testToken+"/setWebhook", url.Values{"url": {"https://example.org/hook"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h.fake.SendCommand(2, "/start")
	msgs(2, 2)
	if h.fake.CallCount("deleteWebhook") <= deletes || h.fake.WebhookURL() != "" {
		t.Error("the bot did not delete the webhook that blocked polling")
	}
	if s := h.fake.Stats(); s.Conflicts == 0 || s.ServerErrors < 3 {
		t.Errorf("stats %+v: the faults did not happen", s)
	}
}

// Several replicas behind one load balancer share the webhook: each update
// may reach either, and every chat still keeps its order.
func TestReplicasBehindALoadBalancer(t *testing.T) {
	h := newHarness(t, "webhook")
	var backends [2]atomic.Pointer[url.URL]
	var n atomic.Int64
	lb := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		target := backends[n.Add(1)%2].Load()
		if target == nil {
			target = backends[0].Load()
		}
		r.SetURL(target)
	}})
	t.Cleanup(lb.Close)
	lbAddr := strings.TrimPrefix(lb.URL, "http://")

	for i := range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		backends[i].Store(&url.URL{Scheme: "http", Host: ln.Addr().String()})
		b, err := New(h.config(lbAddr), h.db, WithLogger(h.logger()), WithWebhookListener(ln), WithInsecureWebhook(),
			WithSweepInterval(20*time.Millisecond), WithDeliveryOptions(WithDeliveryPoll(20*time.Millisecond)))
		if err != nil {
			t.Fatal(err)
		}
		svc := conversation.New(h.db, dialogs.NewEngine(h.lib, dialogs.WithPauseScale(0.001)), conversation.WithNotify(b.Wake))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx, svc) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.fake.WaitFor(ctx, func(s *fakebotapi.Server) bool { return s.WebhookURL() != "" }); err != nil {
		t.Fatal(err)
	}
	const chats, perChat = 20, 8
	for i := range chats {
		h.fake.SendCommand(int64(100+i), "/start")
	}
	for i := range chats {
		p := h.player(int64(100 + i))
		p.press(p.nextPrompt(ctx), "c:y")
	}
	for k := 1; k <= perChat; k++ {
		for i := range chats {
			h.fake.SendText(int64(100+i), "bericht "+string(rune('0'+k)))
		}
	}
	h.waitIdle(ctx)
	for i := range chats {
		var got []string
		for _, e := range h.transcript(int64(100 + i)) {
			if e.Direction == "in" && e.Kind == "text" {
				got = append(got, strings.TrimPrefix(e.Text, "bericht "))
			}
		}
		if strings.Join(got, "") != "12345678" {
			t.Errorf("chat %d heard %v, want 1..8 in order", 100+i, got)
		}
	}
	if n.Load() < chats*(perChat+2) {
		t.Errorf("the load balancer saw %d requests", n.Load())
	}
}

// A graceful stop finishes the turn in progress, delivers what it queued,
// refuses new webhook posts meanwhile, and leaves later updates for the next
// start.
func TestGracefulStop(t *testing.T) {
	h := newHarness(t, "webhook")
	release := make(chan struct{})
	entered := make(chan struct{})
	var once atomic.Bool
	h.svcOpts = append(h.svcOpts, conversation.WithHook(func(context.Context, *conversation.Turn) error {
		if once.CompareAndSwap(false, true) {
			close(entered)
			<-release // the turn is slow; the stop must wait for it
		}
		return nil
	}))
	in := h.start()
	first := h.fake.SendCommand(10, "/start")
	<-entered
	in.cancel()
	// While the turn runs, the webhook takes no new updates.
	url := "http://" + in.hookAddr + "/telegram"
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(startUpdate(55, 11))))
		req.Header.Set(secretHeader, testSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			break // the listener is closed
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook still answers %d while stopping", resp.StatusCode)
		}
	}
	select {
	case err := <-in.done:
		t.Fatalf("Run returned (%v) before the turn in progress finished", err)
	default:
	}
	close(release)
	if err := <-in.done; err != nil {
		t.Fatal(err)
	}
	in.stopped = true
	if !h.processed(source(first)) {
		t.Error("the turn in progress did not finish")
	}
	if len(h.fake.Messages(10)) < 2 {
		t.Error("what the last turn queued was not delivered before the stop")
	}
	if h.processed("tg:55") {
		t.Error("an update posted during the stop was processed")
	}
}

func TestHealthEndpoints(t *testing.T) {
	h := newHarness(t, "polling")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.start(WithHealthListener(ln))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h.fake.SendCommand(1, "/start")
	if _, err := h.fake.WaitMessages(ctx, 1, 2); err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	tests := []struct {
		path string
		code int
		has  []string
	}{
		{path: "/healthz", code: 200, has: []string{"ok"}},
		{path: "/readyz", code: 200, has: []string{"ready"}},
		{path: "/metrics", code: 200, has: []string{
			`stilstaan_updates_total{kind="command",result="ok"} 1`,
			"stilstaan_turn_latency_seconds_count 1",
			"stilstaan_inbox_depth",
			"stilstaan_telegram_sends_total",
		}},
		{path: "/nothing", code: 404},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(base + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.code {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.code)
			}
			for _, s := range tt.has {
				if !strings.Contains(string(body), s) {
					t.Errorf("body lacks %q", s)
				}
			}
		})
	}

	// Not ready: a database whose schema is behind this binary, or a
	// process that is stopping.
	empty, err := storage.Open(ctx, storagetest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(empty.Close)
	for _, hs := range []*health{{db: empty, log: h.logger()}, {db: h.db, log: h.logger()}} {
		if hs.db == h.db {
			hs.stopping.Store(true)
		}
		rec := httptest.NewRecorder()
		hs.ready(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("readyz = %d (%q), want 503", rec.Code, rec.Body.String())
		}
	}
}
