package keyring

import (
	"errors"
	"slices"
	"testing"
)

func TestRingRotation(t *testing.T) {
	a, _ := fixedKey(t, 1)
	b, _ := fixedKey(t, 2)
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("person:42")
	ct, err := dk.Seal([]byte("wat ik schreef"), aad)
	if err != nil {
		t.Fatal(err)
	}

	underA, err := NewRing(a).Wrap(dk, aad)
	if err != nil {
		t.Fatal(err)
	}
	rotating := NewRing(b, a)
	underB, err := rotating.Rewrap(underA, aad)
	if err != nil {
		t.Fatal(err)
	}
	if by, _ := WrappedBy(underB); by != b.ID() {
		t.Fatalf("rewrapped blob is wrapped by %s, want %s", by, b.ID())
	}

	// During rotation the ring opens both generations.
	for name, w := range map[string][]byte{"old": underA, "new": underB} {
		if _, err := rotating.Unwrap(w, aad); err != nil {
			t.Fatalf("ring{B, A} unwrap %s blob: %v", name, err)
		}
	}

	// After rotation B alone opens the new blob and the data under it ...
	got, err := NewRing(b).Unwrap(underB, aad)
	if err != nil {
		t.Fatalf("ring{B} unwrap: %v", err)
	}
	if pt, err := got.Open(ct, aad); err != nil || string(pt) != "wat ik schreef" {
		t.Fatalf("Open with rewrapped key = %q, %v", pt, err)
	}
	// ... and A alone does not.
	if _, err := NewRing(a).Unwrap(underB, aad); !errors.Is(err, ErrUnknownMaster) {
		t.Fatalf("ring{A} unwrap of B's blob: err = %v, want ErrUnknownMaster", err)
	}
	if _, err := a.Unwrap(underB, aad); !errors.Is(err, ErrUnknownMaster) {
		t.Fatalf("A unwrap of B's blob: err = %v, want ErrUnknownMaster", err)
	}
	// Rewrap keeps the aad binding.
	if _, err := rotating.Rewrap(underA, []byte("person:43")); !errors.Is(err, ErrTampered) {
		t.Fatalf("Rewrap with wrong aad: err = %v, want ErrTampered", err)
	}
	// B alone cannot rewrap what only A can open.
	if _, err := NewRing(b).Rewrap(underA, aad); !errors.Is(err, ErrUnknownMaster) {
		t.Fatalf("ring{B} rewrap of A's blob: err = %v, want ErrUnknownMaster", err)
	}
}

func TestNewRingIgnoresZeroAndRepeatedKeys(t *testing.T) {
	a, _ := fixedKey(t, 1)
	b, _ := fixedKey(t, 2)
	r := NewRing(b, a, MasterKey{}, b, a)
	if got, want := r.IDs(), []string{b.ID(), a.ID()}; !slices.Equal(got, want) {
		t.Fatalf("IDs = %v, want %v", got, want)
	}
	if r.Current().ID() != b.ID() {
		t.Fatalf("Current = %s, want %s", r.Current().ID(), b.ID())
	}
}

func TestRingWithZeroCurrentKeyCannotWrap(t *testing.T) {
	a, _ := fixedKey(t, 1)
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	w, err := a.Wrap(dk, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRing(MasterKey{}, a)
	if _, err := r.Wrap(dk, nil); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Wrap: err = %v, want ErrNoKey", err)
	}
	if _, err := r.Unwrap(w, nil); err != nil {
		t.Fatalf("Unwrap with a previous key: %v", err)
	}
}
