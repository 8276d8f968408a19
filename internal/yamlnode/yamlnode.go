// Package yamlnode reads a YAML document node by node, so that every problem
// in a file is reported in one run with its line and the path of its field,
// instead of stopping at the first one the way a plain Unmarshal does.
//
// A Reader is used once per file: the caller walks the document with Fields,
// Items and the scalar readers, and asks Err at the end.
package yamlnode

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a file: where it is and what is wrong.
type Problem struct {
	File string // file name as given to the Reader
	Line int    // 1-based; 0 when the problem has no place in the file
	Path string // field path such as rooms[2].rules[0].role; empty for the document
	Msg  string
}

// Error formats the problem as file:line: path: message.
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in one file, in file order. As an error it
// reads as one problem per line.
type Problems []Problem

// Error joins the problems one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// AsProblems returns the problems carried by err, or nil when err carries none.
func AsProblems(err error) Problems {
	var ps Problems
	if errors.As(err, &ps) {
		return ps
	}
	return nil
}

// Reader collects the problems of one file while its nodes are read.
type Reader struct {
	File     string
	problems Problems
}

// Problemf records a problem at node n (which may be nil) and field path.
func (r *Reader) Problemf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	r.problems = append(r.problems, Problem{File: r.File, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Add records problems found elsewhere (another package reading part of the
// same file).
func (r *Reader) Add(ps ...Problem) { r.problems = append(r.problems, ps...) }

// Err returns the problems, sorted by line, as a Problems error, or nil.
func (r *Reader) Err() error {
	if len(r.problems) == 0 {
		return nil
	}
	ps := append(Problems(nil), r.problems...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
	return ps
}

// Join appends a key to a field path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends a sequence index to a field path.
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// Fields reads a mapping node and returns its values by key. Keys not in
// known are reported (with the known ones, so a typo is easy to spot), and so
// are repeated keys. A nil or null node reads as an empty mapping.
func (r *Reader) Fields(n *yaml.Node, path string, known ...string) map[string]*yaml.Node {
	n = resolve(n)
	fields := make(map[string]*yaml.Node)
	if isNull(n) {
		return fields
	}
	if n.Kind != yaml.MappingNode {
		r.Problemf(n, path, "want a mapping of keys to values, found %s", describe(n))
		return fields
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			r.Problemf(k, path, "keys must be plain names, found %s", describe(k))
			continue
		}
		if !contains(known, k.Value) {
			r.Problemf(k, Join(path, k.Value), "unknown field (known: %s)", strings.Join(known, ", "))
			continue
		}
		if _, dup := fields[k.Value]; dup {
			r.Problemf(k, Join(path, k.Value), "repeated field; each key may appear once")
			continue
		}
		fields[k.Value] = v
	}
	return fields
}

// Items reads a sequence node. A nil or null node reads as an empty sequence.
func (r *Reader) Items(n *yaml.Node, path string) []*yaml.Node {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		r.Problemf(n, path, "want a list, found %s", describe(n))
		return nil
	}
	return n.Content
}

// String reads a scalar as a string. A nil node reads as "".
func (r *Reader) String(n *yaml.Node, path string) string {
	n = resolve(n)
	if isNull(n) {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		r.Problemf(n, path, "want a text value, found %s", describe(n))
		return ""
	}
	return n.Value
}

// Bool reads a scalar as true or false. A nil node reads as false.
func (r *Reader) Bool(n *yaml.Node, path string) bool {
	n = resolve(n)
	if isNull(n) {
		return false
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		r.Problemf(n, path, "want true or false, found %s", describe(n))
		return false
	}
	return b
}

// Strings reads a list of scalars. A nil node reads as nil.
func (r *Reader) Strings(n *yaml.Node, path string) []string {
	items := r.Items(n, path)
	if items == nil {
		return nil
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode || isNull(item) {
			r.Problemf(item, Index(path, i), "want a text value, found %s", describe(item))
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

// Duration reads a Go duration such as 90s, 10m or 8h. A nil node reads as
// def.
func (r *Reader) Duration(n *yaml.Node, path string, def time.Duration) time.Duration {
	n = resolve(n)
	if isNull(n) {
		return def
	}
	if n.Kind != yaml.ScalarNode {
		r.Problemf(n, path, "want a duration such as 90s, 10m or 8h, found %s", describe(n))
		return def
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		r.Problemf(n, path, "want a duration such as 90s, 10m or 8h, found %q", n.Value)
		return def
	}
	return d
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	default:
		return "an unexpected YAML node"
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
