package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/stilstaan/stilstaan/prompts"
)

// Defaults for Config fields left at zero.
const (
	DefaultTimeout   = 8 * time.Second
	DefaultMaxTokens = 300
)

const (
	// minRetryWindow is the least time a second attempt is given; with
	// less left before the deadline, the first failure is final.
	minRetryWindow = 500 * time.Millisecond
	// retryPause is the pause before retrying a 5xx, a network error or a
	// garbled body; rateLimitPause before retrying a 429 that did not say
	// when to come back.
	retryPause     = 200 * time.Millisecond
	rateLimitPause = 500 * time.Millisecond
	// maxBodyBytes caps what is read of a response; a reflection is a few
	// hundred bytes of JSON.
	maxBodyBytes = 1 << 20
	// defaultAzureAPIVersion is used by WithAzure("").
	defaultAzureAPIVersion = "2024-10-21"
)

// Config says which endpoint and model to use. It is usually filled from
// the config package.
type Config struct {
	// BaseURL is the API base including the version path, e.g.
	// "https://api.openai.com/v1" (the default when empty),
	// "http://localhost:11434/v1" (Ollama), "http://localhost:8000/v1"
	// (vLLM), "http://localhost:1234/v1" (LM Studio),
	// "https://openrouter.ai/api/v1", or
	// "https://<resource>.openai.azure.com/openai/v1".
	BaseURL string
	// APIKey is sent as a bearer token (or as api-key with WithAzure).
	// Empty disables the client; a keyless local endpoint is configured
	// with any non-empty key, e.g. "ollama".
	APIKey string
	// Model is the model (or Azure deployment) name; required with a key.
	Model string
	// Timeout bounds a whole Reflect call, retry included; default 8s. A
	// deadline on the caller's context that is earlier wins.
	Timeout time.Duration
	// MaxTokens caps the reply's tokens; default 300. Reasoning models
	// count their reasoning in it, so give those more.
	MaxTokens int
	// Temperature is the sampling temperature, 0 to 2; 0 leaves it to the
	// endpoint's default.
	Temperature float32
	// MaxReplyChars caps a reply's length in characters; 0 keeps the
	// Guard's cap (DefaultMaxReplyChars unless the Guard says otherwise).
	MaxReplyChars int
}

// Option configures a Client beyond its Config.
type Option func(*options)

type options struct {
	guard        *Guard
	metrics      *Metrics
	httpClient   *http.Client
	azure        bool
	azureVersion string
}

// WithGuard sets the Guard every reply must pass. Without it a Client uses
// NewGuard(nil, nil): no allowed numbers or addresses and no crisis
// classifier.
func WithGuard(g *Guard) Option { return func(o *options) { o.guard = g } }

// WithMetrics makes the Client record its calls in m.
func WithMetrics(m *Metrics) Option { return func(o *options) { o.metrics = m } }

// WithHTTPClient sets the HTTP client requests go through, e.g. for a
// proxy. Its Timeout, if any, applies per attempt on top of Config.Timeout.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithAzure talks to Azure OpenAI's deployment API: BaseURL is the
// resource ("https://<resource>.openai.azure.com"), Model the deployment
// name, the key goes in the api-key header, and apiVersion is the
// api-version query value (default "2024-10-21"). Azure's newer v1 API
// needs no option: set BaseURL to ".../openai/v1".
func WithAzure(apiVersion string) Option {
	return func(o *options) {
		o.azure = true
		o.azureVersion = apiVersion
	}
}

// Reply is a reflection that passed the Guard, with what it cost.
type Reply struct {
	Text             string        // the reflection, trimmed
	Model            string        // the model that answered, as the endpoint named it
	PromptTokens     int           // as reported by the endpoint, summed over attempts
	CompletionTokens int           // as reported by the endpoint, summed over attempts
	Latency          time.Duration // the whole call, retry included
}

// Client asks an OpenAI-compatible endpoint for reflections. It is safe for
// concurrent use.
type Client struct {
	cfg     Config
	api     *openai.Client
	guard   *Guard
	metrics *Metrics
	// useCompletionTokens and dropTemperature adapt the request to
	// reasoning models, which refuse max_tokens and a temperature.
	useCompletionTokens bool
	dropTemperature     bool
}

// New returns a Client for cfg. With an empty APIKey it returns a disabled
// Client (Enabled reports false, Reflect returns ReasonDisabled) and no
// error. Errors never contain the key.
func New(cfg Config, opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = DefaultMaxTokens
	}
	if cfg.Temperature < 0 || cfg.Temperature > 2 {
		return nil, fmt.Errorf("llm: new: temperature %.2f is outside 0..2", cfg.Temperature)
	}
	if cfg.MaxReplyChars < 0 {
		return nil, fmt.Errorf("llm: new: max reply chars %d is negative", cfg.MaxReplyChars)
	}
	guard := o.guard
	if guard == nil {
		guard = NewGuard(nil, nil)
	}
	c := &Client{cfg: cfg, guard: guard.WithMaxChars(cfg.MaxReplyChars), metrics: o.metrics}
	if cfg.APIKey == "" {
		return c, nil
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("llm: new: a model is required when an API key is set")
	}

	var oc openai.ClientConfig
	if o.azure {
		if cfg.BaseURL == "" {
			return nil, errors.New("llm: new: Azure needs the resource URL as base URL")
		}
		oc = openai.DefaultAzureConfig(cfg.APIKey, cfg.BaseURL)
		oc.AzureModelMapperFunc = func(model string) string { return model }
		oc.APIVersion = o.azureVersion
		if oc.APIVersion == "" {
			oc.APIVersion = defaultAzureAPIVersion
		}
	} else {
		oc = openai.DefaultConfig(cfg.APIKey)
		if cfg.BaseURL != "" {
			oc.BaseURL = cfg.BaseURL
		}
	}
	u, err := url.Parse(oc.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("llm: new: base URL must be an absolute http or https URL")
	}
	hc := o.httpClient
	if hc == nil {
		hc = &http.Client{}
	}
	oc.HTTPClient = recordingDoer{next: hc}
	c.api = openai.NewClientWithConfig(oc)

	// Reasoning models (o1, o3, gpt-5, ...) refuse max_tokens and most
	// temperatures; go-openai checks that before sending, so adapt once
	// here rather than fail every call.
	validator := openai.NewReasoningValidator()
	if validator.Validate(c.chatRequest(prompts.Rendered{})) != nil {
		c.useCompletionTokens = true
	}
	if validator.Validate(c.chatRequest(prompts.Rendered{})) != nil {
		c.dropTemperature = true
	}
	if err := validator.Validate(c.chatRequest(prompts.Rendered{})); err != nil {
		return nil, fmt.Errorf("llm: new: model %q: %w", cfg.Model, err)
	}
	return c, nil
}

// Enabled reports whether the Client has an API key. When it has none the
// caller uses scripted reflections.
func (c *Client) Enabled() bool { return c != nil && c.cfg.APIKey != "" }

// Guard returns the Guard the Client checks replies with.
func (c *Client) Guard() *Guard { return c.guard }

func (c *Client) chatRequest(r prompts.Rendered) openai.ChatCompletionRequest {
	req := openai.ChatCompletionRequest{Model: c.cfg.Model, Temperature: c.cfg.Temperature}
	if r.System != "" {
		req.Messages = append(req.Messages, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleSystem, Content: r.System})
	}
	req.Messages = append(req.Messages, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: r.User})
	if c.useCompletionTokens {
		req.MaxCompletionTokens = c.cfg.MaxTokens
	} else {
		//lint:ignore SA1019 Ollama, vLLM, LM Studio and most compatible endpoints read max_tokens, not max_completion_tokens.
		req.MaxTokens = c.cfg.MaxTokens
	}
	if c.dropTemperature {
		req.Temperature = 0
	}
	return req
}

// Reflect asks for one reflection on r, to be shown to a person who uses
// lang, and checks it with the Guard. It returns within Config.Timeout (or
// ctx's deadline, if earlier). On a 429, a 5xx, a network error or a
// garbled body it tries once more, but only if the remaining time allows
// (for a 429 with Retry-After, only if that wait still fits). Every failure
// is an *Error; on a guard rejection, a cut-off reply or a content filter
// the Reply carries the model and token counts but no Text.
func (c *Client) Reflect(ctx context.Context, r prompts.Rendered, lang string) (Reply, error) {
	if !c.Enabled() {
		return Reply{}, &Error{Reason: ReasonDisabled}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req := c.chatRequest(r)

	var reply Reply
	finish := func(e *Error) (Reply, error) {
		reply.Latency = time.Since(start)
		c.metrics.addTokens(reply.PromptTokens, reply.CompletionTokens)
		if e == nil {
			c.metrics.observe("", reply.Latency)
			return reply, nil
		}
		reply.Text = ""
		c.metrics.observe(e.Reason, reply.Latency)
		return reply, e
	}

	for attempt := 1; ; attempt++ {
		rec := &record{}
		began := time.Now()
		resp, err := c.api.CreateChatCompletion(context.WithValue(ctx, recordKey{}, rec), req)
		var e *Error
		if err != nil {
			e = classify(ctx, err, rec)
		} else {
			reply.Model = resp.Model
			reply.PromptTokens += resp.Usage.PromptTokens
			reply.CompletionTokens += resp.Usage.CompletionTokens
			e = c.accept(resp, lang, &reply)
		}
		if e == nil {
			return finish(nil)
		}
		e.Attempts = attempt
		if attempt == 2 || !e.retry {
			return finish(e)
		}
		wait, ok := retryWait(ctx, e, rec, time.Since(began))
		if !ok {
			return finish(e)
		}
		c.metrics.retry(e.Reason)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return finish(&Error{Reason: ReasonTimeout, Status: e.Status, Attempts: attempt, cause: ctx.Err()})
		case <-t.C:
		}
	}
}

// accept checks a decoded response and fills reply.Text, or says why the
// response cannot be used.
func (c *Client) accept(resp openai.ChatCompletionResponse, lang string, reply *Reply) *Error {
	if reply.Model == "" {
		reply.Model = c.cfg.Model
	}
	if len(resp.Choices) == 0 {
		return &Error{Reason: ReasonBadResponse, Status: http.StatusOK, retry: true}
	}
	choice := resp.Choices[0]
	switch choice.FinishReason {
	case openai.FinishReasonLength, openai.FinishReasonContentFilter:
		// A reply cut off mid-sentence, or withheld: asking again would
		// most likely end the same way.
		return &Error{Reason: ReasonBadResponse, Status: http.StatusOK}
	}
	text := cleanReply(choice.Message.Content)
	if rule, ok := c.guard.Check(text, lang); !ok {
		return &Error{Reason: ReasonGuardRejected + ":" + rule, Status: http.StatusOK}
	}
	reply.Text = text
	return nil
}

var thinkRE = regexp.MustCompile(`(?s)^\s*<think>.*?</think>`)

// cleanReply drops the <think> block some local reasoning models put before
// their answer, and surrounding space.
func cleanReply(s string) string {
	return strings.TrimSpace(thinkRE.ReplaceAllString(s, ""))
}

// classify turns a failed attempt into an *Error.
func classify(ctx context.Context, err error, rec *record) *Error {
	if ctx.Err() != nil {
		return &Error{Reason: ReasonTimeout, Status: rec.status, cause: ctx.Err()}
	}
	switch {
	case rec.transportErr:
		return &Error{Reason: ReasonServerError, retry: true}
	case rec.status == http.StatusTooManyRequests:
		return &Error{Reason: ReasonRateLimited, Status: rec.status, retry: true}
	case rec.status >= 500:
		return &Error{Reason: ReasonServerError, Status: rec.status, retry: true}
	case rec.status >= 200 && rec.status < 300:
		// The body did not decode as a chat completion.
		return &Error{Reason: ReasonBadResponse, Status: rec.status, retry: true}
	default:
		// Another 4xx (a wrong key, model or URL), a 1xx/3xx, or a request
		// go-openai refused to send: a retry would not help.
		return &Error{Reason: ReasonBadResponse, Status: rec.status}
	}
}

// retryWait says how long to pause before the second attempt, and whether
// that attempt still fits before the deadline: the pause plus at least as
// long as the first attempt took (and no less than minRetryWindow).
func retryWait(ctx context.Context, e *Error, rec *record, took time.Duration) (time.Duration, bool) {
	wait := retryPause
	if e.Reason == ReasonRateLimited {
		wait = rateLimitPause
		if rec.hasRetryAfter {
			wait = rec.retryAfter
		}
	}
	need := max(took, minRetryWindow)
	deadline, ok := ctx.Deadline()
	if !ok {
		return wait, true
	}
	return wait, wait+need <= time.Until(deadline)
}

// recordKey carries a *record through the request's context to
// recordingDoer; go-openai returns neither the status of a failed decode
// nor the headers of an error response.
type recordKey struct{}

type record struct {
	status        int
	transportErr  bool
	retryAfter    time.Duration
	hasRetryAfter bool
}

type recordingDoer struct{ next *http.Client }

func (d recordingDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.next.Do(req)
	rec, _ := req.Context().Value(recordKey{}).(*record)
	if err != nil {
		if rec != nil {
			rec.transportErr = true
		}
		return nil, err
	}
	if rec != nil {
		rec.status = resp.StatusCode
		rec.retryAfter, rec.hasRetryAfter = parseRetryAfter(resp.Header, time.Now())
	}
	resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxBodyBytes), Closer: resp.Body}
	return resp, nil
}

type limitedBody struct {
	io.Reader
	io.Closer
}

// parseRetryAfter reads OpenAI's retry-after-ms header, or Retry-After in
// seconds or as an HTTP date.
func parseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
