package soak

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/stilstaan/stilstaan/internal/fakebotapi"
)

// person plays one person in Telegram: they start, consent, pick exercises
// from the menu and answer what the bot asks, the way a person does: read
// the newest question, think a moment, press a button or type a short
// answer. Pauses are sometimes waited out and sometimes cut short with the
// button. A person never acts on a question that is not the newest.
type person struct {
	chat     int64
	lang     string
	fake     *fakebotapi.Server
	rng      *rand.Rand
	think    [2]time.Duration // think time, from and to
	stallFor time.Duration    // how long to wait for the bot before nudging it
	maxSteps int
	blockAt  time.Time // when to block the bot; zero: never
	log      *slog.Logger

	last []string // the actions of the question acted on last, for the log

	mu      sync.Mutex
	inputs  []Input
	texts   []string // phrases typed, to look for in the logs
	stalls  int
	blocked bool
	seen    int // the newest message id acted on
}

// phrases are the answers people type. Each carries a number, so a person's
// answers are unique (the checks find each in the transcript). They are
// everyday, so the safety screen stays quiet.
var phrases = map[string][]string{
	"nl": {
		"Ik voel spanning in mijn schouders",
		"Het knijpt een beetje in mijn keel",
		"Ik merk dat ik snel wil reageren",
		"Er zit onrust in mijn buik",
		"Ik ben vooral moe en een beetje verdrietig",
		"Ik denk dat ik bang ben om niet gezien te worden",
		"Mijn adem zit hoog in mijn borst",
		"Ik wil eigenlijk even niets zeggen",
	},
	"en": {
		"I feel tension in my shoulders",
		"There is a tight feeling in my throat",
		"I notice I want to answer right away",
		"My stomach feels restless",
		"Mostly tired and a little sad",
		"I think I am afraid of not being seen",
		"My breathing sits high in my chest",
		"I would rather say nothing for a while",
	},
}

func (p *person) record(in Input) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inputs = append(p.inputs, in)
}

func (p *person) steps() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inputs)
}

func (p *person) command(cmd string) {
	id := p.fake.SendCommand(p.chat, cmd)
	p.record(Input{UpdateID: id, Kind: "command", Text: cmd, At: time.Now()})
}

func (p *person) text() {
	list := phrases[p.lang]
	base := list[p.rng.IntN(len(list))]
	p.mu.Lock()
	n := len(p.texts) + 1
	p.texts = append(p.texts, base)
	p.mu.Unlock()
	text := fmt.Sprintf("%s (%d)", base, n)
	if p.lang == "nl" {
		text = fmt.Sprintf("%s, antwoord %d", base, n)
	}
	id := p.fake.SendText(p.chat, text)
	p.record(Input{UpdateID: id, Kind: "text", Text: text, At: time.Now()})
}

func (p *person) press(m fakebotapi.SentMessage, data string) {
	id, _ := p.fake.PressButton(p.chat, m.MessageID, data)
	p.record(Input{UpdateID: id, Kind: "button", At: time.Now()})
}

// run plays until ctx ends, the person has taken maxSteps steps, or they
// block the bot.
func (p *person) run(ctx context.Context) {
	p.command("/start")
	for ctx.Err() == nil && (p.maxSteps <= 0 || p.steps() < p.maxSteps) {
		if !p.blockAt.IsZero() && time.Now().After(p.blockAt) {
			id := p.fake.Block(p.chat)
			p.record(Input{UpdateID: id, Kind: "member", At: time.Now()})
			p.mu.Lock()
			p.blocked = true
			p.mu.Unlock()
			return
		}
		m, ok := p.waitQuestion(ctx)
		if !ok {
			if ctx.Err() != nil {
				return
			}
			// Nothing new for a long time: nudge the bot, as a person would.
			p.mu.Lock()
			p.stalls++
			seen := p.seen
			p.mu.Unlock()
			lastID, lastButtons := 0, 0
			if m, ok := p.fake.LastMessage(p.chat); ok {
				lastID, lastButtons = m.MessageID, len(m.Buttons)
			}
			p.log.Info("soak: a person got no new question; nudging with /start", slog.Int64("chat", p.chat),
				slog.Int("acted_on", seen), slog.Any("actions", p.last), slog.Int("last_message", lastID),
				slog.Int("last_buttons", lastButtons))
			p.command("/start")
			continue
		}
		p.answer(ctx, m)
	}
}

// newestQuestion finds the newest message after the one acted on that shows
// buttons now.
func newestQuestion(s *fakebotapi.Server, chat int64, after int) (fakebotapi.SentMessage, bool) {
	last, ok := s.LastMessage(chat)
	if !ok || last.MessageID <= after {
		return fakebotapi.SentMessage{}, false
	}
	for id := last.MessageID; id > after; id-- {
		m, ok := s.Current(chat, id)
		if !ok || m.Kind == fakebotapi.KindIncoming || m.Deleted {
			continue
		}
		if len(m.Buttons) > 0 {
			return m, true
		}
	}
	return fakebotapi.SentMessage{}, false
}

// waitQuestion waits for a new question, then thinks a moment; a question
// that comes in meanwhile replaces it. It reports false when ctx ended or
// nothing came within stallFor.
func (p *person) waitQuestion(ctx context.Context) (fakebotapi.SentMessage, bool) {
	wctx, cancel := context.WithTimeout(ctx, p.stallFor)
	defer cancel()
	p.mu.Lock()
	after := p.seen
	p.mu.Unlock()
	var found fakebotapi.SentMessage
	err := p.fake.WaitFor(wctx, func(s *fakebotapi.Server) bool {
		m, ok := newestQuestion(s, p.chat, after)
		found = m
		return ok
	})
	if err != nil {
		return fakebotapi.SentMessage{}, false
	}
	for {
		think := p.think[0] + time.Duration(p.rng.Int64N(int64(p.think[1]-p.think[0])+1))
		tctx, tcancel := context.WithTimeout(wctx, think)
		var newer fakebotapi.SentMessage
		err := p.fake.WaitFor(tctx, func(s *fakebotapi.Server) bool {
			m, ok := newestQuestion(s, p.chat, found.MessageID)
			newer = m
			return ok
		})
		tcancel()
		if ctx.Err() != nil {
			return fakebotapi.SentMessage{}, false
		}
		if err != nil {
			break // quiet: think time is over
		}
		found = newer
	}
	cur, ok := p.fake.Current(p.chat, found.MessageID)
	if !ok || len(cur.Buttons) == 0 {
		// Answered meanwhile (a pause ran out): wait for what comes next.
		p.mu.Lock()
		p.seen = found.MessageID
		p.mu.Unlock()
		return p.waitQuestion(ctx)
	}
	return cur, true
}

// action is the part of a button's data after the nonce ("o:fear", "d"); a
// feature's own button ("checkin:...") is returned whole.
func action(data string) string {
	if n, a, ok := strings.Cut(data, "."); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		return a
	}
	return data
}

// answer acts on a question.
func (p *person) answer(ctx context.Context, m fakebotapi.SentMessage) {
	byAction := map[string]string{}
	var options, menu, others, features []string
	for _, row := range m.Buttons {
		for _, b := range row {
			if b.CallbackData == "" {
				continue
			}
			a := action(b.CallbackData)
			if a == b.CallbackData {
				features = append(features, b.CallbackData) // a feature's own button, such as the check-in offer
			}
			byAction[a] = b.CallbackData
			switch {
			case strings.HasPrefix(a, "o:"):
				options = append(options, b.CallbackData)
			case strings.HasPrefix(a, "x:"):
				menu = append(menu, b.CallbackData)
			case a != "p": // pausing is left to people who mean it
				others = append(others, b.CallbackData)
			}
		}
	}
	p.mu.Lock()
	p.seen = m.MessageID
	p.mu.Unlock()
	p.last = p.last[:0]
	for _, row := range m.Buttons {
		for _, b := range row {
			p.last = append(p.last, action(b.CallbackData))
		}
	}
	if p.rng.IntN(40) == 0 {
		// Now and then someone asks for help first; the question stays.
		p.command("/help")
	}
	has := func(a string) bool { _, ok := byAction[a]; return ok }
	pick := func(list []string) string { return list[p.rng.IntN(len(list))] }
	switch {
	case len(features) == len(byAction):
		// A feature asks something (the check-in offer after a first
		// exercise, its settings): answer it, then go back to the exercises,
		// since its answer may be a message without a question.
		p.press(m, pick(features))
		p.command("/exercises")
	case has("c:y"):
		p.press(m, byAction["c:y"])
	case has("k"):
		p.press(m, byAction["k"])
	case has("r") && p.rng.IntN(5) > 0:
		p.press(m, byAction["r"])
	case len(menu) > 0:
		p.press(m, pick(menu))
	case has("m"):
		p.press(m, byAction["m"])
	case has("w") && len(byAction) == 1:
		if p.rng.IntN(2) == 0 {
			p.press(m, byAction["w"])
		}
		// else the pause runs out and the bot goes on by itself
	case has("d") && len(options) > 0:
		n := 1 + p.rng.IntN(min(2, len(options)))
		chosen := map[string]bool{}
		for len(chosen) < n {
			chosen[pick(options)] = true
		}
		for data := range chosen {
			p.press(m, data)
		}
		p.press(m, byAction["d"])
	case len(options) > 0:
		p.press(m, pick(options))
	case has("s") && len(byAction) == 1:
		if p.rng.IntN(8) == 0 {
			p.press(m, byAction["s"])
		} else {
			p.text()
		}
	case len(others) > 0:
		p.press(m, pick(others))
	default:
		p.command("/start")
	}
}
