package mapping

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"golang.org/x/net/idna"
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

// plainLocal and quotedLocal are the local parts an address may have, as
// the rule language defines them: dot-separated runs without specials,
// spaces or controls, or a quoted string without quotes, backslashes or
// controls.
var (
	plainLocal  = regexp.MustCompile(`^[^\x00-\x20\x7f-\x{9f}"\\(),:;<>\[\]@.]+(\.[^\x00-\x20\x7f-\x{9f}"\\(),:;<>\[\]@.]+)*$`)
	quotedLocal = regexp.MustCompile(`^"[^\x00-\x1f\x7f-\x{9f}"\\]*"$`)
	asciiDomain = regexp.MustCompile(`^([a-z0-9-]+\.)*[a-z0-9-]+$`)
)

// readAddress reads email as the rule language defines it: ok false when
// it is no address; else the local part with ASCII letters lowered and the
// domain as IDNA looks it up.
func readAddress(email string) (local, domain string, ok bool) {
	at := strings.LastIndex(email, "@")
	if at < 0 || !utf8.ValidString(email) || at > 64 {
		return "", "", false
	}
	local = email[:at]
	if !plainLocal.MatchString(local) && !quotedLocal.MatchString(local) {
		return "", "", false
	}
	d := strings.TrimSuffix(email[at+1:], ".")
	a, err := idna.Lookup.ToASCII(d)
	if d == "" || err != nil || !asciiDomain.MatchString(lowerASCII(a)) {
		return "", "", false
	}
	return lowerASCII(local), lowerASCII(a), true
}

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
	local, domain, readable := readAddress(email)
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
			if !readable {
				continue
			}
			if d, ok := strings.CutPrefix(e, "*@"); ok {
				if _, pd, _ := readAddress("x@" + d); pd == domain {
					return i
				}
			} else if pl, pd, _ := readAddress(e); pl == local && pd == domain {
				return i
			}
		}
	}
	return -1
}
