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
// The cost is quadratic in the rules of one room and independent of the
// number of rooms.
func (p *parser) shadows(roomAt at, rules []Rule, checkable []bool) {
	for j := range rules {
		if !checkable[j] {
			continue
		}
		if by := coveredBy(rules[:j], &rules[j]); by != nil {
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

// coveredBy returns the earlier rules that together cover everyone later
// covers, in file order, or nil when they do not. An everyone: true rule
// covers everyone alone; otherwise each group pattern of later must be
// covered by a group pattern of an earlier rule, and each email pattern by
// an email pattern of one. Only everyone: true covers everyone: true (a
// person may have no groups and no email).
func coveredBy(all []Rule, later *Rule) []*Rule {
	// first is the first earlier rule for which covers holds. A rule with
	// until covers no one once it has passed, and then the rules after it
	// fire: it shadows nothing. (Rules are walked in place: a Rule is big,
	// and this runs for every pair of rules of a room.)
	first := func(covers func(*Rule) bool) *Rule {
		for i := range all {
			if r := &all[i]; r.Until.IsZero() && covers(r) {
				return r
			}
		}
		return nil
	}
	if r := first(func(r *Rule) bool { return r.Everyone }); r != nil {
		return []*Rule{r}
	}
	if later.Everyone || len(later.globs)+len(later.emails) == 0 {
		return nil
	}
	var by []*Rule
	use := func(r *Rule) {
		if !slices.Contains(by, r) {
			by = append(by, r)
		}
	}
	for k := range later.globs {
		r := first(func(r *Rule) bool { return r.coversGroup(&later.globs[k]) })
		if r == nil {
			return nil
		}
		use(r)
	}
	// An unreadable address is covered by every emails of a deny rule and by
	// no emails of another (normalEmail), so the emails of a deny rule are
	// covered only where an earlier deny rule has emails too.
	if later.Deny && len(later.emails) > 0 && first(func(r *Rule) bool { return r.Deny && len(r.emails) > 0 }) == nil {
		return nil
	}
	for k := range later.emails {
		r := first(func(r *Rule) bool { return r.coversEmail(&later.emails[k]) })
		if r == nil {
			return nil
		}
		use(r)
	}
	slices.SortFunc(by, func(a, b *Rule) int { return a.Index - b.Index })
	return by
}

func (rule *Rule) coversGroup(g *glob) bool {
	for i := range rule.globs {
		if rule.globs[i].covers(g) {
			return true
		}
	}
	return false
}

func (rule *Rule) coversEmail(e *emailPattern) bool {
	for i := range rule.emails {
		if rule.emails[i].covers(e) {
			return true
		}
	}
	return false
}
