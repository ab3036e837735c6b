package keyring

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

const (
	// wrapVersion is the first byte of every wrapped data key.
	wrapVersion byte = 1
	wrapHeader       = 1 + idSize
	// WrappedSize is the length of a wrapped data key: version, master id,
	// nonce, the encrypted key and the GCM tag.
	WrappedSize = wrapHeader + nonceSize + KeySize + tagSize
)

// Wrap encrypts dk under the master key for storage. aad binds the wrapped key
// to its owner (pass the person's id): Unwrap with any other aad fails. The
// blob records the master key's ID (see WrappedBy).
func (k MasterKey) Wrap(dk DataKey, aad []byte) ([]byte, error) {
	if !k.set || dk.IsZero() {
		return nil, fmt.Errorf("keyring: wrap: %w", ErrNoKey)
	}
	aead, err := newGCM(k.key[:])
	if err != nil {
		return nil, fmt.Errorf("keyring: wrap: %w", err)
	}
	out := make([]byte, wrapHeader+nonceSize, WrappedSize)
	out[0] = wrapVersion
	copy(out[1:wrapHeader], k.id[:])
	nonce := out[wrapHeader:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keyring: wrap: nonce: %w", err)
	}
	return aead.Seal(out, nonce, dk.s.key[:], wrapAAD(out[:wrapHeader], aad)), nil
}

// Unwrap decrypts a data key made by Wrap with this master key and the same
// aad. A blob wrapped by another master key gives ErrUnknownMaster; a changed
// blob or aad gives ErrTampered.
func (k MasterKey) Unwrap(wrapped, aad []byte) (DataKey, error) {
	if !k.set {
		return DataKey{}, fmt.Errorf("keyring: unwrap: %w", ErrNoKey)
	}
	id, err := wrappedID(wrapped)
	if err != nil {
		return DataKey{}, fmt.Errorf("keyring: unwrap: %w", err)
	}
	if id != k.id {
		return DataKey{}, fmt.Errorf("keyring: unwrap: wrapped by master key %x, have %s: %w", id, k.ID(), ErrUnknownMaster)
	}
	return k.unwrap(wrapped, aad)
}

func (k MasterKey) unwrap(wrapped, aad []byte) (DataKey, error) {
	if len(wrapped) != WrappedSize {
		return DataKey{}, fmt.Errorf("keyring: unwrap: %d bytes, want %d: %w", len(wrapped), WrappedSize, ErrTampered)
	}
	aead, err := newGCM(k.key[:])
	if err != nil {
		return DataKey{}, fmt.Errorf("keyring: unwrap: %w", err)
	}
	nonce := wrapped[wrapHeader : wrapHeader+nonceSize]
	var buf [KeySize + tagSize]byte // wiped once the key is copied out
	raw, err := aead.Open(buf[:0], nonce, wrapped[wrapHeader+nonceSize:], wrapAAD(wrapped[:wrapHeader], aad))
	if err != nil {
		return DataKey{}, fmt.Errorf("keyring: unwrap: %w", ErrTampered)
	}
	dk := dataKeyFrom(raw)
	clear(buf[:])
	return dk, nil
}

// WrappedBy returns the ID of the master key that wrapped a data key, without
// decrypting it, so rotation can tell which blobs still need Rewrap. The ID is
// not authenticated until the blob is unwrapped.
func WrappedBy(wrapped []byte) (masterID string, err error) {
	id, err := wrappedID(wrapped)
	if err != nil {
		return "", fmt.Errorf("keyring: wrapped by: %w", err)
	}
	return hex.EncodeToString(id[:]), nil
}

func wrappedID(wrapped []byte) ([idSize]byte, error) {
	var id [idSize]byte
	if len(wrapped) < wrapHeader {
		return id, fmt.Errorf("%d bytes is too short: %w", len(wrapped), ErrTampered)
	}
	if v := wrapped[0]; v != wrapVersion {
		return id, fmt.Errorf("unknown format version %d: %w", v, ErrTampered)
	}
	copy(id[:], wrapped[1:wrapHeader])
	return id, nil
}

// wrapAAD authenticates the header (version and master id) together with the
// caller's aad. The header has a fixed length, so the concatenation is
// unambiguous.
func wrapAAD(header, aad []byte) []byte {
	ad := make([]byte, 0, len(header)+len(aad))
	ad = append(ad, header...)
	return append(ad, aad...)
}
