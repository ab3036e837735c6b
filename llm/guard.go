package llm

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Rules a Guard can reject a reply on. Guard.Check returns one of them and
// Reflect reports it as "guard_rejected:<rule>".
const (
	RuleEmpty      = "empty"       // nothing but whitespace
	RuleCrisis     = "crisis"      // the injected crisis classifier matched
	RuleTooLong    = "too_long"    // more characters than the cap
	RuleLink       = "link"        // a URL, a bare domain or an e-mail address
	RulePhone      = "phone"       // a phone number not in the allowed list
	RuleDiagnosis  = "diagnosis"   // diagnostic or clinical vocabulary
	RuleMedication = "medication"  // medication, pills, doses, prescriptions
	RuleHumanClaim = "human_claim" // the reply claims to be a human or to have lived something
	RuleLanguage   = "language"    // the reply is not in the requested language
)

// DefaultMaxReplyChars is the Guard's length cap unless WithMaxChars or
// Config.MaxReplyChars says otherwise.
const DefaultMaxReplyChars = 600

// Guard checks a model's reply before anyone sees it. A Guard is immutable
// and safe for concurrent use.
type Guard struct {
	maxChars       int
	allowedNumbers map[string]bool // digits only, e.g. "08000113"
	allowedLinks   []string        // normalised, e.g. "113.nl"
	crisis         func(string) bool
}

// NewGuard returns a Guard with the default length cap. allowed lists
// helpline numbers and addresses that may appear in a reply (e.g. "113",
// "0800-0113", "113.nl", "https://findahelpline.com"); an entry with a
// letter in it is an address, matched with or without scheme and "www."
// and including paths below it; any other entry is a number, matched on
// its digits whatever the spacing. crisis is the safety classifier: when
// it returns true for a reply, the reply is rejected. It may be nil.
func NewGuard(allowed []string, crisis func(string) bool) *Guard {
	g := &Guard{maxChars: DefaultMaxReplyChars, allowedNumbers: map[string]bool{}, crisis: crisis}
	for _, a := range allowed {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if strings.IndexFunc(a, unicode.IsLetter) >= 0 {
			g.allowedLinks = append(g.allowedLinks, normLink(a))
			continue
		}
		if d := digitsOf(a); d != "" {
			g.allowedNumbers[d] = true
		}
	}
	return g
}

// WithMaxChars returns a copy of g whose length cap is n characters
// (runes); n <= 0 keeps the current cap.
func (g *Guard) WithMaxChars(n int) *Guard {
	c := *g
	if n > 0 {
		c.maxChars = n
	}
	return &c
}

// MaxChars returns the length cap in characters.
func (g *Guard) MaxChars() int { return g.maxChars }

// Check returns ("", true) when text may be shown to a person who asked in
// lang ("nl" or "en"; for another language the language check is skipped),
// and otherwise the first rule it breaks, in this order: RuleEmpty,
// RuleCrisis, RuleTooLong, RuleLink, RulePhone, RuleDiagnosis,
// RuleMedication, RuleHumanClaim, RuleLanguage. Vocabulary of both
// languages is checked whatever lang is.
func (g *Guard) Check(text, lang string) (rule string, ok bool) {
	if strings.TrimSpace(text) == "" {
		return RuleEmpty, false
	}
	if g.crisis != nil && g.crisis(text) {
		return RuleCrisis, false
	}
	if utf8.RuneCountInString(text) > g.maxChars {
		return RuleTooLong, false
	}
	norm := normalize(text)
	if g.hasLink(norm) {
		return RuleLink, false
	}
	if g.hasPhone(norm) {
		return RulePhone, false
	}
	if rule := vocabulary(norm); rule != "" {
		return rule, false
	}
	if humanClaims.match(norm) {
		return RuleHumanClaim, false
	}
	if !languageOK(norm, lang) {
		return RuleLanguage, false
	}
	return "", true
}

var quoteReplacer = strings.NewReplacer("’", "'", "‘", "'", "`", "'", "´", "'", "“", `"`, "”", `"`, "„", `"`, "\u00a0", " ")

// normalize lower-cases text and straightens the quotes phone keyboards
// curl, so "I’m" matches "i'm".
func normalize(text string) string {
	return strings.ToLower(quoteReplacer.Replace(text))
}

var (
	schemeLinkRE = regexp.MustCompile(`\b(?:https?|ftp)://[^\s<>"]+|\bwww\.[^\s<>"]+`)
	emailRE      = regexp.MustCompile(`[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}`)
	domainRE     = regexp.MustCompile(`\b(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:nl|be|com|org|net|eu|io|info|de|uk|fr|app|me|co|ai|gov|edu|online|site|link|ly|help)\b(?:/[^\s<>"]*)?`)
)

// linkChecks pair each link pattern with substrings one of which any
// match contains, so the regular expressions only run when needed.
var linkChecks = []phrases{
	{needles: []string{"://", "www."}, re: schemeLinkRE},
	{needles: []string{"@"}, re: emailRE},
	{needles: []string{".nl", ".be", ".com", ".org", ".net", ".eu", ".io", ".info", ".de", ".uk", ".fr", ".app", ".me", ".co", ".ai", ".gov", ".edu", ".online", ".site", ".link", ".ly", ".help"}, re: domainRE},
}

func (g *Guard) hasLink(norm string) bool {
	for _, c := range linkChecks {
		if !c.present(norm) {
			continue
		}
		for _, m := range c.re.FindAllString(norm, -1) {
			if !g.linkAllowed(m) {
				return true
			}
		}
	}
	return false
}

func (g *Guard) linkAllowed(link string) bool {
	l := normLink(link)
	for _, a := range g.allowedLinks {
		if l == a || strings.HasPrefix(l, a+"/") {
			return true
		}
	}
	return false
}

// normLink reduces an address to a comparable form: lower case, without
// scheme, "www." and trailing punctuation or slash.
func normLink(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, p := range []string{"https://", "http://", "ftp://", "www."} {
		s = strings.TrimPrefix(s, p)
	}
	s = strings.TrimRight(s, ".,;:!?)'\"")
	return strings.TrimRight(s, "/")
}

var (
	// numberRE finds digit runs with the separators phone numbers are
	// written with; hasPhone decides on the digit count.
	numberRE = regexp.MustCompile(`\+?\(?\d[\d \t().\-/]*\d`)
	dateRE   = regexp.MustCompile(`^\d{1,2}[\-/.]\d{1,2}(?:[\-/.]\d{2,4})?$`)
	// shortNumberRE finds the short numbers of emergency and helplines,
	// and any short number right after a word for calling or texting.
	shortNumberRE = regexp.MustCompile(`\b(?:112|113|911|988|999|116\d{3})\b|\b(?:bel|belt|bellen|sms|sms'en|app|whatsapp|call|dial|phone|ring|text)(?:\s+(?:naar|op|het|nummer|to|on|the|number))*\s+\+?(\d{3,5})\b`)
)

func (g *Guard) hasPhone(norm string) bool {
	if !strings.ContainsAny(norm, "0123456789") {
		return false
	}
	for _, m := range numberRE.FindAllString(norm, -1) {
		d := digitsOf(m)
		if len(d) < 6 || dateRE.MatchString(strings.Trim(m, "()")) {
			continue
		}
		if !g.numberAllowed(d) {
			return true
		}
	}
	for _, m := range shortNumberRE.FindAllStringSubmatch(norm, -1) {
		d := m[1]
		if d == "" {
			d = m[0]
		}
		if !g.numberAllowed(d) {
			return true
		}
	}
	return false
}

// numberAllowed reports whether digits is one allowed number, or several
// written next to each other ("113 / 0800-0113").
func (g *Guard) numberAllowed(digits string) bool {
	if len(g.allowedNumbers) == 0 {
		return false
	}
	// ok[i]: digits[:i] splits into allowed numbers.
	ok := make([]bool, len(digits)+1)
	ok[0] = true
	for i := 1; i <= len(digits); i++ {
		for j := 0; j < i && !ok[i]; j++ {
			ok[i] = ok[j] && g.allowedNumbers[digits[j:i]]
		}
	}
	return ok[len(digits)]
}

func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
