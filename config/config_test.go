package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stilstaan.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsAreValid(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "telegram:\n  workers: 3\n  global_rate: 10\nlog:\n  level: debug\n")
	t.Setenv("STILSTAAN_TELEGRAM_GLOBAL_RATE", "12")
	t.Setenv("STILSTAAN_LLM_TIMEOUT", "3s")
	flags := pflag.NewFlagSet("t", pflag.ContinueOnError)
	flags.String("log-level", "info", "")
	flags.Float64("pause-scale", 1, "")
	if err := flags.Parse([]string{"--log-level=warn"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file, flags)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"file over default", c.Telegram.Workers, 3},
		{"env over file", c.Telegram.GlobalRate, 12.0},
		{"env duration", c.LLM.Timeout, 3 * time.Second},
		{"flag over file", c.Log.Level, "warn"},
		{"unset flag keeps default", c.Shell.PauseScale, 1.0},
		{"default", c.Database.URL, "postgres://postgres@127.0.0.1:5432/stilstaan?sslmode=disable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestInvalidNamesTheKey(t *testing.T) {
	tests := []struct {
		name, file, env, envVal, wantKey string
	}{
		{name: "bad mode", file: "telegram:\n  mode: carrier-pigeon\n", wantKey: "telegram.mode"},
		{name: "webhook without url", file: "telegram:\n  mode: webhook\n", wantKey: "telegram.webhook_url"},
		{name: "unknown key", file: "telegram:\n  wokers: 3\n", wantKey: "wokers"},
		{name: "wrong type", file: "telegram:\n  workers: many\n", wantKey: "workers"},
		{name: "bad duration env", env: "STILSTAAN_LLM_TIMEOUT", envVal: "soon", wantKey: "timeout"},
		{name: "bad db url", env: "STILSTAAN_DATABASE_URL", envVal: "mysql://x", wantKey: "database.url"},
		{name: "bad zone", file: "checkin:\n  default_zone: Mars/Olympus\n", wantKey: "checkin.default_zone"},
		{name: "coach twice", file: "coaches:\n  - {id: 5, name: A}\n  - {id: 5, name: B}\n", wantKey: "coaches[1].id"},
		{name: "broken yaml", file: "telegram: [\n", wantKey: "stilstaan.yaml"},
		{name: "memory limit unit", file: "runtime:\n  memory_limit: 40MB\n", wantKey: "runtime.memory_limit"},
		{name: "memory limit too low", env: "STILSTAAN_RUNTIME_MEMORY_LIMIT", envVal: "16MiB", wantKey: "runtime.memory_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := ""
			if tt.file != "" {
				file = writeFile(t, tt.file)
			}
			if tt.env != "" {
				t.Setenv(tt.env, tt.envVal)
			}
			_, err := Load(file, nil)
			if err == nil {
				t.Fatal("want an error")
			}
			if !strings.Contains(err.Error(), tt.wantKey) {
				t.Fatalf("error %q does not name %q", err, tt.wantKey)
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	c := Defaults()
	c.Telegram.Token = "123456:SECRET-TOKEN"
	c.LLM.APIKey = "sk-very-secret"
	c.Crypto.MasterKey = "bWFzdGVy"
	c.Crypto.PreviousKeys = []string{"b2xk"}
	out := c.Redacted()
	for _, secret := range []string{"SECRET-TOKEN", "sk-very-secret", "bWFzdGVy", "b2xk"} {
		if strings.Contains(out, secret) {
			t.Errorf("redacted config contains %q", secret)
		}
	}
	if !strings.Contains(out, "[redacted]") || !strings.Contains(out, "127.0.0.1:5432") {
		t.Errorf("unexpected output:\n%s", out)
	}
	if c.Telegram.Token != "123456:SECRET-TOKEN" || c.Crypto.PreviousKeys[0] != "b2xk" {
		t.Error("Redacted changed the original")
	}
}

func TestKeysCoverEnv(t *testing.T) {
	keys := Keys()
	if len(keys) < 40 {
		t.Fatalf("only %d keys", len(keys))
	}
	for _, k := range keys {
		if strings.ToLower(k) != k {
			t.Errorf("key %q is not lower case", k)
		}
	}
}

func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"40MiB", 40 << 20, true},
		{"1GiB", 1 << 30, true},
		{"2TiB", 2 << 40, true},
		{"65536KiB", 64 << 20, true},
		{"41943040", 40 << 20, true},
		{"41943040B", 40 << 20, true},
		{" 48MiB ", 48 << 20, true},
		{"off", 0, true},
		{"0", 0, true},
		{"", 0, false},
		{"MiB", 0, false},
		{"40MB", 0, false},
		{"40 MiB", 0, false},
		{"-40MiB", 0, false},
		{"1.5GiB", 0, false},
		{"lots", 0, false},
		{"9000000TiB", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseMemoryLimit(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMemoryLimit(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}

	// The default, and how it is set from a file, the environment, or as a
	// plain number of bytes in YAML.
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c.Runtime.MemoryLimitBytes(); err != nil || n != 40<<20 {
		t.Errorf("default runtime.memory_limit = %d, %v; want 40 MiB", n, err)
	}
	c, err = Load(writeFile(t, "runtime:\n  memory_limit: 96MiB\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Runtime.MemoryLimitBytes(); n != 96<<20 {
		t.Errorf("from the file: %d", n)
	}
	c, err = Load(writeFile(t, "runtime:\n  memory_limit: 67108864\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Runtime.MemoryLimitBytes(); n != 64<<20 {
		t.Errorf("a number in YAML: %d", n)
	}
	t.Setenv("STILSTAAN_RUNTIME_MEMORY_LIMIT", "off")
	c, err = Load(writeFile(t, "runtime:\n  memory_limit: 96MiB\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c.Runtime.MemoryLimitBytes(); err != nil || n != 0 {
		t.Errorf("off from the environment: %d, %v", n, err)
	}
}
