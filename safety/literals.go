package safety

import (
	"regexp"
	"regexp/syntax"
)

// maxNeed caps the literal set of one pattern; a bigger set is not worth
// checking before running the regexp.
const maxNeed = 48

// requiredLiterals returns strings of which every match of re contains at
// least one, or nil when there is no such set. Classify checks them with
// strings.Contains before running re, which skips most rules for most
// messages and keeps classification fast.
func requiredLiterals(re *regexp.Regexp) []string {
	p, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	set, ok := needOf(p.Simplify())
	if !ok {
		return nil
	}
	return set
}

// needOf computes the literal set of one syntax node; ok is false when a
// match need not contain any fixed text.
func needOf(re *syntax.Regexp) (set []string, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpCapture, syntax.OpPlus:
		return needOf(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return needOf(re.Sub[0])
		}
	case syntax.OpConcat:
		best, found := []string(nil), false
		for _, sub := range re.Sub {
			s, ok := needOf(sub)
			if ok && (!found || better(s, best)) {
				best, found = s, true
			}
		}
		return best, found
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			s, ok := needOf(sub)
			if !ok {
				return nil, false
			}
			all = append(all, s...)
			if len(all) > maxNeed {
				return nil, false
			}
		}
		return all, len(all) > 0
	}
	return nil, false
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
