package config

import (
	"errors"
	"strings"
	"testing"
)

func TestPauseScaleForTheBot(t *testing.T) {
	tests := []struct {
		name string
		body string
		want float64
		err  string
	}{
		{name: "default is real time", body: "", want: 1},
		{name: "shortened for a soak run", body: "dialogs:\n  pause_scale: 0.01\n", want: 0.01},
		{name: "independent of the shell", body: "shell:\n  pause_scale: 0.5\n", want: 1},
		{name: "negative", body: "dialogs:\n  pause_scale: -1\n", err: "dialogs.pause_scale"},
		{name: "too slow", body: "dialogs:\n  pause_scale: 11\n", err: "dialogs.pause_scale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(writeFile(t, tt.body), nil)
			if tt.err != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Key != tt.err {
					t.Fatalf("Load = %v, want an error about %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Dialogs.PauseScale != tt.want {
				t.Errorf("dialogs.pause_scale = %g, want %g", c.Dialogs.PauseScale, tt.want)
			}
		})
	}
}

func TestWebhookSchemeFollowsTheServer(t *testing.T) {
	tests := []struct {
		name, server, hook string
		ok                 bool
	}{
		{name: "https with Telegram", server: "https://api.telegram.org", hook: "https://bot.example/hook", ok: true},
		{name: "http with Telegram", server: "https://api.telegram.org", hook: "http://bot.example/hook"},
		{name: "http with Telegram in capitals", server: "https://API.Telegram.org/", hook: "http://bot.example/hook"},
		{name: "http with a self-hosted server", server: "http://127.0.0.1:8081", hook: "http://127.0.0.1:8443/telegram", ok: true},
		{name: "https with a self-hosted server", server: "http://botapi.internal:8081", hook: "https://bot.example/hook", ok: true},
		{name: "no host", server: "http://127.0.0.1:8081", hook: "http:///telegram"},
		{name: "another scheme", server: "http://127.0.0.1:8081", hook: "ftp://127.0.0.1/telegram"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			c.Telegram.Mode, c.Telegram.ServerURL, c.Telegram.WebhookURL = "webhook", tt.server, tt.hook
			err := c.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tt.ok && (err == nil || !strings.Contains(err.Error(), "telegram.webhook_url")) {
				t.Fatalf("Validate = %v, want an error about telegram.webhook_url", err)
			}
		})
	}
}
