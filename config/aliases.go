package config

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/mapping"
)

// Aliases (*name) let a file repeat a part of itself without writing it
// again. A few kilobytes of aliases to aliases can stand for gigabytes of
// rules ("billion laughs"), which every replica would build on reload and
// be killed for. yaml.v3 keeps an alias as one node, so the file's written
// size is its node count, and what it stands for is that count with every
// alias replaced by what it names.
const (
	// aliasFactor is how many times its written size a file may stand for.
	aliasFactor = 10
	// aliasFloor is what any file may stand for, whatever its size, so
	// that a small file may reuse a list of groups in many rooms.
	aliasFloor = 100_000
)

// aliasBomb reports a problem when the aliases in doc make it stand for far
// more than is written in it.
func aliasBomb(file string, doc *yaml.Node) (mapping.Problem, bool) {
	written := 0
	anchored := map[*yaml.Node]int{} // what each anchored node stands for
	var heaviest *yaml.Node          // the alias that stands for most
	var count func(n *yaml.Node) int
	count = func(n *yaml.Node) int {
		written++
		if n.Kind == yaml.AliasNode {
			// An anchor comes before its aliases, so it is counted; one
			// that names itself from inside counts once.
			total := max(1, anchored[n.Alias])
			if heaviest == nil || total > anchored[heaviest.Alias] {
				heaviest = n
			}
			return total
		}
		total := 1
		for _, c := range n.Content {
			total = min(total+count(c), 1<<40)
		}
		if n.Anchor != "" {
			anchored[n] = total
		}
		return total
	}
	stands := count(doc)
	if stands <= max(aliasFloor, aliasFactor*written) {
		return mapping.Problem{}, true
	}
	p := mapping.Problem{File: file, Msg: fmt.Sprintf("the file's aliases make its %d written YAML nodes stand for %d; at most %d times what is written is read, so write the repeated parts out or use fewer aliases of aliases", written, stands, aliasFactor)}
	if heaviest != nil {
		p.Line = heaviest.Line
		p.Msg = fmt.Sprintf("alias *%s: ", heaviest.Value) + p.Msg
	}
	return p, false
}
