package mapping

import (
	"strconv"
	"strings"
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
func (r *Room) Explain(p *Person) (Decision, []Step) {
	var steps []Step
	for i := range r.Rules {
		rule := &r.Rules[i]
		if d, ok := rule.decide(p); ok {
			why := "covers " + d.what()
			if d.kind == byEveryone {
				why = "everyone: true covers every signed-in person"
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
