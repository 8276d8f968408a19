package reload

import (
	"testing"

	"github.com/roomgate/roomgate/internal/rulegen"
	"github.com/roomgate/roomgate/mapping"
)

// BenchmarkReloadLargeFile is one reload of a file of 10,000 rooms of 20
// rules, as SIGHUP starts it: read, parse, validate, and the group patterns
// and fingerprint the gateway's view of the new rule set is made of.
//
//	go test -run '^$' -bench ReloadLargeFile -benchtime 5x ./internal/reload
func BenchmarkReloadLargeFile(b *testing.B) {
	h := newHarness(b, b.TempDir(), roomsFile("standup"), true)
	writeFile(b, h.path, file{rooms: rulegen.Rooms(10000, 20)})
	h.w.Apply = func(rs *mapping.RuleSet) {
		rs.GroupPatterns()
		rs.Fingerprint()
	}
	for b.Loop() {
		if err := h.w.Reload(); err != nil {
			b.Fatal(err)
		}
	}
}
