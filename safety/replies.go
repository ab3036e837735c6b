package safety

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Helpline is one service shown in a safety reply.
type Helpline struct {
	// Name says who they are and when to use them ("113 Zelfmoordpreventie").
	Name string `json:"name" mapstructure:"name" yaml:"name"`
	// Phone is a number to call; alternatives are separated by commas
	// ("113, 0800-0113").
	Phone string `json:"phone,omitempty" mapstructure:"phone" yaml:"phone"`
	// Text is a short instruction shown as is, for services without a
	// single number ("bel je eigen huisarts").
	Text string `json:"text,omitempty" mapstructure:"text" yaml:"text"`
	// URL is a web address, written without scheme ("113.nl").
	URL string `json:"url,omitempty" mapstructure:"url" yaml:"url"`
	// Hours says when and on what terms ("24/7, gratis en anoniem").
	Hours string `json:"hours,omitempty" mapstructure:"hours" yaml:"hours"`
}

// Helplines lists the helplines per language ("nl", "en").
type Helplines map[string][]Helpline

// DefaultHelplines returns the helplines of docs/SAFETY.md. The numbers are
// exactly those of the specification; change them there first.
func DefaultHelplines() Helplines {
	return Helplines{
		"nl": {
			{Name: "113 Zelfmoordpreventie", Phone: "113, 0800-0113", URL: "113.nl", Hours: "24/7, gratis en anoniem"},
			{Name: "Bij direct gevaar", Phone: "112"},
			{Name: "Veilig Thuis, bij geweld thuis", Phone: "0800-2000", Hours: "24/7, gratis"},
			{Name: "Je huisarts", Text: "bel je eigen huisarts, of 's avonds, 's nachts en in het weekend de huisartsenpost"},
		},
		"en": {
			{Name: "In immediate danger", Text: "call your local emergency number"},
			{Name: "Helplines in your country", URL: "findahelpline.com"},
			{Name: "In the Netherlands, 113 Suicide Prevention", Phone: "113, 0800-0113", URL: "113.nl", Hours: "24/7, free and anonymous"},
			{Name: "In the Netherlands, in immediate danger", Phone: "112"},
			{Name: "In the Netherlands, Veilig Thuis for violence at home", Phone: "0800-2000", Hours: "24/7, free"},
		},
	}
}

// Validate checks that there is at least one language, that every helpline
// has a name and a way to reach it, and that phone numbers hold only digits,
// spaces, dashes, a leading plus and parentheses.
func (h Helplines) Validate() error {
	if len(h) == 0 {
		return errors.New("safety: validate helplines: no languages")
	}
	var errs []error
	for _, lang := range sortedLangs(h) {
		lines := h[lang]
		if len(lines) == 0 {
			errs = append(errs, fmt.Errorf("safety: validate helplines: %s: empty list", lang))
		}
		for i, l := range lines {
			at := fmt.Sprintf("%s[%d]", lang, i)
			if strings.TrimSpace(l.Name) == "" {
				errs = append(errs, fmt.Errorf("safety: validate helplines: %s: no name", at))
			}
			if strings.TrimSpace(l.Phone+l.Text+l.URL) == "" {
				errs = append(errs, fmt.Errorf("safety: validate helplines: %s: needs a phone, text or url", at))
			}
			for _, p := range l.phones() {
				if !validPhone(p) {
					errs = append(errs, fmt.Errorf("safety: validate helplines: %s: phone %q is not a number", at, p))
				}
			}
			if l.URL != "" && strings.ContainsAny(strings.TrimSpace(l.URL), " \t\n") {
				errs = append(errs, fmt.Errorf("safety: validate helplines: %s: url %q has spaces", at, l.URL))
			}
		}
	}
	return errors.Join(errs...)
}

func validPhone(p string) bool {
	digits := 0
	for i, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '-' || r == '(' || r == ')':
		case r == '+' && i == 0:
		default:
			return false
		}
	}
	return digits > 0
}

// phones splits Phone into its alternatives.
func (l Helpline) phones() []string {
	var out []string
	for _, p := range strings.Split(l.Phone, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Numbers returns every phone number and URL of every language, sorted and
// without repeats: the LLM output guard allows these and no others.
func (h Helplines) Numbers() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, lines := range h {
		for _, l := range lines {
			for _, p := range l.phones() {
				add(p)
			}
			add(l.URL)
		}
	}
	sort.Strings(out)
	return out
}

func sortedLangs(h Helplines) []string {
	langs := make([]string, 0, len(h))
	for l := range h {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	return langs
}

// replyLang maps a language code to "nl" or "en"; anything else is Dutch,
// the default language of Stilstaan.
func replyLang(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if lang == "en" || strings.HasPrefix(lang, "en-") || strings.HasPrefix(lang, "en_") {
		return "en"
	}
	return "nl"
}

// forLang returns the helplines for lang, falling back to Dutch and then to
// the defaults, so a reply never goes out without a helpline.
func (h Helplines) forLang(lang string) []Helpline {
	if l := h[lang]; len(l) > 0 {
		return l
	}
	if l := h["nl"]; len(l) > 0 {
		return l
	}
	return DefaultHelplines()[lang]
}

// render writes the helplines as a plain-text list, one line each.
func (h Helplines) render(lang string) string {
	or, call, visit := " of ", "bel ", "kijk op "
	if lang == "en" {
		or, call, visit = " or ", "call ", "go to "
	}
	var b strings.Builder
	for _, l := range h.forLang(lang) {
		var parts []string
		if t := strings.TrimSpace(l.Text); t != "" {
			parts = append(parts, t)
		}
		if ps := l.phones(); len(ps) > 0 {
			parts = append(parts, call+strings.Join(ps, or))
		}
		if u := strings.TrimSpace(l.URL); u != "" {
			parts = append(parts, visit+u)
		}
		b.WriteString("- ")
		b.WriteString(strings.TrimSpace(l.Name))
		if len(parts) > 0 {
			b.WriteString(": ")
			b.WriteString(strings.Join(parts, ","+or))
		}
		if hrs := strings.TrimSpace(l.Hours); hrs != "" {
			b.WriteString(" (" + hrs + ")")
		}
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}

// AcuteReply is the safety reply to an acute signal: it acknowledges what
// the person wrote without alarm, gives the helplines, says plainly that
// Stilstaan is an automated self-help bot, says a coach has been told only
// when coachTold, and ends by offering a grounding exercise now or a pause
// (the caller adds the buttons).
func AcuteReply(lang string, h Helplines, coachTold bool) string {
	lang = replyLang(lang)
	var b strings.Builder
	if lang == "en" {
		b.WriteString("Thank you for telling me. What you wrote sounds really heavy, and you don't have to carry it alone.\n\n")
		b.WriteString("I'm Stilstaan, an automated self-help bot, not a counsellor, so I can't give you the help a person can. You can talk to someone who can, right now:\n")
		b.WriteString(h.render(lang))
		b.WriteString("\n\n")
		if coachTold {
			b.WriteString("A coach from Stilstaan has been told and will look at our conversation.\n\n")
		}
		b.WriteString("I've stopped the exercise. Would you like to do a short grounding exercise with me now, or take a pause?")
		return b.String()
	}
	b.WriteString("Dank je dat je dit met me deelt. Wat je schrijft klinkt zwaar, en je hoeft het niet alleen te dragen.\n\n")
	b.WriteString("Ik ben Stilstaan, een automatische zelfhulpbot en geen hulpverlener, dus ik kan je niet geven wat een mens je kan geven. Je kunt nu meteen praten met iemand die dat wel kan:\n")
	b.WriteString(h.render(lang))
	b.WriteString("\n\n")
	if coachTold {
		b.WriteString("Een coach van Stilstaan is op de hoogte gebracht en kijkt naar ons gesprek.\n\n")
	}
	b.WriteString("Ik heb de oefening stilgezet. Wil je nu samen met mij een korte oefening doen om weer wat grond onder je voeten te voelen, of wil je liever even pauzeren?")
	return b.String()
}

// ElevatedReply answers strong distress without signs of intent: it
// acknowledges, offers the helplines, and leaves the choice to go on or to
// pause with the person.
func ElevatedReply(lang string, h Helplines) string {
	lang = replyLang(lang)
	if lang == "en" {
		return "It sounds like this is a lot right now. That's allowed to be here, and it makes sense that it feels heavy.\n\n" +
			"I'm an automated self-help bot, not a counsellor. If you'd like to talk to a person, you can, at any time:\n" +
			h.render(lang) + "\n\n" +
			"Would you like to go on with the exercise, slowly and at your own pace, or take a pause for now?"
	}
	return "Het klinkt alsof het je nu veel is. Dat mag er zijn, en het is logisch dat het zwaar voelt.\n\n" +
		"Ik ben een automatische zelfhulpbot en geen hulpverlener. Wil je met een mens praten, dan kan dat altijd:\n" +
		h.render(lang) + "\n\n" +
		"Wil je rustig verder met de oefening, in je eigen tempo, of wil je liever even pauzeren?"
}

// HumanRequestReply answers a request to talk to a person: honest that this
// is a bot, and that a coach has been told only when coachTold.
func HumanRequestReply(lang string, coachTold bool) string {
	lang = replyLang(lang)
	if lang == "en" {
		s := "I understand you'd like to talk to a person. I'm Stilstaan, an automated self-help bot, so I can't be that person myself.\n\n"
		if coachTold {
			return s + "I've let a coach from Stilstaan know that you'd like contact. They will read our conversation and get back to you here as soon as they can; that may not be right away.\n\n" +
				"If you need someone now, call your GP, or a helpline that is there day and night."
		}
		return s + "No coach is following your conversations, so I can't pass this on to anyone. Your GP is a good place to start, and if things feel heavy, a helpline is there day and night."
	}
	s := "Ik snap dat je graag met een mens wilt praten. Ik ben Stilstaan, een automatische zelfhulpbot, dus die mens kan ik zelf niet zijn.\n\n"
	if coachTold {
		return s + "Ik heb een coach van Stilstaan laten weten dat je contact wilt. Die leest ons gesprek en reageert hier zodra dat kan; dat is misschien niet meteen.\n\n" +
			"Heb je nu iemand nodig, bel dan je huisarts of de huisartsenpost, of een hulplijn die dag en nacht bereikbaar is."
	}
	return s + "Er kijkt bij jou geen coach mee, dus ik kan dit niet aan iemand doorgeven. Je huisarts is een goed begin, en als het zwaar is, kun je dag en nacht bij een hulplijn terecht."
}

// BotAnswer truthfully answers "are you a bot?".
func BotAnswer(lang string) string {
	if replyLang(lang) == "en" {
		return "Yes, I'm a bot. Stilstaan is an automated self-help program, not a person and not a counsellor. " +
			"The exercises were written by people; sometimes an AI language model helps me reflect back what you wrote. " +
			"If you'd rather talk to a person, just say so."
	}
	return "Ja, ik ben een bot. Stilstaan is een automatisch zelfhulpprogramma, geen mens en geen hulpverlener. " +
		"De oefeningen zijn door mensen geschreven; soms helpt een AI-taalmodel me om terug te geven wat je schreef. " +
		"Wil je liever met een mens praten, zeg het gerust."
}

// DeclinedFollowUp is the one check-in sent the day after a person declined
// help following an acute flag.
func DeclinedFollowUp(lang string, h Helplines) string {
	lang = replyLang(lang)
	if lang == "en" {
		return "Hi, I wanted to check in after our last conversation. How are you doing now?\n\n" +
			"You don't have to do anything; you can simply reply here if you like. And if things get heavy again, these people are there for you:\n" +
			h.render(lang) + "\n\n" +
			"I'm an automated self-help bot, not a counsellor, but I'm glad you're here."
	}
	return "Hoi, ik wilde even bij je kijken na ons vorige gesprek. Hoe gaat het nu met je?\n\n" +
		"Je hoeft niets; als je wilt, kun je hier gewoon antwoorden. En als het weer zwaar wordt, zijn deze mensen er voor je:\n" +
		h.render(lang) + "\n\n" +
		"Ik ben een automatische zelfhulpbot en geen hulpverlener, maar ik ben blij dat je er bent."
}

// CoachAlert is the Telegram announcement of a flag to a coach. It names the
// level, the category, the person's pseudonym and the time, and never the
// message text, which coaches read in the dashboard.
func CoachAlert(lang string, level Level, category, pseudonym string, at time.Time) string {
	lang = replyLang(lang)
	when := at.Format("2006-01-02 15:04 MST")
	if lang == "en" {
		return fmt.Sprintf("Stilstaan flag: %s (%s)\nPerson: %s\nWhen: %s\n\nOpen the dashboard to read the conversation and mark the flag as reviewed.",
			levelLabel(lang, level), categoryLabel(lang, category), pseudonym, when)
	}
	return fmt.Sprintf("Stilstaan-melding: %s (%s)\nDeelnemer: %s\nWanneer: %s\n\nOpen het dashboard om het gesprek te lezen en de melding af te handelen.",
		levelLabel(lang, level), categoryLabel(lang, category), pseudonym, when)
}

func levelLabel(lang string, l Level) string {
	nl := map[Level]string{None: "ter info", Elevated: "VERHOOGD", Acute: "ACUUT"}
	en := map[Level]string{None: "for information", Elevated: "ELEVATED", Acute: "ACUTE"}
	m := nl
	if lang == "en" {
		m = en
	}
	if s, ok := m[l]; ok {
		return s
	}
	return l.String()
}

func categoryLabel(lang string, c string) string {
	nl := map[string]string{
		CategorySuicide: "suïcide", CategorySelfHarm: "zelfbeschadiging", CategoryViolence: "geweld thuis",
		CategoryDistress: "sterke onrust", CategoryHumanRequest: "wil een mens spreken", CategoryBotQuestion: "vraag of dit een bot is",
		"": "geen categorie",
	}
	en := map[string]string{
		CategorySuicide: "suicide", CategorySelfHarm: "self-harm", CategoryViolence: "violence at home",
		CategoryDistress: "strong distress", CategoryHumanRequest: "asks for a person", CategoryBotQuestion: "asks whether this is a bot",
		"": "no category",
	}
	m := nl
	if lang == "en" {
		m = en
	}
	if s, ok := m[c]; ok {
		return s
	}
	return strings.ReplaceAll(c, "_", " ")
}
