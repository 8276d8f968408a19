package mapping

import (
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/yamlnode"
)

// Reading a file of ten thousand rooms touches a million nodes, and nearly
// all of them are fine. So the helpers here read well-formed nodes without
// allocating, and hand anything unusual to yamlnode, which reports it in the
// words used for the rest of the configuration file. Field paths are
// likewise built only when there is a problem to report.

// at is the place of a value in the rooms section:
// rooms[room].rules[rule].key[item], each part left out when negative or
// empty. A key with rule < 0 is a key of the room.
type at struct {
	room, rule, item int
	key              string
	top              string // a top-level section other than rooms (admin); then room and rule are unused
}

var atRooms = at{room: -1, rule: -1, item: -1}

func (a at) roomAt(i int) at     { return at{room: i, rule: -1, item: -1} }
func (a at) ruleAt(j int) at     { return at{room: a.room, rule: j, item: -1} }
func (a at) field(key string) at { a.key = key; return a }
func (a at) itemAt(k int) at     { a.item = k; return a }

// String formats the place as a field path such as rooms[2].rules[0].role.
func (a at) String() string {
	if a.top != "" {
		s := a.top
		if a.key != "" {
			s = yamlnode.Join(s, a.key)
		}
		if a.item >= 0 {
			s = yamlnode.Index(s, a.item)
		}
		return s
	}
	s := "rooms"
	if a.room < 0 {
		return s
	}
	s = yamlnode.Index(s, a.room)
	if a.rule >= 0 {
		s = yamlnode.Index(yamlnode.Join(s, "rules"), a.rule)
	}
	if a.key != "" {
		s = yamlnode.Join(s, a.key)
	}
	if a.item >= 0 {
		s = yamlnode.Index(s, a.item)
	}
	return s
}

// problemf reports a problem at node n (nil: no line) and place a.
func (p *parser) problemf(n *yaml.Node, a at, format string, args ...any) {
	p.r.Problemf(n, a.String(), format, args...)
}

// fields reads the mapping n into vals, in the order of known; a key that
// is not there stays nil. It reports unknown, repeated and odd keys, and
// returns false when n is not a mapping at all.
func (p *parser) fields(n *yaml.Node, a at, known []string, vals []*yaml.Node) bool {
	r := yamlnode.Resolve(n)
	if r != nil && r.Kind == yaml.MappingNode {
		clean := true
		for i := 0; i+1 < len(r.Content) && clean; i += 2 {
			k := r.Content[i]
			j := slices.Index(known, k.Value)
			if clean = k.Kind == yaml.ScalarNode && j >= 0 && vals[j] == nil; clean {
				vals[j] = r.Content[i+1]
			}
		}
		if clean {
			return true
		}
		clear(vals)
	}
	m := p.r.Fields(n, a.String(), known...)
	for j, k := range known {
		vals[j] = m[k]
	}
	return r != nil && r.Kind == yaml.MappingNode
}

// items reads a list; anything else is reported and reads as no items.
func (p *parser) items(n *yaml.Node, a at) []*yaml.Node {
	if r := yamlnode.Resolve(n); r != nil && r.Kind == yaml.SequenceNode {
		return r.Content
	}
	return p.r.Items(n, a.String())
}

// text reads a scalar as text; ok is false, with the problem reported, when
// n is a list or a mapping. A null reads as "".
func (p *parser) text(n *yaml.Node, a at) (s string, ok bool) {
	r := yamlnode.Resolve(n)
	if yamlnode.IsNull(r) {
		return "", true
	}
	if r.Kind != yaml.ScalarNode {
		p.r.String(n, a.String())
		return "", false
	}
	return r.Value, true
}

// flag reads a switch that only means something when true. It is false,
// with the problem reported, for anything but true.
func (p *parser) flag(n *yaml.Node, a at, falseMeans string) bool {
	r := yamlnode.Resolve(n)
	if yamlnode.IsNull(r) {
		p.problemf(n, a, "no value; write true or leave it out")
		return false
	}
	if r.Kind == yaml.ScalarNode && r.Tag == "!!bool" && (r.Value == "true" || r.Value == "True" || r.Value == "TRUE") {
		return true // the usual case, without a decoder
	}
	var b bool
	if r.Kind != yaml.ScalarNode || r.Decode(&b) != nil {
		p.r.Bool(n, a.String()) // reports what was found instead
		return false
	}
	if !b {
		p.problemf(n, a, "false means nothing here: %s", falseMeans)
	}
	return b
}
