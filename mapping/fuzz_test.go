package mapping

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"golang.org/x/tools/txtar"
)

// FuzzParse feeds Parse arbitrary files. It must never panic; a refused file
// must come with problems that all have a line; and for an accepted one,
// every room must decide the same way twice, the same way in Explain, the
// same way with only the Essential groups, and the same way as a naive
// reading of the rules that tests every group against every pattern.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range ar.Files {
			if af.Name == "config.yaml" {
				f.Add(string(af.Data), "eng-leads,engineering,/eng/web/leads,x", "ann@example.com")
			}
		}
	}
	f.Add(decideRules, "team-é,it-admins,Engineering", "Mallory@example.COM")

	f.Fuzz(func(t *testing.T, src, groupList, email string) {
		if len(src) > 4096 || len(groupList) > 512 {
			return // long inputs only slow the fuzzer down
		}
		if !utf8.ValidString(groupList) {
			return // groups arrive as JSON strings; the regexp oracle reads bad bytes as U+FFFD
		}
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("took %v", d)
			}
		}()
		rooms, ok := fuzzRooms(src)
		if !ok {
			return
		}
		rs, err := Parse("config.yaml", rooms, testOptions)
		if err != nil {
			if rs != nil {
				t.Fatalf("Parse: got a rule set and problems")
			}
			ps := AsProblems(err)
			if len(ps) == 0 {
				t.Fatalf("Parse: got %v; want Problems", err)
			}
			for _, p := range ps {
				if p.Line <= 0 || p.File != "config.yaml" || p.Path == "" {
					t.Fatalf("problem without a place: %+v", p)
				}
			}
			return
		}
		groups := strings.Split(groupList, ",")
		people := []*Person{NewPerson(groups, email), NewPerson(nil, email)}
		// People in groups the patterns match, so that globs get exercised.
		for _, room := range rs.Rooms() {
			for _, rule := range room.Rules {
				var filled []string
				for _, g := range rule.Groups {
					filled = append(filled, fillGlob(g, groupList, 'x'), fillGlob(g, "", 'é'))
				}
				if len(people) < 16 {
					people = append(people, NewPerson(append(filled, groups...), email))
				}
			}
		}
		oracle := make(map[string]*regexp.Regexp)
		for _, room := range rs.Rooms() {
			if got, ok := rs.Lookup(room.Path); !ok || got != room {
				t.Fatalf("Lookup(%q): got %v, %v; want the room", room.Path, got, ok)
			}
			for _, p := range people {
				d := room.Decide(p)
				if again := room.Decide(p); again != d {
					t.Fatalf("room %s: Decide twice: got %+v then %+v", room.Path, d, again)
				}
				if ed, _ := room.Explain(p); ed != d {
					t.Fatalf("room %s: Explain: got %+v; want %+v", room.Path, ed, d)
				}
				if ed := room.Decide(NewPerson(rs.Essential(p.groups), p.email)); ed.Allowed != d.Allowed || ed.Role != d.Role || ed.Rule != d.Rule {
					t.Fatalf("room %s, groups %q: with Essential got %+v; want %+v", room.Path, p.groups, ed, d)
				}
				if want := naiveRule(room, p.groups, p.email, oracle); ruleIndex(d) != want {
					t.Fatalf("room %s, groups %q, email %q: got rule %d; the naive reading says %d", room.Path, p.groups, p.email, ruleIndex(d), want)
				}
				if d.Rule != nil && d.Allowed == d.Rule.Deny {
					t.Fatalf("room %s: decision %+v contradicts its rule", room.Path, d)
				}
			}
		}
	})
}

// fuzzRooms reads src as a YAML document and returns its rooms node. The
// YAML library's own failures are not this package's business.
func fuzzRooms(src string) (rooms *yaml.Node, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	rooms, err := roomsNode([]byte(src))
	return rooms, err == nil
}

// simpleAddress is an address read one way only, as the rule language
// defines it: ASCII, one @, a local part of dot-separated atoms without
// quotes or comments, a domain of letters, digits and '-' in labels, with
// perhaps one trailing dot.
var simpleAddress = regexp.MustCompile(`^[!#-'*+\-/-9=?A-Z^-~]+(\.[!#-'*+\-/-9=?A-Z^-~]+)*@([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+\.?$`)

// lowerASCII lower-cases the ASCII letters of s and nothing else.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// naiveRule is the index of the first rule that covers the person, read
// straight from the rule language's definition; -1 when none does.
func naiveRule(room *Room, groups []string, email string, oracle map[string]*regexp.Regexp) int {
	unreadable := email != "" && !simpleAddress.MatchString(email)
	email = strings.TrimSuffix(lowerASCII(email), ".")
	for i, rule := range room.Rules {
		if rule.Everyone {
			return i
		}
		for _, pattern := range rule.Groups {
			re, ok := oracle[pattern]
			if !ok {
				re = globRegexp(pattern)
				oracle[pattern] = re
			}
			for _, g := range groups {
				if g != "" && re.MatchString(g) {
					return i
				}
			}
		}
		for _, e := range rule.Emails {
			e = strings.TrimSuffix(lowerASCII(e), ".")
			if unreadable && rule.Deny {
				return i
			}
			if email == "" || unreadable {
				continue
			}
			if domain, ok := strings.CutPrefix(e, "*@"); ok {
				if at := strings.LastIndexByte(email, '@'); at >= 0 && email[at+1:] == domain {
					return i
				}
			} else if email == e {
				return i
			}
		}
	}
	return -1
}
