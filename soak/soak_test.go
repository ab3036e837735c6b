package soak

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// binaryDir holds the binary built for the tests, removed at the end.
var binaryDir string

// binary builds the stilstaan command once for the package's tests.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "stilstaan-soak-bin-")
	if err != nil {
		return "", err
	}
	binaryDir = dir
	path := filepath.Join(dir, "stilstaan")
	out, err := exec.Command("go", "build", "-o", path, "github.com/stilstaan/stilstaan/cmd/stilstaan").CombinedOutput()
	if err != nil {
		return "", &buildError{err: err, out: string(out)}
	}
	return path, nil
})

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		_ = os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// testLogger sends the run's progress to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// shortRun runs a small soak: 20 people, 3 kills. Nothing in it depends on
// timing: people wait on what the bot sends, the end waits until the
// database holds no work, and the deadlines are generous for a loaded
// machine.
func shortRun(t *testing.T, cfg Config) *Report {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Binary = bin
	// The server the storage tests use (storagetest), when set.
	cfg.ServerURL = os.Getenv("STILSTAAN_TEST_DATABASE_URL")
	if cfg.People == 0 {
		cfg.People = 20
	}
	if cfg.Duration == 0 {
		cfg.Duration = 20 * time.Second
	}
	cfg.PauseScale = 0.02
	cfg.Think = [2]time.Duration{50 * time.Millisecond, 300 * time.Millisecond}
	cfg.StallAfter = 90 * time.Second
	cfg.Settle = 3 * time.Minute
	cfg.Dir = t.TempDir()
	cfg.Log = testLogger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	_ = rep.Write(&b)
	t.Log("\n" + b.String())
	if !rep.OK() {
		t.Fatalf("targets violated: %s", strings.Join(rep.Violations, "; "))
	}
	if rep.Tally.Steps == 0 || rep.Tally.StepsProcessed != rep.Tally.Steps {
		t.Errorf("%d of %d steps processed", rep.Tally.StepsProcessed, rep.Tally.Steps)
	}
	// Messages queued for a person who then blocked the bot are dropped by
	// design (403); every other message must have arrived.
	if rep.Tally.Messages == 0 || rep.Tally.Received+rep.Tally.Dropped < rep.Tally.Messages {
		t.Errorf("%d messages received (+%d dropped for people who blocked the bot) of %d in the transcripts",
			rep.Tally.Received, rep.Tally.Dropped, rep.Tally.Messages)
	}
	return rep
}

func TestShortSoak(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "polling", cfg: Config{Mode: "polling", Kills: 3}},
		{name: "webhook", cfg: Config{Mode: "webhook", Kills: 3}},
		// Two replicas behind the balancer, with Bot API faults (lost
		// responses among them, so duplicates must be explained), a person
		// who blocks the bot, a failing LLM and the database connections cut.
		{name: "replicas and faults", cfg: Config{Mode: "webhook", Replicas: 2, Kills: 3, BotFaults: 0.05, Blocks: 1,
			LLM: true, LLMFaults: 0.3, DropConnections: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := shortRun(t, tt.cfg)
			replicas := max(tt.cfg.Replicas, 1)
			if rep.Kills != 3 || rep.Starts != replicas+3 {
				t.Errorf("%d kills and %d starts, want 3 and %d", rep.Kills, rep.Starts, replicas+3)
			}
			if tt.cfg.BotFaults > 0 && rep.BotFaults.Total() == 0 {
				t.Error("no Bot API fault was injected")
			}
			if tt.cfg.DropConnections > 0 && rep.DropConnections != tt.cfg.DropConnections {
				t.Errorf("database connections cut %d times, want %d", rep.DropConnections, tt.cfg.DropConnections)
			}
		})
	}
}
