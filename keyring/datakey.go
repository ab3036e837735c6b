package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
)

const (
	// sealVersion is the first byte of every sealed blob.
	sealVersion byte = 1
	nonceSize        = 12
	tagSize          = 16
	sealHeader       = 1 + nonceSize
)

// DataKey is one person's key: everything they write is sealed with it, and it
// is stored only wrapped under the master key. Copies of a DataKey share the
// same key material, so Zero on any copy wipes them all. The zero value holds
// no key; its methods return ErrNoKey.
//
// A DataKey never prints its key: fmt verbs and log/slog show "DataKey(redacted)".
type DataKey struct {
	s *dataKeyState
}

type dataKeyState struct {
	key  [KeySize]byte
	live bool
}

// NewDataKey returns a new random data key.
func NewDataKey() (DataKey, error) {
	s := &dataKeyState{live: true}
	if _, err := rand.Read(s.key[:]); err != nil {
		return DataKey{}, fmt.Errorf("keyring: new data key: %w", err)
	}
	return DataKey{s: s}, nil
}

func dataKeyFrom(b []byte) DataKey {
	s := &dataKeyState{live: true}
	copy(s.key[:], b)
	return DataKey{s: s}
}

// Seal encrypts plaintext so that only Open with the same key and aad returns
// it. aad is authenticated but not encrypted or stored: pass what the
// ciphertext belongs to (for example the person and message ids) so that a
// ciphertext copied to another row does not open.
//
// Each call draws a fresh random nonce, so sealing the same text twice gives
// different blobs.
func (dk DataKey) Seal(plaintext, aad []byte) ([]byte, error) {
	aead, err := dk.aead()
	if err != nil {
		return nil, fmt.Errorf("keyring: seal: %w", err)
	}
	out := make([]byte, sealHeader, sealHeader+len(plaintext)+tagSize)
	out[0] = sealVersion
	nonce := out[1:sealHeader]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keyring: seal: nonce: %w", err)
	}
	return aead.Seal(out, nonce, plaintext, sealAAD(aad)), nil
}

// Open decrypts a blob made by Seal. Any change to the blob, a different aad or
// a different key gives an error matching ErrTampered, never altered text.
func (dk DataKey) Open(ciphertext, aad []byte) ([]byte, error) {
	aead, err := dk.aead()
	if err != nil {
		return nil, fmt.Errorf("keyring: open: %w", err)
	}
	if len(ciphertext) < sealHeader+tagSize {
		return nil, fmt.Errorf("keyring: open: %d bytes is too short: %w", len(ciphertext), ErrTampered)
	}
	if v := ciphertext[0]; v != sealVersion {
		return nil, fmt.Errorf("keyring: open: unknown format version %d: %w", v, ErrTampered)
	}
	pt, err := aead.Open(nil, ciphertext[1:sealHeader], ciphertext[sealHeader:], sealAAD(aad))
	if err != nil {
		return nil, fmt.Errorf("keyring: open: %w", ErrTampered)
	}
	return pt, nil
}

// Zero wipes the key material of dk and of every copy of it. Afterwards Seal,
// Open and Wrap return ErrNoKey. Zero on the zero DataKey does nothing.
//
// The AES key schedule is rebuilt on every call rather than cached, so after
// Zero no expanded copy of the key lingers in a cipher kept by this package.
func (dk DataKey) Zero() {
	if dk.s == nil {
		return
	}
	clear(dk.s.key[:])
	dk.s.live = false
}

// IsZero reports whether dk holds no usable key (zero value or wiped).
func (dk DataKey) IsZero() bool { return dk.s == nil || !dk.s.live }

// String redacts the key.
func (dk DataKey) String() string {
	if dk.IsZero() {
		return "DataKey(empty)"
	}
	return "DataKey(redacted)"
}

// GoString redacts the key for %#v.
func (dk DataKey) GoString() string { return dk.String() }

// Format redacts the key for every fmt verb.
func (dk DataKey) Format(f fmt.State, _ rune) { io.WriteString(f, dk.String()) }

// LogValue redacts the key in log/slog output.
func (dk DataKey) LogValue() slog.Value { return slog.StringValue(dk.String()) }

func (dk DataKey) aead() (cipher.AEAD, error) {
	if dk.IsZero() {
		return nil, ErrNoKey
	}
	return newGCM(dk.s.key[:])
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealAAD binds the format version into the authenticated data, so a blob
// cannot be replayed under another version's rules.
func sealAAD(aad []byte) []byte {
	ad := make([]byte, 0, 1+len(aad))
	ad = append(ad, sealVersion)
	return append(ad, aad...)
}
