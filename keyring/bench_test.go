package keyring

import (
	"bytes"
	"testing"
)

func benchmarkSealOpen(b *testing.B, size int) {
	dk, err := NewDataKey()
	if err != nil {
		b.Fatal(err)
	}
	msg := bytes.Repeat([]byte("a"), size)
	aad := []byte("person:123456789/message:987654321")
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		ct, err := dk.Seal(msg, aad)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := dk.Open(ct, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealOpen200B(b *testing.B) { benchmarkSealOpen(b, 200) }

func BenchmarkSealOpen4KiB(b *testing.B) { benchmarkSealOpen(b, 4<<10) }

func BenchmarkUnwrap(b *testing.B) {
	mk, err := GenerateMasterKey()
	if err != nil {
		b.Fatal(err)
	}
	dk, err := NewDataKey()
	if err != nil {
		b.Fatal(err)
	}
	aad := []byte("person:123456789")
	w, err := mk.Wrap(dk, aad)
	if err != nil {
		b.Fatal(err)
	}
	ring := NewRing(mk)
	b.ReportAllocs()
	for b.Loop() {
		got, err := ring.Unwrap(w, aad)
		if err != nil {
			b.Fatal(err)
		}
		got.Zero()
	}
}
