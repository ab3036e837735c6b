package bench

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// stallAfter is how long a person waits for an answer before the run counts
// a stall: far beyond any latency worth measuring.
const stallAfter = 30 * time.Second

// window is a stretch of a load phase whose samples count.
type window struct{ start, end time.Time }

func (w window) has(t time.Time) bool { return !t.Before(w.start) && t.Before(w.end) }

// loadResult is what one load phase measured.
type loadResult struct {
	turns    int // updates answered within the window
	seconds  float64
	replies  []time.Duration // per update sent in the window: to the first message or edit
	answers  []time.Duration // ... to the next question
	stalls   int
	stalled  []string // the first few stalls, for the log
	firstErr error
}

func (r *loadResult) rate() float64 {
	if r.seconds <= 0 {
		return 0
	}
	return float64(r.turns) / r.seconds
}

// recorder collects the samples of many people.
type recorder struct {
	mu  sync.Mutex
	w   window
	res loadResult
}

func (r *recorder) add(start time.Time, o outcome, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case errors.Is(err, errStalled):
		r.res.stalls++
		if len(r.res.stalled) < 3 {
			r.res.stalled = append(r.res.stalled, err.Error())
		}
		return
	case err != nil:
		if r.res.firstErr == nil {
			r.res.firstErr = err
		}
		return
	}
	if r.w.has(start.Add(o.reply)) {
		r.res.turns++
	}
	if r.w.has(start) {
		r.res.replies = append(r.res.replies, o.reply)
		r.res.answers = append(r.res.answers, o.answer)
	}
}

// gate decides when a person may send its next update: at once (closed
// loop), or when an arrival is due (open loop). It returns the time the
// update counts from.
type gate func(ctx context.Context) (time.Time, bool)

// closedGate lets each person send as soon as the bot answered it.
func closedGate(ctx context.Context) (time.Time, bool) {
	if ctx.Err() != nil {
		return time.Time{}, false
	}
	return time.Now(), true
}

// arrivals is an open-loop schedule: Poisson arrivals at a fixed rate,
// handed to whichever person is free. Latency counts from the scheduled
// time, so an arrival that waited for a free person is not flattered
// (no coordinated omission).
type arrivals struct {
	ch chan time.Time
}

// startArrivals schedules arrivals at rate per second until ctx ends.
func startArrivals(ctx context.Context, rate float64, seed uint64) *arrivals {
	a := &arrivals{ch: make(chan time.Time, 1<<16)}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	go func() {
		next := time.Now()
		t := time.NewTimer(0)
		defer t.Stop()
		for {
			next = next.Add(time.Duration(rng.ExpFloat64() / rate * float64(time.Second)))
			t.Reset(time.Until(next))
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			select {
			case a.ch <- next:
			default: // over 65,536 arrivals waiting: the bot has long fallen over
			}
		}
	}()
	return a
}

func (a *arrivals) gate(ctx context.Context) (time.Time, bool) {
	select {
	case t := <-a.ch:
		return t, true
	case <-ctx.Done():
		return time.Time{}, false
	}
}

// step is one update of a person: what it sends and how it waits for the
// bot. It returns when the update was sent.
type step func(ctx context.Context, p *person) (sent time.Time, o outcome, err error)

// drive runs people until ctx ends. Each person waits at the gate, sends
// its next update and waits for the bot's answer; when ctx ends, every
// person finishes the update it is waiting on (so the next phase starts
// from a quiet chat) and drive returns.
func drive(ctx context.Context, people []*person, g gate, st step, rec *recorder) {
	var wg sync.WaitGroup
	for _, p := range people {
		wg.Go(func() {
			for {
				start, ok := g(ctx)
				if !ok {
					return
				}
				sent, o, err := st(context.WithoutCancel(ctx), p)
				if err == nil {
					// From the update's arrival (the gate's time), not from
					// when a free person took it.
					if waited := sent.Sub(start); waited > 0 {
						o.reply += waited
						o.answer += waited
					} else {
						start = sent
					}
				}
				rec.add(start, o, err)
				if err != nil {
					// Start over from the menu: one stuck chat must not
					// end the run.
					p.prompt.buttons = nil
				}
			}
		})
	}
	wg.Wait()
}

// runPhase drives people for warm-up then measure, and returns what the
// measured window saw. onStart and onEnd run at the window's edges (CPU
// readings).
func runPhase(ctx context.Context, people []*person, g gate, st step, warmup, measure time.Duration, onStart, onEnd func()) loadResult {
	rec := &recorder{}
	now := time.Now()
	rec.w = window{start: now.Add(warmup), end: now.Add(warmup + measure)}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		drive(pctx, people, g, st, rec)
		close(done)
	}()
	edge := time.NewTimer(warmup)
	select {
	case <-edge.C:
		if onStart != nil {
			onStart()
		}
	case <-ctx.Done():
	}
	edge.Reset(measure)
	select {
	case <-edge.C:
		if onEnd != nil {
			onEnd()
		}
	case <-ctx.Done():
	}
	cancel()
	<-done
	rec.mu.Lock()
	defer rec.mu.Unlock()
	res := rec.res
	res.seconds = measure.Seconds()
	return res
}

// percentile returns the p-th percentile (0-100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
