package keyring

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fixedKey returns a master key with bytes seed, seed+1, ... for readable tests.
func fixedKey(t testing.TB, seed byte) (MasterKey, []byte) {
	t.Helper()
	raw := make([]byte, KeySize)
	for i := range raw {
		raw[i] = seed + byte(i)
	}
	k, err := ParseMasterKey(base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		t.Fatalf("ParseMasterKey: %v", err)
	}
	return k, raw
}

func TestParseMasterKey(t *testing.T) {
	raw := make([]byte, KeySize)
	for i := range raw {
		raw[i] = byte(250 - i*7) // includes bytes that encode to + / - _
	}
	want := newMasterKey(raw)
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "standard padded", in: base64.StdEncoding.EncodeToString(raw)},
		{name: "standard unpadded", in: base64.RawStdEncoding.EncodeToString(raw)},
		{name: "url padded", in: base64.URLEncoding.EncodeToString(raw)},
		{name: "url unpadded", in: base64.RawURLEncoding.EncodeToString(raw)},
		{name: "surrounding white space", in: "  " + base64.StdEncoding.EncodeToString(raw) + "\n"},
		{name: "empty", in: "  \n", wantErr: "empty"},
		{name: "too short", in: base64.StdEncoding.EncodeToString(raw[:16]), wantErr: "decodes to 16 bytes, want 32"},
		{name: "too long", in: base64.StdEncoding.EncodeToString(append(raw, 1)), wantErr: "decodes to 33 bytes"},
		{name: "not base64", in: "this is not a key at all, is it?!", wantErr: "not valid base64"},
		{name: "hex is not accepted", in: hex.EncodeToString(raw), wantErr: "decodes to 48 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMasterKey(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if s := strings.TrimSpace(tt.in); s != "" && strings.Contains(err.Error(), s) {
					t.Fatalf("error repeats the input: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMasterKey: %v", err)
			}
			if got.ID() != want.ID() || got.Encode() != want.Encode() {
				t.Fatalf("got key %s, want %s", got.ID(), want.ID())
			}
		})
	}
}

func TestMasterKeyIDAndEncode(t *testing.T) {
	k, raw := fixedKey(t, 1)
	sum := sha256.Sum256(raw)
	if got, want := k.ID(), hex.EncodeToString(sum[:])[:8]; got != want {
		t.Fatalf("ID = %q, want %q", got, want)
	}
	back, err := ParseMasterKey(k.Encode())
	if err != nil {
		t.Fatalf("ParseMasterKey(Encode()): %v", err)
	}
	if back.ID() != k.ID() {
		t.Fatalf("round trip changed the key: %s vs %s", back.ID(), k.ID())
	}
	other, _ := fixedKey(t, 2)
	if other.ID() == k.ID() {
		t.Fatal("different keys share an ID")
	}
	var zero MasterKey
	if zero.ID() != "" || zero.Encode() != "" || !zero.IsZero() || k.IsZero() {
		t.Fatal("zero key reports a key")
	}
}

func TestGenerateMasterKey(t *testing.T) {
	a, err := GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	if a.IsZero() || a.ID() == b.ID() {
		t.Fatalf("generated keys %s and %s", a.ID(), b.ID())
	}
}

func TestKeysAreRedacted(t *testing.T) {
	k, raw := fixedKey(t, 40)
	dk, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		k.Encode(),
		hex.EncodeToString(raw),
		fmt.Sprint(raw), // [40 41 42 ...]
		hex.EncodeToString(dk.s.key[:]),
		fmt.Sprint(dk.s.key[:]),
	}
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		fmt.Fprintf(&out, verb+"\n", k)
		fmt.Fprintf(&out, verb+"\n", dk)
		fmt.Fprintf(&out, verb+"\n", struct{ K MasterKey }{k})
	}
	slog.New(slog.NewTextHandler(&out, nil)).Info("keys", "master", k, "data", dk)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("keys", "master", k, "data", dk)
	for _, s := range secrets {
		if strings.Contains(out.String(), s) {
			t.Fatalf("key material %q printed in:\n%s", s, out.String())
		}
	}
	if !strings.Contains(out.String(), k.ID()) {
		t.Fatalf("output does not name the key by its ID:\n%s", out.String())
	}
}

func TestLoadMasterKeyFile(t *testing.T) {
	dir := t.TempDir()
	k, _ := fixedKey(t, 9)
	good := filepath.Join(dir, "good")
	if err := os.WriteFile(good, []byte(k.Encode()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge")
	if err := os.WriteFile(huge, bytes.Repeat([]byte("A"), maxKeyFileSize+10), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		wantErr  string
		notExist bool
	}{
		{name: "good", path: good},
		{name: "missing", path: filepath.Join(dir, "nope"), wantErr: "no such file", notExist: true},
		{name: "not a key", path: bad, wantErr: "not valid base64"},
		{name: "too large", path: huge, wantErr: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadMasterKeyFile(tt.path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got.ID() != k.ID() {
					t.Fatalf("loaded %s, want %s", got.ID(), k.ID())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
			if errors.Is(err, fs.ErrNotExist) != tt.notExist {
				t.Fatalf("errors.Is(err, fs.ErrNotExist) = %v, want %v", !tt.notExist, tt.notExist)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error repeats the file content: %v", err)
			}
		})
	}
}

func TestEnsureDevKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "dir", "master.key")
	k, created, err := EnsureDevKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !created || k.IsZero() {
		t.Fatalf("created = %v, key zero = %v", created, k.IsZero())
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file mode = %v, want 0600", perm)
	}
	dirInfo, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if perm := dirInfo.Mode().Perm(); perm != 0o700 {
		t.Fatalf("key dir mode = %v, want 0700", perm)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("dir holds %d entries, want only the key (temporary file left behind?)", len(entries))
	}

	again, created, err := EnsureDevKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if created || again.ID() != k.ID() {
		t.Fatalf("second call: created = %v, key %s, want existing %s", created, again.ID(), k.ID())
	}
}

func TestEnsureDevKeyFileKeepsABrokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(path, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := EnsureDevKeyFile(path); err == nil {
		t.Fatal("EnsureDevKeyFile accepted a broken key file")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "not a key\n" {
		t.Fatal("EnsureDevKeyFile overwrote an existing file")
	}
}

func TestEnsureDevKeyFileRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	const n = 8
	var (
		wg      sync.WaitGroup
		ids     [n]string
		created [n]bool
		errs    [n]error
	)
	for i := range n {
		wg.Go(func() {
			k, c, err := EnsureDevKeyFile(path)
			ids[i], created[i], errs[i] = k.ID(), c, err
		})
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("call %d got key %s, call 0 got %s", i, ids[i], ids[0])
		}
		if created[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Fatalf("%d calls report creating the key, want 1", creators)
	}
}
