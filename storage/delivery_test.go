package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// deliveryClock is a test clock that moves only when told to.
type deliveryClock struct {
	mu sync.Mutex
	t  time.Time
}

func newDeliveryClock() *deliveryClock {
	return &deliveryClock{t: time.Date(2026, 5, 4, 21, 0, 0, 0, time.UTC)}
}

func (c *deliveryClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *deliveryClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// enqueueFor runs a turn for the telegram person extID that enqueues outs,
// and returns the person's id.
func enqueueFor(t testing.TB, db *storage.DB, extID int64, outs ...storage.Outgoing) int64 {
	t.Helper()
	var id int64
	_, err := db.Turn(context.Background(), storage.PersonKey{Channel: "telegram", ExternalID: extID}, "",
		func(tx *storage.Tx) error {
			id = tx.Person().ID
			tx.Enqueue(outs...)
			return nil
		})
	if err != nil {
		t.Fatalf("enqueue for %d: %v", extID, err)
	}
	return id
}

func msg(text string, priority int) storage.Outgoing {
	return storage.Outgoing{Kind: "message", Payload: []byte(text), Priority: priority}
}

// payloads lists the payloads of a queue.
func payloads(q storage.ChatQueue) []string {
	var out []string
	for _, m := range q.Messages {
		out = append(out, string(m.Payload))
	}
	return out
}

func claimed(qs []storage.ChatQueue) []int64 {
	var out []int64
	for _, q := range qs {
		out = append(out, q.PersonID)
	}
	return out
}

func mustClaim(t testing.TB, db *storage.DB, owner string, limit int, lease time.Duration) []storage.ChatQueue {
	t.Helper()
	qs, err := db.ClaimChats(context.Background(), owner, limit, lease)
	if err != nil {
		t.Fatalf("ClaimChats(%s): %v", owner, err)
	}
	return qs
}

func TestClaimChatsOrder(t *testing.T) {
	clk := newDeliveryClock()
	db := storagetest.New(t, storage.WithClock(clk.Now))
	later := clk.Now().Add(time.Hour)

	// Enqueued in this order: the scheduled-only chat has the oldest message.
	sched := enqueueFor(t, db, 1, msg("s1", 10), msg("s2", 10))
	mixed := enqueueFor(t, db, 2, msg("m1", 10), msg("m2", 0))
	inter := enqueueFor(t, db, 3, msg("i1", 0))
	future := enqueueFor(t, db, 4, storage.Outgoing{Kind: "message", Payload: []byte("f1"), NotBefore: later})
	// A message due later does not hold back a later one that is due now.
	enqueueFor(t, db, 2, storage.Outgoing{Kind: "message", Payload: []byte("m3"), NotBefore: later}, msg("m4", 0))

	first := mustClaim(t, db, "a", 2, time.Minute)
	if got, want := claimed(first), []int64{mixed, inter}; !slices.Equal(got, want) {
		t.Fatalf("first claim = %v, want the chats with interactive messages %v", got, want)
	}
	if got, want := payloads(first[0]), []string{"m2", "m4", "m1"}; !slices.Equal(got, want) {
		t.Errorf("mixed chat messages = %q, want %q (interactive first, then id order; due only)", got, want)
	}
	if first[0].Priority != 0 || !first[0].LeasedUntil.Equal(clk.Now().Add(time.Minute)) {
		t.Errorf("mixed chat = priority %d, leased until %v", first[0].Priority, first[0].LeasedUntil)
	}

	second := mustClaim(t, db, "b", 10, time.Minute)
	if got, want := claimed(second), []int64{sched}; !slices.Equal(got, want) {
		t.Fatalf("second claim = %v, want %v (leased chats and chats with nothing due left out)", got, want)
	}
	if got, want := payloads(second[0]), []string{"s1", "s2"}; !slices.Equal(got, want) {
		t.Errorf("scheduled chat messages = %q, want %q", got, want)
	}
	if qs := mustClaim(t, db, "c", 10, time.Minute); len(qs) != 0 {
		t.Errorf("third claim = %v, want nothing", claimed(qs))
	}

	// Everything claimed is sent and its chat released.
	ctx := context.Background()
	for _, q := range append(first, second...) {
		for _, m := range q.Messages {
			if err := db.MarkSent(ctx, m.ID, m.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Release(ctx, q.PersonID, map[bool]string{true: "a", false: "b"}[q.PersonID != sched], clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Hour)
	third := mustClaim(t, db, "c", 10, time.Minute)
	if got, want := claimed(third), []int64{future, mixed}; !slices.Equal(got, want) {
		t.Fatalf("claim once due = %v, want %v", got, want)
	}
	if got, want := payloads(third[1]), []string{"m3"}; !slices.Equal(got, want) {
		t.Errorf("mixed chat once due = %q, want %q", got, want)
	}
}

func TestClaimChatsLeases(t *testing.T) {
	ctx := context.Background()
	clk := newDeliveryClock()
	db := storagetest.New(t, storage.WithClock(clk.Now))
	p := enqueueFor(t, db, 1, msg("one", 0), msg("two", 0))

	if got := claimed(mustClaim(t, db, "a", 10, time.Minute)); !slices.Equal(got, []int64{p}) {
		t.Fatalf("a claimed %v", got)
	}
	clk.Advance(40 * time.Second)
	if got := claimed(mustClaim(t, db, "b", 10, time.Minute)); len(got) != 0 {
		t.Fatalf("b claimed %v while a's lease runs", got)
	}
	ids, err := db.RenewLeases(ctx, "a", time.Minute)
	if err != nil || !slices.Equal(ids, []int64{p}) {
		t.Fatalf("RenewLeases(a) = %v, %v", ids, err)
	}
	clk.Advance(40 * time.Second) // 80s after the claim, 40s after the renewal
	if got := claimed(mustClaim(t, db, "b", 10, time.Minute)); len(got) != 0 {
		t.Fatalf("b claimed %v while a's renewed lease runs", got)
	}

	clk.Advance(21 * time.Second) // a died: its lease ran out
	qs := mustClaim(t, db, "b", 10, time.Minute)
	if got := claimed(qs); !slices.Equal(got, []int64{p}) {
		t.Fatalf("b claimed %v after a's lease ran out, want %v", got, p)
	}
	if got := payloads(qs[0]); !slices.Equal(got, []string{"one", "two"}) {
		t.Errorf("taken-over messages = %q", got)
	}
	if ids, err := db.RenewLeases(ctx, "a", time.Minute); err != nil || len(ids) != 0 {
		t.Errorf("RenewLeases(a) after the takeover = %v, %v; want none", ids, err)
	}

	// Release by someone who does not hold the lease changes nothing.
	if err := db.Release(ctx, p, "a", clk.Now()); err != nil {
		t.Fatal(err)
	}
	if got := claimed(mustClaim(t, db, "c", 10, time.Minute)); len(got) != 0 {
		t.Fatalf("c claimed %v after a foreign release", got)
	}
	// Release with a gate: nobody claims before it.
	if err := db.Release(ctx, p, "b", clk.Now().Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := claimed(mustClaim(t, db, "c", 10, time.Minute)); len(got) != 0 {
		t.Fatalf("c claimed %v before the gate", got)
	}
	clk.Advance(2 * time.Second)
	if got := claimed(mustClaim(t, db, "c", 10, time.Minute)); !slices.Equal(got, []int64{p}) {
		t.Fatalf("c claimed %v at the gate, want %v", got, p)
	}
	if n, err := db.ReleaseAll(ctx, "c"); err != nil || n != 1 {
		t.Fatalf("ReleaseAll(c) = %d, %v", n, err)
	}
	if got := claimed(mustClaim(t, db, "d", 10, time.Minute)); !slices.Equal(got, []int64{p}) {
		t.Fatalf("d claimed %v after ReleaseAll, want %v", got, p)
	}
}

func TestRescheduleKeepsOrder(t *testing.T) {
	tests := []struct {
		name  string
		crash bool // the holder dies instead of releasing
	}{
		{name: "released at shutdown"},
		{name: "holder crashed", crash: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clk := newDeliveryClock()
			db := storagetest.New(t, storage.WithClock(clk.Now))
			enqueueFor(t, db, 1, msg("first", 0), msg("second", 0))
			qs := mustClaim(t, db, "a", 10, 10*time.Second)
			retryAt := clk.Now().Add(time.Minute)
			if err := db.Reschedule(ctx, qs[0].Messages[0].ID, retryAt, 1, "server_error: HTTP 500"); err != nil {
				t.Fatal(err)
			}
			if tt.crash {
				clk.Advance(11 * time.Second)
			} else if _, err := db.ReleaseAll(ctx, "a"); err != nil {
				t.Fatal(err)
			}
			// "second" is due, but it must not overtake "first".
			if got := claimed(mustClaim(t, db, "b", 10, time.Minute)); len(got) != 0 {
				t.Fatalf("claimed %v while the first message waits for its retry", got)
			}
			clk.Advance(time.Minute)
			qs = mustClaim(t, db, "b", 10, time.Minute)
			if len(qs) != 1 {
				t.Fatalf("claimed %v at the retry time", claimed(qs))
			}
			if got := payloads(qs[0]); !slices.Equal(got, []string{"first", "second"}) {
				t.Errorf("messages = %q, want first then second", got)
			}
			if m := qs[0].Messages[0]; m.Attempts != 1 || !m.NotBefore.Equal(retryAt) {
				t.Errorf("rescheduled message = attempts %d, not before %v", m.Attempts, m.NotBefore)
			}
			var lastErr string
			if err := db.Pool().QueryRow(ctx, `SELECT last_error FROM outbox WHERE id = $1`, qs[0].Messages[0].ID).Scan(&lastErr); err != nil || lastErr != "server_error: HTTP 500" {
				t.Errorf("last_error = %q, %v", lastErr, err)
			}
		})
	}
}

// Several claimers race over the same chats: no message may be handed out
// while another claimer has it, and none is lost.
func TestClaimChatsConcurrent(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	const chats, perChat, claimers = 20, 15, 4
	for c := range chats {
		var outs []storage.Outgoing
		for i := range perChat {
			outs = append(outs, msg(fmt.Sprintf("%d-%d", c, i), (c%2)*10))
		}
		enqueueFor(t, db, int64(100+c), outs...)
	}

	var (
		mu      sync.Mutex
		handed  = map[int64]string{} // message id -> claimer that sent it
		order   = map[int64][]int64{}
		wg      sync.WaitGroup
		errs    = make(chan error, claimers)
		pending = chats * perChat
	)
	for w := range claimers {
		owner := fmt.Sprintf("claimer-%d", w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				left := pending
				mu.Unlock()
				if left == 0 {
					return
				}
				qs, err := db.ClaimChats(ctx, owner, 3, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				for _, q := range qs {
					// Send at most two, as a rate limit would, then release.
					for i, m := range q.Messages {
						if i == 2 {
							break
						}
						mu.Lock()
						if prev, ok := handed[m.ID]; ok {
							mu.Unlock()
							errs <- fmt.Errorf("message %d handed to %s after %s sent it", m.ID, owner, prev)
							return
						}
						handed[m.ID] = owner
						order[q.PersonID] = append(order[q.PersonID], m.ID)
						pending--
						mu.Unlock()
						if err := db.MarkSent(ctx, m.ID, m.ID); err != nil {
							errs <- err
							return
						}
					}
					if err := db.Release(ctx, q.PersonID, owner, time.Now()); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(handed) != chats*perChat {
		t.Errorf("%d messages sent, want %d", len(handed), chats*perChat)
	}
	for p, ids := range order {
		if !slices.IsSorted(ids) {
			t.Errorf("person %d: messages sent out of order: %v", p, ids)
		}
	}
	if n, err := db.OutboxDepth(ctx); err != nil || n != 0 {
		t.Errorf("OutboxDepth = %d, %v; want 0", n, err)
	}
}

func TestClaimChatsOneRoundTrip(t *testing.T) {
	var rt storagetest.RoundTrips
	db := storagetest.New(t, rt.Option(), storage.WithMaxConns(1))
	for c := range 5 {
		enqueueFor(t, db, int64(c+1), msg("a", 0), msg("b", 10))
	}
	ctx := context.Background()
	if _, err := db.ClaimChats(ctx, "warm-up", 1, time.Minute); err != nil { // prepares the statements
		t.Fatal(err)
	}
	rt.Reset()
	qs, err := db.ClaimChats(ctx, "a", 10, time.Minute)
	if err != nil || len(qs) != 4 {
		t.Fatalf("ClaimChats = %d chats, %v; want 4", len(qs), err)
	}
	if n := rt.Count(); n != 1 {
		t.Errorf("ClaimChats took %d round trips, want 1", n)
	}
}

func TestDropQueue(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	blocked := enqueueFor(t, db, 1, msg("a", 0), msg("b", 10))
	other := enqueueFor(t, db, 2, msg("c", 0))

	n, err := db.DropQueue(ctx, blocked, "forbidden: Forbidden: bot was blocked by the user")
	if err != nil || n != 2 {
		t.Fatalf("DropQueue = %d, %v; want 2", n, err)
	}
	var active bool
	if err := db.Pool().QueryRow(ctx, `SELECT active FROM people WHERE id = $1`, blocked).Scan(&active); err != nil || active {
		t.Errorf("blocked person active = %v, %v; want false", active, err)
	}
	var dropped int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox WHERE person_id = $1 AND status = 'dropped' AND last_error LIKE 'forbidden%'`, blocked).Scan(&dropped); err != nil || dropped != 2 {
		t.Errorf("dropped messages = %d, %v; want 2", dropped, err)
	}
	if got := claimed(mustClaim(t, db, "a", 10, time.Minute)); !slices.Equal(got, []int64{other}) {
		t.Errorf("claimed %v after the drop, want only %v", got, other)
	}
	if _, err := db.DropQueue(ctx, 999999, "forbidden"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DropQueue(unknown person) = %v, want ErrNotFound", err)
	}
}

func TestMarkFailed(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	enqueueFor(t, db, 1, msg("a", 0), msg("b", 0))
	qs := mustClaim(t, db, "a", 10, time.Minute)
	id := qs[0].Messages[0].ID
	if err := db.MarkFailed(ctx, id, "bad_request: Bad Request: message is too long"); err != nil {
		t.Fatal(err)
	}
	var (
		status   string
		attempts int
	)
	if err := db.Pool().QueryRow(ctx, `SELECT status, attempts FROM outbox WHERE id = $1`, id).Scan(&status, &attempts); err != nil || status != "failed" || attempts != 1 {
		t.Errorf("failed message = %s, %d attempts, %v", status, attempts, err)
	}
	if err := db.MarkFailed(ctx, id, "again"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("MarkFailed twice = %v, want ErrNotFound", err)
	}
	if err := db.Reschedule(ctx, id, time.Now(), 1, "x"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Reschedule of a failed message = %v, want ErrNotFound", err)
	}
	if n, err := db.OutboxDepth(ctx); err != nil || n != 1 {
		t.Errorf("OutboxDepth = %d, %v; want 1", n, err)
	}
}

func TestRemoteIDForPrompt(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	p := enqueueFor(t, db, 1,
		storage.Outgoing{Kind: "message", Payload: []byte("q1"), Prompt: 7},
		storage.Outgoing{Kind: "message", Payload: []byte("q2"), Prompt: 8},
		storage.Outgoing{Kind: "message", Payload: []byte("q1 again"), Prompt: 7})
	other := enqueueFor(t, db, 2, storage.Outgoing{Kind: "message", Payload: []byte("x"), Prompt: 7})
	qs := mustClaim(t, db, "a", 10, time.Minute)
	ids := map[string]int64{}
	for _, q := range qs {
		for _, m := range q.Messages {
			ids[string(m.Payload)] = m.ID
		}
	}
	if _, err := db.RemoteIDForPrompt(ctx, p, 7); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("before any send: %v, want ErrNotFound", err)
	}
	for text, remote := range map[string]int64{"q1": 101, "q2": 102, "x": 55} {
		if err := db.MarkSent(ctx, ids[text], remote); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		person  int64
		prompt  int
		want    int64
		wantErr error
	}{
		{name: "sent prompt", person: p, prompt: 7, want: 101},
		{name: "other prompt", person: p, prompt: 8, want: 102},
		{name: "other person same prompt", person: other, prompt: 7, want: 55},
		{name: "unknown prompt", person: p, prompt: 9, wantErr: storage.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.RemoteIDForPrompt(ctx, tt.person, tt.prompt)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("RemoteIDForPrompt = %d, %v; want %d, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	// The newest sent message of the prompt wins.
	if err := db.MarkSent(ctx, ids["q1 again"], 103); err != nil {
		t.Fatal(err)
	}
	if got, err := db.RemoteIDForPrompt(ctx, p, 7); err != nil || got != 103 {
		t.Errorf("after a resend: %d, %v; want 103", got, err)
	}
}

func TestDeletedPersonForgetsDelivery(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	p := enqueueFor(t, db, 1, msg("a", 0))
	mustClaim(t, db, "a", 10, time.Minute)
	if _, err := db.Pool().Exec(ctx, `DELETE FROM people WHERE id = $1`, p); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM deliveries`).Scan(&n); err != nil || n != 0 {
		t.Errorf("deliveries rows after deleting the person = %d, %v; want 0", n, err)
	}
}

// BenchmarkClaimChats claims 50 chats out of a backlog of 10,000 pending
// messages over 1,000 chats, and gives them back.
func BenchmarkClaimChats(b *testing.B) {
	ctx := context.Background()
	db := storagetest.New(b)
	const chats, each = 1000, 10
	for c := range chats {
		outs := make([]storage.Outgoing, each)
		for i := range outs {
			outs[i] = msg(fmt.Sprintf("%d-%d", c, i), (c%3)*5)
		}
		enqueueFor(b, db, int64(c+1), outs...)
	}
	if _, err := db.Pool().Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		qs, err := db.ClaimChats(ctx, "bench", 50, time.Minute)
		if err != nil || len(qs) != 50 {
			b.Fatalf("ClaimChats = %d chats, %v", len(qs), err)
		}
		if _, err := db.ReleaseAll(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestClaimChatsOnlyTelegram(t *testing.T) {
	db := storagetest.New(t)
	ctx := context.Background()
	if _, err := db.Turn(ctx, storage.PersonKey{Channel: "shell", ExternalID: 7}, "", func(tx *storage.Tx) error {
		tx.Enqueue(msg("for the terminal", 0))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tg := enqueueFor(t, db, 7, msg("for telegram", 0))
	qs := mustClaim(t, db, "a", 10, time.Minute)
	if got := claimed(qs); !slices.Equal(got, []int64{tg}) {
		t.Fatalf("claimed %v, want only the telegram chat %d", got, tg)
	}
}
