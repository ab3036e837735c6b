package reflection_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/llm"
	"github.com/stilstaan/stilstaan/llm/llmtest"
	"github.com/stilstaan/stilstaan/prompts"
	"github.com/stilstaan/stilstaan/reflection"
)

func TestReplyReachesThePerson(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e := newEnv(t, envOptions{}, llmtest.Response{Text: modelReply, PromptTokens: 412, CompletionTokens: 38})
	e.start(t)

	const chatID = 1001
	e.reachWhat(t, ctx, chatID)
	answer := "Hij appt al de hele dag niet terug. Mail me op anna.devries@example.com of bel 06-12345678."
	res := e.answer(t, ctx, chatID, answer)
	if res.Reflect == nil {
		t.Fatal("the answer did not ask for a reflection")
	}
	e.waitDone(t, ctx, res.PersonID)

	texts := e.texts(t, ctx, res.PersonID)
	checkOrder(t, texts, modelReply)
	if index(texts, scriptedWhat) >= 0 {
		t.Error("the scripted reflection was sent as well")
	}

	r := e.only(t, ctx, res.PersonID)
	if r.reason != "" || r.model != "test-model" || r.promptTokens != 412 || r.completionTkns != 38 ||
		r.latencyMS == nil || r.shown == nil || !*r.shown || r.requestLen != 0 || r.leased || r.claims != 1 || r.answered == nil {
		t.Errorf("row: reason %q model %q tokens %d/%d latency %s shown %s request %d bytes leased %v claims %d answered %s",
			r.reason, r.model, r.promptTokens, r.completionTkns, str(r.latencyMS), str(r.shown), r.requestLen, r.leased, r.claims, str(r.answered))
	}
	if got := r.deadline.Sub(*r.createdAt); got != 5*time.Second {
		t.Errorf("deadline is %s after the answer, want the timeout 5s", got)
	}

	if e.metric(t, "stilstaan_reflection_answers_total", "source", "llm") != 1 ||
		e.metric(t, "stilstaan_reflection_answers_total", "source", "script") != 0 ||
		e.metric(t, "stilstaan_reflection_wait_seconds", "", "") != 1 {
		t.Error("the metrics do not show one reply from the model")
	}

	select {
	case c := <-e.typed:
		if c.chatID != chatID {
			t.Errorf("typing shown in chat %d, want %d", c.chatID, chatID)
		}
	default:
		t.Error("no typing indicator was shown")
	}

	// What left the machine: the system prompt and this exercise's question
	// and answer, masked; no name, no ids, no Telegram data.
	reqs := e.srv.Requests()
	if len(reqs) != 1 || len(reqs[0].Messages) != 2 || reqs[0].Messages[0].Role != "system" {
		t.Fatalf("requests sent: %+v", reqs)
	}
	user := reqs[0].Messages[1].Content
	for _, want := range []string{"Hij appt al de hele dag niet terug.", "[e-mail]", "[telefoonnummer]", questionWhat} {
		if !strings.Contains(user, want) {
			t.Errorf("the prompt lacks %q:\n%s", want, user)
		}
	}
	for _, leak := range []string{"anna.devries", "example.com", "12345678", "1001", "hallo"} {
		for _, m := range reqs[0].Messages {
			if strings.Contains(m.Content, leak) {
				t.Errorf("the %s prompt contains %q", m.Role, leak)
			}
		}
	}
}

func TestRequestIsSealedAndHoldsOnlyThisExercise(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e := newEnv(t, envOptions{})
	const chatID = 1002
	e.reachWhat(t, ctx, chatID)
	answer := "Ze zegt dat ze tijd voor zichzelf nodig heeft."
	res := e.answer(t, ctx, chatID, answer)

	var raw []byte
	if err := e.db.Pool().QueryRow(ctx, `SELECT request FROM reflections WHERE person_id = $1`, res.PersonID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "tijd voor zichzelf") || !strings.HasPrefix(string(raw), "sealed:") {
		t.Fatalf("the request is not sealed: %q", raw)
	}
	opened, err := sealer{}.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(opened, &fields); err != nil {
		t.Fatal(err)
	}
	for k := range fields {
		switch k {
		case "Exercise", "Step", "Lang", "Question", "Answer", "Earlier":
		default:
			t.Errorf("the stored request has a field %q", k)
		}
	}
	if fields["Answer"] != answer || fields["Exercise"] != "abandonment" || fields["Step"] != "what" || fields["Lang"] != "nl" {
		t.Errorf("stored request %v", fields)
	}
}

func TestSlowReplyFallsBackAtTheDeadline(t *testing.T) {
	// The test's own deadline bounds every wait; nothing sleeps.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const timeout = 300 * time.Millisecond
	e := newEnv(t, envOptions{timeout: timeout}, llmtest.Hang())
	e.start(t)

	const chatID = 1003
	e.reachWhat(t, ctx, chatID)
	res := e.answer(t, ctx, chatID, "Ik heb hem drie keer gebeld en hij neemt niet op.")
	committed := time.Now()
	e.waitDone(t, ctx, res.PersonID)
	if took := time.Since(committed); took > timeout+time.Second {
		t.Errorf("the fallback came %s after the answer, want about %s", took, timeout)
	}

	r := e.only(t, ctx, res.PersonID)
	if r.reason != llm.ReasonTimeout || r.shown == nil || !*r.shown {
		t.Errorf("reason %q shown %s, want timeout and shown", r.reason, str(r.shown))
	}
	if r.answered.Sub(*r.deadline) > time.Second {
		t.Errorf("answered %s after the deadline", r.answered.Sub(*r.deadline))
	}
	checkOrder(t, e.texts(t, ctx, res.PersonID), scriptedWhat)
	if e.srv.Calls() != 1 {
		t.Errorf("%d requests, want 1", e.srv.Calls())
	}
}

func TestFailuresFallBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := newEnv(t, envOptions{timeout: 3 * time.Second})
	tests := []struct {
		name   string
		script []llmtest.Response
		reason string
		calls  int
		rule   string // the rule OnRejected is told; "" when it must not be called
	}{
		{name: "429 with Retry-After, retried once", script: []llmtest.Response{llmtest.RateLimited("0.05"), llmtest.RateLimited("0.05")},
			reason: llm.ReasonRateLimited, calls: 2},
		{name: "429 with a Retry-After past the deadline", script: []llmtest.Response{llmtest.RateLimited("30")},
			reason: llm.ReasonRateLimited, calls: 1},
		{name: "500", script: []llmtest.Response{llmtest.Status(500), llmtest.Status(500)},
			reason: llm.ReasonServerError, calls: 2},
		{name: "broken body", script: []llmtest.Response{llmtest.Broken(), llmtest.Broken()},
			reason: llm.ReasonBadResponse, calls: 2},
		{name: "over-long reply", script: []llmtest.Response{llmtest.Reply(strings.Repeat("Dat gevoel mag er zijn. ", 40))},
			reason: "guard_rejected:too_long", calls: 1, rule: llm.RuleTooLong},
		{name: "link", script: []llmtest.Response{llmtest.Reply("Je voelt onrust. Lees er meer over op www.relatiehulp.nl, dat kan helpen.")},
			reason: "guard_rejected:link", calls: 1, rule: llm.RuleLink},
		{name: "phone number", script: []llmtest.Response{llmtest.Reply("Je voelt onrust. Bel gerust 020-5551234 als je wilt praten.")},
			reason: "guard_rejected:phone", calls: 1, rule: llm.RulePhone},
		{name: "diagnosis", script: []llmtest.Response{llmtest.Reply("Wat je beschrijft past bij een borderline persoonlijkheid.")},
			reason: "guard_rejected:diagnosis", calls: 1, rule: llm.RuleDiagnosis},
		{name: "crisis wording", script: []llmtest.Response{llmtest.Reply("Je schrijft dat je niet meer wilt leven en er een einde aan wilt maken.")},
			reason: "guard_rejected:crisis", calls: 1, rule: llm.RuleCrisis},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metricReason, _, _ := strings.Cut(tt.reason, ":")
			fallbacksBefore := e.metric(t, "stilstaan_reflection_fallbacks_total", "reason", metricReason)
			chatID := int64(2000 + i)
			e.srv.RespondWith(nil)
			e.srv.Enqueue(tt.script...)
			callsBefore, rejectedBefore := e.srv.Calls(), len(e.rejections())
			e.reachWhat(t, ctx, chatID)
			in := incoming(chatID, dialogs.Input{Kind: dialogs.InputText, Text: "Hij reageert niet en ik word er onrustig van."})
			res, err := e.svc.Handle(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			after, err := e.w.AnswerNow(ctx, in, res)
			if err != nil {
				t.Fatal(err)
			}
			if after.PersonID != res.PersonID || after.WakeAt.IsZero() {
				t.Errorf("AnswerNow returned %+v, want the answer turn's result (waiting for the pause)", after)
			}

			r := e.only(t, ctx, res.PersonID)
			if r.status != "done" || r.reason != tt.reason || r.shown == nil || !*r.shown {
				t.Errorf("row: status %q reason %q shown %s, want done, %q, shown", r.status, r.reason, str(r.shown), tt.reason)
			}
			texts := e.texts(t, ctx, res.PersonID)
			checkOrder(t, texts, scriptedWhat)
			for _, resp := range tt.script {
				if resp.Text != "" && index(texts, resp.Text[:20]) >= 0 {
					t.Errorf("the rejected reply reached the person")
				}
			}
			if got := e.srv.Calls() - callsBefore; got != tt.calls {
				t.Errorf("%d requests, want %d", got, tt.calls)
			}
			if got := e.metric(t, "stilstaan_reflection_fallbacks_total", "reason", metricReason) - fallbacksBefore; got != 1 {
				t.Errorf("fallbacks{reason=%q} went up by %g, want 1", metricReason, got)
			}
			rej := e.rejections()[rejectedBefore:]
			switch {
			case tt.rule == "" && len(rej) > 0:
				t.Errorf("OnRejected called: %+v", rej)
			case tt.rule != "" && (len(rej) != 1 || rej[0].rule != tt.rule || rej[0].personID != res.PersonID ||
				rej[0].source != reflection.Source(r.id)):
				t.Errorf("OnRejected calls %+v, want one with rule %q in the answer turn", rej, tt.rule)
			}
		})
	}
}

func TestRestartWhileAReplyIsPending(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e := newEnv(t, envOptions{timeout: 5 * time.Second})
	arrived := make(chan struct{}, 1)
	e.srv.RespondWith(func(llmtest.Request) llmtest.Response {
		arrived <- struct{}{}
		return llmtest.Hang()
	})
	stop := e.start(t)

	const chatID = 1004
	e.reachWhat(t, ctx, chatID)
	res := e.answer(t, ctx, chatID, "Ze is vertrokken zonder iets te zeggen.")
	select {
	case <-arrived:
	case <-ctx.Done():
		t.Fatal("the first worker never asked the model")
	}
	stop() // the process shuts down while the model is still thinking

	r := e.only(t, ctx, res.PersonID)
	if r.status != "pending" || r.leased || r.claims != 1 {
		t.Fatalf("after the stop: status %q leased %v claims %d, want pending, released, claimed once", r.status, r.leased, r.claims)
	}
	if index(e.texts(t, ctx, res.PersonID), scriptedWhat) >= 0 {
		t.Fatal("the stopped worker answered")
	}

	// A new process: the model answers now.
	e.srv.RespondWith(func(llmtest.Request) llmtest.Response { return llmtest.Reply(modelReply) })
	e.start(t)
	e.waitDone(t, ctx, res.PersonID)
	r = e.only(t, ctx, res.PersonID)
	if r.reason != "" || r.claims != 2 {
		t.Errorf("after the restart: reason %q claims %d, want the model's reply on the second claim", r.reason, r.claims)
	}
	texts := e.texts(t, ctx, res.PersonID)
	checkOrder(t, texts, modelReply)
	if index(texts, scriptedWhat) >= 0 {
		t.Error("the scripted reflection was sent as well")
	}

	// Exactly once: the answer turn cannot run again.
	again, err := e.svc.Handle(ctx, conversation.Incoming{Channel: conversation.ChannelTelegram, ChatID: chatID,
		Source: reflection.Source(r.id), Input: dialogs.Input{Kind: dialogs.InputReflection, Token: res.Reflect.Token, Text: "nog eens"}})
	if err != nil || !again.Duplicate {
		t.Errorf("a second answer turn: %+v, %v; want a duplicate", again, err)
	}
}

func TestRestartPastTheDeadlineAnswersAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e := newEnv(t, envOptions{timeout: 5 * time.Second}, llmtest.Reply(modelReply))
	const chatID = 1005
	e.reachWhat(t, ctx, chatID)
	res := e.answer(t, ctx, chatID, "Hij heeft het uitgemaakt via een appje.")

	// The process was down for a minute; then a worker starts.
	e.clock.Advance(time.Minute)
	started := time.Now()
	e.start(t)
	e.waitDone(t, ctx, res.PersonID)
	if took := time.Since(started); took > time.Second {
		t.Errorf("answered %s after the start, want at once", took)
	}
	r := e.only(t, ctx, res.PersonID)
	if r.reason != reflection.ReasonExpired || r.latencyMS != nil || r.model != "" {
		t.Errorf("reason %q latency %s model %q, want expired without asking", r.reason, str(r.latencyMS), r.model)
	}
	if e.srv.Calls() != 0 {
		t.Errorf("the model was asked %d times for a reply nobody waits for", e.srv.Calls())
	}
	checkOrder(t, e.texts(t, ctx, res.PersonID), scriptedWhat)
}

func TestPersonMovedOnBeforeTheWorker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e := newEnv(t, envOptions{}, llmtest.Reply(modelReply))
	const chatID = 1006
	e.reachWhat(t, ctx, chatID)
	res := e.answer(t, ctx, chatID, "Hij zegt dat hij ruimte nodig heeft.")
	// The person types again before any worker ran: the engine goes on with
	// the scripted reflection.
	e.answer(t, ctx, chatID, "Hallo?")

	e.start(t)
	e.waitDone(t, ctx, res.PersonID)
	r := e.only(t, ctx, res.PersonID)
	if r.reason != reflection.ReasonSuperseded || r.shown == nil || *r.shown {
		t.Errorf("reason %q shown %s, want superseded and not shown", r.reason, str(r.shown))
	}
	if e.srv.Calls() != 0 {
		t.Errorf("the model was asked %d times for a moot reflection", e.srv.Calls())
	}
	texts := e.texts(t, ctx, res.PersonID)
	checkOrder(t, texts, scriptedWhat)
	if index(texts, modelReply) >= 0 {
		t.Error("the late reply reached the person")
	}
}

func TestDeletedPersonIsNotRecreated(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e := newEnv(t, envOptions{}, llmtest.Reply(modelReply))
	const chatID = 1007
	e.reachWhat(t, ctx, chatID)
	in := incoming(chatID, dialogs.Input{Kind: dialogs.InputText, Text: "Hij is weg."})
	res, err := e.svc.Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Pool().Exec(ctx, `DELETE FROM people WHERE id = $1`, res.PersonID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.w.AnswerNow(ctx, in, res); err != nil {
		t.Fatal(err)
	}
	var people int
	if err := e.db.Pool().QueryRow(ctx, `SELECT count(*) FROM people`).Scan(&people); err != nil {
		t.Fatal(err)
	}
	if people != 0 || e.srv.Calls() != 0 {
		t.Errorf("%d people and %d requests after the person deleted themselves, want none", people, e.srv.Calls())
	}
}

func TestNewNeedsAnEnabledClient(t *testing.T) {
	e := newEnv(t, envOptions{llmOff: true})
	off, err := llm.New(llm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	set, err := prompts.New("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reflection.New(e.db, off, set); err == nil {
		t.Error("New accepted a client without an API key")
	}
}
