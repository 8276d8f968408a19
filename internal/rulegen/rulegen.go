// Package rulegen writes large rule files for benchmarks and load tests,
// shaped like a big company's, so that every measurement of "10,000 rooms
// of 20 rules" reads the same file.
package rulegen

import (
	"fmt"
	"strings"
)

// Rooms is n items of a rooms section (without the "rooms:" line), each a
// room of rules rules (at least 3): rules-3 rules naming the room's own
// team and a company-wide staff group (the first as moderator), one glob
// over every department's leads, one deny by email domain and, last, one
// rule for the whole company's email domain. No rule shadows another.
func Rooms(n, rules int) string {
	var b strings.Builder
	b.Grow(n * (100 + 70*rules))
	for r := range n {
		fmt.Fprintf(&b, "  - path: room-%05d\n    room: ds-room-%05d\n    title: \"Room %d\"\n    rules:\n", r, r, r)
		for k := range rules - 3 {
			role := "attendee"
			if k == 0 {
				role = "moderator"
			}
			fmt.Fprintf(&b, "      - groups: [team-%05d-%02d, staff-%02d]\n        role: %s\n", r, k, k, role)
		}
		b.WriteString("      - groups: [\"dept-*-leads\"]\n        role: speaker\n")
		fmt.Fprintf(&b, "      - emails: [\"*@contractor-%03d.example\"]\n        deny: true\n", r%100)
		b.WriteString("      - emails: [\"*@example.com\"]\n        role: attendee\n")
	}
	return b.String()
}
