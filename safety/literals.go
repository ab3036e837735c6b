package safety

import (
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
)

// maxNeed caps one literal set; a bigger set is not worth checking before
// running the regexp. maxSets caps how many sets a pattern keeps.
const (
	maxNeed = 48
	maxSets = 3
)

// requirement is a conjunction of literal sets: every match contains at
// least one string of each set.
type requirement [][]string

// holds reports whether s can match: it contains a string of every set. An
// empty requirement always holds.
func (q requirement) holds(s string) bool {
	for _, set := range q {
		if !containsAny(s, set) {
			return false
		}
	}
	return true
}

func containsAny(s string, set []string) bool {
	for _, x := range set {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// requiredLiterals returns literal sets of which every match of re holds at
// least one string each (see requirement), or nil when no fixed text is
// needed. Classify checks them with strings.Contains before running re,
// which skips most rules for most messages.
func requiredLiterals(re *regexp.Regexp) requirement {
	p, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	q := needOf(p.Simplify())
	// Most selective set first, so a message fails fast.
	sort.SliceStable(q, func(i, j int) bool { return better(q[i], q[j]) })
	if len(q) > maxSets {
		q = q[:maxSets]
	}
	return q
}

// needOf computes the requirement of one syntax node.
func needOf(re *syntax.Regexp) requirement {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return requirement{{string(re.Rune)}}
	case syntax.OpCapture, syntax.OpPlus:
		return needOf(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return needOf(re.Sub[0])
		}
	case syntax.OpConcat:
		var q requirement
		for _, sub := range re.Sub {
			q = append(q, needOf(sub)...)
		}
		return q
	case syntax.OpAlternate:
		// Each branch must contribute: take its most selective set.
		var all []string
		for _, sub := range re.Sub {
			b := needOf(sub)
			if len(b) == 0 {
				return nil
			}
			best := b[0]
			for _, s := range b[1:] {
				if better(s, best) {
					best = s
				}
			}
			all = append(all, best...)
			if len(all) > maxNeed {
				return nil
			}
		}
		return requirement{all}
	}
	return nil
}

// better reports whether literal set a is more selective than b: its
// shortest string is longer, or as long with fewer strings.
func better(a, b []string) bool {
	ma, mb := minLen(a), minLen(b)
	if ma != mb {
		return ma > mb
	}
	return len(a) < len(b)
}

func minLen(s []string) int {
	m := -1
	for _, x := range s {
		if m < 0 || len(x) < m {
			m = len(x)
		}
	}
	return m
}
