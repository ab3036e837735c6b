package bot

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkReceive measures turns through the whole receiving path against
// the fake Bot API server and the real PostgreSQL: 1 or 50 people each
// write, wait until their turn committed, and write again. It reports throughput
// and two latencies: end to end (the fake server queues the update -> the
// turn committed, so it includes the long poll or the webhook POST) and in
// the bot (stored in the inbox -> committed).
//
//	go test -run '^$' -bench BenchmarkReceive -benchtime 2000x ./bot/
func BenchmarkReceive(b *testing.B) {
	for _, mode := range []string{"polling", "webhook"} {
		for _, chats := range []int{1, 50} {
			b.Run(fmt.Sprintf("%s/chats=%d", mode, chats), func(b *testing.B) { benchReceive(b, mode, chats) })
		}
	}
}

type commit struct{ at, received time.Time }

func benchReceive(b *testing.B, mode string, chats int) {
	h := newHarness(b, mode)
	var mu sync.Mutex
	waiters := map[int64]chan commit{}
	h.start(func(o *options) {
		o.committed = func(chat int64, received time.Time) {
			now := time.Now()
			mu.Lock()
			ch := waiters[chat]
			mu.Unlock()
			if ch != nil {
				ch <- commit{at: now, received: received}
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	chat := func(i int) int64 { return int64(20_000 + i) }
	for i := range chats {
		h.fake.SendCommand(chat(i), "/start")
	}
	for i := range chats {
		p := h.player(chat(i))
		p.press(p.nextPrompt(ctx), "c:y")
	}
	h.waitIdle(ctx)
	for i := range chats {
		waiters[chat(i)] = make(chan commit, 1)
	}

	endToEnd := make([][]time.Duration, chats)
	inBot := make([][]time.Duration, chats)
	errs := make(chan error, chats)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range chats {
		n := b.N / chats
		if i < b.N%chats {
			n++
		}
		wg.Go(func() {
			for k := range n {
				sent := time.Now()
				h.fake.SendText(chat(i), fmt.Sprintf("bericht %d", k))
				select {
				case c := <-waiters[chat(i)]:
					endToEnd[i] = append(endToEnd[i], c.at.Sub(sent))
					inBot[i] = append(inBot[i], c.at.Sub(c.received))
				case <-ctx.Done():
					errs <- fmt.Errorf("chat %d: turn %d did not commit", chat(i), k)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
	e2e, bot := slices.Concat(endToEnd...), slices.Concat(inBot...)
	b.ReportMetric(percentile(e2e, 50), "p50-ms")
	b.ReportMetric(percentile(e2e, 95), "p95-ms")
	b.ReportMetric(percentile(bot, 50), "bot-p50-ms")
	b.ReportMetric(percentile(bot, 95), "bot-p95-ms")
}

// percentile returns the p-th percentile of ds in milliseconds.
func percentile(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := min(len(ds)*p/100, len(ds)-1)
	return float64(ds[i]) / float64(time.Millisecond)
}
