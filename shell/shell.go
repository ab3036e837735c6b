// Package shell lets a person talk to Stilstaan in a terminal. It drives the
// same conversation service and the same PostgreSQL as the Telegram bot, so a
// newcomer can try every exercise without Telegram, a token or an LLM. It works
// interactively and with stdin piped (one input a line), which makes it
// scriptable.
package shell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

// Options configure a shell session.
type Options struct {
	In  io.Reader
	Out io.Writer
	// User names the simulated person; state is kept per user.
	User string
	// Interactive means a person types (a terminal): timed pauses can be cut
	// short by input. When false (stdin piped), each pause is waited out before
	// the next line is read, so a script of answers stays in step.
	Interactive bool
	// FileDir is where pictures and files the bot sends are saved.
	FileDir  string
	Service  *conversation.Service
	DB       *storage.DB
	LangHint string
	// AfterTurn, when set, runs after each turn and before its messages are
	// printed: the reflection worker's AnswerNow answers a reflective reply
	// the turn asked for (within its deadline), so the reply or the
	// scripted fallback is printed with the turn. It returns the Result of
	// the last turn it ran, or res when it ran none.
	AfterTurn func(ctx context.Context, in conversation.Incoming, res conversation.Result) (conversation.Result, error)
}

// ExternalID maps a shell user name to a stable person id.
func ExternalID(user string) int64 {
	h := fnv.New64a()
	h.Write([]byte(user))
	return int64(h.Sum64() & (1<<62 - 1))
}

type session struct {
	Options
	chatID   int64
	personID int64
	buttons  []dialogs.Button // the latest prompt's buttons, flattened
	choice   bool
	wakeAt   time.Time
}

// Run talks until the input ends, /quit is typed, or ctx is done.
func Run(ctx context.Context, o Options) error {
	if o.User == "" {
		return errors.New("shell: no user name")
	}
	if o.FileDir == "" {
		o.FileDir = filepath.Join(os.TempDir(), "stilstaan-shell")
	}
	s := &session{Options: o, chatID: ExternalID(o.User)}
	fmt.Fprintf(s.Out, "Stilstaan shell: je bent %q. Typ /help voor uitleg, /quit om af te sluiten.\n\n", o.User)

	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		r := bufio.NewReaderSize(s.In, 64*1024)
		for {
			line, err := r.ReadString('\n')
			if line != "" || err == nil {
				select {
				case lines <- strings.TrimRight(line, "\r\n"):
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				readErr <- err
				close(lines)
				return
			}
		}
	}()

	if err := s.turn(ctx, dialogs.Input{Kind: dialogs.InputCommand, Command: "start", LangHint: o.LangHint}); err != nil {
		return err
	}
	for {
		if !s.wakeAt.IsZero() && !s.Interactive {
			if err := s.waitWake(ctx); err != nil {
				return err
			}
			continue
		}
		if s.Interactive {
			fmt.Fprint(s.Out, "> ")
		}
		var timer <-chan time.Time
		if !s.wakeAt.IsZero() {
			timer = time.After(time.Until(s.wakeAt))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-timer:
			if s.Interactive {
				fmt.Fprintln(s.Out)
			}
			if err := s.turn(ctx, dialogs.Input{Kind: dialogs.InputTimer}); err != nil {
				return err
			}
		case line, ok := <-lines:
			if !ok {
				if !s.wakeAt.IsZero() {
					if err := s.waitWake(ctx); err != nil {
						return err
					}
				}
				fmt.Fprintln(s.Out, "\nTot ziens. / Goodbye.")
				return <-readErr
			}
			if !s.Interactive {
				fmt.Fprintf(s.Out, "> %s\n", line)
			}
			if q := strings.ToLower(strings.TrimSpace(line)); q == "/quit" || q == "/exit" {
				fmt.Fprintln(s.Out, "Tot ziens. / Goodbye.")
				return nil
			}
			if err := s.turn(ctx, s.parse(line)); err != nil {
				return err
			}
		}
	}
}

func (s *session) waitWake(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(time.Until(s.wakeAt)):
	}
	return s.turn(ctx, dialogs.Input{Kind: dialogs.InputTimer})
}

// parse turns a typed line into an input: a command, a button (by its label,
// or by number for choice questions) or free text.
func (s *session) parse(line string) dialogs.Input {
	text := strings.TrimSpace(line)
	if strings.HasPrefix(text, "/") && len(text) > 1 {
		cmd, args, _ := strings.Cut(text[1:], " ")
		cmd, _, _ = strings.Cut(cmd, "@")
		return dialogs.Input{Kind: dialogs.InputCommand, Command: strings.ToLower(cmd), Args: strings.TrimSpace(args)}
	}
	low := strings.ToLower(text)
	for _, b := range s.buttons {
		if plainLabel(b.Label) == plainLabel(low) {
			return dialogs.Input{Kind: dialogs.InputButton, Data: b.Data}
		}
	}
	if s.choice {
		if n, err := strconv.Atoi(text); err == nil && n >= 1 && n <= len(s.buttons) {
			return dialogs.Input{Kind: dialogs.InputButton, Data: s.buttons[n-1].Data}
		}
	}
	return dialogs.Input{Kind: dialogs.InputText, Text: line}
}

// plainLabel lower-cases a label and trims marks such as "✓ " and " ✔".
func plainLabel(s string) string {
	return strings.ToLower(strings.TrimFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}))
}

func (s *session) turn(ctx context.Context, in dialogs.Input) error {
	if in.LangHint == "" {
		in.LangHint = s.LangHint
	}
	inc := conversation.Incoming{Channel: conversation.ChannelShell, ChatID: s.chatID, Input: in}
	res, err := s.Service.Handle(ctx, inc)
	if err != nil {
		return fmt.Errorf("shell: %w", err)
	}
	s.personID = res.PersonID
	if res.Notice != "" {
		fmt.Fprintf(s.Out, "(%s)\n", res.Notice)
	}
	if s.AfterTurn != nil {
		if res, err = s.AfterTurn(ctx, inc, res); err != nil {
			return fmt.Errorf("shell: %w", err)
		}
	}
	s.wakeAt = res.WakeAt
	return s.deliver(ctx)
}

// Deliver prints what the outbox holds for this person and marks it sent.
func (s *session) deliver(ctx context.Context) error {
	msgs, err := s.DB.PendingFor(ctx, s.personID)
	if err != nil {
		return fmt.Errorf("shell: read outbox: %w", err)
	}
	for _, m := range msgs {
		env, err := conversation.DecodeEnvelope(m.Payload)
		if err != nil {
			return err
		}
		s.print(m.Kind, env)
		if err := s.DB.MarkSent(ctx, m.ID, 0); err != nil {
			return fmt.Errorf("shell: mark sent: %w", err)
		}
	}
	return nil
}

func (s *session) print(kind string, env conversation.Envelope) {
	switch kind {
	case conversation.KindEdit:
		if len(env.Buttons) == 0 {
			if env.Prompt > 0 {
				s.buttons, s.choice = nil, false
			}
			return
		}
		s.showButtons(env)
		return
	case conversation.KindPhoto, conversation.KindDocument:
		if err := os.MkdirAll(s.FileDir, 0o700); err == nil {
			name := filepath.Join(s.FileDir, filepath.Base(env.FileName))
			if err := os.WriteFile(name, env.File, 0o600); err == nil {
				fmt.Fprintf(s.Out, "[bestand opgeslagen / file saved: %s]\n", name)
			} else {
				fmt.Fprintln(s.Out, "[het bestand kon niet worden opgeslagen / the file could not be saved]")
			}
		}
	}
	if env.Text != "" {
		fmt.Fprintf(s.Out, "%s\n", env.Text)
	}
	if len(env.Buttons) > 0 {
		s.showButtons(env)
	}
	fmt.Fprintln(s.Out)
}

func (s *session) showButtons(env conversation.Envelope) {
	s.buttons = s.buttons[:0]
	for _, row := range env.Buttons {
		s.buttons = append(s.buttons, row...)
	}
	s.choice = env.Choice
	numeric := true
	for _, b := range s.buttons {
		if _, err := strconv.Atoi(b.Label); err != nil && !strings.HasPrefix(b.Data, strconv.Itoa(env.Prompt)+".s") {
			numeric = false
		}
	}
	if numeric {
		// a scale: print the values on one line
		var parts []string
		for _, b := range s.buttons {
			parts = append(parts, "["+b.Label+"]")
		}
		fmt.Fprintf(s.Out, "  %s\n", strings.Join(parts, " "))
		return
	}
	for i, b := range s.buttons {
		if s.choice {
			fmt.Fprintf(s.Out, "  [%d] %s\n", i+1, b.Label)
		} else {
			fmt.Fprintf(s.Out, "  [%s]\n", b.Label)
		}
	}
}
