package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomgate/roomgate/mapping"
)

// TestDiffCommand: exit 0 with no change, 3 with changes and 1 on bad
// input; the text names the change, the person and both rules; json is one
// value; -people counts the named people per room and change; no secrets
// are needed.
func TestDiffCommand(t *testing.T) {
	t.Parallel()
	old := writeConfig(t, testConfig)
	swapped := strings.Replace(testConfig, `      - groups: [eng-leads]
        role: moderator
      - emails: ["*@contractor.example"]
        deny: true`, `      - emails: ["*@contractor.example"]
        deny: true
      - groups: [eng-leads]
        role: moderator`, 1)
	swapped += "  - path: retro\n    room: retro\n    rules:\n      - everyone: true\n        role: attendee\n"
	new := writeConfig(t, swapped)
	noSecrets := func(string) (string, bool) { return "", false }
	runDiff := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Run(context.Background(), append([]string{"diff"}, args...), Env{Stdout: &out, Stderr: &errb, LookupEnv: noSecrets})
		return code, out.String(), errb.String()
	}
	if code, out, errs := runDiff(old, old); code != exitOK || !strings.Contains(out, "no decision changes") {
		t.Errorf("same file: exit %d, %q %q; want 0 and no changes", code, out, errs)
	}
	code, out, errs := runDiff(old, new)
	for _, want := range []string{"moderator → deny: groups [eng-leads], email \"someone@contractor.example\"",
		"before: rules[0] (" + old + ":17) admits group \"eng-leads\" as moderator",
		"after:  rules[0] (" + new + ":17) denies email",
		"room retro added (" + new, "2 rooms change"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
	if code != exitChanged || errs != "" {
		t.Errorf("exit %d, stderr %q; want 3", code, errs)
	}

	people := filepath.Join(t.TempDir(), "people.jsonl")
	os.WriteFile(people, []byte(`{"id":"ada","groups":["eng-leads"],"email":"ada@example.com"}
{"id":"bob","groups":["eng-leads"],"email":"bob@contractor.example"}
{"id":"cy","groups":["eng-leads"],"email":"cy@contractor.example"}
{"id":"dan","groups":["sales"],"email":"dan@example.com"}
`), 0o600)
	code, out, _ = runDiff("-people", people, "-format", "json", old, new)
	var got diffJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("-format json: %v\n%s", err, out)
	}
	if code != exitChanged || !got.Changed || len(got.Rooms) != 1 || len(got.Added) != 1 {
		t.Fatalf("json: exit %d, %+v", code, got)
	}
	wantPeople := fmt.Sprint([]mapping.NamedRoom{
		{Path: "standup", Changes: []mapping.NamedChange{{Change: "moderator → deny", People: []string{"bob", "cy"}}}},
		{Path: "retro", Changes: []mapping.NamedChange{{Change: "deny → attendee", People: []string{"ada", "bob", "cy", "dan"}}}},
	})
	if fmt.Sprint(got.People) != wantPeople {
		t.Errorf("people: %v; want %v", got.People, wantPeople)
	}
	// Sound: each person printed decides differently under both files.
	oldRS, newRS := loadRulesT(t, old), loadRulesT(t, new)
	for _, r := range got.Rooms {
		for _, ch := range r.Changes {
			o, _ := oldRS.Lookup(r.Path)
			n, _ := newRS.Lookup(r.Path)
			p := mapping.NewPerson(ch.Groups, ch.Email)
			if mapping.Outcome(o.Decide(p)) != ch.From || mapping.Outcome(n.Decide(p)) != ch.To {
				t.Errorf("printed person %q %q does not go %s → %s", ch.Groups, ch.Email, ch.From, ch.To)
			}
		}
	}
	if code, _, errs := runDiff(old, filepath.Join(t.TempDir(), "missing.yaml")); code != exitProblem || errs == "" {
		t.Errorf("missing NEW: exit %d; want 1 with a message", code)
	}
	if code, _, _ := runDiff(old); code != exitProblem {
		t.Errorf("one file: exit %d; want 1", code)
	}
}

func loadRulesT(t *testing.T, path string) *mapping.RuleSet {
	t.Helper()
	var errb bytes.Buffer
	cfg, ok := loadRules(path, Env{Stderr: &errb, LookupEnv: func(string) (string, bool) { return "", false }})
	if !ok {
		t.Fatalf("%s: %s", path, errb.String())
	}
	return cfg.Rules
}

// BenchmarkDiffPeople decides a directory export of 100,000 people (in
// 2,000 teams of shared group sets, a contractor in fifty) in 1,000 rooms,
// every one of which the change touches (the contractors' deny moves to the
// top, so contractor leads lose the moderator role): the worst case of
// diff -people for deciding, with an output an admin can read.
func BenchmarkDiffPeople(b *testing.B) {
	dir := b.TempDir()
	var oldRooms, newRooms strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&oldRooms, "  - path: room%d\n    room: room%d\n    rules:\n      - groups: [team%d-leads]\n        role: moderator\n      - groups: [\"team%d-*\"]\n        role: attendee\n      - emails: [\"*@contractor.example\"]\n        deny: true\n", i, i, i%2000, i%2000)
		fmt.Fprintf(&newRooms, "  - path: room%d\n    room: room%d\n    rules:\n      - emails: [\"*@contractor.example\"]\n        deny: true\n      - groups: [team%d-leads]\n        role: moderator\n      - groups: [\"team%d-*\"]\n        role: attendee\n", i, i, i%2000, i%2000)
	}
	head := testConfig[:strings.Index(testConfig, "rooms:")] + "rooms:\n"
	oldPath, newPath := filepath.Join(dir, "old.yaml"), filepath.Join(dir, "new.yaml")
	os.WriteFile(oldPath, []byte(head+oldRooms.String()), 0o600)
	os.WriteFile(newPath, []byte(head+newRooms.String()), 0o600)
	var people bytes.Buffer
	for i := range 100_000 {
		team := i % 2000
		domain := "example.com"
		if i%50 == 0 {
			domain = "contractor.example"
		}
		fmt.Fprintf(&people, `{"id":"p%d","groups":["team%d-eng","team%d-leads","all-staff"],"email":"p%d@%s"}`+"\n", i, team, (team+i%3)%2000, i, domain)
	}
	peoplePath := filepath.Join(dir, "people.jsonl")
	os.WriteFile(peoplePath, people.Bytes(), 0o600)
	b.ResetTimer()
	for b.Loop() {
		var out, errb bytes.Buffer
		if code := Run(context.Background(), []string{"diff", "-people", peoplePath, "-format", "json", oldPath, newPath},
			Env{Stdout: &out, Stderr: &errb, LookupEnv: lookup}); code != exitChanged {
			b.Fatalf("exit %d: %s", code, errb.String())
		}
	}
}
