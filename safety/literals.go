package safety

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"slices"
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

// requiredLiterals returns literal sets of which every match of re holds at
// least one string each (see requirement), or nil when no fixed text is
// needed. Classify looks them up in one pass over the message before
// running re, which skips most rules for most messages.
func requiredLiterals(re *regexp.Regexp) requirement {
	p, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	q := analyze(p.Simplify()).requirement()
	// Most selective set first, and only the best few.
	sort.SliceStable(q, func(i, j int) bool { return better(q[i], q[j]) })
	if len(q) > maxSets {
		q = q[:maxSets]
	}
	return q
}

// maxExact caps the finite string sets tracked while analysing a pattern.
const maxExact = 16

// litInfo describes what a syntax node matches: exact, when not nil, is
// every string it can match (a small finite set, possibly with ""); req is
// what any match must contain otherwise.
type litInfo struct {
	exact []string
	req   requirement
}

func (li litInfo) requirement() requirement {
	if li.exact != nil {
		return appendSet(nil, li.exact)
	}
	return li.req
}

// appendSet adds set to q unless it holds "", which every text contains.
func appendSet(q requirement, set []string) requirement {
	if len(set) == 0 || slices.Contains(set, "") {
		return q
	}
	return append(q, set)
}

func analyze(re *syntax.Regexp) litInfo {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return litInfo{}
		}
		return litInfo{exact: []string{string(re.Rune)}}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return litInfo{exact: []string{""}}
	case syntax.OpCapture:
		return analyze(re.Sub[0])
	case syntax.OpQuest:
		sub := analyze(re.Sub[0])
		if sub.exact != nil && len(sub.exact) < maxExact {
			return litInfo{exact: union(sub.exact, []string{""})}
		}
		return litInfo{}
	case syntax.OpPlus:
		return litInfo{req: analyze(re.Sub[0]).requirement()}
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return litInfo{req: analyze(re.Sub[0]).requirement()}
		}
		return litInfo{}
	case syntax.OpConcat:
		var req requirement
		cur, exact := []string{""}, true
		for _, sub := range re.Sub {
			si := analyze(sub)
			if si.exact != nil {
				if prod := cross(cur, si.exact); prod != nil {
					cur = prod
					continue
				}
				req, cur, exact = appendSet(req, cur), si.exact, false
				continue
			}
			req, cur, exact = appendSet(req, cur), []string{""}, false
			req = append(req, si.req...)
		}
		if exact {
			return litInfo{exact: cur}
		}
		return litInfo{req: appendSet(req, cur)}
	case syntax.OpAlternate:
		infos := make([]litInfo, len(re.Sub))
		allExact := true
		for i, sub := range re.Sub {
			infos[i] = analyze(sub)
			allExact = allExact && infos[i].exact != nil
		}
		if allExact {
			var u []string
			for _, in := range infos {
				if u = union(u, in.exact); len(u) > maxExact {
					break
				}
			}
			if len(u) <= maxExact {
				return litInfo{exact: u}
			}
		}
		// Each branch must contribute: take its most selective set.
		var all []string
		for _, in := range infos {
			q := in.requirement()
			if len(q) == 0 {
				return litInfo{}
			}
			best := q[0]
			for _, s := range q[1:] {
				if better(s, best) {
					best = s
				}
			}
			if all = union(all, best); len(all) > maxNeed {
				return litInfo{}
			}
		}
		return litInfo{req: requirement{all}}
	}
	return litInfo{}
}

// cross returns every a+b, or nil when there would be more than maxExact.
func cross(as, bs []string) []string {
	if len(as)*len(bs) > maxExact {
		return nil
	}
	out := make([]string, 0, len(as)*len(bs))
	for _, a := range as {
		for _, b := range bs {
			out = append(out, a+b)
		}
	}
	return out
}

// union returns a with the strings of b it lacks appended.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// better reports whether literal set a is more selective than b: its
// shortest string is longer (up to six bytes), or as long with fewer
// strings.
func better(a, b []string) bool {
	// Past a handful of bytes a longer literal hardly filters better, and
	// every extra string costs a comparison.
	ma, mb := min(minLen(a), 6), min(minLen(b), 6)
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

// maxLiterals bounds the distinct literals of a rule set, so the set of
// literals found in a message fits in a fixed bitset on the stack.
const maxLiterals = 64 * 64

// literalSet records which literals of a literalIndex occur in a text.
type literalSet [maxLiterals / 64]uint64

func (s *literalSet) has(id int32) bool { return s[id>>6]&(1<<(uint(id)&63)) != 0 }

// literalIndex finds all literals of the rule set in a text in one pass:
// literals are bucketed by their first two bytes (one byte for one-byte
// literals), and at each position only that bucket is compared.
type literalIndex struct {
	ids    map[string]int32
	lits   []string
	single [256][]int32
	pairs  map[uint16][]int32
}

func newLiteralIndex() *literalIndex {
	return &literalIndex{ids: map[string]int32{}, pairs: map[uint16][]int32{}}
}

// add registers s and returns its id.
func (x *literalIndex) add(s string) (int32, error) {
	if id, ok := x.ids[s]; ok {
		return id, nil
	}
	if len(x.lits) >= maxLiterals {
		return 0, errors.New("too many distinct literals for the prefilter")
	}
	id := int32(len(x.lits))
	x.ids[s] = id
	x.lits = append(x.lits, s)
	if len(s) == 1 {
		x.single[s[0]] = append(x.single[s[0]], id)
	} else {
		k := uint16(s[0])<<8 | uint16(s[1])
		x.pairs[k] = append(x.pairs[k], id)
	}
	return id, nil
}

// compile turns a requirement into literal ids.
func (x *literalIndex) compile(q requirement) (idRequirement, error) {
	out := make(idRequirement, 0, len(q))
	for _, set := range q {
		ids := make([]int32, 0, len(set))
		for _, s := range set {
			id, err := x.add(s)
			if err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		out = append(out, ids)
	}
	return out, nil
}

// scan marks every literal that occurs in text.
func (x *literalIndex) scan(text string, found *literalSet) {
	*found = literalSet{}
	for i := 0; i < len(text); i++ {
		for _, id := range x.single[text[i]] {
			found[id>>6] |= 1 << (uint(id) & 63)
		}
		if i+1 == len(text) {
			break
		}
		for _, id := range x.pairs[uint16(text[i])<<8|uint16(text[i+1])] {
			if found.has(id) {
				continue
			}
			if strings.HasPrefix(text[i:], x.lits[id]) {
				found[id>>6] |= 1 << (uint(id) & 63)
			}
		}
	}
}

// idRequirement is a requirement with literals replaced by their ids.
type idRequirement [][]int32

// holds reports whether every set has a literal in found.
func (q idRequirement) holds(found *literalSet) bool {
	for _, set := range q {
		ok := false
		for _, id := range set {
			if found.has(id) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
