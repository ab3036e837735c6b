package keyring

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length in bytes of master and data keys (AES-256).
const KeySize = 32

// idSize is how many bytes of the key's SHA-256 name it inside wrapped blobs.
const idSize = 4

// maxKeyFileSize bounds how much of a key file is read; a real one is 45 bytes.
const maxKeyFileSize = 4096

var (
	// ErrTampered means a sealed or wrapped blob was altered, truncated, is not
	// a blob at all, or was opened with the wrong key or aad. The two cases
	// cannot be told apart by design.
	ErrTampered = errors.New("keyring: message authentication failed")

	// ErrUnknownMaster means a wrapped data key names a master key that the
	// MasterKey or Ring at hand does not hold.
	ErrUnknownMaster = errors.New("keyring: wrapped by an unknown master key")

	// ErrNoKey means a zero-value key, or a data key that was wiped with Zero,
	// was asked to do work.
	ErrNoKey = errors.New("keyring: key is empty or wiped")
)

// MasterKey is the key that wraps every data key. It comes from configuration
// (ParseMasterKey, LoadMasterKeyFile) and is never stored in the database.
// The zero value holds no key; its methods return ErrNoKey.
//
// A MasterKey prints as its ID only: fmt verbs and log/slog never show the key.
type MasterKey struct {
	key [KeySize]byte
	id  [idSize]byte
	set bool
}

func newMasterKey(b []byte) MasterKey {
	var k MasterKey
	copy(k.key[:], b)
	sum := sha256.Sum256(k.key[:])
	copy(k.id[:], sum[:idSize])
	k.set = true
	return k
}

// GenerateMasterKey returns a new random master key.
func GenerateMasterKey() (MasterKey, error) {
	var b [KeySize]byte
	if _, err := rand.Read(b[:]); err != nil {
		return MasterKey{}, fmt.Errorf("keyring: generate master key: %w", err)
	}
	k := newMasterKey(b[:])
	clear(b[:])
	return k, nil
}

// ParseMasterKey decodes a 32-byte master key written in base64, standard or
// URL alphabet, padded or not. Surrounding white space is ignored. The error
// never repeats the input.
func ParseMasterKey(s string) (MasterKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return MasterKey{}, errors.New("keyring: parse master key: empty")
	}
	encodings := []*base64.Encoding{
		base64.StdEncoding.Strict(),
		base64.URLEncoding.Strict(),
		base64.RawStdEncoding.Strict(),
		base64.RawURLEncoding.Strict(),
	}
	for _, enc := range encodings {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != KeySize {
			n := len(b)
			clear(b)
			return MasterKey{}, fmt.Errorf("keyring: parse master key: decodes to %d bytes, want %d", n, KeySize)
		}
		k := newMasterKey(b)
		clear(b)
		return k, nil
	}
	return MasterKey{}, errors.New("keyring: parse master key: not valid base64 (standard or URL alphabet)")
}

// LoadMasterKeyFile reads a master key written in base64 (see ParseMasterKey)
// from the file at path. A missing file gives an error that matches
// fs.ErrNotExist.
func LoadMasterKeyFile(path string) (MasterKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return MasterKey{}, fmt.Errorf("keyring: load master key file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return MasterKey{}, fmt.Errorf("keyring: load master key file: %w", err)
	}
	defer clear(b)
	if len(b) > maxKeyFileSize {
		return MasterKey{}, fmt.Errorf("keyring: load master key file %s: larger than %d bytes", path, maxKeyFileSize)
	}
	k, err := ParseMasterKey(string(bytes.TrimSpace(b)))
	if err != nil {
		return MasterKey{}, fmt.Errorf("keyring: load master key file %s: %w", path, err)
	}
	return k, nil
}

// EnsureDevKeyFile loads the master key at path, or, when there is no file
// there yet, generates one and writes it with mode 0600 (creating the parent
// directory with mode 0700). It is meant for local development shells; in
// production the key comes from the operator. created reports whether a new
// key was written.
//
// The file appears atomically and is never overwritten: when two processes race
// to create it, both end up with the same key.
func EnsureDevKeyFile(path string) (k MasterKey, created bool, err error) {
	k, err = LoadMasterKeyFile(path)
	if err == nil {
		return k, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return MasterKey{}, false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return MasterKey{}, false, fmt.Errorf("keyring: create dev key dir: %w", err)
	}
	k, err = GenerateMasterKey()
	if err != nil {
		return MasterKey{}, false, err
	}
	// Write the whole key to a private temporary file first and then link it
	// into place: a reader never sees a half-written key, and link fails
	// instead of replacing a key another process created meanwhile.
	tmp, err := os.CreateTemp(dir, ".masterkey-*")
	if err != nil {
		return MasterKey{}, false, fmt.Errorf("keyring: create dev key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := writeKeyFile(tmp, k); err != nil {
		return MasterKey{}, false, fmt.Errorf("keyring: write dev key file: %w", err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			k, err = LoadMasterKeyFile(path)
			return k, false, err
		}
		return MasterKey{}, false, fmt.Errorf("keyring: create dev key file: %w", err)
	}
	return k, true, nil
}

func writeKeyFile(f *os.File, k MasterKey) error {
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := io.WriteString(f, k.Encode()+"\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Encode returns the key in standard padded base64, the form ParseMasterKey
// and key files use. It is the only way to get the secret out of a MasterKey;
// write it to a file or a secret store, never to a log.
func (k MasterKey) Encode() string {
	if !k.set {
		return ""
	}
	return base64.StdEncoding.EncodeToString(k.key[:])
}

// ID returns a short stable fingerprint of the key: the first 8 hex digits of
// the SHA-256 of the 32 key bytes (so `base64 -d key | sha256sum` shows it
// too). It is safe to log. The zero MasterKey has ID "".
func (k MasterKey) ID() string {
	if !k.set {
		return ""
	}
	return hex.EncodeToString(k.id[:])
}

// IsZero reports whether k holds no key.
func (k MasterKey) IsZero() bool { return !k.set }

// String describes the key by its ID without revealing it.
func (k MasterKey) String() string {
	if !k.set {
		return "MasterKey(empty)"
	}
	return "MasterKey(id=" + k.ID() + ", redacted)"
}

// GoString redacts the key for %#v.
func (k MasterKey) GoString() string { return k.String() }

// Format redacts the key for every fmt verb, including %x and %+v, which
// would otherwise print the unexported key bytes.
func (k MasterKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue redacts the key in log/slog output.
func (k MasterKey) LogValue() slog.Value { return slog.StringValue(k.String()) }
