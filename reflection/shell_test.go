package reflection_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/llm/llmtest"
	"github.com/stilstaan/stilstaan/shell"
)

// pipe runs a shell session with lines on stdin and returns what it printed.
func (e *env) pipe(t *testing.T, ctx context.Context, user string, withWorker bool, lines ...string) string {
	t.Helper()
	var out bytes.Buffer
	o := shell.Options{
		In: strings.NewReader(strings.Join(lines, "\n") + "\n"), Out: &out, User: user, LangHint: "nl",
		Service: e.svc, DB: e.db, FileDir: t.TempDir(),
	}
	if withWorker {
		o.AfterTurn = e.w.AnswerNow
	}
	if err := shell.Run(ctx, o); err != nil {
		t.Fatalf("shell: %v\n%s", err, out.String())
	}
	return out.String()
}

// shellLines give consent, pick exercise 1 and answer its first question.
var shellLines = []string{"ja", "1", "Hij appt al de hele dag niet terug."}

func checkShellOrder(t *testing.T, out, reflection string) {
	t.Helper()
	q, r, n := strings.Index(out, questionWhat), strings.Index(out, reflection), strings.Index(out, nextGround)
	if q < 0 || r < 0 || n < 0 || !(q < r && r < n) {
		t.Errorf("want question (%d) < reflection (%d) < next step (%d):\n%s", q, r, n, out)
	}
	if c := strings.Count(out, reflection); c != 1 {
		t.Errorf("the reflection was printed %d times, want once:\n%s", c, out)
	}
}

func TestShellWithoutLLMGivesScriptedReflections(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e := newEnv(t, envOptions{llmOff: true})
	out := e.pipe(t, ctx, "noor", false, shellLines...)
	checkShellOrder(t, out, scriptedWhat)
	var n int
	if err := e.db.Pool().QueryRow(ctx, `SELECT count(*) FROM reflections`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 || e.srv.Calls() != 0 {
		t.Errorf("%d reflections rows and %d requests with the LLM off, want none", n, e.srv.Calls())
	}
	for _, word := range []string{"LLM", "taalmodel", "language model"} {
		if strings.Contains(out, word) {
			t.Errorf("the shell mentions %q with the LLM off:\n%s", word, out)
		}
	}
}

func TestShellShowsTheReply(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e := newEnv(t, envOptions{}, llmtest.Reply(modelReply))
	out := e.pipe(t, ctx, "sam", true, shellLines...)
	checkShellOrder(t, out, modelReply)
	if strings.Contains(out, scriptedWhat) {
		t.Errorf("the scripted reflection was printed as well:\n%s", out)
	}
}

func TestShellNeverHangsPastTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const timeout = 300 * time.Millisecond
	e := newEnv(t, envOptions{timeout: timeout}, llmtest.Hang())
	start := time.Now()
	out := e.pipe(t, ctx, "lot", true, append(shellLines, "/quit")...)
	checkShellOrder(t, out, scriptedWhat)
	// Onboarding and the exercise take a few turns; the wait for the model
	// is the only slow part and is capped by the deadline.
	if took := time.Since(start); took > timeout+3*time.Second {
		t.Errorf("the session took %s", took)
	}
	if e.srv.Calls() != 1 {
		t.Errorf("%d requests, want 1", e.srv.Calls())
	}
}
