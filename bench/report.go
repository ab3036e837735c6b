package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Targets of issue 9.
const (
	TargetFloorRatio = 0.50                   // turns/s over pgbench's TPS
	TargetHalfP99    = 20 * time.Millisecond  // p99 at half load
	TargetFanout     = 0.95                   // achieved over configured send rate
	TargetRSS        = 64 << 20               // bytes, idle and under load
	TargetCrisisP99  = 100 * time.Millisecond // crisis message to safety reply
)

// Latency sums up one phase.
type Latency struct {
	Turns      int
	Rate       float64 // turns per second in the window
	P50, P95   time.Duration
	P99        time.Duration
	AnswerP50  time.Duration // to the next question
	AnswerP99  time.Duration
	Stalls     int
	Samples    int
	WindowSecs float64
}

func summarize(l loadResult) Latency {
	return Latency{
		Turns: l.turns, Rate: l.rate(), Stalls: l.stalls, Samples: len(l.replies), WindowSecs: l.seconds,
		P50: percentile(l.replies, 50), P95: percentile(l.replies, 95), P99: percentile(l.replies, 99),
		AnswerP50: percentile(l.answers, 50), AnswerP99: percentile(l.answers, 99),
	}
}

// Memory is the bot process's resident memory.
type Memory struct {
	Stored int   // people in the database
	Idle   int64 // VmRSS after start, bytes
	Load   int64 // largest VmRSS under load
	Peak   int64 // VmHWM at the end
}

// Machine describes where the run happened.
type Machine struct {
	NProc      int
	CPU        string
	MemTotal   string
	Postgres   string
	Go         string
	LoadBefore string
	LoadAfter  string
}

// Report is everything one run measured.
type Report struct {
	Config  Config
	Machine Machine
	Started time.Time
	Took    time.Duration

	Closed     Latency
	CPUPerTurn time.Duration
	// LoadCPUPerTurn is the CPU time of the bench's own process per turn:
	// the simulated people and the fake Bot API, which share the machine
	// with the bot and PostgreSQL (pgbench's client is far lighter).
	LoadCPUPerTurn time.Duration
	// ServerCPUPerTurn is the CPU time of the database's server processes
	// per turn (0 when they could not be read).
	ServerCPUPerTurn time.Duration
	// SendRate is the bot's messages and edits per second in the closed
	// loop; at telegram.global_rate it, not the bot, sets turns/s.
	SendRate    float64
	RoundTrips  float64 // per turn, the whole bot process
	ProbeTurns  int
	ProbeStalls int
	Shape       turnShape
	Floor       floorResult
	HalfRate    float64
	Half        Latency
	Crisis      Latency
	MemorySmall,
	Memory Memory
	Fanout *fanoutResult
}

// FloorRatio is the bot's turns per second over pgbench's transactions per
// second.
func (r *Report) FloorRatio() float64 {
	if r.Floor.TPS == 0 {
		return 0
	}
	return r.Closed.Rate / r.Floor.TPS
}

// row is one line of the table.
type row struct{ what, figure, target, met string }

// capNote says when the closed loop ran into the delivery's rate limit.
func capNote(rate float64) string {
	if rate >= 0.95*turnPathGlobalRate {
		return " (= telegram.global_rate, the settings' maximum: it caps turns/s)"
	}
	return ""
}

func verdict(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func us(d time.Duration) string {
	if d == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func (r *Report) rows() []row {
	c := r.Closed
	rows := []row{
		{"Turn path: turns/s (closed loop, " + fmt.Sprint(r.Config.People) + " people)", fmt.Sprintf("%.0f", c.Rate), "", ""},
		{"Turn path: messages and edits sent/s", fmt.Sprintf("%.0f", r.SendRate) + capNote(r.SendRate), "", ""},
		{"Turn path: update → first reply p50 / p95 / p99", ms(c.P50) + " / " + ms(c.P95) + " / " + ms(c.P99), "", ""},
		{"Turn path: update → next question p50 / p99", ms(c.AnswerP50) + " / " + ms(c.AnswerP99), "", ""},
		{"Turn path: CPU of the bot process per turn", us(r.CPUPerTurn), "", ""},
		{"Turn path: round trips to PostgreSQL per turn (whole process)", fmt.Sprintf("%.1f", r.RoundTrips), "", ""},
		{"Floor: pgbench TPS, same statements, " + fmt.Sprint(r.Config.Workers) + " clients", fmt.Sprintf("%.0f", r.Floor.TPS), "", ""},
		{"PostgreSQL CPU per turn / per pgbench transaction", us(r.ServerCPUPerTurn) + " / " + us(r.Floor.ServerCPU), "", ""},
		{"CPU of the load per turn (simulated people, fake Bot API) / of pgbench's client per transaction", us(r.LoadCPUPerTurn) + " / " + us(r.Floor.ClientCPU), "", ""},
		{"Turns/s ÷ pgbench TPS", fmt.Sprintf("%.0f%%", 100*r.FloorRatio()), "≥ 50%", verdict(r.FloorRatio() >= TargetFloorRatio)},
		{fmt.Sprintf("Half load (%.0f/s offered, open loop): p50 / p95 / p99", r.HalfRate),
			ms(r.Half.P50) + " / " + ms(r.Half.P95) + " / " + ms(r.Half.P99), "p99 ≤ 20 ms", verdict(r.Half.P99 <= TargetHalfP99)},
		{"Half load: update → next question p50 / p99", ms(r.Half.AnswerP50) + " / " + ms(r.Half.AnswerP99), "", ""},
		{fmt.Sprintf("Crisis message → safety reply p50 / p99 (%d messages)", r.Crisis.Samples),
			ms(r.Crisis.P50) + " / " + ms(r.Crisis.P99), "p99 ≤ 100 ms", verdict(r.Crisis.Samples > 0 && r.Crisis.P99 <= TargetCrisisP99)},
		{fmt.Sprintf("RSS, %d people stored: idle / under load / peak", r.Memory.Stored),
			mib(r.Memory.Idle) + " / " + mib(r.Memory.Load) + " / " + mib(r.Memory.Peak), "≤ 64 MiB",
			verdict(max(r.Memory.Idle, r.Memory.Load, r.Memory.Peak) <= TargetRSS)},
		{fmt.Sprintf("RSS, %d people stored: idle / under load / peak", r.MemorySmall.Stored),
			mib(r.MemorySmall.Idle) + " / " + mib(r.MemorySmall.Load) + " / " + mib(r.MemorySmall.Peak), "≤ 64 MiB, flat",
			verdict(max(r.MemorySmall.Idle, r.MemorySmall.Load, r.MemorySmall.Peak) <= TargetRSS)},
	}
	if f := r.Fanout; f != nil {
		rows = append(rows,
			row{fmt.Sprintf("Fan-out: %d check-ins, %d processes, %d messages", f.CheckIns, f.Replicas, f.Sent),
				fmt.Sprintf("%.0f/s of %.0f/s configured (%.1f%%)", f.Rate, f.ConfiguredRate, 100*f.Ratio()), "≥ 95%",
				verdict(f.Complete && f.Ratio() >= TargetFanout)},
			row{"Fan-out: duplicates / 429s / people reached", fmt.Sprintf("%d / %d / %d of %d", f.Duplicates, f.Retries429, f.People, f.CheckIns),
				"0 / 0 / all", verdict(f.Duplicates == 0 && f.Retries429 == 0 && f.People == f.CheckIns)},
		)
	}
	if stalls := r.ProbeStalls + c.Stalls + r.Half.Stalls + r.Crisis.Stalls; stalls > 0 {
		rows = append(rows, row{"Updates the bot never answered (30 s)", fmt.Sprint(stalls), "0", verdict(false)})
	}
	return rows
}

// WriteTable prints the figures as an aligned plain-text table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Measurement\tFigure\tTarget\tMet")
	for _, x := range r.rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.what, x.figure, x.target, strings.ReplaceAll(x.met, "*", ""))
	}
	return tw.Flush()
}

// WriteMarkdown writes the figures, the machine and the pgbench script as
// Markdown, for BENCHMARKS.md.
func (r *Report) WriteMarkdown(w io.Writer) error {
	b := &strings.Builder{}
	m := r.Machine
	fmt.Fprintf(b, "Run of %s, took %s.\n\n", r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Took.Round(time.Second))
	fmt.Fprintf(b, "| Measurement | Figure | Target | Met |\n|---|---|---|---|\n")
	for _, x := range r.rows() {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", x.what, x.figure, x.target, x.met)
	}
	c := r.Config
	fmt.Fprintf(b, "\nMachine: %d cores (%s), %s memory, PostgreSQL %s, %s. Load average before: %s; after: %s.\n",
		m.NProc, m.CPU, m.MemTotal, m.Postgres, m.Go, m.LoadBefore, m.LoadAfter)
	fmt.Fprintf(b, "\nSettings: %d people, %d workers (telegram.workers; pgbench -c), warm-up %s, windows of %s, "+
		"%d and %d people stored, %d crisis people at %.1f messages/s, fan-out of %d check-ins at a limit of %d/s.\n",
		c.People, c.Workers, c.Warmup, c.Duration, c.StoredSmall, c.Stored, c.CrisisPeople, c.CrisisRate, c.Fanout, c.FanoutLimit)
	fmt.Fprintf(b, "\nDetails: closed loop %d turns in %.0f s; round trips counted over %d turns; the average turn wrote "+
		"%d transcript rows and %d outbox rows (state %d B, body %d B, payload %d B sealed); pgbench: %s, average latency %s, %d failed.\n",
		r.Closed.Turns, r.Closed.WindowSecs, r.ProbeTurns, r.Shape.Transcript, r.Shape.Outbox, r.Shape.StateBytes,
		r.Shape.BodyBytes, r.Shape.OutboxBytes, r.Floor.Command, ms(r.Floor.Latency), r.Floor.Failed)
	if f := r.Fanout; f != nil {
		fmt.Fprintf(b, "\nFan-out: %d `stilstaan run` processes with telegram.global_rate %.0f each; the fake Bot API allowed %d sends/s "+
			"overall and %d per chat per second; %d messages (outbox rows written: %d) in %.1f s; every check-in started after %.1f s; complete: %v; 429s from the limits: %d.\n",
			f.Replicas, f.ConfiguredRate/float64(f.Replicas), f.Limit, f.PerChatLimit, f.Sent, f.Expected, f.Seconds, f.Started, f.Complete, f.Limited)
	}
	fmt.Fprintf(b, "\npgbench script (turn.pgbench.sql):\n\n```\n%s```\n", r.Floor.Script)
	_, err := io.WriteString(w, b.String())
	return err
}

// readMachine describes this machine from /proc.
func readMachine() Machine {
	m := Machine{NProc: runtime.NumCPU(), CPU: "unknown", MemTotal: "unknown", Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "MemTotal:") {
				m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kib(sc.Text()))/(1<<30))
				break
			}
		}
		f.Close()
	}
	return m
}

// loadAverage is the 1, 5 and 15 minute load average.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
