package mapping

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the want and problems files of testdata/*.txtar from what the code does")

// TestGolden runs testdata/*.txtar. Each archive holds:
//
//   - config.yaml: a configuration file with a rooms section, parsed with
//     the roles moderator, speaker and attendee;
//   - either problems: the exact problem list Parse must give, one per line;
//   - or pairs person[.NAME] and want[.NAME]: a person (room, groups as a
//     comma-separated list, email) and the decision they must get.
//
// go test ./mapping -run Golden -update rewrites the expectations; review
// the diff before committing it.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.txtar")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if changed := runGolden(t, ar); changed && *update {
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// runGolden checks one archive, updating its expectations in place when
// -update is set. It reports whether any expectation differed.
func runGolden(t *testing.T, ar *txtar.Archive) (changed bool) {
	t.Helper()
	files := make(map[string]*txtar.File)
	for i := range ar.Files {
		files[ar.Files[i].Name] = &ar.Files[i]
	}
	config, ok := files["config.yaml"]
	if !ok {
		t.Fatal("no config.yaml in the archive")
	}
	rooms, err := roomsNode(config.Data)
	if err != nil {
		t.Fatalf("config.yaml is not YAML: %v", err)
	}
	rs, err := Parse("config.yaml", rooms, testOptions)

	check := func(name, got string) {
		f, ok := files[name]
		if !ok {
			t.Errorf("no %s in the archive; got:\n%s", name, got)
			return
		}
		if string(f.Data) != got {
			changed = true
			if *update {
				f.Data = []byte(got)
				return
			}
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", name, got, f.Data)
		}
	}

	if _, ok := files["problems"]; ok {
		if err == nil {
			t.Fatal("Parse: no problem; want the problems file")
		}
		if AsProblems(err) == nil {
			t.Fatalf("Parse: got %v; want Problems", err)
		}
		check("problems", err.Error()+"\n")
		return changed
	}
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	people := 0
	for _, f := range ar.Files {
		suffix, ok := strings.CutPrefix(f.Name, "person")
		if !ok {
			continue
		}
		people++
		roomPath, person := readPerson(t, f.Name, f.Data)
		room, ok := rs.Lookup(roomPath)
		if !ok {
			t.Errorf("%s: no room %q", f.Name, roomPath)
			continue
		}
		check("want"+suffix, formatDecision(room.Decide(person)))
	}
	if people == 0 {
		t.Fatal("neither problems nor person in the archive")
	}
	return changed
}

// readPerson reads lines room: PATH, groups: a, b and email: E.
func readPerson(t *testing.T, name string, data []byte) (room string, p *Person) {
	t.Helper()
	var groups []string
	var email string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("%s: %q is not key: value", name, line)
		}
		value = strings.TrimSpace(value)
		switch key {
		case "room":
			room = value
		case "groups":
			for _, g := range strings.Split(value, ",") {
				if g = strings.TrimSpace(g); g != "" {
					groups = append(groups, g)
				}
			}
		case "email":
			email = value
		default:
			t.Fatalf("%s: unknown key %q (known: room, groups, email)", name, key)
		}
	}
	return room, NewPerson(groups, email)
}

// formatDecision writes a decision the way the want files hold it.
func formatDecision(d Decision) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "allowed: %v\n", d.Allowed)
	if d.Allowed {
		fmt.Fprintf(&b, "role: %s\n", d.Role)
	}
	if d.Rule != nil {
		fmt.Fprintf(&b, "rule: rules[%d]\n", d.Rule.Index)
		fmt.Fprintf(&b, "matched: %s\n", d.Matched)
	} else {
		fmt.Fprintf(&b, "rule: none\n")
	}
	fmt.Fprintf(&b, "reason: %s\n", d.Reason())
	return b.String()
}
