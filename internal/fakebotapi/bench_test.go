package fakebotapi

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot"
)

// BenchmarkSendMessage pushes b.N messages through the real client over 1000
// chats from parallel goroutines; run it with -benchtime=100000x for the
// 100,000-message figure.
func BenchmarkSendMessage(b *testing.B) {
	s := New(b, testToken)
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := newBot(b, s, bot.WithHTTPClient(time.Minute, &http.Client{Transport: tr, Timeout: time.Minute}))
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := client.SendMessage(ctx, &bot.SendMessageParams{ChatID: i%1000 + 1, Text: "bericht " + itoa(i)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	st := s.Stats()
	if st.Sent != b.N || st.Duplicates != 0 {
		b.Fatalf("stats = %+v, want %d sent", st, b.N)
	}
	b.ReportMetric(float64(st.MaxGlobalPerSecond), "max-msgs/s")
}
