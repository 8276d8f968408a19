package mapping

import (
	"slices"
	"strings"
)

// shadows reports the rules of one room that can never fire because the
// earlier rules, one or several together, cover everyone they cover: since
// the first rule that covers a person decides, such a rule is dead, and
// almost always a sign that the rules are in the wrong order. The message
// names every covering rule with its file:line.
//
// The check is sound, never complete: a rule is reported only when each of
// its matchers is provably covered by a matcher of some earlier rule. A
// matcher covered only by a pattern relation the glob comparison cannot
// prove (see glob.covers) is let through. Rules whose own matchers had
// problems (checkable false) are not judged, since what they cover is
// unknown; earlier rules with problems still count with the matchers that
// were read, which can only make them cover less.
//
// Each distinct pattern is looked up once per room (coverIndex), so a
// list of groups repeated in every rule, as YAML aliases make easy, costs
// what one copy of it costs.
func (p *parser) shadows(roomAt at, rules []Rule, checkable []bool) {
	ix := newCoverIndex(rules)
	for j := range rules {
		if !checkable[j] {
			continue
		}
		if by := ix.coveredBy(j); by != nil {
			p.report(rules[j].Pos.Line, roomAt.ruleAt(j).String(), shadowMessage(by))
		}
	}
}

func shadowMessage(by []*Rule) string {
	if len(by) == 1 && by[0].Everyone {
		return "can never fire: " + by[0].String() + " has everyone: true and decides for every person first"
	}
	if len(by) == 1 {
		return "can never fire: " + by[0].String() + " already covers everyone it covers"
	}
	names := make([]string, len(by))
	for i, r := range by {
		names[i] = r.String()
	}
	return "can never fire: together " + strings.Join(names, ", ") + " already cover everyone it covers"
}

// coverIndex finds, for a pattern, the first rule of a room that covers
// it. A rule with until covers no one once it has passed, and then the
// rules after it fire: it shadows nothing, so it is left out.
type coverIndex struct {
	rules    []Rule
	everyone int            // the first everyone: true rule; len(rules) when none
	literal  map[string]int // a literal group -> the first rule naming it
	globs    []ruleGlob     // the group patterns that are not literals, in rule order
	groups   map[string]int // memo: a group pattern -> its first covering rule
	emails   map[string]int // memo: an email pattern -> its first covering rule
}

type ruleGlob struct {
	rule int
	g    *glob
}

func newCoverIndex(rules []Rule) *coverIndex {
	n := len(rules)
	ix := &coverIndex{rules: rules, everyone: n, literal: map[string]int{}, groups: map[string]int{}, emails: map[string]int{}}
	for i := range rules {
		r := &rules[i]
		if !r.Until.IsZero() {
			continue
		}
		if r.Everyone && ix.everyone == n {
			ix.everyone = i
		}
		for k := range r.globs {
			g := &r.globs[k]
			if g.kind != globLiteral {
				ix.globs = append(ix.globs, ruleGlob{i, g})
			} else if _, seen := ix.literal[g.pat]; !seen {
				ix.literal[g.pat] = i
			}
		}
	}
	return ix
}

// group is the first rule covering g; len(rules) when none does.
func (ix *coverIndex) group(g *glob) int {
	if i, ok := ix.groups[g.pat]; ok {
		return i
	}
	first := len(ix.rules)
	if g.kind == globLiteral {
		if i, ok := ix.literal[g.pat]; ok {
			first = i
		}
	}
	for _, c := range ix.globs {
		if c.rule >= first {
			break
		}
		if c.g.covers(g) {
			first = c.rule
			break
		}
	}
	ix.groups[g.pat] = first
	return first
}

// email is the first rule covering e; len(rules) when none does.
func (ix *coverIndex) email(e *emailPattern) int {
	key := e.exact + "\x00" + e.domain
	if i, ok := ix.emails[key]; ok {
		return i
	}
	first := len(ix.rules)
	for i := range ix.rules {
		if r := &ix.rules[i]; r.Until.IsZero() && r.coversEmail(e) {
			first = i
			break
		}
	}
	ix.emails[key] = first
	return first
}

// coveredBy returns the rules before rules[j] that together cover everyone
// it covers, in file order, or nil when they do not. An everyone: true rule
// covers everyone alone; otherwise each group pattern of the rule must be
// covered by a group pattern of an earlier rule, and each email pattern by
// an email pattern of one. Only everyone: true covers everyone: true (a
// person may have no groups and no email).
func (ix *coverIndex) coveredBy(j int) []*Rule {
	if ix.everyone < j {
		return []*Rule{&ix.rules[ix.everyone]}
	}
	later := &ix.rules[j]
	if later.Everyone || len(later.globs)+len(later.emails) == 0 {
		return nil
	}
	var by []int
	use := func(i int) bool {
		if i >= j {
			return false
		}
		if !slices.Contains(by, i) {
			by = append(by, i)
		}
		return true
	}
	for k := range later.globs {
		if !use(ix.group(&later.globs[k])) {
			return nil
		}
	}
	for k := range later.emails {
		if !use(ix.email(&later.emails[k])) {
			return nil
		}
	}
	slices.Sort(by)
	rules := make([]*Rule, len(by))
	for i, k := range by {
		rules[i] = &ix.rules[k]
	}
	return rules
}

func (rule *Rule) coversEmail(e *emailPattern) bool {
	for i := range rule.emails {
		if rule.emails[i].covers(e) {
			return true
		}
	}
	return false
}
