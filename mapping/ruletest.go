package mapping

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/yamlnode"
)

// Test is one rule test of the file's tests section: a person, and what
// they must get in some rooms. IT admins write down what must stay true,
// and every later edit of the rules is held to it.
//
//	tests:
//	  - name: "leads moderate the stand-up"
//	    person: {groups: [eng-leads], email: ada@example.com}
//	    expect:
//	      standup: moderator
//	      all-hands: attendee
//	  - name: "contractors never enter"
//	    person: {email: bob@contractor.example}
//	    expect: {standup: deny}
type Test struct {
	Index  int    // position in tests, from 0
	Name   string // as written; "" when the test has none
	Pos    Pos
	Groups []string // as the provider sends them (before oidc.claims.group_names)
	Email  string
	// Provider is the id of the provider the person signs in with, from
	// person: {provider: ID}; "" for the primary.
	Provider string
	// At is the moment the test decides at, from at: (RFC 3339); zero
	// when the test gives none. A test without it decides with the rules
	// alone, and is a problem where the moment could change its outcome,
	// so that a test never starts failing by itself on a later day.
	At     time.Time
	Expect []Expectation // in file order
	// Invite is whether the person may invite guests, by room, from
	// invite: {standup: true}; in file order.
	Invite []InviteExpectation
}

// InviteExpectation is whether a test wants the person to be able to
// invite guests to one room.
type InviteExpectation struct {
	Room string
	May  bool
	Pos  Pos
}

// Expectation is what a test wants in one room.
type Expectation struct {
	Room string // the room's path
	Role string // the role wanted; "" with Deny
	Deny bool   // no entry, for any reason
	Pos  Pos
}

// String names the test the way problems do: tests[2] "contractors never enter".
func (t *Test) String() string {
	s := "tests[" + strconv.Itoa(t.Index) + "]"
	if t.Name != "" {
		s += " " + strconv.Quote(t.Name)
	}
	return s
}

var (
	testKeys   = []string{"name", "person", "at", "expect", "invite"}
	personKeys = []string{"groups", "email", "provider"}
)

// ParseTests reads the tests section of file, a YAML sequence node (nil or
// null means no tests), for the rule set rs. A test that names a room rs
// does not have, or a role that is not one of opts.Roles, is a problem, as
// is anything malformed; on problems the error is a Problems.
func ParseTests(file string, n *yaml.Node, rs *RuleSet, opts Options) ([]Test, error) {
	var ps Problems
	r := &yamlnode.Reader{Report: func(line int, path, msg string) {
		ps = append(ps, Problem{File: file, Line: line, Path: path, Msg: msg})
	}}
	var tests []Test
	for i, tn := range r.Items(n, "tests") {
		path := yamlnode.Index("tests", i)
		f := r.Fields(tn, path, testKeys...)
		t := Test{Index: i, Pos: Pos{File: file, Line: tn.Line}}
		t.Name = r.String(f["name"], yamlnode.Join(path, "name"))
		pf := r.Fields(f["person"], yamlnode.Join(path, "person"), personKeys...)
		t.Groups = r.Strings(pf["groups"], yamlnode.Join(path, "person.groups"))
		t.Email = r.String(pf["email"], yamlnode.Join(path, "person.email"))
		if pn := pf["provider"]; pn != nil {
			t.Provider = r.String(pn, yamlnode.Join(path, "person.provider"))
			if i, known := rs.providers.index(t.Provider); !known || t.Provider == "" {
				r.Problemf(pn, yamlnode.Join(path, "person.provider"), "%q is not a provider (known: %s)", t.Provider, providerIDs(rs.providers))
			} else if i == 0 {
				t.Provider = "" // the primary, by its id
			}
		}
		if f["person"] == nil {
			r.Problemf(tn, yamlnode.Join(path, "person"), "missing; say who, such as person: {groups: [eng], email: ann@example.com}, or person: {} for someone in no group")
		}
		if at := f["at"]; at != nil {
			s := r.String(at, yamlnode.Join(path, "at"))
			var err error
			if t.At, err = time.Parse(time.RFC3339, s); err != nil && s != "" {
				r.Problemf(at, yamlnode.Join(path, "at"), "want a moment with its offset, such as 2026-12-07T09:30:00+01:00, found %q", s)
			}
		}
		if in := yamlnode.Resolve(f["invite"]); in != nil {
			if in.Kind != yaml.MappingNode || len(in.Content) == 0 {
				r.Problemf(in, yamlnode.Join(path, "invite"), "want a mapping of room paths to true or false, such as invite: {standup: true}")
			} else {
				for k := 0; k+1 < len(in.Content); k += 2 {
					key, val := in.Content[k], in.Content[k+1]
					at := yamlnode.Join(path, "invite."+key.Value)
					e := InviteExpectation{Room: key.Value, May: r.Bool(val, at), Pos: Pos{File: file, Line: key.Line}}
					if room, ok := rs.Lookup(key.Value); !ok {
						r.Problemf(key, at, "no room has the path %q (rooms: %s)", key.Value, roomList(rs))
					} else if room.Guests == nil {
						r.Problemf(key, at, "the room has no guests: section, so no one may invite guests to it")
					}
					t.Invite = append(t.Invite, e)
				}
			}
		}
		en := yamlnode.Resolve(f["expect"])
		switch {
		case en == nil && t.Invite != nil:
			// a test of who may invite alone
		case en == nil:
			r.Problemf(tn, yamlnode.Join(path, "expect"), "missing; say what the person gets, such as expect: {standup: moderator}")
		case en.Kind != yaml.MappingNode || len(en.Content) == 0:
			r.Problemf(en, yamlnode.Join(path, "expect"), "want a mapping of room paths to a role or deny, such as expect: {standup: moderator}")
		default:
			for k := 0; k+1 < len(en.Content); k += 2 {
				key, val := en.Content[k], en.Content[k+1]
				at := yamlnode.Join(path, "expect."+key.Value)
				want := r.String(val, at)
				e := Expectation{Room: key.Value, Pos: Pos{File: file, Line: key.Line}}
				if _, ok := rs.Lookup(key.Value); !ok {
					r.Problemf(key, at, "no room has the path %q (rooms: %s)", key.Value, roomList(rs))
				}
				switch {
				case want == "deny":
					e.Deny = true
				case want == "":
					r.Problemf(val, at, "empty; want a role or deny")
				case !slices.Contains(opts.Roles, want):
					r.Problemf(val, at, "%q is neither deny nor a role of this team (known: %s)", want, strings.Join(opts.Roles, ", "))
				default:
					e.Role = want
				}
				if slices.ContainsFunc(t.Expect, func(o Expectation) bool { return o.Room == e.Room }) {
					r.Problemf(key, at, "the room is expected twice in one test")
				}
				t.Expect = append(t.Expect, e)
			}
		}
		tests = append(tests, t)
	}
	if len(ps) > 0 {
		ps.Sort()
		return nil, ps
	}
	return tests, nil
}

func roomList(rs *RuleSet) string {
	var paths []string
	for _, room := range rs.Rooms() {
		paths = append(paths, room.Path)
	}
	if len(paths) == 0 {
		return "none"
	}
	return strings.Join(paths, ", ")
}

// RunTests decides every test's person in every room it expects something
// of, through person (the caller's one way from what a provider sends to
// the person rules see), and returns a problem for each expectation that
// does not hold, at the test's line:
//
//	config.yaml:88: tests[2] "contractors never enter": standup: got attendee (rules[2], config.yaml:19); want deny
//
// Each test decides at its At through DecideAt: opening hours and until
// count. A test without At decides with the rules alone, and where the
// room has opening hours, or a rule that could decide has until, it is a
// problem that asks for an at: what check says is then the same on every
// day.
func (rs *RuleSet) RunTests(tests []Test, person func(provider string, groups []string, email string) *Person) Problems {
	var ps Problems
	for i := range tests {
		t := &tests[i]
		p := person(t.Provider, t.Groups, t.Email)
		for _, e := range t.Expect {
			room, ok := rs.Lookup(e.Room)
			if !ok {
				continue // ParseTests reported it
			}
			if t.At.IsZero() {
				if why := room.timeMatters(p); why != "" {
					ps = append(ps, Problem{File: t.Pos.File, Line: t.Pos.Line, Path: t.String(),
						Msg: fmt.Sprintf("%s: %s, so the outcome depends on the moment; add the moment to decide at, such as at: \"2026-12-07T09:30:00+01:00\"", e.Room, why)})
					continue
				}
			}
			d := room.DecideAt(p, t.At)
			if d.Allowed == !e.Deny && (e.Deny || d.Role == e.Role) {
				continue
			}
			want := e.Role
			if e.Deny {
				want = "deny"
			}
			ps = append(ps, Problem{File: t.Pos.File, Line: t.Pos.Line, Path: t.String(),
				Msg: fmt.Sprintf("%s: got %s; want %s", e.Room, gotOf(d), want)})
		}
		for _, e := range t.Invite {
			room, ok := rs.Lookup(e.Room)
			if !ok {
				continue // ParseTests reported it
			}
			if d := room.DecideAt(p, t.At); d.MayInvite() != e.May {
				ps = append(ps, Problem{File: t.Pos.File, Line: t.Pos.Line, Path: t.String(),
					Msg: fmt.Sprintf("%s: may invite guests: got %v (%s); want %v", e.Room, d.MayInvite(), gotOf(d), e.May)})
			}
		}
	}
	return ps
}

// timeMatters says why p's decision in r can depend on the moment, or ""
// when it cannot: the room has opening hours, or a rule that covers p
// before one without until decides has until.
func (r *Room) timeMatters(p *Person) string {
	if r.Open != nil {
		return "the room has opening hours"
	}
	for i := range r.Rules {
		rule := &r.Rules[i]
		if _, ok := rule.decide(p); !ok {
			continue
		}
		if rule.Until.IsZero() {
			return ""
		}
		return rule.String() + " has until"
	}
	return ""
}

// gotOf says what a decision gave, with the rule that made it.
func gotOf(d Decision) string {
	rule := "no rule covers them"
	if d.Closed {
		return "deny (closed; rules[" + strconv.Itoa(d.Rule.Index) + "], " + d.Rule.Pos.String() + " would admit as " + d.Rule.Role + ")"
	}
	if d.Rule != nil {
		rule = "rules[" + strconv.Itoa(d.Rule.Index) + "], " + d.Rule.Pos.String()
	}
	if d.Allowed {
		return d.Role + " (" + rule + ")"
	}
	return "deny (" + rule + ")"
}
