package storage_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// courierLog is a Courier that records what it is given.
type courierLog struct {
	mu     sync.Mutex
	room   bool
	accept bool
	taken  []storage.ChatQueue
	wakes  int
	holds  map[int64]bool
}

func (c *courierLog) courier(owner string, lease time.Duration) *storage.Courier {
	return &storage.Courier{
		Owner: owner, Lease: lease,
		Room: func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.room
		},
		Take: func(q storage.ChatQueue) bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.accept {
				c.taken = append(c.taken, q)
			}
			return c.accept
		},
		Wake: func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.wakes++
		},
		Holds: func(personID int64) bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.holds[personID]
		},
	}
}

func (c *courierLog) got() ([]storage.ChatQueue, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	taken, wakes := slices.Clone(c.taken), c.wakes
	c.taken, c.wakes = nil, 0
	return taken, wakes
}

// lease reads the person's delivery lease.
func lease(t *testing.T, db *storage.DB, personID int64) (owner string, until time.Time) {
	t.Helper()
	var by *string
	var u *time.Time
	err := db.Pool().QueryRow(context.Background(),
		`SELECT leased_by, leased_until FROM deliveries WHERE person_id = $1`, personID).Scan(&by, &u)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	if by != nil {
		owner = *by
	}
	if u != nil {
		until = *u
	}
	return owner, until
}

func TestCourierTakesTheTurnsChat(t *testing.T) {
	clk := newDeliveryClock()
	db := storagetest.New(t, storage.WithClock(clk.Now))
	// A message from before the courier came: it goes first in the hand-over.
	id := enqueueFor(t, db, 501, msg("earlier", 10))

	log := &courierLog{room: true, accept: true}
	db.SetCourier(log.courier("here", 30*time.Second))
	clk.Advance(time.Second)
	enqueueFor(t, db, 501, msg("reply one", 0), msg("reply two", 0), storage.Outgoing{
		Kind: "message", Payload: []byte("later"), NotBefore: clk.Now().Add(time.Hour)})

	taken, wakes := log.got()
	if len(taken) != 1 || wakes != 0 {
		t.Fatalf("taken %d chats and %d wakes, want 1 chat and no wake", len(taken), wakes)
	}
	q := taken[0]
	if q.PersonID != id || !q.LeasedUntil.Equal(clk.Now().Add(30*time.Second)) || q.Priority != 0 {
		t.Errorf("queue = person %d until %v priority %d", q.PersonID, q.LeasedUntil, q.Priority)
	}
	// Interactive replies first, then the scheduled one; the message not
	// due yet stays behind.
	if got, want := payloads(q), []string{"reply one", "reply two", "earlier"}; !slices.Equal(got, want) {
		t.Errorf("handed over %q, want %q", got, want)
	}
	for _, m := range q.Messages {
		if m.ID == 0 || m.ChatID != 501 || m.PersonID != id || m.Kind != "message" {
			t.Errorf("message %+v", m)
		}
	}
	if owner, _ := lease(t, db, id); owner != "here" {
		t.Errorf("lease held by %q, want here", owner)
	}
	// Nobody else gets the chat while the courier holds it.
	if qs := mustClaim(t, db, "there", 10, time.Minute); len(qs) != 0 {
		t.Errorf("another owner claimed %v", claimed(qs))
	}
}

func TestCourierLeavesBusyChatsToClaims(t *testing.T) {
	clk := newDeliveryClock()
	db := storagetest.New(t, storage.WithClock(clk.Now))
	log := &courierLog{room: true, accept: true}

	// Leased by another sender.
	busy := enqueueFor(t, db, 601, msg("first", 0))
	if qs := mustClaim(t, db, "there", 10, time.Minute); len(qs) != 1 {
		t.Fatalf("claimed %v", claimed(qs))
	}
	// Gated: released with a gate ahead (per-chat spacing).
	gated := enqueueFor(t, db, 602, msg("first", 0))
	if qs := mustClaim(t, db, "there", 10, time.Minute); len(qs) != 1 {
		t.Fatalf("claimed %v", claimed(qs))
	}
	if err := db.Release(context.Background(), gated, "there", clk.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}

	db.SetCourier(log.courier("here", 30*time.Second))
	enqueueFor(t, db, 601, msg("second", 0))
	enqueueFor(t, db, 602, msg("second", 0))
	taken, wakes := log.got()
	if len(taken) != 0 || wakes != 2 {
		t.Fatalf("taken %d chats and %d wakes, want none and 2 wakes", len(taken), wakes)
	}
	if owner, _ := lease(t, db, busy); owner != "there" {
		t.Errorf("busy chat's lease held by %q, want there", owner)
	}
	if owner, _ := lease(t, db, gated); owner != "" {
		t.Errorf("gated chat leased by %q", owner)
	}
	// A chat the courier holds itself needs no wake: it claims again once
	// it released the chat.
	log.holds = map[int64]bool{busy: true}
	enqueueFor(t, db, 601, msg("third", 0))
	if taken, wakes := log.got(); len(taken) != 0 || wakes != 0 {
		t.Errorf("held chat: taken %d chats and %d wakes, want none", len(taken), wakes)
	}
	// Once the gate passed, a claim finds the gated chat's messages.
	clk.Advance(2 * time.Second)
	qs := mustClaim(t, db, "there", 10, time.Minute)
	if len(qs) != 1 || qs[0].PersonID != gated || !slices.Equal(payloads(qs[0]), []string{"first", "second"}) {
		t.Errorf("claim after the gate: %+v", qs)
	}
}

func TestCourierWithoutRoomOrStopped(t *testing.T) {
	clk := newDeliveryClock()
	db := storagetest.New(t, storage.WithClock(clk.Now))
	log := &courierLog{room: false, accept: true}
	db.SetCourier(log.courier("here", 30*time.Second))

	// No room: no lease is taken, the courier is woken.
	full := enqueueFor(t, db, 701, msg("a", 0))
	if taken, wakes := log.got(); len(taken) != 0 || wakes != 1 {
		t.Errorf("no room: taken %d, wakes %d; want 0 and 1", len(taken), wakes)
	}
	if owner, _ := lease(t, db, full); owner != "" {
		t.Errorf("no room: chat leased by %q", owner)
	}

	// Room, but the courier stopped between the commit and Take: the lease
	// is given back and the courier woken, so a claim finds the chat.
	log.room, log.accept = true, false
	stopped := enqueueFor(t, db, 702, msg("b", 0))
	if taken, wakes := log.got(); len(taken) != 0 || wakes != 1 {
		t.Errorf("stopped: taken %d, wakes %d; want 0 and 1", len(taken), wakes)
	}
	if owner, _ := lease(t, db, stopped); owner != "" {
		t.Errorf("stopped: chat still leased by %q", owner)
	}
	if qs := mustClaim(t, db, "there", 10, time.Minute); !slices.Equal(claimed(qs), []int64{full, stopped}) {
		t.Errorf("claimed %v, want %v", claimed(qs), []int64{full, stopped})
	}

	// Not a Telegram person (the shell), a turn without messages, and
	// after the courier is unset: nothing is leased.
	log.accept = true
	turn(t, db, storage.PersonKey{Channel: "shell", ExternalID: 1}, "", func(tx *storage.Tx) error {
		tx.Enqueue(msg("shown in the terminal", 0))
		return nil
	})
	turn(t, db, storage.PersonKey{Channel: "telegram", ExternalID: 703}, "", func(tx *storage.Tx) error { return nil })
	if taken, wakes := log.got(); len(taken) != 0 || wakes != 1 {
		t.Errorf("shell and quiet turns: taken %d, wakes %d; want 0 and 1", len(taken), wakes)
	}
	db.SetCourier(nil)
	enqueueFor(t, db, 704, msg("c", 0))
	if taken, wakes := log.got(); len(taken) != 0 || wakes != 0 {
		t.Errorf("unset courier: taken %d, wakes %d", len(taken), wakes)
	}
}

func TestCourierWokenForOthersMessages(t *testing.T) {
	clk := newDeliveryClock()
	db := storagetest.New(t, storage.WithClock(clk.Now))
	log := &courierLog{room: true, accept: true}
	db.SetCourier(log.courier("here", 30*time.Second))
	turn(t, db, storage.PersonKey{Channel: "telegram", ExternalID: 801}, "", func(tx *storage.Tx) error {
		tx.Enqueue(msg("for the person", 0))
		_, err := tx.EnqueueTo(storage.PersonKey{Channel: "telegram", ExternalID: 900}, msg("for a coach", 0))
		return err
	})
	taken, wakes := log.got()
	if len(taken) != 1 || !slices.Equal(payloads(taken[0]), []string{"for the person"}) || wakes != 1 {
		t.Fatalf("taken %v, wakes %d; want the person's chat and a wake for the coach's", taken, wakes)
	}
	if qs := mustClaim(t, db, "there", 10, time.Minute); len(qs) != 1 || !slices.Equal(payloads(qs[0]), []string{"for a coach"}) {
		t.Errorf("claim for the coach's message: %+v", qs)
	}
}

// A turn that hands its chat over still costs two round trips.
func TestCourierRoundTrips(t *testing.T) {
	var rt storagetest.RoundTrips
	db := storagetest.New(t, storage.WithMaxConns(1), noPing, rt.Option())
	log := &courierLog{room: true, accept: true}
	db.SetCourier(log.courier("here", 30*time.Second))
	ctx := context.Background()
	for i := range 3 {
		key := storage.PersonKey{Channel: "telegram", ExternalID: int64(1000 + i)}
		enqueueFor(t, db, key.ExternalID, msg("a", 0), msg("b", 0))
		// The chat is leased now: deliver it, so the next turn can lease
		// it again.
		taken, _ := log.got()
		if len(taken) != 1 {
			t.Fatalf("turn %d: taken %d chats", i, len(taken))
		}
		for _, m := range taken[0].Messages {
			if err := db.MarkSent(ctx, m.ID, 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Release(ctx, taken[0].PersonID, "here", time.Time{}); err != nil {
			t.Fatal(err)
		}
		rt.Reset()
		enqueueFor(t, db, key.ExternalID, msg("c", 0))
		if got := rt.Count(); i > 0 && got != 2 {
			t.Errorf("turn %d: %d round trips, want 2", i, got)
		}
		if taken, _ := log.got(); len(taken) != 1 {
			t.Fatalf("turn %d: taken %d chats after the release", i, len(taken))
		}
		if err := db.Release(ctx, taken[0].PersonID, "here", time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChatGuard(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	key := storage.PersonKey{Channel: "telegram", ExternalID: 1201}
	recorded := func(source string) bool {
		var ok bool
		if err := db.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM inputs WHERE source = $1)`, source).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	guarded := func(source string, fn func(*storage.Tx) error) (*storage.ChatGuard, bool, error) {
		gctx, g := storage.WithChatGuard(ctx, key.ExternalID)
		dup, err := db.Turn(gctx, key, source, fn)
		return g, dup, err
	}
	write := func(tx *storage.Tx) error { tx.Enqueue(msg("hi", 0)); return nil }

	// A free chat: the turn runs.
	g, dup, err := guarded("tg:1", write)
	if err != nil || dup || g.Busy() || g.More() || !recorded("tg:1") {
		t.Fatalf("free chat: err %v, dup %v, busy %v, more %v", err, dup, g.Busy(), g.More())
	}

	// The chat's lock held by a drain: busy, nothing kept.
	lock, ok, err := db.LockChat(ctx, key.ExternalID)
	if err != nil || !ok {
		t.Fatalf("LockChat: %v %v", ok, err)
	}
	g, _, err = guarded("tg:2", write)
	if !errors.Is(err, storage.ErrChatBusy) || !g.Busy() || recorded("tg:2") {
		t.Errorf("locked chat: err %v, busy %v, recorded %v", err, g.Busy(), recorded("tg:2"))
	}
	if _, err := lock.Release(ctx); err != nil {
		t.Fatal(err)
	}

	// An earlier update waits in the inbox: busy.
	if _, err := db.Receive(ctx, storage.InboxUpdate{UpdateID: 3, ChatID: key.ExternalID, Payload: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	g, _, err = guarded("tg:4", write)
	if !errors.Is(err, storage.ErrChatBusy) || !g.Busy() || recorded("tg:4") {
		t.Errorf("inbox not empty: err %v, busy %v, recorded %v", err, g.Busy(), recorded("tg:4"))
	}
	// Another chat's inbox does not matter.
	if _, err := db.Receive(ctx, storage.InboxUpdate{UpdateID: 5, ChatID: 9999, Payload: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	lock, _, err = db.LockChat(ctx, key.ExternalID)
	if err != nil {
		t.Fatal(err)
	}
	items, err := lock.Next(ctx)
	if err != nil || len(items) != 1 {
		t.Fatalf("inbox page: %v %v", items, err)
	}
	lock.Done(items[0].UpdateID)
	if _, err := lock.Release(ctx); err != nil {
		t.Fatal(err)
	}

	// An update that arrives while the turn holds the chat (its receiver
	// stores it and finds the lock taken) is reported after the commit.
	g, _, err = guarded("tg:6", func(tx *storage.Tx) error {
		if _, err := db.Receive(ctx, storage.InboxUpdate{UpdateID: 7, ChatID: key.ExternalID, Payload: []byte("{}")}); err != nil {
			return err
		}
		if _, ok, err := db.LockChat(ctx, key.ExternalID); err != nil || ok {
			t.Errorf("LockChat during a guarded turn: ok %v, err %v; want the lock taken", ok, err)
		}
		return write(tx)
	})
	if err != nil || !g.More() || !recorded("tg:6") {
		t.Errorf("update meanwhile: err %v, more %v", err, g.More())
	}

	// A duplicate with the inbox not empty is busy before it is a
	// duplicate.
	g, dup, err = guarded("tg:1", write)
	if !errors.Is(err, storage.ErrChatBusy) || dup || !g.Busy() {
		t.Errorf("duplicate with the inbox not empty: err %v, dup %v, busy %v", err, dup, g.Busy())
	}
	lock, _, _ = db.LockChat(ctx, key.ExternalID)
	items, _ = lock.Next(ctx)
	for _, it := range items {
		lock.Done(it.UpdateID)
	}
	if _, err := lock.Release(ctx); err != nil {
		t.Fatal(err)
	}
	g, dup, err = guarded("tg:1", func(tx *storage.Tx) error {
		t.Error("a duplicate ran")
		return nil
	})
	if err != nil || !dup || g.More() {
		t.Errorf("duplicate: err %v, dup %v, more %v", err, dup, g.More())
	}
}

// A guarded turn costs the same two round trips.
func TestChatGuardRoundTrips(t *testing.T) {
	var rt storagetest.RoundTrips
	db := storagetest.New(t, storage.WithMaxConns(1), noPing, rt.Option())
	key := storage.PersonKey{Channel: "telegram", ExternalID: 1301}
	for i := range 3 {
		gctx, _ := storage.WithChatGuard(context.Background(), key.ExternalID)
		rt.Reset()
		_, err := db.Turn(gctx, key, "tg:"+string(rune('a'+i)), func(tx *storage.Tx) error {
			tx.Enqueue(msg("x", 0))
			tx.SaveState([]byte("s"), time.Time{})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := rt.Count(); i > 0 && got != 2 {
			t.Errorf("turn %d: %d round trips, want 2", i, got)
		}
	}
}
