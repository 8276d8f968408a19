package mapping

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestRelevant(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, `rooms:
  - path: a
    room: a
    rules:
      - groups: [eng-leads, "eng-*"]
        role: moderator
      - emails: ["*@example.com"]
        role: attendee
  - path: b
    room: b
    rules:
      - groups: ["/org/*/admins", "team-?", leadership]
        role: speaker
`)
	tests := []struct {
		name   string
		groups []string
		want   []string
	}{
		{"none", nil, nil},
		{"exact and glob, order kept", []string{"sales", "leadership", "eng-web", "eng-leads"}, []string{"leadership", "eng-web", "eng-leads"}},
		{"case-sensitive", []string{"Leadership", "ENG-web"}, nil},
		{"prefix glob needs the whole prefix", []string{"eng", "eng-"}, []string{"eng-"}},
		{"general globs", []string{"/org/it/admins", "/org/it/users", "team-1", "team-12"}, []string{"/org/it/admins", "team-1"}},
		{"empty names are dropped", []string{"", "leadership"}, []string{"leadership"}},
	}
	for _, tt := range tests {
		if got := rs.Relevant(tt.groups); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Relevant(%q): got %q; want %q", tt.name, tt.groups, got, tt.want)
		}
	}
	var nilSet *RuleSet
	if got := nilSet.Relevant([]string{"a"}); got != nil {
		t.Errorf("nil RuleSet: Relevant: got %q; want nil", got)
	}
}

// TestRelevantKeepsDecisions checks the promise Relevant makes: with only
// the relevant groups, every room decides as it does with all of them.
func TestRelevantKeepsDecisions(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, decideRules)
	universe := []string{"eng-leads", "engineering", "eng-web", "Eng-web", "/eng/a/leads", "it-admins", "team-x", "team-xy", "sales", "x", "", "/org/y"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		var groups []string
		for range r.IntN(6) {
			groups = append(groups, universe[r.IntN(len(universe))])
		}
		full := NewPerson(groups, "ann@example.com")
		kept := NewPerson(rs.Relevant(groups), "ann@example.com")
		for _, room := range rs.Rooms() {
			if a, b := room.Decide(full), room.Decide(kept); a != b {
				t.Fatalf("room %s, groups %q: got %+v with Relevant; want %+v", room.Path, groups, b, a)
			}
		}
	}
}

// TestPersonGroupIndex checks the indexed search for a pattern among a
// person's groups against testing every group in order: the answer must be
// the first matching group, whatever the other groups are.
func TestPersonGroupIndex(t *testing.T) {
	t.Parallel()
	// Names made of "/long-prefix/" share their first 8 bytes, so that the
	// searches meet long runs of equal keys.
	patterns := []string{"a", "a*", "*", "*a", "a*b", "*b*", "ab?", "?", "??*", "b/*/a", "*/a", "a/*", "é*", "*é", "?é",
		"/long-prefix/a*", "/long-prefix/*b", "/long-prefix/?", "/long-prefix//long-prefix/*", "*/long-prefix/b", "/long-prefix/a"}
	letters := []string{"a", "b", "/", "é", "c", "/long-prefix/", "/long-prefix/"}
	r := rand.New(rand.NewPCG(3, 4))
	name := func() string {
		var b strings.Builder
		for range r.IntN(5) {
			b.WriteString(letters[r.IntN(len(letters))])
		}
		return b.String()
	}
	for range 3000 {
		var groups []string
		for range r.IntN(40) {
			groups = append(groups, name())
		}
		p := NewPerson(groups, "")
		for _, s := range patterns {
			g, err := compileGlob(s)
			if err != nil {
				t.Fatal(err)
			}
			want, wantOK := "", false
			for _, n := range p.groups { // sorted: the first match is the answer
				if matchGlob(g.pat, n) {
					want, wantOK = n, true
					break
				}
			}
			got, ok := p.group(&g)
			if ok != wantOK || got != want && ok {
				t.Fatalf("pattern %q, groups %q: got %q, %v; want %q, %v", s, p.groups, got, ok, want, wantOK)
			}
		}
	}
}

func TestKeyRange(t *testing.T) {
	t.Parallel()
	keys := []uint64{1, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 7}
	tests := []struct {
		k      uint64
		lo, hi int
	}{
		{0, 0, 0}, {1, 0, 1}, {2, 1, 1}, {3, 1, 3}, {4, 3, 3}, {5, 3, 14}, {6, 14, 14}, {7, 14, 15}, {8, 15, 15},
	}
	for _, tt := range tests {
		if lo, hi := keyRange(keys, tt.k); lo != tt.lo || hi != tt.hi {
			t.Errorf("keyRange(%d): got [%d, %d); want [%d, %d)", tt.k, lo, hi, tt.lo, tt.hi)
		}
	}
	if got, want := keyOf("ab"), uint64('a')<<56|uint64('b')<<48; got != want {
		t.Errorf("keyOf(ab): got %x; want %x", got, want)
	}
	if got, want := revKeyOf("ab"), uint64('b')<<56|uint64('a')<<48; got != want {
		t.Errorf("revKeyOf(ab): got %x; want %x", got, want)
	}
}

func TestCompareReversed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rev, s string
		want   int
	}{
		{"cba", "abc", 0},
		{"cb", "abc", -1},
		{"cba", "bc", 1},
		{"cbz", "abc", 1},
		{"cab", "abc", -1},
		{"", "", 0},
	}
	for _, tt := range tests {
		if got := compareReversed(tt.rev, tt.s); got != tt.want {
			t.Errorf("compareReversed(%q, %q): got %d; want %d", tt.rev, tt.s, got, tt.want)
		}
		if got, want := compareReversed(tt.rev, tt.s), strings.Compare(tt.rev, reverse(tt.s)); got != want {
			t.Errorf("compareReversed(%q, %q): got %d; want %d as strings.Compare", tt.rev, tt.s, got, want)
		}
	}
}
