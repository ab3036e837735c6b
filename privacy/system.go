package privacy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/stilstaan/stilstaan/keyring"
	"github.com/stilstaan/stilstaan/storage"
)

// The system cipher's blob format:
//
//	0x01 | master key id (4) | nonce (12) | AES-256-GCM ciphertext+tag
//
// GCM's additional data is the header (version and master id) followed by
// the label, so a blob sealed for one use does not open as another's.
const (
	systemVersion  byte = 1
	systemIDSize        = 4
	systemHeader        = 1 + systemIDSize
	systemNonce         = 12
	systemOverhead      = systemHeader + systemNonce + 16
)

var _ storage.Cipher = (*systemCipher)(nil)

// systemCipher seals with keys derived from the master keys.
type systemCipher struct {
	label   string
	current [systemIDSize]byte
	aeads   map[[systemIDSize]byte]cipher.AEAD
}

func newSystemCipher(label string, current keyring.MasterKey, previous []keyring.MasterKey) (*systemCipher, error) {
	c := &systemCipher{label: label, aeads: map[[systemIDSize]byte]cipher.AEAD{}}
	for i, k := range append([]keyring.MasterKey{current}, previous...) {
		if k.IsZero() {
			continue
		}
		id, aead, err := deriveSystemKey(k, label)
		if err != nil {
			return nil, fmt.Errorf("system cipher: %w", err)
		}
		if i == 0 {
			c.current = id
		}
		c.aeads[id] = aead
	}
	return c, nil
}

// deriveSystemKey derives the label's key from a master key with HKDF-SHA256.
func deriveSystemKey(k keyring.MasterKey, label string) ([systemIDSize]byte, cipher.AEAD, error) {
	var id [systemIDSize]byte
	if _, err := hex.Decode(id[:], []byte(k.ID())); err != nil {
		return id, nil, err
	}
	secret, err := base64.StdEncoding.DecodeString(k.Encode())
	if err != nil {
		return id, nil, err
	}
	defer clear(secret)
	key, err := hkdf.Key(sha256.New, secret, nil, "stilstaan system cipher v1: "+label, keyring.KeySize)
	if err != nil {
		return id, nil, err
	}
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return id, nil, err
	}
	aead, err := cipher.NewGCM(block)
	return id, aead, err
}

func (c *systemCipher) ad(header []byte) []byte {
	ad := make([]byte, 0, len(header)+len(c.label))
	ad = append(ad, header...)
	return append(ad, c.label...)
}

// Seal encrypts b under the key derived from the current master key.
func (c *systemCipher) Seal(b []byte) ([]byte, error) {
	out := make([]byte, systemHeader+systemNonce, systemOverhead+len(b))
	out[0] = systemVersion
	copy(out[1:systemHeader], c.current[:])
	nonce := out[systemHeader:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("privacy: system seal: %w", err)
	}
	return c.aeads[c.current].Seal(out, nonce, b, c.ad(out[:systemHeader])), nil
}

// Open decrypts what Seal sealed with any master key still in the ring. An
// altered blob fails with keyring.ErrTampered, a blob of a master key that is
// no longer configured with keyring.ErrUnknownMaster.
func (c *systemCipher) Open(b []byte) ([]byte, error) {
	if len(b) < systemOverhead {
		return nil, fmt.Errorf("privacy: system open: %d bytes is too short: %w", len(b), keyring.ErrTampered)
	}
	if b[0] != systemVersion {
		return nil, fmt.Errorf("privacy: system open: unknown format version %d: %w", b[0], keyring.ErrTampered)
	}
	var id [systemIDSize]byte
	copy(id[:], b[1:systemHeader])
	aead, ok := c.aeads[id]
	if !ok {
		return nil, fmt.Errorf("privacy: system open: master key %x: %w", id, keyring.ErrUnknownMaster)
	}
	pt, err := aead.Open(nil, b[systemHeader:systemHeader+systemNonce], b[systemHeader+systemNonce:], c.ad(b[:systemHeader]))
	if err != nil {
		return nil, fmt.Errorf("privacy: system open: %w", keyring.ErrTampered)
	}
	return pt, nil
}
