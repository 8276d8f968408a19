package mapping

// shadows reports the rules of one room that can never fire because one
// earlier rule covers everyone they cover: since the first rule that covers
// a person decides, such a rule is dead, and almost always a sign that the
// rules are in the wrong order.
//
// The check is sound, never complete: a rule is reported only when one
// single earlier rule provably covers each of its matchers. A rule covered
// only by several earlier rules together, or by a pattern relation the glob
// comparison cannot prove (see glob.covers), is let through. Rules whose own
// matchers had problems (checkable false) are not judged, since what they
// cover is unknown; earlier rules with problems still count with the
// matchers that were read, which can only make them cover less.
//
// The cost is quadratic in the rules of one room and independent of the
// number of rooms.
func (p *parser) shadows(roomAt at, rules []Rule, checkable []bool) {
	for j := range rules {
		if !checkable[j] {
			continue
		}
		for i := range j {
			if !rules[i].coversRule(&rules[j]) {
				continue
			}
			msg := "can never fire: " + rules[i].String() + " already covers everyone it covers"
			if rules[i].Everyone {
				msg = "can never fire: " + rules[i].String() + " has everyone: true and decides for every person first"
			}
			p.report(rules[j].Pos.Line, roomAt.ruleAt(j).String(), msg)
			break
		}
	}
}

// coversRule reports whether every person that later covers is covered by
// rule: everyone: true covers everyone, and otherwise each group pattern of
// later must be covered by a group pattern of rule and each email pattern by
// an email pattern of rule. Only everyone: true covers everyone: true (a
// person may have no groups and no email).
func (rule *Rule) coversRule(later *Rule) bool {
	if rule.Everyone {
		return true
	}
	if later.Everyone || len(later.globs)+len(later.emails) == 0 {
		return false
	}
	for i := range later.globs {
		if !rule.coversGroup(&later.globs[i]) {
			return false
		}
	}
	// An unreadable address is covered by every emails of a deny rule and by
	// no emails of another (normalEmail), so a deny rule's emails are covered
	// only by a deny rule's emails.
	if later.Deny && len(later.emails) > 0 && !(rule.Deny && len(rule.emails) > 0) {
		return false
	}
	for i := range later.emails {
		if !rule.coversEmail(&later.emails[i]) {
			return false
		}
	}
	return true
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
