package privacy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/storage"
)

// ExportFormat names the layout of the JSON export.
const ExportFormat = "stilstaan-export/1"

// Export is everything stored about one person, opened. It is what /export
// sends as JSON.
type Export struct {
	Format     string          `json:"format"`
	ExportedAt time.Time       `json:"exported_at"`
	Person     ExportPerson    `json:"person"`
	Consent    ExportConsent   `json:"consent"`
	State      json.RawMessage `json:"state"`
	// Current is the exercise in progress (or stopped, to be resumed), with
	// the answers kept in the conversation state.
	Current *ExportRun `json:"current_exercise,omitempty"`
	// Exercises are the answers found in the transcript, one entry per run.
	Exercises  []ExportRun     `json:"exercises"`
	Transcript []ExportEntry   `json:"transcript"`
	Messages   []ExportMessage `json:"messages_to_you"`
	Inputs     []ExportInput   `json:"inputs"`
	// Other holds the rows of every other table about the person (check-ins,
	// flags, coach notes, ... as far as they exist in this database), by
	// table. Sealed columns are opened with the person's key.
	Other []ExportTable `json:"other_tables"`
}

// ExportPerson is the person's row.
type ExportPerson struct {
	ID              int64      `json:"id"`
	Channel         string     `json:"channel"`
	ExternalID      int64      `json:"external_id"`
	ChatID          int64      `json:"chat_id"`
	Lang            string     `json:"lang"`
	Active          bool       `json:"active"`
	CreatedAt       time.Time  `json:"created_at"`
	LastSeenAt      time.Time  `json:"last_seen_at"`
	LastActiveAt    *time.Time `json:"last_active_at"`
	RetentionWarned *time.Time `json:"retention_warned_at"`
}

// ExportConsent is the current consent and its history.
type ExportConsent struct {
	Given   bool                 `json:"given"`
	At      *time.Time           `json:"at"`
	Version string               `json:"version"`
	History []ExportConsentEvent `json:"history"`
}

// ExportConsentEvent is one change of consent.
type ExportConsentEvent struct {
	At      time.Time `json:"at"`
	Given   bool      `json:"given"`
	Version string    `json:"version"`
}

// ExportRun is one exercise with its answers.
type ExportRun struct {
	Exercise  string         `json:"exercise"`
	Title     string         `json:"title,omitempty"`
	StartedAt *time.Time     `json:"started_at,omitempty"`
	Answers   []ExportAnswer `json:"answers"`
}

// ExportAnswer is the answer to one step.
type ExportAnswer struct {
	At       *time.Time `json:"at,omitempty"`
	Step     string     `json:"step"`
	Question string     `json:"question,omitempty"`
	Answer   string     `json:"answer"`
	Kind     string     `json:"kind,omitempty"`
	Options  []string   `json:"options,omitempty"`
	Value    *int       `json:"value,omitempty"`
	Skipped  bool       `json:"skipped,omitempty"`
	Withheld bool       `json:"withheld,omitempty"`
}

// ExportEntry is one transcript line.
type ExportEntry struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Direction string    `json:"direction"`
	Exercise  string    `json:"exercise,omitempty"`
	Step      string    `json:"step,omitempty"`
	Kind      string    `json:"kind,omitempty"`
	Text      string    `json:"text"`
}

// ExportMessage is a message in the outbox (sent or still to send). Files
// are named, not repeated (an earlier export would otherwise nest).
type ExportMessage struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	Text      string     `json:"text,omitempty"`
	FileName  string     `json:"file_name,omitempty"`
}

// ExportInput is an input recorded for exactly-once processing.
type ExportInput struct {
	Source      string    `json:"source"`
	ProcessedAt time.Time `json:"processed_at"`
}

// ExportTable is the rows of one further table about the person.
type ExportTable struct {
	Table string           `json:"table"`
	Rows  []map[string]any `json:"rows"`
}

// export builds the export inside the turn and queues it: a short message,
// then the readable .txt and the .json as documents. Everything is sealed in
// the outbox like any other message.
func (p *Privacy) export(ctx context.Context, t *conversation.Turn) error {
	x, err := p.collect(t)
	if err != nil {
		return err
	}
	lang := t.Lang()
	js, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return fmt.Errorf("privacy: export: %w", err)
	}
	txt := renderText(x, lang, p.loc)
	day := t.Now.In(p.loc).Format("2006-01-02")
	if err := t.Send(conversation.Envelope{Text: text("export.sent", lang)}, t.In.Priority); err != nil {
		return err
	}
	for _, doc := range []conversation.Envelope{
		{File: []byte(txt), FileName: "stilstaan-" + day + ".txt"},
		{File: js, FileName: "stilstaan-" + day + ".json"},
	} {
		payload, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("privacy: export: %w", err)
		}
		t.Tx.Enqueue(storage.Outgoing{Kind: conversation.KindDocument, Payload: payload, Priority: t.In.Priority})
	}
	p.log.InfoContext(ctx, "privacy: export queued", slog.Int64("person_id", x.Person.ID),
		slog.Int("transcript_entries", len(x.Transcript)), slog.Int("json_bytes", len(js)))
	return nil
}

// collect reads everything about the person of the turn, under the turn's
// lock, and opens what is sealed.
func (p *Privacy) collect(t *conversation.Turn) (*Export, error) {
	person := t.Tx.Person()
	lang := t.Lang()
	x := &Export{Format: ExportFormat, ExportedAt: t.Now,
		Person: ExportPerson{ID: person.ID, Channel: person.Channel, ExternalID: person.ExternalID, ChatID: person.ChatID,
			Lang: person.Lang, Active: person.Active, CreatedAt: person.CreatedAt, LastSeenAt: person.LastSeenAt},
		Consent:    ExportConsent{Given: person.ConsentAt != nil, At: person.ConsentAt, Version: person.ConsentVersion},
		State:      json.RawMessage("null"),
		Exercises:  []ExportRun{},
		Transcript: []ExportEntry{},
		Messages:   []ExportMessage{},
		Inputs:     []ExportInput{},
		Other:      []ExportTable{},
	}
	fail := func(what string, err error) (*Export, error) {
		return nil, fmt.Errorf("privacy: export: %s: %w", what, err)
	}
	if err := t.Tx.QueryRow(`SELECT last_active_at, retention_warned_at FROM people WHERE id = $1`, person.ID).
		Scan(&x.Person.LastActiveAt, &x.Person.RetentionWarned); err != nil {
		return fail("person", err)
	}
	if raw := t.Tx.State(); len(raw) > 0 && json.Valid(raw) {
		x.State = slices.Clone(raw)
	}
	x.Current = p.currentRun(t.Before, lang)

	err := t.Tx.Query(`SELECT at, given, version FROM consent_events WHERE person_id = $1 ORDER BY id`, []any{person.ID},
		func(r storage.Row) error {
			var e ExportConsentEvent
			if err := r.Scan(&e.At, &e.Given, &e.Version); err != nil {
				return err
			}
			x.Consent.History = append(x.Consent.History, e)
			return nil
		})
	if err != nil {
		return fail("consent history", err)
	}
	err = t.Tx.Query(`SELECT id, at, direction, exercise, step, kind, body FROM transcript WHERE person_id = $1 ORDER BY id`,
		[]any{person.ID}, func(r storage.Row) error {
			var e ExportEntry
			var body []byte
			if err := r.Scan(&e.ID, &e.At, &e.Direction, &e.Exercise, &e.Step, &e.Kind, &body); err != nil {
				return err
			}
			plain, err := t.Tx.Open(body)
			if err != nil {
				return fmt.Errorf("entry %d: %w", e.ID, err)
			}
			e.Text = string(plain)
			x.Transcript = append(x.Transcript, e)
			return nil
		})
	if err != nil {
		return fail("transcript", err)
	}
	x.Exercises = p.runsFromTranscript(x.Transcript, lang)

	err = t.Tx.Query(`SELECT id, kind, status, created_at, sent_at, payload FROM outbox WHERE person_id = $1 ORDER BY id`,
		[]any{person.ID}, func(r storage.Row) error {
			var m ExportMessage
			var payload []byte
			if err := r.Scan(&m.ID, &m.Kind, &m.Status, &m.CreatedAt, &m.SentAt, &payload); err != nil {
				return err
			}
			plain, err := t.Tx.Open(payload)
			if err != nil {
				return fmt.Errorf("message %d: %w", m.ID, err)
			}
			if env, err := conversation.DecodeEnvelope(plain); err == nil {
				m.Text, m.FileName = env.Text, env.FileName
			}
			x.Messages = append(x.Messages, m)
			return nil
		})
	if err != nil {
		return fail("outbox", err)
	}
	err = t.Tx.Query(`SELECT source, processed_at FROM inputs WHERE person_id = $1 ORDER BY processed_at, source`,
		[]any{person.ID}, func(r storage.Row) error {
			var in ExportInput
			if err := r.Scan(&in.Source, &in.ProcessedAt); err != nil {
				return err
			}
			x.Inputs = append(x.Inputs, in)
			return nil
		})
	if err != nil {
		return fail("inputs", err)
	}
	if x.Other, err = otherTables(t, person.ID); err != nil {
		return fail("other tables", err)
	}
	return x, nil
}

// handled are the tables collect reads itself, and privacy_tokens, whose
// hashes are of no use to anyone.
var handled = map[string]bool{
	"people": true, "conversations": true, "transcript": true, "outbox": true, "inputs": true,
	"consent_events": true, "privacy_tokens": true,
}

// otherTables exports the rows of every other table with a foreign key to
// people, found in the catalog at run time: tables of features added later
// (check-ins, flags, coach notes, reflections, ...) are exported without a
// change here. bytea columns are opened with the person's key; those that do
// not open are marked unreadable.
func otherTables(t *conversation.Turn, personID int64) ([]ExportTable, error) {
	type ref struct{ table, column string }
	var refs []ref
	err := t.Tx.Query(`SELECT c.conrelid::regclass::text, a.attname
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND c.confrelid = to_regclass('people') AND cardinality(c.conkey) = 1
ORDER BY 1, 2`, nil, func(r storage.Row) error {
		var f ref
		if err := r.Scan(&f.table, &f.column); err != nil {
			return err
		}
		if !handled[f.table] {
			refs = append(refs, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := []ExportTable{}
	for _, f := range refs {
		var sealed []string
		hasID := false
		err := t.Tx.Query(`SELECT attname, atttypid = 'bytea'::regtype FROM pg_attribute
WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
			[]any{f.table}, func(r storage.Row) error {
				var name string
				var blob bool
				if err := r.Scan(&name, &blob); err != nil {
					return err
				}
				if blob {
					sealed = append(sealed, name)
				}
				hasID = hasID || name == "id"
				return nil
			})
		if err != nil {
			return nil, err
		}
		order := "to_jsonb(x)::text"
		if hasID {
			order = "x.id"
		}
		// f.table comes from regclass::text, which quotes as needed.
		sql := `SELECT to_jsonb(x)` + sqlList(sealed, func(c string) string { return ", x." + quoteIdent(c) }) +
			` FROM ` + f.table + ` x WHERE x.` + quoteIdent(f.column) + ` = $1 ORDER BY ` + order
		tbl := ExportTable{Table: f.table, Rows: []map[string]any{}}
		err = t.Tx.Query(sql, []any{personID}, func(r storage.Row) error {
			var row []byte
			blobs := make([][]byte, len(sealed))
			dest := []any{&row}
			for i := range blobs {
				dest = append(dest, &blobs[i])
			}
			if err := r.Scan(dest...); err != nil {
				return err
			}
			m := map[string]any{}
			if err := json.Unmarshal(row, &m); err != nil {
				return err
			}
			for i, c := range sealed {
				m[c] = openColumn(t.Tx, blobs[i])
			}
			tbl.Rows = append(tbl.Rows, m)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.table, err)
		}
		out = append(out, tbl)
	}
	return out, nil
}

// openColumn opens a bytea value of another table with the person's key.
func openColumn(tx *storage.Tx, b []byte) any {
	if b == nil {
		return nil
	}
	if len(b) == 0 {
		return ""
	}
	plain, err := tx.Open(b)
	if err != nil {
		return map[string]any{"unreadable": true, "bytes": len(b)}
	}
	if json.Valid(plain) {
		return json.RawMessage(plain)
	}
	if utf8.Valid(plain) {
		return string(plain)
	}
	return map[string]any{"base64": base64.StdEncoding.EncodeToString(plain)}
}

func sqlList(items []string, f func(string) string) string {
	var b strings.Builder
	for _, s := range items {
		b.WriteString(f(s))
	}
	return b.String()
}

// quoteIdent quotes a column name for SQL.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// currentRun lists the answers of the exercise in the conversation state.
func (p *Privacy) currentRun(st dialogs.State, lang string) *ExportRun {
	r := st.Run
	if r == nil {
		return nil
	}
	run := &ExportRun{Exercise: r.Exercise, Answers: []ExportAnswer{}}
	if !r.StartedAt.IsZero() {
		at := r.StartedAt
		run.StartedAt = &at
	}
	var script *dialogs.Script
	if p.lib != nil {
		if s, ok := p.lib.Script(r.Exercise); ok {
			script = s
			run.Title = s.Title.In(lang)
		}
	}
	// In the script's order when the script is known, else by step id.
	var steps []string
	if script != nil {
		for _, s := range script.Steps {
			if _, ok := r.Answers[s.ID]; ok {
				steps = append(steps, s.ID)
			}
		}
	}
	if len(steps) != len(r.Answers) {
		steps = steps[:0]
		for id := range r.Answers {
			steps = append(steps, id)
		}
		sort.Strings(steps)
	}
	for _, id := range steps {
		a := r.Answers[id]
		ans := ExportAnswer{Step: id, Answer: a.Text, Options: a.Options, Value: a.Value, Skipped: a.Skipped, Withheld: a.Withheld}
		if script != nil {
			if s, ok := script.StepByID(id); ok {
				ans.Question, ans.Kind = s.Say.In(lang), s.Kind
				if len(a.Options) > 0 {
					var labels []string
					for _, o := range a.Options {
						if opt, ok := s.Option(o); ok {
							labels = append(labels, opt.Label.In(lang))
						} else {
							labels = append(labels, o)
						}
					}
					ans.Answer = strings.Join(labels, ", ")
				}
			}
		}
		if ans.Answer == "" && a.Value != nil {
			ans.Answer = fmt.Sprint(*a.Value)
		}
		if ans.Answer == "" && len(a.Options) > 0 {
			ans.Answer = strings.Join(a.Options, ", ")
		}
		run.Answers = append(run.Answers, ans)
	}
	return run
}

// runsFromTranscript groups the person's answers in the transcript into
// exercise runs. The question is the last message the bot sent in that
// exercise before the answer: what the person actually saw. A run ends when
// another exercise starts or a step is answered a second time.
func (p *Privacy) runsFromTranscript(entries []ExportEntry, lang string) []ExportRun {
	runs := []ExportRun{}
	var cur *ExportRun
	seen := map[string]bool{}
	lastOut := map[string]string{} // exercise -> last bot message in it
	for _, e := range entries {
		if e.Direction == "out" && e.Exercise != "" {
			lastOut[e.Exercise] = e.Text
		}
		if e.Direction != "in" || e.Exercise == "" || e.Step == "" {
			continue
		}
		if cur == nil || cur.Exercise != e.Exercise || seen[e.Step] {
			runs = append(runs, ExportRun{Exercise: e.Exercise, Title: p.title(e.Exercise, lang), Answers: []ExportAnswer{}})
			cur = &runs[len(runs)-1]
			at := e.At
			cur.StartedAt = &at
			seen = map[string]bool{}
		}
		seen[e.Step] = true
		at := e.At
		ans := ExportAnswer{At: &at, Step: e.Step, Question: lastOut[e.Exercise], Answer: e.Text, Kind: e.Kind}
		if e.Kind == "withheld" {
			ans.Withheld = true
		}
		cur.Answers = append(cur.Answers, ans)
	}
	return runs
}

func (p *Privacy) title(exercise, lang string) string {
	if p.lib != nil {
		if s, ok := p.lib.Script(exercise); ok {
			return s.Title.In(lang)
		}
	}
	return ""
}
