package privacy

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/keyring"
	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// clock is a test clock that only moves when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is a conversation service with the privacy feature over a fresh
// database, with every log line captured.
type harness struct {
	t      testing.TB
	url    string
	db     *storage.DB
	sealer *Sealer // nil when the store does not encrypt
	svc    *conversation.Service
	lib    *dialogs.Library
	priv   *Privacy
	clock  *clock
	logs   *syncBuffer
	log    *slog.Logger
}

var start = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func testMasterKey(t testing.TB) keyring.MasterKey {
	t.Helper()
	k, err := keyring.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newSealerT(t testing.TB, current keyring.MasterKey, previous ...keyring.MasterKey) *Sealer {
	t.Helper()
	s, err := NewSealer(current, previous)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newHarness opens a fresh database sealed by sealer (nil: no encryption).
func newHarness(t testing.TB, sealer *Sealer) *harness {
	t.Helper()
	h := &harness{t: t, sealer: sealer, clock: &clock{t: start}, logs: &syncBuffer{}}
	h.log = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.url = storagetest.URL(t)
	h.db = h.open(sealer)
	if _, err := h.db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	lib, err := dialogs.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	h.lib = lib
	h.svc, h.priv = h.service(h.db)
	return h
}

// open opens another store on the harness's database.
func (h *harness) open(sealer *Sealer) *storage.DB {
	h.t.Helper()
	opts := []storage.Option{storage.WithLogger(h.log), storage.WithClock(h.clock.Now)}
	if sealer != nil {
		opts = append(opts, storage.WithSealer(sealer))
	}
	db, err := storage.Open(context.Background(), h.url, opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(db.Close)
	return db
}

// service builds the conversation service with the privacy feature on db.
func (h *harness) service(db *storage.DB) (*conversation.Service, *Privacy) {
	p := New(db, WithLibrary(h.lib), WithLogger(h.log))
	engine := dialogs.NewEngine(h.lib)
	opts := append([]conversation.Option{conversation.WithClock(h.clock.Now), conversation.WithLogger(h.log)}, p.ServiceOptions()...)
	return conversation.New(db, engine, opts...), p
}

func (h *harness) handle(chat int64, in dialogs.Input) conversation.Result {
	h.t.Helper()
	if in.LangHint == "" {
		in.LangHint = "nl"
	}
	res, err := h.svc.Handle(context.Background(), conversation.Incoming{Channel: conversation.ChannelShell, ChatID: chat, Input: in})
	if err != nil {
		h.t.Fatalf("handle %+v: %v", in, err)
	}
	return res
}

func (h *harness) command(chat int64, cmd string) conversation.Result {
	h.t.Helper()
	return h.handle(chat, dialogs.Input{Kind: dialogs.InputCommand, Command: cmd})
}

func (h *harness) say(chat int64, text string) conversation.Result {
	h.t.Helper()
	return h.handle(chat, dialogs.Input{Kind: dialogs.InputText, Text: text})
}

func (h *harness) press(chat int64, data string) conversation.Result {
	h.t.Helper()
	return h.handle(chat, dialogs.Input{Kind: dialogs.InputButton, Data: data})
}

var errPeek = errors.New("peek: roll back")

// state reads a person's opened conversation state in a turn that is rolled
// back, so it changes nothing.
func (h *harness) state(chat int64) dialogs.State {
	h.t.Helper()
	var st dialogs.State
	_, err := h.db.Turn(context.Background(), storage.PersonKey{Channel: conversation.ChannelShell, ExternalID: chat}, "",
		func(tx *storage.Tx) error {
			if raw := tx.State(); raw != nil {
				if err := json.Unmarshal(raw, &st); err != nil {
					return err
				}
			}
			return errPeek
		})
	if !errors.Is(err, errPeek) {
		h.t.Fatalf("read state: %v", err)
	}
	return st
}

// onboard starts a person and gives (or refuses) consent.
func (h *harness) onboard(chat int64, consent bool) int64 {
	h.t.Helper()
	res := h.command(chat, "start")
	answer := "nee"
	if consent {
		answer = "ja"
	}
	h.say(chat, answer)
	if st := h.state(chat); st.Stage != dialogs.StageReady || st.Consent != consent {
		h.t.Fatalf("after onboarding: stage %q consent %v", st.Stage, st.Consent)
	}
	return res.PersonID
}

// runExercise takes an onboarded person through exercise id: the first option
// of every choice and scale, the first two of every multi, the timer of
// every pause, and answer(step) for every free-text step. It returns the
// texts it typed.
func (h *harness) runExercise(chat int64, id string, answer func(step string) string) []string {
	h.t.Helper()
	s, ok := h.lib.Script(id)
	if !ok {
		h.t.Fatalf("no exercise %s", id)
	}
	st := h.state(chat)
	h.press(chat, fmt.Sprintf("%d.x:%s", st.Prompt, id))
	var typed []string
	for range 300 {
		st = h.state(chat)
		r := st.Run
		if r == nil {
			return typed
		}
		if r.Exercise != id || r.Stopped {
			h.t.Fatalf("exercise %s: run %+v", id, r)
		}
		if r.Held {
			h.press(chat, fmt.Sprintf("%d.k", st.Prompt)) // the concern message: go on
			continue
		}
		step, ok := s.StepByID(r.Step)
		if !ok {
			h.t.Fatalf("exercise %s: no step %s", id, r.Step)
		}
		switch step.Kind {
		case dialogs.KindPause:
			h.clock.Set(r.WakeAt)
			h.handle(chat, dialogs.Input{Kind: dialogs.InputTimer})
		case dialogs.KindChoice, dialogs.KindScale:
			h.say(chat, "1")
		case dialogs.KindMulti:
			h.say(chat, "1, 2")
		case dialogs.KindText:
			a := answer(step.ID)
			typed = append(typed, a)
			h.say(chat, a)
		default:
			h.t.Fatalf("exercise %s waits at a %s step", id, step.Kind)
		}
	}
	h.t.Fatalf("exercise %s did not end after 300 inputs", id)
	return nil
}

// pending returns the person's undelivered messages, opened and decoded.
func (h *harness) pending(personID int64) []pendingMsg {
	h.t.Helper()
	msgs, err := h.db.PendingFor(context.Background(), personID)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []pendingMsg
	for _, m := range msgs {
		env, err := conversation.DecodeEnvelope(m.Payload)
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, pendingMsg{Kind: m.Kind, Env: env})
	}
	return out
}

type pendingMsg struct {
	Kind string
	Env  conversation.Envelope
}

// lastButtons returns the buttons of the latest pending message that has any.
func lastButtons(msgs []pendingMsg) []dialogs.Button {
	for i := len(msgs) - 1; i >= 0; i-- {
		if len(msgs[i].Env.Buttons) > 0 {
			var out []dialogs.Button
			for _, row := range msgs[i].Env.Buttons {
				out = append(out, row...)
			}
			return out
		}
	}
	return nil
}

func buttonData(t testing.TB, msgs []pendingMsg, prefix string) string {
	t.Helper()
	for _, b := range lastButtons(msgs) {
		if strings.HasPrefix(b.Data, prefix) {
			return b.Data
		}
	}
	t.Fatalf("no button %s… among %+v", prefix, lastButtons(msgs))
	return ""
}

// dump runs pg_dump on the harness's database and returns its output.
func (h *harness) dump() string {
	h.t.Helper()
	out, err := exec.Command("pg_dump", "--no-owner", "--dbname="+h.url).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			h.t.Fatalf("pg_dump: %v\n%s", err, ee.Stderr)
		}
		h.t.Fatalf("pg_dump: %v", err)
	}
	return string(out)
}

// traces returns the forms a text takes in a dump: as it is, and as bytea
// hex (lower case, as pg_dump writes bytea).
func traces(s string) []string {
	return []string{s, hex.EncodeToString([]byte(s))}
}

func golden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
