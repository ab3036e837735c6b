package care_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/care"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/safety"
	"github.com/stilstaan/stilstaan/storage"
	"github.com/stilstaan/stilstaan/storage/storagetest"
)

const coachID = 900001

type env struct {
	t    *testing.T
	db   *storage.DB
	svc  *conversation.Service
	care *care.Care
	now  time.Time
}

func newEnv(t *testing.T, coaches ...care.Coach) *env {
	t.Helper()
	e := &env{t: t, now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return e.now }
	e.db = storagetest.New(t, storage.WithClock(clock))
	c, err := care.New(e.db, care.Config{Coaches: coaches, DashboardURL: "https://coach.example", PseudonymKey: []byte("k")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.care = c
	lib, err := dialogs.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	engine := dialogs.NewEngine(lib, dialogs.WithElevated(c.Elevated))
	e.svc = conversation.New(e.db, engine, conversation.WithClock(clock),
		conversation.WithScreener(c.Screen), conversation.WithHook(c.Hook))
	return e
}

var chatSeq int64 = 1000

// person is one simulated Telegram chat.
type person struct {
	e      *env
	chat   int64
	id     int64
	prompt int
}

func (e *env) person(lang string, consent bool) *person {
	chatSeq++
	p := &person{e: e, chat: chatSeq}
	p.do(dialogs.Input{Kind: dialogs.InputCommand, Command: "start", LangHint: lang})
	if consent {
		p.do(dialogs.Input{Kind: dialogs.InputButton, Data: fmt.Sprintf("%d.c:y", p.prompt)})
	} else {
		p.do(dialogs.Input{Kind: dialogs.InputButton, Data: fmt.Sprintf("%d.c:n", p.prompt)})
	}
	return p
}

func (p *person) do(in dialogs.Input) []conversation.Envelope {
	p.e.t.Helper()
	res, err := p.e.svc.Handle(context.Background(), conversation.Incoming{Channel: "telegram", ChatID: p.chat, Input: in})
	if err != nil {
		p.e.t.Fatal(err)
	}
	p.id = res.PersonID
	msgs, err := p.e.db.PendingFor(context.Background(), p.id)
	if err != nil {
		p.e.t.Fatal(err)
	}
	var out []conversation.Envelope
	for _, m := range msgs {
		env, err := conversation.DecodeEnvelope(m.Payload)
		if err != nil {
			p.e.t.Fatal(err)
		}
		if m.Kind == conversation.KindMessage && env.Prompt > 0 {
			p.prompt = env.Prompt
		}
		if err := p.e.db.MarkSent(context.Background(), m.ID, 1); err != nil {
			p.e.t.Fatal(err)
		}
		out = append(out, env)
	}
	return out
}

func (p *person) text(s string) []conversation.Envelope {
	return p.do(dialogs.Input{Kind: dialogs.InputText, Text: s})
}

func (p *person) press(action string) []conversation.Envelope {
	return p.do(dialogs.Input{Kind: dialogs.InputButton, Data: fmt.Sprintf("%d.%s", p.prompt, action)})
}

type flagRow struct {
	level, category, rule, exercise, step, runState string
	hasTranscript                                   bool
	announced                                       int
}

func (e *env) flags(personID int64) []flagRow {
	e.t.Helper()
	rows, err := e.db.Pool().Query(context.Background(), `SELECT level, category, rule, exercise, step, run_state, transcript_id IS NOT NULL, announcements FROM flags WHERE person_id = $1 ORDER BY id`, personID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []flagRow
	for rows.Next() {
		var f flagRow
		if err := rows.Scan(&f.level, &f.category, &f.rule, &f.exercise, &f.step, &f.runState, &f.hasTranscript, &f.announced); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// coachMessages returns what is queued for the coach.
func (e *env) coachMessages() []string {
	e.t.Helper()
	p, err := e.db.FindPerson(context.Background(), storage.PersonKey{Channel: "telegram", ExternalID: coachID})
	if err != nil {
		return nil
	}
	msgs, err := e.db.PendingFor(context.Background(), p.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		var env conversation.Envelope
		if err := json.Unmarshal(m.Payload, &env); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, env.Text)
	}
	return out
}

func TestCrisisMidExerciseStopsAndFlags(t *testing.T) {
	tests := []struct {
		lang, crisis, replyHas string
	}{
		{"nl", "Ik wil er niet meer zijn, iedereen is beter af zonder mij", "113"},
		{"en", "I want to kill myself tonight", "findahelpline.com"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			e := newEnv(t, care.Coach{ID: coachID, Name: "Sam"})
			p := e.person(tt.lang, true)
			p.press("x:abandonment")
			out := p.text(tt.crisis)
			if len(out) == 0 {
				t.Fatal("no reply")
			}
			want := safety.AcuteReply(tt.lang, safety.DefaultHelplines(), true)
			first := out[0]
			if first.Text == "" { // the removed keyboard of the question comes as an edit, then the reply
				first = out[1]
			}
			if first.Text != want || !strings.Contains(first.Text, tt.replyHas) {
				t.Fatalf("first message %q, want the acute reply", first.Text)
			}
			// the exercise stopped and cannot be resumed
			resumed := p.do(dialogs.Input{Kind: dialogs.InputCommand, Command: "resume"})
			for _, m := range resumed {
				if strings.Contains(m.Text, "Wat gebeurt er") || strings.Contains(m.Text, "What is happening") {
					t.Fatalf("the exercise continued after a crisis: %q", m.Text)
				}
			}
			flags := e.flags(p.id)
			if len(flags) != 1 || flags[0].level != "acute" || flags[0].exercise != "abandonment" || flags[0].step != "what" || !flags[0].hasTranscript || flags[0].announced != 1 {
				t.Fatalf("flags %+v", flags)
			}
			alerts := e.coachMessages()
			if len(alerts) != 1 {
				t.Fatalf("coach alerts %q", alerts)
			}
			if strings.Contains(alerts[0], tt.crisis) || strings.Contains(strings.ToLower(alerts[0]), "zonder mij") || strings.Contains(alerts[0], "kill") {
				t.Fatalf("the alert holds the person's words: %q", alerts[0])
			}
			if !strings.Contains(alerts[0], "https://coach.example/flags/") || !strings.Contains(alerts[0], care.Pseudonym([]byte("k"), p.id)) {
				t.Errorf("alert lacks link or pseudonym: %q", alerts[0])
			}
		})
	}
}

func TestSafetyReplyGoesFirst(t *testing.T) {
	e := newEnv(t)
	p := e.person("nl", true)
	// a scheduled message is already waiting for this chat
	_, err := e.db.Turn(context.Background(), storage.PersonKey{Channel: "telegram", ExternalID: p.chat}, "", func(tx *storage.Tx) error {
		tx.Enqueue(storage.Outgoing{Kind: "message", Payload: []byte(`{"text":"check-in"}`), Priority: conversation.PriorityScheduled})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Handle(context.Background(), conversation.Incoming{Channel: "telegram", ChatID: p.chat,
		Input: dialogs.Input{Kind: dialogs.InputText, Text: "ik heb pillen gespaard om er een eind aan te maken"}}); err != nil {
		t.Fatal(err)
	}
	var prio int
	if err := e.db.Pool().QueryRow(context.Background(), `SELECT priority FROM outbox WHERE person_id = $1 AND status = 'pending' ORDER BY priority, id LIMIT 1`, p.id).Scan(&prio); err != nil {
		t.Fatal(err)
	}
	if prio != conversation.PrioritySafety {
		t.Fatalf("the first pending message has priority %d, want the safety reply (%d)", prio, conversation.PrioritySafety)
	}
}

func TestNoConsentNoAlert(t *testing.T) {
	e := newEnv(t, care.Coach{ID: coachID, Name: "Sam"})
	p := e.person("nl", false)
	out := p.text("ik wil dood")
	if len(out) == 0 || out[len(out)-1].Text != safety.AcuteReply("nl", safety.DefaultHelplines(), false) {
		t.Fatalf("reply %+v", out)
	}
	if f := e.flags(p.id); len(f) != 1 || f[0].announced != 0 {
		t.Fatalf("flags %+v", f)
	}
	if a := e.coachMessages(); len(a) != 0 {
		t.Fatalf("a coach was alerted without consent: %q", a)
	}
}

func TestElevatedKeepsAnswerAndAsks(t *testing.T) {
	e := newEnv(t, care.Coach{ID: coachID})
	p := e.person("nl", true)
	p.press("x:abandonment")
	out := p.text("Ik trek het echt niet meer, hij reageert al dagen niet")
	found := false
	for _, m := range out {
		if m.Text == safety.ElevatedReply("nl", safety.DefaultHelplines()) && len(m.Buttons) == 3 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no concern message: %+v", out)
	}
	if f := e.flags(p.id); len(f) != 1 || f[0].level != "elevated" {
		t.Fatalf("flags %+v", f)
	}
	next := p.press("k")
	if len(next) == 0 || !strings.Contains(next[len(next)-1].Text, "Zet je voeten op de grond") {
		t.Fatalf("going on did not continue: %+v", next)
	}
}

func TestBotQuestionAndHumanRequest(t *testing.T) {
	e := newEnv(t, care.Coach{ID: coachID})
	p := e.person("nl", true)
	if out := p.text("ben je een mens?"); len(out) != 1 || out[0].Text != safety.BotAnswer("nl") {
		t.Fatalf("bot question: %+v", out)
	}
	if f := e.flags(p.id); len(f) != 0 {
		t.Fatalf("a bot question raised a flag: %+v", f)
	}
	if out := p.text("ik wil met iemand praten"); len(out) != 1 || out[0].Text != safety.HumanRequestReply("nl", true) {
		t.Fatalf("human request: %+v", out)
	}
	if f := e.flags(p.id); len(f) != 1 || f[0].level != "low" || f[0].category != "human_request" {
		t.Fatalf("flags %+v", f)
	}
}

func TestRepeatedHighIntensityIsElevated(t *testing.T) {
	e := newEnv(t)
	p := e.person("nl", true)
	p.press("x:abandonment")
	p.press("s") // what
	p.press("w") // pause
	p.press("o:fear")
	p.press("d")   // feelings done
	p.press("o:9") // before
	p.press("o:chest")
	p.press("w") // stay
	p.press("s") // age
	p.press("s") // adult voice
	out := p.press("o:10")
	if f := e.flags(p.id); len(f) != 1 || f[0].rule != "intensity.repeated_high" || f[0].level != "elevated" {
		t.Fatalf("flags %+v (out %+v)", f, out)
	}
}

func TestDeclinedHelpGetsOneFollowUp(t *testing.T) {
	e := newEnv(t)
	p := e.person("en", true)
	p.text("I have a goodbye letter ready")
	p.press("p") // pause instead of grounding: declines
	if n, err := e.care.FollowUps(context.Background(), e.now.Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("follow-up too early: %d %v", n, err)
	}
	later := e.now.Add(21 * time.Hour)
	if n, err := e.care.FollowUps(context.Background(), later); err != nil || n != 1 {
		t.Fatalf("follow-ups = %d, %v; want 1", n, err)
	}
	if n, err := e.care.FollowUps(context.Background(), later.Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("second run sent %d more", n)
	}
	msgs, err := e.db.PendingFor(context.Background(), p.id)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Priority != conversation.PriorityScheduled {
		t.Fatalf("pending %+v", msgs)
	}
	env, _ := conversation.DecodeEnvelope(msgs[0].Payload)
	if env.Text != safety.DeclinedFollowUp("en", safety.DefaultHelplines()) {
		t.Fatalf("follow-up text %q", env.Text)
	}
}

func TestReannounceOpenAcuteFlags(t *testing.T) {
	e := newEnv(t, care.Coach{ID: coachID})
	p := e.person("nl", true)
	p.text("hij slaat me en ik ben bang dat hij me iets aandoet")
	if a := e.coachMessages(); len(a) != 1 {
		t.Fatalf("alerts %q", a)
	}
	if n, _ := e.care.Reannounce(context.Background(), e.now.Add(11*time.Hour)); n != 0 {
		t.Fatalf("re-announced after 11h: %d", n)
	}
	if n, err := e.care.Reannounce(context.Background(), e.now.Add(13*time.Hour)); err != nil || n != 1 {
		t.Fatalf("reannounce = %d, %v", n, err)
	}
	if n, _ := e.care.Reannounce(context.Background(), e.now.Add(14*time.Hour)); n != 0 {
		t.Fatalf("re-announced twice within the window: %d", n)
	}
	if a := e.coachMessages(); len(a) != 2 {
		t.Fatalf("alerts %q", a)
	}
	if _, err := e.db.Pool().Exec(context.Background(), `UPDATE flags SET status = 'reviewed'`); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.care.Reannounce(context.Background(), e.now.Add(48*time.Hour)); n != 0 {
		t.Fatalf("re-announced a reviewed flag: %d", n)
	}
}
