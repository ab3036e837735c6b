package privacy

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/stilstaan/stilstaan/keyring"
	"github.com/stilstaan/stilstaan/storage"
)

// ErrNoDataKey means a person has no data key: it was destroyed because the
// person is being erased, or the row was written without encryption.
var ErrNoDataKey = errors.New("privacy: person has no data key")

// Defaults of the data key cache.
const (
	DefaultCacheSize = 4096
	DefaultCacheTTL  = 5 * time.Minute
	// DefaultKeyGrace is how long a key that left the cache stays usable by
	// whoever still holds it (a turn that is committing) before it is wiped.
	DefaultKeyGrace = time.Minute
)

var (
	_ storage.Sealer = (*Sealer)(nil)
	_ storage.Cipher = personCipher{}
)

// Sealer is the storage.Sealer of Stilstaan: envelope encryption with one
// data key per person (see package keyring).
//
// NewPersonKey makes a random data key for a new person and returns it
// wrapped by the current master key, with the person's id as authenticated
// data, so a wrapped key copied to another person's row does not open.
// Cipher unwraps it (with whichever master key of the ring wrapped it) and
// seals with AES-256-GCM, again bound to the person's id.
//
// Unwrapped keys are kept in a small LRU cache for a few minutes. Keys are
// never logged: keyring redacts them in every format.
type Sealer struct {
	ring   *keyring.Ring
	cache  *keyCache
	system *systemCipher
}

// SealerOption configures NewSealer.
type SealerOption func(*sealerOptions)

type sealerOptions struct {
	size  int
	ttl   time.Duration
	grace time.Duration
	after func(time.Duration, func())
}

// WithCacheSize bounds how many unwrapped data keys are kept; 0 turns the
// cache off (every Cipher call unwraps).
func WithCacheSize(n int) SealerOption { return func(o *sealerOptions) { o.size = n } }

// WithCacheTTL sets how long an unwrapped key is kept at most.
func WithCacheTTL(d time.Duration) SealerOption { return func(o *sealerOptions) { o.ttl = d } }

// withTimers replaces time.AfterFunc, so tests decide when keys expire and
// are wiped.
func withTimers(after func(time.Duration, func())) SealerOption {
	return func(o *sealerOptions) { o.after = after }
}

// NewSealer returns a Sealer that wraps new data keys with current and can
// still unwrap keys wrapped by any of previous (during a master key rotation).
func NewSealer(current keyring.MasterKey, previous []keyring.MasterKey, opts ...SealerOption) (*Sealer, error) {
	if current.IsZero() {
		return nil, fmt.Errorf("privacy: new sealer: %w", ErrNoMasterKey)
	}
	o := sealerOptions{size: DefaultCacheSize, ttl: DefaultCacheTTL, grace: DefaultKeyGrace,
		after: func(d time.Duration, f func()) { time.AfterFunc(d, f) }}
	for _, opt := range opts {
		opt(&o)
	}
	ring := keyring.NewRing(current, previous...)
	system, err := newSystemCipher("inbox", current, previous)
	if err != nil {
		return nil, fmt.Errorf("privacy: new sealer: %w", err)
	}
	return &Sealer{ring: ring, cache: newKeyCache(o.size, o.ttl, o.grace, o.after), system: system}, nil
}

// Ring returns the master keys, current first.
func (s *Sealer) Ring() *keyring.Ring { return s.ring }

// NewPersonKey makes the data key of a new person and returns it wrapped.
func (s *Sealer) NewPersonKey(_ context.Context, personID int64) ([]byte, error) {
	dk, err := keyring.NewDataKey()
	if err != nil {
		return nil, fmt.Errorf("privacy: new person key: %w", err)
	}
	wrapped, err := s.ring.Wrap(dk, personAAD(personID))
	if err != nil {
		dk.Zero()
		return nil, fmt.Errorf("privacy: new person key: %w", err)
	}
	s.cache.put(personID, wrapped, dk)
	return wrapped, nil
}

// Cipher returns the cipher of the person whose wrapped key is given. A key
// that does not unwrap (altered, another person's, or from a master key the
// ring lacks) is an error wrapping keyring.ErrTampered or
// keyring.ErrUnknownMaster; no key at all is ErrNoDataKey.
func (s *Sealer) Cipher(_ context.Context, personID int64, wrapped []byte) (storage.Cipher, error) {
	dk, err := s.dataKey(personID, wrapped)
	if err != nil {
		return nil, err
	}
	return personCipher{key: dk, aad: personAAD(personID)}, nil
}

func (s *Sealer) dataKey(personID int64, wrapped []byte) (keyring.DataKey, error) {
	if len(wrapped) == 0 {
		return keyring.DataKey{}, fmt.Errorf("privacy: data key: %w", ErrNoDataKey)
	}
	if dk, ok := s.cache.get(personID, wrapped); ok {
		return dk, nil
	}
	dk, err := s.ring.Unwrap(wrapped, personAAD(personID))
	if err != nil {
		return keyring.DataKey{}, fmt.Errorf("privacy: data key: %w", err)
	}
	return s.cache.put(personID, wrapped, dk), nil
}

// Forget drops the person's unwrapped key from memory: it is no longer served
// and is wiped once the turn that is erasing the person has had time to
// commit (DefaultKeyGrace). Call it when the person's wrapped key is
// destroyed.
func (s *Sealer) Forget(personID int64) { s.cache.forget(personID) }

// SystemCipher returns the cipher for rows that belong to no person yet, such
// as raw Telegram updates in the inbox. Its key is derived from the master key
// (HKDF-SHA256, label "inbox"), so it needs no storage and rotates with the
// master key: a blob names the master key it was sealed under, and blobs of a
// previous master key still open while that key is in the ring.
func (s *Sealer) SystemCipher() storage.Cipher { return s.system }

// personAAD binds a wrapped key or a sealed blob to the person it belongs to.
func personAAD(personID int64) []byte {
	b := make([]byte, 0, len("stilstaan/person/")+8)
	b = append(b, "stilstaan/person/"...)
	return binary.BigEndian.AppendUint64(b, uint64(personID))
}

// personCipher seals one person's data with their data key.
type personCipher struct {
	key keyring.DataKey
	aad []byte
}

func (c personCipher) Seal(plaintext []byte) ([]byte, error) { return c.key.Seal(plaintext, c.aad) }

func (c personCipher) Open(ciphertext []byte) ([]byte, error) { return c.key.Open(ciphertext, c.aad) }
