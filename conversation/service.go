// Package conversation runs one turn of a conversation: it is the place where
// the pure dialog engine meets storage. Each input is one database transaction:
// the input is recorded by its source id (a repeat is a no-op), the person's row
// is locked, the engine runs, and the new state, the transcript and the
// outgoing messages commit together. Transports (Telegram, the terminal shell)
// turn their events into an Incoming and deliver the outbox afterwards.
package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

// Channels a person can talk through.
const (
	ChannelTelegram = "telegram"
	ChannelShell    = "shell"
)

// Outbox message kinds.
const (
	KindMessage  = "message"  // a new message, maybe with buttons
	KindEdit     = "edit"     // replace the buttons of an earlier message
	KindPhoto    = "photo"    // a picture (PNG) with a caption
	KindDocument = "document" // a file
)

// Priorities of outgoing messages: lower goes first.
const (
	PrioritySafety      = -10 // a safety reply goes before anything else waiting for that chat
	PriorityInteractive = 0
	PriorityScheduled   = 10
)

// Envelope is the payload of one outgoing message, stored sealed in the outbox.
type Envelope struct {
	Text     string             `json:"text,omitempty"`
	Buttons  [][]dialogs.Button `json:"buttons,omitempty"`
	Prompt   int                `json:"prompt,omitempty"`
	Choice   bool               `json:"choice,omitempty"`
	File     []byte             `json:"file,omitempty"`
	FileName string             `json:"file_name,omitempty"`
}

// Incoming is one input from a transport.
type Incoming struct {
	Channel string
	ChatID  int64
	// Source identifies the input for exactly-once processing (for Telegram
	// "tg:<update_id>"); empty means it is not deduplicated.
	Source string
	Input  dialogs.Input
	// Priority of the messages this turn produces: PriorityInteractive (the
	// zero value) for a person's own input, PriorityScheduled for check-ins and
	// other messages nobody is waiting for.
	Priority int
	// Preface is sent before the engine's messages when the engine takes the
	// input, so a scheduled exercise can open with a message that depends on
	// the person and the day (the theme of a check-in); hooks run after the
	// engine and cannot put a message first. See priority.go.
	Preface []Envelope
}

// Result tells the transport what happened.
type Result struct {
	PersonID  int64
	Duplicate bool
	// Notice is a short answer to a button press.
	Notice string
	// WakeAt is when the conversation wants a timer input; zero when none.
	WakeAt time.Time
	// Queued is how many outgoing messages the turn wrote.
	Queued int
	// Reflect is set when a reflective reply was requested.
	Reflect *dialogs.ReflectRequest
}

// Service runs turns.
type Service struct {
	db       *storage.DB
	engine   *dialogs.Engine
	now      func() time.Time
	log      *slog.Logger
	notify   func()
	hooks    []Hook
	commands map[string]CommandFunc
	buttons  map[string]ButtonFunc
	screener Screener
}

// ScreenAction says what the safety screen decided about a free-text input.
type ScreenAction int

// Screen actions.
const (
	ScreenPass    ScreenAction = iota // nothing found: the engine runs as usual
	ScreenConcern                     // elevated distress: the answer is kept, then the person chooses to go on or pause
	ScreenHalt                        // acute risk: the exercise stops and Reply is sent with grounding and pause buttons
	ScreenReply                       // answer with Reply instead of running the engine (e.g. "are you a bot?")
)

// Screening is the safety screen's decision on one free-text input.
type Screening struct {
	Action                ScreenAction
	Reply                 string
	Level, Category, Rule string
}

// Screener checks free text (and captions) before the engine sees it. It runs
// inside the turn's transaction, so flags it writes commit with the turn. It
// must not wait on the network.
type Screener func(ctx context.Context, t *Turn, text string) (Screening, error)

// CommandFunc handles a /command outside the dialog engine (for features such
// as /checkin or /delete). It runs inside the turn's transaction.
type CommandFunc func(ctx context.Context, t *Turn, args string) error

// ButtonFunc handles a button whose data starts with its prefix and ":"
// (buttons a feature made itself). It returns a short notice for the person.
type ButtonFunc func(ctx context.Context, t *Turn, data string) (notice string, err error)

// Hook runs inside a turn's transaction, after the engine, so later features
// (safety flags, check-in offers, reflective replies) add their rows to the
// same commit. It may add outgoing messages through the Turn.
type Hook func(ctx context.Context, t *Turn) error

// Option configures a Service.
type Option func(*Service)

// WithClock injects the clock.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithNotify sets a function called after a turn committed outgoing messages
// (it wakes the delivery loop).
func WithNotify(f func()) Option { return func(s *Service) { s.notify = f } }

// WithCommand handles the named commands (without "/") outside the engine.
func WithCommand(fn CommandFunc, names ...string) Option {
	return func(s *Service) {
		for _, n := range names {
			s.commands[n] = fn
		}
	}
}

// WithButton handles buttons whose data is "prefix:..." outside the engine.
// Prefixes are letters only; the engine's own buttons start with a digit.
func WithButton(prefix string, fn ButtonFunc) Option {
	return func(s *Service) { s.buttons[prefix] = fn }
}

// WithScreener sets the safety screen run on every free-text input first.
func WithScreener(fn Screener) Option { return func(s *Service) { s.screener = fn } }

// WithHook adds a hook that runs inside every turn.
func WithHook(h Hook) Option { return func(s *Service) { s.hooks = append(s.hooks, h) } }

// New returns a Service.
func New(db *storage.DB, engine *dialogs.Engine, opts ...Option) *Service {
	s := &Service{db: db, engine: engine, now: time.Now, log: slog.Default(), notify: func() {},
		commands: map[string]CommandFunc{}, buttons: map[string]ButtonFunc{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Engine returns the dialog engine.
func (s *Service) Engine() *dialogs.Engine { return s.engine }

// DB returns the storage.
func (s *Service) DB() *storage.DB { return s.db }

// Turn is what a hook sees of a turn in progress.
type Turn struct {
	Tx     *storage.Tx
	In     Incoming
	Before dialogs.State
	State  dialogs.State
	Out    dialogs.Output
	Now    time.Time
	// Screening is the safety screen's decision (ScreenPass when it did not run).
	Screening Screening
	service   *Service
	queued    int
}

// Send queues an extra message in this turn.
func (t *Turn) Send(env Envelope, priority int) error {
	return t.service.enqueue(t, KindMessage, env, priority)
}

// Handle runs one input as one transaction.
func (s *Service) Handle(ctx context.Context, in Incoming) (Result, error) {
	key := storage.PersonKey{Channel: in.Channel, ExternalID: in.ChatID}
	var res Result
	dup, err := s.db.Turn(ctx, key, in.Source, func(tx *storage.Tx) error {
		t, err := s.run(ctx, tx, in)
		if err != nil {
			return err
		}
		res = Result{
			PersonID: tx.Person().ID, Notice: t.Out.Notice, WakeAt: t.State.WakeAt(),
			Queued: t.queued, Reflect: t.Out.Reflect,
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("conversation: handle %s: %w", in.Input.Kind, err)
	}
	if dup {
		return Result{Duplicate: true}, nil
	}
	if res.Queued > 0 {
		s.notify()
	}
	return res, nil
}

func (s *Service) run(ctx context.Context, tx *storage.Tx, in Incoming) (*Turn, error) {
	var st dialogs.State
	if raw := tx.State(); raw != nil {
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, fmt.Errorf("decode state: %w", err)
		}
	}
	now := s.now()
	in.Input.Now = now
	t := &Turn{Tx: tx, In: in, Before: st, Now: now, service: s}
	handled, err := s.feature(ctx, t)
	if err != nil {
		return nil, err
	}
	if !handled {
		handled, err = s.screen(ctx, t)
		if err != nil {
			return nil, err
		}
	}
	if !handled {
		t.State, t.Out = s.engine.Handle(st, t.In.Input)
	}

	if tx.New() || t.Out.LangChanged {
		tx.SetLang(t.State.Lang)
	}
	if t.Out.ConsentChanged {
		if t.State.Consent {
			at := now
			tx.SetConsent(&at, ConsentVersion)
		} else {
			tx.SetConsent(nil, ConsentVersion)
		}
	}
	s.recordInput(t)
	if err := s.preface(t); err != nil {
		return nil, err
	}
	priority := in.Priority
	if t.Screening.Action == ScreenHalt {
		priority = PrioritySafety
	}
	for _, m := range t.Out.Messages {
		kind := KindMessage
		if m.Edit {
			kind = KindEdit
		}
		env := Envelope{Text: m.Text, Buttons: m.Buttons, Prompt: m.Prompt, Choice: m.Choice}
		if err := s.enqueue(t, kind, env, priority); err != nil {
			return nil, err
		}
	}
	for _, h := range s.hooks {
		if err := h(ctx, t); err != nil {
			return nil, err
		}
	}
	raw, err := json.Marshal(t.State)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	tx.SaveState(raw, t.State.WakeAt())
	return t, nil
}

// feature runs a registered command or button handler instead of the engine.
func (s *Service) feature(ctx context.Context, t *Turn) (bool, error) {
	in := t.In.Input
	switch in.Kind {
	case dialogs.InputCommand:
		fn, ok := s.commands[in.Command]
		if !ok {
			return false, nil
		}
		t.State = t.Before
		if t.State.Lang == "" {
			t.State.Lang = dialogs.LangFromHint(in.LangHint)
		}
		t.Out = dialogs.Output{Heard: "/" + in.Command}
		return true, fn(ctx, t, in.Args)
	case dialogs.InputButton:
		prefix, rest, ok := strings.Cut(in.Data, ":")
		fn, found := s.buttons[prefix]
		if !ok || !found {
			return false, nil
		}
		t.State = t.Before
		notice, err := fn(ctx, t, rest)
		t.Out.Notice = notice
		return true, err
	}
	return false, nil
}

// screen runs the safety screen on free text. It reports true when the
// screen answered instead of the engine.
func (s *Service) screen(ctx context.Context, t *Turn) (bool, error) {
	in := t.In.Input
	if s.screener == nil || (in.Kind != dialogs.InputText && in.Kind != dialogs.InputUnsupported) || strings.TrimSpace(in.Text) == "" {
		return false, nil
	}
	if t.Before.Lang == "" {
		t.Before.Lang = dialogs.LangFromHint(in.LangHint)
	}
	sc, err := s.screener(ctx, t, in.Text)
	if err != nil {
		return false, fmt.Errorf("safety screen: %w", err)
	}
	t.Screening = sc
	switch sc.Action {
	case ScreenConcern:
		if in.Kind == dialogs.InputText {
			t.In.Input.Concern = sc.Reply
			return false, nil
		}
		// a caption: no answer to keep, show the support message on its own
		t.State, t.Out = s.engine.Handle(t.Before, dialogs.Input{Kind: dialogs.InputText, Text: in.Text, Concern: sc.Reply, Now: in.Now, LangHint: in.LangHint})
		return true, nil
	case ScreenHalt:
		t.State, t.Out = s.engine.Handle(t.Before, dialogs.Input{Kind: dialogs.InputSafety, Text: sc.Reply, Now: in.Now, LangHint: in.LangHint})
		t.Out.Heard, t.Out.FreeText = in.Text, true
		if r := t.Before.Run; r != nil {
			t.Out.Exercise, t.Out.Step = r.Exercise, r.Step
		}
		return true, nil
	case ScreenReply:
		t.State = t.Before
		t.Out = dialogs.Output{Heard: in.Text, FreeText: true, Messages: []dialogs.Message{{Text: sc.Reply}}}
		return true, nil
	}
	return false, nil
}

// Lang is the person's language in this turn.
func (t *Turn) Lang() string {
	if t.State.Lang != "" {
		return t.State.Lang
	}
	return dialogs.DefaultLanguage
}

// ConsentVersion names the consent text people agree to at onboarding.
const ConsentVersion = "2026-11"

// recordInput writes what the person did to the transcript. Free text is kept
// only with consent.
func (s *Service) recordInput(t *Turn) {
	out := t.Out
	if out.Heard == "" {
		return
	}
	kind := "button"
	switch t.In.Input.Kind {
	case dialogs.InputText:
		kind = "text"
	case dialogs.InputCommand:
		kind = "command"
	}
	text := out.Heard
	if out.FreeText && !t.State.Consent {
		kind, text = "withheld", ""
	}
	t.Tx.AddTranscript(storage.Entry{Direction: "in", Exercise: out.Exercise, Step: out.Step, Kind: kind, Text: text})
}

func (s *Service) enqueue(t *Turn, kind string, env Envelope, priority int) error {
	payload, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	t.Tx.Enqueue(storage.Outgoing{Kind: kind, Payload: payload, Priority: priority, Prompt: env.Prompt})
	t.queued++
	if kind != KindEdit && env.Text != "" {
		ex, step := "", ""
		if r := t.State.Run; r != nil {
			ex, step = r.Exercise, r.Step
		}
		t.Tx.AddTranscript(storage.Entry{Direction: "out", Exercise: ex, Step: step, Kind: kind, Text: env.Text})
	}
	return nil
}

// DecodeEnvelope reads an outbox payload.
func DecodeEnvelope(payload []byte) (Envelope, error) {
	var env Envelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return Envelope{}, fmt.Errorf("conversation: decode envelope: %w", err)
	}
	return env, nil
}

// ErrNoPerson is returned for operations on a person who does not exist.
var ErrNoPerson = errors.New("conversation: no such person")
