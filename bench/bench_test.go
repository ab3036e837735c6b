package bench

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stilstaan/stilstaan/safety"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

// buildBinary builds the stilstaan command for the run.
func buildBinary(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stilstaan")
	out, err := exec.Command("go", "build", "-o", path, "github.com/stilstaan/stilstaan/cmd/stilstaan").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return path
}

// TestRunTiny runs every measurement at a tiny size, against the real
// binary, PostgreSQL and pgbench: it checks that the harness works and
// that its figures are sane, not that the targets hold (that depends on the
// machine; BENCHMARKS.md has a full run).
func TestRunTiny(t *testing.T) {
	pgbench, err := exec.LookPath("pgbench")
	if err != nil {
		t.Fatalf("pgbench is needed for the floor: %v", err)
	}
	cfg := Defaults()
	cfg.DatabaseURL = storagetest.ServerURL()
	cfg.Binary = buildBinary(t)
	cfg.Pgbench = pgbench
	cfg.People, cfg.Workers = 5, 4
	cfg.Warmup, cfg.Duration, cfg.ProbeTime, cfg.Settle = time.Second, 2*time.Second, time.Second, 300*time.Millisecond
	cfg.Stored, cfg.StoredSmall = 200, 20
	cfg.Fanout, cfg.FanoutTimeout = 200, 2*time.Minute
	cfg.CrisisPeople, cfg.CrisisRate = 2, 4
	cfg.ProfileDir = t.TempDir()
	cfg.Log = slog.New(slog.NewTextHandler(t.Output(), nil))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"closed loop answered turns", rep.Closed.Turns > 0 && rep.Closed.Rate > 0 && rep.Closed.P50 > 0},
		{"percentiles in order", rep.Closed.P50 <= rep.Closed.P95 && rep.Closed.P95 <= rep.Closed.P99},
		{"CPU per turn measured", rep.CPUPerTurn > 0},
		// A turn alone is two; receiving, the inbox and delivery add more.
		{"round trips per turn plausible", rep.RoundTrips >= 2 && rep.RoundTrips < 100},
		{"pgbench ran", rep.Floor.TPS > 0 && rep.Floor.Failed == 0 && rep.FloorRatio() > 0},
		{"half load answered", rep.Half.Turns > 0 && rep.HalfRate > 0},
		{"crisis replies timed", rep.Crisis.Samples > 0 && rep.Crisis.P50 > 0},
		{"memory read", rep.Memory.Idle > 0 && rep.Memory.Load > 0 && rep.MemorySmall.Idle > 0},
		// Whether every check-in of the tiny fan-out finishes inside its
		// window depends on the machine's load; that is the figure the bench
		// reports. Exactly-once is tested by checkin's scheduler tests. Here:
		// it ran, reached people, and never sent anything twice.
		{"fan-out ran", rep.Fanout != nil && rep.Fanout.People > 0},
		{"fan-out never doubled", rep.Fanout != nil && rep.Fanout.Duplicates == 0 && rep.Fanout.Sent <= rep.Fanout.Expected},
		{"nothing stalled", rep.ProbeStalls+rep.Closed.Stalls+rep.Half.Stalls+rep.Crisis.Stalls == 0},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: no (report %+v)", c.name, *rep)
		}
	}
	for _, name := range []string{"cpu.pprof", "heap.pprof"} {
		if fi, err := os.Stat(filepath.Join(cfg.ProfileDir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("profile %s not written: %v", name, err)
		}
	}

	var table, md bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Turns/s ÷ pgbench TPS", "Crisis message", "Fan-out"} {
		if !strings.Contains(table.String(), want) || !strings.Contains(md.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, table.String())
		}
	}
	if !strings.Contains(md.String(), `\startpipeline`) {
		t.Errorf("the Markdown report lacks the pgbench script")
	}
	t.Logf("\n%s", table.String())
}

// The scratch database is gone after a run.
func TestScratchDropped(t *testing.T) {
	ctx := context.Background()
	s, err := newScratch(ctx, storagetest.ServerURL(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var tables int
	if err := s.db.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'people'`, floorSchema).Scan(&tables); err != nil || tables != 1 {
		t.Errorf("floor schema has %d people tables (%v), want 1", tables, err)
	}
	if err := s.drop(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	conn, err := pgx.Connect(ctx, s.server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, s.name).Scan(&n); err != nil || n != 0 {
		t.Errorf("database %s still exists (%d, %v)", s.name, n, err)
	}
}

// The people's written answers and the crisis message are rated as the
// bench assumes.
func TestMessagesRated(t *testing.T) {
	c := safety.NewClassifier()
	for _, a := range answers {
		if r := c.Classify(a); r.Level != safety.None || r.Category != "" {
			t.Errorf("answer %q is rated %v/%q; the turn path would leave the script", a, r.Level, r.Category)
		}
	}
	msg, reply, err := crisisMessage()
	if err != nil {
		t.Fatal(err)
	}
	if c.Classify(msg).Level != safety.Acute || reply == "" || strings.Contains(reply, "\n") {
		t.Errorf("crisis message %q, reply line %q", msg, reply)
	}
}

func TestDecide(t *testing.T) {
	kb := func(data ...string) [][]button {
		var rows [][]button
		for _, d := range data {
			rows = append(rows, []button{{Text: d, Data: d}})
		}
		return rows
	}
	tests := []struct {
		name    string
		started bool
		buttons [][]button
		press   string
		text    string
		multi   bool
	}{
		{name: "not started", text: "/start"},
		{name: "nothing to press", started: true, text: "/start"},
		{name: "consent", started: true, buttons: kb("1.l:en", "1.c:y", "1.c:n"), press: "1.c:y"},
		{name: "menu", started: true, buttons: kb("2.x:abandonment", "2.x:adult"), press: "2.x:adult"},
		{name: "pause", started: true, buttons: kb("3.w"), press: "3.w"},
		{name: "written answer", started: true, buttons: kb("4.s"), text: "written"},
		{name: "multi: first an option", started: true, buttons: kb("5.o:fear", "5.d", "5.s"), press: "5.o:fear", multi: true},
		{name: "multi: then done", started: true, buttons: [][]button{{{Text: "✓ Angst", Data: "5.o:fear"}}, {{Text: "Klaar", Data: "5.d"}}}, press: "5.d"},
		{name: "choice", started: true, buttons: kb("6.o:yes", "6.s"), press: "6.o:yes"},
		{name: "concern: go on", started: true, buttons: kb("7.k", "7.p"), press: "7.k"},
		{name: "a feature's buttons", started: true, buttons: kb("ci:offer:yes", "ci:offer:no"), text: "/exercises"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &person{chat: 9, started: tt.started, prompt: prompt{id: 3, buttons: tt.buttons}, rng: rand.New(rand.NewPCG(1, 2))}
			a := p.decide()
			if tt.text == "written" {
				if a.press != "" || a.text == "" || strings.HasPrefix(a.text, "/") {
					t.Errorf("got %+v, want a written answer", a)
				}
				return
			}
			if a.press != tt.press || a.text != tt.text || a.multi != tt.multi {
				t.Errorf("got %+v, want press %q text %q multi %v", a, tt.press, tt.text, tt.multi)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	ds := make([]time.Duration, 100)
	for i := range ds {
		ds[99-i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name string
		p    float64
		want time.Duration
	}{
		{name: "p50", p: 50, want: 50 * time.Millisecond},
		{name: "p99", p: 99, want: 99 * time.Millisecond},
		{name: "p100", p: 100, want: 100 * time.Millisecond},
		{name: "p0", p: 0, want: time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(ds, tt.p); got != tt.want {
				t.Errorf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
	if percentile(nil, 50) != 0 {
		t.Errorf("percentile of nothing is not 0")
	}
}

func TestParseAnswer(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		ok      bool
		chat    int64
		message int
		buttons int
	}{
		{name: "message with keyboard", ok: true, chat: 7, message: 12, buttons: 2,
			body: `{"ok":true,"result":{"message_id":12,"chat":{"id":7},"text":"Hoi","reply_markup":{"inline_keyboard":[[{"text":"a","callback_data":"1.o:a"},{"text":"b","callback_data":"1.o:b"}]]}}}`},
		{name: "edit without keyboard", ok: true, chat: 7, message: 11, body: `{"ok":true,"result":{"message_id":11,"chat":{"id":7},"text":"Hoi"}}`},
		{name: "error", body: `{"ok":false,"error_code":429,"description":"Too Many Requests"}`},
		{name: "true", body: `{"ok":true,"result":true}`},
		{name: "garbage", body: `<html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chat, ev, ok := parseAnswer([]byte(tt.body))
			if ok != tt.ok || chat != tt.chat || ev.message != tt.message || len(ev.buttons) > 0 && len(ev.buttons[0]) != tt.buttons {
				t.Errorf("got %v %d %+v", ok, chat, ev)
			}
		})
	}
}

func TestFloorScriptShape(t *testing.T) {
	script := floorScript(turnShape{Transcript: 3, Outbox: 2, StateBytes: 500, BodyBytes: 100, OutboxBytes: 200}, 50)
	counts := map[string]int{
		`\startpipeline`:            2,
		`\endpipeline`:              2,
		"INSERT INTO transcript":    3,
		"INSERT INTO outbox":        2,
		"INSERT INTO inputs":        1,
		"INSERT INTO people":        1,
		"INSERT INTO conversations": 1,
		"COMMIT;":                   1,
		"random(1, 50)":             1,
	}
	for s, n := range counts {
		if got := strings.Count(script, s); got != n {
			t.Errorf("%q appears %d times, want %d:\n%s", s, got, n, script)
		}
	}
}
