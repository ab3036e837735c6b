package privacy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/keyring"
)

// ErrNoMasterKey means no master key is configured. Its text tells the
// operator which setting to use.
var ErrNoMasterKey = errors.New("no master key configured: set crypto.master_key " +
	"(env STILSTAAN_CRYPTO_MASTER_KEY: 32 random bytes in base64, `stilstaan keys generate` prints one) " +
	"or crypto.master_key_file")

// MasterKeys reads the master keys from the crypto settings: the current one
// from crypto.master_key or crypto.master_key_file, and the ones that may
// still unwrap during a rotation from crypto.previous_keys. Without a current
// key it returns an error wrapping ErrNoMasterKey. Errors name the setting
// and never repeat a key.
func MasterKeys(c config.Crypto) (current keyring.MasterKey, previous []keyring.MasterKey, err error) {
	inline, file := strings.TrimSpace(c.MasterKey), strings.TrimSpace(c.MasterKeyFile)
	switch {
	case inline != "" && file != "":
		return keyring.MasterKey{}, nil, errors.New("privacy: set crypto.master_key or crypto.master_key_file, not both")
	case inline != "":
		if current, err = keyring.ParseMasterKey(inline); err != nil {
			return keyring.MasterKey{}, nil, fmt.Errorf("privacy: crypto.master_key: %w", err)
		}
	case file != "":
		if current, err = keyring.LoadMasterKeyFile(file); err != nil {
			return keyring.MasterKey{}, nil, fmt.Errorf("privacy: crypto.master_key_file: %w", err)
		}
	default:
		return keyring.MasterKey{}, nil, ErrNoMasterKey
	}
	if previous, err = PreviousKeys(c); err != nil {
		return keyring.MasterKey{}, nil, err
	}
	return current, previous, nil
}

// PreviousKeys parses crypto.previous_keys alone (for tools that bring their
// own current key, such as a rotation).
func PreviousKeys(c config.Crypto) ([]keyring.MasterKey, error) {
	var out []keyring.MasterKey
	for i, s := range c.PreviousKeys {
		if strings.TrimSpace(s) == "" {
			continue
		}
		k, err := keyring.ParseMasterKey(s)
		if err != nil {
			return nil, fmt.Errorf("privacy: crypto.previous_keys[%d]: %w", i, err)
		}
		out = append(out, k)
	}
	return out, nil
}
