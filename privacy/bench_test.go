package privacy

import (
	"bytes"
	"context"
	"testing"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
)

// BenchmarkTurnEncryption measures what encryption at rest adds to a turn: a
// person who consented types a sentence, through the conversation service,
// the real engine and PostgreSQL (the state, two transcript entries and a
// message are sealed; the state and key are opened). Compare the two
// sub-benchmarks:
//
//	go test -run '^$' -bench TurnEncryption -benchtime 3000x ./privacy/
func BenchmarkTurnEncryption(b *testing.B) {
	const people = 100
	for _, bc := range []struct {
		name   string
		sealer func(b *testing.B) *Sealer
	}{
		{name: "none", sealer: func(*testing.B) *Sealer { return nil }},
		{name: "sealer", sealer: func(b *testing.B) *Sealer { return newSealerT(b, testMasterKey(b)) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := newHarness(b, bc.sealer(b))
			for chat := int64(1); chat <= people; chat++ {
				h.onboard(chat, true)
			}
			ctx := context.Background()
			in := dialogs.Input{Kind: dialogs.InputText, Text: "Ik merk dat ik onrustig word als hij niet meteen antwoordt.", LangHint: "nl"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := h.svc.Handle(ctx, conversation.Incoming{Channel: conversation.ChannelShell, ChatID: int64(i%people + 1), Input: in}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSealer measures the Sealer alone on a 1 KiB state: a turn's
// Cipher lookup (cached, or unwrapping every time) plus one Open and one Seal.
func BenchmarkSealer(b *testing.B) {
	ctx := context.Background()
	state := bytes.Repeat([]byte("s"), 1024)
	for _, bc := range []struct {
		name string
		opts []SealerOption
	}{
		{name: "cached"},
		{name: "unwrap", opts: []SealerOption{WithCacheSize(0)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := NewSealer(testMasterKey(b), nil, bc.opts...)
			if err != nil {
				b.Fatal(err)
			}
			w, err := s.NewPersonKey(ctx, 1)
			if err != nil {
				b.Fatal(err)
			}
			c, _ := s.Cipher(ctx, 1, w)
			sealed, _ := c.Seal(state)
			b.ReportAllocs()
			for b.Loop() {
				c, err := s.Cipher(ctx, 1, w)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Open(sealed); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Seal(state); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
