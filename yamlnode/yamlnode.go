// Package yamlnode reads a YAML document node by node, so that every problem
// in a file is reported in one run with its line and the path of its field,
// instead of stopping at the first one the way a plain Unmarshal does.
//
// A Reader is used once per file: the caller walks the document with Fields,
// Items and the scalar readers, and collects what Report is given.
package yamlnode

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Reader reports the problems of one file while its nodes are read. The
// caller decides what a problem is (package mapping's Problem, for roomgate);
// the Reader only finds them.
type Reader struct {
	// Report receives each problem as it is found: the line of its node (0
	// when it has none), the field path, and the message.
	Report func(line int, path, msg string)
	// Unknown, when set, names the nodes whose value is not known (an
	// environment variable not read): a problem with such a node's value
	// is not reported, since it says nothing about the file.
	Unknown func(n *yaml.Node) bool
}

// Problemf records a problem at node n (which may be nil) and field path.
func (r *Reader) Problemf(n *yaml.Node, path, format string, args ...any) {
	if n != nil && r.Unknown != nil && r.Unknown(n) {
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	r.Report(line, path, fmt.Sprintf(format, args...))
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
	n = Resolve(n)
	fields := make(map[string]*yaml.Node)
	if IsNull(n) {
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
	n = Resolve(n)
	if IsNull(n) {
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
	n = Resolve(n)
	if IsNull(n) {
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
	n = Resolve(n)
	if IsNull(n) {
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
		item = Resolve(item)
		if item.Kind != yaml.ScalarNode || IsNull(item) {
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
	n = Resolve(n)
	if IsNull(n) {
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

// Resolve follows an alias to the node it names.
func Resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// IsNull reports whether n is absent or a YAML null.
func IsNull(n *yaml.Node) bool {
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
