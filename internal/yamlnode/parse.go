package yamlnode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/roomgate/roomgate/internal/cpushare"
	"go.yaml.in/yaml/v3"
)

// Parse returns the node tree of the first document in data, as
// yaml.v3's Decoder returns it, comments left out: io.EOF when data holds
// no document, yaml.v3's error when it is not YAML.
//
// Files in the block style every roomgate example uses (mappings,
// sequences, one-line scalars and one-line flow sequences) are read by a
// scanner of that subset, about ten times faster than yaml.v3 and with
// hardly any allocation: a rule file of 10,000 rooms is a reload of
// seconds with yaml.v3 alone. Anything else in the file (anchors, tags,
// block scalars, flow mappings, scalars over several lines, escapes,
// several documents, tabs) sends the whole file to yaml.v3, and so do all
// errors, which keep yaml.v3's messages. FuzzParse holds the scanner to
// yaml.v3's tree, node for node: kind, style, tag, value, line and column.
func Parse(data []byte) (*yaml.Node, error) {
	if n, ok := scan(data); ok {
		return n, nil
	}
	return decode(data)
}

// decode is yaml.v3's reading of data.
func decode(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// errBail ends a scan that met something outside the subset.
var errBail = errors.New("yamlnode: outside the scanned subset")

// scanner reads the block-style subset of YAML line by line.
type scanner struct {
	src string
	cursor

	nodes []yaml.Node  // nodes are handed out from here
	ptrs  []*yaml.Node // Content slices are cut from here
	stack []*yaml.Node // the children of the nodes being read
	tags  map[string]string

	deferKey string // a top-level key whose block sequence is left to Items
	deferred *Items // that sequence, once met
}

// cursor is where the scanner is: on the current line, which starts at
// start and ends at end (before the newline). Its content starts at column
// col (0-based), which for the first key of a sequence item is the column
// after "- ". line is its number, from 1. At the end of the file, start ==
// len(src).
type cursor struct {
	start, end, col, line int
	next                  int // where the line after it starts
}

// scan reads data with the scanner, reporting false when it meets
// anything outside the subset.
func scan(data []byte) (*yaml.Node, bool) {
	n, _, ok := scanDeferring(data, "")
	return n, ok
}

// scanDeferring is scan, leaving the block sequence under the top-level
// key deferKey (if it is not "") to the Items it returns, or nil when
// there is no such sequence.
func scanDeferring(data []byte, deferKey string) (*yaml.Node, *Items, bool) {
	if !plainText(data) {
		return nil, nil, false
	}
	s := &scanner{src: copyString(data), tags: map[string]string{}, deferKey: deferKey}
	s.advance()
	if s.start == len(s.src) || s.col != 0 {
		return nil, nil, false // no document, or one that starts indented
	}
	doc := s.node(yaml.DocumentNode, "", "", 0)
	root, err := s.block(0)
	if err != nil || s.start != len(s.src) {
		return nil, nil, false
	}
	doc.Line, doc.Column = root.Line, root.Column
	doc.Content = s.content([]*yaml.Node{root})
	return doc, s.deferred, true
}

// plainText reports whether data is made only of what the scanner reads
// as yaml.v3 would: UTF-8 with newlines for line ends, no tabs or other
// control characters, no byte order mark, no line breaks of other kinds
// (NEL, U+2028, U+2029), and no lines that start or end a document or
// hold a directive.
func plainText(data []byte) bool {
	ascii := true
	nextYield := yieldBytes
	for i := 0; i < len(data); i++ {
		if i >= nextYield {
			cpushare.Yield() // see yieldLines
			nextYield = i + yieldBytes
		}
		// Eight bytes at a time while they are printable ASCII, none a line
		// end: most of a file.
		for i+8 <= len(data) && i > 0 && data[i-1] != '\n' && printable(binary.LittleEndian.Uint64(data[i:])) {
			i += 8
		}
		if i == len(data) {
			break
		}
		c := data[i]
		if c < 0x20 && c != '\n' || c == 0x7f {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
		if (i == 0 || data[i-1] == '\n') && (c == '%' || c == '-' || c == '.') {
			if rest := data[i:]; bytes.HasPrefix(rest, []byte("---")) || bytes.HasPrefix(rest, []byte("...")) || c == '%' {
				return false
			}
		}
	}
	if ascii {
		return true
	}
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		if !(r >= 0xa0 && r <= 0xd7ff && r != 0x2028 && r != 0x2029 || r >= 0xe000 && r <= 0xfffd && r != 0xfeff || r >= 0x10000 && r <= 0x10ffff) {
			return false
		}
		i += size
	}
	return true
}

// printable reports whether the eight bytes of w are all printable ASCII:
// none below 0x20 (a line end among them), none 0x7f, none from 0x80.
func printable(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	below := (w - 0x20*ones) & ^w & highs // a byte below 0x20, given no high bit
	del := w ^ 0x7f*ones
	del = (del - ones) & ^del & highs // a byte that is 0x7f
	return w&highs == 0 && below == 0 && del == 0
}

// copyString is string(data), copied a chunk at a time so that the
// goroutine lets others run between chunks: one copy of a 14 MB file holds
// the CPU for tens of milliseconds on a busy machine.
func copyString(data []byte) string {
	var b strings.Builder
	b.Grow(len(data))
	for len(data) > 0 {
		n := min(len(data), yieldBytes)
		b.Write(data[:n])
		data = data[n:]
		cpushare.Yield()
	}
	return b.String()
}

// yieldLines is how many lines the scanner reads between two calls of
// cpushare.Yield: reading a file of 10,000 rooms takes a while, and in a
// reload, a server with one core for its requests must not stall them
// meanwhile.
const yieldLines = 32

// yieldBytes is how many bytes of the file the scanner checks or copies
// between two calls of cpushare.Yield.
const yieldBytes = 16 << 10

// advance moves to the next line with content, past blank lines and
// comment lines.
func (s *scanner) advance() {
	for s.next < len(s.src) {
		s.start = s.next
		s.line++
		if s.line%yieldLines == 0 {
			cpushare.Yield() // see yieldLines
		}
		if nl := strings.IndexByte(s.src[s.start:], '\n'); nl >= 0 {
			s.end, s.next = s.start+nl, s.start+nl+1
		} else {
			s.end, s.next = len(s.src), len(s.src)
		}
		s.col = 0
		for s.start+s.col < s.end && s.src[s.start+s.col] == ' ' {
			s.col++
		}
		if p := s.start + s.col; p < s.end && s.src[p] != '#' {
			return
		}
	}
	s.start, s.end, s.col = len(s.src), len(s.src), 0
}

// at is the offset of the current line's content.
func (s *scanner) at() int { return s.start + s.col }

// block reads the mapping or sequence whose first line is the current one,
// at column col.
func (s *scanner) block(col int) (*yaml.Node, error) {
	if s.isItem() {
		return s.sequence(col)
	}
	return s.mapping(col)
}

// isItem reports whether the current line's content is a sequence item.
func (s *scanner) isItem() bool {
	p := s.at()
	return p < s.end && s.src[p] == '-' && (p+1 == s.end || s.src[p+1] == ' ')
}

// mapping reads a block mapping whose keys are at column col.
func (s *scanner) mapping(col int) (*yaml.Node, error) {
	m := s.node(yaml.MappingNode, "!!map", "", 0)
	m.Line, m.Column = s.line, col+1
	base := len(s.stack)
	for s.start < len(s.src) && s.col == col && !s.isItem() {
		key, err := s.key()
		if err != nil {
			return nil, err
		}
		s.stack = append(s.stack, key)
		// After "key:": a value on the line, or a block on the lines below.
		p := s.skip(s.start + col + len(key.Value) + 1)
		var value *yaml.Node
		if p == s.end || s.src[p] == '#' {
			s.advance()
			switch {
			case col == 0 && s.deferKey != "" && key.Value == s.deferKey && s.start < len(s.src) && s.isItem():
				value, err = s.deferSequence()
			case s.start < len(s.src) && s.col > col:
				value, err = s.block(s.col)
			case s.start < len(s.src) && s.col == col && s.isItem():
				value, err = s.sequence(col)
			default:
				err = errBail // an empty value: a null, whose place yaml.v3 sets its own way
			}
		} else {
			value, err = s.lastOnLine(p, col)
		}
		if err != nil {
			return nil, err
		}
		s.stack = append(s.stack, value)
	}
	return s.close(m, base, col)
}

// lastOnLine reads the inline value at p, the last thing in a block at
// column col: the next line with content may not be indented deeper.
func (s *scanner) lastOnLine(p, col int) (*yaml.Node, error) {
	n, err := s.inline(p)
	if err != nil {
		return nil, err
	}
	s.advance()
	if s.start < len(s.src) && s.col > col {
		return nil, errBail // a scalar that goes on, or a stray indent
	}
	return n, nil
}

// close ends the block n at column col, whose children are on the stack
// from base, unless the line after it is indented deeper.
func (s *scanner) close(n *yaml.Node, base, col int) (*yaml.Node, error) {
	if s.start < len(s.src) && s.col > col {
		return nil, errBail
	}
	n.Content = s.content(s.stack[base:])
	s.stack = s.stack[:base]
	return n, nil
}

// key reads the plain key at the current line's content, up to its ':'.
func (s *scanner) key() (*yaml.Node, error) {
	p := s.at()
	q := p
	for q < s.end && isKeyByte(s.src[q], q == p) {
		q++
	}
	if q == p || q-p > maxKey || q == s.end || s.src[q] != ':' || q+1 < s.end && s.src[q+1] != ' ' {
		return nil, errBail
	}
	return s.scalar(s.src[p:q], p, s.plainTag(s.src[p:q]), 0)
}

// maxKey is the longest key the scanner reads: yaml.v3 refuses a key of
// 1,024 characters or more on one line (FuzzParse found it).
const maxKey = 1000

// isKeyByte reports whether c may be in a key the scanner reads: letters,
// digits, '_', and after the first, '-' and '.'.
func isKeyByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		return true
	case c >= '0' && c <= '9', c == '-', c == '.':
		return !first
	}
	return false
}

// sequence reads a block sequence whose dashes are at column col.
func (s *scanner) sequence(col int) (*yaml.Node, error) {
	q := s.node(yaml.SequenceNode, "!!seq", "", 0)
	q.Line, q.Column = s.line, col+1
	base := len(s.stack)
	for s.start < len(s.src) && s.col == col && s.isItem() {
		item, err := s.item(col)
		if err != nil {
			return nil, err
		}
		s.stack = append(s.stack, item)
	}
	return s.close(q, base, col)
}

// item reads the sequence item at the current line, whose dash is at
// column col.
func (s *scanner) item(col int) (*yaml.Node, error) {
	p := s.skip(s.at() + 1)
	if p == s.end || s.src[p] == '#' || s.src[p] == '-' {
		return nil, errBail // an item on the lines below, or a sequence in a sequence
	}
	if s.startsKey(p) {
		s.col = p - s.start // the item is a mapping whose first key is here
		return s.mapping(s.col)
	}
	return s.lastOnLine(p, col)
}

// startsKey reports whether a plain key followed by ':' and a space or the
// end of the line starts at p.
func (s *scanner) startsKey(p int) bool {
	q := p
	for q < s.end && isKeyByte(s.src[q], q == p) {
		q++
	}
	return q > p && q-p <= maxKey && q < s.end && s.src[q] == ':' && (q+1 == s.end || s.src[q+1] == ' ')
}

// inline reads the value that starts at p and fills the rest of the line:
// a quoted or plain scalar, or a flow sequence, then at most a comment.
func (s *scanner) inline(p int) (*yaml.Node, error) {
	var n *yaml.Node
	var q int
	var err error
	switch s.src[p] {
	case '[':
		n, q, err = s.flow(p)
	case '{':
		n, q, err = s.flowMapping(p)
	default:
		n, q, err = s.value(p, 0)
	}
	if err != nil {
		return nil, err
	}
	if q = s.skip(q); q < s.end && (s.src[q] != '#' || s.src[q-1] != ' ') {
		return nil, errBail
	}
	return n, nil
}

// value reads a scalar at p and returns it with the offset after it. In a
// flow collection, closer is the byte that ends it (']' or '}'); in a block,
// 0.
func (s *scanner) value(p int, closer byte) (*yaml.Node, int, error) {
	inFlow := closer != 0
	switch c := s.src[p]; c {
	case '"', '\'':
		q := strings.IndexByte(s.src[p+1:s.end], c)
		if q < 0 {
			return nil, 0, errBail
		}
		q += p + 1
		text := s.src[p+1 : q]
		if c == '"' && strings.IndexByte(text, '\\') >= 0 || c == '\'' && q+1 < s.end && s.src[q+1] == '\'' {
			return nil, 0, errBail // escapes, and '' in single quotes
		}
		style := yaml.DoubleQuotedStyle
		if c == '\'' {
			style = yaml.SingleQuotedStyle
		}
		n, err := s.scalar(text, p, "!!str", style)
		return n, q + 1, err
	case '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '%', '@', '`':
		return nil, 0, errBail // an indicator: yaml.v3 knows what it means here
	}
	q := p
	for q < s.end {
		c := s.src[q]
		if c == ':' && (q+1 == s.end || s.src[q+1] == ' ' || inFlow) ||
			c == '#' && s.src[q-1] == ' ' ||
			inFlow && (c == ',' || c == '?' || c == ']' || c == '[' || c == '{' || c == '}') {
			break
		}
		q++
	}
	if q < s.end && s.src[q] == ':' || inFlow && q < s.end && s.src[q] != ',' && s.src[q] != closer {
		return nil, 0, errBail
	}
	text := strings.TrimRight(s.src[p:q], " ")
	n, err := s.scalar(text, p, s.plainTag(text), 0)
	return n, q, err
}

// flow reads the one-line flow sequence of scalars at p ('[') and returns
// it with the offset after its ']'.
func (s *scanner) flow(p int) (*yaml.Node, int, error) {
	return s.collection(p, yaml.SequenceNode, "!!seq", ']', func(q int) (int, error) {
		item, r, err := s.value(q, ']')
		if err == nil {
			s.stack = append(s.stack, item)
		}
		return r, err
	})
}

// flowMapping reads the one-line flow mapping at p ('{'), whose keys are
// plain and whose values are scalars or flow sequences, and returns it with
// the offset after its '}'.
func (s *scanner) flowMapping(p int) (*yaml.Node, int, error) {
	return s.collection(p, yaml.MappingNode, "!!map", '}', func(q int) (int, error) {
		if !s.startsKey(q) {
			return 0, errBail
		}
		k := strings.IndexByte(s.src[q:s.end], ':') + q
		key, err := s.scalar(s.src[q:k], q, s.plainTag(s.src[q:k]), 0)
		if err != nil {
			return 0, err
		}
		v := s.skip(k + 1)
		if v == s.end {
			return 0, errBail
		}
		var value *yaml.Node
		var r int
		if s.src[v] == '[' {
			value, r, err = s.flow(v)
		} else {
			value, r, err = s.value(v, '}')
		}
		if err == nil {
			s.stack = append(s.stack, key, value)
		}
		return r, err
	})
}

// collection reads the one-line flow collection at p, which closer ends:
// entry reads one entry at q onto the stack and returns the offset after
// it. Entries are separated by commas; an empty entry, a trailing comma or
// a collection that goes on below is left to yaml.v3.
func (s *scanner) collection(p int, kind yaml.Kind, tag string, closer byte, entry func(q int) (int, error)) (*yaml.Node, int, error) {
	n := s.node(kind, tag, "", yaml.FlowStyle)
	n.Line, n.Column = s.line, utf8.RuneCountInString(s.src[s.start:p])+1
	base := len(s.stack)
	q := s.skip(p + 1)
	for q == s.end || s.src[q] != closer {
		if q == s.end {
			return nil, 0, errBail
		}
		r, err := entry(q)
		if err != nil {
			return nil, 0, err
		}
		if r = s.skip(r); r < s.end && s.src[r] == closer {
			q = r
			break
		}
		if r == s.end || s.src[r] != ',' {
			return nil, 0, errBail
		}
		if q = s.skip(r + 1); q == s.end || s.src[q] == closer || s.src[q] == ',' {
			return nil, 0, errBail
		}
	}
	n.Content = s.content(s.stack[base:])
	s.stack = s.stack[:base]
	return n, q + 1, nil
}

// skip returns the offset of the first byte at or after p that is not a
// space, on the current line.
func (s *scanner) skip(p int) int {
	for p < s.end && s.src[p] == ' ' {
		p++
	}
	return p
}

// scalar is a scalar node of text at offset p of the current line.
func (s *scanner) scalar(text string, p int, tag string, style yaml.Style) (*yaml.Node, error) {
	if tag == "" {
		return nil, errBail
	}
	n := s.node(yaml.ScalarNode, tag, text, style)
	n.Line, n.Column = s.line, utf8.RuneCountInString(s.src[s.start:p])+1
	return n, nil
}

// plainTag is the tag yaml.v3 resolves a plain scalar to, or "" when the
// scanner leaves it to yaml.v3. Words starting with a letter are strings
// but for yaml.v3's booleans and nulls; anything else is asked of yaml.v3
// once per parse.
func (s *scanner) plainTag(text string) string {
	if text == "" {
		return ""
	}
	if c := text[0]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
		switch text {
		case "true", "True", "TRUE", "false", "False", "FALSE":
			return "!!bool"
		case "null", "Null", "NULL":
			return "!!null"
		}
		return "!!str"
	}
	if tag, ok := s.tags[text]; ok {
		return tag
	}
	tag := ""
	if n, err := decode([]byte(text)); err == nil && len(n.Content) == 1 {
		if v := n.Content[0]; v.Kind == yaml.ScalarNode && v.Style == 0 && v.Value == text {
			tag = v.Tag
		}
	}
	s.tags[text] = tag
	return tag
}

// node hands out a node from the scanner's slab.
func (s *scanner) node(kind yaml.Kind, tag, value string, style yaml.Style) *yaml.Node {
	if len(s.nodes) == cap(s.nodes) {
		s.nodes = make([]yaml.Node, 0, 4096)
	}
	// Set field by field in the slab's zeroed memory: appending a whole
	// yaml.Node copies all of its pointer fields, each behind a write
	// barrier while a collection runs.
	s.nodes = s.nodes[:len(s.nodes)+1]
	n := &s.nodes[len(s.nodes)-1]
	n.Kind, n.Style, n.Tag, n.Value = kind, style, tag, value
	return n
}

// content copies children into a Content slice cut from the scanner's
// slab, with no room to grow into its neighbour.
func (s *scanner) content(children []*yaml.Node) []*yaml.Node {
	n := len(children)
	if n == 0 {
		return nil
	}
	if cap(s.ptrs)-len(s.ptrs) < n {
		s.ptrs = make([]*yaml.Node, 0, max(16384, n))
	}
	start := len(s.ptrs)
	s.ptrs = append(s.ptrs, children...)
	return s.ptrs[start : start+n : start+n]
}
