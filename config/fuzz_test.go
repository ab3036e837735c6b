package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary config files to Load: it must never panic, and
// whatever it accepts must be valid.
func FuzzLoad(f *testing.F) {
	f.Add("telegram:\n  mode: webhook\n  webhook_url: https://x.example/hook\n")
	f.Add("database:\n  url: postgres://u@h/db\n  max_conns: 0\n")
	f.Add("coaches:\n  - {id: 1, name: a}\n  - {id: -1}\n")
	f.Add("safety:\n  helplines:\n    nl:\n      - {name: x}\n")
	f.Add("llm:\n  timeout: 1h\n  temperature: 9\n")
	f.Add(": : :\n\t- [")
	f.Add("checkin:\n  default_zone: \"\\x00\"\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		p := filepath.Join(dir, "stilstaan.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p, nil)
		if err != nil {
			return
		}
		if verr := c.Validate(); verr != nil {
			t.Fatalf("Load accepted an invalid config: %v", verr)
		}
		_ = c.Redacted()
	})
}
