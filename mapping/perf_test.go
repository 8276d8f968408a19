package mapping

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// benchRules is the number of rules in every generated room.
const benchRules = 20

// generateRooms writes a rooms section of n rooms with benchRules rules
// each, a mix of every kind of matcher, none of which can shadow another:
// exact groups, prefix globs, globs with a literal suffix, addresses and
// domains, and everyone: true last.
func generateRooms(n int) string {
	var b strings.Builder
	b.WriteString("rooms:\n")
	for r := range n {
		fmt.Fprintf(&b, "  - path: room-%d\n    room: ds-room-%d\n    title: \"Room %d\"\n    rules:\n", r, r, r)
		for k := range benchRules - 1 {
			switch k % 4 {
			case 0:
				fmt.Fprintf(&b, "      - groups: [room-%d-owners-%d]\n        role: moderator\n", r, k)
			case 1:
				fmt.Fprintf(&b, "      - groups: [\"dept-%d-*\"]\n        role: speaker\n", k)
			case 2:
				fmt.Fprintf(&b, "      - emails: [guest-%d-%d@partner.example, \"*@org-%d.example\"]\n        deny: true\n", r, k, k)
			case 3:
				fmt.Fprintf(&b, "      - groups: [\"/org/*/team-%d\", room-%d-guests-%d]\n        role: attendee\n", k, r, k)
			}
		}
		b.WriteString("      - everyone: true\n        role: attendee\n")
	}
	return b.String()
}

// benchPerson is in 1,000 groups, none of which any rule names, so that
// Decide tries every rule before everyone: true decides: the slowest path.
func benchPerson() *Person {
	groups := make([]string, 0, 1000)
	for i := range 500 {
		groups = append(groups, fmt.Sprintf("/org/unit-%d/member-%d", i%37, i))
		groups = append(groups, fmt.Sprintf("employees-%d", i))
	}
	return NewPerson(groups, "someone@example.org")
}

var benchSets sync.Map // number of rooms → *RuleSet

func benchRuleSet(b *testing.B, n int) *RuleSet {
	b.Helper()
	if rs, ok := benchSets.Load(n); ok {
		return rs.(*RuleSet)
	}
	rs := mustParse(b, generateRooms(n))
	benchSets.Store(n, rs)
	return rs
}

// BenchmarkDecide looks a room up by path and decides for a person in 1,000
// groups whom only the last of 20 rules covers. The time per decision
// should not grow with the number of rooms.
func BenchmarkDecide(b *testing.B) {
	p := benchPerson()
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("rooms=%d", n), func(b *testing.B) {
			rs := benchRuleSet(b, n)
			paths := make([]string, n)
			for i := range paths {
				paths[i] = fmt.Sprintf("room-%d", i)
			}
			if d := rs.rooms[0].Decide(p); !d.Allowed || d.Rule.Index != benchRules-1 {
				b.Fatalf("the person should reach the last rule; got %s", d.Reason())
			}
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				room, _ := rs.Lookup(paths[i])
				room.Decide(p)
				if i++; i == n {
					i = 0
				}
			}
		})
	}
}

// BenchmarkParse parses and validates a generated file of 10,000 rooms of
// 20 rules: Parse alone, from the YAML node tree, and with YAML decoding.
func BenchmarkParse(b *testing.B) {
	src := []byte(generateRooms(10000))
	b.Run("rooms=10000/Parse", func(b *testing.B) {
		rooms, err := roomsNode(src)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := Parse("config.yaml", rooms, testOptions); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rooms=10000/yaml+Parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var doc yaml.Node
			if err := yaml.Unmarshal(src, &doc); err != nil {
				b.Fatal(err)
			}
			if _, err := Parse("config.yaml", doc.Content[0].Content[1], testOptions); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkNewPerson indexes a person in 1,000 groups, which happens once
// per request.
func BenchmarkNewPerson(b *testing.B) {
	groups := benchPerson().groups
	b.ReportAllocs()
	for b.Loop() {
		NewPerson(groups, "someone@example.org")
	}
}

// BenchmarkEssential keeps the session's groups of 1,000 against the
// patterns of 10,000 rooms, which happens once per sign-in.
func BenchmarkEssential(b *testing.B) {
	rs := benchRuleSet(b, 10000)
	groups := benchPerson().groups
	b.ReportAllocs()
	for b.Loop() {
		rs.Essential(groups)
	}
}
