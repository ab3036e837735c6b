package keyring

import (
	"bytes"
	"errors"
	"testing"
)

func TestWrapUnwrapRoundTrip(t *testing.T) {
	mk, _ := fixedKey(t, 1)
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("person:42")
	w, err := mk.Wrap(dk, aad)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != WrappedSize {
		t.Fatalf("wrapped length %d, want %d", len(w), WrappedSize)
	}
	if bytes.Contains(w, dk.s.key[:8]) {
		t.Fatal("wrapped blob contains the data key")
	}
	by, err := WrappedBy(w)
	if err != nil || by != mk.ID() {
		t.Fatalf("WrappedBy = %q, %v; want %q", by, err, mk.ID())
	}
	got, err := mk.Unwrap(w, aad)
	if err != nil {
		t.Fatal(err)
	}
	if got.s.key != dk.s.key {
		t.Fatal("unwrapped a different key")
	}
	// The unwrapped key opens what the original sealed.
	ct, err := dk.Seal([]byte("hallo"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := got.Open(ct, aad); err != nil || string(pt) != "hallo" {
		t.Fatalf("Open with unwrapped key = %q, %v", pt, err)
	}
}

func TestUnwrapRejects(t *testing.T) {
	a, _ := fixedKey(t, 1)
	b, _ := fixedKey(t, 2)
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("person:42")
	w, err := a.Wrap(dk, aad)
	if err != nil {
		t.Fatal(err)
	}
	// A blob encrypted under a but claiming to come from b.
	forged := bytes.Clone(w)
	copy(forged[1:wrapHeader], b.id[:])

	tests := []struct {
		name    string
		key     MasterKey
		wrapped []byte
		aad     []byte
		want    error
	}{
		{name: "wrong aad", key: a, wrapped: w, aad: []byte("person:43"), want: ErrTampered},
		{name: "wrong master", key: b, wrapped: w, aad: aad, want: ErrUnknownMaster},
		{name: "forged master id", key: b, wrapped: forged, aad: aad, want: ErrTampered},
		{name: "zero master", key: MasterKey{}, wrapped: w, aad: aad, want: ErrNoKey},
		{name: "empty", key: a, wrapped: nil, aad: aad, want: ErrTampered},
		{name: "extra byte", key: a, wrapped: append(bytes.Clone(w), 0), aad: aad, want: ErrTampered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.key.Unwrap(tt.wrapped, tt.aad)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !got.IsZero() {
				t.Fatal("Unwrap returned a key along with an error")
			}
		})
	}
}

func TestUnwrapDetectsEveryTamperedByte(t *testing.T) {
	mk, _ := fixedKey(t, 1)
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("person:42")
	w, err := mk.Wrap(dk, aad)
	if err != nil {
		t.Fatal(err)
	}
	for i := range w {
		bad := bytes.Clone(w)
		bad[i] ^= 0x01
		_, err := mk.Unwrap(bad, aad)
		want := ErrTampered
		if i >= 1 && i < wrapHeader {
			want = ErrUnknownMaster // the id no longer names mk
		}
		if !errors.Is(err, want) {
			t.Fatalf("byte %d flipped: err = %v, want %v", i, err, want)
		}
	}
	for n := range len(w) {
		if _, err := mk.Unwrap(w[:n], aad); !errors.Is(err, ErrTampered) {
			t.Fatalf("truncated to %d bytes: err = %v, want ErrTampered", n, err)
		}
	}
}

func TestWrapRefusesEmptyKeys(t *testing.T) {
	mk, _ := fixedKey(t, 1)
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (MasterKey{}).Wrap(dk, nil); !errors.Is(err, ErrNoKey) {
		t.Fatalf("zero master: err = %v, want ErrNoKey", err)
	}
	dk.Zero()
	if _, err := mk.Wrap(dk, nil); !errors.Is(err, ErrNoKey) {
		t.Fatalf("wiped data key: err = %v, want ErrNoKey", err)
	}
}

func TestWrappedByRejectsNonBlobs(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{name: "empty", in: nil},
		{name: "short", in: []byte{wrapVersion, 1, 2}},
		{name: "unknown version", in: []byte{9, 1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if id, err := WrappedBy(tt.in); !errors.Is(err, ErrTampered) || id != "" {
				t.Fatalf("WrappedBy = %q, %v; want ErrTampered", id, err)
			}
		})
	}
}
