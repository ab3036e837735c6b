package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// answers are what simulated people write when a question asks for words:
// everyday exercise answers that the safety screen lets pass (a test checks
// this), so every turn takes the scripted path.
var answers = []string{
	"Ik merk wat onrust in mijn buik.",
	"Het voelt gespannen in mijn schouders.",
	"Ik dacht aan het gesprek van gisteravond.",
	"Ik wil graag dat hij beter naar me luistert.",
	"Een beetje rustiger dan net.",
	"Ik voel me wat verdrietig, maar het gaat.",
}

// person is one simulated person in one Telegram chat. It reads what the
// bot shows (through the tap) and answers the newest question the way a
// person would: it agrees to the terms, picks exercises from the menu in
// turn, presses an option, writes an answer, ends a pause at once, and
// starts the next exercise when one ends.
type person struct {
	chat   int64
	tg     *telegram
	events <-chan chatEvent
	rng    *rand.Rand

	prompt  prompt // the newest message that shows buttons
	started bool   // /start was sent
	pick    int    // which menu entry comes next
	written int    // answers written so far
}

// prompt is a message with an inline keyboard.
type prompt struct {
	id      int
	buttons [][]button
}

func newPerson(tg *telegram, chat int64, seed uint64) *person {
	tg.fake.SetUser(chat, "Persoon", "nl")
	return &person{chat: chat, tg: tg, events: tg.tap.listen(chat), rng: rand.New(rand.NewPCG(seed, uint64(chat)))}
}

// apply updates the person's view with one call of the bot. It reports
// false for a message the person leaves aside: one that shows only a
// feature's buttons (the offer of daily check-ins after a first exercise,
// sent as a scheduled message, so it may arrive after the person already
// answered the next question). Such a message is no answer to anything.
func (p *person) apply(ev chatEvent) bool {
	engine := engineButtons(ev.buttons)
	if strings.HasPrefix(strings.ToLower(ev.method), "send") {
		if len(ev.buttons) > 0 && len(engine) == 0 {
			return false
		}
		if len(engine) > 0 && ev.message > p.prompt.id {
			p.prompt = prompt{id: ev.message, buttons: engine}
		}
		return true
	}
	if ev.message == p.prompt.id {
		p.prompt.buttons = engine
	}
	return true
}

// engineButtons keeps the dialog engine's buttons ("nonce.action"), not a
// feature's own ("ci:offer:yes", check-in settings).
func engineButtons(rows [][]button) [][]button {
	var out [][]button
	for _, row := range rows {
		var keep []button
		for _, b := range row {
			if strings.Contains(b.Data, ".") {
				keep = append(keep, b)
			}
		}
		if len(keep) > 0 {
			out = append(out, keep)
		}
	}
	return out
}

// act is an update a person sends.
type act struct {
	press string // callback data to press on message msg; "" for text
	msg   int
	text  string // a message (a command when it starts with "/")
	// multi marks pressing an option of a multi-select question: the answer
	// is an edit of that same question, not a new one.
	multi bool
}

// buttonAction returns the action of callback data "nonce.action:arg"
// ("c:y", "o:fear", "w").
func buttonAction(data string) string {
	_, a, _ := strings.Cut(data, ".")
	return a
}

// catchUp reads what the bot sent while the person was not waiting for an
// answer (a pause that ended by itself while the person was idle, between
// two phases or between two arrivals).
func (p *person) catchUp() {
	for {
		select {
		case ev := <-p.events:
			p.apply(ev)
		default:
			return
		}
	}
}

// decide chooses the next update from what the bot shows.
func (p *person) decide() act {
	if !p.started || len(p.prompt.buttons) == 0 {
		return act{text: "/start", msg: p.prompt.id}
	}
	var all []button
	for _, row := range engineButtons(p.prompt.buttons) {
		all = append(all, row...)
	}
	if len(all) == 0 {
		// Only a feature's buttons (check-in settings): back to the
		// exercises.
		return act{text: "/exercises", msg: p.prompt.id}
	}
	find := func(pred func(a string) bool) []button {
		var out []button
		for _, b := range all {
			if pred(buttonAction(b.Data)) {
				out = append(out, b)
			}
		}
		return out
	}
	is := func(a string) func(string) bool { return func(x string) bool { return x == a } }
	prefix := func(pre string) func(string) bool { return func(x string) bool { return strings.HasPrefix(x, pre) } }
	press := func(b button) act { return act{press: b.Data, msg: p.prompt.id} }

	if b := find(is("c:y")); len(b) > 0 {
		return press(b[0])
	}
	if b := find(prefix("x:")); len(b) > 0 {
		p.pick++
		return press(b[p.pick%len(b)])
	}
	if b := find(is("w")); len(b) > 0 {
		return press(b[0])
	}
	options := find(prefix("o:"))
	if done := find(is("d")); len(done) > 0 {
		for _, o := range options {
			if strings.HasPrefix(o.Text, "✓") {
				return press(done[0])
			}
		}
		if len(options) > 0 {
			a := press(options[p.rng.IntN(len(options))])
			a.multi = true
			return a
		}
	}
	if len(options) > 0 {
		return press(options[p.rng.IntN(len(options))])
	}
	if skip := find(is("s")); len(skip) == len(all) && len(all) > 0 {
		p.written++
		return act{text: answers[(int(p.chat)+p.written)%len(answers)], msg: p.prompt.id}
	}
	for _, a := range []string{"k", "r", "m"} {
		if b := find(is(a)); len(b) > 0 {
			return press(b[0])
		}
	}
	if b := find(prefix("l:")); len(b) > 0 {
		return press(b[0])
	}
	return press(all[0])
}

// send sends the update and returns when the fake server queued it.
func (p *person) send(a act) time.Time {
	switch {
	case a.press != "":
		p.tg.fake.PressButton(p.chat, a.msg, a.press)
	case strings.HasPrefix(a.text, "/"):
		p.started = true
		p.tg.fake.SendCommand(p.chat, a.text)
	default:
		p.tg.fake.SendText(p.chat, a.text)
	}
	return time.Now()
}

// outcome is how long the bot took to answer one update.
type outcome struct {
	reply  time.Duration // to its first message or edit in the chat
	answer time.Duration // to the message the person acts on next
}

// await reads the bot's calls after an update sent at sent until the
// person can act again: a newer question with buttons has arrived (for an
// option of a multi-select question, the question's edit). It fails when
// nothing arrives for idle.
func (p *person) await(ctx context.Context, a act, sent time.Time, idle time.Duration) (outcome, error) {
	var o outcome
	timer := time.NewTimer(idle)
	defer timer.Stop()
	for {
		select {
		case ev := <-p.events:
			if !p.apply(ev) {
				break
			}
			if !ev.at.Before(sent) && o.reply == 0 {
				o.reply = max(ev.at.Sub(sent), time.Nanosecond)
			}
			if o.reply == 0 {
				break // left over from before this update
			}
			if (a.multi && ev.message == a.msg) || (!a.multi && p.prompt.id > a.msg && len(p.prompt.buttons) > 0) {
				o.answer = ev.at.Sub(sent)
				return o, nil
			}
		case <-timer.C:
			return o, fmt.Errorf("%w: chat %d waited %s after %s", errStalled, p.chat, idle, describe(a))
		case <-ctx.Done():
			return o, ctx.Err()
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(idle)
	}
}

// awaitReply waits for the first message sent to the chat after sent that
// begins with want, then lets the rest of the turn's messages arrive.
func (p *person) awaitReply(ctx context.Context, sent time.Time, want string, idle time.Duration) (time.Duration, error) {
	timer := time.NewTimer(idle)
	defer timer.Stop()
	for {
		select {
		case ev := <-p.events:
			if p.apply(ev) && !ev.at.Before(sent) && strings.HasPrefix(strings.ToLower(ev.method), "send") {
				if !strings.HasPrefix(ev.text, want) {
					return 0, fmt.Errorf("bench: chat %d: the first answer to a crisis message is not the safety reply", p.chat)
				}
				return ev.at.Sub(sent), nil
			}
		case <-timer.C:
			return 0, fmt.Errorf("%w: chat %d waited %s for the safety reply", errStalled, p.chat, idle)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// describe names an update without what the person wrote.
func describe(a act) string {
	switch {
	case a.press != "":
		return "pressing " + buttonAction(a.press)
	case strings.HasPrefix(a.text, "/"):
		return "the command " + a.text
	default:
		return "a written answer"
	}
}
