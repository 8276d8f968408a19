package yamlnode

import (
	"errors"
	"iter"

	"go.yaml.in/yaml/v3"
)

// ParseDeferred is Parse for a file whose bulk is one block sequence, the
// value of the top-level key: a rule file's rooms. When the scanner reads
// the file, that sequence's node comes back without its items, and Items
// reads them one at a time, each into the nodes of the one before: the
// 10,000 rooms of a large file are then never in memory as nodes all at
// once (a million and a half of them, 200 MB, for a 14 MB file). Items is
// nil when there is no such sequence or yaml.v3 read the file: the tree is
// then whole, as Parse returns it.
func ParseDeferred(data []byte, key string) (*yaml.Node, *Items, error) {
	if n, items, ok := scanDeferring(data, key); ok {
		return n, items, nil
	}
	n, err := decode(data)
	return n, nil, err
}

// ErrNotScanned is Items.Err when an item holds what the scanner leaves to
// yaml.v3: the caller then reads the whole file with Parse.
var ErrNotScanned = errors.New("yamlnode: an item outside the scanned subset")

// Items is a block sequence that ParseDeferred left unread.
type Items struct {
	s   *scanner
	at  cursor // the sequence's first line
	col int    // the column of its dashes
	end int    // where the first line after it starts
	err error
}

// deferSequence skips the block sequence at the current line, the value of
// the top-level key s.deferKey, and returns its node without items.
func (s *scanner) deferSequence() (*yaml.Node, error) {
	if s.deferred != nil {
		return nil, errBail // the key twice: yaml.v3's to read
	}
	q := s.node(yaml.SequenceNode, "!!seq", "", 0)
	q.Line, q.Column = s.line, s.col+1
	it := &Items{s: s, at: s.cursor, col: s.col}
	// Everything indented, and at column 0 the items of a sequence whose
	// dashes are there. Where the items end is checked when they are read.
	for s.start < len(s.src) && (s.col > 0 || it.col == 0 && s.isItem()) {
		s.advance()
	}
	it.end = s.start
	s.deferred = it
	return q, nil
}

// All reads the items in order. An item's nodes and Content slices are
// reused for the next item once yield returns: yield must keep none of
// them. When an item holds what the scanner leaves to yaml.v3, or the
// sequence does not end where it was found to end, the iteration stops and
// Err reports ErrNotScanned.
func (it *Items) All() iter.Seq2[int, *yaml.Node] {
	return func(yield func(int, *yaml.Node) bool) {
		s := it.s
		s.cursor = it.at
		s.nodes, s.ptrs = nil, nil // the document's nodes stay the caller's
		it.err = nil
		for i := 0; s.start < len(s.src) && s.col == it.col && s.isItem(); i++ {
			item, err := s.item(it.col)
			if err != nil {
				it.err = ErrNotScanned
				return
			}
			if !yield(i, item) {
				return
			}
			clear(s.nodes)
			s.nodes = s.nodes[:0]
			clear(s.ptrs)
			s.ptrs = s.ptrs[:0]
		}
		if s.start != it.end {
			it.err = ErrNotScanned
		}
	}
}

// Err is nil once All has read every item, and ErrNotScanned when it could
// not.
func (it *Items) Err() error { return it.err }
