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
	ix := newCoverIndex(rules, &p.providers)
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
	if len(by) == 1 && by[0].Everyone && by[0].Providers == nil {
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
//
// With several providers, a group pattern is covered by a pattern of its
// own provider (glob.covers) or by an everyone rule naming that provider;
// an email pattern by an email pattern, or by everyone rules naming every
// provider that vouches for its domain; an everyone rule by everyone rules
// naming each of its providers.
type coverIndex struct {
	rules    []Rule
	ps       *providerSet
	everyone []int          // per provider, the first everyone rule naming it; len(rules) when none
	literal  map[string]int // a literal group -> the first rule naming it
	globs    []ruleGlob     // the group patterns that are not literals, in rule order
	groups   map[string]int // memo: a group pattern -> its first covering rule
	emails   map[string]int // memo: an email pattern -> its first covering rule by email
}

type ruleGlob struct {
	rule int
	g    *glob
}

func newCoverIndex(rules []Rule, ps *providerSet) *coverIndex {
	n := len(rules)
	ix := &coverIndex{rules: rules, ps: ps, literal: map[string]int{}, groups: map[string]int{}, emails: map[string]int{}}
	ix.everyone = make([]int, len(ps.list))
	for k := range ix.everyone {
		ix.everyone[k] = n
	}
	for i := range rules {
		r := &rules[i]
		if !r.Until.IsZero() {
			continue
		}
		for _, k := range r.everyone {
			if ix.everyone[k] == n {
				ix.everyone[k] = i
			}
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

// provider is the index of the provider whose people g is tried on.
func (ix *coverIndex) provider(g *glob) int {
	if g.q == 0 {
		return 0
	}
	i, _ := ix.ps.index(g.pat[:g.q-1])
	return i
}

// group is the first rule covering g; len(rules) when none does.
func (ix *coverIndex) group(g *glob) int {
	if i, ok := ix.groups[g.pat]; ok {
		return i
	}
	first := ix.everyone[ix.provider(g)]
	if g.kind == globLiteral {
		if i, ok := ix.literal[g.pat]; ok {
			first = min(first, i)
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

// email is the first rule covering e with an email pattern; len(rules)
// when none does.
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

// everyoneOf returns the everyone rules before j that together cover the
// people of the providers ks, and whether there are such rules.
func (ix *coverIndex) everyoneOf(ks []int, j int) ([]int, bool) {
	var by []int
	for _, k := range ks {
		i := ix.everyone[k]
		if i >= j {
			return nil, false
		}
		by = append(by, i)
	}
	return by, true
}

// coveredBy returns the rules before rules[j] that together cover everyone
// it covers, in file order, or nil when they do not. Each group pattern of
// the rule must be covered by an earlier rule, each email pattern too, and
// each provider of its everyone by an earlier everyone (a person may have
// no groups and no email).
func (ix *coverIndex) coveredBy(j int) []*Rule {
	later := &ix.rules[j]
	if len(later.globs)+len(later.emails)+len(later.everyone) == 0 {
		return nil
	}
	all := make([]int, len(ix.ps.list))
	for k := range all {
		all[k] = k
	}
	if is, ok := ix.everyoneOf(all, j); ok {
		// Everyone rules decide for every person first.
		slices.Sort(is)
		return ix.rulesAt(slices.Compact(is))
	}
	var by []int
	use := func(is ...int) {
		for _, i := range is {
			if !slices.Contains(by, i) {
				by = append(by, i)
			}
		}
	}
	if later.Everyone {
		is, ok := ix.everyoneOf(later.everyone, j)
		if !ok {
			return nil
		}
		use(is...)
	}
	for k := range later.globs {
		i := ix.group(&later.globs[k])
		if i >= j {
			return nil
		}
		use(i)
	}
	for k := range later.emails {
		e := &later.emails[k]
		if i := ix.email(e); i < j {
			use(i)
			continue
		}
		is, ok := ix.everyoneOf(ix.ps.vouchers(e), j)
		if !ok {
			return nil
		}
		use(is...)
	}
	if len(by) == 0 {
		return nil // emails no provider vouches for: reported as such
	}
	slices.Sort(by)
	return ix.rulesAt(by)
}

func (ix *coverIndex) rulesAt(is []int) []*Rule {
	rules := make([]*Rule, len(is))
	for i, k := range is {
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
