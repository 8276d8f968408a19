package gateway

import (
	"encoding/base64"
	"math/bits"

	"github.com/roomgate/roomgate/mapping"
)

// groupView is what a session needs to know of one rule set: which groups
// to keep, how to write them small, and whether groups kept for another rule
// set still suffice.
//
// A session keeps the person's essential groups: one per group pattern
// they match, so never more than the rule set has patterns, however many
// groups the provider sent. Most of those are spelled exactly like a
// pattern (eng-leads, or an Entra group's object id), and such a group is
// written as one bit at the pattern's index in GroupPatterns; the rest
// (the one group kept for eng-*) are written out. Both readings need the
// same patterns in the same order, which the fingerprint vouches for: when
// a reload changes the patterns, the fingerprint changes, unpack refuses,
// and the session is re-checked before anything is decided.
type groupView struct {
	rules       *mapping.RuleSet
	patterns    []string       // rules.GroupPatterns()
	index       map[string]int // pattern -> its index in patterns
	fingerprint string
}

func newGroupView(rs *mapping.RuleSet) *groupView {
	v := &groupView{rules: rs, patterns: rs.GroupPatterns(), fingerprint: rs.Fingerprint()}
	v.index = make(map[string]int, len(v.patterns))
	for i, p := range v.patterns {
		v.index[p] = i
	}
	return v
}

// keep returns the groups of groups a session of a person of provider
// (its id; "" is the primary) keeps.
func (v *groupView) keep(provider string, groups []string) []string {
	return v.rules.EssentialOf(provider, groups)
}

// pack writes id.Groups into the fields that go into the cookie.
func (v *groupView) pack(id *identity) {
	id.Fingerprint = v.fingerprint
	id.Names = nil
	bits := make([]byte, (len(v.patterns)+7)/8)
	last := -1
	for _, g := range id.Groups {
		i, ok := v.index[g]
		if !ok {
			id.Names = append(id.Names, g)
			continue
		}
		bits[i/8] |= 1 << (i % 8)
		last = max(last, i/8)
	}
	id.Patterns = base64.RawURLEncoding.EncodeToString(bits[:last+1])
}

// unpack sets id.Groups from the cookie's fields and reports whether it
// could: false when they were written for other group patterns.
func (v *groupView) unpack(id *identity) bool {
	if id.Fingerprint != v.fingerprint {
		return false
	}
	var stack [64]byte
	packed, err := base64.RawURLEncoding.AppendDecode(stack[:0], []byte(id.Patterns))
	if err != nil || len(packed) > (len(v.patterns)+7)/8 {
		return false
	}
	set := 0
	for _, b := range packed {
		set += bits.OnesCount8(b)
	}
	groups := make([]string, len(id.Names), len(id.Names)+set)
	copy(groups, id.Names)
	for i := range len(packed) * 8 {
		if packed[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		if i >= len(v.patterns) {
			return false
		}
		groups = append(groups, v.patterns[i])
	}
	id.Groups = groups
	return true
}
