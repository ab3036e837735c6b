package storage_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

func upd(id, chat int64) storage.InboxUpdate {
	return storage.InboxUpdate{UpdateID: id, ChatID: chat, Payload: []byte(`{"update_id":` + strconv.FormatInt(id, 10) + `}`)}
}

func TestReceiveStoresEachUpdateOnce(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	tests := []struct {
		name    string
		updates []storage.InboxUpdate
		want    int
	}{
		{name: "nothing", updates: nil, want: 0},
		{name: "a batch", updates: []storage.InboxUpdate{upd(1, 10), upd(2, 20), upd(3, 10)}, want: 3},
		{name: "the same batch again", updates: []storage.InboxUpdate{upd(1, 10), upd(2, 20), upd(3, 10)}, want: 0},
		{name: "old and new mixed", updates: []storage.InboxUpdate{upd(3, 10), upd(4, 10)}, want: 1},
		{name: "a repeat inside one batch", updates: []storage.InboxUpdate{upd(5, 30), upd(5, 30)}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := db.Receive(ctx, tt.updates...)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.want {
				t.Errorf("Receive = %d new, want %d", n, tt.want)
			}
		})
	}
	if depth, err := db.InboxDepth(ctx); err != nil || depth != 5 {
		t.Errorf("InboxDepth = %d, %v; want 5", depth, err)
	}
}

func TestReceiveIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	bad := storage.InboxUpdate{UpdateID: 2, ChatID: 1, Payload: nil} // payload is NOT NULL
	if _, err := db.Receive(ctx, upd(1, 1), bad); err == nil {
		t.Fatal("Receive with a NULL payload succeeded")
	}
	if depth, err := db.InboxDepth(ctx); err != nil || depth != 0 {
		t.Errorf("InboxDepth after a failed batch = %d, %v; want 0", depth, err)
	}
}

func TestChatLockIsExclusiveAndOrdered(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	if _, err := db.Receive(ctx, upd(7, 100), upd(3, 100), upd(5, 200), upd(4, 100)); err != nil {
		t.Fatal(err)
	}
	lock, ok, err := db.LockChat(ctx, 100)
	if err != nil || !ok {
		t.Fatalf("LockChat = %v, %v; want the lock", ok, err)
	}
	if _, ok2, err := db.LockChat(ctx, 100); err != nil || ok2 {
		t.Fatalf("second LockChat of a held chat = %v, %v; want busy", ok2, err)
	}
	l2, ok2, err := db.LockChat(ctx, 200)
	if err != nil || !ok2 {
		t.Fatalf("LockChat of another chat = %v, %v; want the lock", ok2, err)
	}
	if _, err := l2.Release(ctx); err != nil {
		t.Fatal(err)
	}

	items, err := lock.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(items); !slices.Equal(got, []int64{3, 4, 7}) {
		t.Fatalf("Next = %v, want [3 4 7]", got)
	}
	if n, err := lock.Failed(ctx, 3); err != nil || n != 1 {
		t.Errorf("Failed = %d, %v; want 1", n, err)
	}
	if _, err := lock.Failed(ctx, 99); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Failed(unknown) = %v, want ErrNotFound", err)
	}
	lock.Done(3)
	if n, err := lock.Failed(ctx, 4); err != nil || n != 1 {
		t.Errorf("Failed after Done = %d, %v; want 1", n, err)
	}
	items, err = lock.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(items); !slices.Equal(got, []int64{4, 7}) {
		t.Fatalf("Next after Done = %v, want [4 7]", got)
	}
	if items[0].Attempts != 1 || items[1].Attempts != 0 || items[0].ChatID != 100 || len(items[0].Payload) == 0 || items[0].ReceivedAt.IsZero() {
		t.Errorf("items = %+v", items)
	}
	for _, it := range items {
		lock.Done(it.UpdateID)
	}
	if items, err := lock.Next(ctx); err != nil || len(items) != 0 {
		t.Fatalf("Next after all Done = %v, %v; want nothing", ids(items), err)
	}

	// The race the lock protocol closes: an update arrives while the chat
	// is held, its receiver finds the chat busy, and the holder, having seen
	// no more updates, releases. Release must report it.
	if _, err := db.Receive(ctx, upd(8, 100)); err != nil {
		t.Fatal(err)
	}
	if _, busy, err := db.LockChat(ctx, 100); err != nil || busy {
		t.Fatalf("receiver's LockChat = %v, %v; want busy", busy, err)
	}
	more, err := lock.Release(ctx)
	if err != nil || !more {
		t.Fatalf("Release = %v, %v; want more", more, err)
	}
	if more, err := lock.Release(ctx); err != nil || more {
		t.Errorf("second Release = %v, %v; want a no-op", more, err)
	}
	lock, ok, err = db.LockChat(ctx, 100)
	if err != nil || !ok {
		t.Fatalf("LockChat after Release = %v, %v", ok, err)
	}
	items, err = lock.Next(ctx)
	if err != nil || !slices.Equal(ids(items), []int64{8}) {
		t.Fatalf("Next = %v, %v; want [8]", ids(items), err)
	}
	lock.Done(8) // deleted by Release, before the lock goes
	if more, err := lock.Release(ctx); err != nil || more {
		t.Errorf("Release of an empty chat = %v, %v; want no more", more, err)
	}
	if depth, err := db.InboxDepth(ctx); err != nil || depth != 1 {
		t.Errorf("InboxDepth = %d, %v; want 1 (chat 200's update)", depth, err)
	}
}

// A process that dies while holding a chat's lock releases it with its
// connection, so another process can go on.
func TestChatLockDiesWithItsConnection(t *testing.T) {
	ctx := context.Background()
	url := storagetest.URL(t)
	open := func() *storage.DB {
		db, err := storage.Open(ctx, url, quiet(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return db
	}
	a, b := open(), open()
	if _, err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	lock, ok, err := a.LockChat(ctx, 42)
	if err != nil || !ok {
		t.Fatalf("LockChat = %v, %v", ok, err)
	}
	if _, ok, err := b.LockChat(ctx, 42); err != nil || ok {
		t.Fatalf("other process got a held lock: %v, %v", ok, err)
	}
	var killed bool
	err = b.Pool().QueryRow(ctx, `
SELECT pg_terminate_backend(pid) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 2
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&killed)
	if err != nil || !killed {
		t.Fatalf("terminate the holder: %v, %v", killed, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, ok, err := b.LockChat(ctx, 42)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if _, err := l.Release(ctx); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock of a dead connection was not released")
		}
		// The server ends the backend asynchronously; poll its lock table.
		if _, err := b.Pool().Exec(ctx, `SELECT pg_sleep(0.01)`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lock.Release(ctx); err == nil {
		t.Error("Release on a dead connection reported success")
	}
}

func TestInboxChatsFindsLeftovers(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := storagetest.New(t, storage.WithClock(clk.Now))
	if _, err := db.Receive(ctx, upd(5, 50), upd(9, 90)); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if _, err := db.Receive(ctx, upd(2, 20), upd(6, 50)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		before time.Time
		limit  int
		want   []int64
	}{
		{name: "everything, oldest update first", before: clk.Now().Add(time.Second), want: []int64{20, 50, 90}},
		{name: "only the older ones", before: clk.Now(), want: []int64{50, 90}},
		{name: "limit", before: clk.Now().Add(time.Second), limit: 2, want: []int64{20, 50}},
		{name: "none yet", before: clk.Now().Add(-time.Hour), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.InboxChats(ctx, tt.before, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("InboxChats = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGroupNoticeOnce(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	steps := []struct {
		name   string
		forget bool
		want   bool
	}{
		{name: "first time", want: true},
		{name: "second time", want: false},
		{name: "after forgetting", forget: true, want: true},
		{name: "and then again not", want: false},
	}
	for _, s := range steps {
		if s.forget {
			if err := db.ForgetGroupNotice(ctx, -100); err != nil {
				t.Fatal(err)
			}
		}
		first, err := db.NoteGroupNotice(ctx, -100)
		if err != nil {
			t.Fatal(err)
		}
		if first != s.want {
			t.Errorf("%s: NoteGroupNotice = %v, want %v", s.name, first, s.want)
		}
	}
	if first, err := db.NoteGroupNotice(ctx, -200); err != nil || !first {
		t.Errorf("another chat: %v, %v", first, err)
	}
}

func TestDueTimers(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := storagetest.New(t, storage.WithClock(clk.Now))
	now := clk.Now()
	wakeA := now.Add(-time.Minute).Add(123 * time.Microsecond)
	keys := []storage.PersonKey{
		{Channel: "telegram", ExternalID: 1},
		{Channel: "shell", ExternalID: 2},
		{Channel: "telegram", ExternalID: 3},
	}
	wakes := []time.Time{wakeA, now.Add(-time.Hour), now.Add(time.Hour)}
	var idA int64
	for i, k := range keys {
		turn(t, db, k, "", func(tx *storage.Tx) error {
			if i == 0 {
				idA = tx.Person().ID
			}
			tx.SaveState([]byte("paused"), wakes[i])
			return nil
		})
	}
	got, err := db.DueTimers(ctx, "telegram", now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != keys[0] || got[0].PersonID != idA || !got[0].WakeAt.Equal(wakeA) {
		t.Fatalf("DueTimers = %+v, want only the telegram person due, waking at %v", got, wakeA)
	}
	if got, err := db.DueTimers(ctx, "telegram", now.Add(2*time.Hour), 0); err != nil || len(got) != 2 {
		t.Errorf("DueTimers later = %+v, %v; want 2", got, err)
	}
}

func ids(items []storage.InboxItem) []int64 {
	var out []int64
	for _, it := range items {
		out = append(out, it.UpdateID)
	}
	return out
}
