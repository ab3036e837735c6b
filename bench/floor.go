package bench

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stilstaan/stilstaan/storage"
)

// turnShape is what an average turn of the bot wrote, measured in the turn
// path's database: the pgbench script writes the same.
type turnShape struct {
	Transcript  int // transcript rows per turn
	Outbox      int // outbox rows per turn
	StateBytes  int // sealed state size
	BodyBytes   int // sealed transcript body size
	OutboxBytes int // sealed outbox payload size
}

// defaultShape is a turn with two outgoing messages (the usual answer to a
// button: the old question's buttons removed, the next question asked).
var defaultShape = turnShape{Transcript: 3, Outbox: 2, StateBytes: 600, BodyBytes: 150, OutboxBytes: 300}

// measureShape reads the average turn of the inputs processed since
// (transcript and outbox rows per input, and their sizes).
func measureShape(ctx context.Context, db *storage.DB, since time.Time) (turnShape, error) {
	var inputs, transcript, outbox int64
	var stateBytes, bodyBytes, outboxBytes *float64
	err := db.Pool().QueryRow(ctx, `SELECT
  (SELECT count(*) FROM inputs WHERE processed_at >= $1 AND source LIKE 'tg:%'),
  (SELECT count(*) FROM transcript WHERE at >= $1),
  (SELECT count(*) FROM outbox WHERE created_at >= $1),
  (SELECT avg(length(state)) FROM conversations WHERE updated_at >= $1),
  (SELECT avg(length(body)) FROM transcript WHERE at >= $1),
  (SELECT avg(length(payload)) FROM outbox WHERE created_at >= $1)`, since).
		Scan(&inputs, &transcript, &outbox, &stateBytes, &bodyBytes, &outboxBytes)
	if err != nil {
		return turnShape{}, fmt.Errorf("bench: measure the average turn: %w", err)
	}
	if inputs == 0 || stateBytes == nil || bodyBytes == nil || outboxBytes == nil {
		return defaultShape, nil
	}
	round := func(n int64) int { return max(1, int(math.Round(float64(n)/float64(inputs)))) }
	return turnShape{
		Transcript: round(transcript), Outbox: round(outbox),
		StateBytes: int(*stateBytes), BodyBytes: int(*bodyBytes), OutboxBytes: int(*outboxBytes),
	}, nil
}

// The statements of one turn, as storage.Turn sends them for a returning
// person with a new update (see storage/turn.go): two pipelines, so two
// round trips, like the bot's two batches.
const floorUpsert = `INSERT INTO people (channel, external_id, chat_id, created_at, last_seen_at)
VALUES ('telegram', :pid, :pid, now(), now())
ON CONFLICT (channel, external_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at
RETURNING id, channel, external_id, chat_id, lang, active, consent_at, consent_version, created_at, last_seen_at, data_key, xmax = 0;`

const floorInput = `INSERT INTO inputs (source, person_id, processed_at)
SELECT 'pg:' || :src, id, now() FROM people WHERE channel = 'telegram' AND external_id = :pid
ON CONFLICT (source) DO NOTHING
RETURNING true;`

const floorLoad = `SELECT c.state FROM conversations c JOIN people p ON p.id = c.person_id
WHERE p.channel = 'telegram' AND p.external_id = :pid;`

// floorScript is the pgbench script of one turn of the given shape.
func floorScript(sh turnShape, people int) string {
	bytea := func(n int) string { return fmt.Sprintf("decode(repeat('5a', %d), 'hex')", max(n, 1)) }
	// seedFloor gives person n the id n, so the second batch names the
	// person by id, as storage.Turn does with the id the first batch read.
	person := ":pid"
	var b strings.Builder
	fmt.Fprintf(&b, "-- One Stilstaan turn (storage.Turn): %d transcript rows, %d outbox rows.\n", sh.Transcript, sh.Outbox)
	fmt.Fprintf(&b, "\\set pid random(1, %d)\n", people)
	b.WriteString("\\set src random(1, 9000000000000000000)\n")
	b.WriteString("\\startpipeline\nBEGIN;\n")
	b.WriteString(oneLine(floorUpsert) + "\n" + oneLine(floorInput) + "\n" + oneLine(floorLoad) + "\n")
	b.WriteString("\\endpipeline\n\\startpipeline\n")
	fmt.Fprintf(&b, "INSERT INTO conversations (person_id, state, wake_at, updated_at) VALUES (%s, %s, NULL, now()) "+
		"ON CONFLICT (person_id) DO UPDATE SET state = EXCLUDED.state, wake_at = EXCLUDED.wake_at, updated_at = EXCLUDED.updated_at;\n",
		person, bytea(sh.StateBytes))
	for i := range max(sh.Transcript, sh.Outbox) {
		if i < sh.Transcript {
			dir := "out"
			if i == 0 {
				dir = "in"
			}
			fmt.Fprintf(&b, "INSERT INTO transcript (person_id, at, direction, exercise, step, kind, body) "+
				"VALUES (%s, now(), '%s', 'abandonment', 'feel', 'text', %s);\n", person, dir, bytea(sh.BodyBytes))
		}
		if i < sh.Outbox {
			fmt.Fprintf(&b, "INSERT INTO outbox (person_id, chat_id, kind, payload, priority, prompt, not_before, created_at) "+
				"VALUES (%s, :pid, 'message', %s, 0, 0, now(), now());\n", person, bytea(sh.OutboxBytes))
		}
	}
	b.WriteString("UPDATE people SET last_active_at = now(), retention_warned_at = NULL " +
		"WHERE id = " + person + " AND (last_active_at IS NULL OR last_active_at < now() - interval '1 hour' OR retention_warned_at IS NOT NULL);\n")
	b.WriteString("COMMIT;\n\\endpipeline\n")
	return b.String()
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// seedFloor stores the script's people in the floor schema, each with a
// state of the shape's size.
func seedFloor(ctx context.Context, url string, people int, sh turnShape) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("bench: floor: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`TRUNCATE people RESTART IDENTITY CASCADE`, nil},
		{`INSERT INTO people (channel, external_id, chat_id, lang, consent_at, consent_version, data_key, last_active_at)
SELECT 'telegram', g, g, 'nl', now(), '2026-11', decode(repeat('6b', 60), 'hex'), now() FROM generate_series(1, $1::int) g ORDER BY g`, []any{people}},
		{`INSERT INTO conversations (person_id, state, updated_at) SELECT id, decode(repeat('5a', $1::int), 'hex'), now() FROM people`, []any{sh.StateBytes}},
		{`ANALYZE people`, nil},
		{`ANALYZE conversations`, nil},
	} {
		if _, err := conn.Exec(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("bench: floor: seed: %w", err)
		}
	}
	var odd int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM people WHERE id <> external_id`).Scan(&odd); err != nil || odd != 0 {
		return fmt.Errorf("bench: floor: seed: people ids do not match their chat ids (%d, %v)", odd, err)
	}
	return nil
}

// floorResult is what pgbench measured.
type floorResult struct {
	TPS     float64
	Latency time.Duration // pgbench's average
	Failed  int
	Script  string
	Command string
	// ServerCPU is the CPU time of its server processes per transaction
	// (0 when they could not be read).
	ServerCPU time.Duration
	// ClientCPU is pgbench's own CPU time per transaction (the whole run,
	// its short start and end included).
	ClientCPU time.Duration
}

var (
	tpsRE     = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	latencyRE = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
	failedRE  = regexp.MustCompile(`number of failed transactions: (\d+)`)
)

// runFloor runs pgbench with the script at the given concurrency for d.
// When cpu is set, it reads the server processes' CPU time a second into
// the run and half a second before its end, for the CPU per transaction.
func runFloor(ctx context.Context, pgbench, dir, url, script string, clients, threads int, d time.Duration,
	cpu func(context.Context) (time.Duration, bool)) (floorResult, error) {
	path := filepath.Join(dir, "turn.pgbench.sql")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return floorResult{}, fmt.Errorf("bench: floor: %w", err)
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(max(1, min(threads, clients))),
		"-T", strconv.Itoa(secs), "-f", path, addParam(url, "options", "-csearch_path="+floorSchema)}
	cmd := exec.CommandContext(ctx, pgbench, args...)
	cmd.Env = cleanEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	type reading struct {
		cpu time.Duration
		at  time.Time
		ok  bool
	}
	readings := make(chan [2]reading, 1)
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go func() {
		var r [2]reading
		start := time.Now()
		for i, at := range []time.Duration{time.Second, time.Duration(secs)*time.Second - 500*time.Millisecond} {
			t := time.NewTimer(time.Until(start.Add(at)))
			select {
			case <-t.C:
			case <-sctx.Done():
				t.Stop()
				readings <- [2]reading{}
				return
			}
			if cpu != nil {
				r[i].cpu, r[i].ok = cpu(sctx)
			}
			r[i].at = time.Now()
		}
		readings <- r
	}()
	if err := cmd.Run(); err != nil {
		return floorResult{}, fmt.Errorf("bench: pgbench: %w:\n%s", err, out.String())
	}
	res := floorResult{Script: script,
		Command: fmt.Sprintf("pgbench -n -M prepared -c %d -j %d -T %d -f turn.pgbench.sql", clients, max(1, min(threads, clients)), secs)}
	m := tpsRE.FindStringSubmatch(out.String())
	if m == nil {
		return floorResult{}, fmt.Errorf("bench: pgbench printed no tps:\n%s", out.String())
	}
	res.TPS, _ = strconv.ParseFloat(m[1], 64)
	if st := cmd.ProcessState; st != nil && res.TPS > 0 {
		res.ClientCPU = time.Duration(float64(st.UserTime()+st.SystemTime()) / (res.TPS * float64(secs)))
	}
	if m := latencyRE.FindStringSubmatch(out.String()); m != nil {
		ms, _ := strconv.ParseFloat(m[1], 64)
		res.Latency = time.Duration(ms * float64(time.Millisecond))
	}
	if m := failedRE.FindStringSubmatch(out.String()); m != nil {
		res.Failed, _ = strconv.Atoi(m[1])
	}
	if r := <-readings; r[0].ok && r[1].ok && r[1].cpu > r[0].cpu && res.TPS > 0 {
		txns := res.TPS * r[1].at.Sub(r[0].at).Seconds()
		res.ServerCPU = time.Duration(float64(r[1].cpu-r[0].cpu) / txns)
	}
	return res, nil
}
