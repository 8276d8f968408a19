package mapping

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/roomgate/roomgate/internal/rulegen"
)

// largeRooms is a rooms section of n rooms of rules rules each
// (rulegen.Rooms).
func largeRooms(n, rules int) string { return "rooms:\n" + rulegen.Rooms(n, rules) }

// directoryGroups are 1,000 groups of one person, none of which any rule of
// largeRooms names except those added by the caller.
func directoryGroups(extra ...string) []string {
	groups := make([]string, 0, 1000)
	for i := range 1000 - len(extra) {
		groups = append(groups, fmt.Sprintf("directory-%04d", i))
	}
	return append(groups, extra...)
}

// BenchmarkDecideLargeRuleSet is one decision, room lookup included, for a
// person in 1,000 groups, in rule sets of growing size: the time must not
// grow with the number of rooms and nothing may be allocated. Each
// iteration enters the next room, so caches see the whole set.
//
//	go test -run '^$' -bench DecideLargeRuleSet -benchmem ./mapping
func BenchmarkDecideLargeRuleSet(b *testing.B) {
	people := []struct {
		name   string
		person *Person
		// rule is the index of the deciding rule in every room; -1 for none.
		rule int
	}{
		// The first rule's exact group.
		{"first rule", NewPerson(directoryGroups("staff-00"), "ada@example.com"), 0},
		// Every exact rule tried, then the glob over departments.
		{"glob rule 17", NewPerson(directoryGroups("dept-042-leads"), "ben@elsewhere.example"), 17},
		// Every group rule and the deny tried, then the company domain.
		{"last rule", NewPerson(directoryGroups(), "Cleo@Example.COM"), 19},
		// All 20 rules tried, none covers: the worst case.
		{"no rule", NewPerson(directoryGroups(), "dan@elsewhere.example"), -1},
	}
	for _, size := range []int{100, 1000, 10000} {
		rs := mustParse(b, largeRooms(size, 20))
		paths := make([]string, size)
		for i, room := range rs.Rooms() {
			paths[i] = room.Path
		}
		for _, pp := range people {
			p := pp.person
			b.Run(fmt.Sprintf("rooms=%d/%s", size, pp.name), func(b *testing.B) {
				for _, i := range []int{0, size / 2, size - 1} {
					room, _ := rs.Lookup(paths[i])
					d := room.Decide(p)
					if got := benchRuleIndex(room, d.Rule); got != pp.rule {
						b.Fatalf("%s: decided by rule %d; want %d (%s)", room.Path, got, pp.rule, d.Reason())
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				var allowed int
				for i := 0; b.Loop(); i++ {
					room, ok := rs.Lookup(paths[i%size])
					if !ok {
						b.Fatal("lookup failed")
					}
					if room.Decide(p).Allowed {
						allowed++
					}
				}
				_ = allowed
			})
		}
	}
}

// benchRuleIndex is the index of rule in room, or -1 for nil.
func benchRuleIndex(room *Room, rule *Rule) int {
	for i := range room.Rules {
		if &room.Rules[i] == rule {
			return i
		}
	}
	return -1
}

// BenchmarkParseLargeFile parses and validates the rooms of a 10,000-room
// file, YAML decoding included, as a reload does: with 3 rules per room
// (30,000 rules), and with 20 (200,000 rules, the shape of
// BenchmarkDecideLargeRuleSet). Target: under 0.5 s.
//
//	go test -run '^$' -bench ParseLargeFile -benchmem -benchtime 3x ./mapping
func BenchmarkParseLargeFile(b *testing.B) {
	for _, rules := range []int{3, 20} {
		src := largeRooms(10000, rules)
		b.Run(fmt.Sprintf("rooms=10000/rules=%d", rules), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				rs := mustParse(b, src)
				if n := len(rs.Rooms()); n != 10000 {
					b.Fatalf("%d rooms; want 10000", n)
				}
			}
		})
	}
}

// BenchmarkCollectLargeRuleSet is one garbage collection with the rule set
// of 10,000 rooms of 20 rules live, its group patterns collected: the work
// every collection of a server holding it does for it, on one core.
//
//	go test -run '^$' -bench CollectLargeRuleSet -benchtime 10x -cpu 1 ./mapping
func BenchmarkCollectLargeRuleSet(b *testing.B) {
	rs := mustParse(b, largeRooms(10000, 20))
	rs.Fingerprint()
	runtime.GC()
	for b.Loop() {
		runtime.GC()
	}
	runtime.KeepAlive(rs)
}
