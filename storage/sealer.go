package storage

import "context"

// Sealer encrypts what a person wrote. NoEncryption is the identity.
//
// Each person has their own data key. NewPersonKey makes one when the
// person's row is created and returns it in wrapped form (encrypted by a key
// the Sealer keeps elsewhere); the store keeps the wrapped key in
// people.data_key and passes it back to Cipher. A Sealer may return a nil
// wrapped key, as NoEncryption does.
type Sealer interface {
	NewPersonKey(ctx context.Context, personID int64) (wrapped []byte, err error)
	Cipher(ctx context.Context, personID int64, wrapped []byte) (Cipher, error)
}

// Cipher seals and opens one person's data.
type Cipher interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(ciphertext []byte) ([]byte, error)
}

// NoEncryption stores what people write as it is.
var NoEncryption Sealer = noEncryption{}

type noEncryption struct{}

func (noEncryption) NewPersonKey(context.Context, int64) ([]byte, error) { return nil, nil }

func (noEncryption) Cipher(context.Context, int64, []byte) (Cipher, error) { return identity{}, nil }

type identity struct{}

func (identity) Seal(b []byte) ([]byte, error) { return b, nil }
func (identity) Open(b []byte) ([]byte, error) { return b, nil }

// seal seals b and never returns nil for success, so that an empty value is
// stored as an empty bytea and not as NULL.
func seal(c Cipher, b []byte) ([]byte, error) {
	out, err := c.Seal(b)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}
