package reflection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/prompts"
	"github.com/stilstaan/stilstaan/storage"
)

const (
	sqlInsert = `INSERT INTO reflections (person_id, channel, chat_id, token, exercise, step, lang, request, created_at, deadline_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

	// Run inside a turn of the person, so under their row lock: claims of
	// one person never race. SKIP LOCKED also steps over a row a finishing
	// answer turn still holds.
	sqlClaim = `SELECT id, token, request, created_at, deadline_at, claims FROM reflections
WHERE person_id = $1 AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $2)
ORDER BY id
FOR UPDATE SKIP LOCKED`

	sqlLease = `UPDATE reflections SET lease_until = $2, claims = claims + 1 WHERE id = $1`

	sqlRelease = `UPDATE reflections SET lease_until = NULL WHERE id = $1 AND status = 'pending'`

	sqlStatus = `SELECT status FROM reflections WHERE id = $1 AND person_id = $2 FOR UPDATE`

	sqlDone = `UPDATE reflections SET status = 'done', request = ''::bytea, lease_until = NULL, answered_at = $2,
shown = $3, model = $4, prompt_tokens = $5, completion_tokens = $6, latency_ms = $7, fallback_reason = $8
WHERE id = $1`

	// Which people have reflections waiting that no worker holds, most
	// urgent first. It reads no sealed column.
	sqlDue = `SELECT channel, chat_id FROM reflections
WHERE status = 'pending' AND (lease_until IS NULL OR lease_until <= $1)
GROUP BY channel, chat_id
ORDER BY min(deadline_at)
LIMIT $2`
)

// sourcePrefix starts the input source of a reflection's answer turn; the
// row id follows.
const sourcePrefix = "reflect:"

// maxClaims is how often a row is claimed before it is given up: a turn
// that keeps failing must not be retried for ever.
const maxClaims = 5

// errGone means the person no longer exists (they deleted their data): the
// turn is rolled back so that it does not create them again.
var errGone = errors.New("reflection: the person is gone")

// errStale means the reflection was answered (or deleted) already.
var errStale = errors.New("reflection: already answered")

// Source returns the input source of the turn that answers reflection id.
func Source(id int64) string { return sourcePrefix + strconv.FormatInt(id, 10) }

// answerID reads the reflection id from an input source.
func answerID(source string) (int64, bool) {
	rest, ok := strings.CutPrefix(source, sourcePrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

// job is one claimed reflection.
type job struct {
	id       int64
	token    int
	chatID   int64 // where the typing indicator goes
	lang     string
	req      prompts.Request
	badReq   bool // the sealed request could not be read
	created  time.Time
	deadline time.Time
	// superseded: the person moved on (typed again, stopped the exercise)
	// and no longer waits for this reflection.
	superseded bool
}

// outcome is what the model said, or why it was not used.
type outcome struct {
	text             string
	model            string
	promptTokens     int
	completionTokens int
	latency          time.Duration
	asked            bool   // a request was sent (latency is meaningful)
	reason           string // "" when text is the model's reply
	rule             string // the Guard rule of a guard rejection
}

// record writes the row for a reflection the engine asked for in this turn.
func (w *Worker) record(ctx context.Context, t *conversation.Turn) error {
	r := t.Out.Reflect
	req := prompts.Request{Exercise: r.Exercise, Step: r.Step, Lang: r.Lang, Question: r.Question, Answer: r.Answer}
	for _, qa := range r.Earlier {
		req.Earlier = append(req.Earlier, prompts.QA{Question: qa.Question, Answer: qa.Answer})
	}
	raw, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("reflection: record: encode: %w", err)
	}
	sealed, err := t.Tx.Seal(raw)
	if err != nil {
		return fmt.Errorf("reflection: record: %w", err)
	}
	lang := r.Lang
	if lang == "" {
		lang = t.Lang()
	}
	created := t.Tx.Now()
	if err := t.Tx.Exec(ctx, sqlInsert, t.Tx.Person().ID, t.In.Channel, t.In.ChatID, r.Token, r.Exercise, r.Step,
		lang, sealed, created, created.Add(w.timeout)); err != nil {
		return fmt.Errorf("reflection: record: %w", err)
	}
	w.signal(storage.PersonKey{Channel: t.In.Channel, ExternalID: t.In.ChatID})
	return nil
}

// claim leases the person's pending reflections that no worker holds, in
// the order they were asked for, and opens their requests. It runs as a
// turn of the person, so it waits for the turn that wrote a row to commit.
func (w *Worker) claim(ctx context.Context, key storage.PersonKey) ([]job, error) {
	var jobs []job
	_, err := w.db.Turn(ctx, key, "", func(tx *storage.Tx) error {
		jobs = nil
		if tx.New() {
			return errGone
		}
		now := tx.Now()
		token, known := awaiting(tx.State())
		type row struct {
			id                int64
			token, claims     int
			request           []byte
			created, deadline time.Time
		}
		var rows []row
		err := tx.Query(sqlClaim, []any{tx.Person().ID, now}, func(r storage.Row) error {
			var x row
			if err := r.Scan(&x.id, &x.token, &x.request, &x.created, &x.deadline, &x.claims); err != nil {
				return err
			}
			rows = append(rows, x)
			return nil
		})
		if err != nil {
			return err
		}
		for _, x := range rows {
			if x.claims >= maxClaims {
				// Its answer turn failed every time; the person's next
				// message finishes the step with the scripted text.
				if err := tx.Exec(ctx, sqlDone, x.id, now, false, "", 0, 0, nil, ReasonGaveUp); err != nil {
					return err
				}
				w.log.WarnContext(ctx, "reflection: given up after repeated failures", "reflection_id", x.id, "claims", x.claims)
				continue
			}
			j := job{id: x.id, token: x.token, chatID: tx.Person().ChatID, created: x.created, deadline: x.deadline,
				superseded: known && token != x.token}
			if raw, err := tx.Open(x.request); err != nil || json.Unmarshal(raw, &j.req) != nil {
				j.badReq = true
			}
			j.lang = j.req.Lang
			if err := tx.Exec(ctx, sqlLease, x.id, later(x.deadline, now).Add(w.grace)); err != nil {
				return err
			}
			jobs = append(jobs, j)
		}
		return nil
	})
	if errors.Is(err, errGone) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reflection: claim: %w", err)
	}
	return jobs, nil
}

// release gives a claimed row back, so that the next worker (after a
// restart) answers it at once instead of when the lease runs out. It runs
// even when ctx is done, briefly.
func (w *Worker) release(ctx context.Context, key storage.PersonKey, id int64) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_, err := w.db.Turn(rctx, key, "", func(tx *storage.Tx) error {
		if tx.New() {
			return errGone
		}
		return tx.Exec(rctx, sqlRelease, id)
	})
	if err != nil && !errors.Is(err, errGone) {
		w.log.WarnContext(rctx, "reflection: release", "reflection_id", id, "error", err)
	}
}

// markAnswered runs in the answer turn of reflection id: it marks the row
// done with what the model cost, and tells the coach side about a guard
// rejection. A row that is gone or done already rolls the turn back.
func (w *Worker) markAnswered(ctx context.Context, t *conversation.Turn, id int64) error {
	var status string
	err := t.Tx.QueryRow(sqlStatus, id, t.Tx.Person().ID).Scan(&status)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && status != "pending") {
		return errStale
	}
	if err != nil {
		return fmt.Errorf("reflection: answer %d: %w", id, err)
	}
	o, _ := w.outcomes.Load(id)
	out, ok := o.(outcome)
	if !ok {
		// Only a worker runs these turns, and it stores the outcome first.
		return fmt.Errorf("reflection: answer %d: no outcome in this process", id)
	}
	var latency *int64
	if out.asked {
		ms := out.latency.Milliseconds()
		latency = &ms
	}
	shown := len(t.Out.Messages) > 0
	if err := t.Tx.Exec(ctx, sqlDone, id, t.Tx.Now(), shown, out.model, out.promptTokens, out.completionTokens,
		latency, out.reason); err != nil {
		return fmt.Errorf("reflection: answer %d: %w", id, err)
	}
	if out.rule != "" && w.onRejected != nil {
		if err := w.onRejected(ctx, t, out.rule); err != nil {
			return fmt.Errorf("reflection: answer %d: on rejected: %w", id, err)
		}
	}
	return nil
}

// awaiting returns the reflection token the conversation waits for, 0 when
// it waits for none (no exercise, stopped, or the person moved on); known is
// false when the state cannot be read, and then the engine decides. The
// state is the engine's JSON (dialogs.State).
func awaiting(state []byte) (token int, known bool) {
	if len(state) == 0 {
		return 0, true
	}
	var st dialogs.State
	if err := json.Unmarshal(state, &st); err != nil {
		return 0, false
	}
	if st.Run == nil || st.Run.Stopped {
		return 0, true
	}
	return st.Run.Awaiting, true
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
