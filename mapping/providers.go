package mapping

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/yamlnode"
)

// Several identity providers. Every person comes from one provider, and
// the rules keep each provider's people apart:
//
//   - a group pattern belongs to one provider: ID:NAME (partner:eng,
//     "partner:*") to the provider ID when it is not the primary, any other
//     pattern to the primary. A pattern is only ever tried on its own
//     provider's people, so no pattern without ID: matches another
//     provider's group, glob or not;
//   - everyone: true covers the primary's people, everyone: [ids] those
//     providers';
//   - with several providers, an email counts only when its domain is in
//     the email_domains of the provider that vouched for it.
//
// Inside this package a person of another provider carries their groups
// qualified (partner:eng), so that decisions and explanations name them
// unmistakably, and a qualifier (Person.qual) that every group test
// compares with the pattern's own first.

// Provider is an identity provider as the rules see it.
type Provider struct {
	ID string
	// EmailDomains are the domains whose addresses the provider vouches
	// for, when there are several providers. Addresses are compared as
	// mapping compares them (IDNA, case), so any spelling works.
	EmailDomains []string
}

// ValidProviderID is the shape of a provider's id.
func ValidProviderID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for i := range len(id) {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// providerSet is the providers of a rule set, the primary first. Without
// a providers: section it holds one, the primary, with no id of its own.
type providerSet struct {
	list    []Provider
	domains []map[string]bool // list[i].EmailDomains, normalized
}

func newProviderSet(list []Provider) providerSet {
	if len(list) == 0 {
		list = []Provider{{}}
	}
	ps := providerSet{list: slices.Clone(list), domains: make([]map[string]bool, len(list))}
	for i, pr := range list {
		ps.domains[i] = map[string]bool{}
		for _, d := range pr.EmailDomains {
			if n, ok := normalDomain(d); ok {
				ps.domains[i][n] = true
			}
		}
	}
	return ps
}

// several reports whether there is more than one provider.
func (ps *providerSet) several() bool { return len(ps.list) > 1 }

// index returns the provider whose id is id, the primary for "".
func (ps *providerSet) index(id string) (int, bool) {
	if id == "" {
		return 0, true
	}
	for i, pr := range ps.list {
		if pr.ID == id {
			return i, true
		}
	}
	return 0, false
}

// qual is what a provider's groups are qualified with inside mapping: ""
// for the primary, "ID:" for another.
func (ps *providerSet) qual(i int) string {
	if i == 0 {
		return ""
	}
	return ps.list[i].ID + ":"
}

// qualOf returns the length of the qualifier a group pattern starts with:
// that of a provider other than the primary, or 0 (the primary's).
func (ps *providerSet) qualOf(pattern string) int {
	id, _, ok := strings.Cut(pattern, ":")
	if !ok {
		return 0
	}
	if i, known := ps.index(id); known && i > 0 {
		return len(id) + 1
	}
	return 0
}

// vouches reports whether provider i vouches for addresses at domain (in
// normalDomain's form): any, when it is the only provider.
func (ps *providerSet) vouches(i int, domain string) bool {
	return !ps.several() || ps.domains[i][domain]
}

// vouchers returns the providers that vouch for addresses e matches.
func (ps *providerSet) vouchers(e *emailPattern) []int {
	domain := e.domain
	if domain == "" {
		domain = e.exact[strings.LastIndexByte(e.exact, '@')+1:]
	}
	var out []int
	for i := range ps.list {
		if ps.vouches(i, domain) {
			out = append(out, i)
		}
	}
	return out
}

// Providers returns the ids of the rule set's providers, the primary
// first; one empty id without a providers: section.
func (rs *RuleSet) Providers() []string {
	if len(rs.providers.list) == 0 {
		return []string{""}
	}
	ids := make([]string, len(rs.providers.list))
	for i, pr := range rs.providers.list {
		ids[i] = pr.ID
	}
	return ids
}

// Person returns the person the rules decide on for what provider (its
// id; "" is the primary) says: their groups, as the provider names them,
// and email. The email counts only when the provider vouches for its
// domain. A provider the rule set does not know gives a person whom no
// rule covers.
func (rs *RuleSet) Person(provider string, groups []string, email string) *Person {
	if rs == nil {
		rs = &RuleSet{}
	}
	ps := &rs.providers
	if len(ps.list) == 0 {
		ps = &providerSet{list: []Provider{{}}}
	}
	i, ok := ps.index(provider)
	if !ok {
		return &Person{qual: "\x00unknown provider:"}
	}
	p := &Person{}
	q := ps.qual(i)
	if q != "" {
		qualified := make([]string, 0, len(groups))
		for _, g := range groups {
			if g != "" {
				qualified = append(qualified, q+g)
			}
		}
		groups = qualified
	}
	p.Reset(groups, email)
	p.qual, p.provider = q, i
	if p.lower != "" && !ps.vouches(i, p.domain) {
		p.lower, p.domain = "", ""
	}
	return p
}

// everyoneOf reads everyone: true (the primary's people) or everyone:
// [ids] into rule; ok is false when it covers no one or had a problem.
func (p *parser) everyoneOf(n *yaml.Node, a at, rule *Rule) (ok bool) {
	r := yamlnode.Resolve(n)
	if r == nil || r.Kind != yaml.SequenceNode {
		rule.Everyone = p.flag(n, a, "leave everyone out, or write everyone: true to cover every signed-in person")
		if rule.Everyone {
			rule.everyone = []int{0}
		}
		return rule.Everyone
	}
	if !p.providers.several() {
		p.problemf(n, a, "names providers, but the file has one provider; write everyone: true")
		return false
	}
	items, ok := p.list(n, a, "everyone", "provider")
	for k, item := range items {
		s, isText := p.text(item, a.itemAt(k))
		i, known := p.providers.index(s)
		switch {
		case !isText:
			ok = false
		case s == "" || !known:
			p.problemf(item, a.itemAt(k), "%q is not a provider (known: %s)", s, providerIDs(p.providers))
			ok = false
		case slices.Contains(rule.everyone, i):
			p.problemf(item, a.itemAt(k), "%q is named twice", s)
		default:
			rule.everyone = append(rule.everyone, i)
			rule.Providers = append(rule.Providers, s)
		}
	}
	rule.Everyone = len(rule.everyone) > 0
	return ok && rule.Everyone
}

// roomProviders reads a room's providers: the ones its people sign in
// with, so the chooser is skipped or shortened.
func (p *parser) roomProviders(n *yaml.Node, a at) []string {
	if !p.providers.several() {
		p.problemf(n, a, "the file has one provider, so there is nothing to choose; remove providers")
		return nil
	}
	items, _ := p.list(n, a, "providers", "provider")
	var ids []string
	for k, item := range items {
		s, isText := p.text(item, a.itemAt(k))
		_, known := p.providers.index(s)
		switch {
		case !isText:
		case s == "" || !known:
			p.problemf(item, a.itemAt(k), "%q is not a provider (known: %s)", s, providerIDs(p.providers))
		case slices.Contains(ids, s):
			p.problemf(item, a.itemAt(k), "%q is named twice", s)
		default:
			ids = append(ids, s)
		}
	}
	return ids
}

// providerIDs lists the providers' ids for a message.
func providerIDs(ps providerSet) string {
	var ids []string
	for _, pr := range ps.list {
		ids = append(ids, pr.ID)
	}
	return known(ids)
}

// unvouched reports an email pattern whose domain no provider vouches for:
// with several providers it matches no one.
func (p *parser) unvouched(rule *Rule, a at) {
	if !p.providers.several() {
		return
	}
	for k := range rule.emails {
		if len(p.providers.vouchers(&rule.emails[k])) == 0 {
			p.report(rule.Pos.Line, a.field("emails").itemAt(k).String(), fmt.Sprintf(
				"%q matches no one: with several providers an email counts only when its domain is in the email_domains of the provider that vouched for it, and none lists this one", rule.Emails[k]))
		}
	}
}
