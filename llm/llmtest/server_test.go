package llmtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, url, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer test-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp, m
}

const chatBody = `{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"hallo daar"}],"max_tokens":50}`

func content(m map[string]any) string {
	choices, _ := m["choices"].([]any)
	if len(choices) == 0 {
		return ""
	}
	msg := choices[0].(map[string]any)["message"].(map[string]any)
	return msg["content"].(string)
}

func TestServerScript(t *testing.T) {
	s := NewServer(t, Reply("een"), Status(503), Reply("twee"))
	tests := []struct {
		name   string
		status int
		text   string
	}{
		{name: "first", status: 200, text: "een"},
		{name: "error", status: 503},
		{name: "third", status: 200, text: "twee"},
		{name: "last repeats", status: 200, text: "twee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, m := post(t, s.BaseURL()+"/chat/completions", chatBody)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := content(m); got != tt.text {
				t.Errorf("content %q, want %q", got, tt.text)
			}
		})
	}
	if s.Calls() != 4 {
		t.Errorf("Calls() = %d, want 4", s.Calls())
	}
	r := s.Requests()[0]
	if r.APIKey != "test-key" || r.Model != "m" || r.MaxTokens != 50 || len(r.Messages) != 2 || r.Messages[1].Content != "hallo daar" || r.Temperature != nil {
		t.Errorf("recorded request %+v", r)
	}
}

func TestServerDefaultsAndErrors(t *testing.T) {
	s := NewServer(t)
	resp, m := post(t, s.BaseURL()+"/chat/completions", chatBody)
	if resp.StatusCode != 200 || content(m) != DefaultText {
		t.Fatalf("default answer: %d %q", resp.StatusCode, content(m))
	}
	usage := m["usage"].(map[string]any)
	if usage["prompt_tokens"].(float64) != 3 || usage["completion_tokens"].(float64) != float64(len(strings.Fields(DefaultText))) {
		t.Errorf("usage %v", usage)
	}
	if resp, _ := post(t, s.BaseURL()+"/models", chatBody); resp.StatusCode != http.StatusNotFound {
		t.Errorf("other path: status %d, want 404", resp.StatusCode)
	}
	if resp, _ := post(t, s.BaseURL()+"/chat/completions", `{"model":""}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad body: status %d, want 400", resp.StatusCode)
	}
	if s.Calls() != 1 {
		t.Errorf("Calls() = %d, want 1 (invalid requests are not counted)", s.Calls())
	}
}

func TestServerRespondWith(t *testing.T) {
	s := NewServer(t, Reply("script"))
	s.RespondWith(func(r Request) Response { return Reply("echo: " + r.Messages[1].Content) })
	if _, m := post(t, s.BaseURL()+"/chat/completions", chatBody); content(m) != "echo: hallo daar" {
		t.Errorf("content %q", content(m))
	}
	s.RespondWith(nil)
	if _, m := post(t, s.BaseURL()+"/chat/completions", chatBody); content(m) != "script" {
		t.Errorf("content %q after RespondWith(nil)", content(m))
	}
}

func TestServerCloseEndsDelay(t *testing.T) {
	s := NewServer(t)
	arrived := make(chan struct{})
	s.RespondWith(func(Request) Response {
		close(arrived)
		return Hang()
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Post(s.BaseURL()+"/chat/completions", "application/json", strings.NewReader(chatBody))
		if err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("request never arrived")
	}
	// The hanging handler must end on Close, or Close would block.
	s.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("client still waiting after Close")
	}
}
