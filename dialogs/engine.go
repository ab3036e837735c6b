package dialogs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultMaxText is the longest free-text answer kept, in characters.
const DefaultMaxText = 2000

// Engine runs scripts. It is pure and safe for concurrent use.
type Engine struct {
	lib        *Library
	llm        bool
	pauseScale float64
	maxText    int
	elevated   func(lang string) string
}

// EngineOption configures an Engine.
type EngineOption func(*Engine)

// WithLLM makes text steps marked `reflect: llm` ask for a reflective reply
// (only for people who consented to storing what they write).
func WithLLM(on bool) EngineOption { return func(e *Engine) { e.llm = on } }

// WithPauseScale shrinks (or stretches) timed pauses; 1 is real time.
func WithPauseScale(f float64) EngineOption { return func(e *Engine) { e.pauseScale = f } }

// WithMaxText sets the longest free-text answer, in characters.
func WithMaxText(n int) EngineOption { return func(e *Engine) { e.maxText = n } }

// WithElevated sets the supportive message shown when scale answers stay very
// high (9 or more twice in one exercise).
func WithElevated(f func(lang string) string) EngineOption { return func(e *Engine) { e.elevated = f } }

// NewEngine returns an engine for the scripts of lib.
func NewEngine(lib *Library, opts ...EngineOption) *Engine {
	e := &Engine{lib: lib, pauseScale: 1, maxText: DefaultMaxText}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Library returns the scripts the engine runs.
func (e *Engine) Library() *Library { return e.lib }

// PauseScale returns the factor applied to timed pauses.
func (e *Engine) PauseScale() float64 { return e.pauseScale }

// Handle applies one input to a state and returns the new state and what to do.
// It never modifies st.
func (e *Engine) Handle(st State, in Input) (State, Output) {
	t := &turn{e: e, st: st.clone(), in: in}
	if t.st.Lang == "" {
		t.st.Lang = LangFromHint(in.LangHint)
	}
	t.handle()
	return t.st, t.out
}

// LangFromHint maps a client language code to a supported language.
func LangFromHint(code string) string {
	code = strings.ToLower(code)
	for _, l := range Languages {
		if code == l || strings.HasPrefix(code, l+"-") || strings.HasPrefix(code, l+"_") {
			return l
		}
	}
	return DefaultLanguage
}

type turn struct {
	e   *Engine
	st  State
	in  Input
	out Output
}

func (t *turn) lang() string { return t.st.Lang }

// text returns a system text with {name} placeholders filled from pairs.
func (t *turn) text(key string, pairs ...string) string {
	s := t.e.lib.Text(key, t.lang())
	if len(pairs) > 0 {
		s = strings.NewReplacer(pairs...).Replace(s)
	}
	return s
}

func (t *turn) send(text string) {
	if text = strings.TrimSpace(text); text != "" {
		t.out.Messages = append(t.out.Messages, Message{Text: text})
	}
}

// btn is a button whose data is completed with the prompt nonce by ask.
func btn(label, action string) Button { return Button{Label: label, Data: action} }

// ask sends a message with buttons under a fresh nonce.
func (t *turn) ask(text string, rows [][]Button, choice bool) {
	t.st.Prompt++
	t.st.Menu = false
	n := strconv.Itoa(t.st.Prompt)
	out := make([][]Button, len(rows))
	for i, row := range rows {
		out[i] = make([]Button, len(row))
		for j, b := range row {
			out[i][j] = Button{Label: b.Label, Data: n + "." + b.Data}
		}
	}
	t.out.Messages = append(t.out.Messages, Message{Text: strings.TrimSpace(text), Buttons: out, Prompt: t.st.Prompt, Choice: choice})
}

// clearButtons removes the buttons of the current prompt (it was answered).
func (t *turn) clearButtons() {
	if t.st.Prompt > 0 {
		t.out.Messages = append(t.out.Messages, Message{Edit: true, Prompt: t.st.Prompt})
	}
}

func (t *turn) handle() {
	switch t.in.Kind {
	case InputTimer:
		t.timer()
		return
	case InputReflection:
		t.reflection()
		return
	case InputSafety:
		t.safety()
		return
	case InputStart:
		if t.st.Active() || t.st.Stage != StageReady {
			t.out.Busy = true
			return
		}
		if r := t.st.Run; r != nil && r.StoppedBy != "safety" && len(r.Answers) > 0 && t.st.Stash == nil {
			// keep a paused exercise to resume after the check-in
			t.st.Stash, t.st.Run = r, nil
		}
		t.startExercise(t.in.Data)
		t.out.Heard = ""
		return
	}
	if t.st.Stage != StageReady {
		t.onboarding()
		return
	}
	switch t.in.Kind {
	case InputCommand:
		t.command()
	case InputButton:
		t.button()
	case InputText:
		t.freeText()
	case InputUnsupported:
		t.send(t.text("input.unsupported"))
	default:
		t.out.Unknown = true
	}
}

// --- onboarding ---

func (t *turn) onboarding() {
	if t.in.Kind == InputText {
		t.out.Heard, t.out.FreeText = t.in.Text, true
	}
	if t.st.Stage == StageNew {
		t.welcome()
		return
	}
	switch t.in.Kind {
	case InputButton:
		nonce, action, arg, ok := parseData(t.in.Data)
		if !ok || nonce != t.st.Prompt {
			t.out.Notice = t.text("button.stale")
			t.askConsent(true)
			return
		}
		switch action {
		case "c":
			t.setConsent(arg == "y")
			return
		case "l":
			t.setLang(arg)
			t.welcome()
			return
		}
	case InputText:
		switch yesNo(t.in.Text) {
		case 1:
			t.setConsent(true)
			return
		case -1:
			t.setConsent(false)
			return
		}
	case InputCommand:
		switch t.in.Command {
		case "language", "taal":
			if t.in.Args != "" && t.setLang(t.in.Args) {
				t.welcome()
				return
			}
			t.askLanguage()
			return
		case "help", "hulp":
			t.send(t.text("help"))
			t.askConsent(false)
			return
		}
	}
	t.send(t.text("consent.first"))
	t.askConsent(true)
}

func (t *turn) welcome() {
	t.st.Stage = StageConsent
	t.send(t.text("welcome"))
	t.askConsent(false)
}

func (t *turn) askConsent(short bool) {
	text := t.text("consent.ask")
	if short {
		text = t.text("consent.ask_short")
	}
	t.ask(text, [][]Button{
		{btn(t.text("consent.yes"), "c:y")},
		{btn(t.text("consent.no"), "c:n")},
		{btn(t.text("lang.other"), "l:"+otherLang(t.lang()))},
	}, true)
}

func (t *turn) setConsent(yes bool) {
	t.clearButtons()
	first := t.st.Stage != StageReady
	t.st.Stage = StageReady
	if t.st.Consent != yes || first {
		t.out.ConsentChanged = true
	}
	t.st.Consent = yes
	if yes {
		t.out.Heard = t.text("consent.yes")
		t.send(t.text("consent.thanks_yes"))
	} else {
		t.out.Heard = t.text("consent.no")
		t.send(t.text("consent.thanks_no"))
	}
	if first {
		t.menu(t.text("menu.first"))
	}
}

func otherLang(lang string) string {
	if lang == "en" {
		return "nl"
	}
	return "en"
}

// yesNo reads a typed yes (1) or no (-1); 0 when it is neither.
func yesNo(s string) int {
	switch strings.Trim(strings.ToLower(strings.TrimSpace(s)), ".!") {
	case "ja", "yes", "y", "j", "ok", "oke", "oké", "akkoord", "goed", "prima", "sure":
		return 1
	case "nee", "no", "n", "nope", "liever niet", "no thanks", "nee dank je":
		return -1
	}
	return 0
}

func (t *turn) setLang(code string) bool {
	code = strings.ToLower(strings.TrimSpace(code))
	switch code {
	case "nederlands", "dutch":
		code = "nl"
	case "english", "engels":
		code = "en"
	}
	if !knownLanguage(code) {
		return false
	}
	if t.st.Lang != code {
		t.out.LangChanged = true
	}
	t.st.Lang = code
	return true
}

func (t *turn) askLanguage() {
	t.ask(t.text("lang.ask"), [][]Button{{btn("Nederlands", "l:nl"), btn("English", "l:en")}}, true)
}

// --- commands ---

func (t *turn) command() {
	t.out.Heard = "/" + t.in.Command
	switch t.in.Command {
	case "start":
		t.menu(t.text("start.back"))
	case "help", "hulp":
		t.send(t.text("help"))
	case "exercises", "oefeningen", "menu":
		t.menu(t.text("menu.pick"))
	case "stop", "stoppen":
		t.stop()
	case "resume", "verder":
		t.resume()
	case "skip", "overslaan":
		t.skip()
	case "language", "taal":
		if t.in.Args != "" && t.setLang(t.in.Args) {
			t.send(t.text("lang.set"))
			return
		}
		t.askLanguage()
	default:
		t.out.Unknown = true
		t.send(t.text("command.unknown"))
	}
}

func (t *turn) menu(intro string) {
	var rows [][]Button
	if r := t.st.Run; r != nil && r.StoppedBy != "safety" {
		if s, ok := t.e.lib.Script(r.Exercise); ok {
			rows = append(rows, []Button{btn(t.text("menu.resume", "{title}", s.Title.In(t.lang())), "r")})
		}
	}
	for _, s := range t.e.lib.Scripts() {
		if !s.Hidden {
			rows = append(rows, []Button{btn(s.Title.In(t.lang()), "x:"+s.ID)})
		}
	}
	t.ask(intro, rows, true)
	t.st.Menu = true
}

func (t *turn) stop() {
	r := t.st.Run
	if r == nil || r.Stopped {
		t.send(t.text("stop.nothing"))
		return
	}
	t.clearButtons()
	r.Stopped, r.StoppedBy, r.WakeAt, r.Held = true, "person", time.Time{}, false
	t.flushAwaitingSilently()
	t.send(t.text("stop.done", "{title}", t.title(r.Exercise)))
}

func (t *turn) title(id string) string {
	if s, ok := t.e.lib.Script(id); ok {
		return s.Title.In(t.lang())
	}
	return id
}

func (t *turn) resume() {
	r := t.st.Run
	if r == nil {
		t.menu(t.text("resume.nothing"))
		return
	}
	if r.StoppedBy == "safety" {
		// SAFETY.md: never continue the old exercise script after a crisis.
		t.st.Run = nil
		t.menu(t.text("resume.after_safety"))
		return
	}
	wasStopped := r.Stopped
	r.Stopped, r.StoppedBy = false, ""
	s, st, ok := t.current()
	if !ok {
		return
	}
	if wasStopped {
		t.send(t.text("resume.back", "{title}", s.Title.In(t.lang())))
	}
	if r.Awaiting != 0 {
		t.finishReflection("")
		return
	}
	if r.Held {
		r.Held = false
	}
	t.enter(st.ID)
}

// flushAwaitingSilently forgets a pending reflective reply, keeping the answer.
func (t *turn) flushAwaitingSilently() {
	if r := t.st.Run; r != nil && r.Awaiting != 0 {
		r.Awaiting = 0
		if s, ok := t.e.lib.Script(r.Exercise); ok {
			if st, ok := s.StepByID(r.Step); ok && st.Next != "" {
				r.Step = st.Next
			}
		}
	}
}

func (t *turn) skip() {
	r := t.st.Run
	if r == nil || r.Stopped {
		t.send(t.text("skip.nothing"))
		return
	}
	_, st, ok := t.current()
	if !ok {
		return
	}
	if r.Held || r.Awaiting != 0 {
		t.send(t.text("skip.nothing"))
		return
	}
	switch st.Kind {
	case KindPause:
		t.clearButtons()
		r.WakeAt = time.Time{}
		t.enter(st.Next)
		return
	case KindChoice, KindMulti, KindScale, KindText:
	default:
		t.send(t.text("skip.nothing"))
		return
	}
	if !st.CanSkip() {
		t.send(t.text("skip.not_allowed"))
		return
	}
	t.clearButtons()
	r.Answers[st.ID] = Answer{Skipped: true}
	r.Selected = nil
	t.out.Exercise, t.out.Step, t.out.Heard = r.Exercise, st.ID, t.text("skip.heard")
	t.send(t.text("skip.ok"))
	t.enter(st.Next)
}

// --- buttons ---

// parseData splits button data "nonce.action:arg".
func parseData(data string) (nonce int, action, arg string, ok bool) {
	n, rest, found := strings.Cut(data, ".")
	if !found || len(data) > 64 {
		return 0, "", "", false
	}
	nonce, err := strconv.Atoi(n)
	if err != nil || nonce <= 0 {
		return 0, "", "", false
	}
	action, arg, _ = strings.Cut(rest, ":")
	switch action {
	case "c":
		if arg != "y" && arg != "n" {
			return 0, "", "", false
		}
	case "o", "x", "l":
		if arg == "" {
			return 0, "", "", false
		}
	case "d", "s", "r", "p", "k", "m", "w":
		if arg != "" {
			return 0, "", "", false
		}
	default:
		return 0, "", "", false
	}
	return nonce, action, arg, true
}

func (t *turn) button() {
	nonce, action, arg, ok := parseData(t.in.Data)
	if !ok {
		t.out.Unknown = true
		t.out.Notice = t.text("button.unknown")
		return
	}
	if nonce != t.st.Prompt {
		t.out.Notice = t.text("button.stale")
		return
	}
	switch action {
	case "x":
		t.startExercise(arg)
	case "r", "k":
		t.clearButtons()
		t.resume()
	case "m":
		t.clearButtons()
		t.menu(t.text("menu.pick"))
	case "p":
		t.clearButtons()
		t.pause()
	case "l":
		if !t.setLang(arg) {
			t.out.Notice = t.text("button.unknown")
			return
		}
		t.clearButtons()
		t.send(t.text("lang.set"))
		if t.st.Active() {
			t.reprompt()
		} else {
			t.menu(t.text("menu.pick"))
		}
	case "c":
		t.setConsent(arg == "y")
	default: // o, d, s, w: answers to the current step
		if t.st.Menu || !t.st.Active() {
			t.out.Notice = t.text("button.stale")
			return
		}
		t.stepButton(action, arg)
	}
}

func (t *turn) pause() {
	r := t.st.Run
	if r == nil {
		t.send(t.text("pause.ok_norun"))
		return
	}
	if r.StoppedBy == "safety" {
		// After a safety reply the old exercise is not picked up again.
		t.send(t.text("pause.ok_norun"))
		return
	}
	r.Stopped, r.StoppedBy, r.WakeAt, r.Held = true, "pause", time.Time{}, false
	t.flushAwaitingSilently()
	t.send(t.text("pause.ok"))
}

func (t *turn) startExercise(id string) {
	s, ok := t.e.lib.Script(id)
	if !ok {
		t.out.Notice = t.text("button.unknown")
		t.out.Unknown = true
		return
	}
	t.clearButtons()
	t.out.Heard = s.Title.In(t.lang())
	if t.in.Kind != InputStart {
		t.st.Stash = nil // the person chose something new
	}
	if old := t.st.Run; old != nil && old.Exercise != id && len(old.Answers) > 0 {
		t.send(t.text("exercise.replaced", "{title}", t.title(old.Exercise)))
	}
	t.st.Run = &Run{Exercise: s.ID, Version: s.Version, Answers: map[string]Answer{}, StartedAt: t.in.Now}
	t.out.Started = s.ID
	t.out.Exercise = s.ID
	t.send(s.Intro.In(t.lang()))
	t.enter(s.FirstStep())
}

// --- steps ---

// current returns the running script and step, moving the run to a changed
// script version when needed. It reports false when the run had to end.
func (t *turn) current() (*Script, *Step, bool) {
	r := t.st.Run
	s, ok := t.e.lib.Script(r.Exercise)
	if !ok {
		t.st.Run = nil
		t.send(t.text("exercise.gone"))
		return nil, nil, false
	}
	st, ok := s.StepByID(r.Step)
	if r.Version != s.Version {
		r.Version = s.Version
		if !ok || !sameKind(r, st) {
			// The step was removed or changed shape: start this exercise over.
			r.Answers, r.Selected, r.WakeAt, r.Awaiting, r.Held = map[string]Answer{}, nil, time.Time{}, 0, false
			r.Step = s.FirstStep()
			t.send(t.text("exercise.changed"))
			// The input was meant for a step that is gone: ask the first
			// question instead of applying it there.
			t.enter(r.Step)
			return nil, nil, false
		}
	}
	if !ok {
		t.st.Run = nil
		t.send(t.text("exercise.gone"))
		return nil, nil, false
	}
	return s, st, true
}

// sameKind reports whether a waiting run can stay on st after a script change.
func sameKind(r *Run, st *Step) bool {
	if st == nil {
		return false
	}
	if r.Awaiting != 0 && st.Kind != KindText {
		return false
	}
	if len(r.Selected) > 0 && st.Kind != KindMulti {
		return false
	}
	return true
}

// enter runs steps from id until one waits for the person or the run ends.
func (t *turn) enter(id string) {
	r := t.st.Run
	s, ok := t.e.lib.Script(r.Exercise)
	if !ok {
		t.st.Run = nil
		t.send(t.text("exercise.gone"))
		return
	}
	for range 64 {
		st, ok := s.StepByID(id)
		if !ok {
			t.st.Run = nil
			t.send(t.text("exercise.gone"))
			return
		}
		r.Step = id
		switch st.Kind {
		case KindSay:
			t.send(t.render(st.Say))
			id = st.Next
		case KindBranch:
			id = t.branch(st)
		case KindEnd:
			t.send(t.render(st.Say))
			t.finish(s)
			return
		case KindPause:
			secs := float64(st.Seconds) * t.e.pauseScale
			r.WakeAt = t.in.Now.Add(time.Duration(secs * float64(time.Second)))
			t.ask(t.render(st.Say), [][]Button{{btn(t.text("pause.ready"), "w")}}, false)
			return
		default:
			t.prompt(st)
			return
		}
	}
	// The validator rejects loops that never wait; this is a last resort.
	t.st.Run = nil
	t.send(t.text("exercise.gone"))
}

// reprompt asks the current step's question again.
func (t *turn) reprompt() {
	if _, st, ok := t.current(); ok {
		t.enter(st.ID)
	}
}

func (t *turn) prompt(st *Step) {
	lang := t.lang()
	var rows [][]Button
	switch st.Kind {
	case KindChoice:
		rows = optionRows(st.Options, lang, nil)
	case KindMulti:
		rows = optionRows(st.Options, lang, t.st.Run.Selected)
		rows = append(rows, []Button{btn(t.text("multi.done"), "d")})
	case KindScale:
		lo, hi := st.Bounds()
		mid := lo + (hi-lo)/2
		var a, b []Button
		for v := lo; v <= hi; v++ {
			x := btn(strconv.Itoa(v), "o:"+strconv.Itoa(v))
			if v <= mid {
				a = append(a, x)
			} else {
				b = append(b, x)
			}
		}
		rows = [][]Button{a, b}
	}
	if st.CanSkip() {
		rows = append(rows, []Button{btn(t.text("skip.button"), "s")})
	}
	t.ask(t.render(st.Say), rows, st.Kind != KindText)
}

func optionRows(opts []Option, lang string, selected []string) [][]Button {
	short := true
	for _, o := range opts {
		if utf8.RuneCountInString(o.Label.In(lang)) > 16 {
			short = false
		}
	}
	var rows [][]Button
	for i, o := range opts {
		label := o.Label.In(lang)
		if contains(selected, o.ID) {
			label = "✓ " + label
		}
		b := btn(label, "o:"+o.ID)
		if short && i%2 == 1 {
			rows[len(rows)-1] = append(rows[len(rows)-1], b)
		} else {
			rows = append(rows, []Button{b})
		}
	}
	return rows
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (t *turn) stepButton(action, arg string) {
	r := t.st.Run
	_, st, ok := t.current()
	if !ok {
		return
	}
	if r.Held || r.Awaiting != 0 {
		t.out.Notice = t.text("button.stale")
		return
	}
	switch action {
	case "s":
		t.skip()
		return
	case "w":
		if st.Kind != KindPause {
			t.out.Notice = t.text("button.stale")
			return
		}
		t.clearButtons()
		r.WakeAt = time.Time{}
		t.out.Heard = t.text("pause.ready")
		t.send(t.render(st.After))
		t.enter(st.Next)
		return
	case "d":
		if st.Kind != KindMulti {
			t.out.Notice = t.text("button.stale")
			return
		}
		if len(r.Selected) == 0 {
			t.out.Notice = t.text("multi.none")
			return
		}
		t.answerOptions(st, r.Selected)
		return
	}
	// action "o"
	switch st.Kind {
	case KindChoice:
		if _, ok := st.Option(arg); !ok {
			t.out.Notice = t.text("button.unknown")
			return
		}
		t.answerOptions(st, []string{arg})
	case KindMulti:
		if _, ok := st.Option(arg); !ok {
			t.out.Notice = t.text("button.unknown")
			return
		}
		if contains(r.Selected, arg) {
			var keep []string
			for _, x := range r.Selected {
				if x != arg {
					keep = append(keep, x)
				}
			}
			r.Selected = keep
		} else {
			r.Selected = append(r.Selected, arg)
		}
		rows := optionRows(st.Options, t.lang(), r.Selected)
		rows = append(rows, []Button{btn(t.text("multi.done"), "d")})
		if st.CanSkip() {
			rows = append(rows, []Button{btn(t.text("skip.button"), "s")})
		}
		n := strconv.Itoa(t.st.Prompt)
		for _, row := range rows {
			for j := range row {
				row[j].Data = n + "." + row[j].Data
			}
		}
		t.out.Messages = append(t.out.Messages, Message{Edit: true, Prompt: t.st.Prompt, Buttons: rows, Choice: true})
		t.out.Notice = t.text("multi.toggled")
	case KindScale:
		v, err := strconv.Atoi(arg)
		lo, hi := st.Bounds()
		if err != nil || v < lo || v > hi {
			t.out.Notice = t.text("button.unknown")
			return
		}
		t.answerScale(st, v)
	default:
		t.out.Notice = t.text("button.stale")
	}
}

func (t *turn) answerOptions(st *Step, ids []string) {
	r := t.st.Run
	t.clearButtons()
	r.Answers[st.ID] = Answer{Options: append([]string(nil), ids...)}
	r.Selected = nil
	t.out.Exercise, t.out.Step = r.Exercise, st.ID
	t.out.Heard = t.display(st, r.Answers[st.ID])
	next := st.Next
	if st.Kind == KindChoice && len(ids) == 1 {
		if o, ok := st.Option(ids[0]); ok && o.Next != "" {
			next = o.Next
		}
	}
	t.advance(next)
}

func (t *turn) answerScale(st *Step, v int) {
	r := t.st.Run
	t.clearButtons()
	r.Answers[st.ID] = Answer{Value: &v}
	t.out.Exercise, t.out.Step, t.out.Heard = r.Exercise, st.ID, strconv.Itoa(v)
	if v >= 9 {
		r.High++
		if r.High == 2 && t.e.elevated != nil {
			t.out.Flags = append(t.out.Flags, Flag{Level: "elevated", Rule: "intensity.repeated_high"})
			if t.in.Concern == "" {
				t.in.Concern = t.e.elevated(t.lang())
			}
		}
	}
	t.advance(st.Next)
}

// advance goes to the next step, or first shows a concern and waits.
func (t *turn) advance(next string) {
	r := t.st.Run
	if t.in.Concern != "" {
		r.Step, r.Held = next, true
		t.concern()
		return
	}
	t.enter(next)
}

func (t *turn) concern() {
	t.ask(t.in.Concern, [][]Button{
		{btn(t.text("concern.go_on"), "k")},
		{btn(t.text("concern.grounding"), "x:grounding")},
		{btn(t.text("concern.pause"), "p")},
	}, true)
}

func (t *turn) freeText() {
	t.out.Heard, t.out.FreeText = t.in.Text, true
	r := t.st.Run
	if r == nil || r.Stopped {
		if t.in.Concern != "" {
			t.concern()
			return
		}
		if r != nil {
			t.ask(t.text("text.stopped", "{title}", t.title(r.Exercise)), [][]Button{
				{btn(t.text("menu.resume", "{title}", t.title(r.Exercise)), "r")},
				{btn(t.text("menu.other"), "m")},
			}, true)
			return
		}
		t.menu(t.text("text.no_run"))
		return
	}
	_, st, ok := t.current()
	if !ok {
		return
	}
	if r.Awaiting != 0 {
		t.finishReflection("")
		return
	}
	if r.Held {
		t.send(t.text("text.held"))
		return
	}
	text := strings.TrimSpace(t.in.Text)
	t.out.Exercise, t.out.Step = r.Exercise, st.ID
	if t.in.Concern != "" && st.Kind != KindText {
		// Distress typed where a button was expected: support first; going on
		// asks this step's question again.
		t.clearButtons()
		r.Held, r.WakeAt = true, time.Time{}
		t.concern()
		return
	}
	switch st.Kind {
	case KindText:
		if text == "" {
			t.send(t.text("answer.empty"))
			return
		}
		if n := utf8.RuneCountInString(text); n > t.e.maxText {
			t.out.Heard = ""
			t.send(t.text("answer.too_long", "{max}", strconv.Itoa(t.e.maxText), "{n}", strconv.Itoa(n)))
			return
		}
		a := Answer{Text: text}
		if !t.st.Consent {
			a = Answer{Withheld: true}
		}
		t.clearButtons()
		r.Answers[st.ID] = a
		if st.Reflect == "llm" && t.e.llm && t.st.Consent && t.in.Concern == "" {
			r.Awaiting = t.st.Prompt
			t.out.Reflect = t.reflectRequest(st, text)
			return
		}
		if st.Reflection != nil {
			t.send(t.render(st.Reflection))
		}
		t.advance(st.Next)
	case KindChoice:
		if id, ok := matchOption(st, text, t.lang()); ok {
			t.answerOptions(st, []string{id})
			return
		}
		t.send(t.text("answer.choice", "{n}", strconv.Itoa(len(st.Options))))
	case KindMulti:
		var ids []string
		for _, part := range splitList(text) {
			id, ok := matchOption(st, part, t.lang())
			if !ok {
				ids = nil
				break
			}
			if !contains(ids, id) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			t.send(t.text("answer.multi", "{n}", strconv.Itoa(len(st.Options))))
			return
		}
		t.answerOptions(st, ids)
	case KindScale:
		lo, hi := st.Bounds()
		v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSuffix(text, "/10"), "."))
		if err != nil || v < lo || v > hi {
			t.send(t.text("answer.scale", "{min}", strconv.Itoa(lo), "{max}", strconv.Itoa(hi)))
			return
		}
		t.answerScale(st, v)
	case KindPause:
		t.out.Exercise, t.out.Step = "", ""
		t.send(t.text("pause.wait"))
	}
}

func splitList(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '+' || r == '\n' })
	if len(parts) == 1 {
		// "1 3 4" also works
		fields := strings.Fields(s)
		allNum := len(fields) > 1
		for _, f := range fields {
			if _, err := strconv.Atoi(f); err != nil {
				allNum = false
			}
		}
		if allNum {
			return fields
		}
	}
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// matchOption finds an option by number (1-based), label (any language) or id.
func matchOption(st *Step, text, lang string) (string, bool) {
	s := strings.ToLower(strings.TrimSpace(strings.TrimRightFunc(text, func(r rune) bool { return unicode.IsPunct(r) })))
	if s == "" {
		return "", false
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n >= 1 && n <= len(st.Options) {
			return st.Options[n-1].ID, true
		}
		return "", false
	}
	for _, o := range st.Options {
		if strings.ToLower(o.Label.In(lang)) == s || o.ID == s {
			return o.ID, true
		}
	}
	for _, o := range st.Options {
		for _, l := range o.Label {
			if strings.ToLower(l) == s {
				return o.ID, true
			}
		}
	}
	return "", false
}

func (t *turn) reflectRequest(st *Step, answer string) *ReflectRequest {
	r := t.st.Run
	s, _ := t.e.lib.Script(r.Exercise)
	req := &ReflectRequest{
		Token: r.Awaiting, Exercise: r.Exercise, Step: st.ID, Lang: t.lang(),
		Question: t.render(st.Say), Answer: answer, Fallback: t.render(st.Reflection),
	}
	for i := range s.Steps {
		other := &s.Steps[i]
		if other.ID == st.ID {
			continue
		}
		a, ok := r.Answers[other.ID]
		if !ok || a.Skipped || a.Withheld || !answers(other.Kind) {
			continue
		}
		req.Earlier = append(req.Earlier, QA{Question: t.render(other.Say), Answer: t.display(other, a)})
	}
	return req
}

func (t *turn) reflection() {
	r := t.st.Run
	if r == nil || r.Stopped || r.Awaiting == 0 || r.Awaiting != t.in.Token {
		return
	}
	t.finishReflection(t.in.Text)
}

// finishReflection shows a reflective reply (the scripted one when text is
// empty) and moves on.
func (t *turn) finishReflection(text string) {
	r := t.st.Run
	r.Awaiting = 0
	s, ok := t.e.lib.Script(r.Exercise)
	if !ok {
		t.st.Run = nil
		return
	}
	st, ok := s.StepByID(r.Step)
	if !ok {
		t.st.Run = nil
		return
	}
	if text == "" {
		text = t.render(st.Reflection)
	}
	t.send(text)
	t.enter(st.Next)
}

func (t *turn) timer() {
	r := t.st.Run
	if r == nil || r.Stopped || r.WakeAt.IsZero() || t.in.Now.Before(r.WakeAt) {
		return
	}
	s, ok := t.e.lib.Script(r.Exercise)
	if !ok {
		return
	}
	st, ok := s.StepByID(r.Step)
	if !ok || st.Kind != KindPause {
		r.WakeAt = time.Time{}
		return
	}
	t.clearButtons()
	r.WakeAt = time.Time{}
	t.send(t.render(st.After))
	t.enter(st.Next)
}

func (t *turn) safety() {
	if r := t.st.Run; r != nil {
		r.Stopped, r.StoppedBy, r.WakeAt, r.Held, r.Awaiting = true, "safety", time.Time{}, false, 0
	}
	if t.st.Stage != StageReady {
		// Safety comes before onboarding: answer, then onboarding resumes later.
		t.send(t.in.Text)
		return
	}
	t.clearButtons()
	t.ask(t.in.Text, [][]Button{
		{btn(t.text("safety.grounding"), "x:grounding")},
		{btn(t.text("safety.pause"), "p")},
	}, true)
}

func (t *turn) finish(s *Script) {
	r := t.st.Run
	sum := &RunSummary{Exercise: s.ID, StartedAt: r.StartedAt, EndedAt: t.in.Now,
		Scales: map[string]int{}, Options: map[string][]string{}, Texts: map[string]string{}}
	for id, a := range r.Answers {
		switch {
		case a.Value != nil:
			sum.Scales[id] = *a.Value
		case len(a.Options) > 0:
			sum.Options[id] = a.Options
		case a.Text != "":
			sum.Texts[id] = a.Text
		}
	}
	t.out.Ended = sum
	t.st.Run, t.st.Stash = t.st.Stash, nil
	if !s.Hidden {
		t.st.Done++
	}
	t.menu(t.text("end.menu"))
}

// branch returns the target of the first case that holds, else Next.
func (t *turn) branch(st *Step) string {
	for _, c := range st.Cases {
		if t.holds(c.When) {
			return c.Next
		}
	}
	return st.Next
}

func (t *turn) holds(c Cond) bool {
	a, ok := t.st.Run.Answers[c.Answer]
	if c.Skipped != nil {
		skipped := !ok || a.Skipped
		if skipped != *c.Skipped {
			return false
		}
	}
	if len(c.In) > 0 {
		found := false
		for _, id := range a.Options {
			if contains(c.In, id) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	num := func(id string) (int, bool) {
		x, ok := t.st.Run.Answers[id]
		if !ok || x.Value == nil {
			return 0, false
		}
		return *x.Value, true
	}
	if c.Gte != nil || c.Lte != nil || c.LtAnswer != "" || c.GtAnswer != "" {
		v, ok := num(c.Answer)
		if !ok {
			return false
		}
		if c.Gte != nil && v < *c.Gte {
			return false
		}
		if c.Lte != nil && v > *c.Lte {
			return false
		}
		if c.LtAnswer != "" {
			w, ok := num(c.LtAnswer)
			if !ok || !(v < w) {
				return false
			}
		}
		if c.GtAnswer != "" {
			w, ok := num(c.GtAnswer)
			if !ok || !(v > w) {
				return false
			}
		}
	}
	return true
}

// render fills {{step}} placeholders with earlier answers.
func (t *turn) render(txt Text) string {
	s := txt.In(t.lang())
	if !strings.Contains(s, "{{") || t.st.Run == nil {
		return s
	}
	sc, _ := t.e.lib.Script(t.st.Run.Exercise)
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		id := placeholder.FindStringSubmatch(m)[1]
		st, ok := sc.StepByID(id)
		if !ok {
			return "—"
		}
		a, ok := t.st.Run.Answers[id]
		if !ok {
			return "—"
		}
		return t.display(st, a)
	})
}

// display is how an answer reads back to the person.
func (t *turn) display(st *Step, a Answer) string {
	switch {
	case a.Skipped:
		return t.text("answer.skipped_mark")
	case a.Withheld:
		return t.text("answer.withheld_mark")
	case a.Value != nil:
		return strconv.Itoa(*a.Value)
	case len(a.Options) > 0:
		labels := make([]string, 0, len(a.Options))
		for _, id := range a.Options {
			if o, ok := st.Option(id); ok {
				labels = append(labels, strings.ToLower(o.Label.In(t.lang())))
			}
		}
		return strings.Join(labels, ", ")
	}
	return a.Text
}

// requiredTexts are the system texts the engine uses.
var requiredTexts = []string{
	"welcome", "consent.ask", "consent.ask_short", "consent.yes", "consent.no", "consent.first",
	"consent.thanks_yes", "consent.thanks_no", "lang.other", "lang.ask", "lang.set",
	"help", "start.back", "menu.pick", "menu.first", "menu.resume", "menu.other", "end.menu",
	"command.unknown", "stop.nothing", "stop.done", "resume.nothing", "resume.back",
	"skip.nothing", "skip.not_allowed", "skip.ok", "skip.heard", "skip.button",
	"button.stale", "button.unknown", "pause.ok", "pause.ok_norun", "pause.ready", "pause.wait",
	"exercise.replaced", "exercise.changed", "exercise.gone",
	"multi.done", "multi.none", "multi.toggled", "concern.go_on", "concern.grounding", "concern.pause",
	"text.stopped", "text.no_run", "text.held", "answer.empty", "answer.too_long", "answer.choice",
	"answer.multi", "answer.scale", "answer.skipped_mark", "answer.withheld_mark",
	"safety.grounding", "safety.pause", "input.unsupported", "resume.after_safety",
}

// String describes an input kind, for logs and metrics.
func (k InputKind) String() string {
	switch k {
	case InputText:
		return "text"
	case InputButton:
		return "button"
	case InputCommand:
		return "command"
	case InputTimer:
		return "timer"
	case InputReflection:
		return "reflection"
	case InputSafety:
		return "safety"
	case InputUnsupported:
		return "unsupported"
	case InputStart:
		return "start"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}
