package yamlnode

import (
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/internal/rulestest"
)

// clone copies the tree at n, which Items reuses.
func clone(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, child := range n.Content {
		c.Content[i] = clone(child)
	}
	return &c
}

// checkDeferred: what ParseDeferred returns, with the items Items reads put
// back, is yaml.v3's tree whenever the scanner reads the file; when it
// does not, neither does ParseDeferred. It reports whether key's sequence
// was deferred.
func checkDeferred(t *testing.T, src, key string) (deferred bool) {
	t.Helper()
	doc, items, err := ParseDeferred([]byte(src), key)
	_, scanned := scan([]byte(src))
	if items == nil {
		if scanned {
			if err != nil {
				t.Fatalf("ParseDeferred(%q) without items: %v; want yaml.v3's tree", key, err)
			}
			asYAMLv3(t, doc, src, "ParseDeferred without items")
		}
		return false
	}
	var seq *yaml.Node
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == key {
			seq = top.Content[i+1]
			break
		}
	}
	if seq == nil || seq.Kind != yaml.SequenceNode || len(seq.Content) != 0 {
		t.Fatalf("%q's deferred node is %+v; want an empty sequence", key, seq)
	}
	next := 0
	for i, item := range items.All() {
		if i != next {
			t.Fatalf("item %d after %d", i, next-1)
		}
		next++
		seq.Content = append(seq.Content, clone(item))
	}
	if got := items.Err() == nil; got != scanned {
		t.Fatalf("Items.Err() = %v, and the scanner reads the whole file: %v\n%s", items.Err(), scanned, src)
	}
	if scanned {
		asYAMLv3(t, doc, src, "ParseDeferred")
	}
	return true
}

// TestParseDeferred: the rooms of a rule file are read one at a time and
// come out as yaml.v3 reads them, wherever the sequence sits and whatever
// follows it; an item the scanner cannot read, or a sequence that ends
// other than where it seemed to, is ErrNotScanned.
func TestParseDeferred(t *testing.T) {
	t.Parallel()
	deferred := []string{
		"rooms:\n  - path: a\n    rules:\n      - groups: [x, y]\n        role: moderator\n  - path: b\n",
		"server:\n  listen: x\nrooms:\n- path: a\n- path: b\n  title: c\ntests:\n  - name: t\n",
		"rooms:\n  # a comment\n  - a\n\n  - b # c\nafter: 1\n",
		"rooms:\n  - a\n",
	}
	for _, src := range deferred {
		if !checkDeferred(t, src, "rooms") {
			t.Errorf("not deferred:\n%s", src)
		}
	}
	notDeferred := []string{
		"rooms: []\n",
		"rooms:\n  a: b\n",
		"other:\n  - a\n",
		"rooms:\n",
		"- rooms:\n  - a\n",
		"rooms:\n  - a\nrooms:\n  - b\n", // twice: yaml.v3's
		"rooms:\n  - &x a\n",             // yaml.v3 reads it; the scanner does not
	}
	for _, src := range notDeferred {
		checkDeferred(t, src, "rooms")
	}
	// An item the scanner leaves to yaml.v3, a sequence that ends early (a
	// line indented less than the dashes), a dash indented below an item.
	for _, src := range []string{
		"rooms:\n  - a\n  - b: |\n      text\n",
		"rooms:\n    - a\n  - b\n",
		"rooms:\n- a\n  - b\n",
	} {
		_, items, err := ParseDeferred([]byte(src), "rooms")
		if err != nil || items == nil {
			t.Fatalf("ParseDeferred(%q): %v, %v; want deferred items", src, items, err)
		}
		for range items.All() {
		}
		if items.Err() != ErrNotScanned {
			t.Errorf("Items.Err() = %v for\n%s\nwant ErrNotScanned", items.Err(), src)
		}
	}
}

// TestItemsReuseTheirNodes: reading the items of 1,000 rooms allocates
// the same few slabs as reading one; reading them into a tree allocates a
// slab for every few rooms.
func TestItemsReuseTheirNodes(t *testing.T) {
	src := []byte("rooms:\n" + rulestest.Rooms(1000, 20))
	_, items, err := ParseDeferred(src, "rooms")
	if err != nil || items == nil {
		t.Fatalf("ParseDeferred: %v, %v", items, err)
	}
	n := 0
	allocs := testing.AllocsPerRun(2, func() {
		n = 0
		for range items.All() {
			n++
		}
	})
	if n != 1000 || items.Err() != nil {
		t.Fatalf("read %d items (%v); want 1000", n, items.Err())
	}
	if allocs > 4 {
		t.Errorf("reading 1,000 rooms allocated %.0f times; want their nodes reused (at most 4)", allocs)
	}
	whole := testing.AllocsPerRun(1, func() { scan(src) })
	if whole < 40 {
		t.Errorf("a whole scan allocated %.0f times; the comparison above means nothing", whole)
	}
}
