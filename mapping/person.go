package mapping

import (
	"slices"
	"strings"
)

// Person is who is asking to enter a room: their groups and email, indexed
// once so that deciding on any number of rooms allocates nothing. Make one
// with NewPerson per request or session; a Person is immutable and safe for
// concurrent use. A nil *Person is someone with no groups and no email, whom
// only everyone: true covers.
type Person struct {
	groups []string            // distinct, non-empty, sorted
	set    map[string]struct{} // the same groups, for exact names
	rev    []reversed          // the same groups reversed, sorted, for patterns with a literal suffix
	email  string              // as given
	lower  string              // lower-cased; "" when there is none
	domain string              // lower-cased text after the last '@'; "" when there is none
}

// reversed is a group name spelled backwards (byte by byte), next to the name.
type reversed struct{ rev, group string }

// NewPerson indexes a person's groups and email. Empty group names are
// dropped, as are repeats; an empty email is no email (it never matches an
// email pattern).
func NewPerson(groups []string, email string) *Person {
	p := &Person{email: email, lower: strings.ToLower(email)}
	if i := strings.LastIndexByte(p.lower, '@'); i >= 0 {
		p.domain = p.lower[i+1:]
	}
	p.set = make(map[string]struct{}, len(groups))
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
	p.rev = make([]reversed, len(p.groups))
	for i, g := range p.groups {
		p.rev[i] = reversed{rev: reverse(g), group: g}
	}
	slices.SortFunc(p.rev, func(a, b reversed) int { return strings.Compare(a.rev, b.rev) })
	return p
}

// Groups returns the person's distinct groups, sorted.
func (p *Person) Groups() []string {
	if p == nil {
		return nil
	}
	return slices.Clone(p.groups)
}

// Email returns the person's email as given to NewPerson.
func (p *Person) Email() string {
	if p == nil {
		return ""
	}
	return p.email
}

// group returns the first (in byte order) of the person's groups that g
// matches, and whether there is one. Being the first, it is the same for any
// set of groups with the same matches, which is what makes Relevant safe.
//
// An exact name is a map lookup. A pattern with a literal prefix is a binary
// search for the first group with that prefix; for eng-* that group is the
// answer. Other patterns test only the groups that share the pattern's
// literal prefix and literal suffix, walking the two candidate ranges side by
// side: a match lies in both, so the shorter one running out ends the search.
// Only a pattern with neither (such as *eng*) tests every group.
func (p *Person) group(g *glob) (string, bool) {
	if p == nil {
		return "", false
	}
	switch g.kind {
	case globLiteral:
		_, ok := p.set[g.pat]
		return g.pat, ok
	case globPrefix:
		i := lowerBound(p.groups, g.prefix)
		if i < len(p.groups) && strings.HasPrefix(p.groups[i], g.prefix) {
			return p.groups[i], true
		}
		return "", false
	}
	i := lowerBound(p.groups, g.prefix)
	j := p.revLowerBound(g.suffix)
	for {
		if i >= len(p.groups) || !strings.HasPrefix(p.groups[i], g.prefix) {
			return "", false
		}
		if s := p.groups[i]; matchGlob(g.pat, s) {
			return s, true
		}
		i++
		if j >= len(p.rev) || !hasSuffixReversed(p.rev[j].rev, g.suffix) {
			return "", false
		}
		if s := p.rev[j].group; matchGlob(g.pat, s) {
			// The answer is the first match in sorted order, so that it does not
			// depend on the person's other groups: look for one before s.
			for ; i < len(p.groups) && p.groups[i] < s; i++ {
				if matchGlob(g.pat, p.groups[i]) {
					return p.groups[i], true
				}
			}
			return s, true
		}
		j++
	}
}

// lowerBound is the index of the first element of sorted that is >= s.
func lowerBound(sorted []string, s string) int {
	lo, hi := 0, len(sorted)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if sorted[m] < s {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// revLowerBound is the index of the first reversed group that is >= the
// reverse of suffix, compared without building that reverse.
func (p *Person) revLowerBound(suffix string) int {
	lo, hi := 0, len(p.rev)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if compareReversed(p.rev[m].rev, suffix) < 0 {
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

func reverse(s string) string {
	b := make([]byte, len(s))
	for i := range len(s) {
		b[len(s)-1-i] = s[i]
	}
	return string(b)
}
