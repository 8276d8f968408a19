package yamlnode

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/internal/rulestest"
)

// same reports how a and b differ as trees, ignoring comments, or "".
func same(a, b *yaml.Node, path string) string {
	switch {
	case a == nil || b == nil:
		if a != b {
			return fmt.Sprintf("%s: one is nil (%v, %v)", path, a, b)
		}
		return ""
	case a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value ||
		a.Anchor != b.Anchor || a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) || (a.Alias == nil) != (b.Alias == nil):
		return fmt.Sprintf("%s: kind %d/%d style %d/%d tag %q/%q value %q/%q at %d:%d/%d:%d, %d/%d children",
			path, a.Kind, b.Kind, a.Style, b.Style, a.Tag, b.Tag, a.Value, b.Value, a.Line, a.Column, b.Line, b.Column, len(a.Content), len(b.Content))
	}
	for i := range a.Content {
		if d := same(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); d != "" {
			return d
		}
	}
	return ""
}

// checkScan: when the scanner reads src, yaml.v3 reads the same tree.
func checkScan(t *testing.T, src string) (scanned bool) {
	t.Helper()
	got, ok := scan([]byte(src))
	if ok {
		asYAMLv3(t, got, src, "the scanner")
	}
	return ok
}

// asYAMLv3 fails unless got, what reader read of src, is yaml.v3's tree.
func asYAMLv3(t *testing.T, got *yaml.Node, src, reader string) {
	t.Helper()
	want, err := decode([]byte(src))
	if err != nil {
		t.Fatalf("%s read what yaml.v3 refuses (%v):\n%s", reader, err, src)
	}
	if d := same(got, want, ""); d != "" {
		t.Fatalf("%s and yaml.v3 differ: %s\n%s", reader, d, src)
	}
}

// TestScanReadsWhatYAMLv3Reads: the shapes of a roomgate file are scanned,
// node for node as yaml.v3 reads them; what the scanner leaves to yaml.v3
// is left.
func TestScanReadsWhatYAMLv3Reads(t *testing.T) {
	t.Parallel()
	scanned := []string{
		"a: b\n",
		"server:\n  listen: \":8080\"   # the port\n  public_url: https://meet.example.com\n\n# rooms\nrooms:\n- path: standup\n  title: 'Daily stand-up'\n  rules:\n    - groups: [eng-leads, \"eng-*\", 'x y']\n      role: moderator\n    - everyone: true\n      role: attendee\n      early: 10m\n",
		"a:\n  - 1\n  - 2.5\n  - true\n  - null\n  - ~\n  - 2026-12-01\n  - 0x1f\n  - +1\n  - .5\n  - 8h\n  - yes\n  - on\n  - NULL\n  - False\n",
		"k: []\nl: [ a ,b,c ]\nm: v#not-a-comment\nn: Ada's room, [1] {2}\n",
		"title: Büro Zürich 🎉\nnext: [é, ü]\n",
		"- a\n- b: c\n  d: e\n-   f: g\n",
		"a:\n- x\nb: y\n",
		"tests:\n  - person: {groups: [eng-leads, x], email: ada@example.com}\n    expect: {standup: moderator, all: none}\n  - {a: 1}\n",
	}
	for _, src := range scanned {
		if !checkScan(t, src) {
			t.Errorf("left to yaml.v3; want it scanned:\n%s", src)
		}
	}
	left := []string{
		"",
		"# only a comment\n",
		"a: &x b\nc: *x\n",
		"a: !!str 1\n",
		"a: |\n  text\n",
		"a: {b: c\n",
		"a: {b: {c: d}}\n",
		"a: b\n  c\n",
		"a: \"x\\ty\"\n",
		"a: 'it''s'\n",
		"a: [b,\n  c]\n",
		"---\na: b\n",
		"a: b\n---\nc: d\n",
		"a:\tb\n",
		"a: b\r\n",
		"\ufeffa: b\n",
		"a:\n",
		"- - a\n",
		"\"a\": b\n",
		"a: b: c\n",
		"a: [b, ]\n",
		"a: [b c: d]\n",
		"  a: b\n",
		"a: -1\n",
		"plain scalar\n",
		"a: b\n - c\n",
		"a: x\u2028y\n",
		strings.Repeat("k", 1100) + ": v\n",
		"a: \x85\n",
	}
	for _, src := range left {
		if checkScan(t, src) {
			t.Errorf("scanned; want it left to yaml.v3:\n%q", src)
		}
	}
}

// TestParse: Parse gives yaml.v3's tree for what it scans, and yaml.v3's
// answer, error or io.EOF, for the rest.
func TestParse(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"a: b\n", "a: &x b\n"} {
		n, err := Parse([]byte(src))
		want, _ := decode([]byte(src))
		if err != nil || same(n, want, "") != "" {
			t.Errorf("Parse(%q) = %v, %v; want yaml.v3's tree", src, n, err)
		}
	}
	if _, err := Parse([]byte("# nothing\n")); !errors.Is(err, io.EOF) {
		t.Errorf("a file without a document: %v; want io.EOF", err)
	}
	_, err := Parse([]byte("a: b: c\n"))
	_, want := decode([]byte("a: b: c\n"))
	if err == nil || err.Error() != want.Error() {
		t.Errorf("bad YAML: %v; want yaml.v3's error %v", err, want)
	}
}

// TestScanReadsTheProjectsFiles: the example and demo configurations are
// scanned, and read as yaml.v3 reads them.
func TestScanReadsTheProjectsFiles(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"../../config.example.yaml", "../../demo/config.yaml"} {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !checkScan(t, string(src)) {
			t.Errorf("%s is left to yaml.v3", path)
		}
	}
}

// FuzzParse: whatever the input, a scanned tree is yaml.v3's tree.
func FuzzParse(f *testing.F) {
	for _, src := range []string{
		"a: b\n", "- a: [b, 'c', \"d\"]\n  e: 1\n", "a:\n- x\nb: y # z\n", "k: v#w\nl: []\n",
		"rooms:\n  - path: room-00001\n    rules:\n      - groups: [\"dept-*-leads\"]\n        role: speaker\n",
		"rooms:\n- a: [b]\n  c: d\n# e\nx: y\n",
	} {
		f.Add(src)
	}
	if src, err := os.ReadFile("../../config.example.yaml"); err == nil {
		f.Add(string(src))
	}
	f.Fuzz(func(t *testing.T, src string) {
		if strings.Count(src, "\n") > 200 {
			return
		}
		checkScan(t, src)
		checkDeferred(t, src, "rooms")
		checkDeferred(t, src, "a")
	})
}

// BenchmarkParse reads a rooms section of 10,000 rooms of 20 rules with
// the scanner, whole and a room at a time, and with yaml.v3.
//
//	go test -run '^$' -bench 'Parse$' -benchmem ./internal/yamlnode
func BenchmarkParse(b *testing.B) {
	src := []byte("rooms:\n" + rulestest.Rooms(10000, 20))
	b.Run("scanner", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := scan(src); !ok {
				b.Fatal("not scanned")
			}
		}
	})
	b.Run("deferred", func(b *testing.B) { // as config.Parse reads it: a room at a time
		b.SetBytes(int64(len(src)))
		b.ReportAllocs()
		for b.Loop() {
			_, items, err := ParseDeferred(src, "rooms")
			if err != nil || items == nil {
				b.Fatal("not deferred")
			}
			for range items.All() {
			}
			if items.Err() != nil {
				b.Fatal(items.Err())
			}
		}
	})
	b.Run("yaml.v3", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decode(src); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestPlainText: a control character, DEL, a byte that is not UTF-8 or a
// line that starts a document is found wherever it sits in a long line,
// where plainText reads eight bytes at a time.
func TestPlainText(t *testing.T) {
	t.Parallel()
	line := "key: " + strings.Repeat("v", 27) + "\n"
	if !plainText([]byte(line + line + "x: Büro\n")) {
		t.Fatalf("plain lines refused")
	}
	for c := 0; c < 0x100; c++ {
		if c >= 0x20 && c < 0x7f || c == '\n' {
			continue
		}
		for at := range len(line) - 1 {
			bad := []byte(line + line)
			bad[len(line)+at] = byte(c)
			if plainText(bad) {
				t.Fatalf("byte %#x at %d of the second line let through", c, at)
			}
		}
	}
	for _, start := range []string{"---", "...", "%YAML 1.2"} {
		if plainText([]byte(line + start + strings.Repeat(" ", 20) + "\n")) {
			t.Errorf("a line starting %q after a long line let through", start)
		}
	}
}
