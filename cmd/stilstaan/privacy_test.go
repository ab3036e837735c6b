package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/keyring"
	"github.com/stilstaan/stilstaan/privacy"
	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

func TestSealerNeedsAMasterKeyOutsideTheShell(t *testing.T) {
	t.Cleanup(func() { allowDevKey = false })
	dev := filepath.Join(t.TempDir(), "dev", "master.key")
	cfg := config.Defaults()
	cfg.Crypto.DevKeyFile = dev
	var stderr bytes.Buffer

	allowDevKey = false
	if _, err := newSealer(cfg, &stderr); !errors.Is(err, privacy.ErrNoMasterKey) || !strings.Contains(err.Error(), "crypto.master_key") {
		t.Fatalf("without a key: %v, want an error naming crypto.master_key", err)
	}
	if _, err := os.Stat(dev); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a development key was made outside the shell: %v", err)
	}

	allowDevKey = true
	first, err := newSealer(cfg, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if got := stderr.String(); !strings.Contains(got, "created a local development key at "+dev) {
		t.Errorf("stderr %q does not name the new key file", got)
	}
	if fi, err := os.Stat(dev); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dev key file: %v %v", fi, err)
	}
	said := stderr.Len()
	second, err := newSealer(cfg, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if stderr.Len() != said {
		t.Errorf("the notice was printed again: %q", stderr.String())
	}
	if first.Ring().Current().ID() != second.Ring().Current().ID() {
		t.Error("the shell made a different key the second time")
	}

	// A configured key wins over the development key, in the shell too.
	k, err := keyring.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Crypto.MasterKey = k.Encode()
	s, err := newSealer(cfg, &stderr)
	if err != nil || s.Ring().Current().ID() != k.ID() {
		t.Errorf("with crypto.master_key set: %v, key %s", err, s.Ring().Current().ID())
	}
}

func TestKeysGenerateAndRotate(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	root := newRoot()
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	root.SetArgs([]string{"keys", "generate"})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	newKey, err := keyring.ParseMasterKey(out.String())
	if err != nil {
		t.Fatalf("keys generate printed %q: %v", out.String(), err)
	}
	newFile := filepath.Join(t.TempDir(), "new.key")
	if err := os.WriteFile(newFile, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	oldKey, err := keyring.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	url := storagetest.URL(t)
	open := func(k keyring.MasterKey) *storage.DB {
		t.Helper()
		s, err := privacy.NewSealer(k, nil)
		if err != nil {
			t.Fatal(err)
		}
		db, err := storage.Open(ctx, url, storage.WithSealer(s))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return db
	}
	db := open(oldKey)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := db.Turn(ctx, storage.PersonKey{Channel: "shell", ExternalID: int64(i + 1)}, "", func(tx *storage.Tx) error {
			tx.SaveState([]byte("mijn staat"), time.Time{})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	t.Setenv("STILSTAAN_CRYPTO_MASTER_KEY", oldKey.Encode())
	out.Reset()
	root = newRoot()
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	root.SetArgs([]string{"keys", "rotate", "--new-key-file", newFile, "--batch", "2", "--database-url", url, "--log-level", "error"})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "re-wrapped 3 data key(s)") || !strings.Contains(out.String(), newKey.ID()) {
		t.Errorf("keys rotate said %q", out.String())
	}

	after := open(newKey)
	for i := range 3 {
		if _, err := after.Turn(ctx, storage.PersonKey{Channel: "shell", ExternalID: int64(i + 1)}, "", func(tx *storage.Tx) error {
			if string(tx.State()) != "mijn staat" {
				t.Errorf("person %d's state after rotation: %q", i+1, tx.State())
			}
			return nil
		}); err != nil {
			t.Errorf("person %d with only the new key: %v", i+1, err)
		}
	}

	t.Setenv(EnvNewMasterKey, "")
	root = newRoot()
	root.SetOut(&bytes.Buffer{})
	root.SetErr(&bytes.Buffer{})
	root.SetArgs([]string{"keys", "rotate", "--database-url", url})
	if err := root.ExecuteContext(ctx); err == nil || !strings.Contains(err.Error(), EnvNewMasterKey) {
		t.Errorf("rotate without a new key: %v", err)
	}
}
