package mapping

import (
	"errors"
	"slices"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a configuration file: where it is and
// what is wrong. Parse reports the problems of the rooms section; package
// config reports the rest of the file with the same type.
type Problem struct {
	File string // the file's name as given to Parse
	Line int    // 1-based; 0 when the problem has no place in the file
	Path string // field path such as rooms[2].rules[0].role; empty for the whole document
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

// Sort orders the problems by line, keeping the order of those on one line.
func (ps Problems) Sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int { return a.Line - b.Line })
}

// AsProblems returns the problems carried by err, or nil when err carries
// none.
func AsProblems(err error) Problems {
	var ps Problems
	if errors.As(err, &ps) {
		return ps
	}
	return nil
}
