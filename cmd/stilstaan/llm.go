package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/stilstaan/stilstaan/config"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/dialogs"
	"github.com/stilstaan/stilstaan/llm"
	"github.com/stilstaan/stilstaan/prompts"
	"github.com/stilstaan/stilstaan/reflection"
	"github.com/stilstaan/stilstaan/safety"
	"github.com/stilstaan/stilstaan/storage"
)

func init() {
	featureOptions = append(featureOptions, llmFeature)
	extraCommands = append(extraCommands, (*app).promptsCmd)
}

// reflectionWorkers holds the reflection worker of each conversation service
// built with the LLM on, for the front end that runs it (run, shell).
var reflectionWorkers sync.Map // *conversation.Service -> *reflection.Worker

// reflectionWorker returns the worker of svc, or nil when the LLM is off.
func reflectionWorker(svc *conversation.Service) *reflection.Worker {
	w, _ := reflectionWorkers.Load(svc)
	rw, _ := w.(*reflection.Worker)
	return rw
}

// startReflections runs the reflection worker of svcs until ctx is done
// (the bot: typing shows Telegram's typing indicator). The returned wait
// blocks until the worker has stopped. With the LLM off it does nothing.
func startReflections(ctx context.Context, svcs *services, typing reflection.Typing, log *slog.Logger) (wait func()) {
	w := reflectionWorker(svcs.Conversation)
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx, typing); err != nil {
			log.Error("reflection worker stopped", "error", err)
		}
	}()
	return func() { <-done }
}

// shellAfterTurn lets the terminal shell print a reflective reply (or the
// scripted fallback) with the turn that asked for it; nil with the LLM off.
func shellAfterTurn(svcs *services) func(context.Context, conversation.Incoming, conversation.Result) (conversation.Result, error) {
	if w := reflectionWorker(svcs.Conversation); w != nil {
		return w.AnswerNow
	}
	return nil
}

// llmMetrics are registered once per process, however often the services
// are built.
var llmMetrics = sync.OnceValue(func() *llm.Metrics { return llm.NewMetrics(prometheus.DefaultRegisterer) })

// llmFeature turns on reflective replies when llm.api_key is set: the engine
// asks for them and a hook stores each request. Without a key nothing
// changes and nobody is told: the scripted reflections are used.
func llmFeature(_ context.Context, cfg config.Config, db *storage.DB, log *slog.Logger) ([]dialogs.EngineOption, []conversation.Option, error) {
	if cfg.LLM.APIKey == "" {
		return nil, nil, nil
	}
	set, err := prompts.New(cfg.LLM.PromptsDir)
	if err != nil {
		return nil, nil, err
	}
	client, err := newLLMClient(cfg)
	if err != nil {
		return nil, nil, err
	}
	metrics, err := reflection.NewMetrics(prometheus.DefaultRegisterer)
	if err != nil {
		return nil, nil, err
	}
	c, err := newCare(cfg, db, log)
	if err != nil {
		return nil, nil, err
	}
	w, err := reflection.New(db, client, set,
		reflection.WithTimeout(cfg.LLM.Timeout), reflection.WithMetrics(metrics), reflection.WithLogger(log),
		reflection.WithOnRejected(c.LLMRejected))
	if err != nil {
		return nil, nil, err
	}
	opts := append(w.Options(), func(s *conversation.Service) { reflectionWorkers.Store(s, w) })
	log.Info("reflective replies by LLM are on", "base_url", cfg.LLM.BaseURL, "model", cfg.LLM.Model, "timeout", cfg.LLM.Timeout)
	return []dialogs.EngineOption{dialogs.WithLLM(true)}, opts, nil
}

// newLLMClient builds the client with the Guard: the safety classifier's
// check (a reply at elevated level or above is rejected) and the helplines a
// reply may name.
func newLLMClient(cfg config.Config) (*llm.Client, error) {
	classifier := safety.NewClassifier()
	crisis := func(text string) bool { return classifier.Classify(text).Level >= safety.Elevated }
	guard := llm.NewGuard(allowedContacts(cfg), crisis)
	return llm.New(llm.Config{
		BaseURL: cfg.LLM.BaseURL, APIKey: cfg.LLM.APIKey, Model: cfg.LLM.Model, Timeout: cfg.LLM.Timeout,
		MaxTokens: cfg.LLM.MaxTokens, Temperature: cfg.LLM.Temperature, MaxReplyChars: cfg.LLM.MaxChars,
	}, llm.WithGuard(guard), llm.WithMetrics(llmMetrics()))
}

// allowedContacts lists the helpline numbers and addresses of the safety
// replies (configured, or the built-in ones), which a reflection may name.
func allowedContacts(cfg config.Config) []string {
	var out []string
	if len(cfg.Safety.Helplines) > 0 {
		for _, lines := range cfg.Safety.Helplines {
			for _, h := range lines {
				out = append(out, h.Phone, h.Text, h.URL)
			}
		}
	} else {
		for _, lines := range safety.DefaultHelplines() {
			for _, h := range lines {
				out = append(out, h.Phone, h.Text, h.URL)
			}
		}
	}
	return out
}

func (a *app) promptsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "prompts", Short: "Inspect the prompts of reflective replies"}
	var exercise, step, lang, answer string
	var earlier []string
	render := &cobra.Command{
		Use:   "render",
		Short: "Print exactly what would be sent to the LLM for a step: the system and the user message",
		Long: `Print exactly what would be sent to the LLM for an answer to a step: the system
message and the user message, after masking. The question and the earlier
answers of the same exercise come from the dialog engine, as in the bot.
--earlier gives answers to earlier steps: text, a number for a scale, or
option ids separated by commas for a choice.`,
		Example: `  stilstaan prompts render --exercise abandonment --step what --lang nl
  stilstaan prompts render --exercise abandonment --step adult_voice --lang en \
      --earlier what="He hasn't answered all day" --earlier before=8 --answer "You are safe now"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := a.load(cmd)
			if err != nil {
				return err
			}
			lib, err := loadScripts(cfg)
			if err != nil {
				return err
			}
			set, err := prompts.New(cfg.LLM.PromptsDir)
			if err != nil {
				return err
			}
			return renderPrompt(cmd.OutOrStdout(), lib, set, exercise, step, lang, answer, earlier)
		},
	}
	f := render.Flags()
	f.StringVar(&exercise, "exercise", "", "exercise id, e.g. abandonment")
	f.StringVar(&step, "step", "", "step id, e.g. what")
	f.StringVar(&lang, "lang", dialogs.DefaultLanguage, "language: nl or en")
	f.StringVar(&answer, "answer", "", "the person's answer (default: a sample answer)")
	f.StringArrayVar(&earlier, "earlier", nil, "an earlier answer of this exercise as STEP=ANSWER (repeatable)")
	_ = render.MarkFlagRequired("exercise")
	_ = render.MarkFlagRequired("step")
	cmd.AddCommand(render)
	return cmd
}

// sampleAnswers stand in for the person's answer when --answer is not given.
var sampleAnswers = map[string]string{
	"nl": "Hij reageert al de hele dag niet op mijn berichten en ik wil hem steeds opnieuw appen.",
	"en": "He hasn't answered my messages all day and I keep wanting to text him again.",
}

// renderPrompt runs the engine on answer at the step, as the bot would, and
// prints the prompt rendered from its reflection request.
func renderPrompt(out io.Writer, lib *dialogs.Library, set *prompts.Set, exercise, stepID, lang, answer string, earlier []string) error {
	if !slices.Contains(dialogs.Languages, lang) {
		return fmt.Errorf("unknown language %q (want one of %s)", lang, strings.Join(dialogs.Languages, ", "))
	}
	s, ok := lib.Script(exercise)
	if !ok {
		ids := make([]string, 0, len(lib.Scripts()))
		for _, sc := range lib.Scripts() {
			ids = append(ids, sc.ID)
		}
		sort.Strings(ids)
		return fmt.Errorf("no exercise %q (there are: %s)", exercise, strings.Join(ids, ", "))
	}
	st, ok := s.StepByID(stepID)
	if !ok || st.Kind != dialogs.KindText {
		return fmt.Errorf("exercise %s has no free-text step %q", exercise, stepID)
	}
	if st.Reflect != "llm" {
		return fmt.Errorf("step %s of %s has no `reflect: llm`: the bot shows its scripted reflection and never asks the model", stepID, exercise)
	}
	if strings.TrimSpace(answer) == "" {
		answer = sampleAnswers[lang]
	}
	answers := map[string]dialogs.Answer{}
	for _, e := range earlier {
		id, text, found := strings.Cut(e, "=")
		if !found {
			return fmt.Errorf("--earlier %q: want STEP=ANSWER", e)
		}
		a, err := earlierAnswer(s, id, text)
		if err != nil {
			return err
		}
		answers[id] = a
	}
	state := dialogs.State{Lang: lang, Stage: dialogs.StageReady, Consent: true, Prompt: 1,
		Run: &dialogs.Run{Exercise: s.ID, Version: s.Version, Step: st.ID, Answers: answers}}
	_, o := dialogs.NewEngine(lib, dialogs.WithLLM(true)).Handle(state, dialogs.Input{Kind: dialogs.InputText, Text: answer})
	r := o.Reflect
	if r == nil {
		return errors.New("the engine asked for no reflection on this answer (too long, or empty?)")
	}
	req := prompts.Request{Exercise: r.Exercise, Step: r.Step, Lang: r.Lang, Question: r.Question, Answer: r.Answer}
	for _, qa := range r.Earlier {
		req.Earlier = append(req.Earlier, prompts.QA{Question: qa.Question, Answer: qa.Answer})
	}
	rendered, err := set.Render(req)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "--- system ---\n%s--- user ---\n%s", rendered.System, rendered.User)
	return nil
}

// earlierAnswer reads an --earlier value for step id of s.
func earlierAnswer(s *dialogs.Script, id, text string) (dialogs.Answer, error) {
	st, ok := s.StepByID(id)
	if !ok {
		return dialogs.Answer{}, fmt.Errorf("--earlier: exercise %s has no step %q", s.ID, id)
	}
	switch st.Kind {
	case dialogs.KindText:
		return dialogs.Answer{Text: text}, nil
	case dialogs.KindScale:
		v, err := strconv.Atoi(strings.TrimSpace(text))
		lo, hi := st.Bounds()
		if err != nil || v < lo || v > hi {
			return dialogs.Answer{}, fmt.Errorf("--earlier %s: want a number from %d to %d", id, lo, hi)
		}
		return dialogs.Answer{Value: &v}, nil
	case dialogs.KindChoice, dialogs.KindMulti:
		var ids []string
		for _, o := range strings.Split(text, ",") {
			o = strings.TrimSpace(o)
			if _, ok := st.Option(o); !ok {
				return dialogs.Answer{}, fmt.Errorf("--earlier %s: no option %q", id, o)
			}
			ids = append(ids, o)
		}
		if st.Kind == dialogs.KindChoice && len(ids) != 1 {
			return dialogs.Answer{}, fmt.Errorf("--earlier %s: a choice takes one option", id)
		}
		return dialogs.Answer{Options: ids}, nil
	}
	return dialogs.Answer{}, fmt.Errorf("--earlier %s: a %s step has no answer", id, st.Kind)
}
