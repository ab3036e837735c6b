package safety

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Classifier matches normalised messages against the named rules. Build it
// once with NewClassifier; it is immutable and safe for concurrent use.
type Classifier struct {
	masks []compiledMask
	rules []compiledRule
	index *literalIndex
}

type compiledMask struct {
	name string
	re   *regexp.Regexp
	need idRequirement
}

type compiledRule struct {
	name     string
	level    Level
	category string
	re       *regexp.Regexp
	unless   *regexp.Regexp
	need     idRequirement
}

// maskPlaceholder replaces a masked span. Normalize removes control
// characters, so NUL never occurs in normalised text; rule gaps never cross
// it, and it does not count as the end of a clause either.
const maskPlaceholder = " \x00 "

// NewClassifier returns the classifier of the built-in rule set. The rules
// are compiled once per process, on the first call: the compiled programs
// take about 8 MiB of heap (the word gaps and filler lists repeat large
// alternations) and compiling them allocates some 40 MB on the way. A
// Classifier is immutable and safe for concurrent use, so every caller (the
// crisis screen, the care loop, the LLM guard) shares that one. It panics
// when a built-in pattern does not compile, which the package tests rule out.
func NewClassifier() *Classifier {
	return builtinClassifier()
}

var builtinClassifier = sync.OnceValue(func() *Classifier {
	c, err := newClassifier(ruleSpecs, maskSpecs)
	if err != nil {
		panic(err)
	}
	return c
})

func newClassifier(rules []ruleSpec, masks []maskSpec) (*Classifier, error) {
	c := &Classifier{index: newLiteralIndex()}
	for _, m := range masks {
		re, err := compilePattern(m.pattern)
		if err != nil {
			return nil, fmt.Errorf("safety: mask %s: %w", m.name, err)
		}
		need, err := c.index.compile(requiredLiterals(re))
		if err != nil {
			return nil, fmt.Errorf("safety: mask %s: %w", m.name, err)
		}
		c.masks = append(c.masks, compiledMask{name: m.name, re: re, need: need})
	}
	for _, r := range rules {
		re, err := compilePattern(r.pattern)
		if err != nil {
			return nil, fmt.Errorf("safety: rule %s: %w", r.name, err)
		}
		need, err := c.index.compile(requiredLiterals(re))
		if err != nil {
			return nil, fmt.Errorf("safety: rule %s: %w", r.name, err)
		}
		cr := compiledRule{name: r.name, level: r.level, category: r.category, re: re, need: need}
		if r.unless != "" {
			if cr.unless, err = compilePattern(r.unless); err != nil {
				return nil, fmt.Errorf("safety: rule %s: unless: %w", r.name, err)
			}
		}
		c.rules = append(c.rules, cr)
	}
	// The most urgent rule wins; within a level the order of categoryRank,
	// then the order of the rule list.
	sort.SliceStable(c.rules, func(i, j int) bool {
		a, b := c.rules[i], c.rules[j]
		if a.level != b.level {
			return a.level > b.level
		}
		return categoryRank(a.category) < categoryRank(b.category)
	})
	return c, nil
}

func compilePattern(p string) (*regexp.Regexp, error) {
	x, err := expandTemplate(p)
	if err != nil {
		return nil, err
	}
	return regexp.Compile(x)
}

func categoryRank(c string) int {
	switch c {
	case CategorySuicide:
		return 0
	case CategorySelfHarm:
		return 1
	case CategoryViolence:
		return 2
	case CategoryDistress:
		return 3
	case CategoryHumanRequest:
		return 4
	case CategoryBotQuestion:
		return 5
	}
	return 6
}

// Classify normalises text and returns the most urgent rule that matches,
// or the zero Result when none does.
func (c *Classifier) Classify(text string) Result {
	n := Normalize(text)
	if n == "" {
		return Result{}
	}
	var found literalSet
	c.index.scan(n, &found)
	n = c.applyMasks(n, &found)
	for i := range c.rules {
		r := &c.rules[i]
		if r.need.holds(&found) && r.matches(n) {
			return Result{Level: r.level, Category: r.category, Rule: r.name}
		}
	}
	return Result{}
}

// applyMasks blanks out figures of speech, accidents and clear negations
// before the rules run (see maskSpecs). found lists the literals of n and
// is brought up to date when a mask changes n.
func (c *Classifier) applyMasks(n string, found *literalSet) string {
	for i := range c.masks {
		m := &c.masks[i]
		if !m.need.holds(found) {
			continue
		}
		if m.re.MatchString(n) {
			n = m.re.ReplaceAllLiteralString(n, maskPlaceholder)
			c.index.scan(n, found)
		}
	}
	return n
}

// matches reports whether the rule matches n in a sentence that its unless
// pattern does not exclude.
func (r *compiledRule) matches(n string) bool {
	if r.unless == nil {
		return r.re.MatchString(n)
	}
	for _, loc := range r.re.FindAllStringIndex(n, -1) {
		if !r.unless.MatchString(sentenceAround(n, loc[0], loc[1])) {
			return true
		}
	}
	return false
}

// sentenceAround returns the sentence of n that holds n[start:end].
func sentenceAround(n string, start, end int) string {
	s := strings.LastIndexAny(n[:start], ".!?\x00")
	e := strings.IndexAny(n[end:], ".!?\x00")
	if e < 0 {
		e = len(n)
	} else {
		e += end
	}
	return n[s+1 : e]
}

// SecondOpinion is an optional extra classifier, for example one backed by
// a language model, that may catch indirect wording the rules miss.
type SecondOpinion interface {
	Classify(ctx context.Context, text string) (Result, error)
}

// Combine merges the keyword result with a second opinion. It only ever
// raises: the second opinion is used when it returned without error, has a
// valid level and that level is higher than the keyword level. A keyword hit
// is never lowered or replaced, and an error or nonsense from the second
// opinion leaves the keyword result as it is.
//
// When the keyword result found nothing at all, a second opinion at level
// None that recognised a request for a human or a question about the bot
// is taken too, since that adds a category without lowering anything.
func Combine(keyword, second Result, err error) Result {
	if err != nil || !second.Level.Valid() || !knownCategory(second.Category) {
		return keyword
	}
	if second.Level > keyword.Level {
		if second.Category == "" || second.Category == CategoryHumanRequest || second.Category == CategoryBotQuestion {
			if second.Level == Acute {
				second.Category = CategorySuicide
			} else {
				second.Category = CategoryDistress
			}
		}
		if second.Rule == "" {
			second.Rule = "second_opinion"
		}
		return second
	}
	if keyword.Level == None && keyword.Category == "" && second.Level == None &&
		(second.Category == CategoryHumanRequest || second.Category == CategoryBotQuestion) {
		if second.Rule == "" {
			second.Rule = "second_opinion"
		}
		return second
	}
	return keyword
}

func knownCategory(c string) bool {
	return c == "" || categoryRank(c) < 6
}
