package safety

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize folds a message into the form the crisis rules are written
// against. It lower-cases; turns curly quotes and apostrophes into plain
// ones; folds accents and compatibility forms (NFKD, combining marks
// removed, so "suÏcide" becomes "suicide" and full-width letters become
// ASCII); removes zero-width, format and control characters (so
// "zelf\u200bmoord" is "zelfmoord"); collapses whitespace; squashes letters
// repeated three or more times; joins words spelled out letter by letter
// ("d i e"); reads digits used as letters in known words ("d00d"); and maps
// common misspellings and chat spellings ("zelfmoort", "zelf moord", "kms",
// "nie", "ff", "idk", "sewerslide") to one spelling.
//
// Squashing a run of a repeated letter keeps one or two letters. Dutch has
// many long vowels written double ("maar", "leeg", "zelfmoord"), and chat
// stretches both kinds of word ("doooood", "nieeet"), so a stretched word
// is looked up: the known word list (every word the rules use, plus common
// Dutch and English words) decides, trying the doubled form first, then the
// single one. An unknown word keeps two letters, except for letters that
// rarely double in Dutch or English (i, y, h, j, q, v, w, x), which keep one.
//
// Punctuation is kept; the classifier decides what it means. Normalize is
// idempotent: Normalize(Normalize(s)) == Normalize(s).
func Normalize(s string) string {
	if s == "" {
		return ""
	}
	s = strings.Map(plainQuote, s)
	s = norm.NFKD.String(s)

	var b strings.Builder
	b.Grow(len(s))
	pendingSpace := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			pendingSpace = b.Len() > 0
			continue
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Cc, unicode.Co, unicode.Cs):
			continue
		}
		if pendingSpace {
			b.WriteByte(' ')
			pendingSpace = false
		}
		b.WriteRune(unicode.ToLower(plainQuote(r)))
	}
	out := norm.NFC.String(b.String())
	// Mapping can make a new phrase ("k wl" becomes "ik wl", then "ik
	// wil"), so it runs until nothing changes; a few rounds always suffice.
	for range 4 {
		next := mapWords(out)
		if next == out {
			break
		}
		out = next
	}
	return out
}

// plainQuote maps typographic quotes, apostrophes and accents used as
// apostrophes to their plain ASCII form.
func plainQuote(r rune) rune {
	switch r {
	case '\u2019', '\u2018', '\u201A', '\u201B', '\u00B4', '`', '\u02BC', '\u02BB', '\u2032', '\uFF07':
		return '\''
	case '\u201C', '\u201D', '\u201E', '\u201F', '\u00AB', '\u00BB', '\u2033', '\uFF02':
		return '"'
	}
	return r
}

// wordMap maps one token (letters, digits and apostrophes, without the
// punctuation around it) to its canonical spelling. Every value must be a
// fixed point of Normalize; TestNormalizeMapFixedPoints checks that.
var wordMap = map[string]string{
	// Dutch spellings of suicide and friends.
	"zelfmoort":          "zelfmoord",
	"zelfmord":           "zelfmoord",
	"zelmoord":           "zelfmoord",
	"zelfmort":           "zelfmoord",
	"zelfmoordt":         "zelfmoord",
	"zelvmoord":          "zelfmoord",
	"zelf-moord":         "zelfmoord",
	"zelfmoordgedachtes": "zelfmoordgedachten",
	"zelfmoordgedachte":  "zelfmoordgedachten",
	"suisidaal":          "suicidaal",
	"suicidiaal":         "suicidaal",
	"zelfbeschadigin":    "zelfbeschadiging",
	"zelfbeschading":     "zelfbeschadiging",
	"mezelv":             "mezelf",
	"mzelf":              "mezelf",
	"mezef":              "mezelf",
	"mezlf":              "mezelf",
	"mijzelv":            "mijzelf",
	// English spellings of suicide.
	"suicde":      "suicide",
	"sucide":      "suicide",
	"suicdie":     "suicide",
	"suiside":     "suicide",
	"suiscide":    "suicide",
	"suecide":     "suicide",
	"sucicide":    "suicide",
	"suicid":      "suicide",
	"suizid":      "suicide",
	"suicied":     "suicide",
	"sewerslide":  "suicide",
	"sewerslidal": "suicidal",
	"sucidal":     "suicidal",
	"suicdal":     "suicidal",
	"suisidal":    "suicidal",
	"suicidial":   "suicidal",
	"sucicidal":   "suicidal",
	"myslef":      "myself",
	"mysef":       "myself",
	"myselv":      "myself",
	"mself":       "myself",
	"myslf":       "myself",
	"urself":      "yourself",
	"yourslef":    "yourself",
	"selfharm":    "self-harm",
	"selfharming": "self-harming",
	// Chat slang for killing oneself.
	"kms":         "kill myself",
	"kys":         "kill yourself",
	"unalive":     "kill",
	"unaliving":   "killing",
	"unalived":    "killed",
	"selfdelete":  "kill myself",
	"self-delete": "kill myself",
	"ded":         "dead",
	// Dutch chat spellings.
	"nie":       "niet",
	"nt":        "niet",
	"nieet":     "niet",
	"nit":       "niet",
	"k":         "ik",
	"'k":        "ik",
	"ikke":      "ik",
	"ff":        "even",
	"efe":       "even",
	"gwn":       "gewoon",
	"gwoon":     "gewoon",
	"egt":       "echt",
	"echtt":     "echt",
	"mn":        "mijn",
	"m'n":       "mijn",
	"zn":        "zijn",
	"z'n":       "zijn",
	"d'r":       "er",
	"'t":        "het",
	"da's":      "dat is",
	"wss":       "waarschijnlijk",
	"mss":       "misschien",
	"iedereeen": "iedereen",
	"iemant":    "iemand",
	"wrm":       "waarom",
	"nx":        "niks",
	"leve":      "leven",
	"dooie":     "dood",
	// English chat spellings.
	"idk":     "i don't know",
	"wanna":   "want to",
	"gonna":   "going to",
	"gotta":   "got to",
	"ur":      "your",
	"cuz":     "because",
	"coz":     "because",
	"bc":      "because",
	"rn":      "right now",
	"pls":     "please",
	"plz":     "please",
	"every1":  "everyone",
	"some1":   "someone",
	"no1":     "no one",
	"cant":    "can't",
	"dont":    "don't",
	"wont":    "won't",
	"im":      "i'm",
	"ive":     "i've",
	"didnt":   "didn't",
	"doesnt":  "doesn't",
	"isnt":    "isn't",
	"wouldnt": "wouldn't",
}

// phraseMap maps two-token phrases. Keys are matched on the tokens without
// surrounding punctuation; values must be fixed points of Normalize.
var phraseMap = map[string]string{
	"zelfmoord gedachtes": "zelfmoordgedachten",
	"zelfmoord gedachten": "zelfmoordgedachten",
	"zelf moord":          "zelfmoord",
	"zelf moort":          "zelfmoord",
	"sewer slide":         "suicide",
	"sewer slided":        "suicided",
	"self delete":         "kill myself",
	"self deleting":       "killing myself",
	"be unalive":          "be dead",
	"zelf beschadiging":   "zelfbeschadiging",
	"self harm":           "self-harm",
	"ik wl":               "ik wil",
	"wl dood":             "wil dood",
}

// rarelyDoubled letters keep a single letter when a stretched word is not
// in the lexicon.
const rarelyDoubled = "ihjqvwxy"

// mapWords squashes stretched letters and applies wordMap and phraseMap on
// a string whose whitespace is already collapsed to single spaces.
func mapWords(s string) string {
	toks, changed := joinSpelledOut(strings.Split(s, " "))
	type part struct{ pre, core, post string }
	parts := make([]part, len(toks))
	for i, t := range toks {
		pre, core, post := splitToken(t)
		if sq := squashWord(core); sq != core {
			core = sq
			changed = true
		}
		if lf, ok := leetFold(core); ok {
			core = lf
			changed = true
		}
		parts[i] = part{pre, core, post}
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(parts); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		p := parts[i]
		if i+1 < len(parts) && p.post == "" && parts[i+1].pre == "" && p.core != "" && parts[i+1].core != "" {
			if v, ok := phraseMap[p.core+" "+parts[i+1].core]; ok {
				b.WriteString(p.pre)
				b.WriteString(v)
				b.WriteString(parts[i+1].post)
				changed = true
				i++
				continue
			}
		}
		b.WriteString(p.pre)
		if v, ok := wordMap[p.core]; ok {
			b.WriteString(v)
			changed = true
		} else {
			b.WriteString(p.core)
		}
		b.WriteString(p.post)
	}
	if !changed {
		return s
	}
	return b.String()
}

// joinSpelledOut joins three or more single letters in a row into one word,
// so a word spelled out to dodge a filter ("d i e", "d o o d") is read as
// the word.
func joinSpelledOut(toks []string) ([]string, bool) {
	single := func(t string) bool {
		r, size := utf8.DecodeRuneInString(t)
		return size > 0 && size == len(t) && unicode.IsLetter(r)
	}
	var out []string
	changed := false
	for i := 0; i < len(toks); {
		j := i
		for j < len(toks) && single(toks[j]) {
			j++
		}
		if j-i >= 3 {
			out = append(out, strings.Join(toks[i:j], ""))
			changed = true
			i = j
			continue
		}
		if j == i {
			j = i + 1
		}
		out = append(out, toks[i:j]...)
		i = j
	}
	return out, changed
}

// splitToken splits a token into leading punctuation, a core of letters,
// digits and apostrophes, and trailing punctuation. A leading apostrophe
// belongs to the core only in Dutch clitics such as "'k" and "'t".
func splitToken(t string) (pre, core, post string) {
	start := 0
	for start < len(t) {
		r, size := utf8.DecodeRuneInString(t[start:])
		if isCoreRune(r) && (r != '\'' || isClitic(t[start:])) {
			break
		}
		start += size
	}
	end := len(t)
	for end > start {
		r, size := utf8.DecodeLastRuneInString(t[:end])
		if isCoreRune(r) && r != '\'' {
			break
		}
		end -= size
	}
	return t[:start], t[start:end], t[end:]
}

func isCoreRune(r rune) bool {
	return r == '\'' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// isClitic reports whether s starts with a Dutch clitic written with a
// leading apostrophe ("'k", "'t", "'s") followed by the end of the token.
func isClitic(s string) bool {
	if len(s) < 2 || s[0] != '\'' {
		return false
	}
	switch s[1] {
	case 'k', 't', 's':
	default:
		return false
	}
	if len(s) == 2 {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[2:])
	return !isCoreRune(r)
}

// squashWord shortens runs of three or more of the same letter to one or
// two letters, choosing by the lexicon (see Normalize).
func squashWord(w string) string {
	type run struct{ start, end int } // byte offsets of the run
	var runs []run
	prev, count, runStart := rune(-1), 0, 0
	i := 0
	for i <= len(w) {
		var r rune
		size := 0
		if i < len(w) {
			r, size = utf8.DecodeRuneInString(w[i:])
		} else {
			r = -2
		}
		if r == prev && unicode.IsLetter(r) {
			count++
		} else {
			if count >= 3 {
				runs = append(runs, run{runStart, i})
			}
			prev, count, runStart = r, 1, i
		}
		if size == 0 {
			break
		}
		i += size
	}
	if len(runs) == 0 {
		return w
	}
	build := func(single func(k int) bool) string {
		var b strings.Builder
		b.Grow(len(w))
		last := 0
		for k, rn := range runs {
			b.WriteString(w[last:rn.start])
			r, size := utf8.DecodeRuneInString(w[rn.start:])
			b.WriteString(w[rn.start : rn.start+size])
			if !single(k) {
				b.WriteRune(r)
			}
			last = rn.end
		}
		b.WriteString(w[last:])
		return b.String()
	}
	if len(runs) <= 4 {
		// Candidates ordered by how many runs become single: doubled first.
		n := len(runs)
		for ones := 0; ones <= n; ones++ {
			for mask := 0; mask < 1<<n; mask++ {
				if popcount(mask) != ones {
					continue
				}
				c := build(func(k int) bool { return mask&(1<<k) != 0 })
				if knownWord(c) {
					return c
				}
			}
		}
	}
	return build(func(k int) bool {
		r, _ := utf8.DecodeRuneInString(w[runs[k].start:])
		return strings.ContainsRune(rarelyDoubled, r)
	})
}

func popcount(x int) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// maxWordLen bounds the words looked up in the lexicon, which keeps
// Normalize linear on hostile input (one 64 KiB "word").
const maxWordLen = 40

// knownWord reports whether w is in the lexicon, or is a compound of two
// lexicon words of at least two letters each ("zelfmoord" + "gedachten").
func knownWord(w string) bool {
	if len(w) > maxWordLen {
		return false
	}
	if lexicon[w] {
		return true
	}
	for i := 2; i <= len(w)-2; i++ {
		if lexicon[w[:i]] && lexicon[w[i:]] {
			return true
		}
	}
	return false
}

// leetFold replaces digits used as letters ("d00d", "k1ll", "su1c1de") when
// the folded word is a lexicon word.
func leetFold(w string) (string, bool) {
	hasDigit, hasLetter := false, false
	for _, r := range w {
		switch {
		case r >= '0' && r <= '9':
			hasDigit = true
		case unicode.IsLetter(r):
			hasLetter = true
		}
	}
	if !hasDigit || !hasLetter {
		return w, false
	}
	f := strings.Map(func(r rune) rune {
		switch r {
		case '0':
			return 'o'
		case '1':
			return 'i'
		case '3':
			return 'e'
		case '4':
			return 'a'
		case '5':
			return 's'
		case '7':
			return 't'
		}
		return r
	}, w)
	f = squashWord(f)
	if knownWord(f) {
		return f, true
	}
	return w, false
}

// commonWords are everyday words that stretched chat spelling should land
// on, in addition to every word the rules use.
var commonWords = strings.Fields(`
	niet nee nou maar meer heel veel leeg goed zo so no yes ja jaa oke okee
	help hulp please alsjeblieft sorry echt really dood dead die died dying
	kill killing myself mezelf mijzelf zelf zelfmoord leven live life wil
	want need ik me mij mijn my you jij je het er hier alles everything
	iedereen everyone niemand nobody moe tired alleen alone bang scared
	pijn pain huilen cry crying hoi hey hallo hello doei bye dag waarom why
	wat what ben been am all al too te to weg gone stop stoppen hate haat
	snap weet know want because omdat eens nooit never always altijd graag
	toch even gewoon just please thanks dank bedankt ok okay oh ah aah hmm
	huh wow lol haha`)

// lexicon holds every word that squashing may land on. It is built once
// from the rules, the masks, the maps and commonWords.
var lexicon = buildLexicon()

func buildLexicon() map[string]bool {
	lex := make(map[string]bool, 2048)
	add := func(s string) {
		for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }) {
			w = strings.Trim(w, "'")
			if len(w) >= 2 {
				lex[w] = true
			}
		}
	}
	for _, w := range commonWords {
		add(w)
	}
	for k, v := range wordMap {
		add(k)
		add(v)
	}
	for k, v := range phraseMap {
		add(k)
		add(v)
	}
	for _, r := range ruleSpecs {
		add(patternWords(r.pattern))
	}
	for _, m := range maskSpecs {
		add(patternWords(m.pattern))
	}
	return lex
}

// patternWords returns the literal words of a rule pattern: escapes such as
// \b are dropped and template markers expanded, so that only letters the
// pattern actually matches remain.
func patternWords(p string) string {
	if x, err := expandTemplate(p); err == nil {
		p = x
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' && i+1 < len(p) {
			i++
			b.WriteByte(' ')
			continue
		}
		if c == '[' { // character classes carry no words
			for i < len(p) && p[i] != ']' {
				i++
			}
			b.WriteByte(' ')
			continue
		}
		if c == '?' && i > 0 && p[i-1] == '(' { // (?: group marker
			for i < len(p) && p[i] != ':' && p[i] != ')' {
				i++
			}
			b.WriteByte(' ')
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
