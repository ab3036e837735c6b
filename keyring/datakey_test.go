package keyring

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		plaintext []byte
		aad       []byte
	}{
		{name: "empty", plaintext: []byte{}, aad: []byte("person:1")},
		{name: "nil aad", plaintext: []byte("ik voel me rustig"), aad: nil},
		{name: "200 bytes", plaintext: bytes.Repeat([]byte("x"), 200), aad: []byte("person:1/msg:2")},
		{name: "64 KiB", plaintext: bytes.Repeat([]byte{0, 1, 2, 255}, 16<<10), aad: []byte("a")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := dk.Seal(tt.plaintext, tt.aad)
			if err != nil {
				t.Fatal(err)
			}
			if len(ct) != sealHeader+len(tt.plaintext)+tagSize || ct[0] != sealVersion {
				t.Fatalf("sealed length %d / version %d", len(ct), ct[0])
			}
			if len(tt.plaintext) > 8 && bytes.Contains(ct, tt.plaintext[:8]) {
				t.Fatal("ciphertext contains plaintext")
			}
			pt, err := dk.Open(ct, tt.aad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pt, tt.plaintext) {
				t.Fatal("round trip changed the plaintext")
			}
		})
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := dk.Seal([]byte("same"), nil)
	b, _ := dk.Seal([]byte("same"), nil)
	if bytes.Equal(a[1:sealHeader], b[1:sealHeader]) || bytes.Equal(a, b) {
		t.Fatal("two seals share a nonce")
	}
}

func TestOpenRejects(t *testing.T) {
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("person:7")
	ct, err := dk.Seal([]byte("mijn partner luistert niet"), aad)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  DataKey
		ct   []byte
		aad  []byte
	}{
		{name: "wrong aad", key: dk, ct: ct, aad: []byte("person:8")},
		{name: "missing aad", key: dk, ct: ct, aad: nil},
		{name: "wrong key", key: other, ct: ct, aad: aad},
		{name: "empty", key: dk, ct: nil, aad: aad},
		{name: "header only", key: dk, ct: ct[:sealHeader], aad: aad},
		{name: "extra byte", key: dk, ct: append(bytes.Clone(ct), 0), aad: aad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := tt.key.Open(tt.ct, tt.aad)
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("err = %v, want ErrTampered", err)
			}
			if pt != nil {
				t.Fatal("Open returned plaintext along with an error")
			}
		})
	}
}

func TestOpenDetectsEveryTamperedByte(t *testing.T) {
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("person:7")
	ct, err := dk.Seal([]byte("een korte zin van mij"), aad)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ct {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(ct)
			bad[i] ^= mask
			if _, err := dk.Open(bad, aad); !errors.Is(err, ErrTampered) {
				t.Fatalf("byte %d ^ %#x: err = %v, want ErrTampered", i, mask, err)
			}
		}
	}
	for n := range len(ct) {
		if _, err := dk.Open(ct[:n], aad); !errors.Is(err, ErrTampered) {
			t.Fatalf("truncated to %d bytes: err = %v, want ErrTampered", n, err)
		}
	}
}

func TestZeroWipesAllCopies(t *testing.T) {
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	ct, err := dk.Seal([]byte("geheim"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cp := dk
	dk.Zero()
	if dk.s.key != [KeySize]byte{} {
		t.Fatal("key bytes survive Zero")
	}
	if !cp.IsZero() {
		t.Fatal("copy still reports a key")
	}
	if _, err := cp.Open(ct, nil); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Open after Zero: err = %v, want ErrNoKey", err)
	}
	if _, err := cp.Seal([]byte("x"), nil); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Seal after Zero: err = %v, want ErrNoKey", err)
	}
	var zero DataKey
	zero.Zero() // must not panic
	if _, err := zero.Seal(nil, nil); !errors.Is(err, ErrNoKey) {
		t.Fatalf("zero DataKey Seal: err = %v, want ErrNoKey", err)
	}
}
