package mapping

import (
	"slices"
	"strings"
)

// Person is who is asking to enter a room: their groups and email, indexed
// once so that deciding on any number of rooms allocates nothing. Make one
// with NewPerson per request or session, or keep one and Reset it; a Person
// is safe for concurrent use until it is Reset. A nil *Person is someone
// with no groups and no email, whom only everyone: true covers.
type Person struct {
	groups   []string            // distinct, non-empty, sorted
	keys     []uint64            // keyOf each of groups, for searching
	set      map[string]struct{} // the same groups, for exact names
	rev      []string            // the same groups spelled backwards (byte by byte), sorted, for patterns with a literal suffix
	revOf    []string            // revOf[i] is the group rev[i] spells
	rkeys    []uint64            // keyOf each of rev
	email    string              // as given
	qual     string              // the provider's qualifier, which its groups start with: "" for the primary, "ID:" for another (providers.go)
	provider int                 // index of the provider among the rule set's
	lower    string              // normalEmail's form; "" when there is none, or it cannot be read as an address
	domain   string              // the domain of lower

	// Reset's scratch space, kept for the next Reset.
	pairs   []revPair
	revText []byte
}

// revPair is a group and its name spelled backwards.
type revPair struct{ rev, group string }

// NewPerson indexes a person's groups and email. Empty group names are
// dropped, as are repeats; an empty email is no email, and so is one that
// cannot be read as an address (see normalEmail): neither matches an email
// pattern.
func NewPerson(groups []string, email string) *Person {
	p := &Person{}
	p.Reset(groups, email)
	return p
}

// Reset makes p the person NewPerson(groups, email) returns, in the memory
// p already holds: on the hot path a Person from a sync.Pool costs one
// allocation, the reversed names, instead of a map and six slices. Nothing
// may use p while it is reset; what a Decision on p holds stays valid.
func (p *Person) Reset(groups []string, email string) {
	p.email, p.lower, p.domain = email, "", ""
	p.qual, p.provider = "", 0
	if email != "" {
		p.lower, p.domain, _ = normalEmail(email)
	}
	if p.set == nil {
		p.set = make(map[string]struct{}, len(groups))
	} else {
		clear(p.set)
	}
	p.groups = slices.Grow(p.groups[:0], len(groups))
	for _, g := range groups {
		if g == "" {
			continue
		}
		if _, dup := p.set[g]; dup {
			continue
		}
		p.set[g] = struct{}{}
		p.groups = append(p.groups, g)
	}
	slices.Sort(p.groups)
	n := len(p.groups)
	p.keys = resize(p.keys, n)
	size := 0
	for i, g := range p.groups {
		p.keys[i] = keyOf(g)
		size += len(g)
	}
	// Every reversed name is cut from one string.
	text := slices.Grow(p.revText[:0], size)
	for _, g := range p.groups {
		for i := len(g) - 1; i >= 0; i-- {
			text = append(text, g[i])
		}
	}
	p.revText = text
	all := string(text)
	p.pairs = resize(p.pairs, n)
	off := 0
	for i, g := range p.groups {
		p.pairs[i] = revPair{all[off : off+len(g)], g}
		off += len(g)
	}
	slices.SortFunc(p.pairs, func(a, b revPair) int { return strings.Compare(a.rev, b.rev) })
	p.rev, p.revOf, p.rkeys = resize(p.rev, n), resize(p.revOf, n), resize(p.rkeys, n)
	for i, pr := range p.pairs {
		p.rev[i], p.revOf[i], p.rkeys[i] = pr.rev, pr.group, keyOf(pr.rev)
	}
}

// resize returns s with length n, reusing its array when it is big enough.
func resize[S ~[]E, E any](s S, n int) S {
	if cap(s) < n {
		return make(S, n)
	}
	return s[:n]
}

// Groups returns the person's distinct groups, sorted.
func (p *Person) Groups() []string {
	if p == nil {
		return nil
	}
	return slices.Clone(p.groups)
}

// EmailCounts reports whether the person's email can match an emails
// rule: it is an address, and its provider vouches for its domain.
func (p *Person) EmailCounts() bool { return p != nil && p.lower != "" }

// Email returns the person's email as given to NewPerson.
func (p *Person) Email() string {
	if p == nil {
		return ""
	}
	return p.email
}

// shortest returns the shortest of the person's groups that g matches (the
// first in byte order among the shortest), and whether there is one. It is
// what a session keeps for g: a directory that adds someone to a group with
// a huge name matching eng-* cannot crowd out their eng-platform.
func (p *Person) shortest(g *glob) (string, bool) {
	if p == nil || !p.own(g) {
		return "", false
	}
	if g.kind == globLiteral {
		_, ok := p.set[g.pat]
		return g.pat, ok
	}
	best, found := "", false
	for i := p.lowerBound(g.prefix(), g.prefixKey); i < len(p.groups) && strings.HasPrefix(p.groups[i], g.prefix()); i++ {
		s := p.groups[i]
		if (!found || len(s) < len(best)) && g.matches(s) {
			best, found = s, true
		}
	}
	return best, found
}

// group returns the first (in byte order) of the person's groups that g
// matches, and whether there is one. Being the first, it is the same for any
// set of groups with the same matches, which is what makes Essential safe.
//
// An exact name is a map lookup. A pattern with a literal prefix is a binary
// search for the first group with that prefix; for eng-* that group is the
// answer. Other patterns test only the groups that share the pattern's
// literal prefix and literal suffix, walking the two candidate ranges side by
// side: a match lies in both, so the shorter one running out ends the search.
// Only a pattern with neither (such as *eng*) tests every group.
func (p *Person) group(g *glob) (string, bool) {
	if p == nil || !p.own(g) {
		return "", false
	}
	switch g.kind {
	case globLiteral:
		_, ok := p.set[g.pat]
		return g.pat, ok
	case globPrefix:
		i := p.lowerBound(g.prefix(), g.prefixKey)
		if i < len(p.groups) && strings.HasPrefix(p.groups[i], g.prefix()) {
			return p.groups[i], true
		}
		return "", false
	}
	i := p.lowerBound(g.prefix(), g.prefixKey)
	j := p.revLowerBound(g.suffix(), g.suffixKey)
	for {
		if i >= len(p.groups) || !strings.HasPrefix(p.groups[i], g.prefix()) {
			return "", false
		}
		if s := p.groups[i]; g.matches(s) {
			return s, true
		}
		i++
		if j >= len(p.rev) || !hasSuffixReversed(p.rev[j], g.suffix()) {
			return "", false
		}
		if s := p.revOf[j]; g.matches(s) {
			// The answer is the first match in sorted order, so that it does not
			// depend on the person's other groups: look for one before s.
			for ; i < len(p.groups) && p.groups[i] < s; i++ {
				if g.matches(p.groups[i]) {
					return p.groups[i], true
				}
			}
			return s, true
		}
		j++
	}
}

// own reports whether g is a pattern of p's provider: the only patterns
// ever tried on p's groups. A nil person is the primary's.
func (p *Person) own(g *glob) bool {
	if p == nil {
		return g.q == 0
	}
	return p.owns(g.pat, g.q)
}

// owns reports whether a pattern whose text starts with a qualifier of q
// bytes is one of p's provider's. The primary's people and patterns, the
// usual case, are told by the lengths alone.
func (p *Person) owns(text string, q uint8) bool {
	return int(q) == len(p.qual) && (q == 0 || text[:q] == p.qual)
}

// Provider returns the index of the person's provider among the rule
// set's, the primary's 0.
func (p *Person) Provider() int {
	if p == nil {
		return 0
	}
	return p.provider
}

// keyOf is the first 8 bytes of s as a big-endian number, zero-padded. It
// never decreases as s increases, so a search on keys, cheap integer
// comparisons in one small array, narrows a search on strings down to the
// names that share the first 8 bytes with the one sought.
func keyOf(s string) uint64 {
	var k uint64
	for i := range 8 {
		k <<= 8
		if i < len(s) {
			k |= uint64(s[i])
		}
	}
	return k
}

// revKeyOf is keyOf of s spelled backwards.
func revKeyOf(s string) uint64 {
	var k uint64
	for i := range 8 {
		k <<= 8
		if i < len(s) {
			k |= uint64(s[len(s)-1-i])
		}
	}
	return k
}

// keyRange returns the part of sorted keys equal to k, as [lo, hi); lo is
// where k would go when there is none.
func keyRange(keys []uint64, k uint64) (lo, hi int) {
	lo, hi = 0, len(keys)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if keys[m] < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	hi = lo
	for hi < len(keys) && keys[hi] == k {
		hi++
		if hi-lo == 8 { // a long run: find its end by bisection instead
			h := len(keys)
			for hi < h {
				m := int(uint(hi+h) >> 1)
				if keys[m] <= k {
					hi = m + 1
				} else {
					h = m
				}
			}
			break
		}
	}
	return lo, hi
}

// lowerBound is the index of the first group that is >= s; k is keyOf(s).
// Groups before the run of keys equal to k are smaller than s and groups
// after it larger, so only the run needs comparing as strings.
func (p *Person) lowerBound(s string, k uint64) int {
	lo, hi := keyRange(p.keys, k)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if p.groups[m] < s {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// revLowerBound is the index of the first reversed group that is >= the
// reverse of suffix, compared without building that reverse; k is
// revKeyOf(suffix).
func (p *Person) revLowerBound(suffix string, k uint64) int {
	lo, hi := keyRange(p.rkeys, k)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if compareReversed(p.rev[m], suffix) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// compareReversed compares rev with the reverse of s.
func compareReversed(rev, s string) int {
	for i := 0; i < len(rev) && i < len(s); i++ {
		a, b := rev[i], s[len(s)-1-i]
		if a != b {
			if a < b {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(rev) < len(s):
		return -1
	case len(rev) > len(s):
		return 1
	}
	return 0
}

// hasSuffixReversed reports whether rev starts with the reverse of suffix.
func hasSuffixReversed(rev, suffix string) bool {
	if len(rev) < len(suffix) {
		return false
	}
	for i := 0; i < len(suffix); i++ {
		if rev[i] != suffix[len(suffix)-1-i] {
			return false
		}
	}
	return true
}
