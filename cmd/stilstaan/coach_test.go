package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/coach"
	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// TestDashboardWiredIn starts the dashboard as `stilstaan run` does, gets a
// login link from the service every front end uses, and opens it.
func TestDashboardWiredIn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := config.Defaults()
	db := storagetest.New(t)
	lib, err := loadScripts(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), nil))

	// No coaches: nothing to serve, and no error.
	svcs, err := newServices(ctx, cfg, lib, db, log, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop, err := startDashboard(ctx, cfg, db, svcs, log)
	if err != nil {
		t.Fatalf("without coaches: %v", err)
	}
	stop()

	// Coaches but no signing key: refused, naming the setting.
	cfg.Coaches = []config.Coach{{ID: 9001, Name: "Anna"}}
	if _, err := startDashboard(ctx, cfg, db, svcs, log); !errors.Is(err, coach.ErrNoSigningKey) || !strings.Contains(err.Error(), "dashboard.signing_key") {
		t.Fatalf("without a signing key: %v, want an error naming dashboard.signing_key", err)
	}

	cfg.Dashboard.SigningKey = "a long random secret for the test"
	cfg.Dashboard.Listen = freeAddr(t)
	svcs, err = newServices(ctx, cfg, lib, db, log, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop, err = startDashboard(ctx, cfg, db, svcs, log)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	res, err := svcs.Conversation.Handle(ctx, conversation.Incoming{Channel: conversation.ChannelTelegram, ChatID: 9001, Source: "tg:1",
		Input: dialogs.Input{Kind: dialogs.InputCommand, Command: "dashboard", LangHint: "nl"}})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := db.PendingFor(ctx, res.PersonID)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("/dashboard queued %d messages (%v)", len(msgs), err)
	}
	env, err := conversation.DecodeEnvelope(msgs[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`http://\S+/login/\S+`).FindString(env.Text)
	if !strings.HasPrefix(link, "http://"+cfg.Dashboard.Listen+"/login/") {
		t.Fatalf("/dashboard answered %q; want a link to the dashboard at %s", env.Text, cfg.Dashboard.Listen)
	}
	page, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.Contains(string(body), `action="/login"`) {
		t.Errorf("the link opens %d: %s", page.StatusCode, body)
	}

	stop()
	if _, err := http.Get("http://" + cfg.Dashboard.Listen + "/login"); err == nil {
		t.Errorf("the dashboard still answers after stop")
	}
}

// freeAddr returns a local address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}
