package mapping

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/roomgate/roomgate/yamlnode"
	"go.yaml.in/yaml/v3"
)

var ruleKeys = []string{"groups", "emails", "everyone", "role", "deny", "early", "until", "invite"}

// rule reads one rule. checkable is true when its matchers were read without
// a problem, so that what the rule covers is known exactly and the shadow
// check may judge it.
func (p *parser) rule(n *yaml.Node, a at, index int) (rule Rule, checkable bool) {
	rule = Rule{Index: index, Pos: p.pos(n)}
	if yamlnode.IsNull(yamlnode.Resolve(n)) {
		p.problemf(n, a, "empty; a rule needs a matcher (groups, emails or everyone: true) and an outcome (role or deny: true)")
		return rule, false
	}
	var f [8]*yaml.Node
	if !p.fields(n, a, ruleKeys, f[:]) {
		return rule, false
	}
	groups, emails, everyone, role, deny, early, until, invite := f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]
	if early != nil {
		rule.Early = p.r.Duration(early, a.field("early").String(), 0)
		if rule.Early <= 0 || rule.Early > 24*time.Hour {
			p.problemf(early, a.field("early"), "want a duration above 0 and at most 24h, such as 15m, found %q", early.Value)
		}
	}
	if until != nil {
		s, _ := p.text(until, a.field("until"))
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			p.problemf(until, a.field("until"), "want a day such as 2027-03-31 (the rule covers no one after it ends), found %q", s)
		} else {
			rule.Until = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, p.zone)
			if !p.now.Before(rule.Until) {
				p.warnings = append(p.warnings, Problem{File: p.file, Line: until.Line, Path: a.String(),
					Msg: fmt.Sprintf("until %s has passed: the rule covers no one any more and can be removed", s)})
			}
		}
	}
	checkable = true

	if groups != nil {
		checkable = p.groups(groups, a.field("groups"), &rule) && checkable
	}
	if emails != nil {
		checkable = p.emails(emails, a.field("emails"), &rule) && checkable
	}
	if everyone != nil {
		checkable = p.everyoneOf(everyone, a.field("everyone"), &rule) && checkable
	}
	p.unvouched(&rule, a)
	switch {
	case groups == nil && emails == nil && everyone == nil:
		p.problemf(n, a, "has no matcher, so it covers no one: add groups, emails or everyone: true")
		checkable = false
	case rule.Everyone && (groups != nil || emails != nil):
		var also []string
		if groups != nil {
			also = append(also, "groups")
		}
		if emails != nil {
			also = append(also, "emails")
		}
		if rule.Providers == nil {
			p.problemf(n, a, "everyone: true already covers every signed-in person, so %s add nothing; remove one or the other", strings.Join(also, " and "))
		} else {
			p.problemf(n, a, "a rule with everyone has no other matchers: write %s in a rule of its own", strings.Join(also, " and "))
		}
	}

	if role != nil {
		rule.Role = p.role(role, a.field("role"))
	}
	if deny != nil {
		rule.Deny = p.flag(deny, a.field("deny"),
			"leave deny out (a rule without deny: true gives its role)")
	}
	switch {
	case role != nil && rule.Deny:
		p.problemf(n, a, "has both role and deny: true; a rule has exactly one outcome, so remove one")
		rule.Role = ""
	case role == nil && !rule.Deny:
		p.problemf(n, a, "has no outcome: add role: NAME (known: %s) or deny: true", known(p.roles))
	}
	if invite != nil {
		rule.Invite = p.flag(invite, a.field("invite"), "leave invite out: only rules that say true let people invite guests")
		if rule.Invite && rule.Deny {
			p.problemf(invite, a.field("invite"), "a deny rule lets no one in, so no one it covers can invite guests; remove invite")
			rule.Invite = false
		}
	}
	return rule, checkable
}

func (p *parser) role(n *yaml.Node, a at) string {
	s, ok := p.text(n, a)
	switch {
	case !ok:
	case s == "":
		p.problemf(n, a, "empty; name one of the team's roles (known: %s)", known(p.roles))
	case !slices.Contains(p.roles, s):
		p.problemf(n, a, "%q is not a role of this team (known: %s)", s, known(p.roles))
	}
	return s
}

// groups reads a list of group patterns into rule; ok is false when any of
// them had a problem.
func (p *parser) groups(n *yaml.Node, a at, rule *Rule) (ok bool) {
	items, ok := p.list(n, a, "groups", "group")
	rule.Groups = p.strs.take(len(items))
	rule.globs = p.globs.take(len(items))
	for k, item := range items {
		s, isText := p.text(item, a.itemAt(k))
		if !isText {
			ok = false
			continue
		}
		g, err := compileGlob(s)
		if err != nil {
			p.problemf(item, a.itemAt(k), "%s", err)
			ok = false
			continue
		}
		g.q = uint8(p.providers.qualOf(s))
		rule.Groups = append(rule.Groups, s)
		rule.globs = append(rule.globs, g)
	}
	return ok
}

// emails reads a list of email patterns into rule; ok is false when any of
// them had a problem.
func (p *parser) emails(n *yaml.Node, a at, rule *Rule) (ok bool) {
	items, ok := p.list(n, a, "emails", "email")
	rule.Emails = p.strs.take(len(items))
	rule.emails = p.pats.take(len(items))
	for k, item := range items {
		s, isText := p.text(item, a.itemAt(k))
		if !isText {
			ok = false
			continue
		}
		e, err := compileEmail(s)
		if err != nil {
			p.problemf(item, a.itemAt(k), "%s", err)
			ok = false
			continue
		}
		rule.Emails = append(rule.Emails, s)
		rule.emails = append(rule.emails, e)
	}
	return ok
}

// list reads the items of a matcher list, which must not be empty: an empty
// list covers no one, which is never what was meant.
func (p *parser) list(n *yaml.Node, a at, key, one string) (items []*yaml.Node, ok bool) {
	r := yamlnode.Resolve(n)
	if !yamlnode.IsNull(r) && r.Kind != yaml.SequenceNode {
		p.items(n, a) // reports what was found instead
		return nil, false
	}
	items = p.items(n, a)
	if len(items) == 0 {
		p.problemf(n, a, "empty list covers no one; name at least one %s or leave %s out", one, key)
		return nil, false
	}
	return items, true
}
