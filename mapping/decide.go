package mapping

import (
	"strconv"
	"time"
)

// Decision is the outcome of a room's rules for one person.
type Decision struct {
	Allowed bool   // the person may enter
	Role    string // the role they enter with, when Allowed
	Rule    *Rule  // the rule that decided; nil when no rule covers the person (a deny, not an error)
	Matched string // what of the person matched: their email, "everyone", or the first (in byte order) of their groups that Matcher matches; empty when no rule matched
	Matcher string // the pattern of the rule that Matched matched, as written, or "everyone"; empty when no rule matched
	// Closed: Rule lets the person in, but not now: the room is outside
	// its opening hours (DecideAt). Allowed is then false.
	Closed bool
	kind   matchKind
}

// matchKind says which kind of matcher decided.
type matchKind uint8

const (
	byNothing matchKind = iota
	byGroup
	byEmail
	byEveryone
)

// MayInvite reports whether the person may invite guests to the room: the
// rule that decided for them lets them in (now or at opening time) and
// says invite: true.
func (d Decision) MayInvite() bool {
	return d.Rule != nil && d.Rule.Invite && (d.Allowed || d.Closed)
}

// Decide returns the decision of the rules alone for p, whatever the time:
// the first rule that covers p; when none does, a denial without a rule.
// Opening hours and until are not looked at (see DecideAt). It allocates
// nothing, whatever the number of rooms, rules or groups.
func (r *Room) Decide(p *Person) Decision { return r.run(p, time.Time{}) }

// DecideAt returns the decision for p at the moment at, the one serve, the
// rule tests and explain all use: the first rule that covers p and whose
// until has not passed decides; when it lets p in but the room is closed
// (for that rule's early, too), the decision is a denial with Closed set.
// It allocates nothing.
func (r *Room) DecideAt(p *Person, at time.Time) Decision { return r.run(p, at) }

// decide returns the rule's decision for p when the rule covers p. A rule
// covers whoever matches any of its matchers; the first matcher that does,
// in the order everyone, groups, emails, is the one the decision names.
//
// Decide does the same from the room's compiled ops (program.go); this is
// the plain reading, for Explain.
func (rule *Rule) decide(p *Person) (Decision, bool) {
	d := Decision{Allowed: !rule.Deny, Role: rule.Role, Rule: rule}
	switch {
	case rule.everyoneFor(p):
		d.Matched, d.Matcher, d.kind = "everyone", "everyone", byEveryone
		return d, true
	case rule.Everyone:
		return Decision{}, false
	}
	for i := range rule.globs {
		if g, ok := p.group(&rule.globs[i]); ok {
			d.Matched, d.Matcher, d.kind = g, rule.globs[i].text, byGroup
			return d, true
		}
	}
	for i := range rule.emails {
		if rule.emails[i].matches(p) {
			d.Matched, d.Matcher, d.kind = p.email, rule.emails[i].text, byEmail
			return d, true
		}
	}
	return Decision{}, false
}

// Reason says in words why the decision is what it is, naming the rule and
// where it is in the file, for audit logs and `roomgate explain`:
//
//	rules[2] (config.yaml:14) admits group "eng-leads" as attendee
//	rules[1] (config.yaml:11) admits group "eng-x" (matches "eng-*") as attendee
//	rules[3] (config.yaml:17) denies email "bob@contractor.example" (matches "*@contractor.example")
//	rules[0] (config.yaml:8) admits everyone as attendee
//	no rule of this room covers this person
func (d Decision) Reason() string {
	return string(d.AppendReason(nil))
}

// AppendReason appends Reason to b: the audit line writes it on every room
// entry without building it first.
func (d Decision) AppendReason(b []byte) []byte {
	if d.Rule == nil {
		return append(b, "no rule of this room covers this person"...)
	}
	b = d.Rule.appendName(b)
	if !d.Allowed && !d.Closed {
		b = append(b, " denies "...)
	} else {
		b = append(b, " admits "...)
	}
	b = d.appendWhat(b)
	if d.Allowed || d.Closed {
		b = append(b, " as "...)
		b = append(b, d.Rule.Role...)
	}
	if d.Closed {
		b = append(b, ", but the room is closed now"...)
	}
	return b
}

// appendWhat appends what matched: group "eng-x" (matches "eng-*").
func (d Decision) appendWhat(b []byte) []byte {
	switch d.kind {
	case byEveryone:
		return append(b, "everyone"...)
	case byGroup:
		b = append(b, "group "...)
	case byEmail:
		b = append(b, "email "...)
	default:
		return strconv.AppendQuote(b, d.Matched)
	}
	b = strconv.AppendQuote(b, d.Matched)
	if d.Matcher != d.Matched {
		b = append(b, " (matches "...)
		b = strconv.AppendQuote(b, d.Matcher)
		b = append(b, ')')
	}
	return b
}
