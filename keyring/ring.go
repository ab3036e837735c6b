package keyring

import "fmt"

// Ring holds the current master key and, during a rotation, the previous ones.
// New wraps always use the current key; unwrapping picks the key whose ID the
// blob names. A Ring is immutable and safe for concurrent use.
type Ring struct {
	keys []MasterKey // keys[0] is the current key
}

// NewRing returns a ring that wraps with current and can still unwrap blobs
// made with any of previous. Zero keys and repeats are ignored.
func NewRing(current MasterKey, previous ...MasterKey) *Ring {
	r := &Ring{keys: []MasterKey{current}}
	for _, k := range previous {
		if !k.set || r.find(k.id) >= 0 {
			continue
		}
		r.keys = append(r.keys, k)
	}
	return r
}

// Current returns the key new blobs are wrapped with.
func (r *Ring) Current() MasterKey { return r.keys[0] }

// IDs returns the IDs of the keys in the ring, current first.
func (r *Ring) IDs() []string {
	ids := make([]string, 0, len(r.keys))
	for _, k := range r.keys {
		if k.set {
			ids = append(ids, k.ID())
		}
	}
	return ids
}

// Wrap wraps dk under the current master key (see MasterKey.Wrap).
func (r *Ring) Wrap(dk DataKey, aad []byte) ([]byte, error) {
	return r.keys[0].Wrap(dk, aad)
}

// Unwrap decrypts a wrapped data key with whichever key of the ring wrapped
// it. A blob from a master key the ring does not hold gives ErrUnknownMaster.
func (r *Ring) Unwrap(wrapped, aad []byte) (DataKey, error) {
	id, err := wrappedID(wrapped)
	if err != nil {
		return DataKey{}, fmt.Errorf("keyring: unwrap: %w", err)
	}
	i := r.find(id)
	if i < 0 {
		return DataKey{}, fmt.Errorf("keyring: unwrap: wrapped by master key %x: %w", id, ErrUnknownMaster)
	}
	return r.keys[i].unwrap(wrapped, aad)
}

// Rewrap unwraps a data key with the ring and returns it wrapped under the
// current master key with the same aad. It always makes a new blob, even when
// the current key already wrapped it; callers that want to skip those compare
// WrappedBy(wrapped) with r.Current().ID() first.
func (r *Ring) Rewrap(wrapped, aad []byte) ([]byte, error) {
	dk, err := r.Unwrap(wrapped, aad)
	if err != nil {
		return nil, fmt.Errorf("keyring: rewrap: %w", err)
	}
	defer dk.Zero()
	out, err := r.Wrap(dk, aad)
	if err != nil {
		return nil, fmt.Errorf("keyring: rewrap: %w", err)
	}
	return out, nil
}

func (r *Ring) find(id [idSize]byte) int {
	for i, k := range r.keys {
		if k.set && k.id == id {
			return i
		}
	}
	return -1
}
