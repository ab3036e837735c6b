package llm_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stilstaan/stilstaan/llm"
	"github.com/stilstaan/stilstaan/llm/llmtest"
	"github.com/stilstaan/stilstaan/prompts"
)

const (
	testKey = "sk-test-7c1f0e9b"
	// secretAnswer is what the person wrote; it must never show up in an
	// error.
	secretAnswer = "Hij reageert al uren niet en ik wil hem steeds opnieuw appen"
	dutchReply   = "Je merkt dat het stil blijft en dat er onrust in je opkomt. Het is begrijpelijk dat je hem wilt appen. Dat gevoel mag er nu even zijn."
	englishReply = "You notice the silence and the restlessness that comes with it. It makes sense that you want to text him. That feeling can be here right now."
)

func rendered(t *testing.T, lang string) prompts.Rendered {
	t.Helper()
	set, err := prompts.New("")
	if err != nil {
		t.Fatal(err)
	}
	r, err := set.Render(prompts.Request{Exercise: "abandonment", Step: "what", Lang: lang, Question: "Wat gebeurt er nu?", Answer: secretAnswer})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newClient(t *testing.T, srv *llmtest.Server, cfg llm.Config, opts ...llm.Option) *llm.Client {
	t.Helper()
	cfg.BaseURL = srv.BaseURL()
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	if cfg.Model == "" {
		cfg.Model = "test-model"
	}
	c, err := llm.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkError checks err is an *llm.Error with reason and attempts, and
// that its text leaks neither the prompt, the reply nor the key.
func checkError(t *testing.T, err error, reason string, attempts int, leaks ...string) *llm.Error {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *llm.Error", err, err)
	}
	if e.Reason != reason || e.Attempts != attempts {
		t.Errorf("error %q: reason %q attempts %d, want %q and %d", e, e.Reason, e.Attempts, reason, attempts)
	}
	if llm.ReasonOf(err) != reason {
		t.Errorf("ReasonOf = %q, want %q", llm.ReasonOf(err), reason)
	}
	for _, leak := range append(leaks, testKey, secretAnswer, "Je bent Stilstaan") {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("error %q contains %q", err, leak)
		}
	}
	return e
}

func TestReflectOK(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Response{Text: "  " + dutchReply + "\n", Model: "test-model-2025", PromptTokens: 321, CompletionTokens: 45})
	c := newClient(t, srv, llm.Config{Temperature: 0.7})
	r := rendered(t, "nl")
	reply, err := c.Reflect(context.Background(), r, "nl")
	if err != nil {
		t.Fatal(err)
	}
	if reply.Text != dutchReply {
		t.Errorf("Text = %q", reply.Text)
	}
	if reply.Model != "test-model-2025" || reply.PromptTokens != 321 || reply.CompletionTokens != 45 || reply.Latency <= 0 {
		t.Errorf("reply = %+v", reply)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if got.Path != "/v1/chat/completions" || got.APIKey != testKey || got.Model != "test-model" || got.MaxTokens != llm.DefaultMaxTokens {
		t.Errorf("request = %+v", got)
	}
	if got.Temperature == nil || *got.Temperature < 0.69 || *got.Temperature > 0.71 {
		t.Errorf("temperature = %v, want 0.7", got.Temperature)
	}
	if len(got.Messages) != 2 || got.Messages[0].Role != "system" || got.Messages[0].Content != r.System ||
		got.Messages[1].Role != "user" || got.Messages[1].Content != r.User {
		t.Errorf("messages = %+v", got.Messages)
	}
}

func TestReflectDefaultsAndThink(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Reply("<think>\nThe user is anxious. Keep it short.\n</think>\n\n"+dutchReply))
	c := newClient(t, srv, llm.Config{MaxTokens: 120})
	reply, err := c.Reflect(context.Background(), rendered(t, "nl"), "nl")
	if err != nil {
		t.Fatal(err)
	}
	if reply.Text != dutchReply {
		t.Errorf("Text = %q, want the reply without the think block", reply.Text)
	}
	got := srv.Requests()[0]
	if got.Temperature != nil || got.MaxTokens != 120 || got.MaxCompletionTokens != 0 {
		t.Errorf("request = %+v, want no temperature and max_tokens 120", got)
	}
}

func TestReflectReasoningModel(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Reply(dutchReply))
	c := newClient(t, srv, llm.Config{Model: "gpt-5-mini", Temperature: 0.4, MaxTokens: 800})
	if _, err := c.Reflect(context.Background(), rendered(t, "nl"), "nl"); err != nil {
		t.Fatal(err)
	}
	got := srv.Requests()[0]
	if got.MaxTokens != 0 || got.MaxCompletionTokens != 800 || got.Temperature != nil {
		t.Errorf("request = %+v, want max_completion_tokens 800 and no temperature", got)
	}
}

func TestReflectAzure(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Reply(dutchReply))
	c, err := llm.New(llm.Config{BaseURL: srv.URL(), APIKey: testKey, Model: "stilstaan-gpt"}, llm.WithAzure(""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reflect(context.Background(), rendered(t, "nl"), "nl"); err != nil {
		t.Fatal(err)
	}
	got := srv.Requests()[0]
	if got.Path != "/openai/deployments/stilstaan-gpt/chat/completions" || got.Query != "api-version=2024-10-21" || got.APIKey != testKey {
		t.Errorf("request = %+v", got)
	}
}

func TestReflectTimeout(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration // Config.Timeout
		ctxWait time.Duration // deadline on the caller's context; 0 = none
		limit   time.Duration // Reflect must return before this
	}{
		{name: "config timeout", timeout: 300 * time.Millisecond, limit: 1500 * time.Millisecond},
		{name: "earlier context deadline", timeout: time.Minute, ctxWait: 300 * time.Millisecond, limit: 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.Hang())
			c := newClient(t, srv, llm.Config{Timeout: tt.timeout})
			ctx := context.Background()
			if tt.ctxWait > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxWait)
				defer cancel()
			}
			start := time.Now()
			reply, err := c.Reflect(ctx, rendered(t, "nl"), "nl")
			if took := time.Since(start); took > tt.limit {
				t.Errorf("Reflect took %v, want under %v", took, tt.limit)
			}
			checkError(t, err, llm.ReasonTimeout, 1)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not unwrap to context.DeadlineExceeded", err)
			}
			if reply.Text != "" {
				t.Errorf("Text = %q on a timeout", reply.Text)
			}
		})
	}
}

func TestReflectCancelled(t *testing.T) {
	srv := llmtest.NewServer(t)
	c := newClient(t, srv, llm.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Reflect(ctx, rendered(t, "nl"), "nl")
	checkError(t, err, llm.ReasonTimeout, 1)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not unwrap to context.Canceled", err)
	}
}

func TestReflectRetries(t *testing.T) {
	tests := []struct {
		name     string
		timeout  time.Duration
		script   []llmtest.Response
		reason   string // "" = success
		status   int
		calls    int
		minTook  time.Duration
		maxTook  time.Duration
		attempts int
	}{
		{
			name:    "429 with Retry-After that fits is retried",
			timeout: 4 * time.Second, script: []llmtest.Response{llmtest.RateLimited("1"), llmtest.Reply(dutchReply)},
			calls: 2, minTook: time.Second, maxTook: 3 * time.Second,
		},
		{
			name:    "429 with retry-after-ms that fits is retried",
			timeout: 2 * time.Second, script: []llmtest.Response{{Status: 429, Header: map[string]string{"retry-after-ms": "50"}}, llmtest.Reply(dutchReply)},
			calls: 2, minTook: 50 * time.Millisecond, maxTook: time.Second,
		},
		{
			name:    "429 with Retry-After that does not fit is not retried",
			timeout: 2 * time.Second, script: []llmtest.Response{llmtest.RateLimited("30"), llmtest.Reply(dutchReply)},
			reason: llm.ReasonRateLimited, status: 429, attempts: 1, calls: 1, maxTook: time.Second,
		},
		{
			name:    "429 twice",
			timeout: 3 * time.Second, script: []llmtest.Response{llmtest.RateLimited(""), llmtest.RateLimited("")},
			reason: llm.ReasonRateLimited, status: 429, attempts: 2, calls: 2, maxTook: 2 * time.Second,
		},
		{
			name:    "500 then success",
			timeout: 2 * time.Second, script: []llmtest.Response{llmtest.Status(500), llmtest.Reply(dutchReply)},
			calls: 2, maxTook: time.Second,
		},
		{
			name:    "500 twice",
			timeout: 2 * time.Second, script: []llmtest.Response{llmtest.Status(500), llmtest.Status(502)},
			reason: llm.ReasonServerError, status: 502, attempts: 2, calls: 2, maxTook: time.Second,
		},
		{
			name:    "slow 503 leaves no time to retry",
			timeout: time.Second, script: []llmtest.Response{{Status: 503, Delay: 600 * time.Millisecond}, llmtest.Reply(dutchReply)},
			reason: llm.ReasonServerError, status: 503, attempts: 1, calls: 1, maxTook: 950 * time.Millisecond,
		},
		{
			name:    "broken JSON twice",
			timeout: 2 * time.Second, script: []llmtest.Response{llmtest.Broken()},
			reason: llm.ReasonBadResponse, status: 200, attempts: 2, calls: 2, maxTook: time.Second,
		},
		{
			name:    "broken JSON then success",
			timeout: 2 * time.Second, script: []llmtest.Response{llmtest.Broken(), llmtest.Reply(dutchReply)},
			calls: 2, maxTook: time.Second,
		},
		{
			name:    "not JSON at all",
			timeout: 2 * time.Second, script: []llmtest.Response{{Body: "<html>Bad Gateway</html>"}},
			reason: llm.ReasonBadResponse, status: 200, attempts: 2, calls: 2, maxTook: time.Second,
		},
		{
			name:    "no choices",
			timeout: 2 * time.Second, script: []llmtest.Response{{NoChoices: true}},
			reason: llm.ReasonBadResponse, status: 200, attempts: 2, calls: 2, maxTook: time.Second,
		},
		{
			name:    "401 is not retried",
			timeout: 2 * time.Second, script: []llmtest.Response{llmtest.Status(401), llmtest.Reply(dutchReply)},
			reason: llm.ReasonBadResponse, status: 401, attempts: 1, calls: 1, maxTook: time.Second,
		},
		{
			name:    "cut-off reply is not retried",
			timeout: 2 * time.Second, script: []llmtest.Response{{Text: "Je merkt dat het stil", FinishReason: "length"}, llmtest.Reply(dutchReply)},
			reason: llm.ReasonBadResponse, status: 200, attempts: 1, calls: 1, maxTook: time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, tt.script...)
			c := newClient(t, srv, llm.Config{Timeout: tt.timeout})
			start := time.Now()
			reply, err := c.Reflect(context.Background(), rendered(t, "nl"), "nl")
			took := time.Since(start)
			if took < tt.minTook || took > tt.maxTook {
				t.Errorf("Reflect took %v, want %v..%v", took, tt.minTook, tt.maxTook)
			}
			if srv.Calls() != tt.calls {
				t.Errorf("server saw %d calls, want %d", srv.Calls(), tt.calls)
			}
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Reflect: %v", err)
				}
				if reply.Text != dutchReply {
					t.Errorf("Text = %q", reply.Text)
				}
				return
			}
			e := checkError(t, err, tt.reason, tt.attempts, `{"id"`, "Bad Gateway")
			if e.Status != tt.status {
				t.Errorf("Status = %d, want %d", e.Status, tt.status)
			}
			if reply.Text != "" {
				t.Errorf("Text = %q on an error", reply.Text)
			}
		})
	}
}

func TestReflectUnreachable(t *testing.T) {
	srv := llmtest.NewServer(t)
	c := newClient(t, srv, llm.Config{Timeout: 2 * time.Second})
	srv.Close()
	_, err := c.Reflect(context.Background(), rendered(t, "nl"), "nl")
	e := checkError(t, err, llm.ReasonServerError, 2)
	if e.Status != 0 {
		t.Errorf("Status = %d, want 0", e.Status)
	}
}

func TestReflectGuard(t *testing.T) {
	crisis := func(s string) bool { return strings.Contains(strings.ToLower(s), "niet meer wil leven") }
	tests := []struct {
		name   string
		text   string
		lang   string
		max    int
		reason string
	}{
		{name: "over-long reply", text: strings.Repeat("Dat gevoel mag er zijn. ", 10), lang: "nl", max: 120, reason: "guard_rejected:too_long"},
		{name: "link", text: "Je voelt je alleen en dat is zwaar. Op https://example.nl/hulp vind je meer.", lang: "nl", reason: "guard_rejected:link"},
		{name: "phone number", text: "Je voelt je alleen en dat is zwaar. Bel gerust 06-12345678 als je wilt.", lang: "nl", reason: "guard_rejected:phone"},
		{name: "diagnosis", text: "Wat je beschrijft past bij een angststoornis, en dat is zwaar voor je.", lang: "nl", reason: "guard_rejected:diagnosis"},
		{name: "medication", text: "Misschien kunnen medicijnen je helpen om rustiger te worden.", lang: "nl", reason: "guard_rejected:medication"},
		{name: "crisis wording", text: "Je schrijft dat je niet meer wil leven, en dat is heel zwaar.", lang: "nl", reason: "guard_rejected:crisis"},
		{name: "human claim", text: "Ik ben ook maar een mens en ik snap dat het stil zijn pijn doet.", lang: "nl", reason: "guard_rejected:human_claim"},
		{name: "dutch request answered in english", text: englishReply, lang: "nl", reason: "guard_rejected:language"},
		{name: "empty", text: "  ", lang: "nl", reason: "guard_rejected:empty"},
		{name: "allowed helpline", text: "Je hoeft dit niet alleen te dragen. Je kunt 113 bellen of chatten op 113.nl als je wilt.", lang: "nl"},
		{name: "english", text: englishReply, lang: "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.Response{Text: tt.text, PromptTokens: 100, CompletionTokens: 20}, llmtest.Reply(dutchReply))
			guard := llm.NewGuard([]string{"113", "113.nl"}, crisis)
			c := newClient(t, srv, llm.Config{MaxReplyChars: tt.max}, llm.WithGuard(guard))
			reply, err := c.Reflect(context.Background(), rendered(t, tt.lang), tt.lang)
			if srv.Calls() != 1 {
				t.Errorf("server saw %d calls, want 1 (a guard rejection is not retried)", srv.Calls())
			}
			if tt.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				if reply.Text != strings.TrimSpace(tt.text) {
					t.Errorf("Text = %q", reply.Text)
				}
				return
			}
			leaks := []string{}
			if strings.TrimSpace(tt.text) != "" {
				leaks = append(leaks, tt.text[:20])
			}
			e := checkError(t, err, tt.reason, 1, leaks...)
			if e.Rule() != strings.TrimPrefix(tt.reason, "guard_rejected:") {
				t.Errorf("Rule() = %q", e.Rule())
			}
			if reply.Text != "" || reply.PromptTokens != 100 || reply.CompletionTokens != 20 || reply.Model == "" {
				t.Errorf("reply = %+v, want usage but no text", reply)
			}
		})
	}
}

func TestReflectDisabled(t *testing.T) {
	srv := llmtest.NewServer(t)
	c, err := llm.New(llm.Config{BaseURL: srv.BaseURL(), Model: "test-model"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Enabled() {
		t.Fatal("Enabled() = true without a key")
	}
	_, err = c.Reflect(context.Background(), rendered(t, "nl"), "nl")
	checkError(t, err, llm.ReasonDisabled, 0)
	if srv.Calls() != 0 {
		t.Errorf("a disabled client sent %d requests", srv.Calls())
	}
	var nilClient *llm.Client
	if nilClient.Enabled() {
		t.Error("a nil client reports enabled")
	}
	keyless := newClient(t, srv, llm.Config{APIKey: "ollama"})
	if !keyless.Enabled() {
		t.Error(`a client with key "ollama" is not enabled`)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  llm.Config
		opts []llm.Option
		want string
	}{
		{name: "no model", cfg: llm.Config{APIKey: testKey}, want: "model is required"},
		{name: "relative base URL", cfg: llm.Config{APIKey: testKey, Model: "m", BaseURL: "localhost:11434/v1"}, want: "base URL"},
		{name: "base URL with other scheme", cfg: llm.Config{APIKey: testKey, Model: "m", BaseURL: "ftp://example.com/v1"}, want: "base URL"},
		{name: "temperature", cfg: llm.Config{APIKey: testKey, Model: "m", Temperature: 3}, want: "temperature"},
		{name: "negative reply cap", cfg: llm.Config{APIKey: testKey, Model: "m", MaxReplyChars: -1}, want: "max reply chars"},
		{name: "azure without resource", cfg: llm.Config{APIKey: testKey, Model: "m"}, opts: []llm.Option{llm.WithAzure("")}, want: "Azure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := llm.New(tt.cfg, tt.opts...)
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error %q contains the key", err)
			}
		})
	}
}

func TestReflectConcurrent(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.RespondWith(func(r llmtest.Request) llmtest.Response {
		if strings.Contains(r.Messages[0].Content, "in English") {
			return llmtest.Reply(englishReply)
		}
		return llmtest.Reply(dutchReply)
	})
	c := newClient(t, srv, llm.Config{})
	nl, en := rendered(t, "nl"), rendered(t, "en")
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			r, lang := nl, "nl"
			if i%2 == 1 {
				r, lang = en, "en"
			}
			if _, err := c.Reflect(context.Background(), r, lang); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if srv.Calls() != 20 {
		t.Errorf("server saw %d calls, want 20", srv.Calls())
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := llm.NewMetrics(reg)
	srv := llmtest.NewServer(t,
		llmtest.Response{Text: dutchReply, PromptTokens: 100, CompletionTokens: 30},
		llmtest.Status(500), llmtest.Response{Text: dutchReply, PromptTokens: 90, CompletionTokens: 25},
		llmtest.Status(500), llmtest.Status(500),
		llmtest.Response{Text: englishReply, PromptTokens: 80, CompletionTokens: 20},
	)
	c := newClient(t, srv, llm.Config{Timeout: 2 * time.Second}, llm.WithMetrics(m))
	for range 4 {
		_, _ = c.Reflect(context.Background(), rendered(t, "nl"), "nl")
	}
	want := map[string]float64{
		`stilstaan_llm_requests_total{result="ok"}`:                           2,
		`stilstaan_llm_requests_total{result="server_error"}`:                 1,
		`stilstaan_llm_requests_total{result="guard_rejected"}`:               1,
		`stilstaan_llm_requests_total{result="timeout"}`:                      0,
		`stilstaan_llm_retries_total{reason="server_error"}`:                  2,
		`stilstaan_llm_guard_rejections_total{rule="language"}`:               1,
		`stilstaan_llm_tokens_total{kind="prompt"}`:                           270,
		`stilstaan_llm_tokens_total{kind="completion"}`:                       75,
		`stilstaan_llm_request_duration_seconds_count{result="ok"}`:           2,
		`stilstaan_llm_request_duration_seconds_count{result="server_error"}`: 1,
	}
	got := gather(t, reg)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// gather flattens the registry into "name{label="value"}" -> value, with
// histograms as name_count.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			key := "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[f.GetName()+key] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				out[f.GetName()+"_count"+key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestReasonOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "nil", err: nil, want: ""},
		{name: "llm error", err: &llm.Error{Reason: llm.ReasonTimeout}, want: "timeout"},
		{name: "wrapped", err: errWrap(&llm.Error{Reason: "guard_rejected:link"}), want: "guard_rejected:link"},
		{name: "other", err: errors.New("boom"), want: llm.ReasonBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := llm.ReasonOf(tt.err); got != tt.want {
				t.Errorf("ReasonOf = %q, want %q", got, tt.want)
			}
		})
	}
}

func errWrap(err error) error { return errors.Join(errors.New("reflect step"), err) }
