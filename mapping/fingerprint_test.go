package mapping

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

const fingerprintRooms = `
rooms:
  - path: standup
    room: r-standup
    rules:
      - groups: [eng-leads, "/eng/*/leads"]
        role: moderator
      - groups: ["eng-**", "team-?"]
        role: attendee
  - path: all-hands
    room: r-all-hands
    rules:
      - groups: [leadership, eng-leads]
        role: moderator
      - emails: ["*@example.com"]
        role: attendee
`

func TestGroupPatternsAndFingerprint(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, fingerprintRooms)
	want := []string{"/eng/*/leads", "eng-*", "eng-leads", "leadership", "team-?"}
	if got := rs.GroupPatterns(); !slices.Equal(got, want) {
		t.Errorf("GroupPatterns() = %q; want %q", got, want)
	}

	tests := []struct {
		name     string
		rooms    string
		wantSame bool
	}{
		{"same file", fingerprintRooms, true},
		{"other rooms, outcomes and order, same patterns", `
rooms:
  - path: one
    room: r-one
    rules:
      - groups: ["team-?", leadership, "eng-*"]
        role: speaker
  - path: two
    room: r-two
    rules:
      - groups: ["/eng/*/leads", eng-leads]
        deny: true
      - everyone: true
        role: attendee
`, true},
		{"a pattern added", strings.Replace(fingerprintRooms, "[leadership, eng-leads]", "[leadership, eng-leads, board]", 1), false},
		{"a pattern removed", strings.Replace(fingerprintRooms, `, "team-?"`, "", 1), false},
		{"a pattern changed", strings.Replace(fingerprintRooms, "leadership", "Leadership", 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			other := mustParse(t, tt.rooms)
			if same := other.Fingerprint() == rs.Fingerprint(); same != tt.wantSame {
				t.Errorf("fingerprints %q and %q: same = %v; want %v", other.Fingerprint(), rs.Fingerprint(), same, tt.wantSame)
			}
		})
	}
	if n := len(rs.Fingerprint()); n != 16 {
		t.Errorf("len(Fingerprint()) = %d; want 16", n)
	}
	var none *RuleSet
	if got := none.GroupPatterns(); got != nil {
		t.Errorf("nil rule set: GroupPatterns() = %q; want nil", got)
	}
}

func TestEssential(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, fingerprintRooms)
	tests := []struct {
		name   string
		groups []string
		want   []string
	}{
		{"none", nil, nil},
		{"unrelated only", []string{"marketing", "sales"}, nil},
		{"exact names kept", []string{"leadership", "eng-leads", "sales"}, []string{"eng-leads", "leadership"}},
		// eng-leads answers both eng-leads and eng-*, so it is enough.
		{"one group for two patterns", []string{"eng-leads", "eng-platform", "eng-web"}, []string{"eng-leads"}},
		{"one of many for a glob", []string{"eng-b", "eng-a", "eng-c"}, []string{"eng-a"}},
		{"path patterns", []string{"/eng/web/leads", "/eng/api/leads", "/eng"}, []string{"/eng/api/leads"}},
		{"repeats and empty names", []string{"", "team-x", "team-x"}, []string{"team-x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := rs.Essential(tt.groups); !slices.Equal(got, tt.want) {
				t.Errorf("Essential(%q) = %q; want %q", tt.groups, got, tt.want)
			}
		})
	}
}

// TestEssentialDecidesAlike checks the promise Essential makes: in every
// room, the essential groups get the same outcome from the same rule as all
// the groups, for a thousand-group person and many random ones.
func TestEssentialDecidesAlike(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, fingerprintRooms)
	names := []string{"eng-leads", "eng-x", "engineering", "team-a", "team-ab", "leadership", "/eng/web/leads", "/eng/leads", "sales", "eng-"}
	rng := rand.New(rand.NewPCG(1, 2))
	people := [][]string{nil}
	big := make([]string, 0, 1000)
	for i := range 1000 {
		big = append(big, fmt.Sprintf("eng-team-%04d", i))
	}
	people = append(people, big)
	for range 500 {
		var gs []string
		for _, n := range names {
			if rng.IntN(3) == 0 {
				gs = append(gs, n)
			}
		}
		people = append(people, gs)
	}
	for _, groups := range people {
		essential := rs.Essential(groups)
		if len(essential) > len(rs.GroupPatterns()) {
			t.Fatalf("Essential(%d groups) kept %d; want at most one per pattern (%d)", len(groups), len(essential), len(rs.GroupPatterns()))
		}
		all, few := NewPerson(groups, "ada@example.com"), NewPerson(essential, "ada@example.com")
		for _, room := range rs.Rooms() {
			a, b := room.Decide(all), room.Decide(few)
			if a.Allowed != b.Allowed || a.Role != b.Role || a.Rule != b.Rule {
				t.Fatalf("room %s, groups %q: all decide %q, essential %q decide %q", room.Path, groups, a.Reason(), essential, b.Reason())
			}
		}
	}
}
