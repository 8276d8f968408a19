package mapping

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
)

// GroupPatterns returns the distinct group patterns of every rule of every
// room, sorted, with runs of '*' collapsed ("eng-**" is "eng-*"). Two rule
// sets with the same GroupPatterns treat every set of groups alike, however
// their rooms and outcomes differ.
func (rs *RuleSet) GroupPatterns() []string {
	globs := rs.globs()
	if len(globs) == 0 {
		return nil
	}
	out := make([]string, len(globs))
	for i := range globs {
		out[i] = globs[i].pat
	}
	return out
}

// Fingerprint identifies the rule set's GroupPatterns in a short string. A
// session that kept a person's groups for one fingerprint holds enough to
// decide with any rule set of the same fingerprint, and may not hold enough
// for another.
func (rs *RuleSet) Fingerprint() string {
	h := sha256.New()
	var buf []byte // patterns are hashed 64 KiB at a time
	for _, g := range rs.globs() {
		buf = append(buf, g.pat...)
		if g.q > 0 {
			// Another provider's pattern: 0xFF is in no UTF-8 text, so
			// the mark cannot be read as part of a pattern.
			buf = append(buf, 0xFF, g.q)
		}
		buf = append(buf, 0) // no pattern holds a NUL: YAML text cannot
		if len(buf) >= 64<<10 {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	h.Write(buf)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

// Essential returns, sorted, a few of groups that every rule of the rule set
// treats exactly as it treats all of groups: for each group pattern that some
// of groups matches, one group that matches it: a group kept for another
// pattern when one does, else the shortest, so that a directory cannot crowd
// a session with a huge name beside a short one. A decision names the matched
// group, which may differ between the two; whether a rule covers the person,
// and so every outcome, does not. There are never more of them than there are
// patterns, so a session stays small however many groups a person is in,
// even when a pattern such as team-* matches hundreds of them.
func (rs *RuleSet) Essential(groups []string) []string { return rs.EssentialOf("", groups) }

// EssentialOf is Essential for a person of the provider whose id is
// provider ("" is the primary): groups and the result are named as the
// provider names them, and only that provider's patterns count.
func (rs *RuleSet) EssentialOf(provider string, groups []string) []string {
	p := rs.Person(provider, groups, "")
	globs := rs.globs()
	seen := make(map[string]struct{})
	var out []string
	keep := func(name string) {
		if _, dup := seen[name]; !dup {
			seen[name] = struct{}{}
			out = append(out, name)
		}
	}
	// Exact names first: each can only be answered by itself.
	for _, g := range globs {
		if g.kind == globLiteral {
			if name, ok := p.shortest(g); ok {
				keep(name)
			}
		}
	}
	// Then each other pattern, by a group kept already when one matches,
	// else by its shortest match.
	for _, g := range globs {
		if g.kind == globLiteral || slices.ContainsFunc(out, g.matches) {
			continue
		}
		if name, ok := p.shortest(g); ok {
			keep(name)
		}
	}
	if p.qual != "" {
		for i, name := range out {
			out[i] = name[len(p.qual):]
		}
	}
	slices.Sort(out)
	return out
}

// globs returns the rule set's distinct group patterns, compiled, sorted by
// pattern.
func (rs *RuleSet) globs() []*glob {
	if rs == nil {
		return nil
	}
	rs.globsOnce.Do(func() { rs.distinct = rs.collectGlobs() })
	return rs.distinct
}

func (rs *RuleSet) collectGlobs() []*glob {
	// Pointers into the rules' own globs, not copies: a big file has
	// 170,000 patterns, and copies would be 18 MB more for every collection
	// to mark.
	seen := make(map[string]struct{})
	var found []*glob
	take := func(globs []glob) {
		for j := range globs {
			if _, dup := seen[globs[j].pat]; !dup {
				seen[globs[j].pat] = struct{}{}
				found = append(found, &globs[j])
			}
		}
	}
	for _, room := range rs.rooms {
		for i := range room.Rules {
			take(room.Rules[i].globs)
		}
	}
	if rs.admin != nil {
		// The console's groups must be in a session as a room's are.
		take(rs.admin.globs)
	}
	slices.SortFunc(found, func(a, b *glob) int { return strings.Compare(a.pat, b.pat) })
	return found
}
