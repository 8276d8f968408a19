package mapping

import (
	"strconv"
	"strings"
	"time"
)

// Step is one rule tried on the way to a decision.
type Step struct {
	Rule    *Rule
	Covered bool   // the rule covers the person; it is then the last step
	Why     string // which matcher matched, or why none did
}

// Explain returns the same decision as Decide together with every rule
// tried, in order: the rules that did not cover the person, and then the one
// that did, if any. Rules after the deciding one are not tried and not
// listed. It is for people (`roomgate explain`), so unlike Decide it
// allocates freely.
func (r *Room) Explain(p *Person) (Decision, []Step) { return r.ExplainAt(p, time.Time{}) }

// ExplainAt is Explain at the moment at, deciding as DecideAt does: a rule
// whose until has passed covers no one, and a room outside its hours
// admits no one.
func (r *Room) ExplainAt(p *Person, at time.Time) (Decision, []Step) {
	var steps []Step
	for i := range r.Rules {
		rule := &r.Rules[i]
		if rule.lapsed(at) {
			steps = append(steps, Step{Rule: rule, Why: "covers no one any more: its until passed at " + rule.Until.Format(time.RFC3339)})
			continue
		}
		if d, ok := rule.decide(p); ok {
			if d.Allowed && !at.IsZero() && r.Open != nil && !r.Open.OpenFor(at, rule.Early) {
				d.Allowed, d.Closed = false, true
			}
			why := string(d.appendWhat([]byte("covers ")))
			if d.kind == byEveryone && rule.Providers == nil {
				why = "everyone: true covers every signed-in person"
			} else if d.kind == byEveryone {
				why = "everyone: [" + strings.Join(rule.Providers, ", ") + "] covers every signed-in person of those providers"
			}
			if d.Closed {
				why += "; but the room is closed: it " + r.Open.OpensText(at, rule.Early)
			}
			steps = append(steps, Step{Rule: rule, Covered: true, Why: why})
			return d, steps
		}
		steps = append(steps, Step{Rule: rule, Why: rule.missed(p)})
	}
	return Decision{}, steps
}

// missed says why a rule does not cover p:
//
//	none of the person's groups matches "eng-leads", "eng-*"; email "ann@example.com" matches none of "*@contractor.example"
func (rule *Rule) missed(p *Person) string {
	var why []string
	if len(rule.Groups) > 0 {
		if len(p.groupsOrNil()) == 0 {
			why = append(why, "the person is in no group, and the rule names "+quoteList(rule.Groups))
		} else {
			why = append(why, "none of the person's groups matches "+quoteList(rule.Groups))
		}
	}
	if len(rule.Emails) > 0 {
		if p.Email() == "" {
			why = append(why, "the person has no email to compare with "+quoteList(rule.Emails))
		} else {
			why = append(why, "email "+strconv.Quote(p.Email())+" matches none of "+quoteList(rule.Emails))
		}
	}
	return strings.Join(why, "; ")
}

func (p *Person) groupsOrNil() []string {
	if p == nil {
		return nil
	}
	return p.groups
}
