package conversation_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// BenchmarkHandle measures full turns through the conversation service on
// the real PostgreSQL: one transaction each, with the dedupe, the lock, the
// engine, the state and the transcript and outbox rows. The turns are those
// of a person who starts the bot, agrees to the terms and goes through
// exercise 1 answering every question (buttons and written answers), as the
// engine alone plays it out; each new person in turn plays it again. Feature
// hooks (safety screen, check-ins, privacy) are wired in by cmd/stilstaan
// and not part of this figure; `stilstaan bench` measures the whole bot.
//
//	go test -run '^$' -bench BenchmarkHandle -benchmem ./conversation/
func BenchmarkHandle(b *testing.B) {
	lib, err := dialogs.LoadEmbedded()
	if err != nil {
		b.Fatal(err)
	}
	engine := dialogs.NewEngine(lib)
	script := playExercise(b, engine)

	var rt storagetest.RoundTrips
	db := storagetest.New(b, storage.WithMaxConns(4), rt.Option())
	svc := conversation.New(db, engine)
	ctx := context.Background()
	handle := func(i int) {
		person, in := i/len(script), script[i%len(script)]
		in.Now = time.Now()
		res, err := svc.Handle(ctx, conversation.Incoming{
			Channel: conversation.ChannelTelegram, ChatID: int64(1_000 + person),
			Source: fmt.Sprintf("bench:%d", i), Input: in,
		})
		if err != nil {
			b.Fatal(err)
		}
		if res.Duplicate || res.Queued == 0 {
			b.Fatalf("turn %d (%v %q): duplicate %v, %d messages", i, in.Kind, in.Data, res.Duplicate, res.Queued)
		}
	}
	// One person first, so the connections have their statements prepared.
	for i := range len(script) {
		handle(i)
	}
	rt.Reset()
	b.ReportAllocs()
	i := len(script)
	for b.Loop() {
		handle(i)
		i++
	}
	b.ReportMetric(float64(rt.Count())/float64(b.N), "roundtrips/op")
}

// playExercise plays a Dutch person from /start through exercise 1 with the
// engine alone and returns their inputs: the first option of every
// question, a written answer where one is asked for, and "ready" at once in
// every pause.
func playExercise(b *testing.B, e *dialogs.Engine) []dialogs.Input {
	b.Helper()
	now := time.Now()
	var st dialogs.State
	var inputs []dialogs.Input
	step := func(in dialogs.Input) dialogs.Output {
		in.Now, in.LangHint = now, "nl"
		next, out := e.Handle(st, in)
		st = next
		inputs = append(inputs, in)
		return out
	}
	out := step(dialogs.Input{Kind: dialogs.InputCommand, Command: "start"})
	started := false
	for range 100 {
		var buttons []dialogs.Button
		for _, m := range out.Messages {
			if len(m.Buttons) > 0 && !m.Edit {
				buttons = nil
				for _, row := range m.Buttons {
					buttons = append(buttons, row...)
				}
			}
		}
		action := func(want string) (dialogs.Button, bool) {
			for _, btn := range buttons {
				if _, a, _ := strings.Cut(btn.Data, "."); a == want || strings.HasPrefix(a, want) && strings.HasSuffix(want, ":") {
					return btn, true
				}
			}
			return dialogs.Button{}, false
		}
		press := func(btn dialogs.Button) { out = step(dialogs.Input{Kind: dialogs.InputButton, Data: btn.Data}) }
		if btn, ok := action("c:y"); ok {
			press(btn)
			continue
		}
		if btn, ok := action("x:abandonment"); ok {
			if started {
				return inputs
			}
			started = true
			press(btn)
			continue
		}
		if btn, ok := action("w"); ok {
			press(btn)
			continue
		}
		if _, ok := action("d"); ok {
			opt, _ := action("o:")
			press(opt)
			done, _ := action("d")
			press(done)
			continue
		}
		if btn, ok := action("o:"); ok {
			press(btn)
			continue
		}
		if _, ok := action("s"); ok && len(buttons) == 1 {
			out = step(dialogs.Input{Kind: dialogs.InputText, Text: "Ik merk wat onrust in mijn buik, en mijn schouders zijn gespannen."})
			continue
		}
		b.Fatalf("a question the benchmark cannot answer: %+v", buttons)
	}
	b.Fatalf("exercise 1 did not end within 100 turns")
	return nil
}
