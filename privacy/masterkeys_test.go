package privacy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stilstaan/stilstaan/config"
)

func TestMasterKeys(t *testing.T) {
	a, b, c := testMasterKey(t), testMasterKey(t), testMasterKey(t)
	file := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(file, []byte(b.Encode()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		crypto      config.Crypto
		current     string
		previous    []string
		errContains string
		errIs       error
	}{
		{name: "nothing", errIs: ErrNoMasterKey, errContains: "crypto.master_key"},
		{name: "inline", crypto: config.Crypto{MasterKey: a.Encode()}, current: a.ID()},
		{name: "file", crypto: config.Crypto{MasterKeyFile: file}, current: b.ID()},
		{name: "previous", crypto: config.Crypto{MasterKey: a.Encode(), PreviousKeys: []string{b.Encode(), "", c.Encode()}},
			current: a.ID(), previous: []string{b.ID(), c.ID()}},
		{name: "both", crypto: config.Crypto{MasterKey: a.Encode(), MasterKeyFile: file}, errContains: "not both"},
		{name: "bad inline", crypto: config.Crypto{MasterKey: "c2hvcnQ="}, errContains: "crypto.master_key"},
		{name: "missing file", crypto: config.Crypto{MasterKeyFile: file + ".nope"}, errContains: "crypto.master_key_file"},
		{name: "bad previous", crypto: config.Crypto{MasterKey: a.Encode(), PreviousKeys: []string{"not a key!"}}, errContains: "crypto.previous_keys[0]"},
		{name: "dev key file alone is not a master key", crypto: config.Crypto{DevKeyFile: file}, errIs: ErrNoMasterKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cur, prev, err := MasterKeys(tc.crypto)
			if tc.errContains != "" || tc.errIs != nil {
				if err == nil {
					t.Fatal("no error")
				}
				if tc.errIs != nil && !errors.Is(err, tc.errIs) {
					t.Errorf("err = %v, want %v", err, tc.errIs)
				}
				if !strings.Contains(err.Error(), tc.errContains) {
					t.Errorf("err %q does not name %q", err, tc.errContains)
				}
				for _, k := range []string{a.Encode(), b.Encode(), c.Encode(), "not a key!"} {
					if strings.Contains(err.Error(), k) {
						t.Errorf("the error repeats a key: %q", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cur.ID() != tc.current {
				t.Errorf("current %s, want %s", cur.ID(), tc.current)
			}
			var ids []string
			for _, k := range prev {
				ids = append(ids, k.ID())
			}
			if strings.Join(ids, ",") != strings.Join(tc.previous, ",") {
				t.Errorf("previous %v, want %v", ids, tc.previous)
			}
		})
	}
}
