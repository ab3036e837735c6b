// Package llmtest fakes an OpenAI-compatible chat completions endpoint for
// tests: scripted replies, delays, error statuses, broken bodies, and a
// record of every request. Point llm.Config.BaseURL at Server.BaseURL():
//
//	srv := llmtest.NewServer(t, llmtest.Status(500), llmtest.Reply("Dat mag er zijn."))
//	c, err := llm.New(llm.Config{BaseURL: srv.BaseURL(), APIKey: "test", Model: "m"})
//	...
//	if srv.Calls() != 2 { ... }
//
// llmtest.Hang() fakes an endpoint that never answers, llmtest.RateLimited("1")
// a 429 with Retry-After, llmtest.Broken() a body that is not JSON, and
// Server.RespondWith decides answers from the request.
package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultText is the reply a Server gives when it has no script.
const DefaultText = "Je merkt dat het stil blijft en dat er onrust in je opkomt. Dat gevoel mag er even zijn, zonder dat je er meteen iets mee hoeft."

// Response is one scripted answer. The zero value answers 200 with
// DefaultText.
type Response struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Text is the assistant message of a 200 answer.
	Text string
	// Body, when set, is sent as is instead of a chat completion or an
	// error object, e.g. `{"choices": [` for a broken body.
	Body string
	// Header is added to the answer, e.g. {"Retry-After": "1"}.
	Header map[string]string
	// Delay is how long the server waits before answering. The wait ends
	// early, without an answer, when the client gives up or the server is
	// closed, so a long Delay fakes a hanging endpoint.
	Delay time.Duration
	// Model names the model in the answer; default the requested one.
	Model string
	// FinishReason defaults to "stop".
	FinishReason string
	// PromptTokens and CompletionTokens are reported as usage; by default
	// a rough count of the words.
	PromptTokens, CompletionTokens int
	// NoChoices answers 200 with an empty choices list.
	NoChoices bool
}

// Reply is a 200 answer with text.
func Reply(text string) Response { return Response{Text: text} }

// Status is an error answer with an OpenAI-style error object.
func Status(code int) Response { return Response{Status: code} }

// RateLimited is a 429 answer with Retry-After set to retryAfter (e.g.
// "1") when it is not empty.
func RateLimited(retryAfter string) Response {
	r := Response{Status: http.StatusTooManyRequests}
	if retryAfter != "" {
		r.Header = map[string]string{"Retry-After": retryAfter}
	}
	return r
}

// Broken is a 200 answer whose body is not valid JSON.
func Broken() Response {
	return Response{Body: `{"id": "chatcmpl-broken", "choices": [{"message": {"content": "Je`}
}

// Hang is an answer that never comes: the server waits until the client
// gives up.
func Hang() Response { return Response{Delay: time.Hour} }

// Message is one chat message of a recorded request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is what a client sent.
type Request struct {
	Method              string
	Path                string // e.g. "/v1/chat/completions"
	Query               string // raw query, e.g. "api-version=2024-10-21" for Azure
	APIKey              string // from "Authorization: Bearer ..." or "api-key"
	Model               string
	Messages            []Message
	MaxTokens           int      // max_tokens as sent; 0 when absent
	MaxCompletionTokens int      // max_completion_tokens as sent; 0 when absent
	Temperature         *float64 // nil when absent
}

// Server is a fake chat completions endpoint. It answers POST requests to
// any path ending in /chat/completions (so both ".../v1/chat/completions"
// and Azure's ".../deployments/<name>/chat/completions" work) with the
// next scripted Response; when the script runs out, the last Response
// repeats, and with no script it answers DefaultText. It is safe for
// concurrent use.
type Server struct {
	srv  *httptest.Server
	done chan struct{}

	mu       sync.Mutex
	script   []Response
	last     Response
	respond  func(Request) Response
	requests []Request
	closed   bool
}

// NewServer starts a Server with script and closes it when the test ends.
func NewServer(tb testing.TB, script ...Response) *Server {
	tb.Helper()
	s := &Server{done: make(chan struct{}), script: script, last: Response{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	tb.Cleanup(s.Close)
	return s
}

// URL is the server's root, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.srv.URL }

// BaseURL is what llm.Config.BaseURL should be: URL() + "/v1".
func (s *Server) BaseURL() string { return s.srv.URL + "/v1" }

// Enqueue appends responses to the script.
func (s *Server) Enqueue(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, rs...)
}

// RespondWith makes f decide every answer from now on, instead of the
// script; f(nil) goes back to the script. f may be called concurrently.
func (s *Server) RespondWith(f func(Request) Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = f
}

// Calls returns how many chat completion requests arrived.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Requests returns a copy of the requests that arrived, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Close stops the server; a request still waiting out its Delay ends at
// once. Close may be called more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.srv.Close()
}

// next takes the next scripted response.
func (s *Server) next() Response {
	if len(s.script) == 0 {
		return s.last
	}
	r := s.script[0]
	s.script = s.script[1:]
	s.last = r
	return r
}

type chatRequest struct {
	Model               string    `json:"model"`
	Messages            []Message `json:"messages"`
	MaxTokens           int       `json:"max_tokens"`
	MaxCompletionTokens int       `json:"max_completion_tokens"`
	Temperature         *float64  `json:"temperature"`
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		writeError(w, http.StatusNotFound, "not_found", "unknown endpoint")
		return
	}
	var body chatRequest
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Model == "" || len(body.Messages) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "want a JSON body with model and messages")
		return
	}
	req := Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		APIKey: r.Header.Get("api-key"), Model: body.Model, Messages: body.Messages,
		MaxTokens: body.MaxTokens, MaxCompletionTokens: body.MaxCompletionTokens,
		Temperature: body.Temperature,
	}
	if key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		req.APIKey = key
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	respond := s.respond
	var resp Response
	if respond == nil {
		resp = s.next()
	}
	s.mu.Unlock()
	if respond != nil {
		resp = respond(req)
	}

	if resp.Delay > 0 {
		t := time.NewTimer(resp.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	for k, v := range resp.Header {
		w.Header().Set(k, v)
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.Body != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, resp.Body)
		return
	}
	if status != http.StatusOK {
		writeError(w, status, errorType(status), http.StatusText(status))
		return
	}
	writeCompletion(w, body, resp)
}

func writeCompletion(w http.ResponseWriter, req chatRequest, resp Response) {
	text := resp.Text
	if text == "" {
		text = DefaultText
	}
	model := resp.Model
	if model == "" {
		model = req.Model
	}
	finish := resp.FinishReason
	if finish == "" {
		finish = "stop"
	}
	promptTokens, completionTokens := resp.PromptTokens, resp.CompletionTokens
	if promptTokens == 0 {
		for _, m := range req.Messages {
			promptTokens += len(strings.Fields(m.Content))
		}
	}
	if completionTokens == 0 {
		completionTokens = len(strings.Fields(text))
	}
	choices := []any{map[string]any{
		"index":         0,
		"message":       map[string]any{"role": "assistant", "content": text},
		"finish_reason": finish,
	}}
	if resp.NoChoices {
		choices = []any{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id":      "chatcmpl-llmtest",
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   model,
		"choices": choices,
		"usage": map[string]any{
			"prompt_tokens":     promptTokens,
			"completion_tokens": completionTokens,
			"total_tokens":      promptTokens + completionTokens,
		},
	})
}

func errorType(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limit_exceeded"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]any{"message": msg, "type": typ, "code": nil},
	})
}
