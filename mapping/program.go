package mapping

import (
	"strings"
	"time"
)

// A room's rules are compiled for Decide into one flat list of ops, one per
// matcher, in the order Decide must try them: rule by rule, and within a
// rule everyone, then groups, then emails. All their text lives in one
// string per room. Deciding for a room then reads a few contiguous cache
// lines instead of chasing pointers through every rule, which is what keeps
// the time per decision flat when there are thousands of rooms.
//
// Explain and the shadow check use the rules themselves (Rule.decide);
// FuzzParse checks that both give the same decisions.

// opKind is what an op tests.
type opKind uint8

const (
	opEveryone opKind = iota // covers everyone
	opGroup                  // text is a group name the person must have
	opPrefix                 // text is a prefix one of the person's groups must have
	opGlob                   // the room's globs[glob] must match one of the person's groups
	opEmail                  // text is the lower-cased address the person must have
	opDomain                 // text is the lower-cased domain of the person's address
)

// op is one matcher of one rule.
type op struct {
	text  string
	key   uint64 // keyOf(text), for opPrefix
	rule  int32  // index in Room.Rules
	which int32  // index in the rule's Groups or Emails
	glob  int32  // index in Room.globs, for opGlob
	kind  opKind
	q     uint8 // for opGroup and opPrefix: the length of the provider qualifier text starts with (Person.own)
}

// compile builds the room's ops.
func (r *Room) compile() {
	n, size := 0, 0
	for i := range r.Rules {
		rule := &r.Rules[i]
		n += len(rule.globs) + len(rule.emails) + 1
		for _, g := range rule.globs {
			size += len(g.pat)
		}
		for _, e := range rule.emails {
			size += len(e.exact) + len(e.domain)
		}
	}
	var arena strings.Builder
	arena.Grow(size)
	ops := make([]op, 0, n)
	var globs []glob
	add := func(kind opKind, rule, which int, text string) {
		ops = append(ops, op{kind: kind, rule: int32(rule), which: int32(which), text: text, key: keyOf(text)})
		arena.WriteString(text)
	}
	qualified := func(g glob) { ops[len(ops)-1].q = g.q }
	for i := range r.Rules {
		rule := &r.Rules[i]
		if rule.Everyone {
			add(opEveryone, i, 0, "")
			continue // nothing after everyone in a rule is ever tried
		}
		for j, g := range rule.globs {
			switch g.kind {
			case globLiteral:
				add(opGroup, i, j, g.pat)
				qualified(g)
			case globPrefix:
				add(opPrefix, i, j, g.prefix())
				qualified(g)
			default:
				add(opGlob, i, j, g.pat)
				ops[len(ops)-1].glob = int32(len(globs))
				globs = append(globs, g)
			}
		}
		for j, e := range rule.emails {
			if e.domain != "" {
				add(opDomain, i, j, e.domain)
			} else {
				add(opEmail, i, j, e.exact)
			}
		}
	}
	// Point every op's text into the arena, so that the room's text is
	// contiguous in memory.
	all, at := arena.String(), 0
	for i := range ops {
		l := len(ops[i].text)
		ops[i].text = all[at : at+l]
		at += l
		if ops[i].kind == opGlob {
			globs[ops[i].glob] = globs[ops[i].glob].within(ops[i].text)
			ops[i].text = ""
		}
	}
	r.ops, r.globs = ops, globs
}

// within returns g with its text taken from pat, an equal string elsewhere
// in memory.
func (g glob) within(pat string) glob {
	g.pat, g.text = pat, ""
	return g
}

// run returns the decision of the first op that covers p, at the moment at
// (zero: the rules alone, whatever the time).
func (r *Room) run(p *Person, at time.Time) Decision {
	d := r.first(p, at)
	if d.Allowed && !at.IsZero() && r.Open != nil && !r.Open.OpenFor(at, d.Rule.Early) {
		d.Allowed, d.Closed = false, true
	}
	return d
}

// first returns the decision of the first op whose rule covers p and has
// not lapsed at at.
func (r *Room) first(p *Person, at time.Time) Decision {
	for i := range r.ops {
		o := &r.ops[i]
		var matched string
		switch o.kind {
		case opEveryone:
			rule := &r.Rules[o.rule]
			if rule.lapsed(at) || !rule.everyoneFor(p) {
				continue
			}
			return Decision{Allowed: !rule.Deny, Role: rule.Role, Rule: rule, Matched: "everyone", Matcher: "everyone", kind: byEveryone}
		case opGroup:
			if p == nil || !p.owns(o.text, o.q) {
				continue
			}
			if _, ok := p.set[o.text]; !ok {
				continue
			}
			matched = o.text
		case opPrefix:
			if p == nil || !p.owns(o.text, o.q) {
				continue
			}
			j := p.lowerBound(o.text, o.key)
			if j == len(p.groups) || !strings.HasPrefix(p.groups[j], o.text) {
				continue
			}
			matched = p.groups[j]
		case opGlob:
			g, ok := p.group(&r.globs[o.glob])
			if !ok {
				continue
			}
			matched = g
		case opEmail, opDomain:
			if p == nil {
				continue
			}
			rule := &r.Rules[o.rule]
			if rule.lapsed(at) {
				continue
			}
			switch {
			case p.lower == "", // none, or not an address

				o.kind == opEmail && p.lower != o.text,
				o.kind == opDomain && p.domain != o.text:
				continue
			}
			return Decision{Allowed: !rule.Deny, Role: rule.Role, Rule: rule, Matched: p.email, Matcher: rule.Emails[o.which], kind: byEmail}
		}
		rule := &r.Rules[o.rule]
		if rule.lapsed(at) {
			continue
		}
		return Decision{Allowed: !rule.Deny, Role: rule.Role, Rule: rule, Matched: matched, Matcher: rule.Groups[o.which], kind: byGroup}
	}
	return Decision{}
}

// lapsed reports whether the rule's until has passed at at (never, for a
// zero at: the rules alone).
func (rule *Rule) lapsed(at time.Time) bool {
	return !rule.Until.IsZero() && !at.IsZero() && !at.Before(rule.Until)
}
