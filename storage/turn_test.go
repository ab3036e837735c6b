package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

var alice = storage.PersonKey{Channel: "telegram", ExternalID: 1001}

func TestTurnNewAndReturningPerson(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := storagetest.New(t, storage.WithClock(clk.Now))
	start := clk.Now()
	consentAt := start.Add(-time.Minute)
	wake := start.Add(time.Hour)

	turn(t, db, alice, "tg:1", func(tx *storage.Tx) error {
		p := tx.Person()
		if !tx.New() || tx.State() != nil {
			t.Errorf("first turn: New() = %v, State() = %q; want true, nil", tx.New(), tx.State())
		}
		if p.ID == 0 || p.ChatID != alice.ExternalID || p.Lang != "nl" || !p.Active || p.ConsentAt != nil ||
			!p.CreatedAt.Equal(start) || !p.LastSeenAt.Equal(start) {
			t.Errorf("first turn: Person() = %+v", p)
		}
		if !tx.Now().Equal(start) {
			t.Errorf("Now() = %v, want %v", tx.Now(), start)
		}
		tx.SaveState([]byte("step one"), wake)
		tx.SetLang("en")
		tx.SetConsent(&consentAt, "v1")
		tx.SetChatID(-5005)
		tx.AddTranscript(
			storage.Entry{Direction: "in", Kind: "command", Text: "/start"},
			storage.Entry{Direction: "out", Exercise: "stilstaan", Step: "welcome", Kind: "text", Text: "Hoi!"},
		)
		tx.Enqueue(
			storage.Outgoing{Kind: "text", Payload: []byte("first")},
			storage.Outgoing{Kind: "buttons", Payload: []byte("second"), Priority: 10, Prompt: 7},
		)
		if got := tx.Person(); got.Lang != "en" || got.ChatID != -5005 || got.ConsentVersion != "v1" {
			t.Errorf("Person() does not show this turn's changes: %+v", got)
		}
		if string(tx.State()) != "step one" {
			t.Errorf("State() after SaveState = %q", tx.State())
		}
		return nil
	})

	clk.Advance(time.Minute)
	var id int64
	turn(t, db, alice, "tg:2", func(tx *storage.Tx) error {
		p := tx.Person()
		id = p.ID
		if tx.New() || string(tx.State()) != "step one" {
			t.Errorf("second turn: New() = %v, State() = %q; want false, %q", tx.New(), tx.State(), "step one")
		}
		if p.Lang != "en" || p.ChatID != -5005 || p.ConsentVersion != "v1" || p.ConsentAt == nil ||
			!p.ConsentAt.Equal(consentAt) || !p.CreatedAt.Equal(start) || !p.LastSeenAt.Equal(clk.Now()) {
			t.Errorf("second turn: Person() = %+v", p)
		}
		tx.SetConsent(nil, "v1")
		return nil
	})

	p, err := db.FindPerson(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != id || p.ConsentAt != nil || p.Lang != "en" {
		t.Errorf("FindPerson = %+v, want consent withdrawn, lang en", p)
	}
	msgs, err := db.PendingFor(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || string(msgs[0].Payload) != "first" || string(msgs[1].Payload) != "second" ||
		msgs[0].ChatID != -5005 || msgs[1].Priority != 10 || msgs[1].Prompt != 7 || msgs[1].Kind != "buttons" ||
		!msgs[0].NotBefore.Equal(start) || !msgs[0].CreatedAt.Equal(start) {
		t.Errorf("PendingFor = %+v", msgs)
	}
	entries, err := db.Transcript(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Text != "/start" || entries[1].Text != "Hoi!" ||
		entries[1].Exercise != "stilstaan" || entries[1].Step != "welcome" || !entries[0].At.Equal(start) {
		t.Errorf("Transcript = %+v", entries)
	}
}

func TestTurnSameSourceTwice(t *testing.T) {
	db := storagetest.New(t)
	step := func(tx *storage.Tx) error {
		n, _ := strconv.Atoi(string(tx.State()))
		tx.SaveState([]byte(strconv.Itoa(n+1)), time.Time{})
		tx.AddTranscript(storage.Entry{Direction: "in", Text: "hallo"})
		tx.Enqueue(storage.Outgoing{Kind: "text", Payload: []byte("hoi")})
		return nil
	}
	if dup := turn(t, db, alice, "tg:77", step); dup {
		t.Fatal("first delivery reported as duplicate")
	}
	before := counts(t, db)
	calls := 0
	dup := turn(t, db, alice, "tg:77", func(tx *storage.Tx) error {
		calls++
		return step(tx)
	})
	if !dup || calls != 0 {
		t.Errorf("redelivery: dup = %v, fn called %d times; want true, 0", dup, calls)
	}
	if after := counts(t, db); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("redelivery changed rows: before %v, after %v", before, after)
	}
	want := map[string]int{"people": 1, "conversations": 1, "inputs": 1, "transcript": 1, "outbox": 1}
	if fmt.Sprint(before) != fmt.Sprint(want) {
		t.Errorf("rows = %v, want %v", before, want)
	}
	turn(t, db, alice, "", func(tx *storage.Tx) error {
		if string(tx.State()) != "1" {
			t.Errorf("state = %q, want 1 (one step)", tx.State())
		}
		return nil
	})
}

func TestTurnSameSourceConcurrently(t *testing.T) {
	db := storagetest.New(t, storage.WithMaxConns(16))
	const deliveries = 20
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fresh int
	)
	for i := range deliveries {
		wg.Go(func() {
			// Half the deliveries name a new person's first update, half an
			// update of another person: the source alone decides.
			key := alice
			if i%2 == 1 {
				key.ExternalID = 2002
			}
			dup, err := db.Turn(context.Background(), key, "tg:500", func(tx *storage.Tx) error {
				tx.AddTranscript(storage.Entry{Direction: "in", Text: "een keer"})
				return nil
			})
			if err != nil {
				t.Errorf("Turn: %v", err)
				return
			}
			if !dup {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if fresh != 1 || count(t, db, "transcript") != 1 || count(t, db, "inputs") != 1 {
		t.Errorf("%d deliveries of one update took effect %d times (%d transcript rows); want once",
			deliveries, fresh, count(t, db, "transcript"))
	}
}

// Two stores on one database stand for two replicas.
func TestTurnSerialisesOnePerson(t *testing.T) {
	ctx := context.Background()
	u := storagetest.URL(t)
	var replicas []*storage.DB
	for range 2 {
		db, err := storage.Open(ctx, u, quiet(t), storage.WithMaxConns(10))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		replicas = append(replicas, db)
	}
	if _, err := replicas[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	const increments = 50
	var wg sync.WaitGroup
	for i := range increments {
		wg.Go(func() {
			db := replicas[i%len(replicas)]
			_, err := db.Turn(ctx, alice, fmt.Sprintf("tg:%d", i), func(tx *storage.Tx) error {
				n := 0
				if s := tx.State(); s != nil {
					var err error
					if n, err = strconv.Atoi(string(s)); err != nil {
						return err
					}
				}
				tx.SaveState([]byte(strconv.Itoa(n+1)), time.Time{})
				return nil
			})
			if err != nil {
				t.Errorf("Turn %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	turn(t, replicas[0], alice, "", func(tx *storage.Tx) error {
		if got := string(tx.State()); got != strconv.Itoa(increments) {
			t.Errorf("counter = %s after %d concurrent increments: lost updates", got, increments)
		}
		return nil
	})
	if n := count(t, replicas[0], "people"); n != 1 {
		t.Errorf("%d people rows for one person", n)
	}
}

var errHalfway = errors.New("halfway")

func TestTurnFailureLeavesNoTrace(t *testing.T) {
	// bufferAll buffers one of every write a turn can make.
	bufferAll := func(tx *storage.Tx) {
		tx.SaveState([]byte("changed"), time.Now().Add(time.Hour))
		tx.SetLang("en")
		tx.SetChatID(9)
		tx.AddTranscript(storage.Entry{Direction: "in", Text: "weg ermee"})
		tx.Enqueue(storage.Outgoing{Kind: "text", Payload: []byte("nooit")})
	}
	tests := []struct {
		name      string
		existing  bool // the person had a turn before
		fn        func(tx *storage.Tx) error
		wantErr   error // nil: any error
		wantPanic bool
	}{
		{name: "fn error, new person", fn: func(tx *storage.Tx) error {
			bufferAll(tx)
			return errHalfway
		}, wantErr: errHalfway},
		{name: "fn error, existing person", existing: true, fn: func(tx *storage.Tx) error {
			bufferAll(tx)
			return errHalfway
		}, wantErr: errHalfway},
		{name: "statement fails at commit", existing: true, fn: func(tx *storage.Tx) error {
			bufferAll(tx)
			return tx.Exec(context.Background(), "INSERT INTO no_such_table VALUES (1)")
		}},
		{name: "invalid transcript direction", fn: func(tx *storage.Tx) error {
			bufferAll(tx)
			tx.AddTranscript(storage.Entry{Direction: "sideways", Text: "?"})
			return nil
		}},
		{name: "panic, new person", fn: func(tx *storage.Tx) error {
			bufferAll(tx)
			panic("engine bug")
		}, wantPanic: true},
		{name: "panic, existing person", existing: true, fn: func(tx *storage.Tx) error {
			bufferAll(tx)
			panic("engine bug")
		}, wantPanic: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.New(t, storage.WithMaxConns(2))
			if tt.existing {
				turn(t, db, alice, "tg:1", func(tx *storage.Tx) error {
					tx.SaveState([]byte("before"), time.Time{})
					return nil
				})
			}
			before := counts(t, db)

			var err error
			panicked := func() (panicked bool) {
				defer func() {
					if r := recover(); r != nil {
						panicked = true
					}
				}()
				_, err = db.Turn(ctx, alice, "tg:2", tt.fn)
				return false
			}()
			if panicked != tt.wantPanic {
				t.Fatalf("panicked = %v, want %v", panicked, tt.wantPanic)
			}
			if !tt.wantPanic && err == nil {
				t.Fatal("Turn succeeded, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Turn error = %v, want it to wrap %v", err, tt.wantErr)
			}
			if after := counts(t, db); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("failed turn left rows: before %v, after %v", before, after)
			}
			if n := db.Pool().Stat().AcquiredConns(); n != 0 {
				t.Errorf("%d connections still acquired after the failed turn", n)
			}
			// The input was not recorded: the same source is processed now.
			dup := turn(t, db, alice, "tg:2", func(tx *storage.Tx) error {
				want := ""
				if tt.existing {
					want = "before"
				}
				if string(tx.State()) != want || tx.Person().Lang != "nl" || tx.New() == tt.existing {
					t.Errorf("after the failed turn: State() = %q, Lang %q, New() = %v", tx.State(), tx.Person().Lang, tx.New())
				}
				return nil
			})
			if dup {
				t.Error("the failed turn's source was recorded as processed")
			}
		})
	}
}

func TestTurnCanceledContext(t *testing.T) {
	db := storagetest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := db.Turn(ctx, alice, "tg:1", func(tx *storage.Tx) error {
		tx.SaveState([]byte("x"), time.Time{})
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Turn with a context canceled in fn = %v, want context.Canceled", err)
	}
	if got := counts(t, db); got["people"]+got["conversations"]+got["inputs"] != 0 {
		t.Errorf("canceled turn left rows: %v", got)
	}
}

func TestTurnExec(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	if _, err := db.Pool().Exec(ctx, `CREATE TABLE exec_notes (person_id bigint, last_entry bigint, note bytea)`); err != nil {
		t.Fatal(err)
	}
	turn(t, db, alice, "tg:1", func(tx *storage.Tx) error {
		tx.AddTranscript(storage.Entry{Direction: "in", Text: "help"})
		note, err := tx.Seal([]byte("flagged"))
		if err != nil {
			return err
		}
		// Runs after the transcript entry above: it must see it.
		return tx.Exec(ctx, `INSERT INTO exec_notes SELECT $1, max(id), $2 FROM transcript WHERE person_id = $1`,
			tx.Person().ID, note)
	})
	var (
		last int64
		note []byte
	)
	if err := db.Pool().QueryRow(ctx, `SELECT last_entry, note FROM exec_notes`).Scan(&last, &note); err != nil {
		t.Fatal(err)
	}
	if last == 0 || string(note) != "flagged" {
		t.Errorf("exec_notes row = %d, %q; want the transcript entry's id and the note", last, note)
	}
	if err := func() error {
		var err error
		turn(t, db, alice, "tg:2", func(tx *storage.Tx) error {
			err = tx.Exec(ctx, "")
			return nil
		})
		return err
	}(); err == nil {
		t.Error("Exec of an empty statement returned nil")
	}
}

func TestTxUsedAfterTurnPanics(t *testing.T) {
	db := storagetest.New(t)
	var kept *storage.Tx
	turn(t, db, alice, "", func(tx *storage.Tx) error {
		kept = tx
		return nil
	})
	defer func() {
		if recover() == nil {
			t.Error("SaveState on a finished Tx did not panic")
		}
	}()
	kept.SaveState([]byte("late"), time.Time{})
}

func TestTurnRejectsEmptyChannel(t *testing.T) {
	db := storagetest.New(t)
	_, err := db.Turn(context.Background(), storage.PersonKey{ExternalID: 1}, "", func(*storage.Tx) error { return nil })
	if err == nil {
		t.Fatal("Turn without a channel succeeded")
	}
}

func TestFindPersonAndSetActive(t *testing.T) {
	ctx := context.Background()
	db := storagetest.New(t)
	p, err := db.FindPerson(ctx, alice)
	if !errors.Is(err, storage.ErrNotFound) || p.ID != 0 {
		t.Fatalf("FindPerson before any turn = %+v, %v; want ErrNotFound", p, err)
	}
	turn(t, db, alice, "", func(*storage.Tx) error { return nil })
	if p, err = db.FindPerson(ctx, alice); err != nil || !p.Active {
		t.Fatalf("FindPerson = %+v, %v", p, err)
	}
	if err := db.SetActive(ctx, p.ID, false); err != nil {
		t.Fatal(err)
	}
	if p, _ = db.FindPerson(ctx, alice); p.Active {
		t.Error("SetActive(false) did not stick")
	}
	if err := db.SetActive(ctx, p.ID+1000, false); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetActive on a missing person = %v, want ErrNotFound", err)
	}
	turn(t, db, alice, "", func(tx *storage.Tx) error {
		tx.SetActive(true)
		return nil
	})
	if p, _ = db.FindPerson(ctx, alice); !p.Active {
		t.Error("Tx.SetActive(true) did not stick")
	}
}

func TestPruneInputs(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := storagetest.New(t, storage.WithClock(clk.Now))
	turn(t, db, alice, "tg:old", func(*storage.Tx) error { return nil })
	clk.Advance(72 * time.Hour)
	turn(t, db, alice, "tg:new", func(*storage.Tx) error { return nil })
	n, err := db.PruneInputs(ctx, clk.Now().Add(-48*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PruneInputs = %d, %v; want 1, nil", n, err)
	}
	if dup := turn(t, db, alice, "tg:new", func(*storage.Tx) error { return nil }); !dup {
		t.Error("the recent input was pruned")
	}
}
