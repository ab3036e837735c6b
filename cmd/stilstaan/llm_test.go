package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/llm/llmtest"
	"github.com/stilstaan/stilstaan/shell"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

func TestLLMFeatureIsOffWithoutAKey(t *testing.T) {
	cfg := config.Defaults()
	eo, so, err := llmFeature(context.Background(), cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil || len(eo) != 0 || len(so) != 0 {
		t.Errorf("llmFeature without a key: %d engine options, %d service options, %v; want none", len(eo), len(so), err)
	}
}

// runCmd runs the stilstaan command line with args.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// TestPromptsRenderPrintsWhatIsSent talks to the bot with the LLM on (the
// fake endpoint) through the shell, and checks that `prompts render` prints
// exactly the system and user message the endpoint received.
func TestPromptsRenderPrintsWhatIsSent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const reply = "Je merkt dat het stil blijft en dat er onrust in je opkomt. Dat gevoel mag er zijn."
	srv := llmtest.NewServer(t, llmtest.Reply(reply))
	cfg := config.Defaults()
	cfg.LLM.BaseURL, cfg.LLM.APIKey, cfg.LLM.Model = srv.BaseURL(), "sk-test", "test-model"
	db := storagetest.New(t)
	lib, err := loadScripts(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	svcs, err := newServices(ctx, cfg, lib, db, log, 0.001, nil)
	if err != nil {
		t.Fatal(err)
	}
	after := shellAfterTurn(svcs)
	if after == nil {
		t.Fatal("no reflection worker with an API key")
	}
	answer := "Hij appt al de hele dag niet terug, mijn nummer is 06-12345678."
	var out bytes.Buffer
	err = shell.Run(ctx, shell.Options{
		In: strings.NewReader("ja\n1\n" + answer + "\n"), Out: &out, User: "prompt-check", LangHint: "nl",
		Service: svcs.Conversation, DB: db, FileDir: t.TempDir(), AfterTurn: after,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), reply) {
		t.Fatalf("the shell did not print the model's reply:\n%s", out.String())
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || len(reqs[0].Messages) != 2 {
		t.Fatalf("requests: %+v", reqs)
	}
	want := "--- system ---\n" + reqs[0].Messages[0].Content + "--- user ---\n" + reqs[0].Messages[1].Content

	got, _, err := runCmd(t, "prompts", "render", "--exercise", "abandonment", "--step", "what", "--lang", "nl", "--answer", answer)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("prompts render printed\n%s\nthe endpoint received\n%s", got, want)
	}
	if strings.Contains(got, "12345678") {
		t.Error("the phone number was not masked")
	}
}

func TestPromptsRenderArguments(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantOut []string // in stdout
		wantErr string   // in the error; only when wantOut is empty
	}{
		{name: "sample answer in English", args: []string{"--exercise", "abandonment", "--step", "what", "--lang", "en"},
			wantOut: []string{"--- system ---\n", "--- user ---\n", "He hasn't answered my messages all day"}},
		{name: "earlier answers of the exercise", args: []string{"--exercise", "abandonment", "--step", "adult_voice", "--lang", "nl",
			"--earlier", "what=Ze is vertrokken.", "--earlier", "before=8", "--earlier", "feelings=fear,lonely", "--answer", "Je bent veilig."},
			wantOut: []string{"Ze is vertrokken.", "angst, eenzaamheid", "Je bent veilig."}},
		{name: "a step without reflect: llm", args: []string{"--exercise", "abandonment", "--step", "age"}, wantErr: "has no `reflect: llm`"},
		{name: "unknown exercise", args: []string{"--exercise", "nope", "--step", "what"}, wantErr: `no exercise "nope"`},
		{name: "not a text step", args: []string{"--exercise", "abandonment", "--step", "before"}, wantErr: "no free-text step"},
		{name: "scale out of range", args: []string{"--exercise", "abandonment", "--step", "adult_voice", "--earlier", "before=11"}, wantErr: "want a number from 0 to 10"},
		{name: "unknown option", args: []string{"--exercise", "abandonment", "--step", "adult_voice", "--earlier", "feelings=joy"}, wantErr: `no option "joy"`},
		{name: "unknown language", args: []string{"--exercise", "abandonment", "--step", "what", "--lang", "de"}, wantErr: `unknown language "de"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runCmd(t, append([]string{"prompts", "render"}, tt.args...)...)
			if len(tt.wantOut) == 0 {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
