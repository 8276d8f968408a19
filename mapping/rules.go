package mapping

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/internal/yamlnode"
)

// rule reads one rule. checkable is true when its matchers were read without
// a problem, so that what the rule covers is known exactly and the shadow
// check may judge it.
func (p *parser) rule(n *yaml.Node, field string, index int) (rule Rule, checkable bool) {
	rule = Rule{Index: index, Pos: p.pos(n)}
	if isNull(resolve(n)) {
		p.r.Problemf(n, field, "empty; a rule needs a matcher (groups, emails or everyone: true) and an outcome (role or deny: true)")
		return rule, false
	}
	if resolve(n).Kind != yaml.MappingNode {
		p.r.Fields(n, field) // reports what was found instead
		return rule, false
	}
	f := p.r.Fields(n, field, "groups", "emails", "everyone", "role", "deny")
	checkable = true

	if g, ok := f["groups"]; ok {
		checkable = p.groups(g, yamlnode.Join(field, "groups"), &rule) && checkable
	}
	if e, ok := f["emails"]; ok {
		checkable = p.emails(e, yamlnode.Join(field, "emails"), &rule) && checkable
	}
	if e, ok := f["everyone"]; ok {
		rule.Everyone = p.flag(e, yamlnode.Join(field, "everyone"),
			"leave everyone out, or write everyone: true to cover every signed-in person")
		checkable = rule.Everyone && checkable
	}
	_, hasGroups := f["groups"]
	_, hasEmails := f["emails"]
	switch _, hasEveryone := f["everyone"]; {
	case !hasGroups && !hasEmails && !hasEveryone:
		p.r.Problemf(n, field, "has no matcher, so it covers no one: add groups, emails or everyone: true")
		checkable = false
	case rule.Everyone && (hasGroups || hasEmails):
		var also []string
		if hasGroups {
			also = append(also, "groups")
		}
		if hasEmails {
			also = append(also, "emails")
		}
		p.r.Problemf(n, field, "everyone: true already covers every signed-in person, so %s add nothing; remove one or the other", strings.Join(also, " and "))
	}

	role, hasRole := f["role"]
	if hasRole {
		rule.Role = p.role(role, yamlnode.Join(field, "role"))
	}
	if d, ok := f["deny"]; ok {
		rule.Deny = p.flag(d, yamlnode.Join(field, "deny"),
			"leave deny out (a rule without deny: true gives its role)")
	}
	switch {
	case hasRole && rule.Deny:
		p.r.Problemf(n, field, "has both role and deny: true; a rule has exactly one outcome, so remove one")
		rule.Role = ""
	case !hasRole && !rule.Deny:
		p.r.Problemf(n, field, "has no outcome: add role: NAME (known: %s) or deny: true", known(p.roles))
	}
	return rule, checkable
}

func (p *parser) role(n *yaml.Node, field string) string {
	s, ok := p.text(n, field)
	switch {
	case !ok:
	case s == "":
		p.r.Problemf(n, field, "empty; name one of the team's roles (known: %s)", known(p.roles))
	case !slices.Contains(p.roles, s):
		p.r.Problemf(n, field, "%q is not a role of this team (known: %s)", s, known(p.roles))
	}
	return s
}

// groups reads a list of group patterns into rule; ok is false when any of
// them had a problem.
func (p *parser) groups(n *yaml.Node, field string, rule *Rule) (ok bool) {
	items, ok := p.list(n, field, "groups", "group")
	for i, item := range items {
		s, isText := p.text(item, yamlnode.Index(field, i))
		if !isText {
			ok = false
			continue
		}
		g, err := compileGlob(s)
		if err != nil {
			p.r.Problemf(item, yamlnode.Index(field, i), "%s", err)
			ok = false
			continue
		}
		rule.Groups = append(rule.Groups, s)
		rule.globs = append(rule.globs, g)
	}
	return ok
}

// emails reads a list of email patterns into rule; ok is false when any of
// them had a problem.
func (p *parser) emails(n *yaml.Node, field string, rule *Rule) (ok bool) {
	items, ok := p.list(n, field, "emails", "email")
	for i, item := range items {
		s, isText := p.text(item, yamlnode.Index(field, i))
		if !isText {
			ok = false
			continue
		}
		e, err := compileEmail(s)
		if err != nil {
			p.r.Problemf(item, yamlnode.Index(field, i), "%s", err)
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
func (p *parser) list(n *yaml.Node, field, key, one string) (items []*yaml.Node, ok bool) {
	r := resolve(n)
	if !isNull(r) && r.Kind != yaml.SequenceNode {
		p.r.Items(n, field) // reports what was found instead
		return nil, false
	}
	items = p.r.Items(n, field)
	if len(items) == 0 {
		p.r.Problemf(n, field, "empty list covers no one; name at least one %s or leave %s out", one, key)
		return nil, false
	}
	return items, true
}
