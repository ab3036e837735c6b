package keyring

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzOpen(f *testing.F) {
	dk := dataKeyFrom(bytes.Repeat([]byte{7}, KeySize))
	valid, err := dk.Seal([]byte("seed plaintext"), []byte("aad"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid, []byte("aad"))
	f.Add(valid[:sealHeader+tagSize], []byte("aad"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{sealVersion}, []byte(nil))
	f.Fuzz(func(t *testing.T, ct, aad []byte) {
		pt, err := dk.Open(ct, aad)
		if err != nil {
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("error %v is not ErrTampered", err)
			}
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
			return
		}
		// Only a genuine seal (the seed; fuzz workers each seal their own, with
		// another nonce) may open, and then to its own plaintext.
		if string(aad) != "aad" || string(pt) != "seed plaintext" {
			t.Fatalf("forged input opened to %q", pt)
		}
	})
}

func FuzzUnwrap(f *testing.F) {
	mk := newMasterKey(bytes.Repeat([]byte{3}, KeySize))
	ring := NewRing(mk)
	dk := dataKeyFrom(bytes.Repeat([]byte{9}, KeySize))
	valid, err := mk.Wrap(dk, []byte("p"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid, []byte("p"))
	f.Add(valid[:wrapHeader], []byte("p"))
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, w, aad []byte) {
		got, err := ring.Unwrap(w, aad)
		if err != nil {
			if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrUnknownMaster) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if string(aad) != "p" || got.s.key != dk.s.key {
			t.Fatal("forged wrapped key accepted")
		}
	})
}
