package privacy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/keyring"
	"github.com/stilstaan/stilstaan/storage"
)

// timers stands in for time.AfterFunc: the test fires what is due.
type timers struct {
	mu  sync.Mutex
	now time.Duration
	due []timer
}

type timer struct {
	at time.Duration
	f  func()
}

func (tm *timers) after(d time.Duration, f func()) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.due = append(tm.due, timer{at: tm.now + d, f: f})
}

// advance moves time on and runs every timer that came due, in order.
func (tm *timers) advance(d time.Duration) {
	tm.mu.Lock()
	tm.now += d
	var run, keep []timer
	for _, x := range tm.due {
		if x.at <= tm.now {
			run = append(run, x)
		} else {
			keep = append(keep, x)
		}
	}
	tm.due = keep
	tm.mu.Unlock()
	for _, x := range run {
		x.f()
	}
}

func sealerWithTimers(t *testing.T, opts ...SealerOption) (*Sealer, *timers) {
	t.Helper()
	tm := &timers{}
	s, err := NewSealer(testMasterKey(t), nil, append([]SealerOption{withTimers(tm.after)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s, tm
}

func TestSealerRoundTripAndBinding(t *testing.T) {
	ctx := context.Background()
	s, _ := sealerWithTimers(t)
	w1, err := s.NewPersonKey(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := s.NewPersonKey(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(w1) != keyring.WrappedSize || bytes.Equal(w1, w2) {
		t.Fatalf("wrapped keys: %d bytes, equal %v", len(w1), bytes.Equal(w1, w2))
	}
	c1, err := s.Cipher(ctx, 1, w1)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.Cipher(ctx, 2, w2)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("wat ik niemand vertel")
	sealed, err := c1.Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("the sealed text contains the plaintext")
	}
	again, _ := c1.Seal(secret)
	if bytes.Equal(sealed, again) {
		t.Error("sealing twice gave the same blob")
	}
	if got, err := c1.Open(sealed); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("Open = %q, %v", got, err)
	}
	// A fresh sealer with the same master key (a restart) opens it too.
	restarted, err := NewSealer(s.Ring().Current(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := restarted.Cipher(ctx, 1, w1)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := cr.Open(sealed); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("after a restart Open = %q, %v", got, err)
	}

	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name   string
		open   func() ([]byte, error)
		target error
	}{
		{name: "another person's cipher", open: func() ([]byte, error) { return c2.Open(sealed) }, target: keyring.ErrTampered},
		{name: "a flipped bit", open: func() ([]byte, error) { return c1.Open(tampered) }, target: keyring.ErrTampered},
		{name: "truncated", open: func() ([]byte, error) { return c1.Open(sealed[:10]) }, target: keyring.ErrTampered},
		{name: "plaintext", open: func() ([]byte, error) { return c1.Open(secret) }, target: keyring.ErrTampered},
		{name: "wrapped key under another id", open: func() ([]byte, error) {
			_, err := s.Cipher(ctx, 2, w1)
			return nil, err
		}, target: keyring.ErrTampered},
		{name: "no key", open: func() ([]byte, error) {
			_, err := s.Cipher(ctx, 1, nil)
			return nil, err
		}, target: ErrNoDataKey},
		{name: "unknown master key", open: func() ([]byte, error) {
			other, _ := sealerWithTimers(t)
			_, err := other.Cipher(ctx, 1, w1)
			return nil, err
		}, target: keyring.ErrUnknownMaster},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.open()
			if !errors.Is(err, tc.target) {
				t.Errorf("err = %v, want %v", err, tc.target)
			}
			if got != nil {
				t.Errorf("returned %q alongside the error", got)
			}
		})
	}
}

func TestSealerCache(t *testing.T) {
	ctx := context.Background()
	s, tm := sealerWithTimers(t, WithCacheSize(2), WithCacheTTL(time.Hour))
	keyOf := func(id int64, wrapped []byte) keyring.DataKey {
		t.Helper()
		dk, err := s.dataKey(id, wrapped)
		if err != nil {
			t.Fatal(err)
		}
		return dk
	}
	w := map[int64][]byte{}
	for id := int64(1); id <= 3; id++ {
		var err error
		if w[id], err = s.NewPersonKey(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.cache.len(); n != 2 {
		t.Fatalf("cache holds %d keys, bound 2", n)
	}
	// 1 was evicted: its key object is wiped after the grace period, while
	// the data key itself still unwraps from storage.
	k3 := keyOf(3, w[3])
	if k3 != keyOf(3, w[3]) {
		t.Error("a cached key was unwrapped again")
	}
	k1 := keyOf(1, w[1]) // unwraps again, evicts 2
	sealed, err := personCipher{key: k1, aad: personAAD(1)}.Seal([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}

	// Forget: served no more at once, wiped after the grace period, and not
	// cached again while the erasure settles.
	s.Forget(1)
	if k1.IsZero() {
		t.Fatal("the key was wiped before the turn using it could commit")
	}
	k1b := keyOf(1, w[1])
	if k1b == k1 {
		t.Error("a forgotten key was served from the cache")
	}
	if n := s.cache.len(); n != 1 {
		t.Errorf("cache holds %d keys after forgetting, want 1 (a forgotten person is not cached again)", n)
	}
	tm.advance(DefaultKeyGrace)
	if !k1.IsZero() || !k1b.IsZero() {
		t.Error("the forgotten key was not wiped after the grace period")
	}
	if _, err := (personCipher{key: k1, aad: personAAD(1)}).Open(sealed); !errors.Is(err, keyring.ErrNoKey) {
		t.Errorf("a wiped key opens: %v", err)
	}

	// Expiry: after the TTL the key is dropped and, a grace period later, wiped.
	tm.advance(time.Hour - DefaultKeyGrace)
	if n := s.cache.len(); n != 0 {
		t.Errorf("cache holds %d keys after the TTL", n)
	}
	if k3.IsZero() {
		t.Error("an expired key was wiped without a grace period")
	}
	tm.advance(DefaultKeyGrace)
	if !k3.IsZero() {
		t.Error("an expired key was never wiped")
	}

	// A re-wrapped key (rotation) is a cache miss, not a stale hit.
	k3 = keyOf(3, w[3])
	rewrapped, err := s.Ring().Rewrap(w[3], personAAD(3))
	if err != nil {
		t.Fatal(err)
	}
	if keyOf(3, rewrapped) == k3 {
		t.Error("the cache served a key for a different wrapped blob")
	}
	if _, err := s.Cipher(ctx, 3, nil); !errors.Is(err, ErrNoDataKey) {
		t.Errorf("a destroyed key is served from the cache: %v", err)
	}
}

func TestSealerWithoutCache(t *testing.T) {
	ctx := context.Background()
	s, tm := sealerWithTimers(t, WithCacheSize(0))
	w, err := s.NewPersonKey(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Cipher(ctx, 5, w)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := c.Seal([]byte("zonder cache"))
	if err != nil {
		t.Fatal(err)
	}
	tm.advance(DefaultKeyGrace)
	c2, err := s.Cipher(ctx, 5, w)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c2.Open(sealed); err != nil || string(got) != "zonder cache" {
		t.Errorf("Open = %q, %v", got, err)
	}
	if _, err := c.Open(sealed); !errors.Is(err, keyring.ErrNoKey) {
		t.Errorf("an uncached key was not wiped after the grace period: %v", err)
	}
}

func TestSealerIsSafeForConcurrentUse(t *testing.T) {
	ctx := context.Background()
	s, err := NewSealer(testMasterKey(t), nil, WithCacheSize(8))
	if err != nil {
		t.Fatal(err)
	}
	wrapped := map[int64][]byte{}
	for id := int64(1); id <= 32; id++ {
		if wrapped[id], err = s.NewPersonKey(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				id := int64((g*7+i)%32 + 1)
				c, err := s.Cipher(ctx, id, wrapped[id])
				if err != nil {
					errs <- err
					return
				}
				b, err := c.Seal([]byte("x"))
				if err == nil {
					_, err = c.Open(b)
				}
				if err != nil {
					errs <- fmt.Errorf("person %d: %w", id, err)
					return
				}
				if i%50 == 0 {
					s.Forget(id + 100) // someone else is being erased meanwhile
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSystemCipher(t *testing.T) {
	oldKey, newKey := testMasterKey(t), testMasterKey(t)
	before := newSealerT(t, oldKey).SystemCipher()
	during := newSealerT(t, newKey, oldKey).SystemCipher()
	after := newSealerT(t, newKey).SystemCipher()
	update := []byte(`{"update_id":1,"message":{"text":"wat ik schreef"}}`)

	sealed, err := before.Seal(update)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("wat ik schreef")) {
		t.Fatal("the sealed update contains the text")
	}
	for name, c := range map[string]storage.Cipher{"same key": newSealerT(t, oldKey).SystemCipher(), "during rotation": during} {
		if got, err := c.Open(sealed); err != nil || !bytes.Equal(got, update) {
			t.Errorf("%s: Open = %q, %v", name, got, err)
		}
	}
	if _, err := after.Open(sealed); !errors.Is(err, keyring.ErrUnknownMaster) {
		t.Errorf("after the old key is gone: %v, want ErrUnknownMaster", err)
	}
	fresh, err := during.Seal(update)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := after.Open(fresh); err != nil || !bytes.Equal(got, update) {
		t.Errorf("a blob sealed during the rotation does not open with the new key: %q %v", got, err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)/2] ^= 4
	if _, err := before.Open(tampered); !errors.Is(err, keyring.ErrTampered) {
		t.Errorf("tampered: %v", err)
	}
	// The system key is not any person's key.
	s := newSealerT(t, oldKey)
	w, _ := s.NewPersonKey(context.Background(), 1)
	pc, _ := s.Cipher(context.Background(), 1, w)
	if _, err := pc.Open(sealed); err == nil {
		t.Error("a person's cipher opens a system blob")
	}
}

func FuzzSystemOpen(f *testing.F) {
	k, err := keyring.GenerateMasterKey()
	if err != nil {
		f.Fatal(err)
	}
	s, err := NewSealer(k, nil)
	if err != nil {
		f.Fatal(err)
	}
	c := s.SystemCipher()
	good, _ := c.Seal([]byte("hallo"))
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := c.Open(b)
		if err == nil && !bytes.Equal(b, good) {
			t.Fatalf("an altered blob opened: %q", got)
		}
		if err != nil && got != nil {
			t.Fatal("output alongside an error")
		}
	})
}

func TestKeysNeverPrint(t *testing.T) {
	k := testMasterKey(t)
	s := newSealerT(t, k)
	w, _ := s.NewPersonKey(context.Background(), 1)
	c, _ := s.Cipher(context.Background(), 1, w)
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("x", slog.Any("sealer", s), slog.Any("cipher", c), slog.Any("ring", s.Ring()))
	out := logs.String() + fmt.Sprintf("%v %+v %#v %v", s, c, c, s.Ring())
	if bytes.Contains([]byte(out), []byte(k.Encode())) {
		t.Fatal("the master key was printed")
	}
}
