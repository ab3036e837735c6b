package main

import (
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/stilstaan/stilstaan/config"
)

// keepMemoryLimit restores the process's memory limit after a test.
func keepMemoryLimit(t *testing.T) {
	t.Helper()
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
}

func TestSetMemoryLimit(t *testing.T) {
	keepMemoryLimit(t)
	log := slog.New(slog.DiscardHandler)
	t.Setenv("GOMEMLIMIT", "")

	if got := setMemoryLimit(config.Runtime{MemoryLimit: "48MiB"}, log); got != 48<<20 {
		t.Errorf("setMemoryLimit returned %d, want 48 MiB", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 48<<20 {
		t.Errorf("runtime limit %d after 48MiB, want %d", got, 48<<20)
	}
	setMemoryLimit(config.Runtime{MemoryLimit: "off"}, log)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("runtime limit %d after off, want none", got)
	}

	// GOMEMLIMIT is read by the runtime at start; when it is set, the
	// setting leaves the runtime's limit alone.
	debug.SetMemoryLimit(56 << 20) // as GOMEMLIMIT=56MiB would have
	t.Setenv("GOMEMLIMIT", "56MiB")
	if got := setMemoryLimit(config.Runtime{MemoryLimit: "40MiB"}, log); got != 56<<20 {
		t.Errorf("with GOMEMLIMIT set: setMemoryLimit returned %d, want 56 MiB", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 56<<20 {
		t.Errorf("with GOMEMLIMIT set: runtime limit %d, want 56 MiB", got)
	}
}

// TestRunGetsMemoryLimit checks that loading the settings for `stilstaan
// run` applies runtime.memory_limit, and for other commands does not.
func TestRunGetsMemoryLimit(t *testing.T) {
	keepMemoryLimit(t)
	t.Setenv("GOMEMLIMIT", "")
	file := filepath.Join(t.TempDir(), "stilstaan.yaml")
	if err := os.WriteFile(file, []byte("runtime:\n  memory_limit: 44MiB\nlog:\n  level: error\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want int64
	}{
		{[]string{"config"}, math.MaxInt64},
		{[]string{"run"}, 44 << 20},
	} {
		debug.SetMemoryLimit(math.MaxInt64)
		root := newRoot()
		cmd, _, err := root.Find(tt.args)
		if err != nil {
			t.Fatal(err)
		}
		a := &app{configFile: file}
		if _, _, err := a.load(cmd); err != nil {
			t.Fatal(err)
		}
		if got := debug.SetMemoryLimit(-1); got != tt.want {
			t.Errorf("%v: memory limit %d, want %d", tt.args, got, tt.want)
		}
	}
}
